"""Many jobs at once: :func:`wait_all`, :func:`as_completed` and :class:`JobGroup`.

A group is a thin layer over :class:`~dataferry.job.Job`: each job is waited by the one poll
loop, through its client's rate limiter (shared by all that client's jobs), and reports to a
row of one group display (:mod:`dataferry.progress.group`); see :mod:`dataferry.fanout`.

::

    import dataferry

    jobs = [bd.trigger(DATASET, [{"keyword": k}]) for k in keywords] + [mt.create_export(...)]
    group = dataferry.wait_all(jobs)  # one panel: a row per job, an overall bar
    for job in dataferry.as_completed(jobs):  # in finish order
        ...
    df = group.to_pandas(source_column="job_id")  # one frame, rows tagged with their job

Errors (beside each job's own)::

    JobError
    ├── GroupFailed (JobError)            some jobs failed; .outcomes, .failed
    └── WaitTimeout
        └── GroupTimeout                  the group's deadline passed; .outcomes, .pending
    WaitInterrupted
    └── GroupInterrupted                  Ctrl-C: every wait stopped; one re-attach snippet
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any, overload

from dataferry.constants import WAIT_TIMEOUT
from dataferry.errors import (
    InvalidArgument,
    JobError,
    WaitInterrupted,
    WaitTimeout,
    first_line,
)
from dataferry.fanout import GROUP_WORKERS, Fanout, Outcome
from dataferry.group_data import GroupData

CLIENT_DEFAULT: Any = object()
"""``progress=`` not given: the first job's client's setting applies."""


class GroupFailed(JobError):
    """Some jobs of a group failed, were cancelled or could not be waited for; the others'
    results are intact.

    Attributes:
        outcomes: every job's :class:`~dataferry.fanout.Outcome`, in the group's order.
        failed: the outcomes that are not ``done``.
    """

    def __init__(self, message: str, *, outcomes: Sequence[Outcome], hint: str | None = None) -> None:
        self.outcomes = list(outcomes)
        self.failed = [o for o in self.outcomes if not o.ok]
        super().__init__(message, hint=hint)


class GroupTimeout(WaitTimeout):
    """The group's deadline passed while some jobs still ran (they were left running).

    Attributes:
        outcomes: every job's outcome; pending: the jobs still running.
    """

    def __init__(self, message: str, *, outcomes: Sequence[Outcome], hint: str | None = None) -> None:
        self.outcomes = list(outcomes)
        self.pending = [o.job for o in self.outcomes if o.state in ("timeout", "stopped", "pending")]
        super().__init__(message, hint=hint)


class GroupInterrupted(WaitInterrupted):
    """Ctrl-C / "interrupt kernel" while a group was waited: every wait stopped; ``reattach``
    is one snippet that gets all the jobs still running back.

    Attributes:
        outcomes: every job's outcome (set after creation).
    """

    outcomes: list[Outcome]


def reattach_all(jobs: Sequence[Any]) -> str:
    """One line of code that waits for ``jobs`` again (``dataferry.wait_all([...])``)."""
    return "dataferry.wait_all([" + ", ".join(j.reattach for j in jobs) + "])"


def _described(outcomes: Iterable[Outcome], limit: int = 10) -> str:
    bad = [o for o in outcomes if not o.ok]
    lines = [
        f"\n  - {o.job.vendor} {o.job.kind} {o.job.id}: {o.state}"
        + (f": {first_line(o.error)}" if o.error is not None else "")
        for o in bad[:limit]
    ]
    if len(bad) > limit:
        lines.append(f"\n  - … and {len(bad) - limit} more")
    return "".join(lines)


class JobGroup(GroupData, Sequence[Any]):
    """Jobs of any vendors, waited and read together.

    Args:
        jobs: the job handles (snapshots, exports, runs...).

    Attributes:
        outcomes: each job's :class:`~dataferry.fanout.Outcome` after a wait.

    Example::

        group = dataferry.JobGroup([snap1, snap2, export])
        group.wait(raise_on_failure=False)
        group.failed  # the outcomes that are not done
        df = group.succeeded.to_pandas(source_column="job_id")
    """

    def __init__(self, jobs: Iterable[Any]) -> None:
        self.jobs = list(jobs)
        for job in self.jobs:
            if not (hasattr(job, "_wait") and hasattr(job, "client") and hasattr(job, "reattach")):
                raise InvalidArgument(f"a JobGroup holds dataferry jobs (snapshots, exports, runs...), not {job!r}")
        self.outcomes = [Outcome(j) for j in self.jobs]

    # -- Sequence ---------------------------------------------------------------------------
    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> JobGroup: ...
    def __getitem__(self, index: int | slice) -> Any:
        return JobGroup(self.jobs[index]) if isinstance(index, slice) else self.jobs[index]

    def __len__(self) -> int:
        return len(self.jobs)

    # -- waiting --------------------------------------------------------------------------------
    def wait(
        self,
        timeout: float | None = WAIT_TIMEOUT,
        *,
        progress: Any = CLIENT_DEFAULT,
        raise_on_failure: bool = True,
        cancel_on_interrupt: bool = False,
        max_workers: int = GROUP_WORKERS,
        background: bool = False,
    ) -> Any:
        """Wait for every job, with one display.

        Args:
            timeout: one overall deadline in seconds for the whole group; ``None``: none.
            progress: as for ``job.wait``; default: the first job's client's setting.
            raise_on_failure: raise :class:`GroupFailed` / :class:`GroupTimeout` once every
                wait has ended; ``False``: return, and read :attr:`outcomes`.
            cancel_on_interrupt: cancel the remote jobs still running on Ctrl-C (or when a
                background wait's future is cancelled).
            max_workers: jobs waited at the same time.
            background: return a :class:`~dataferry.background.WaitFuture` at once.

        Returns:
            ``self`` (or the future, whose result is ``self``).

        Raises:
            GroupFailed: a job failed, was cancelled or its status calls kept failing.
            GroupTimeout: the deadline passed with jobs still running.
            GroupInterrupted: Ctrl-C; every wait stopped; one re-attach snippet for the rest.
        """
        chosen = self._progress(progress)
        if background:
            from dataferry.background import RemoteFlag, WaitFuture, run_in_background

            future = WaitFuture(cancel_remote=cancel_on_interrupt)
            fanout = Fanout(
                self.jobs,
                timeout=timeout,
                progress=chosen,
                cancel_on_interrupt=RemoteFlag(future),
                workers=max_workers,
                stop=future.stop,
                eager=True,
            )
            return run_in_background(
                lambda f: self._run(fanout, raise_on_failure, consume=True), future=future, name="dataferry-wait-group"
            )
        fanout = Fanout(
            self.jobs, timeout=timeout, progress=chosen, cancel_on_interrupt=cancel_on_interrupt, workers=max_workers
        )
        return self._run(fanout, raise_on_failure, consume=True)

    def as_completed(
        self,
        timeout: float | None = WAIT_TIMEOUT,
        *,
        progress: Any = CLIENT_DEFAULT,
        raise_on_failure: bool = True,
        cancel_on_interrupt: bool = False,
        max_workers: int = GROUP_WORKERS,
    ) -> Generator[Any, None, None]:
        """The jobs as each one's wait ends, in finish order (see :func:`as_completed`)."""
        fanout = Fanout(
            self.jobs,
            timeout=timeout,
            progress=self._progress(progress),
            cancel_on_interrupt=cancel_on_interrupt,
            workers=max_workers,
        )
        return self._run(fanout, raise_on_failure, consume=False)

    def _run(self, fanout: Fanout, raise_on_failure: bool, *, consume: bool) -> Any:
        flow = self._flow(fanout, raise_on_failure)
        if not consume:
            return flow
        for _ in flow:
            pass
        return self

    def _flow(self, fanout: Fanout, raise_on_failure: bool) -> Generator[Any, None, None]:
        self.outcomes = fanout.outcomes
        fanout.start()
        try:
            for index in fanout.finished():
                outcome = fanout.outcomes[index]
                if outcome.ok or not (raise_on_failure or fanout.stop.is_set()):
                    yield outcome.job
        except KeyboardInterrupt:
            fanout.halt()
            left = fanout.unfinished()
            snippet = reattach_all(left) if left else ""
            cancelled = bool(fanout.cancel_on_interrupt)
            fanout.close_display(reattach="" if cancelled else snippet, message="interrupted")
            what = "they were cancelled" if cancelled else "they keep running"
            error = GroupInterrupted(
                f"stopped waiting for {len(left)} of {len(self.jobs)} jobs; {what}",
                cancelled=cancelled,
                reattach=snippet,
            )
            error.outcomes = fanout.outcomes
            raise error from None
        except BaseException:  # the caller left as_completed early, or something broke
            fanout.halt()
            fanout.close_display(
                reattach=reattach_all(fanout.unfinished()) if fanout.unfinished() else "", message="stopped early"
            )
            raise
        if fanout.stop.is_set():  # a background wait's future was cancelled
            fanout.close_display(reattach=reattach_all(fanout.unfinished()), message="stopped")
            raise WaitInterrupted(
                f"stopped waiting for {len(fanout.unfinished())} of {len(self.jobs)} jobs",
                reattach=reattach_all(fanout.unfinished()),
            )
        left = fanout.unfinished()
        fanout.close_display(reattach=reattach_all(left) if left else "")
        if raise_on_failure:
            self._raise(fanout.outcomes)

    def _raise(self, outcomes: Sequence[Outcome]) -> None:
        bad = [o for o in outcomes if not o.ok]
        if not bad:
            return
        failures = [o for o in bad if o.state not in ("timeout", "stopped", "pending")]
        if failures:
            error: JobError = GroupFailed(
                f"{len(bad)} of {len(outcomes)} jobs did not finish{_described(outcomes)}",
                outcomes=outcomes,
                hint="pass raise_on_failure=False to keep going; group.succeeded has the rest",
            )
            raise error from failures[0].error
        pending = [o.job for o in bad]
        raise GroupTimeout(
            f"{len(pending)} of {len(outcomes)} jobs still running when the group's deadline passed; "
            f"they were left running{_described(outcomes)}",
            outcomes=outcomes,
            hint=f"wait longer with {reattach_all(pending)}",
        )

    def _progress(self, progress: Any) -> Any:
        if progress is not CLIENT_DEFAULT:
            return progress
        return self.jobs[0].client.progress if self.jobs else None

    # -- what came out ------------------------------------------------------------------------
    def outcome(self, job: Any) -> Outcome:
        """The outcome of ``job`` (a job of this group)."""
        for o in self.outcomes:
            if o.job is job:
                return o
        raise InvalidArgument(f"{job!r} is not in this group")

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes of the jobs that did not finish well (failed, cancelled, timed out...)."""
        return [o for o in self.outcomes if o.state not in ("done", "pending")]

    @property
    def succeeded(self) -> JobGroup:
        """The jobs that finished, as a group."""
        return JobGroup(o.job for o in self.outcomes if o.ok)

    @property
    def reattach(self) -> str:
        """One line of code that waits for all these jobs again."""
        return reattach_all(self.jobs)

    def status(self) -> list[Any]:
        """Every job's status now (one request each, through each client's rate limiter)."""
        return [job.status() for job in self.jobs]

    def cancel(self) -> None:
        """Ask the vendors to cancel every job that has not finished."""
        for job in self.jobs:
            if job.last_status is None or not job.last_status.state.final:
                job.cancel()

    def __repr__(self) -> str:
        states = ", ".join(f"{n} {s}" for s, n in _count(o.state for o in self.outcomes).items())
        return f"<JobGroup of {len(self.jobs)} jobs: {states}>"


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def group(jobs: Iterable[Any]) -> JobGroup:
    """``JobGroup(jobs)``."""
    return jobs if isinstance(jobs, JobGroup) else JobGroup(jobs)


def wait_all(jobs: Iterable[Any], timeout: float | None = WAIT_TIMEOUT, **kw: Any) -> Any:
    """Wait for every job, with one display (a row per job, an overall bar).

    Takes the arguments of :meth:`JobGroup.wait` and returns the :class:`JobGroup`.

    Example::

        group = dataferry.wait_all(jobs, timeout=3600, raise_on_failure=False)
        [o for o in group.outcomes if not o.ok]
    """
    return group(jobs).wait(timeout, **kw)


def as_completed(jobs: Iterable[Any], timeout: float | None = WAIT_TIMEOUT, **kw: Any) -> Generator[Any, None, None]:
    """The jobs as they finish, in finish order, with one display.

    With ``raise_on_failure=True`` (the default) the jobs that failed are not yielded, and
    :class:`GroupFailed` is raised once every wait has ended; with ``False`` every job is
    yielded when its wait ends, whatever its outcome. Leaving the loop early stops the other
    waits (the jobs go on). Takes the arguments of :meth:`JobGroup.as_completed`.

    Example::

        for job in dataferry.as_completed(jobs):
            frames.append(job.to_pandas())
    """
    return group(jobs).as_completed(timeout, **kw)
