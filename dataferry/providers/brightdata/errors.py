"""The errors only Bright Data raises; all of them sit under dataferry's root::

    BadRequest
    ├── SnapshotNotReady     "Snapshot is not ready"
    ├── SnapshotExpired      "Snapshot is expired"
    ├── SnapshotEmpty        "Snapshot is empty"
    └── SnapshotTooBig       "too big for single file delivery"

A failed snapshot or collector batch raises the shared :class:`~dataferry.errors.JobFailed`.
"""

from __future__ import annotations

from dataferry.errors import BadRequest


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
