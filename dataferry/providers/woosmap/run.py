"""A Woosmap import run: the waitable job behind ``GET /datasets/{id}/status``, its steps
(``fetch``, ``import``) and their log entries."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from dataferry.job import Job
from dataferry.providers.woosmap.errors import ImportFailed, NoImportRun, entries_of
from dataferry.status import JobState, JobStatus, state_from
from dataferry.wait import in_not_found_grace

RUN_STATES = {
    "in_progress": JobState.RUNNING,
    "success": JobState.DONE,
    "failed": JobState.FAILED,
}
"""The run's ``status``; any other value counts as still running."""

STEPS = ("fetch", "import")
"""The steps of a run, in order; the progress fraction is the share of them finished."""

COLUMNS = ["step", "step_status", "step_start", "step_end", "step_seconds", "created_at", "level", "detail"]
"""Columns of :meth:`ImportRun.to_pandas`: one row per log entry, with its step's columns (a
step without entries has one row whose entry columns are empty)."""

STALE_RAW = "queued"
"""The raw status shown while the status endpoint still shows the run before ours."""


class ImportRun(Job):
    """The latest import run of a dataset, as ``GET /datasets/{id}/status`` shows it.

    Its id is the dataset's id (the status endpoint is per dataset); :attr:`run_id` is the
    run's own id. Waiting polls at most once per 5 s (Woosmap's limit for this endpoint).

    Args:
        client: the :class:`~dataferry.providers.woosmap.client.Client`.
        dataset_id: the dataset.
        triggered: created by an import request of this process (a 404 right after is forgiven
            briefly: the run is not visible yet).
        previous_run_id: the run shown before the import was requested; while the status still
            shows it, the new run counts as queued.
        not_before: epoch seconds (server time, from the ``Date`` header of the hook's answer)
            before which the new run cannot have started; a run that started earlier is the
            previous one. The header counts whole seconds, so a previous run started in the
            same second as that answer cannot be told apart; ``previous_run_id`` has no such gap.

    Example::

        run = wm.dataset("8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0").import_()
        run.wait().to_pandas()
    """

    kind = "import"
    status_family = "status"
    failure = ImportFailed

    def __init__(
        self,
        client: Any,
        dataset_id: str,
        *,
        triggered: bool = False,
        previous_run_id: str | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__(client, dataset_id, triggered=triggered)
        self.previous_run_id = previous_run_id
        self.not_before = not_before
        self.run_id: str | None = None
        self.body: dict[str, Any] | None = None

    @property
    def dataset_id(self) -> str:
        """The dataset this run imports into."""
        return self.id

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.dataset({self.id!r}).last_import()"

    # -- engine hook --------------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        try:
            answer = self.client.http.get_json(f"/datasets/{self.id}/status", family="status", job_id=self.id)
        except NoImportRun:
            if not in_not_found_grace(self._triggered_at, self.client.clock.monotonic(), self._policy()):
                raise
            return JobStatus(JobState.QUEUED, STALE_RAW, "import requested; its run is not visible yet")
        body = self.client.http.redactor.data(answer) if isinstance(answer, dict) else {}
        if self._is_previous(body):
            return JobStatus(JobState.QUEUED, STALE_RAW, "import requested; waiting for its run to start", detail=body)
        self.previous_run_id = None
        self.not_before = None
        self.body = body
        self.run_id = body.get("id")
        raw = str(body.get("status", ""))
        state = state_from(raw, RUN_STATES)
        steps = body.get("steps") or []
        finished = sum(1 for s in steps if s.get("status") == "success" and s.get("name") in STEPS)
        progress = 1.0 if state is JobState.DONE else min(1.0, finished / len(STEPS))
        return JobStatus(state, raw, _message(steps, failed=state is JobState.FAILED), progress, detail=body)

    def _is_previous(self, body: dict[str, Any]) -> bool:
        if self.previous_run_id is not None:
            return body.get("id") == self.previous_run_id
        if self.not_before is not None:
            started = _epoch((body.get("steps") or [{}])[0].get("start"))
            return started is not None and started < self.not_before
        return False

    # -- what a user inspects -----------------------------------------------------------------
    @property
    def steps(self) -> list[dict[str, Any]]:
        """The run's steps as Woosmap gave them (asks once if no status was read yet)."""
        return list(self._body().get("steps") or [])

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every ``error``-level log entry of the run."""
        return entries_of(self._body(), "error")

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Every ``warning``-level log entry of the run."""
        return entries_of(self._body(), "warning")

    def to_pandas(self) -> Any:
        """The run's log entries as a DataFrame, with their step's columns: ``step``,
        ``step_status``, ``step_start``, ``step_end`` (UTC), ``step_seconds``, then the entry's
        ``created_at`` (UTC), ``level`` and ``detail``. A step without entries has one row.

        Example::

            run.wait().to_pandas().query("level != 'info'")
            run.to_pandas().groupby("step", sort=False)["level"].value_counts()
        """
        import pandas as pd

        rows = []
        for step in self.steps:
            head = {
                "step": step.get("name"),
                "step_status": step.get("status"),
                "step_start": step.get("start"),
                "step_end": step.get("end"),
            }
            entries = step.get("entries") or [{}]
            for entry in entries:
                rows.append(
                    {
                        **head,
                        "created_at": entry.get("created_at"),
                        "level": entry.get("level"),
                        "detail": entry.get("detail"),
                    }
                )
        frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "step_seconds"])
        for column in ("step_start", "step_end", "created_at"):
            frame[column] = _timestamps(frame[column])
        frame.insert(4, "step_seconds", (frame["step_end"] - frame["step_start"]).dt.total_seconds())
        return frame

    def _body(self) -> dict[str, Any]:
        if self.body is None:
            self.status()
        return self.body or {}


def _message(steps: list[dict[str, Any]], *, failed: bool) -> str | None:
    """The current step and its latest entry (for a failure: the failed step's last error)."""
    if not steps:
        return None
    if failed:
        step = next((s for s in reversed(steps) if s.get("status") == "failed"), steps[-1])
        entries = step.get("entries") or []
        entry = next((e for e in reversed(entries) if e.get("level") == "error"), entries[-1] if entries else None)
    else:
        step = next((s for s in steps if s.get("status") == "in_progress"), steps[-1])
        entries = step.get("entries") or []
        entry = entries[-1] if entries else None
    name = step.get("name") or "step"
    return f"{name}: {entry.get('detail')}" if entry else str(name)


def _timestamps(values: Any) -> Any:
    """ISO timestamps as UTC datetimes (the spec's examples carry no zone: read as UTC)."""
    import pandas as pd

    return pd.to_datetime(values, utc=True, format="ISO8601")


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def latest_run_id(http: Any, dataset_id: str) -> str | None:
    """The id of the run the status shows now, ``None`` when the dataset has none (one request)."""
    try:
        body = http.get_json(f"/datasets/{dataset_id}/status", family="status", job_id=dataset_id)
    except NoImportRun:
        return None
    return body.get("id") if isinstance(body, dict) else None


def server_time(date_header: str | None) -> float | None:
    """Epoch seconds from an HTTP ``Date`` header (``None`` when absent or unreadable).

    Example:
        >>> server_time("Mon, 23 Nov 2026 03:12:43 GMT")
        1795403563.0
    """
    if not date_header:
        return None
    try:
        return parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return None
