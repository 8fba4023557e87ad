"""Waiting in the background: a wait that runs in a worker thread and is held as a future.

``job.wait(background=True)`` and ``group.wait(background=True)`` return a
:class:`WaitFuture`, a :class:`concurrent.futures.Future` whose work is the same blocking wait
as ever (the one poll loop, the client's rate limiter), run in a daemon thread:

* ``future.result(timeout)`` gives the job (or the group), or re-raises the typed error the
  wait raised (``JobFailed``, ``WaitTimeout``...);
* ``future.cancel()`` stops the wait within a moment (its next sleep ends at once, see
  :mod:`dataferry.stopping`) and leaves the remote job alone, unless the wait was started
  with ``cancel_on_interrupt=True`` or ``cancel(remote=True)`` is asked for;
* the progress display is created by the caller, in the cell that started the wait, and then
  updated from the worker thread, so it keeps moving while other cells run.

The asyncio variants (:mod:`dataferry.aio`) await these futures.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from dataferry.stopping import stopping

T = TypeVar("T")

THREAD_PREFIX = "dataferry-wait"
"""Name prefix of the threads background waits run in."""


class WaitFuture(Future):  # type: ignore[type-arg]
    """A :class:`concurrent.futures.Future` for a wait running in a worker thread.

    Unlike a plain future, it can be cancelled while its wait runs: :meth:`cancel` tells the
    wait to stop. The future stays *pending* (never *running*) until the wait has ended, so
    that a cancel is always accepted while there is something to stop.

    Attributes:
        cancel_remote: on :meth:`cancel`, also cancel the remote job(s).

    Example::

        fut = snap.wait(background=True)
        ...  # other cells run; the panel keeps updating
        fut.result()  # the snapshot, or its typed error
    """

    def __init__(self, stop: threading.Event | None = None, *, cancel_remote: bool = False) -> None:
        super().__init__()
        self.stop = stop or threading.Event()
        self.cancel_remote = cancel_remote
        self._thread: threading.Thread | None = None

    def cancel(self, remote: bool | None = None) -> bool:
        """Stop waiting (within about a second); ``remote=True`` also cancels the remote job(s).

        Returns:
            ``True`` when the wait was still going (the future is now cancelled), ``False``
            when it had already ended.
        """
        if remote is not None:
            self.cancel_remote = bool(remote)
        if self.done():
            return False
        self.stop.set()
        return super().cancel()

    def running(self) -> bool:
        """Whether the wait's thread is still at work."""
        return not self.done() and self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Block until the worker thread has ended (after :meth:`cancel`: until the wait, and a
        remote cancel if asked for, are over). Returns whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _settle(self, result: Any = None, error: BaseException | None = None) -> None:
        if not self.set_running_or_notify_cancel():
            return  # cancelled meanwhile: nobody reads the outcome
        if error is not None:
            self.set_exception(error)
        else:
            self.set_result(result)


class RemoteFlag:
    """Truthy when the wait's future asks for the remote job to be cancelled; read by the poll
    loop at the moment it stops (as its ``cancel_on_interrupt``)."""

    def __init__(self, future: WaitFuture) -> None:
        self.future = future

    def __bool__(self) -> bool:
        return bool(self.future.cancel_remote)


def run_in_background(
    work: Callable[[WaitFuture], T], *, future: WaitFuture | None = None, name: str = THREAD_PREFIX
) -> WaitFuture:
    """Run ``work(future)`` in a daemon thread, with waits inside it stopped by ``future.stop``.

    Args:
        work: the blocking work; its return value is the future's result, what it raises the
            future's exception.
        future: the future to settle (a new :class:`WaitFuture` when ``None``).
        name: the thread's name.

    Returns:
        The future, already started.

    Example:
        >>> fut = run_in_background(lambda f: 6 * 7)
        >>> fut.result(timeout=5)
        42
    """
    fut = future if future is not None else WaitFuture()
    context = contextvars.copy_context()  # the caller's context: where a notebook sends output

    def body() -> None:
        try:
            with stopping(fut.stop):
                result = work(fut)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the future
            fut._settle(error=exc)
        else:
            fut._settle(result)

    thread = threading.Thread(target=context.run, args=(body,), name=name, daemon=True)
    fut._thread = thread
    thread.start()
    return fut


def wait_job_in_background(job: Any, *, timeout: float | None, progress: Any, cancel_on_interrupt: bool) -> WaitFuture:
    """``job.wait(...)`` in a worker thread; its panel is drawn now, in the caller's cell."""
    from dataferry.progress import Stage

    fut = WaitFuture(cancel_remote=cancel_on_interrupt)
    if job.done:  # nothing to wait for: no thread, no display
        fut._settle(job)
        return fut
    operation = job._operation(progress, quiet_seconds=0.0)
    reporter = operation.__enter__()  # a bad progress= fails here, in the caller
    reporter.update()  # the display appears in the cell that started the wait

    def work(f: WaitFuture) -> Any:
        try:
            job._wait(reporter, timeout, RemoteFlag(f))
            reporter.finish(Stage.DONE, message=job.last_status.message if job.last_status else None)
        except BaseException as exc:
            if not operation.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            operation.__exit__(None, None, None)
        return job

    return run_in_background(work, future=fut, name=f"{THREAD_PREFIX}-{job.id}")


async def awaited(future: WaitFuture) -> Any:
    """The result of a :class:`WaitFuture`, awaited without blocking the loop; cancelling the
    awaiting task cancels the future (the wait stops)."""
    return await asyncio.wrap_future(future)
