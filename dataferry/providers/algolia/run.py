"""A task run: the handle ``ing.run_task(task_id)`` returns, waited for on the shared engine.

Statuses map onto the engine's states:

| status | state |
|---|---|
| ``created``, ``started``, ``idled`` | running; progress = ``receivedNbOfEvents / expectedNbOfEvents`` |
| ``finished`` + outcome ``success`` | done (:attr:`Run.outcome` is :attr:`Outcome.SUCCESS`) |
| ``finished`` + outcome ``failure`` | :class:`RunFailed` with ``reason``, ``reasonCode`` and the failed events |
| ``finished`` + anything else | running (``processing``: the outcome is being decided) |
| ``skipped`` | finished without running: ``wait()`` returns, ``outcome`` is ``SKIPPED``, ``done`` is ``False`` |
| any other status | running (the set of statuses is open) |
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from dataferry.errors import ApiError, TransportError
from dataferry.job import Job
from dataferry.listing import Listing
from dataferry.providers.algolia.errors import RunFailed
from dataferry.providers.algolia.params import PAGE_SIZE
from dataferry.status import JobState, JobStatus, state_from
from dataferry.wait import PollPolicy

if TYPE_CHECKING:
    from dataferry.providers.algolia.client import Client

RUN_STATES = {
    "created": JobState.RUNNING,
    "started": JobState.RUNNING,
    "idled": JobState.RUNNING,
    "skipped": JobState.DONE,
}
"""Run statuses other than ``finished`` (decided by the outcome); unknown ones mean running."""

FAILED_EVENT_STATUSES = ("failed", "critical")
"""Event statuses collected into :class:`RunFailed`."""

RUN_POLLS = PollPolicy(initial=1.0, growth=1.5, maximum=10.0)
"""How often a run is polled: from 1 s, growing to 10 s (never faster than the
observability rate limit allows)."""

LATEST_EVENTS = 5
"""Events fetched (newest first) for the progress message when the event count moved."""

FAILED_EVENTS_KEPT = 100
"""Failed / critical events fetched into :class:`RunFailed` (``events_total`` has the count)."""


class Outcome(str, enum.Enum):
    """How a finished run ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    SKIPPED = "skipped"
    """The run was not carried out (e.g. another run of the task was in progress)."""


def fraction(progress: Any) -> float | None:
    """``receivedNbOfEvents / expectedNbOfEvents`` in ``[0, 1]``, or ``None`` when unknown.

    Example:
        >>> fraction({"expectedNbOfEvents": 40, "receivedNbOfEvents": 10})
        0.25
        >>> fraction({"expectedNbOfEvents": 0, "receivedNbOfEvents": 0}) is None
        True
    """
    if not isinstance(progress, dict):
        return None
    expected, received = progress.get("expectedNbOfEvents"), progress.get("receivedNbOfEvents")
    if not isinstance(expected, int) or not isinstance(received, int) or expected <= 0:
        return None
    return max(0.0, min(1.0, received / expected))


class Run(Job):
    """One run of an ingestion task.

    Args:
        client: the :class:`~dataferry.providers.algolia.client.Client`.
        run_id: the run's UUID.
        task_id: the task it runs, when known.
        created_at: when it was created (RFC 3339), when known; the default start of the
            events window.
        triggered: created by this process (a 404 right after is forgiven briefly).

    Attributes:
        info: the run as Algolia last described it (``status``, ``progress``, ``outcome``...).
        latest_events: the newest events seen while waiting (newest first).
        failure_threshold: the task's ``failureThreshold`` in percent, once known.

    Example::

        run = ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f")
        run.wait()
        run.events(status=["failed", "critical"]).to_pandas()
    """

    kind = "run"
    client: Client
    status_family = "observability"
    failure = RunFailed
    poll_policy = RUN_POLLS

    def __init__(
        self,
        client: Any,
        run_id: str,
        *,
        task_id: str | None = None,
        created_at: str | None = None,
        triggered: bool = False,
    ) -> None:
        super().__init__(client, run_id, triggered=triggered)
        self.task_id = task_id
        self.created_at = created_at
        self.info: dict[str, Any] = {}
        self.latest_events: list[dict[str, Any]] = []
        self.failure_threshold: int | None = None
        self._threshold_known = False
        self._seen: tuple[Any, ...] | None = None

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.run({self.id!r})"

    # -- engine hook --------------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        run = self.client.http.get_json(f"/1/runs/{self.id}", family="observability", job_id=self.id)
        if not isinstance(run, dict):
            run = {}
        self.info = run
        self.task_id = run.get("taskID") or self.task_id
        self.created_at = run.get("createdAt") or self.created_at
        self._learn_threshold(run)
        raw = str(run.get("status", ""))
        progress = run.get("progress")
        seen = (raw, (progress or {}).get("receivedNbOfEvents") if isinstance(progress, dict) else None)
        if seen != self._seen:
            self._seen = seen
            self.latest_events = self._events_page(sort="publishedAt", order="desc", size=LATEST_EVENTS)[0]
        detail: dict[str, Any] = {"run": run, "failureThreshold": self.failure_threshold}
        summary = self._summary(progress)
        if raw == "finished":
            outcome = run.get("outcome")
            if outcome == "success":
                return JobStatus(
                    JobState.DONE, raw, f"success; {summary}" if summary else "success", 1.0, detail=detail
                )
            if outcome == "failure":
                failed, total = self._events_page(
                    status=",".join(FAILED_EVENT_STATUSES), sort="publishedAt", order="asc", size=FAILED_EVENTS_KEPT
                )
                detail.update(failedEvents=failed, failedEventsTotal=total)
                said = run.get("reason") or run.get("reasonCode") or "failure"
                return JobStatus(JobState.FAILED, raw, str(said), fraction(progress), detail=detail)
            message = f"outcome {outcome or 'pending'}" + (f"; {summary}" if summary else "")
            return JobStatus(JobState.RUNNING, raw, message, fraction(progress), detail=detail)
        state = state_from(raw, RUN_STATES)
        if raw == "skipped":
            why = run.get("reason") or run.get("reasonCode") or "the run was skipped"
            return JobStatus(state, raw, f"skipped: {why}", detail=detail)
        return JobStatus(state, raw, summary or None, fraction(progress), detail=detail)

    # -- public -------------------------------------------------------------------------------
    @property
    def outcome(self) -> Outcome | None:
        """How the run ended, or ``None`` while it has not (as of the last status seen)."""
        s = self.last_status
        if s is None or not s.finished:
            return None
        if s.raw == "skipped":
            return Outcome.SKIPPED
        return Outcome.SUCCESS if s.state is JobState.DONE else Outcome.FAILURE

    @property
    def done(self) -> bool:
        """Whether the run finished with ``outcome: success`` (a skipped run is not done)."""
        return self.outcome is Outcome.SUCCESS

    @property
    def skipped(self) -> bool:
        """Whether Algolia skipped the run."""
        return self.outcome is Outcome.SKIPPED

    def get(self) -> dict[str, Any]:
        """The run as Algolia describes it now (``GET /1/runs/{runID}``; also updates :meth:`status`)."""
        self.status()
        return dict(self.info)

    def events(
        self,
        *,
        status: Any = None,
        type: Any = None,
        start_date: Any = None,
        end_date: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """The run's events, every page (``GET /1/runs/{runID}/events``).

        Args:
            status: ``created|started|retried|failed|succeeded|critical`` or a list of them.
            type: ``fetch|record|log|transform`` or a list of them.
            start_date, end_date: the window on ``publishedAt``; ``start_date`` defaults to
                the run's creation (Algolia's own default is only the last 3 hours).
            sort: ``status``, ``type`` or ``publishedAt``; order: ``asc`` / ``desc``.
            page_size: events per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`; ``.to_pandas()``.
        """
        if start_date is None:
            start_date = self._window_start()
        return self.client.events(
            self.id,
            status=status,
            type=type,
            start_date=start_date,
            end_date=end_date,
            sort=sort,
            order=order,
            page_size=page_size,
        )

    def get_event(self, event_id: str) -> dict[str, Any]:
        """One event of the run (``GET /1/runs/{runID}/events/{eventID}``)."""
        return self.client.get_event(self.id, event_id)

    def to_pandas(self) -> Any:
        """The run's events as a DataFrame (every page, from the run's creation; see :meth:`events`).

        Example::

            ing.run_task(task_id).wait().to_pandas()
        """
        return self.events().to_pandas()

    # -- internals ---------------------------------------------------------------------------
    def _window_start(self) -> str | None:
        if self.created_at is None:
            self.status()
        return self.created_at

    def _events_page(
        self, *, sort: str, order: str, size: int, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        params: dict[str, Any] = {"page": 1, "itemsPerPage": size, "sort": sort, "order": order}
        if status:
            params["status"] = status
        if self.created_at:
            params["startDate"] = self.created_at
        answer = self.client.http.get_json(
            f"/1/runs/{self.id}/events", params=params, family="observability", job_id=self.id
        )
        events = answer.get("events") if isinstance(answer, dict) else None
        events = events if isinstance(events, list) else []
        total = (answer.get("pagination") or {}).get("nbItems", len(events)) if isinstance(answer, dict) else 0
        return events, int(total or 0)

    def _learn_threshold(self, run: dict[str, Any]) -> None:
        if isinstance(run.get("failureThreshold"), int):
            self.failure_threshold = run["failureThreshold"]
            self._threshold_known = True
            return
        if self._threshold_known or not self.task_id:
            return
        try:
            task = self.client.http.get_json(f"/1/tasks/{self.task_id}", job_id=self.id)
        except ApiError:
            self._threshold_known = True  # the task may be gone: the threshold stays unknown
            return
        except TransportError:
            return  # asked again at the next poll
        self._threshold_known = True
        if isinstance(task, dict) and isinstance(task.get("failureThreshold"), int):
            self.failure_threshold = task["failureThreshold"]

    def _summary(self, progress: Any) -> str:
        parts = []
        if isinstance(progress, dict):
            expected, received = progress.get("expectedNbOfEvents"), progress.get("receivedNbOfEvents")
            if isinstance(expected, int) and expected > 0:
                parts.append(f"{received or 0}/{expected} events")
            elif isinstance(received, int):
                parts.append(f"{received} events")
        if self.latest_events:
            newest = self.latest_events[0]
            text = f"latest: {newest.get('type', '?')} {newest.get('status', '?')}"
            if newest.get("batchSize"):
                text += f" ({newest['batchSize']} records)"
            parts.append(text)
            bad = sum(1 for e in self.latest_events if e.get("status") in FAILED_EVENT_STATUSES)
            if bad:
                parts.append(f"{bad} of the last {len(self.latest_events)} events failed")
        if self.failure_threshold is not None:
            parts.append(f"failure threshold {self.failure_threshold}%")
        return "; ".join(parts)
