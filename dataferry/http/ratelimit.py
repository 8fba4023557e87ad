"""Client-side rate limits: thread-safe token buckets, one set per endpoint family.

A vendor declares its documented limits once (e.g. Woosmap: status 1 per 5 s); every call
takes a token from its family's buckets first, so a notebook loop cannot get a key throttled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.errors import InvalidArgument


@dataclass(frozen=True)
class Rate:
    """At most ``calls`` requests per ``per`` seconds.

    Example:
        >>> Rate(1, 5.0).interval
        5.0
    """

    calls: int
    per: float

    def __post_init__(self) -> None:
        if self.calls < 1 or self.per <= 0:
            raise InvalidArgument(f"a rate needs calls >= 1 and per > 0, got {self.calls}/{self.per}s")

    @property
    def interval(self) -> float:
        """Average seconds between two calls at this rate."""
        return self.per / self.calls


class _Bucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.capacity = float(rate.calls)
        self.refill = rate.calls / rate.per
        self.tokens = self.capacity
        self.stamp = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.refill


class RateLimiter:
    """Token buckets per endpoint family; ``acquire`` blocks until a call is allowed.

    Args:
        limits: family name → the rates that all apply to it (e.g. per second and per minute).
            Families not listed are unlimited.
        clock: time source.

    Example:
        >>> limiter = RateLimiter({"status": [Rate(1, 5.0)]})
        >>> limiter.acquire("status")  # first call: no wait
        0.0
    """

    def __init__(self, limits: Mapping[str, Sequence[Rate]] | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rates = {family: tuple(rates) for family, rates in (limits or {}).items()}
        now = clock.monotonic()
        self._buckets = {family: [_Bucket(r, now) for r in rates] for family, rates in self._rates.items()}
        self.enabled = True

    def acquire(self, family: str, on_wait: Callable[[float], object] | None = None) -> float:
        """Take one token from ``family``'s buckets, sleeping first if needed.

        Args:
            family: the endpoint family.
            on_wait: told how long the call is about to wait, before it sleeps (to say so).

        Returns:
            The seconds this call waited.
        """
        buckets = self._buckets.get(family)
        if not buckets or not self.enabled:
            return 0.0
        with self._lock:
            now = self._clock.monotonic()
            wait = max(b.wait_needed(now) for b in buckets)
            for b in buckets:
                # reserve the token now; the balance goes negative while we sleep
                b.tokens -= 1.0
        if wait > 0 and on_wait is not None:
            on_wait(wait)
        self._clock.sleep(wait)
        return wait

    def min_interval(self, family: str) -> float:
        """The sustained interval the family's strictest rate allows (0 when unlimited)."""
        rates = self._rates.get(family, ())
        return max((r.interval for r in rates), default=0.0) if self.enabled else 0.0

    def rates(self, family: str) -> tuple[Rate, ...]:
        """The rates that apply to ``family``."""
        return self._rates.get(family, ())

    def __repr__(self) -> str:
        fams = ", ".join(f"{f}: {' & '.join(f'{r.calls}/{r.per:g}s' for r in rs)}" for f, rs in self._rates.items())
        return f"RateLimiter({fams})"


RateLimits = bool | float | Mapping[str, Rate | Sequence[Rate]] | None
"""What every client's ``rate_limits=`` takes (see :func:`limits_from`)."""


def limits_from(
    documented: Mapping[str, Sequence[Rate]],
    rate_limits: RateLimits = None,
    *,
    families: Sequence[str] = (),
    vendor: str = "",
) -> dict[str, tuple[Rate, ...]]:
    """The limits a client keeps to: its vendor's documented ones unless ``rate_limits`` says otherwise.

    The one meaning of ``rate_limits=`` on every client:

    ==================  ==============================================================
    ``None`` / ``True``  the vendor's documented limits (the default)
    ``False``            no client-side limiting (an emulator started without limits)
    a number ``> 0``     a factor applied to every window: ``0.01`` paces an emulator
                         started with ``rate_scale=0.01`` (1 per 5 s becomes 1 per 0.05 s)
    a mapping            endpoint family → :class:`Rate` (or several) replacing those
                         families; the others keep their documented limits
    ==================  ==============================================================

    Args:
        documented: the vendor's documented limits, family → rates.
        rate_limits: what the caller passed.
        families: more endpoint families a mapping may name (families the client uses that
            have no documented limit).
        vendor: for messages.

    Returns:
        family → rates, ready for :class:`RateLimiter`.

    Raises:
        InvalidArgument: a factor ``<= 0``, an unknown family, a value that is not a Rate,
            or anything else.

    Example:
        >>> doc = {"status": (Rate(1, 5.0),)}
        >>> limits_from(doc)["status"], limits_from(doc, False), limits_from(doc, 0.01)["status"]
        ((Rate(calls=1, per=5.0),), {}, (Rate(calls=1, per=0.05),))
    """
    who = f"{vendor}: " if vendor else ""
    base = {family: tuple(rates) for family, rates in documented.items()}
    if rate_limits is None or rate_limits is True:
        return base
    if rate_limits is False:
        return {}
    if isinstance(rate_limits, (int, float)):
        if not rate_limits > 0:
            raise InvalidArgument(f"{who}a rate_limits scale factor must be > 0, got {rate_limits}")
        return {f: tuple(Rate(r.calls, r.per * rate_limits) for r in rates) for f, rates in base.items()}
    if isinstance(rate_limits, Mapping):
        out = dict(base)
        known = list(dict.fromkeys([*base, *families]))
        for family, value in rate_limits.items():
            if family not in known:
                raise InvalidArgument(f"{who}unknown rate-limit family {family!r}; choose from {', '.join(known)}")
            rates = (value,) if isinstance(value, Rate) else tuple(value) if isinstance(value, (list, tuple)) else ()
            if not rates or not all(isinstance(r, Rate) for r in rates):
                raise InvalidArgument(f"{who}rate_limits[{family!r}] must be a Rate or a list of Rates")
            out[family] = rates
        return out
    raise InvalidArgument(
        f"{who}rate_limits must be None, True, False, a scale factor or a mapping of family → Rate, got {rate_limits!r}"
    )
