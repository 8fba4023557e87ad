"""Bounded, ordered parallelism: run a function over items on a few threads, yield the
results in input order, and never hold more than a fixed number of results at once."""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, name: str = "dataferry") -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, in order, with bounded look-ahead.

    At most ``workers`` calls run or wait for their turn at any moment, so memory is bounded
    by ``workers`` results (plus the one the caller holds). The caller's context variables
    (the progress listener) are visible in the threads. An exception in any call is raised
    when its turn comes; the calls still queued are cancelled.

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
        pool.shutdown(wait=True, cancel_futures=True)


class _Stop(Exception):
    """The consumer went away; the producer stops quietly."""


def ordered_streams(fn: Callable[[T], Iterator[R]], items: Iterable[T], *, workers: int, depth: int | None,
                    name: str = "dataferry") -> Iterator[tuple[T, Iterator[R]]]:
    """Run the iterators ``fn(item)`` on ``workers`` threads; hand them over in input order.

    Each producer fills a queue of at most ``depth`` results and then waits, so memory is
    bounded by ``workers * depth`` results whatever the size of an item (``depth=None``: no
    bound, for a consumer that keeps every result anyway). The consumer must
    finish (or drop) one item's iterator before asking for the next pair. An exception in a
    producer is raised from its iterator; leaving early stops every producer.

    Example:
        >>> [(k, list(it)) for k, it in ordered_streams(lambda n: iter(range(n)), [2, 3], workers=2, depth=1)]
        [(2, [0, 1]), (3, [0, 1, 2])]
    """
    workers = max(1, workers)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
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
        try:
            for result in fn(item):
                put(q, ("item", result))
            put(q, ("end", None))
        except _Stop:
            return
        except BaseException as exc:  # handed to the consumer, raised there
            try:
                put(q, ("error", exc))
            except _Stop:
                return

    def start_next() -> bool:
        try:
            item = next(source)
        except StopIteration:
            return False
        q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=0 if depth is None else max(1, depth))
        active.append((item, q, pool.submit(contextvars.copy_context().run, produce, item, q)))
        return True

    def drain(q: queue.Queue[tuple[str, object]]) -> Iterator[R]:
        while True:
            kind, value = q.get()
            if kind == "item":
                yield value  # type: ignore[misc]
            elif kind == "end":
                return
            else:
                raise value  # type: ignore[misc]

    try:
        while len(active) < workers and start_next():
            pass
        while active:
            item, q, _ = active.popleft()
            yield item, drain(q)
            start_next()
    finally:
        stop.set()
        # never wait here: an abandoned generator may be finalised by the garbage collector in
        # any thread (even one the producers depend on); they notice ``stop`` and end by themselves
        pool.shutdown(wait=False, cancel_futures=True)


class Prefetch:
    """Start ``fn(item)`` for every item at once on ``workers`` threads; ask for results later.

    For work whose results cost no memory (downloads spooled to disk): it runs ahead of the
    consumer as far as it can. Use as a context manager; leaving it cancels what has not
    started and does not wait for what has.

    Example:
        >>> with Prefetch(lambda x: x + 1, [1, 2, 3], workers=2) as ahead:
        ...     [ahead.result(i) for i in range(3)]
        [2, 3, 4]
    """

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], *, workers: int, name: str = "dataferry-prefetch") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._futures: list[Future[R]] = [self._pool.submit(contextvars.copy_context().run, fn, item) for item in items]

    def result(self, position: int) -> R:
        """The result for the item at ``position`` (waits for it; raises its exception)."""
        return self._futures[position].result()

    def close(self) -> None:
        """Cancel what has not started; never wait (see :func:`ordered_streams`)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
