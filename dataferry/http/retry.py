"""The retry policy as small pure functions: should we retry, how long to wait.

Nothing here sleeps or sends; :mod:`dataferry.http.session` composes these.
"""

from __future__ import annotations

import math
import random
import re
from email.utils import parsedate_to_datetime
from enum import Enum

from dataferry.constants import RETRY_BASE_DELAY, RETRY_MAX_DELAY

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses worth another attempt (5xx only where re-sending is safe)."""


class Failure(Enum):
    """How a request attempt failed before a usable HTTP answer arrived."""

    NOT_SENT = "not_sent"
    """Connection refused, DNS failure or connect timeout: the server never saw the request."""

    MAYBE_SENT = "maybe_sent"
    """Read timeout or a connection dropped after sending: the server may have acted on it."""


def should_retry(*, idempotent: bool, status: int | None = None, failure: Failure | None = None) -> bool:
    """Whether another attempt is safe and useful.

    Args:
        idempotent: re-sending cannot create anything twice (GET, a PUT, a DELETE).
        status: the HTTP status of the answer, when there was one.
        failure: how the attempt failed, when there was no answer.

    Returns:
        ``True`` for a 429 (nothing was done) and a connection never made, always; for a 5xx,
        408 or a request that may have reached the server, only when ``idempotent``.

    Example:
        >>> should_retry(idempotent=False, status=503)
        False
        >>> should_retry(idempotent=False, status=429)
        True
    """
    if failure is Failure.NOT_SENT:
        return True
    if failure is Failure.MAYBE_SENT:
        return idempotent
    if status == 429:
        return True
    if status in RETRYABLE_STATUSES:
        return idempotent
    return False


def backoff_delay(
    attempt: int,
    *,
    hint: float | None = None,
    base: float = RETRY_BASE_DELAY,
    cap: float = RETRY_MAX_DELAY,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``.

    Args:
        attempt: attempts made so far (1 after the first failure).
        hint: what the server asked for (``Retry-After``, "try again in 10s"); honoured up to
            ``cap``, plus a little jitter so that clients do not return in lockstep.
        base: the first delay; it doubles with each attempt.
        cap: the longest single delay.
        rng: random source (inject a seeded one in tests).

    Example:
        >>> backoff_delay(3, rng=random.Random(0)) <= 8.0
        True
    """
    uniform = rng.uniform if rng is not None else random.uniform
    if hint is not None and hint >= 0:
        return min(cap, hint) + uniform(0, min(1.0, 0.1 * max(hint, 1.0)))
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    # "equal jitter": never less than half the exponential step, never more than it
    return ceiling / 2 + uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date).

    Args:
        value: the header value or ``None``.
        now: current wall-clock time (epoch seconds), for the date form.

    Example:
        >>> parse_retry_after("12", now=0)
        12.0
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None  # "inf", "nan": no figure
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


_TRY_AGAIN = re.compile(
    r"try\s+again\s+in\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b",
    re.IGNORECASE,
)
_UNIT = {"ms": 0.001, "m": 60.0, "h": 3600.0}


def parse_try_again(text: str | None) -> float | None:
    """Seconds from a vendor message like ``"Snapshot is building, try again in 10s"``.

    Returns ``None`` when the message gives no figure (e.g. the literal ``"XXs"``).

    Example:
        >>> parse_try_again("Dataset is not ready yet, try again in 30s")
        30.0
        >>> parse_try_again("try again in 2 minutes")
        120.0
    """
    if not text:
        return None
    m = _TRY_AGAIN.search(text)
    if not m:
        return None
    unit = (m.group(2) or "s").lower()
    factor = _UNIT.get("ms" if unit.startswith(("ms", "milli")) else unit[0], 1.0)
    return float(m.group(1)) * factor
