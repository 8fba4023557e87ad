"""Triggering many Bright Data collections without tripping "too many running jobs".

Bright Data answers 429 "You have too many running jobs for this dataset" when a fan-out
exceeds the account's limit, and blacklists an IP that collects 25 such answers within five
minutes. :func:`trigger_many` triggers a list of input batches in order; when the answer is
that 429 it does not hammer the endpoint: it waits until one of the snapshots it already
triggered finishes (through the one wait loop, :func:`dataferry.as_completed`), then tries the
next batch again; with none of its own running it backs off as Bright Data asks (from 2 s,
doubling). A 429 created nothing, so trying again can never double a paid collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dataferry.constants import RETRY_BASE_DELAY, RETRY_MAX_DELAY, WAIT_TIMEOUT
from dataferry.errors import RateLimited, WaitTimeout
from dataferry.groups import JobGroup, as_completed
from dataferry.providers.brightdata.errors import TriggerTimeout
from dataferry.status import JobState
from dataferry.stopping import stoppable

RUNNING_JOBS = "too many running jobs"
"""What Bright Data's 429 says when the account's running-jobs limit is reached."""


def trigger_many(
    client: Any, dataset_id: str, batches: Sequence[Any], *, timeout: float | None = WAIT_TIMEOUT, **options: Any
) -> JobGroup:
    """Trigger one collection per input batch, queueing the rest while the account is busy.

    Args:
        client: a :class:`~dataferry.providers.brightdata.Client`.
        dataset_id: ``gd_…``.
        batches: the inputs of each collection (each a list of dicts, a DataFrame or a CSV path).
        timeout: seconds for triggering them all (``None``: no deadline).
        **options: passed to ``client.trigger`` (``include_errors``, ``batch_size``...).

    Returns:
        The snapshots, in batch order, as a :class:`~dataferry.groups.JobGroup` (``.wait()``).

    Raises:
        TriggerTimeout: the deadline passed; ``.triggered`` and ``.left`` say where it stopped.
        RateLimited: a 429 that is not about running jobs, after the client's own retries.

    Example::

        from dataferry.providers.brightdata.many import trigger_many

        group = trigger_many(bd, "gd_l1viktl72bvl7bjuj0", [[{"keyword": k}] for k in keywords])
        df = group.wait().to_pandas(source_column="job_id")
    """
    clock = client.clock
    deadline = None if timeout is None else clock.monotonic() + timeout
    options.setdefault("busy_wait", 0.0)  # a "too many running jobs" answer comes back here at once
    snaps: list[Any] = []
    delay = RETRY_BASE_DELAY
    for n, batch in enumerate(batches):
        while True:
            try:
                snaps.append(client.trigger(dataset_id, batch, **options))
                delay = RETRY_BASE_DELAY
                break
            except RateLimited as exc:
                if RUNNING_JOBS not in str(exc.vendor_message).lower():
                    raise
                left = None if deadline is None else deadline - clock.monotonic()
                if left is not None and left <= 0:
                    raise TriggerTimeout(
                        f"brightdata: {len(snaps)} of {len(batches)} collections triggered when the deadline passed; "
                        f"the account still has too many running jobs for {dataset_id}",
                        triggered=JobGroup(snaps),
                        left=list(batches[n:]),
                        hint="wait for the triggered ones (error.triggered.wait()), then trigger error.left",
                    ) from None
                running = [
                    s
                    for s in snaps
                    if s.last_status is None or s.last_status.state in (JobState.QUEUED, JobState.RUNNING)
                ]
                if running:  # wait for one of ours to end, then try again
                    finished = as_completed(running, timeout=left, progress="off", raise_on_failure=False)
                    try:
                        next(finished, None)
                    except WaitTimeout:
                        pass
                    finally:
                        finished.close()
                else:  # someone else's jobs: back off as Bright Data asks
                    wait = min(exc.retry_after or delay, RETRY_MAX_DELAY, left if left is not None else delay)
                    stoppable(clock).sleep(wait)
                    delay = min(delay * 2, RETRY_MAX_DELAY)
    return JobGroup(snaps)
