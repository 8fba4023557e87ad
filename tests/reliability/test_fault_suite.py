"""The whole promise under hostile servers, for every vendor (issue #15, part 5).

Each scenario arms faults on a vendor's emulator (``dataferry.emulator.faults``) and runs a
real job over loopback. After every scenario one of two things is true:

- the output (a Parquet file read back) equals the emulator's source records exactly, row for
  row, in order; or
- a typed :class:`~dataferry.errors.DataferryError` was raised, nothing is left at the target
  (no file, no temporary file), and the same call with the faults gone then returns exactly the
  source records (nothing was lost, the cache holds nothing wrong).

Calls that create something (a trigger, an export) are never sent twice unless the server
provably did not act on them (a 429).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataferry import constants
from dataferry.emulator import Emulator
from dataferry.errors import DataferryError
from dataferry.wait import PollPolicy
from tests.conftest import ScaledClock

DATASET = "gd_l1viktl72bvl7bjuj0"
INPUTS = [{"url": f"https://example.com/p/{k}", "emulator_records": 700} for k in range(3)]
POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.2, jitter=0.0)
BD_FAST = {"start_after": 0.05, "ready_after": 0.15}
MT_FAST = {"step_seconds": 0.05, "steps": 3, "rows_per_day": 120, "rows_per_file": 250}
DCA_FAST = {"collect_after": 0.2, "records_per_input": 300}
SNAPSHOT = "/datasets/v3/snapshot/"
PROGRESS = "/datasets/v3/progress/"
MT_FILES = "/storage/download/raw/"
MT_GET = "/export/get.json"


@dataclass(frozen=True)
class Scenario:
    """Faults armed on one vendor's emulator, and what must come of them."""

    job: str  # which job is run: see JOBS
    faults: tuple[dict[str, Any], ...]
    ok: bool = True  # False: a typed error is the right answer
    settings: dict[str, Any] = field(default_factory=dict)  # dataferry.constants overrides

    def __str__(self) -> str:
        return self.job + ":" + "+".join(f"{f['kind']}" for f in self.faults)


def fault(kind: str, path: str, times: int | None = 1, **params: Any) -> dict[str, Any]:
    return {"kind": kind, "path": path, "times": times, **params}


# -- the jobs: (emulator options, run → (job, source rows as a table)) -------------------------------


def bd_client(emu: Emulator, **kw: Any) -> Any:
    from dataferry import brightdata

    return brightdata.Client(poll=POLLS, clock=ScaledClock(0.01), **emu.client_kwargs(), **kw)


def snapshot_job(
    fmt: str, compress: bool, batch_size: int | None
) -> Callable[[Emulator], tuple[Any, Callable[[], list[Any]]]]:
    def start(emu: Emulator) -> tuple[Any, Callable[[], list[Any]]]:
        bd = bd_client(emu, timeout=(2.0, 1.0))
        snap = bd.trigger(DATASET, INPUTS, download_format=fmt, compress=compress, batch_size=batch_size)
        return snap, lambda: [r["product_id"] for r in emu.app.records(snap.id)]

    return start


def mytracker_job(emu: Emulator) -> tuple[Any, Callable[[], list[Any]]]:
    from dataferry import mytracker

    # the real clock and the client's own rate limits: the emulator enforces myTracker's quotas
    mt = mytracker.Client(poll=POLLS, timeout=(2.0, 1.0), **emu.client_kwargs())
    export = mt.create_export(
        event="payments",
        selectors=["idApp", "tsEvent", "revenue", "idCountry"],
        id_app=[1, 2],
        date_from="2026-11-01",
        date_to="2026-11-07",
    )
    return export, lambda: emu.app.rows(export.id).column("tsEvent").to_pylist()


def dca_job(emu: Emulator) -> tuple[Any, Callable[[], list[Any]]]:
    bd = bd_client(emu, timeout=(2.0, 1.0))
    col = bd.collect("c_lq3x1ab2", [{"url": f"https://shop.example.com/p/{k}"} for k in range(3)])
    return col, lambda: [r["product_id"] for r in emu.app.collection_records(col.id)]


JOBS: dict[str, tuple[str, dict[str, Any], Callable[[Emulator], tuple[Any, Callable[[], list[Any]]]], str]] = {
    "bd-csv-gz": ("brightdata", BD_FAST, snapshot_job("csv", True, 1000), "product_id"),
    "bd-csv-plain": ("brightdata", BD_FAST, snapshot_job("csv", False, None), "product_id"),
    "bd-ndjson-gz": ("brightdata", BD_FAST, snapshot_job("ndjson", True, 1000), "product_id"),
    "bd-json-plain": ("brightdata", BD_FAST, snapshot_job("json", False, None), "product_id"),
    "mytracker": ("mytracker", MT_FAST, mytracker_job, "tsEvent"),
    "dca": ("brightdata", DCA_FAST, dca_job, "product_id"),
}

STALLS = {"STALL_WINDOW": 0.4, "STALL_BYTES": 1 << 30}
"""A stall rule strict enough that a trickle trips it in a test."""

SCENARIOS = [
    # storms and bursts while waiting and downloading
    Scenario("bd-csv-gz", (fault("status", PROGRESS, times=4, status=429, retry_after=2),)),
    Scenario("bd-csv-gz", (fault("status", PROGRESS, times=3, status=429, retry_after_date=2),)),
    Scenario("bd-csv-gz", (fault("status", PROGRESS, times=3, status=429),)),  # no Retry-After
    Scenario("bd-csv-gz", (fault("status", SNAPSHOT, times=3, status=503),)),
    Scenario("bd-csv-gz", (fault("status", SNAPSHOT, times=2, status=502, html=True),)),
    Scenario("bd-csv-gz", (fault("status", "/datasets/v3/trigger", times=3, status=429, retry_after=1),)),
    Scenario("mytracker", (fault("status", MT_GET, times=3, status=503),)),
    Scenario("dca", (fault("status", "/dca/dataset", times=3, status=503),)),
    # connections reset or cut, before the headers and mid-body, at chosen offsets
    Scenario("bd-csv-gz", (fault("reset", SNAPSHOT, times=2),)),
    Scenario("bd-csv-gz", (fault("reset", SNAPSHOT, times=2, after_bytes=0.5),)),
    Scenario("bd-csv-plain", (fault("reset", SNAPSHOT, times=1, after_bytes=1000),)),
    Scenario("bd-ndjson-gz", (fault("drop", SNAPSHOT, times=3, after_bytes=0.3),)),
    Scenario("bd-json-plain", (fault("drop", SNAPSHOT, times=1, after_bytes=0.7),)),
    Scenario("mytracker", (fault("reset", MT_FILES, times=2, after_bytes=0.5),)),
    Scenario("mytracker", (fault("drop", MT_FILES, times=2, after_bytes=100),)),
    Scenario("dca", (fault("drop", "/dca/dataset", times=1, after_bytes=0.5),)),
    # Range ignored, or answered 416 (the plain-CSV case that used to return half the rows)
    Scenario("bd-csv-plain", (fault("drop", SNAPSHOT, times=1, after_bytes=0.5), fault("ignore_range", SNAPSHOT))),
    Scenario("bd-csv-plain", (fault("drop", SNAPSHOT, times=1, after_bytes=0.5), fault("range_416", SNAPSHOT))),
    Scenario(
        "bd-csv-gz", (fault("drop", SNAPSHOT, times=1, after_bytes=0.5), fault("range_416", SNAPSHOT, times=None))
    ),
    Scenario("mytracker", (fault("drop", MT_FILES, times=1, after_bytes=0.5), fault("range_416", MT_FILES))),
    # lengths that lie, bodies damaged or cut and labelled as whole
    Scenario("bd-csv-gz", (fault("lie_length", SNAPSHOT, times=1, extra=5000),)),
    Scenario("bd-csv-plain", (fault("lie_length", SNAPSHOT, times=1, extra=1),)),
    Scenario("bd-csv-gz", (fault("lie_length", SNAPSHOT, times=1, less=2000),), ok=False),
    Scenario("bd-csv-gz", (fault("truncate", SNAPSHOT, times=1, keep=0.6),), ok=False),
    Scenario("bd-csv-gz", (fault("corrupt", SNAPSHOT, times=1, at=0.5),), ok=False),
    Scenario("mytracker", (fault("corrupt", MT_FILES, times=1),), ok=False),
    # slow servers: a timeout before the headers or on the body, a trickle
    Scenario("bd-csv-gz", (fault("slow", SNAPSHOT, times=1, delay=1.6),)),
    Scenario("bd-csv-gz", (fault("hang", SNAPSHOT, times=1, delay=1.6),)),
    Scenario("bd-csv-gz", (fault("trickle", SNAPSHOT, times=1, rate=4096, after_bytes=1000),), settings=STALLS),
    Scenario("mytracker", (fault("trickle", MT_FILES, times=1, rate=2048),), settings=STALLS),
    # links that expire between the status and the download
    Scenario("mytracker", (fault("expire", MT_FILES, times=1),)),
    Scenario("mytracker", (fault("expire", MT_FILES, times=3),)),
    Scenario("mytracker", (fault("expire", MT_FILES, times=None),), ok=False),  # never a live link: LinkExpired
    # a job that flips from ready back to building
    Scenario("bd-csv-gz", (fault("body", PROGRESS, times=1, json={"status": "building"}),)),
    # HTML or error objects where data was expected
    Scenario(
        "bd-csv-plain", (fault("body", SNAPSHOT, times=1, html="<title>502 Bad Gateway</title>gateway"),), ok=False
    ),
    Scenario(
        "bd-csv-plain",
        (
            fault(
                "body", SNAPSHOT, times=1, text="<!DOCTYPE html><html><title>Sign in</title>", content_type="text/csv"
            ),
        ),
        ok=False,
    ),
    Scenario(
        "bd-json-plain",
        (fault("body", SNAPSHOT, times=1, json={"error": "Snapshot is building", "status": "building"}),),
        ok=False,
    ),
    Scenario(
        "bd-ndjson-gz",
        (fault("body", SNAPSHOT, times=1, data=b"\0" * 4096, content_type="application/gzip"),),
        ok=False,
    ),
    Scenario("mytracker", (fault("body", MT_FILES, times=1, html="Not found"),), ok=False),
]


@pytest.fixture(params=SCENARIOS, ids=str)
def scenario(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    chosen: Scenario = request.param
    for name, value in chosen.settings.items():
        monkeypatch.setattr(constants, name, value)
    yield chosen


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def creates(emu: Emulator) -> int:
    return sum(r.method == "POST" and r.path.endswith(("/trigger", "/create.json")) for r in emu.app.requests)


def test_every_fault_ends_in_the_exact_rows_or_a_typed_error_and_nothing_left(
    scenario: Scenario, start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    vendor, options, start, key = JOBS[scenario.job]
    emu = start_emulator(vendor, **options)
    for f in scenario.faults:
        f = dict(f)
        emu.faults.add(f.pop("kind"), **f)
    job, source = start(emu)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "data.parquet"
    try:
        written = job.to_parquet(target, progress=False)
    except DataferryError as exc:
        assert not scenario.ok, f"{scenario}: {type(exc).__name__}: {exc}"
        assert leftovers(out) == [], "a failed run left files at the target"
        emu.faults.clear()
        written = job.to_parquet(target, progress=False)  # nothing lost: the next run has everything
    else:
        assert scenario.ok, f"{scenario}: no error, but the data was damaged on the wire"
    table = pq.read_table(written)
    assert table.column(key).to_pylist() == source(), "rows lost, duplicated or out of order"
    assert leftovers(out) == ["data.parquet"]
    assert sum(emu.faults.injected.values()) >= 1, "the scenario injected nothing"
    assert (
        creates(emu)
        == 1
        + sum(f["kind"] == "status" and f.get("status") == 429 and "trigger" in f["path"] for f in scenario.faults) * 3
    ), "a create call was sent again"


def test_whole_rows_compare_equal_after_faults(start_emulator: Callable[..., Emulator]) -> None:
    """Not only the keys: every column of every row equals a run without faults."""
    emu = start_emulator("mytracker", **MT_FAST)
    emu.faults.add("drop", path=MT_FILES, times=3, after_bytes=0.4)
    emu.faults.add("expire", path=MT_FILES, times=1)
    emu.faults.add("status", path=MT_GET, times=2, status=503)
    export, _ = mytracker_job(emu)
    got = export.to_arrow(progress=False)
    want = emu.app.rows(export.id)
    assert got.num_rows == want.num_rows > 0
    assert got.column_names == want.column_names
    for name in want.column_names:
        assert (
            got.column(name).to_pylist()
            == pa.chunked_array(want.column(name)).cast(got.schema.field(name).type).to_pylist()
        ), name


def test_a_reset_or_timeout_on_a_trigger_is_never_sent_again(start_emulator: Callable[..., Emulator]) -> None:
    from dataferry.errors import RequestMayHaveReached

    emu = start_emulator("brightdata", **BD_FAST)
    for armed in ({"kind": "reset"}, {"kind": "slow", "delay": 1.6}):
        kind = armed.pop("kind")
        emu.faults.add(kind, path="/datasets/v3/trigger", times=1, **armed)
        before = creates(emu)
        with pytest.raises(RequestMayHaveReached):
            bd_client(emu, timeout=(2.0, 1.0)).trigger(DATASET, INPUTS)
        assert creates(emu) == before + 1


def test_the_scenarios_cover_every_fault_kind() -> None:
    from dataferry.emulator.faults import KINDS

    used = {f["kind"] for s in SCENARIOS for f in s.faults}
    assert used == set(KINDS), set(KINDS) - used
    assert {s.job for s in SCENARIOS} == set(JOBS)
    assert json.dumps([str(s) for s in SCENARIOS])  # every scenario has a readable id
