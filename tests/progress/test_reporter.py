"""The reporter: throttled, quiet for short jobs, thread-safe, secret-free, robust to a broken display."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from dataferry.clock import FakeClock
from dataferry.progress import ProgressState, Reporter, Stage


class Recorder:
    """A renderer that keeps every state it is given and checks it is never called concurrently."""

    def __init__(self) -> None:
        self.drawn: list[ProgressState] = []
        self.closed: list[ProgressState] = []
        self._busy = threading.Lock()
        self.overlaps = 0

    def draw(self, state: ProgressState) -> None:
        if not self._busy.acquire(blocking=False):
            self.overlaps += 1
            return
        try:
            time.sleep(0.0005)
            self.drawn.append(state)
        finally:
            self._busy.release()

    def close(self, state: ProgressState) -> None:
        self.closed.append(state)


def test_a_job_that_ends_within_the_quiet_period_draws_nothing(clock: FakeClock) -> None:
    rec = Recorder()
    r = Reporter(rec, clock=clock, quiet_seconds=1.0)
    r.stage(Stage.RUNNING, status="running")
    clock.advance(0.5)
    r.update(fraction=0.5)
    r.finish(Stage.DONE)
    assert rec.drawn == [] and rec.closed == []


def test_after_the_quiet_period_it_draws_and_closes_once(clock: FakeClock) -> None:
    rec = Recorder()
    r = Reporter(rec, vendor="brightdata", job_id="s_1", kind="snapshot", clock=clock, quiet_seconds=1.0)
    r.stage(Stage.QUEUED, status="starting")
    clock.advance(1.2)
    r.update()
    r.finish(Stage.DONE, output="out.parquet")
    r.finish(Stage.FAILED)  # idempotent: the first end wins
    assert [s.stage for s in rec.drawn] == [Stage.QUEUED]
    assert [s.stage for s in rec.closed] == [Stage.DONE]
    assert rec.closed[0].output == "out.parquet" and rec.closed[0].elapsed == pytest.approx(1.2)


def test_updates_are_throttled_but_stage_changes_always_draw(clock: FakeClock) -> None:
    rec = Recorder()
    r = Reporter(rec, clock=clock, quiet_seconds=0, min_interval=0.25)
    r.stage(Stage.DOWNLOADING, parts_total=100)
    for _ in range(100):
        clock.advance(0.01)
        r.add(bytes=1000)
    assert len(rec.drawn) == 1 + 4  # the stage change, then one redraw per 0.25 s over 1 s
    r.stage(Stage.WRITING)  # within 0.25 s of the last redraw, drawn all the same
    assert rec.drawn[-1].stage is Stage.WRITING
    assert rec.drawn[-1].bytes_done == 100_000


def test_counters_from_many_threads_add_up_and_draws_never_overlap() -> None:
    rec = Recorder()
    r = Reporter(rec, quiet_seconds=0, min_interval=0)
    r.stage(Stage.DOWNLOADING, parts_total=8)

    def worker() -> None:
        for _ in range(200):
            r.add(bytes=10, rows=1)
        r.add(parts=1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r.finish(Stage.DONE)
    final = rec.closed[-1]
    assert (final.parts_done, final.bytes_done, final.rows) == (8, 16_000, 1_600)
    assert rec.overlaps == 0


def test_text_goes_through_the_redactor_before_any_renderer_sees_it(clock: FakeClock) -> None:
    rec = Recorder()
    token = "tok-SECRET-123456"
    r = Reporter(
        rec, clock=clock, quiet_seconds=0, title=f"job for {token}", redact=lambda text: text.replace(token, "***")
    )
    r.stage(Stage.RUNNING, status=f"running as {token}", message=f"retrying with {token}")
    r.notice(f"rate limited for {token}")
    r.finish(Stage.FAILED, message=f"bad token {token}", output=f"/tmp/{token}")
    for state in rec.drawn + rec.closed:
        assert token not in repr(state)
    assert rec.closed[0].message == "bad token ***"


def test_a_failing_display_is_switched_off_and_the_work_goes_on(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        calls = 0

        def draw(self, state: ProgressState) -> None:
            Broken.calls += 1
            raise RuntimeError("frontend went away")

        def close(self, state: ProgressState) -> None:
            Broken.calls += 1
            raise RuntimeError("frontend went away")

    r = Reporter(Broken(), clock=clock, quiet_seconds=0, min_interval=0)
    with caplog.at_level(logging.WARNING, logger="dataferry"):
        r.stage(Stage.RUNNING)
        r.add(bytes=5)
        r.finish(Stage.DONE)
    assert Broken.calls == 1
    assert r.state.bytes_done == 5 and r.state.stage is Stage.DONE
    assert "frontend went away" in caplog.text


def test_a_drawn_display_keeps_ticking_until_the_end() -> None:
    """Nothing happens for a while (a part answers late): the clock still moves on screen, and a
    figure the throttle held back is shown within one tick."""
    drawn: list[ProgressState] = []

    class Recorder:
        def draw(self, state: ProgressState) -> None:
            drawn.append(state)

        def close(self, state: ProgressState) -> None:
            drawn.append(state)

    r = Reporter(Recorder(), vendor="brightdata", job_id="s_1", quiet_seconds=0, min_interval=10, tick=0.1)
    r.stage(Stage.DOWNLOADING, parts_total=4)
    r.add(bytes=1000)  # held back by the throttle (min_interval=10)
    time.sleep(0.6)
    r.finish(Stage.DONE)
    ticks = drawn[1:-1]
    assert len(ticks) >= 3 and ticks[0].bytes_done == 1000
    assert ticks[-1].now > ticks[0].now  # the elapsed time moved
    count = len(drawn)
    time.sleep(0.3)
    assert len(drawn) == count  # no tick after the end
    assert r._ticker is not None and not r._ticker.is_alive()
