"""Time, injectable: the wait engine, the retry loop and the rate limiter read it here.

Tests pass a :class:`FakeClock` so that hours of waiting run in zero wall time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the engine needs from time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for link expiry)."""

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Block for ``seconds``, or until ``stop`` is set (a subclass that sleeps its own way
        keeps doing so)."""
        if type(self).sleep is not SystemClock.sleep:
            self.sleep(seconds)
        elif seconds > 0:
            stop.wait(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
"""The clock used unless one is injected."""


class FakeClock:
    """A clock that advances only when something sleeps on it.

    Example:
        >>> c = FakeClock()
        >>> c.sleep(30)
        >>> c.monotonic()
        30.0

    Attributes:
        sleeps: every sleep requested, in order.
    """

    def __init__(self, start: float = 0.0, wall: float = 1_800_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall - start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._now + self._wall_offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Like :meth:`sleep` (time moves at once), unless ``stop`` is already set."""
        if not stop.is_set():
            self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep."""
        with self._lock:
            self._now += seconds


def sleep_unless(clock: Clock, seconds: float, stop: threading.Event | None) -> None:
    """Sleep ``seconds`` on ``clock``, waking up early when ``stop`` is set (on a clock with a
    ``wait`` method, as :class:`SystemClock` and :class:`FakeClock` have)."""
    wait = getattr(clock, "wait", None)
    if stop is None or wait is None:
        clock.sleep(seconds)
    else:
        wait(seconds, stop)
