"""The streaming engine against the emulator over loopback: schema drift, resume, corruption,
caching, atomic outputs, flat parallel pipeline."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataferry.emulator import Emulator
from dataferry.errors import InvalidArgument, PartCorrupt, PartIncomplete
from dataferry.output import to_pandas
from dataferry.providers.brightdata import Client
from tests.conftest import FAST, QUICK_POLLS, ScaledClock

PRODUCTS = "gd_l1viktl72bvl7bjuj0"
DRIFT = "gd_drift0schema0parts"


def client(emu: Emulator, **kw: Any) -> Client:
    return Client(base_url=emu.base_url, poll=QUICK_POLLS, **emu.credentials, **kw)


def snapshot(emu: Emulator, dataset: str = PRODUCTS, records: int = 3500, **kw: Any) -> Any:
    bd = client(emu)
    emu.app.total_records = records
    snap = bd.trigger(dataset, [{"url": "https://example.com/p/1"}], include_errors=True, **kw)
    snap.wait(progress="off")
    return snap


def download_requests(emu: Emulator, sid: str) -> list[Any]:
    return [r for r in emu.app.requests if r.path == f"/datasets/v3/snapshot/{sid}"]


@pytest.fixture
def emu(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator("brightdata", **FAST)


def test_schema_drift_across_parts_in_every_output(emu: Emulator, tmp_path: Path) -> None:
    snap = snapshot(emu, DRIFT, records=3500, batch_size=1000)
    source = emu.app.records(snap.id)
    expected_types = {"discount": pa.float64(), "sku": pa.string(), "weight": pa.float64(), "extra": pa.string()}

    table = snap.to_arrow(progress="off")
    for name, t in expected_types.items():
        assert table.schema.field(name).type == t, name
    assert table.num_rows == len(source) == 3500
    assert table.column("id").to_pylist() == [r["id"] for r in source]
    assert table.column("sku").to_pylist()[:2] == ["0", "1"] and table.column("sku")[1500].as_py() == "SKU-1500"
    assert table.column("extra").null_count == 1000

    # to_pandas prepares text for pandas on the decoding threads: the same frame as converting to_arrow
    for backend in (None, "numpy_nullable", "pyarrow"):
        frame = snap.to_pandas(dtype_backend=backend, progress="off")
        pd.testing.assert_frame_equal(frame, to_pandas(table, backend))
    assert frame["sku"].tolist()[:2] == ["0", "1"]

    out = snap.to_parquet(tmp_path / "drift.parquet", progress="off")
    written = pq.read_table(out)
    assert written.schema.equals(table.schema) and written.equals(table)

    ds = snap.to_parquet(f"{tmp_path / 'drift_ds'}/", progress="off")
    assert snap.to_parquet(tmp_path / "drift_ds2", dataset=True, progress="off").is_dir()
    files = sorted(f for f in ds.iterdir() if f.name != "_common_metadata")
    assert len(files) == 4 and len({str(pq.read_schema(f)) for f in files}) == 1
    assert pd.read_parquet(ds).sort_values("id")["id"].tolist() == list(range(3500))


@pytest.mark.parametrize("after_bytes", [1, 4096, 20_000])
def test_a_dropped_connection_is_resumed_with_range(emu: Emulator, after_bytes: int) -> None:
    snap = snapshot(emu, records=2000, batch_size=1000)
    expected = snap.to_arrow(cache=False, progress="off")
    emu.faults.add("drop", path=f"/snapshot/{snap.id}$", after_bytes=after_bytes, times=2)
    again = client(emu).snapshot(snap.id, batch_size=1000)
    assert again.to_arrow(progress="off").equals(expected)
    ranged = [r for r in download_requests(emu, snap.id) if "Range" in r.headers]
    assert ranged and all(r.headers["Range"].startswith(f"bytes={after_bytes}-") for r in ranged)


def test_a_server_ignoring_range_gets_a_clean_restart(emu: Emulator) -> None:
    snap = snapshot(emu, records=1000)
    expected = snap.to_arrow(cache=False, progress="off")
    emu.faults.add("drop", path=f"/snapshot/{snap.id}$", after_bytes=5000, times=1)
    emu.faults.add("ignore_range", path=f"/snapshot/{snap.id}$", times=1)
    got = client(emu).snapshot(snap.id).to_arrow(progress="off")
    assert got.equals(expected)  # not 5000 bytes twice


def test_connection_dropping_every_time_fails_loudly_and_keeps_nothing(emu: Emulator, tmp_path: Path) -> None:
    snap = snapshot(emu, records=1000)
    emu.faults.add("drop", path=f"/snapshot/{snap.id}$", after_bytes=100, times=None)
    target = tmp_path / "never.parquet"
    with pytest.raises(PartIncomplete, match="dropped"):
        client(emu, clock=ScaledClock()).snapshot(snap.id).to_parquet(target, progress="off")
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_gzip_part_is_an_error_and_nothing_is_written(emu: Emulator, tmp_path: Path) -> None:
    snap = snapshot(emu, records=3000, batch_size=1000)
    emu.faults.add("truncate", path=f"/snapshot/{snap.id}$", keep=0.6, times=1)
    target = tmp_path / "out.parquet"
    target.write_bytes(b"yesterday's file")
    bd = client(emu)
    with pytest.raises(PartCorrupt, match="truncated or damaged"):
        bd.snapshot(snap.id, batch_size=1000).to_parquet(target, progress="off")
    assert target.read_bytes() == b"yesterday's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
    # the bad part was not kept in the cache: the next run downloads it again and succeeds
    bd.snapshot(snap.id, batch_size=1000).to_parquet(target, progress="off")
    assert pq.read_table(target).num_rows == len(emu.app.records(snap.id))


def test_a_second_run_downloads_nothing(emu: Emulator) -> None:
    snap = snapshot(emu, records=3000, batch_size=1000)
    first = snap.to_pandas(progress="off")
    before = len(download_requests(emu, snap.id))
    second = client(emu).snapshot(snap.id, batch_size=1000).to_pandas(progress="off")
    assert len(download_requests(emu, snap.id)) == before == 3
    pd.testing.assert_frame_equal(first, second)


def test_cache_false_downloads_again_and_leaves_no_files(emu: Emulator, tmp_path: Path) -> None:
    bd = Client(base_url=emu.base_url, poll=QUICK_POLLS, cache_dir=tmp_path / "cache", **emu.credentials)
    emu.app.total_records = 1500
    snap = bd.trigger(PRODUCTS, [{"url": "https://example.com/p/1"}], batch_size=1000)
    snap.to_arrow(cache=False, progress="off")
    snap.to_arrow(cache=False, progress="off")
    assert len(download_requests(emu, snap.id)) == 4
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_building_after_ready_is_waited_out(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", **{**FAST, "building_after_ready": 0.5})
    clock = ScaledClock(0.01)
    bd = client(emu, clock=clock)
    snap = bd.trigger(PRODUCTS, [{"url": "https://example.com/p/1"}])
    df = snap.to_pandas(progress="off")
    assert len(df) == len(emu.app.records(snap.id))
    assert len(download_requests(emu, snap.id)) >= 2  # at least one 202 "building" before the data
    assert clock.slept >= 10  # "try again in 10s" was honoured (fast-forwarded)


@pytest.mark.parametrize("workers", [1, 3])
def test_many_parts_in_order_whatever_the_workers(emu: Emulator, workers: int, tmp_path: Path) -> None:
    snap = snapshot(emu, records=7000, batch_size=1000)
    source = emu.app.records(snap.id)
    batches = list(snap.iter_batches(workers=workers, progress="off"))
    ids = [pid for b in batches for pid in b.column("product_id").to_pylist()]
    assert ids == [r["product_id"] for r in source]
    assert math.ceil(len(source) / 1000) == len(snap.parts(progress="off"))
    out = snap.to_parquet(tmp_path / f"w{workers}.parquet", workers=workers, progress="off")
    assert pq.read_table(out).column("product_id").to_pylist() == ids


@pytest.mark.parametrize(
    ("cores", "workers", "expected"),
    [
        (2, 2, [False, False, False, False, False, True]),  # every core busy with a part; the last has room
        (8, 2, [True] * 6),  # cores to spare: each part parses on several threads
        (2, 1, [True] * 6),
    ],
)
def test_parts_decoded_side_by_side_parse_on_one_thread_each(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, cores: int, workers: int, expected: list[bool]
) -> None:
    import dataferry.decode
    import dataferry.pipeline

    flags: dict[str, bool] = {}

    def spy(*args: Any, **kw: Any) -> Any:
        flags[kw["label"]] = kw["threads"]
        return dataferry.decode.stream_part(*args, **kw)

    monkeypatch.setattr(dataferry.pipeline, "stream_part", spy)
    monkeypatch.setattr(dataferry.pipeline, "usable_cpus", lambda: cores)
    snap = snapshot(emu, records=6000, batch_size=1000)
    table = snap.to_arrow(workers=workers, progress="off")
    assert table.column("product_id").to_pylist() == [r["product_id"] for r in emu.app.records(snap.id)]
    parts = snap.parts(progress="off")
    assert [flags[f"part {p.index} of brightdata snapshot {snap.id}"] for p in parts] == expected


def test_a_bad_dtype_backend_fails_before_any_download(emu: Emulator) -> None:
    snap = snapshot(emu, records=2000, batch_size=1000)
    with pytest.raises(InvalidArgument, match="dtype_backend='numpy'"):
        snap.to_pandas(dtype_backend="numpy", progress="off")
    assert download_requests(emu, snap.id) == []


def test_download_copies_verified_parts(emu: Emulator, tmp_path: Path) -> None:
    snap = snapshot(emu, records=2500, batch_size=1000)
    paths = snap.download(tmp_path / "parts", progress="off")
    assert [p.name for p in paths] == [f"csv-b1000-part{k:05d}.csv.gz" for k in (1, 2, 3)]
    assert all(p.read_bytes()[:2] == b"\x1f\x8b" for p in paths)


def test_iter_batches_streams_every_row_once_across_a_restart(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # drift rows 0-999 have 'discount' empty and 'sku' numeric; with small stream blocks the
    # first block settles those types and the stream restarts when rows 1000+ disagree
    import dataferry.decode
    import dataferry.pipeline

    monkeypatch.setattr(dataferry.decode, "BLOCK_SIZE", 8192)
    monkeypatch.setattr(dataferry.pipeline, "HANDOFF_BYTES", 1)  # every batch reaches the consumer at once
    seen: list[object] = []

    def spy(*args: Any, **kw: Any) -> Any:
        for item in dataferry.decode.stream_part(*args, **kw):
            seen.append(item)
            yield item

    monkeypatch.setattr(dataferry.pipeline, "stream_part", spy)
    snap = snapshot(emu, DRIFT, records=2000)
    batches = list(snap.iter_batches(progress="off"))
    assert dataferry.decode.RESTART in seen
    ids = [i for b in batches for i in b.column("id").to_pylist()]
    assert ids == list(range(2000))
    last = batches[-1].schema
    assert last.field("sku").type == pa.string() and last.field("discount").type == pa.float64()
    # the same part through to_parquet: the rows written before the restart are withdrawn
    table = snap.to_arrow(progress="off")
    assert table.column("id").to_pylist() == list(range(2000))
    out = snap.to_parquet(Path(emu.app.data_dir) / "restart.parquet", progress="off")
    assert pq.read_table(out).column("id").to_pylist() == list(range(2000))


def test_a_failure_message_echoing_the_token_is_masked(emu: Emulator) -> None:
    from dataferry.errors import JobFailed

    token = emu.credentials["token"]
    bd = client(emu)
    snap = bd.trigger(PRODUCTS, [{"url": "https://example.com/p/1", "emulator_fail": f"Bad auth {token} for input"}])
    with pytest.raises(JobFailed) as info:
        snap.wait(progress="off")
    shown = str(info.value) + info.value.vendor_message + repr(snap) + snap._repr_html_() + repr(snap.last_status)
    assert token not in shown and "Bad auth *** for input" in info.value.vendor_message
