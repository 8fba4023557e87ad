"""Bright Data end to end against the emulator over loopback: trigger → wait → data, checked
row for row and column for column against the records the emulator generated."""

from __future__ import annotations

import gzip
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataferry import emulator
from dataferry.clock import SystemClock
from dataferry.emulator import Emulator
from dataferry.errors import (
    BadRequest,
    JobCancelled,
    JobFailed,
    RequestMayHaveReached,
    ServerError,
)
from dataferry.providers.brightdata import (
    GCS,
    S3,
    SFTP,
    AliOSS,
    AliOSSCredentials,
    Azure,
    AzureCredentials,
    Build,
    Client,
    Email,
    GCSPubSub,
    GoogleCredentials,
    S3AccessKey,
    SFTPCredentials,
    Snowflake,
    SnowflakeCredentials,
    Webhook,
)
from dataferry.providers.brightdata.delivery import TARGETS
from dataferry.providers.brightdata.errors import SnapshotNotReady
from dataferry.wait import PollPolicy

DATASET = "gd_l1viktl72bvl7bjuj0"
FORMATS = ("csv", "json", "ndjson", "jsonl")
POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.25, jitter=0.0)
QUICK = {"start_after": 0.05, "ready_after": 0.2, "delivery_after": 0.2}
BIG = 2100
"""Record slots of the many-parts snapshots (2058 records once failed pages are dropped: 3 parts)."""
INPUTS = [{"url": f"https://shop.example.com/p/{k}"} for k in range(4)]


class BriefClock(SystemClock):
    """Real time, but no sleep lasts more than 20 ms; the sleeps asked for are recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(min(max(seconds, 0.0), 0.02))


def client(emu: Emulator, **kw: Any) -> Client:
    return Client(poll=POLLS, **emu.client_kwargs(), **kw)


@pytest.fixture(scope="module")
def big_server() -> Iterator[Emulator]:
    with emulator.serve("brightdata", total_records=BIG, start_after=0.02, ready_after=0.1, delivery_after=0.1) as emu:
        yield emu


@pytest.fixture
def big_emu(big_server: Emulator) -> Iterator[Emulator]:
    """The module's emulator whose snapshots hold 2058 records, for one test."""
    with big_server.app.lock:
        big_server.app.requests.clear()  # each test sees its own requests
    yield big_server
    big_server.faults.clear()


# -- comparing what came back with what the emulator generated --------------------------------------


def plain(value: Any) -> Any:
    """A pandas / Arrow / Parquet cell as the plain JSON value the emulator serves."""
    if type(value) in (str, int, bool):
        return value
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime):  # pd.Timestamp too: CSV and NDJSON readers parse ISO timestamps
        assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(frame.columns)
    return [dict(zip(columns, map(plain, row), strict=True)) for row in frame.itertuples(index=False, name=None)]


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]


def assert_same_records(actual: list[dict[str, Any]], expected: list[dict[str, Any]], fmt: str) -> None:
    """Every row and every column equal; CSV carries nested values as JSON text."""
    assert len(actual) == len(expected)
    assert expected, "the comparison needs records"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert list(got) == list(want), f"row {i}: columns differ"
        for name, value in want.items():
            have = got[name]
            if fmt == "csv" and isinstance(value, (dict, list)) and isinstance(have, str):
                have = json.loads(have)
            assert have == value, f"row {i}, column {name!r}: {have!r} != {value!r}"


# -- every format, compressed or not, one part or many ----------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 1000], ids=["one-part", "many-parts"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_trigger_wait_to_pandas_and_to_parquet_row_for_row(
    big_emu: Emulator, tmp_path: Path, fmt: str, compress: bool, batch_size: int | None
) -> None:
    bd = client(big_emu)
    snap = bd.trigger(DATASET, INPUTS, download_format=fmt, compress=compress, batch_size=batch_size)
    frame = snap.wait().to_pandas()
    expected = big_emu.app.records(snap.id)
    assert len(expected) == 2058
    assert_same_records(frame_rows(frame), expected, fmt)

    parts = snap.parts()
    assert len(parts) == (1 if batch_size is None else 3)
    downloads = [r for r in big_emu.app.requests if r.path == f"/datasets/v3/snapshot/{snap.id}"]
    sent = [dict(parse_qsl(r.query)) for r in downloads]
    assert {q["format"] for q in sent} == {fmt}
    assert {q["compress"] for q in sent} == {"true" if compress else "false"}
    assert sorted(q.get("part", "-") for q in sent) == (["-"] if batch_size is None else ["1", "2", "3"])

    out = snap.to_parquet(tmp_path / "out.parquet")
    assert_same_records(table_rows(pq.read_table(out)), expected, fmt)
    bd.close()


def test_to_arrow_and_iter_batches_row_for_row(big_emu: Emulator) -> None:
    bd = client(big_emu)
    snap = bd.trigger(DATASET, INPUTS, download_format="ndjson", batch_size=1000).wait()
    expected = big_emu.app.records(snap.id)
    assert_same_records(table_rows(snap.to_arrow()), expected, "ndjson")
    batches = list(snap.iter_batches())
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert_same_records([plain(r) for b in batches for r in b.to_pylist()], expected, "ndjson")
    assert frame_rows(snap.to_pandas(dtype_backend="pyarrow")) == frame_rows(snap.to_pandas())


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_download_writes_each_part_as_served(big_emu: Emulator, tmp_path: Path, fmt: str) -> None:
    bd = client(big_emu)
    snap = bd.trigger(DATASET, INPUTS, download_format=fmt, compress=True, batch_size=1000)
    paths = snap.download(tmp_path / "parts")
    assert [p.parent for p in paths] == [tmp_path / "parts"] * 3
    assert all(p.name.endswith(f".{fmt}.gz") for p in paths)
    records = []
    for p in paths:
        text = gzip.decompress(p.read_bytes()).decode()
        records += json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    assert records == big_emu.app.records(snap.id)


def test_reattach_by_id_in_a_new_client(bd_emu: Emulator) -> None:
    first = client(bd_emu)
    snap_id = first.trigger(DATASET, INPUTS).id
    first.close()
    again = client(bd_emu)
    snap = again.snapshot(snap_id, format="jsonl", compress=False)
    assert_same_records(frame_rows(snap.to_pandas()), bd_emu.app.records(snap_id), "jsonl")
    assert snap.dataset_id == DATASET


def test_include_errors_keeps_failed_pages_with_their_error_columns(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    inputs = [{"url": f"https://shop.example.com/p/{k}"} for k in range(3)]
    snap = bd.trigger(DATASET, inputs, include_errors=True, download_format="csv")
    frame = snap.to_pandas()
    expected = bd_emu.app.records(snap.id)
    assert len(expected) == 75 and "error" in frame.columns
    assert frame["error"].notna().sum() == 2
    assert_same_records(frame_rows(frame), expected, "csv")


def test_custom_output_fields_and_limits_shape_the_data(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    snap = bd.trigger(
        DATASET, INPUTS, custom_output_fields=["url", "price", "seller.name"], limit_per_input=5, download_format="json"
    )
    frame = snap.to_pandas()
    assert list(frame.columns) == ["url", "price", "seller"]
    assert_same_records(frame_rows(frame), bd_emu.app.records(snap.id), "json")
    assert len(frame) == 19  # 4 inputs x 5 slots, less the failed page in slot 7 (dropped without include_errors)


def test_dataframe_and_csv_inputs_are_echoed_in_the_records(bd_emu: Emulator, tmp_path: Path) -> None:
    bd = client(bd_emu)
    frame = pd.DataFrame(
        {"url": ["https://shop.example.com/a", "https://shop.example.com/b"], "zip": ["10001", "Zürich"]}
    )
    snap = bd.trigger(DATASET, frame, download_format="ndjson")
    echoed = {json.dumps(r["input"], sort_keys=True) for r in bd_emu.app.records(snap.id)}
    assert echoed == {json.dumps(r, sort_keys=True) for r in frame.to_dict(orient="records")}
    assert snap.input().astype(str).to_dict(orient="records") == frame.to_dict(orient="records")

    csv_file = tmp_path / "inputs.csv"
    csv_file.write_text("url,zip\nhttps://shop.example.com/c,75001\n", encoding="utf-8")
    snap2 = bd.trigger(DATASET, csv_file, download_format="ndjson")
    assert_same_records(frame_rows(snap2.to_pandas()), bd_emu.app.records(snap2.id), "ndjson")
    assert {r["input"]["url"] for r in bd_emu.app.records(snap2.id)} == {"https://shop.example.com/c"}


def test_discovery_trigger_by_keyword(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    snap = bd.trigger(
        DATASET,
        [{"keyword": "desk lamp"}],
        type="discover_new",
        discover_by="keyword",
        limit_multiple_results=10,
        download_format="json",
    )
    frame = snap.to_pandas()
    assert len(frame) == 9  # 10 results, less the failed page in slot 7
    assert_same_records(frame_rows(frame), bd_emu.app.records(snap.id), "json")
    trigger = next(r for r in bd_emu.app.requests if r.path == "/datasets/v3/trigger")
    assert dict(parse_qsl(trigger.query))["discover_by"] == "keyword"


def test_building_after_ready_is_waited_out_using_the_seconds_given(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", building_after_ready=0.3, **QUICK)
    clock = BriefClock()
    bd = client(emu, clock=clock)
    snap = bd.trigger(DATASET, INPUTS, download_format="json", compress=False)
    assert_same_records(frame_rows(snap.to_pandas()), emu.app.records(snap.id), "json")
    answers = [r for r in emu.app.requests if r.path == f"/datasets/v3/snapshot/{snap.id}"]
    assert len(answers) >= 2  # at least one 202 "building" before the data
    assert any(10.0 <= s <= 11.0 for s in clock.sleeps), clock.sleeps  # "try again in 10s" was read


# -- the other endpoints -----------------------------------------------------------------------------


def test_snapshot_list_pages_to_the_end_as_a_dataframe(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    triggered = [bd.trigger(DATASET, INPUTS[:1]).id for _ in range(5)]
    frame = bd.snapshots(DATASET, page_size=3).to_pandas()
    known = {s.id for s in bd_emu.app.snapshots.values() if s.dataset_id == DATASET}
    assert len(known) == 7  # 5 triggered + 2 from the emulator's history
    assert set(frame["id"]) == known and frame["id"].is_unique
    assert frame["id"].tolist()[:5] == triggered[::-1]  # newest first
    assert {"created", "status", "dataset_id", "dataset_size", "trigger.type"} <= set(frame.columns)
    assert str(frame["created"].dtype).startswith("datetime64") and frame["created"].dt.tz is not None  # not ISO text
    pages = [dict(parse_qsl(r.query)) for r in bd_emu.app.requests if r.path == "/datasets/v3/snapshots"]
    assert [(p["skip"], p["limit"]) for p in pages] == [("0", "3"), ("3", "3"), ("6", "3")]


def test_snapshot_list_filters_by_status_and_trigger_type(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    snap = bd.trigger(DATASET, INPUTS[:1]).wait()
    ready = bd.snapshots(DATASET, status="ready").to_pandas()
    assert snap.id in set(ready["id"]) and set(ready["status"]) == {"ready"}
    from_panel = bd.snapshots(DATASET, trigger_type="CP").to_pandas()
    assert snap.id not in set(from_panel["id"]) and set(from_panel["trigger.type"]) == {"CP"}


def test_input_log_and_cancel(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", start_after=0.05, ready_after=30.0)
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS)
    assert snap.input().to_dict(orient="records") == INPUTS
    log = snap.log()
    assert (log["id"], log["dataset_id"], log["inputs_count"]) == (snap.id, DATASET, len(INPUTS))
    assert log["dataset_size"] == len(emu.app.records(snap.id))
    snap.cancel()
    cancels = [r for r in emu.app.requests if r.path == f"/datasets/v3/snapshot/{snap.id}/cancel"]
    assert [r.method for r in cancels] == ["POST"]
    with pytest.raises(JobCancelled):
        bd.snapshot(snap.id).wait(timeout=5)
    with pytest.raises(BadRequest, match="Snapshot is not running"):
        snap.cancel()


def test_wait_timeout_leaves_the_snapshot_running(start_emulator: Callable[..., Emulator]) -> None:
    from dataferry.errors import WaitTimeout

    emu = start_emulator("brightdata", start_after=0.05, ready_after=30.0)
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS)
    with pytest.raises(WaitTimeout, match=r"brightdata.Client\(base_url=.*\)\.snapshot\("):
        snap.wait(timeout=0.3)
    assert emu.app.snapshots[snap.id].status(time.time()) in ("starting", "running")


GOOGLE = GoogleCredentials("svc@proj.iam.gserviceaccount.com", "-----BEGIN PRIVATE KEY-----\nxyz\n")
DELIVERY_TARGETS = [
    S3("bucket-1", S3AccessKey("AKIA1", "aws-secret-0001"), region="eu-west-1"),
    GCS("gbucket", GOOGLE),
    GCSPubSub("topic-1", GOOGLE),
    Azure("container-1", AzureCredentials("acct1", sas_token="sv=2024&sig=x1")),
    SFTP("sftp.example.com", SFTPCredentials("bob", password="pw-0001"), port=22),
    Snowflake("DB", "PUBLIC", "STG", "LOADER", "WH", SnowflakeCredentials("acc", "loader", "snow-0001")),
    Webhook("https://hooks.example.com/bd"),
    Email("https://mail.example.com/bd"),
    Build("https://build.example.com/bd"),
    AliOSS("obucket", AliOSSCredentials("LTAI1", "ali-0001"), "oss-cn-hangzhou"),
]


def test_deliver_to_every_target_type_and_wait(bd_emu: Emulator) -> None:
    assert {type(t) for t in DELIVERY_TARGETS} == set(TARGETS)
    bd = client(bd_emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    deliveries = [
        snap.deliver(t, filename="out-{{snapshot_id}}", extension="jsonl", compress=True) for t in DELIVERY_TARGETS
    ]
    sent = [r.json() for r in bd_emu.app.requests if r.path == f"/datasets/v3/deliver/{snap.id}"]
    assert [b["deliver"]["type"] for b in sent] == [t.type for t in DELIVERY_TARGETS]
    assert len({d.id for d in deliveries}) == len(DELIVERY_TARGETS)
    for delivery in deliveries:
        assert delivery.wait(timeout=10) is delivery
        assert [f["filename"] for f in delivery.files] == [f"out-{snap.id}.jsonl.gz"]


def test_deliver_in_batches_and_reattach_to_the_delivery(big_emu: Emulator) -> None:
    bd = client(big_emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    delivery = snap.deliver(
        S3("bucket-1", S3AccessKey("AKIA1", "aws-secret-0001")),
        batch_size=1000,
        notify="https://notify.example.com/done",
    )
    again = client(big_emu).delivery(delivery.id).wait(timeout=10)
    assert [f["filename"] for f in again.files] == [f"{snap.id}_{k}.json" for k in range(3)]
    deliver_call = next(r for r in big_emu.app.requests if r.path.startswith("/datasets/v3/deliver/"))
    assert dict(parse_qsl(deliver_call.query)) == {"notify": "https://notify.example.com/done"}


def test_a_failed_delivery_raises_job_failed(bd_emu: Emulator) -> None:
    bd = client(bd_emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    delivery = snap.deliver(S3("will-fail-bucket", S3AccessKey("AKIA1", "aws-secret-0001")))
    with pytest.raises(JobFailed) as info:
        delivery.wait(timeout=10)
    # not "brightdata job d_… failed: failed": what failed, where the files were going, what to do
    text = str(info.value)
    assert text.startswith(
        f"brightdata delivery {delivery.id} failed: Bright Data gives no reason (target: s3 'will-fail-bucket')"
    )
    assert "snap.deliver(" in text and "aws-secret-0001" not in text
    bd_emu.faults.add(
        "body",
        path=f"/datasets/v3/delivery/{delivery.id}",
        json={"id": delivery.id, "status": "failed", "error": "AccessDenied"},
    )
    with pytest.raises(JobFailed, match=f"delivery {delivery.id} failed: AccessDenied"):  # re-attached: no target
        bd.delivery(delivery.id).wait(timeout=10)


# -- faults: what is retried and what is never re-sent ----------------------------------------------


def test_a_500_on_trigger_is_not_re_sent(bd_emu: Emulator) -> None:
    bd_emu.faults.add("status", path="/datasets/v3/trigger", status=500)
    with pytest.raises(ServerError, match="Internal server error"):
        client(bd_emu).trigger(DATASET, INPUTS)
    assert [r.method for r in bd_emu.app.requests if r.path == "/datasets/v3/trigger"] == ["POST"]
    assert not any(s.inputs for s in bd_emu.app.snapshots.values())


def test_a_read_timeout_on_trigger_is_not_re_sent(bd_emu: Emulator) -> None:
    bd_emu.faults.add("slow", path="/datasets/v3/trigger", delay=0.6)
    bd = client(bd_emu, timeout=(2.0, 0.2))
    with pytest.raises(RequestMayHaveReached, match="not re-sent"):
        bd.trigger(DATASET, INPUTS)
    assert len([r for r in bd_emu.app.requests if r.path == "/datasets/v3/trigger"]) == 1
    deadline = time.monotonic() + 5
    while not any(s.inputs for s in bd_emu.app.snapshots.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    # the collection was created after all: re-sending would have paid for it twice
    assert sum(1 for s in bd_emu.app.snapshots.values() if s.inputs) == 1


def test_a_500_on_deliver_and_on_cancel_is_not_re_sent(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", start_after=0.05, ready_after=30.0)
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS)
    emu.faults.add("status", path="/cancel$", status=500)
    with pytest.raises(ServerError):
        snap.cancel()
    emu.faults.add("status", path="/deliver/", status=500, message="Failed to deliver snapshot")
    with pytest.raises(ServerError, match="Failed to deliver snapshot"):
        snap.deliver(Webhook("https://hooks.example.com/bd"))
    posts = [r.path for r in emu.app.requests if r.method == "POST"]
    assert posts == [
        "/datasets/v3/trigger",
        f"/datasets/v3/snapshot/{snap.id}/cancel",
        f"/datasets/v3/deliver/{snap.id}",
    ]


def test_gets_are_retried_after_500s_and_downloads_resume_after_a_drop(big_emu: Emulator) -> None:
    clock = BriefClock()
    bd = client(big_emu, clock=clock)
    snap = bd.trigger(DATASET, INPUTS, download_format="csv", compress=True, batch_size=1000)
    big_emu.faults.add("status", path="/progress/", status=500, times=2)
    big_emu.faults.add("status", path="/parts$", status=503, times=1)
    big_emu.faults.add("status", path=f"/snapshot/{snap.id}$", status=502, times=1)
    big_emu.faults.add("drop", path=f"/snapshot/{snap.id}$", after_bytes=20_000, times=2)
    assert_same_records(frame_rows(snap.to_pandas(workers=1)), big_emu.app.records(snap.id), "csv")
    asked = [
        dict(parse_qsl(r.query))["part"] for r in big_emu.app.requests if r.path == f"/datasets/v3/snapshot/{snap.id}"
    ]
    # part 1 met a 502 and a dropped body (resumed or fetched again); the other parts came at once
    assert asked.count("1") >= 3 and asked.count("2") == asked.count("3") == 1
    assert len([r for r in big_emu.app.requests if r.path.startswith("/datasets/v3/progress/")]) >= 3


# -- secrets -----------------------------------------------------------------------------------------


def test_secrets_never_show_in_errors_reprs_or_logs(bd_emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = bd_emu.credentials["token"]
    hook_secret = "Bearer hook-secret-7a7a7a"
    s3_secret = "aws-secret-9b9b9b9b"
    target = S3("bucket-1", S3AccessKey("AKIA1", s3_secret))
    bd = client(bd_emu)
    snap = bd.trigger(DATASET, INPUTS, endpoint="https://hooks.example.com/bd", auth_header=hook_secret)
    with pytest.raises(SnapshotNotReady) as not_ready:
        snap.deliver(target)
    snap.wait()
    delivery = snap.deliver(target).wait(timeout=10)
    bd_emu.faults.add("status", path="/deliver/", status=500, message=f"cannot log in with {s3_secret} / {hook_secret}")
    with pytest.raises(ServerError) as server_error:
        snap.deliver(target)
    wrong = Client(token="wrong-token-3c3c3c", base_url=bd_emu.base_url, poll=POLLS)
    with pytest.raises(BadRequest) as bad:
        bd.trigger("gd_lnotallowed0000000", INPUTS, auth_header=hook_secret, endpoint="https://hooks.example.com/bd")
    shown = [
        str(not_ready.value),
        str(server_error.value),
        repr(server_error.value.body),
        str(bad.value),
        bad.value.url,
        repr(bd),
        repr(bd.http),
        repr(snap),
        snap._repr_html_(),
        repr(delivery),
        repr(target),
        repr(wrong),
        snap.reattach,
    ]
    shown += [r.getMessage() for r in caplog.records if not r.name.startswith("dataferry.emulator")]
    assert any("trigger" in line for line in shown), "the request log was captured"
    for secret in (token, hook_secret, "hook-secret-7a7a7a", s3_secret, "wrong-token-3c3c3c"):
        leaks = [line for line in shown if secret in line]
        assert not leaks, f"{secret!r} shown in {leaks}"
    assert "***" in str(server_error.value)
