"""The one poll loop, in zero wall time."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from dataferry.clock import FakeClock
from dataferry.errors import (
    JobCancelled,
    JobFailed,
    NotFound,
    ServerError,
    TransportError,
    WaitInterrupted,
    WaitTimeout,
)
from dataferry.progress import Reporter, Stage
from dataferry.progress.renderers import NullRenderer
from dataferry.status import JobState, JobStatus
from dataferry.wait import PollPolicy, next_delay, wait_until_finished

RUN = JobStatus(JobState.RUNNING, "running")
DONE = JobStatus(JobState.DONE, "ready")


def script(*steps: object) -> Callable[[], JobStatus]:
    """A poll function that plays ``steps`` (statuses or exceptions), repeating the last."""
    items = list(steps)

    def poll() -> JobStatus:
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    return poll


def run(poll: Callable[[], JobStatus], clock: FakeClock, **kw: object) -> JobStatus:
    reporter = Reporter(NullRenderer(), clock=clock)
    kw.setdefault("policy", PollPolicy(jitter=0))
    return wait_until_finished(
        poll, vendor="acme", job_id="j1", reporter=reporter, reattach="acme.Client().job('j1')", clock=clock, **kw
    )


def test_delay_grows_to_the_cap(clock: FakeClock) -> None:
    policy = PollPolicy(initial=1, growth=2, maximum=10, jitter=0)
    delays, d = [], None
    for _ in range(6):
        d = next_delay(d, policy)
        delays.append(d)
    assert delays == [1, 2, 4, 8, 10, 10]


def test_jitter_stays_within_bounds_and_never_below_the_floor() -> None:
    rng = random.Random(3)
    policy = PollPolicy(initial=10, growth=1, maximum=10, jitter=0.1, floor=9.5)
    values = [next_delay(10, policy, rng=rng) for _ in range(200)]
    assert min(values) >= 9.5 and max(values) <= 11.0 and len(set(values)) > 50


def test_waits_until_done_and_sleeps_between_polls(clock: FakeClock) -> None:
    status = run(script(RUN, RUN, RUN, DONE), clock)
    assert status is DONE
    assert clock.monotonic() == pytest.approx(1 + 1.5 + 2.25)


def test_server_hint_is_honoured(clock: FakeClock) -> None:
    hinted = JobStatus(JobState.RUNNING, "building", retry_after=10.0)
    run(script(hinted, DONE), clock)
    assert clock.monotonic() == pytest.approx(10.0)


def test_floor_from_the_vendor_rate_limit(clock: FakeClock) -> None:
    run(script(RUN, RUN, DONE), clock, policy=PollPolicy(initial=1, jitter=0, floor=5))
    assert clock.monotonic() == pytest.approx(5 + 7.5)  # never below 5 s, then growing from there


def test_unknown_status_keeps_waiting(clock: FakeClock) -> None:
    odd = JobStatus(JobState.RUNNING, "digesting")
    assert run(script(odd, odd, DONE), clock) is DONE


def test_failure_raises_with_the_vendor_message_verbatim(clock: FakeClock) -> None:
    failed = JobStatus(JobState.FAILED, "failed", "Input validation failed: url is not reachable")
    with pytest.raises(JobFailed) as info:
        run(script(RUN, failed), clock)
    assert info.value.vendor_message == "Input validation failed: url is not reachable"
    assert info.value.job_id == "j1" and "j1" in str(info.value)


def test_cancelled_raises(clock: FakeClock) -> None:
    with pytest.raises(JobCancelled):
        run(script(RUN, JobStatus(JobState.CANCELLED, "canceled")), clock)


def test_404_right_after_a_trigger_is_forgiven(clock: FakeClock) -> None:
    gone = NotFound("Snapshot does not exist", status=404)
    assert run(script(gone, gone, DONE), clock, triggered_at=0.0) is DONE


def test_404_after_the_grace_window_raises(clock: FakeClock) -> None:
    gone = NotFound("Snapshot does not exist", status=404)
    with pytest.raises(NotFound):
        run(script(gone), clock, triggered_at=0.0, policy=PollPolicy(jitter=0, not_found_grace=5))
    assert clock.monotonic() >= 5


def test_404_for_a_reattached_job_raises_at_once(clock: FakeClock) -> None:
    with pytest.raises(NotFound):
        run(script(NotFound("Snapshot does not exist", status=404)), clock)
    assert clock.sleeps == []


def test_transport_errors_are_not_job_failures(clock: FakeClock) -> None:
    flaky = [TransportError("connection reset"), ServerError("Internal server error", status=500)]
    assert run(script(*flaky, RUN, *flaky, DONE), clock) is DONE


def test_too_many_transport_errors_in_a_row_give_up(clock: FakeClock) -> None:
    with pytest.raises(TransportError):
        run(script(TransportError("down")), clock, policy=PollPolicy(jitter=0, transport_errors=3))


def test_deadline_raises_wait_timeout_and_says_how_to_reattach(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeout) as info:
        run(script(RUN), clock, timeout=60)
    assert clock.monotonic() == pytest.approx(60.0)
    assert "acme.Client().job('j1')" in str(info.value)


def test_interrupt_stops_waiting_and_leaves_the_job(clock: FakeClock) -> None:
    cancelled: list[bool] = []
    with pytest.raises(WaitInterrupted) as info:
        run(script(RUN, KeyboardInterrupt()), clock, cancel=lambda: cancelled.append(True))
    assert cancelled == [] and info.value.cancelled is False
    assert "keeps running" in str(info.value) and "acme.Client().job('j1')" in str(info.value)
    assert isinstance(info.value, KeyboardInterrupt) and not isinstance(info.value, Exception)


def test_interrupt_can_cancel_the_remote_job(clock: FakeClock) -> None:
    cancelled: list[bool] = []
    with pytest.raises(WaitInterrupted) as info:
        run(script(RUN, KeyboardInterrupt()), clock, cancel=lambda: cancelled.append(True), cancel_on_interrupt=True)
    assert cancelled == [True] and info.value.cancelled is True


def test_reporter_sees_the_stages(clock: FakeClock) -> None:
    seen: list[tuple[Stage, str]] = []

    class Spy(NullRenderer):
        def draw(self, state):  # type: ignore[no-untyped-def]
            seen.append((state.stage, state.status))

    reporter = Reporter(Spy(), clock=clock, quiet_seconds=0)
    queued = JobStatus(JobState.QUEUED, "starting")
    wait_until_finished(
        script(queued, RUN, DONE),
        vendor="acme",
        job_id="j1",
        reporter=reporter,
        reattach="x",
        clock=clock,
        policy=PollPolicy(jitter=0),
    )
    stages = [s for s, _ in seen]
    assert stages.index(Stage.QUEUED) < stages.index(Stage.RUNNING)
    assert (seen[0][0].value, seen[0][1]) == ("queued", "starting")
