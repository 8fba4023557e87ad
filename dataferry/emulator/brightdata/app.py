"""The Bright Data emulator itself: its settings, the token it accepts, and what ``dataferry
emulate`` prints. The handlers are mixed in from :mod:`~dataferry.emulator.brightdata.snapshots`,
:mod:`~dataferry.emulator.brightdata.delivery` and :mod:`~dataferry.emulator.brightdata.dca`."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import Route
from dataferry.emulator.brightdata.data import DATASETS
from dataferry.emulator.brightdata.dca import COLLECT_AFTER, DEADLINE_SCALE, DcaHandlers
from dataferry.emulator.brightdata.delivery import DeliveryHandlers
from dataferry.emulator.brightdata.routes import ROUTES
from dataferry.emulator.brightdata.snapshots import SnapshotHandlers

TOKEN = "emulator-brightdata-token-0001"
"""The API token the Bright Data emulator accepts by default."""


class BrightDataEmulator(SnapshotHandlers, DeliveryHandlers, DcaHandlers):
    """The Bright Data API on 127.0.0.1 (Datasets v3, and the DCA collectors from
    :mod:`~dataferry.emulator.brightdata.dca`).

    Args:
        token: the accepted Bearer token.
        start_after: seconds a new snapshot stays ``starting``.
        ready_after: seconds until a snapshot is ``ready``.
        building_after_ready: seconds during which a ``ready`` snapshot still answers 202
            "building" to a download (the race real clients meet).
        records_per_input: records each input yields unless limited.
        total_records: a fixed record count for every new snapshot (big benchmark snapshots).
        jobs_limit: running snapshots allowed per dataset before a trigger gets 429.
        single_file_limit: records above which a single-file delivery is refused.
        delivery_after: seconds a delivery takes.
        history: pre-existing snapshots per dataset (for the snapshot list).
        fixed_seed: give every new snapshot the same data seed, so that generated files are
            reused across runs with a persistent ``data_dir`` (benchmarks).
        collect_after: seconds one collector batch takes (see
            :data:`~dataferry.emulator.brightdata.dca.COLLECT_AFTER`).
        deadline_scale: emulator seconds per second of a batch's ``deadline`` (see
            :data:`~dataferry.emulator.brightdata.dca.DEADLINE_SCALE`).
        seed: seeds the ids.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``data_dir=``...).
    """

    def __init__(
        self,
        *,
        token: str = TOKEN,
        start_after: float = 0.3,
        ready_after: float = 1.5,
        building_after_ready: float = 0.0,
        records_per_input: int = 25,
        total_records: int | None = None,
        jobs_limit: int = 100,
        single_file_limit: int = 1_000_000,
        delivery_after: float = 1.0,
        history: int = 2,
        seed: int = 7,
        fixed_seed: int | None = None,
        collect_after: float = COLLECT_AFTER,
        deadline_scale: float = DEADLINE_SCALE,
        **kw: Any,
    ) -> None:
        super().__init__(seed=seed, **kw)
        self.token = token
        self.start_after = start_after
        self.ready_after = ready_after
        self.building_after_ready = building_after_ready
        self.records_per_input = records_per_input
        self.total_records = total_records
        self.jobs_limit = jobs_limit
        self.single_file_limit = single_file_limit
        self.delivery_after = delivery_after
        self.fixed_seed = fixed_seed
        self.collect_after = float(collect_after)
        self.deadline_scale = float(deadline_scale)
        for d in DATASETS[:2]:
            for k in range(history):
                self.seed_history(d, k)

    # -- identity ---------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return ROUTES

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return self.error(401, "User authentication is required")
        if header != f"Bearer {self.token}":
            return self.error(401, "Unauthorized")
        return None

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def describe(self) -> dict[str, Any]:
        return {"datasets": {d.id: d.name for d in self.datasets.values()}, **self.dca_describe()}
