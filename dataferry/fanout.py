"""Waiting for many jobs at once: one worker thread per job being waited, one display.

Each job is waited by the one poll loop (``Job._wait``) exactly as ``job.wait()`` does, in a
bounded set of worker threads, with its progress going to a row of one
:class:`~dataferry.progress.group.GroupProgress`. Politeness comes from the clients:

* every status call of every job goes through its client's rate limiter (one per client,
  shared by all its jobs), so fan-out can never send more than the vendor allows;
* a group's jobs of one client also spread their polls: each polls no more often than the
  client's shortest window allows for all of them together (``n`` jobs of a client allowed
  10 calls a second poll at least 0.1 × n s apart), and their first polls are staggered by
  that interval; longer windows (100 a minute, 1000 an hour) are kept by the limiter itself.

Stopping: a :class:`threading.Event` (Ctrl-C in the caller, a cancelled future, the caller
leaving ``as_completed``) ends every wait at its next sleep (:mod:`dataferry.stopping`).
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dataferry.constants import STOP_SECONDS
from dataferry.errors import (
    DataferryError,
    JobCancelled,
    JobFailed,
    WaitInterrupted,
    WaitTimeout,
    first_line,
)
from dataferry.progress.group import GroupProgress, make_group_renderer
from dataferry.progress.reporter import Stage
from dataferry.stopping import StoppableClock, stopping
from dataferry.wait import PollPolicy

GROUP_WORKERS = 32
"""Jobs of a group waited at the same time (the others start as these finish)."""

SLICE = 0.1
"""Seconds the caller's thread blocks at a time while it waits for the group (Ctrl-C is seen
at once anyway; this bounds how late a missed wake-up could be)."""

CANCEL_GRACE = 10.0
"""Seconds an interrupted group waits for its remote cancels (``cancel_on_interrupt=True``)."""


@dataclass
class Outcome:
    """How one job of a group ended.

    Attributes:
        job: the job.
        state: ``"done"``, ``"failed"``, ``"cancelled"``, ``"timeout"``, ``"stopped"`` (the wait
            was interrupted; the job goes on), ``"error"`` (the status calls kept failing) or
            ``"pending"`` (not waited for yet).
        error: the typed error the job's wait raised, or ``None``.
        elapsed: seconds its wait took.
    """

    job: Any
    state: str = "pending"
    error: BaseException | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "done"

    def __repr__(self) -> str:
        why = f": {first_line(self.error)}" if self.error is not None else ""
        return f"<{self.job.vendor} {self.job.kind} {self.job.id}: {self.state}{why}>"


def outcome_of(job: Any, error: BaseException | None, elapsed: float) -> Outcome:
    """The outcome for what a job's wait raised (``None``: it finished)."""
    if error is None:
        state = "done"
    elif isinstance(error, WaitInterrupted):
        state = "stopped"
    elif isinstance(error, WaitTimeout):
        state = "timeout"
    elif isinstance(error, JobCancelled):
        state = "cancelled"
    elif isinstance(error, JobFailed):
        state = "failed"
    else:
        state = "error"
    return Outcome(job, state, error, elapsed)


def shares(jobs: Sequence[Any], workers: int) -> tuple[list[PollPolicy], list[float]]:
    """Each job's poll policy and start offset within the group (see the module's docstring)."""
    keys = [(id(j.client.http.limiter), j.status_family) for j in jobs]
    sizes = Counter(keys)
    ranks: Counter[tuple[int, str]] = Counter()
    policies, offsets = [], []
    for job, key in zip(jobs, keys, strict=True):
        limiter = job.client.http.limiter
        rates = limiter.rates(job.status_family) if limiter.enabled else ()
        shortest = min((r.interval for r in rates), default=0.0)
        share = shortest * min(sizes[key], workers)
        policy = job._policy()
        if share > policy.floor:
            policy = replace(policy, floor=share, initial=max(policy.initial, share))
        policies.append(policy)
        offsets.append(shortest * (ranks[key] % workers))
        ranks[key] += 1
    return policies, offsets


class Fanout:
    """Waits for ``jobs`` in worker threads; the caller takes their indices as they finish.

    Args:
        jobs: the jobs.
        timeout: one overall deadline in seconds (``None``: none).
        progress: the group display's ``progress=``.
        cancel_on_interrupt: cancel the remote jobs still running when stopped (truthy at
            the moment of stopping; a background future passes a live flag).
        workers: jobs waited at the same time.
        stop: the event that stops every wait.
        eager: draw the display at once (a background wait draws in the caller's cell).
    """

    def __init__(
        self,
        jobs: Sequence[Any],
        *,
        timeout: float | None,
        progress: Any,
        cancel_on_interrupt: Any = False,
        workers: int = GROUP_WORKERS,
        stop: threading.Event | None = None,
        eager: bool = False,
    ) -> None:
        if workers < 1:
            raise DataferryError(f"max_workers must be at least 1, got {workers}")
        self.jobs = list(jobs)
        self.clock = self.jobs[0].client.clock if self.jobs else None
        renderer = make_group_renderer(progress)  # a bad progress= fails before anything starts
        kw: dict[str, Any] = {"quiet_seconds": 0.0} if eager else {}
        self.display = GroupProgress(
            renderer, self.jobs, title="waiting", **kw, **({"clock": self.clock} if self.clock is not None else {})
        )
        self.outcomes = [Outcome(j) for j in self.jobs]
        self.timeout = timeout
        self.cancel_on_interrupt = cancel_on_interrupt
        self.workers = workers
        self.stop = stop or threading.Event()
        self.policies, self.offsets = shares(self.jobs, workers)
        self._next = iter(range(len(self.jobs)))
        self._take = threading.Lock()
        self._finished: queue.Queue[int] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._deadline: float | None = None
        if eager:
            self.display.draw()

    # -- the caller's side --------------------------------------------------------------
    def start(self) -> None:
        start = self.clock.monotonic() if self.clock is not None else 0.0
        self._deadline = None if self.timeout is None else start + self.timeout
        for k in range(min(self.workers, len(self.jobs))):
            t = threading.Thread(target=self._work, name=f"dataferry-group-{k}", daemon=True)
            self._threads.append(t)
            t.start()

    def finished(self) -> Iterator[int]:
        """Indices of the jobs as their waits end, in that order (blocks; Ctrl-C stops all)."""
        left = len(self.jobs)
        while left:
            try:
                index = self._finished.get(timeout=SLICE)
            except queue.Empty:
                continue
            left -= 1
            yield index

    def halt(self, *, grace: float | None = None) -> None:
        """Stop every wait and wait (briefly) for the workers to end."""
        self.stop.set()
        grace = (CANCEL_GRACE if self.cancel_on_interrupt else STOP_SECONDS) if grace is None else grace
        for t in self._threads:
            t.join(grace)
        # jobs never started are left as they are: record them as stopped
        for o in self.outcomes:
            if o.state == "pending":
                o.state = "stopped"

    def unfinished(self) -> list[Any]:
        """The jobs whose wait did not see them end (stopped, timed out or never started)."""
        return [o.job for o in self.outcomes if o.state in ("stopped", "timeout", "pending")]

    def close_display(self, *, reattach: str = "", message: str = "") -> Stage:
        states = Counter(o.state for o in self.outcomes)
        if states["failed"] or states["cancelled"] or states["error"]:
            stage = Stage.FAILED
        elif states["stopped"] or states["timeout"] or states["pending"]:
            stage = Stage.STOPPED
        else:
            stage = Stage.DONE
        self.display.finish(stage, message, reattach=reattach if stage is Stage.STOPPED else "")
        return stage

    # -- the workers --------------------------------------------------------------------
    def _work(self) -> None:
        with stopping(self.stop):
            while True:
                with self._take:
                    index = next(self._next, None)
                if index is None:
                    return
                if self.stop.is_set():
                    self.outcomes[index].state = "stopped"
                    self._finished.put(index)
                    continue
                self._wait_one(index)
                self._finished.put(index)

    def _wait_one(self, index: int) -> None:
        job = self.jobs[index]
        clock = job.client.clock
        began = clock.monotonic()
        error: BaseException | None = None
        try:
            with job._operation(self.display.row(index)) as reporter:
                if self.offsets[index] and not job.done:
                    reporter.stage(Stage.SUBMITTED, message="waiting for its turn to poll")
                    try:
                        StoppableClock(clock, self.stop).sleep(self.offsets[index])
                    except KeyboardInterrupt:
                        raise WaitInterrupted(
                            f"stopped waiting for {job.vendor} {job.kind} {job.id}",
                            job_id=job.id,
                            reattach=job.reattach,
                        ) from None
                left = None if self._deadline is None else self._deadline - clock.monotonic()
                if left is not None and left <= 0:
                    raise WaitTimeout(
                        f"{job.vendor} {job.kind} {job.id}: the group's deadline passed before its wait began",
                        vendor=job.vendor,
                        job_id=job.id,
                        status=job.last_status,
                    )
                job._wait(reporter, left, self.cancel_on_interrupt, self.policies[index])
                reporter.finish(Stage.DONE, message=job.last_status.message if job.last_status else None)
        except BaseException as exc:  # noqa: BLE001 - kept as this job's outcome; the others go on
            error = exc
        self.outcomes[index] = outcome_of(job, error, clock.monotonic() - began)
