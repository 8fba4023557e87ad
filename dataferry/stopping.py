"""Stopping a wait from another thread: the one poll loop, told to stop by an event.

A wait that runs in a worker thread (a background wait, an async wait, one job of a group)
cannot be reached by Ctrl-C, which Python delivers to the main thread only. Whoever started
it sets a :class:`threading.Event` instead; :func:`stoppable` wraps the job's clock so that
the poll loop's next sleep (or the one it is in) ends at once and raises
``KeyboardInterrupt`` there. The loop turns that into :class:`~dataferry.errors.WaitInterrupted`
exactly as it does for Ctrl-C: the remote job is left alone unless ``cancel_on_interrupt``.

The event travels in a context variable, so the code between the caller and the poll loop
(``Job.wait``, ``DataJob.to_pandas``...) needs no new parameter::

    stop = threading.Event()
    with stopping(stop):
        job.wait()  # returns (raises WaitInterrupted) soon after stop.set()
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

from dataferry.clock import Clock, sleep_unless

STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("dataferry_stop", default=None)
"""The stop event of the wait running in this context (``None``: only Ctrl-C stops it)."""


class StoppableClock:
    """``clock``, whose sleeps end early and raise ``KeyboardInterrupt`` once ``stop`` is set.

    Example:
        >>> from dataferry.clock import FakeClock
        >>> stop = threading.Event()
        >>> c = StoppableClock(FakeClock(), stop)
        >>> c.sleep(2.0)
        >>> c.monotonic()
        2.0
        >>> stop.set()
        >>> try:
        ...     c.sleep(2.0)
        ... except KeyboardInterrupt:
        ...     print("stopped at once")
        stopped at once
    """

    def __init__(self, clock: Clock, stop: threading.Event) -> None:
        self.clock = clock
        self.stop = stop

    def monotonic(self) -> float:
        return self.clock.monotonic()

    def time(self) -> float:
        return self.clock.time()

    def sleep(self, seconds: float) -> None:
        if not self.stop.is_set():
            sleep_unless(self.clock, seconds, self.stop)
        if self.stop.is_set():
            raise KeyboardInterrupt

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"StoppableClock({self.clock!r})"


def stoppable(clock: Clock) -> Clock:
    """``clock`` wrapped with this context's stop event, or ``clock`` itself when there is none."""
    stop = STOP.get()
    return clock if stop is None else StoppableClock(clock, stop)


@contextlib.contextmanager
def stopping(stop: threading.Event) -> Iterator[threading.Event]:
    """Waits started inside this block stop when ``stop`` is set."""
    token = STOP.set(stop)
    try:
        yield stop
    finally:
        STOP.reset(token)
