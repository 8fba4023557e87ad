"""Bounded, ordered parallelism: run a function over items on a few threads, yield the
results in input order, and never hold more than a fixed number of results at once."""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, Self, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Workers:
    """A few threads that can be told to stop, and waited for briefly.

    The functions run in the caller's context (its context variables, e.g. the progress
    listener, are visible). :meth:`close` cancels what has not started, sets :attr:`stop`
    (producers check it) and, when asked, waits a bounded time for what is running; it never
    waits when called from one of its own threads (a generator finalised there).

    Example:
        >>> with Workers(2) as w:
        ...     w.submit(lambda: 6 * 7).result()
        42
    """

    def __init__(self, workers: int, *, name: str = "dataferry") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._futures: list[Future[Any]] = []
        self._idents: set[int] = set()
        self.stop = threading.Event()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run ``fn(*args)`` on a worker thread."""
        context = contextvars.copy_context()

        def run() -> R:
            self._idents.add(threading.get_ident())
            return context.run(fn, *args)

        future = self._pool.submit(run)
        self._futures.append(future)
        return future

    def close(self, wait: float = 0.0) -> None:
        """Stop: cancel what has not started, set :attr:`stop`, and wait up to ``wait``
        seconds for the functions still running to return."""
        self.stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if wait > 0 and threading.get_ident() not in self._idents:
            deadline = time.monotonic() + wait
            running = [f for f in self._futures if not f.done()]
            if running:
                concurrent.futures.wait(running, timeout=wait)
            # the threads themselves end right after their last function returns
            for thread in list(getattr(self._pool, "_threads", ())):
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    name: str = "dataferry",
    on_exit: Callable[[], object] | None = None,
) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, in order, with bounded look-ahead.

    At most ``workers`` calls run or wait for their turn at any moment, so memory is bounded
    by ``workers`` results (plus the one the caller holds). The caller's context variables
    (the progress listener) are visible in the threads. An exception in any call is raised
    when its turn comes; the calls still queued are cancelled, ``on_exit`` is called (to tell
    the running ones to stop) and the running ones are waited for.

    Example:
        >>> list(ordered_map(lambda x: x * x, range(5), workers=2))
        [0, 1, 4, 9, 16]
    """
    workers = max(1, workers)
    pending: deque[Future[R]] = deque()
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def submit_next() -> bool:
        try:
            item = next(source)
        except StopIteration:
            return False
        pending.append(pool.submit(contextvars.copy_context().run, fn, item))
        return True

    try:
        while len(pending) < workers and submit_next():
            pass
        while pending:
            result = pending.popleft().result()
            submit_next()
            yield result
    finally:
        for fut in pending:
            fut.cancel()
        if on_exit is not None:
            on_exit()
        pool.shutdown(wait=True, cancel_futures=True)


def run_all(
    fn: Callable[[T], object], items: Iterable[T], *, workers: int, done: list[T], name: str = "dataferry"
) -> None:
    """``fn(item)`` for every item on up to ``workers`` threads; ``done`` gets each item whose
    call returned.

    On the first exception (or an interrupt while waiting) the calls not started are
    cancelled, the running ones are waited for, so that none is still running and ``done`` is
    complete, and the exception is raised.

    Example:
        >>> done: list[int] = []
        >>> run_all(lambda n: n * 2, [1, 2, 3], workers=2, done=done)
        >>> sorted(done)
        [1, 2, 3]
    """
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
    futures = {pool.submit(contextvars.copy_context().run, fn, item): item for item in items}
    try:
        for future in concurrent.futures.as_completed(futures):
            future.result()
    finally:
        for future in futures:
            future.cancel()  # those not started
        pool.shutdown(wait=True)  # the running ones end
        done.extend(item for f, item in futures.items() if not f.cancelled() and f.exception() is None)


class Behind:
    """One call at a time on a thread behind the caller: :meth:`start` first waits for the
    previous call; an exception of a call is raised by the next :meth:`start` or :meth:`wait`.

    Example:
        >>> behind = Behind("dataferry-demo")
        >>> behind.start(lambda: None)
        >>> behind.wait()
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, fn: Callable[[], object]) -> None:
        """Wait for the previous call, then run ``fn()`` on a new thread (in the caller's context)."""
        self.wait()
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=self._run, args=(context, fn), name=self.name, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Wait for the call running now, and raise its exception if it had one."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self, context: contextvars.Context, fn: Callable[[], object]) -> None:
        try:
            context.run(fn)
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread by the next start() or wait()
            self._error = exc


class _Stop(Exception):
    """The consumer went away; the producer stops quietly."""


def ordered_streams(
    fn: Callable[[T], Iterator[R]],
    items: Iterable[T],
    *,
    workers: int,
    depth: int | None,
    name: str = "dataferry",
    pool: Workers | None = None,
) -> Generator[tuple[T, Iterator[R]], None, None]:
    """Run the iterators ``fn(item)`` on ``workers`` threads; hand them over in input order.

    Each producer fills a queue of at most ``depth`` results and then waits, so memory is
    bounded by ``workers * depth`` results whatever the size of an item (``depth=None``: no
    bound, for a consumer that keeps every result anyway). The consumer must
    finish (or drop) one item's iterator before asking for the next pair. An exception in a
    producer is raised from its iterator; leaving early stops every producer (each closes its
    iterator at its next result). Pass ``pool`` to wait for them with ``pool.close(wait=...)``.

    Example:
        >>> [(k, list(it)) for k, it in ordered_streams(lambda n: iter(range(n)), [2, 3], workers=2, depth=1)]
        [(2, [0, 1]), (3, [0, 1, 2])]
    """
    workers = max(1, workers)
    pool = pool or Workers(workers, name=name)
    stop = pool.stop
    source = iter(items)
    active: deque[tuple[T, queue.Queue[tuple[str, object]], Future[None]]] = deque()

    def put(q: queue.Queue[tuple[str, object]], entry: tuple[str, object]) -> None:
        while True:
            if stop.is_set():
                raise _Stop
            try:
                q.put(entry, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce(item: T, q: queue.Queue[tuple[str, object]]) -> None:
        results: Iterator[R] | None = None
        try:
            results = fn(item)
            for result in results:
                put(q, ("item", result))
            put(q, ("end", None))
        except _Stop:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            try:
                put(q, ("error", exc))
            except _Stop:
                return
        finally:
            close = getattr(results, "close", None) if results is not None else None
            if close is not None:
                close()  # a generator's own clean-up runs here, on its thread, now

    def start_next() -> bool:
        try:
            item = next(source)
        except StopIteration:
            return False
        q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=0 if depth is None else max(1, depth))
        active.append((item, q, pool.submit(produce, item, q)))
        return True

    def drain(q: queue.Queue[tuple[str, object]]) -> Iterator[R]:
        while True:
            kind, value = q.get()
            if kind == "item":
                yield cast("R", value)  # an "item" entry carries one of fn's results
            elif kind == "end":
                return
            else:
                assert isinstance(value, BaseException)  # an "error" entry carries the producer's exception
                raise value

    try:
        while len(active) < workers and start_next():
            pass
        while active:
            item, q, _ = active.popleft()
            yield item, drain(q)
            start_next()
    finally:
        # never wait here: an abandoned generator may be finalised by the garbage collector in
        # any thread (even one the producers depend on); they notice ``stop`` and end by themselves
        pool.close()


class Prefetch(Generic[R]):
    """Start ``fn(item)`` for every item at once on ``workers`` threads; ask for results later.

    For work whose results cost no memory (downloads spooled to disk): it runs ahead of the
    consumer as far as it can. Use as a context manager; leaving it cancels what has not
    started and does not wait for what has (:meth:`close` with ``wait`` does, briefly).

    Example:
        >>> with Prefetch(lambda x: x + 1, [1, 2, 3], workers=2) as ahead:
        ...     [ahead.result(i) for i in range(3)]
        [2, 3, 4]
    """

    def __init__(
        self, fn: Callable[[T], R], items: Iterable[T], *, workers: int, name: str = "dataferry-prefetch"
    ) -> None:
        self._workers = Workers(workers, name=name)
        self._futures: list[Future[R]] = [self._workers.submit(fn, item) for item in items]

    def result(self, position: int) -> R:
        """The result for the item at ``position`` (waits for it; raises its exception)."""
        return self._futures[position].result()

    def close(self, wait: float = 0.0) -> None:
        """Cancel what has not started; wait up to ``wait`` seconds for what has."""
        self._workers.close(wait)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
