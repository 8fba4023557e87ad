"""The errors only Algolia runs raise; all of them sit under dataferry's root::

    JobFailed
    └── RunFailed      a task run finished with outcome "failure" (.events: its failed events)

Every other Algolia error answer is one of the shared :class:`~dataferry.errors.ApiError`
classes (a 403 "Invalid Application-ID or API key" is an ``AuthenticationError``).
"""

from __future__ import annotations

import json
from typing import Any

from dataferry.errors import JobError, JobFailed

FAILED_EVENTS_SHOWN = 3
"""Failed / critical events listed in the :class:`RunFailed` message."""


class RunFailed(JobFailed):
    """A task run finished with ``outcome: failure``.

    Attributes:
        vendor_message: Algolia's ``reason``, verbatim (else the ``reasonCode``).
        reason: the run's ``reason``.
        reason_code: the run's ``reasonCode`` (``critical``, ``too_many_errors``...).
        events: the failed and critical events (up to :data:`FAILED_EVENTS_KEPT`, oldest first).
        events_total: how many failed / critical events the run has.
        failure_threshold: the task's ``failureThreshold`` (percent), when known.
        task_id: the task that ran.
        run: the run as Algolia last described it.

    Example::

        try:
            ing.run_task(task_id).wait()
        except algolia.RunFailed as exc:
            print(exc.reason_code, len(exc.events))
    """

    hint = "list the failed events: run.events(status=['failed', 'critical']).to_pandas()"

    def __init__(self, vendor_message: str, **kw: Any) -> None:
        status = kw.get("status")
        detail = getattr(status, "detail", None) or {}
        run = detail.get("run") or {}
        self.run: dict[str, Any] = run
        self.reason: str | None = run.get("reason")
        self.reason_code: str | None = run.get("reasonCode")
        self.task_id: str | None = run.get("taskID")
        self.events: list[dict[str, Any]] = list(detail.get("failedEvents") or [])
        self.events_total: int = int(detail.get("failedEventsTotal") or len(self.events))
        self.failure_threshold: int | None = detail.get("failureThreshold")
        super().__init__(vendor_message, **kw)
        facts = []
        if self.reason_code:
            facts.append(f"reasonCode {self.reason_code}")
        facts.append(f"{self.events_total} failed/critical event{'s' if self.events_total != 1 else ''}")
        if self.failure_threshold is not None:
            facts.append(f"task failureThreshold {self.failure_threshold}%")
        lines = [f"algolia run {self.job_id} failed: {vendor_message} ({'; '.join(facts)})"]
        lines += [f"  - {describe_event(e)}" for e in self.events[:FAILED_EVENTS_SHOWN]]
        if self.events_total > FAILED_EVENTS_SHOWN:
            lines.append(f"  … and {self.events_total - FAILED_EVENTS_SHOWN} more")
        JobError.__init__(
            self, "\n".join(lines), vendor=self.vendor, job_id=self.job_id, status=status, hint=kw.get("hint")
        )


def describe_event(event: dict[str, Any]) -> str:
    """One line for an event: when, type, status, batch size and its message.

    Example:
        >>> describe_event(
        ...     {
        ...         "type": "record",
        ...         "status": "failed",
        ...         "batchSize": 10,
        ...         "publishedAt": "2024-07-18T10:00:00Z",
        ...         "data": {"message": "too big"},
        ...     }
        ... )
        '2024-07-18T10:00:00Z record failed (10 records): too big'
    """
    text = f"{event.get('publishedAt', '?')} {event.get('type', '?')} {event.get('status', '?')}"
    if event.get("batchSize"):
        text += f" ({event['batchSize']} records)"
    data = event.get("data")
    if isinstance(data, dict) and data:
        said = data.get("message") or data.get("error") or json.dumps(data, ensure_ascii=False)
        text += f": {str(said)[:160]}"
    return text
