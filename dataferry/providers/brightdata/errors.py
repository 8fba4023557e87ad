"""The errors only Bright Data raises; all of them sit under dataferry's root::

    BadRequest
    ├── SnapshotNotReady     "Snapshot is not ready"
    ├── SnapshotExpired      "Snapshot is expired"
    ├── SnapshotEmpty        "Snapshot is empty"
    └── SnapshotTooBig       "too big for single file delivery"
    WaitTimeout
    └── TriggerTimeout       trigger_many's deadline passed with batches left

A failed snapshot or collector batch raises the shared :class:`~dataferry.errors.JobFailed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dataferry.errors import BadRequest, WaitTimeout

if TYPE_CHECKING:
    from dataferry.groups import JobGroup


class SnapshotNotReady(BadRequest):
    """Bright Data: the snapshot is not ready for this operation yet."""

    hint = "wait for the snapshot first: snap.wait()"


class SnapshotExpired(BadRequest):
    """Bright Data: the snapshot's data is no longer kept (16 days)."""

    hint = "trigger the collection again; expired snapshots cannot be downloaded"


class SnapshotEmpty(BadRequest):
    """Bright Data: the snapshot finished with no records."""

    hint = "the collection produced no records; check the inputs (snap.input())"


class SnapshotTooBig(BadRequest):
    """Bright Data: the snapshot is too big to deliver as a single file."""

    hint = "pass batch_size= to split the delivery into several files"


class TriggerTimeout(WaitTimeout):
    """The deadline passed before every batch could be triggered.

    Attributes:
        triggered: the snapshots triggered so far (a :class:`~dataferry.groups.JobGroup`).
        left: the input batches not triggered, in order.
    """

    def __init__(self, message: str, *, triggered: JobGroup, left: list[Any], hint: str | None = None) -> None:
        self.triggered = triggered
        self.left = left
        super().__init__(message, vendor="brightdata", hint=hint)
