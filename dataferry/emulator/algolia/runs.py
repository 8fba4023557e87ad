"""Emulated task runs: a timeline of events planned when the run is created and revealed as
time passes, so that a run moves ``created`` → ``started`` → ``finished`` on its own.

What a run does is decided by its source, so that a notebook can ask for a failure over
plain HTTP:

* a source whose URL or name contains ``critical`` cannot be fetched: a ``critical`` fetch
  event, then ``outcome: failure`` with ``reasonCode: critical``;
* ``errors=P`` in the URL or name makes P % of the record batches fail; the run fails with
  ``too_many_errors`` when that is above the task's ``failureThreshold`` (0 when unset);
* anything else succeeds.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from dataferry.emulator.algolia.rules import iso
from dataferry.emulator.data import TITLES


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic per emulator seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Timing:
    """How an emulated run unfolds.

    Attributes:
        start_after: seconds a run stays ``created``.
        event_interval: seconds between two events.
        records: records a source yields per run.
        batch_size: records per ``record`` event.
    """

    start_after: float = 0.5
    event_interval: float = 0.15
    records: int = 250
    batch_size: int = 25


@dataclass
class PlannedEvent:
    """One event of a run, published ``offset`` seconds after the run was created."""

    event_id: str
    offset: float
    status: str
    type: str
    batch_size: int
    data: dict[str, Any] | None = None


@dataclass
class EmulatedRun:
    """A run and everything it will do."""

    run_id: str
    app_id: str
    task_id: str
    run_type: str
    created: float
    start_offset: float
    finish_offset: float
    events: list[PlannedEvent] = field(default_factory=list)
    outcome: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    failure_threshold: int | None = None
    skipped: bool = False
    settled: bool = False

    def status(self, now: float) -> str:
        """``created``, ``started``, ``finished`` or ``skipped`` at ``now``."""
        if self.skipped:
            return "skipped"
        age = now - self.created
        if age < self.start_offset:
            return "created"
        return "started" if age < self.finish_offset else "finished"

    @property
    def finished_at(self) -> float:
        """When the run finishes (or was skipped)."""
        return self.created if self.skipped else self.created + self.finish_offset

    def view(self, now: float) -> dict[str, Any]:
        """The run as ``GET /1/runs/{runID}`` shows it at ``now``."""
        status = self.status(now)
        body: dict[str, Any] = {
            "runID": self.run_id,
            "appID": self.app_id,
            "taskID": self.task_id,
            "status": status,
            "type": self.run_type,
            "createdAt": iso(self.created),
        }
        if self.failure_threshold is not None:
            body["failureThreshold"] = self.failure_threshold
        if status == "skipped":
            body.update(reason=self.reason, reasonCode=self.reason_code, finishedAt=iso(self.created))
            return body
        if status == "created":
            return body
        body["startedAt"] = iso(self.created + self.start_offset)
        body["progress"] = {"expectedNbOfEvents": len(self.events), "receivedNbOfEvents": len(self.published(now))}
        if status == "started":
            return body  # no outcome yet: today's RunOutcome has no "processing"
        body.update(outcome=self.outcome, reasonCode=self.reason_code, finishedAt=iso(self.finished_at))
        if self.reason:
            body["reason"] = self.reason
        return body

    def published(self, now: float) -> list[PlannedEvent]:
        """The events published by ``now``."""
        age = now - self.created
        return [e for e in self.events if e.offset <= age]

    def event_view(self, event: PlannedEvent) -> dict[str, Any]:
        """An event as the API shows it."""
        body: dict[str, Any] = {
            "eventID": event.event_id,
            "runID": self.run_id,
            "status": event.status,
            "type": event.type,
            "batchSize": event.batch_size,
            "publishedAt": iso(self.created + event.offset),
        }
        if event.data is not None:
            body["data"] = event.data
        return body


def _controls(source: dict[str, Any]) -> tuple[bool, int]:
    text = f"{source.get('name', '')} {(source.get('input') or {}).get('url', '')}"
    found = re.search(r"errors=(\d{1,3})", text)
    return "critical" in text.lower(), min(100, int(found.group(1))) if found else 0


def _where(source: dict[str, Any]) -> str:
    url = (source.get("input") or {}).get("url")
    return url or f"{source.get('type')} source {source.get('name')!r}"


def plan_run(
    rng: random.Random,
    *,
    run_id: str,
    app_id: str,
    created: float,
    task: dict[str, Any],
    source: dict[str, Any],
    timing: Timing,
) -> EmulatedRun:
    """Plan every event of a new run of ``task`` reading ``source``."""
    critical, error_pct = _controls(source)
    threshold = task.get("failureThreshold")
    run = EmulatedRun(
        run_id,
        app_id,
        task["taskID"],
        "reindex" if task.get("action") == "replace" else "update",
        created,
        timing.start_after,
        0.0,
        failure_threshold=threshold,
    )
    step = timing.event_interval
    at = timing.start_after
    run.events.append(PlannedEvent(new_uuid(rng), at, "started", "fetch", 0, {"message": f"fetching {_where(source)}"}))
    at += step
    if critical:
        run.events.append(
            PlannedEvent(new_uuid(rng), at, "critical", "fetch", 0, {"message": f"GET {_where(source)}: 404 Not Found"})
        )
        run.finish_offset = at + step
        run.outcome, run.reason_code = "failure", "critical"
        run.reason = "The source could not be fetched: 404 Not Found"
        return run
    total = max(0, timing.records)
    run.events.append(PlannedEvent(new_uuid(rng), at, "succeeded", "fetch", 0, {"message": f"fetched {total} records"}))
    failed_records = 0
    batch = max(1, timing.batch_size)
    for n, first in enumerate(range(0, total, batch)):
        at += step
        size = min(batch, total - first)
        failed = (n * error_pct) % 100 < error_pct
        data: dict[str, Any]
        if failed:
            failed_records += size
            pos = n % size
            data = {
                "message": f"Record at the position {pos} objectID=sku-{first + 1 + pos:05d} is too big "
                f"size={120_000 + 37 * (first + pos)}/100000 bytes"
            }
        else:
            data = {
                "message": f"indexed {size} records",
                "sample": TITLES[n % len(TITLES)],
                "objectIDs": [f"sku-{k:05d}" for k in range(first + 1, first + 1 + min(3, size))],
            }
        run.events.append(PlannedEvent(new_uuid(rng), at, "failed" if failed else "succeeded", "record", size, data))
    at += step
    run.events.append(
        PlannedEvent(
            new_uuid(rng),
            at,
            "succeeded",
            "log",
            0,
            {"message": f"indexed {total - failed_records} records, {failed_records} failed"},
        )
    )
    run.finish_offset = at + step
    pct = 100.0 * failed_records / total if total else 0.0
    limit = threshold if isinstance(threshold, int) else 0
    if pct > limit:
        run.outcome, run.reason_code = "failure", "too_many_errors"
        run.reason = f"{pct:.0f}% of the records failed, above the task's failureThreshold of {limit}%"
    else:
        run.outcome, run.reason_code = "success", "ok"
    return run


def skipped_run(
    *, run_id: str, app_id: str, created: float, task: dict[str, Any], reason: str, reason_code: str
) -> EmulatedRun:
    """A run that is not carried out (the task is disabled, or already running)."""
    run = EmulatedRun(
        run_id,
        app_id,
        task["taskID"],
        "reindex" if task.get("action") == "replace" else "update",
        created,
        0.0,
        0.0,
        failure_threshold=task.get("failureThreshold"),
        skipped=True,
    )
    run.reason, run.reason_code = reason, reason_code
    return run
