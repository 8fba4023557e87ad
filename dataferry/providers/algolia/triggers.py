"""Task triggers: run on demand, on a cron schedule, on a subscription, or continuously.

Example:
    >>> Schedule(cron="0 6 * * *").to_wire()
    {'type': 'schedule', 'cron': '0 6 * * *'}
    >>> trigger_input("onDemand")
    {'type': 'onDemand'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.providers.algolia.enums import TRIGGER_TYPES
from dataferry.providers.algolia.inputs import Input, wire

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#LW]+$")


def cron_problem(value: str) -> str | None:
    """What is wrong with a cron expression (five fields: minute hour day month weekday).

    Example:
        >>> cron_problem("*/15 * * * *") is None
        True
        >>> cron_problem("every hour")
        "must have 5 fields (minute hour day-of-month month day-of-week), got 'every hour'"
    """
    fields = value.split()
    if len(fields) != 5:
        return f"must have 5 fields (minute hour day-of-month month day-of-week), got {value!r}"
    bad = [f for f in fields if not _CRON_FIELD.match(f)]
    return f"has an invalid field {bad[0]!r} in {value!r}" if bad else None


@dataclass(frozen=True, kw_only=True, repr=False)
class Trigger(Input):
    """Base of the task triggers."""

    family = "trigger"
    where = "trigger"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.kind, **super().to_wire()}


@dataclass(frozen=True, kw_only=True, repr=False)
class OnDemand(Trigger):
    """Run only when asked (``ing.run_task(task_id)``)."""

    kind = "onDemand"


@dataclass(frozen=True, kw_only=True, repr=False)
class Schedule(Trigger):
    """Run on a cron schedule.

    Args:
        cron: five fields, e.g. ``"0 6 * * *"`` (every day at 06:00).
    """

    kind = "schedule"
    cron: str = wire("cron", str, required=True, check=cron_problem)


@dataclass(frozen=True, kw_only=True, repr=False)
class Subscription(Trigger):
    """Run when a subscribed event arrives (e.g. a webhook)."""

    kind = "subscription"


@dataclass(frozen=True, kw_only=True, repr=False)
class Streaming(Trigger):
    """Run continuously."""

    kind = "streaming"


TRIGGERS: tuple[type[Trigger], ...] = (OnDemand, Schedule, Subscription, Streaming)
"""The trigger variants, one per trigger type."""


def trigger_input(value: Any, *, cron: str | None = None) -> dict[str, Any]:
    """The wire form of a task trigger.

    Args:
        value: a :class:`Trigger`, a trigger type (``"onDemand"``, ``"schedule"``...) or a
            dict ``{"type": ..., "cron": ...}``.
        cron: the schedule when ``value`` is ``"schedule"``.

    Raises:
        InvalidArgument: unknown type, missing or malformed ``cron``, ``cron`` without
            ``"schedule"``.
    """
    if isinstance(value, Trigger):
        if cron is not None and not isinstance(value, Schedule):
            raise InvalidArgument(f"cron= only applies to a schedule trigger, not {type(value).__name__}")
        return value.to_wire()
    if isinstance(value, str):
        value = {"type": value, **({"cron": cron} if cron is not None else {})}
    elif cron is not None:
        raise InvalidArgument("give cron= with trigger='schedule', or put it in the trigger itself")
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"trigger must be a trigger type, Schedule(cron=...) or a dict, got {value!r}")
    kind = value.get("type")
    variant = {t.kind: t for t in TRIGGERS}.get(kind)  # type: ignore[arg-type]
    if variant is None:
        raise InvalidArgument(f"trigger.type={kind!r} is not one of {', '.join(TRIGGER_TYPES)}")
    body = variant.validate({k: v for k, v in value.items() if k != "type"}, where="trigger")
    return {"type": kind, **body}
