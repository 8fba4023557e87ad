"""Stopping and not blocking: Ctrl-C (a real SIGINT to the main thread) stops every wait of a
group and gives one re-attach snippet; a background wait completes while the main thread
works, re-raises the typed error, and stops when its future is cancelled; an asyncio wait
never blocks the event loop (issue #19, items 1, 4 and 5)."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any

import pytest

import dataferry
from dataferry import brightdata
from dataferry.groups import GroupInterrupted
from dataferry.progress.group_render import GroupLogRenderer
from dataferry.wait import PollPolicy

from .conftest import DATASET

POLLS = PollPolicy(initial=0.1, growth=1.5, maximum=0.3, jitter=0.0)


def interrupt_when(condition: Callable[[], bool], timeout: float = 20.0) -> threading.Thread:
    """Press Ctrl-C in the main thread as soon as ``condition()`` holds."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                return
            time.sleep(0.02)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def group_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("dataferry-group", "dataferry-wait"))]


@pytest.fixture
def slow(start_emulator: Callable[..., Any]) -> Any:
    """Snapshots ready after 30 s: a wait that only an interrupt ends."""
    return start_emulator("brightdata", start_after=0.5, ready_after=30)


@pytest.fixture
def quick(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("brightdata", start_after=0.2, ready_after=1.2)


def snaps(emu: Any, n: int, **client: Any) -> list[Any]:
    bd = brightdata.Client(poll=POLLS, **emu.client_kwargs(), **client)
    return [bd.trigger(DATASET, [{"url": f"https://example.com/p/{k}"}]) for k in range(n)]


def test_ctrl_c_stops_every_wait_at_once_and_gives_one_snippet(slow: Any, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = snaps(slow, 6)
    out = io.StringIO()
    started = time.monotonic()
    interrupt_when(lambda: len(slow.app.requests) >= 6 + 12 and time.monotonic() - started > 1.5)
    with pytest.raises(GroupInterrupted) as caught:
        dataferry.wait_all(jobs, progress=GroupLogRenderer(out))
    assert time.monotonic() - started < 6
    time.sleep(0.3)
    assert group_threads() == [], "a wait went on after Ctrl-C"
    error = caught.value
    assert isinstance(error, dataferry.WaitInterrupted) and not error.cancelled
    assert str(error).count("re-attach:") == 1
    one = r"brightdata\.Client\(base_url='[^']+'\)\.snapshot\('s_\w+'\)"
    assert re.fullmatch(rf"dataferry\.wait_all\(\[({one}(, )?){{6}}\]\)", error.reattach), error.reattach
    assert all(o.state == "stopped" for o in error.outcomes)
    shown = out.getvalue() + capsys.readouterr().err
    assert "re-attach" not in shown  # the error carries the one snippet; no job printed its own
    assert "stopped" in shown.splitlines()[-1]
    polled = len(slow.app.requests)
    time.sleep(1.0)
    assert len(slow.app.requests) == polled, "status requests after the interrupt"
    # the remote jobs were left alone: the snippet gets them back
    assert not [r for r in slow.app.requests if r.path.endswith("/cancel")]


def test_ctrl_c_with_cancel_on_interrupt_cancels_the_remote_jobs(slow: Any) -> None:
    jobs = snaps(slow, 3)
    interrupt_when(lambda: len(slow.app.requests) >= 3 + 6)
    with pytest.raises(GroupInterrupted) as caught:
        dataferry.wait_all(jobs, progress="off", cancel_on_interrupt=True)
    assert caught.value.cancelled and caught.value.reattach == ""
    assert len([r for r in slow.app.requests if r.path.endswith("/cancel")]) == 3


def test_a_background_wait_completes_while_the_main_thread_works(quick: Any) -> None:
    [snap] = snaps(quick, 1)
    future = snap.wait(background=True, progress="off")
    assert isinstance(future, Future) and not future.done()
    worked = 0
    while not future.done():  # the main thread keeps working meanwhile
        worked += sum(range(10_000)) > 0
    assert worked > 100
    assert future.result(timeout=10) is snap and snap.done
    assert snap.wait(background=True).result(timeout=1) is snap  # done already: no new wait


def test_a_background_group_wait(quick: Any) -> None:
    jobs = snaps(quick, 4)
    future = dataferry.group(jobs).wait(background=True, progress="off")
    assert not future.done()
    group = future.result(timeout=20)
    assert isinstance(group, dataferry.JobGroup) and all(o.ok for o in group.outcomes)


def test_future_result_re_raises_the_typed_error(quick: Any) -> None:
    bd = brightdata.Client(poll=POLLS, **quick.client_kwargs())
    snap = bd.trigger(DATASET, [{"url": "https://example.com/x", "emulator_fail": "Crawl failed: blocked"}])
    future = snap.wait(background=True, progress="off")
    with pytest.raises(dataferry.JobFailed, match="Crawl failed: blocked") as caught:
        future.result(timeout=10)
    assert caught.value.job_id == snap.id
    with pytest.raises(dataferry.WaitTimeout):
        snaps(quick, 1)[0].wait(timeout=0.3, background=True, progress="off").result(timeout=10)


def test_cancelling_the_future_stops_waiting_and_cancels_only_if_asked(slow: Any) -> None:
    first, second = snaps(slow, 2)
    future = first.wait(background=True, progress="off")
    time.sleep(0.5)
    assert future.running() and future.cancel()
    assert future.join(timeout=2), "the wait went on after cancel()"
    with pytest.raises(CancelledError):
        future.result(timeout=1)
    polled = len(slow.app.requests)
    time.sleep(0.8)
    assert len(slow.app.requests) == polled
    assert not [r for r in slow.app.requests if r.path.endswith("/cancel")]
    other = second.wait(background=True, progress="off")
    time.sleep(0.3)
    assert other.cancel(remote=True) and other.join(timeout=5)
    assert [r.path for r in slow.app.requests if r.path.endswith("/cancel")] == [
        f"/datasets/v3/snapshot/{second.id}/cancel"
    ]


def test_asyncio_waits_never_block_the_event_loop(quick: Any) -> None:
    jobs = snaps(quick, 3)
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def main() -> tuple[Any, Any, Any]:
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stop))
        one = await jobs[0].wait_async(progress="off")
        df = await jobs[1].to_pandas_async(progress="off")
        group = await dataferry.wait_all_async(jobs, progress="off")
        stop.set()
        await tick
        return one, df, group

    started = time.monotonic()
    one, df, group = asyncio.run(main())
    assert time.monotonic() - started > 1.0  # the waits took real time...
    assert one is jobs[0] and len(df) == len(quick.app.records(jobs[1].id)) and all(o.ok for o in group.outcomes)
    assert len(gaps) > 30 and max(gaps) < 0.2, max(gaps)  # ...and the loop kept ticking throughout


def test_cancelling_the_awaiting_task_stops_the_wait(slow: Any) -> None:
    [snap] = snaps(slow, 1)

    async def main() -> None:
        task = asyncio.create_task(snap.wait_async(progress="off"))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    time.sleep(0.3)
    polled = len(slow.app.requests)
    time.sleep(0.8)
    assert len(slow.app.requests) == polled and group_threads() == []
