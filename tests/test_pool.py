"""Bounded, ordered parallelism."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from dataferry.pool import ordered_map, ordered_streams


def test_ordered_map_keeps_order_under_uneven_work() -> None:
    def slow_first(x: int) -> int:
        time.sleep(0.05 if x == 0 else 0)
        return x * 10

    assert list(ordered_map(slow_first, range(6), workers=3)) == [0, 10, 20, 30, 40, 50]


def test_ordered_map_bounds_work_in_flight() -> None:
    started: list[int] = []
    gate = threading.Event()

    def work(x: int) -> int:
        started.append(x)
        gate.wait(5)
        return x

    it = ordered_map(work, range(10), workers=2)
    t = threading.Thread(target=lambda: next(it))
    t.start()
    time.sleep(0.1)
    assert len(started) == 2  # nothing beyond the two workers was started
    gate.set()
    t.join()
    assert list(it) == list(range(1, 10))


def test_ordered_streams_producers_wait_for_the_consumer() -> None:
    produced: dict[int, int] = {0: 0, 1: 0, 2: 0}

    def gen(k: int) -> Iterator[int]:
        for i in range(100):
            produced[k] += 1
            yield i

    streams = ordered_streams(gen, [0, 1, 2], workers=2, depth=3)
    _first, it = next(streams)
    assert next(it) == 0
    time.sleep(0.2)
    # item 0's producer is held by its queue (3 ready + 1 being put); item 1 likewise; item 2 not started
    assert produced[0] <= 5 and produced[1] <= 5 and produced[2] == 0
    assert list(it) == list(range(1, 100))
    rest = [(k, list(s)) for k, s in streams]
    assert rest == [(1, list(range(100))), (2, list(range(100)))]


def test_ordered_streams_without_depth_run_every_producer_to_the_end() -> None:
    # depth=None is for a consumer that keeps everything: no producer waits for it
    finished = {0: threading.Event(), 1: threading.Event()}

    def gen(k: int) -> Iterator[int]:
        yield from range(50)
        finished[k].set()

    streams = ordered_streams(gen, [0, 1], workers=2, depth=None)
    _, first = next(streams)
    assert finished[0].wait(5) and finished[1].wait(5)  # nothing was read yet
    assert list(first) == list(range(50))
    assert [(k, list(s)) for k, s in streams] == [(1, list(range(50)))]


def test_ordered_streams_raise_the_producer_error_in_order() -> None:
    def gen(k: int) -> Iterator[int]:
        yield k
        if k == 1:
            raise ValueError("part 1 is broken")

    streams = ordered_streams(gen, [0, 1, 2], workers=2, depth=2)
    assert list(next(streams)[1]) == [0]
    _, broken = next(streams)
    with pytest.raises(ValueError, match="part 1 is broken"):
        list(broken)
    streams.close()


def test_leaving_early_stops_every_producer() -> None:
    alive = threading.Event()

    def endless(k: int) -> Iterator[int]:
        alive.set()
        i = 0
        while True:
            i += 1
            yield i

    streams = ordered_streams(endless, [0, 1], workers=2, depth=2, name="early-exit")
    _, it = next(streams)
    next(it)
    streams.close()  # the consumer walks away
    assert alive.is_set()
    deadline = time.monotonic() + 5
    while any(t.name.startswith("early-exit") and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a producer kept running after the consumer left"
        time.sleep(0.02)


def test_behind_runs_one_call_at_a_time_and_raises_its_error_on_the_callers_thread() -> None:
    from dataferry.pool import Behind

    behind = Behind("dataferry-test")
    gate = threading.Event()
    order: list[str] = []

    def first() -> None:
        gate.wait(5)
        order.append("first")

    def second() -> None:
        order.append("second")
        raise ValueError("the second call failed")

    behind.start(first)
    order.append("caller")  # the caller goes on while the first call waits
    gate.set()
    behind.start(second)  # waits for the first call before starting the second
    with pytest.raises(ValueError, match="second call failed"):
        behind.wait()
    assert order == ["caller", "first", "second"]
    behind.wait()  # an error is raised once
