"""asyncio: awaitable waits and downloads that never block the running event loop.

``await job.wait_async()``, ``await job.to_pandas_async()`` and ``await
dataferry.wait_all_async(jobs)`` run the same blocking code as their plain versions (the one
poll loop, the client's ``requests`` session and rate limiter, the parts pipeline) in a worker
thread, held as a :class:`~dataferry.background.WaitFuture`, and await that future with
:func:`asyncio.wrap_future`. The event loop only ever waits on a future that the worker thread
settles through ``loop.call_soon_threadsafe``: no socket read, no sleep and no lock of
``requests`` ever runs on the loop's thread, so the loop keeps serving other tasks (Jupyter's
included) however long the job takes.

Why this is sound with ``requests``: its ``Session`` does blocking I/O and has no asyncio
integration, so it must not be called on the loop; a thread per wait is how it is made
non-blocking. Each wait's calls are made by one thread at a time; several waits of one client
share its session the way the parallel part downloads already do (urllib3's connection pool
is thread-safe) and share its :class:`~dataferry.http.RateLimiter` (a lock-protected token
bucket), so fan-out from many tasks still keeps to the vendor's rate. Cancelling the awaiting
task cancels the future, which stops the wait at its next sleep (see :mod:`dataferry.stopping`).
A download already under way when its task is cancelled finishes in its thread, and its result
is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dataferry.background import awaited, run_in_background
from dataferry.constants import WAIT_TIMEOUT


async def to_pandas_async(job: Any, **kw: Any) -> Any:
    """``await``-able ``job.to_pandas(**kw)`` (see :meth:`DataJob.to_pandas_async`)."""
    return await awaited(run_in_background(lambda _: job.to_pandas(**kw), name=f"dataferry-wait-{job.id}"))


async def wait_all_async(jobs: Sequence[Any], timeout: float | None = WAIT_TIMEOUT, **kw: Any) -> Any:
    """``await dataferry.wait_all_async(jobs)``: :func:`dataferry.wait_all` without blocking the
    event loop; takes the same arguments and returns the :class:`~dataferry.groups.JobGroup`.

    Example::

        group = await dataferry.wait_all_async([snap1, snap2, export])
    """
    from dataferry.groups import JobGroup

    group = jobs if isinstance(jobs, JobGroup) else JobGroup(jobs)
    return await awaited(group.wait(timeout, background=True, **kw))
