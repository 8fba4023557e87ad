"""Checking and encoding request values: ids, choices, array filters, dates, page sizes.

Everything here runs before a request is sent and raises
:class:`~dataferry.errors.InvalidArgument` naming the parameter and what it accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.providers.algolia.enums import ORDERS, SORT_KEYS

PAGE_SIZE = 100
"""Items asked for per page when walking a list (the API allows 1–100; its default is 10)."""

MAX_PAGE_SIZE = 100
"""Largest ``itemsPerPage`` the API accepts."""


def resource_id(value: Any, name: str) -> str:
    """``value`` as an id usable in a URL path.

    Raises:
        InvalidArgument: empty, not a string, or containing ``/``, ``?`` or ``#``.

    Example:
        >>> resource_id("6c02aeb1-775e-418e-870b-1faccd4b2c0f", "taskID")
        '6c02aeb1-775e-418e-870b-1faccd4b2c0f'
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(
            f"{name} is required (a UUID such as '6c02aeb1-775e-418e-870b-1faccd4b2c0f'), got {value!r}"
        )
    if any(c in value for c in "/?#"):
        raise InvalidArgument(f"{name}={value!r} is not an id (it contains '/', '?' or '#')")
    return value.strip()


def id_list(values: Any, name: str) -> list[str]:
    """A non-empty list of ids (a single id is accepted too).

    Example:
        >>> id_list("a1", "taskIDs")
        ['a1']
    """
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        raise InvalidArgument(f"{name} must be a list of ids, got {values!r}")
    ids = [resource_id(v, name) for v in values]
    if not ids:
        raise InvalidArgument(f"{name} is empty: give at least one id")
    return ids


def choice(value: Any, allowed: Sequence[str], name: str) -> str:
    """``value`` when it is one of ``allowed``.

    Example:
        >>> choice("desc", ("asc", "desc"), "order")
        'desc'
    """
    if value not in allowed:
        raise InvalidArgument(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def array_filter(values: Any, name: str, allowed: Sequence[str] | None = None) -> str:
    """An array filter, comma-joined (``style=form, explode=false``): ``type=basic,algolia``.

    Args:
        values: one value or a list of values.
        name: the query parameter (for messages).
        allowed: the values the API accepts, or ``None`` for free ids.

    Example:
        >>> array_filter(["basic", "algolia"], "type", ("basic", "algolia", "oauth"))
        'basic,algolia'
    """
    if isinstance(values, str):
        values = [values]
    try:
        items = list(values)
    except TypeError:
        raise InvalidArgument(f"{name} must be a value or a list of values, got {values!r}") from None
    if not items:
        raise InvalidArgument(f"{name} is an empty list; leave it out to get every item")
    out = []
    for item in items:
        if allowed is not None:
            choice(item, allowed, name)
        else:
            resource_id(item, name)
        if "," in item:
            raise InvalidArgument(f"{name}: {item!r} contains a comma, which separates values")
        out.append(item)
    return ",".join(out)


def rfc3339(value: Any, name: str) -> str:
    """A date as RFC 3339 text in UTC (``2024-07-18T10:00:00Z``).

    Accepts a ``datetime`` (naive ones are taken as UTC), a ``date`` (midnight UTC), a
    pandas ``Timestamp`` or an ISO 8601 string.

    Example:
        >>> rfc3339(datetime(2024, 7, 18, 10, 0), "startDate")
        '2024-07-18T10:00:00Z'
        >>> rfc3339("2024-07-18T12:00:00+02:00", "startDate")
        '2024-07-18T10:00:00Z'
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise InvalidArgument(
                f"{name}={value!r} is not a date; use RFC 3339 such as '2024-07-18T10:00:00Z'"
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        raise InvalidArgument(f"{name} must be a datetime, a date or an RFC 3339 string, got {value!r}")
    if hasattr(parsed, "to_pydatetime"):
        parsed = parsed.to_pydatetime()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    text = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    if parsed.microsecond:
        text += f".{parsed.microsecond // 1000:03d}"
    return text + "Z"


def page_size(value: Any) -> int:
    """``itemsPerPage``: an integer from 1 to 100.

    Example:
        >>> page_size(25)
        25
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {value!r}")
    return value


def list_query(resource: str, *, sort: str | None, order: str | None, **filters: Any) -> dict[str, str]:
    """The query of a list endpoint: filters that are set, plus ``sort`` / ``order``.

    Args:
        resource: ``"tasks"``, ``"runs"``... (picks the sort keys).
        sort, order: passed through after checking.
        **filters: wire name → already-encoded value, or ``None`` to leave out.

    Example:
        >>> list_query("tasks", sort="createdAt", order="asc", enabled="true", action=None)
        {'enabled': 'true', 'sort': 'createdAt', 'order': 'asc'}
    """
    query = {k: v for k, v in filters.items() if v is not None}
    if sort is not None:
        query["sort"] = choice(sort, SORT_KEYS[resource], "sort")
    if order is not None:
        query["order"] = choice(order, ORDERS, "order")
    return query


def flag(value: Any, name: str) -> bool:
    """A boolean, strictly (``1`` or ``"yes"`` are refused).

    Example:
        >>> flag(False, "enabled")
        False
    """
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be True or False, got {value!r}")
    return value


def boolean(value: Any, name: str) -> str:
    """A boolean query value (``true`` / ``false``).

    Example:
        >>> boolean(True, "enabled")
        'true'
    """
    return "true" if flag(value, name) else "false"


def non_empty(value: Any, name: str) -> str:
    """A non-empty string (a resource name).

    Example:
        >>> non_empty("products", "name")
        'products'
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be a non-empty string, got {value!r}")
    return value


def run_path(task_id: str) -> str:
    """The path of the call that starts a run (``POST``, no body): where Algolia's one job
    request is built.

    Example:
        >>> run_path("6c02aeb1-775e-418e-870b-1faccd4b2c0f")
        '/1/tasks/6c02aeb1-775e-418e-870b-1faccd4b2c0f/run'
    """
    return f"/1/tasks/{resource_id(task_id, 'task_id')}/run"
