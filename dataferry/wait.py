"""The one poll loop every vendor's job goes through.

It asks the vendor for the job's status until the job finishes, with a delay that grows
(with jitter) to a cap and never drops below the vendor's rate limit, honours "try again in
Ns", forgives a 404 just after a trigger, keeps network trouble apart from job failure,
treats unknown statuses as "still running", stops at a monotonic deadline, and turns Ctrl-C
into a clean stop that says how to re-attach.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import (
    NOT_FOUND_GRACE,
    POLL_GROWTH,
    POLL_INITIAL,
    POLL_JITTER,
    POLL_MAX,
    TRANSPORT_ERRORS_IN_A_ROW,
)
from dataferry.errors import (
    DataferryError,
    JobCancelled,
    JobFailed,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    WaitInterrupted,
    WaitTimeout,
    first_line,
)
from dataferry.events import listening
from dataferry.progress.reporter import Reporter, Stage
from dataferry.status import JobState, JobStatus

TICK = 1.0
"""Longest single sleep while waiting, so the elapsed time on screen keeps moving."""


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask.

    Attributes:
        initial: the first delay.
        growth: factor applied after each poll.
        maximum: the cap.
        jitter: relative jitter (0.1 = ±10 %).
        floor: the vendor's rate limit for status calls; no delay is ever shorter.
        not_found_grace: seconds after a trigger during which a 404 means "not visible yet".
        transport_errors: failed polls in a row tolerated before giving up.
    """

    initial: float = POLL_INITIAL
    growth: float = POLL_GROWTH
    maximum: float = POLL_MAX
    jitter: float = POLL_JITTER
    floor: float = 0.0
    not_found_grace: float = NOT_FOUND_GRACE
    transport_errors: int = TRANSPORT_ERRORS_IN_A_ROW


def next_delay(
    previous: float | None, policy: PollPolicy, *, hint: float | None = None, rng: random.Random | None = None
) -> float:
    """The delay before the next poll.

    Args:
        previous: the last delay used, ``None`` before the first.
        policy: the poll policy.
        hint: the vendor's "try again in N s", honoured as given (never below the floor).
        rng: random source for jitter.

    Example:
        >>> next_delay(None, PollPolicy(jitter=0))
        1.0
        >>> next_delay(20.0, PollPolicy(jitter=0, maximum=25))
        25.0
        >>> next_delay(1.0, PollPolicy(jitter=0, floor=5))
        5.0
    """
    uniform = rng.uniform if rng is not None else random.uniform
    if hint is not None and math.isfinite(hint) and hint > 0:
        return float(max(policy.floor, hint))
    base = float(policy.initial if previous is None else min(policy.maximum, previous * policy.growth))
    jittered = base * (1 + uniform(-policy.jitter, policy.jitter)) if policy.jitter else base
    return float(max(policy.floor, jittered))


def in_not_found_grace(triggered_at: float | None, now: float, policy: PollPolicy) -> bool:
    """Whether a 404 now means "not visible yet" rather than "no such job": the job was created
    by this process (``triggered_at``, monotonic) less than ``policy.not_found_grace`` ago.

    Example:
        >>> in_not_found_grace(100.0, 101.0, PollPolicy()), in_not_found_grace(None, 101.0, PollPolicy())
        (True, False)
    """
    return triggered_at is not None and now - triggered_at < policy.not_found_grace


STAGE_OF = {
    JobState.QUEUED: Stage.QUEUED,
    JobState.RUNNING: Stage.RUNNING,
    JobState.DONE: Stage.RUNNING,  # the caller decides what comes after (download or done)
    JobState.FAILED: Stage.FAILED,
    JobState.CANCELLED: Stage.CANCELLED,
}


def wait_until_finished(
    poll: Callable[[], JobStatus],
    *,
    vendor: str,
    job_id: str,
    reporter: Reporter,
    reattach: str,
    kind: str = "job",
    policy: PollPolicy = PollPolicy(),
    timeout: float | None = None,
    clock: Clock = SYSTEM_CLOCK,
    triggered_at: float | None = None,
    cancel: Callable[[], object] | None = None,
    cancel_on_interrupt: bool = False,
    rng: random.Random | None = None,
    failure: Callable[..., JobFailed] = JobFailed,
    identity: Callable[[], tuple[str, str]] | None = None,
) -> JobStatus:
    """Poll until the job is done.

    Args:
        poll: returns the job's current :class:`JobStatus` (one HTTP call).
        vendor, job_id, kind: for messages ("brightdata snapshot s_…").
        reporter: receives stage and progress events.
        reattach: the code a user runs to get the job back (shown on interrupt/timeout).
        policy: delays.
        timeout: overall seconds; ``None`` waits without a deadline.
        clock: time source.
        triggered_at: ``clock.monotonic()`` when the job was created by us, for the 404 grace.
        cancel: cancels the remote job.
        cancel_on_interrupt: cancel the remote job when the wait is interrupted.
        rng: random source for jitter.
        failure: makes the :class:`JobFailed` to raise (a subclass, or a job's ``_failure``).
        identity: ``(job id, re-attach code)`` as they are now, asked after each status: a job
            replaced while it is waited for (a re-created myTracker export) is shown, reported
            and offered for re-attach under its new id.

    Returns:
        The final status, whose state is ``DONE``.

    Raises:
        JobFailed: the vendor reports failure (its message verbatim).
        JobCancelled: the job was cancelled.
        WaitTimeout: ``timeout`` passed first (the job is left alone).
        WaitInterrupted: Ctrl-C; the job is left alone unless ``cancel_on_interrupt``.
        NotFound: the job does not exist (after the grace window).
        TransportError / ApiError: the status calls kept failing.
    """
    start = clock.monotonic()
    deadline = None if timeout is None else start + timeout
    delay: float | None = None
    failures_in_row = 0
    last: JobStatus | None = None
    try:
        with listening(reporter.notice):
            while True:
                status: JobStatus | None = None
                try:
                    status = poll()
                    failures_in_row = 0
                    if identity is not None and identity()[0] != job_id:
                        job_id, reattach = identity()
                        reporter.update(job_id=job_id)
                except NotFound:
                    if not in_not_found_grace(triggered_at, clock.monotonic(), policy):
                        raise
                    reporter.update(message="not visible yet, waiting")
                except (TransportError, ServerError, RateLimited) as exc:
                    failures_in_row += 1
                    if failures_in_row >= policy.transport_errors:
                        raise
                    reporter.notice(f"status check failed ({first_line(exc)}); still waiting")
                if status is not None:
                    last = status
                    reporter.stage(
                        STAGE_OF[status.state],
                        status=status.raw or status.state.value,
                        fraction=status.progress,
                        message=status.message or "",
                    )
                    if status.state is JobState.DONE:
                        return status
                    if status.state is JobState.FAILED:
                        raise failure(
                            status.message or status.raw or "failed",
                            vendor=vendor,
                            kind=kind,
                            job_id=job_id,
                            status=status,
                        )
                    if status.state is JobState.CANCELLED:
                        raise JobCancelled(
                            f"{vendor} {kind} {job_id} was cancelled"
                            + (f": {status.message}" if status.message else ""),
                            vendor=vendor,
                            job_id=job_id,
                            status=status,
                        )
                delay = next_delay(delay, policy, hint=status.retry_after if status else None, rng=rng)
                now = clock.monotonic()
                if deadline is not None:
                    if now >= deadline:
                        raise WaitTimeout(
                            f"{vendor} {kind} {job_id} still {last.describe() if last else 'not visible'} "
                            f"after {timeout:g} s; it was left running",
                            vendor=vendor,
                            job_id=job_id,
                            status=last,
                            hint=f"wait longer with {reattach}.wait(timeout=...)",
                        )
                    delay = min(delay, deadline - now)
                _sleep(clock, delay, reporter)
    except KeyboardInterrupt:
        cancelled = False
        if cancel_on_interrupt and cancel is not None:
            try:
                cancel()
                cancelled = True
            except (DataferryError, KeyboardInterrupt):
                cancelled = False
        what = f"the {kind} was cancelled" if cancelled else f"the {kind} keeps running"
        raise WaitInterrupted(
            f"stopped waiting for {vendor} {kind} {job_id}; {what}",
            job_id=job_id,
            cancelled=cancelled,
            reattach=reattach,
        ) from None


def _sleep(clock: Clock, seconds: float, reporter: Reporter) -> None:
    while seconds > 0:
        step = min(TICK, seconds)
        clock.sleep(step)
        seconds -= step
        reporter.update()
