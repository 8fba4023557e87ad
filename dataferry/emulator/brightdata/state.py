"""What the Bright Data emulator holds: snapshots, deliveries and collector batches (each moving
on with time), the stores every handler shares, and the helpers that name and seed them."""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.brightdata.data import COLLECTORS, DATASETS, CollectorInfo, DatasetInfo
from dataferry.emulator.data import FileCache, RecordSource

HISTORY_RECORDS = 40
"""Records of each snapshot in a dataset's seeded history."""


@dataclass
class Snapshot:
    """A triggered (or seeded) snapshot of a dataset."""

    id: str
    dataset_id: str
    created: float
    inputs: list[dict[str, Any]] | None
    params: dict[str, str]
    source: RecordSource
    start_after: float
    ready_after: float
    fail_message: str | None = None
    cancelled: bool = False
    expired: bool = False
    trigger_type: str = "API"
    output_fields: list[str] | None = None

    def status(self, now: float) -> str:
        age = now - self.created
        if self.cancelled:
            return "canceled"
        if age < self.start_after:
            return "starting"
        if age < self.ready_after:
            return "running"
        return "failed" if self.fail_message else "ready"

    def ready_at(self) -> float:
        return self.created + self.ready_after


@dataclass
class Delivery:
    """A snapshot's delivery to storage."""

    id: str
    snapshot_id: str
    created: float
    done_after: float
    fail: bool
    files: list[str] = field(default_factory=list)

    def status(self, now: float) -> str:
        if now - self.created < self.done_after:
            return "in_progress"
        return "failed" if self.fail else "done"


@dataclass
class CollectionRun:
    """One triggered collector batch and where it is.

    ``started`` is ``None`` while queued; ``ended`` and ``outcome`` (``done``, ``deadline`` or
    ``cancelled``) are set once it is over.
    """

    id: str
    collector_id: str
    created: float
    inputs: list[dict[str, Any]]
    params: dict[str, str]
    source: RecordSource
    duration: float
    deadline_at: float | None
    no_downloads: bool
    name: str | None = None
    started: float | None = None
    ended: float | None = None
    outcome: str | None = None
    cancelled_by: str | None = None
    expired: bool = False

    @property
    def state(self) -> str:
        """``queued``, ``running``, ``done``, ``deadline`` or ``cancelled``."""
        if self.ended is not None:
            return self.outcome or "done"
        return "queued" if self.started is None else "running"

    def end_time(self) -> tuple[float, str]:
        """When a running batch ends, and how (``done`` or ``deadline``)."""
        assert self.started is not None
        done_at = self.started + self.duration
        if self.deadline_at is not None and self.deadline_at < done_at:
            return self.deadline_at, "deadline"
        return done_at, "done"

    def kept(self) -> int:
        """Records in the finished dataset (fewer when a deadline cut the run short)."""
        total = len(self.source)
        if self.outcome == "done":
            return total
        if self.started is None or self.ended is None or self.duration <= 0:
            return 0
        share = (self.ended - self.started) / self.duration
        return min(total, math.floor(round(total * share, 3)))  # rounding absorbs float error on epoch times


class BrightDataState(EmulatorApp):
    """The state every Bright Data handler shares (see :class:`~dataferry.emulator.brightdata.BrightDataEmulator`,
    which sets the settings).

    Attributes:
        datasets: dataset id → :class:`~dataferry.emulator.brightdata.data.DatasetInfo`.
        snapshots: snapshot id → :class:`Snapshot`.
        deliveries: delivery id → :class:`Delivery`.
        collectors: collector id → :class:`~dataferry.emulator.brightdata.data.CollectorInfo`.
        collections: collection id → :class:`CollectionRun`.
        files: the generated files, cached in the data directory.
    """

    vendor = "brightdata"

    # settings (see BrightDataEmulator)
    token: str
    start_after: float
    ready_after: float
    building_after_ready: float
    records_per_input: int
    total_records: int | None
    jobs_limit: int
    single_file_limit: int
    delivery_after: float
    fixed_seed: int | None
    collect_after: float
    deadline_scale: float

    def __init__(self, *, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.datasets: dict[str, DatasetInfo] = {d.id: d for d in DATASETS}
        self.snapshots: dict[str, Snapshot] = {}
        self.failed_so_far: dict[str, int] = {}  # emulator_fail_first: failures handed out per message
        self.deliveries: dict[str, Delivery] = {}
        self.collectors: dict[str, CollectorInfo] = {c.id: c for c in COLLECTORS}
        self.collections: dict[str, CollectionRun] = {}
        self._dca_running: dict[str, str | None] = {}
        self._dca_pending: dict[str, list[str]] = {}
        self.files = FileCache(self.data_dir)
        self._rng = random.Random(seed)
        self._counter = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        """A fresh id in Bright Data's style (``s_…``, ``d_…``, ``j_…``)."""
        ms = int(time.time() * 1000)
        tail = "".join(self._rng.choice(string.ascii_lowercase + string.digits) for _ in range(9))
        return f"{prefix}{_b36(ms)}{tail}{_b36(next(self._counter))}"

    def expire(self, snapshot_id: str) -> None:
        """Make a snapshot's data expired (as after 16 days)."""
        self.snapshots[snapshot_id].expired = True

    def records(self, snapshot_id: str) -> list[dict[str, Any]]:
        """The snapshot's records exactly as the JSON formats serve them (tests compare)."""
        snap = self.snapshots[snapshot_id]
        return [r for piece in snap.source.pieces() for r in self._select(snap, piece).to_pylist()]

    def seed_history(self, dataset: DatasetInfo, k: int) -> None:
        """Add the ``k``-th past snapshot of ``dataset`` (triggered from the control panel)."""
        sid = f"s_hist{dataset.id[-6:]}{k:03d}"
        created = self.now() - 86400 * (k + 1)
        inputs = [{"url": f"https://example.com/history/{k}"}]
        source = RecordSource(dataset.kind, seed_of(sid), HISTORY_RECORDS, inputs)
        self.snapshots[sid] = Snapshot(
            sid,
            dataset.id,
            created,
            None,
            {},
            source,
            0,
            0,
            fail_message="Failed to trigger collector" if k % 2 else None,
            trigger_type="CP",
        )

    def _get(self, sid: str) -> Snapshot | None:
        return self.snapshots.get(sid)

    def _running(self, dataset_id: str, now: float) -> int:
        return sum(
            1
            for s in self.snapshots.values()
            if s.dataset_id == dataset_id and s.status(now) in ("starting", "running")
        )

    def _select(self, snap: Snapshot, table: Any) -> Any:
        """``table`` cut to the snapshot's ``custom_output_fields`` (their top-level columns)."""
        if not snap.output_fields:
            return table
        keep = []
        for f in snap.output_fields:
            top = f.split(".", 1)[0]
            if top in table.column_names and top not in keep:
                keep.append(top)
        return table.select(keep)

    def _per_input(self, inputs: list[dict[str, Any]]) -> int:
        """Records per input: ``emulator_records`` of the first input that has it, else the setting."""
        overrides = [int(i["emulator_records"]) for i in inputs if "emulator_records" in i]
        return overrides[0] if overrides else self.records_per_input


def echoed(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inputs as the records echo them (the emulator's own controls left out)."""
    return [{k: v for k, v in i.items() if not k.startswith("emulator_")} for i in inputs]


def flag(value: str | None) -> bool:
    """A query flag: ``1``, ``true``, ``yes`` or ``on``."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def seed_of(text: str) -> int:
    """A data seed drawn from an id (the same id, the same records)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def iso(ts: float) -> str:
    """Epoch seconds → ``2026-11-01T00:00:07.123Z``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def _b36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"
