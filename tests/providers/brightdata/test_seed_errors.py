"""Every error of the Bright Data Datasets v3 seed (brightdata-datasets-v3-errors.txt), one test
per line of the seed, named after it: what the client raises or does when it meets that answer.

Most run against the emulator over loopback. Answers the typed client cannot provoke (it
refuses such input before sending) are sent through the client's own HTTP layer
(``bd.http``), so the error map is still what turns them into exceptions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from dataferry import emulator
from dataferry.clock import FakeClock, SystemClock
from dataferry.emulator import Emulator
from dataferry.errors import (
    BadRequest,
    InvalidArgument,
    JobFailed,
    NotFound,
    RateLimited,
    ServerError,
)
from dataferry.providers.brightdata import S3, Client, S3AccessKey, Webhook
from dataferry.providers.brightdata.errors import SnapshotEmpty, SnapshotExpired, SnapshotNotReady, SnapshotTooBig
from dataferry.wait import PollPolicy

DATASET = "gd_l1viktl72bvl7bjuj0"
INPUTS = [{"url": "https://shop.example.com/p/1"}, {"url": "https://shop.example.com/p/2"}]
POLLS = PollPolicy(initial=0.02, growth=1.5, maximum=0.1, jitter=0.0)
SWIFT = {"start_after": 0.01, "ready_after": 0.05, "delivery_after": 0.05}
SLOW = {"start_after": 0.01, "ready_after": 30.0}
HOOK = Webhook("https://hooks.example.com/bd")


class BriefClock(SystemClock):
    """Real time, but no sleep lasts more than 20 ms; the sleeps asked for are recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(min(max(seconds, 0.0), 0.02))


@pytest.fixture(scope="module")
def swift_server() -> Iterator[Emulator]:
    with emulator.serve("brightdata", **SWIFT) as running:
        yield running


@pytest.fixture(scope="module")
def slow_server() -> Iterator[Emulator]:
    with emulator.serve("brightdata", **SLOW) as running:
        yield running


def fresh(server: Emulator) -> Iterator[Emulator]:
    with server.app.lock:
        server.app.requests.clear()  # each test counts its own requests
    yield server
    server.faults.clear()


@pytest.fixture
def emu(swift_server: Emulator) -> Iterator[Emulator]:
    """The module's fast emulator (snapshots are ready in 50 ms), for one test."""
    yield from fresh(swift_server)


@pytest.fixture
def slow_emu(slow_server: Emulator) -> Iterator[Emulator]:
    """The module's slow emulator (snapshots stay running for 30 s), for one test."""
    yield from fresh(slow_server)


def client(emu: Emulator, **kw: Any) -> Client:
    kw.setdefault("clock", BriefClock())
    return Client(poll=POLLS, **emu.client_kwargs(), **kw)


def sent(emu: Emulator, method: str, path: str) -> int:
    """How many ``method path`` requests the emulator received."""
    return sum(1 for r in emu.app.requests if r.method == method and r.path == path)


# == POST /datasets/v3/trigger ======================================================================


def test_trigger_400_validation_errors_are_listed(emu: Emulator) -> None:
    with pytest.raises(BadRequest) as info:
        client(emu).trigger(DATASET, [{"url": "not-a-url"}, {"name": "no url"}])
    assert info.value.status == 400
    assert info.value.errors == ["Input 1: url must be a valid URL", "Input 2: url is required"]
    assert "\n  - Input 1: url must be a valid URL\n  - Input 2: url is required" in str(info.value)


def test_trigger_400_dataset_missing(emu: Emulator) -> None:
    bd = client(emu)
    with pytest.raises(InvalidArgument, match="dataset_id is required"):
        bd.trigger("", INPUTS)
    assert sent(emu, "POST", "/datasets/v3/trigger") == 0
    with pytest.raises(BadRequest) as info:
        bd.http.request("POST", "/datasets/v3/trigger", json=INPUTS, idempotent=False)
    assert info.value.vendor_message == "dataset missing"


def test_trigger_400_invalid_attachments(emu: Emulator) -> None:
    bd = client(emu)
    with pytest.raises(BadRequest) as info:
        bd.http.request(
            "POST",
            "/datasets/v3/trigger",
            params={"dataset_id": DATASET},
            idempotent=False,
            files={"file": ("inputs.csv", b"url\nhttps://shop.example.com/p/1\n", "text/csv")},
        )
    assert info.value.vendor_message == "Invalid attachments"


def test_trigger_400_this_dataset_is_not_allowed_for_api(emu: Emulator) -> None:
    with pytest.raises(BadRequest) as info:
        client(emu).trigger("gd_lnotallowed0000000", INPUTS)
    assert info.value.vendor_message == "This dataset is not allowed for API"


def test_trigger_400_this_dataset_is_not_ready_yet(emu: Emulator) -> None:
    with pytest.raises(BadRequest) as info:
        client(emu).trigger("gd_lnotready000000000", INPUTS)
    assert info.value.vendor_message == "This dataset is not ready yet"
    assert sent(emu, "POST", "/datasets/v3/trigger") == 1  # a 400 is final


def test_trigger_400_no_data_to_trigger(emu: Emulator, tmp_path: Any) -> None:
    bd = client(emu)
    with pytest.raises(InvalidArgument, match="inputs is empty"):
        bd.trigger(DATASET, [])
    header_only = tmp_path / "inputs.csv"
    header_only.write_text("url\n")
    with pytest.raises(BadRequest) as info:
        bd.trigger(DATASET, header_only)
    assert info.value.vendor_message == "No data to trigger"


def test_trigger_400_should_be_at_least_limit_inputs(emu: Emulator) -> None:
    with pytest.raises(BadRequest) as info:
        client(emu).trigger("gd_lmininputs00000000", INPUTS[:1])
    assert info.value.vendor_message == "Should be at least 2 inputs"


def test_trigger_404_dataset_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).trigger("gd_doesnotexist000000", INPUTS)
    assert info.value.vendor_message == "dataset does not exist"
    assert sent(emu, "POST", "/datasets/v3/trigger") == 1


def test_trigger_429_too_many_running_jobs_is_waited_out_and_retried(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", jobs_limit=1, start_after=0.01, ready_after=0.3)
    clock = BriefClock()
    bd = client(emu, clock=clock)
    first = bd.trigger(DATASET, INPUTS)
    second = bd.trigger(DATASET, INPUTS)  # 429 until the first one finishes
    assert sent(emu, "POST", "/datasets/v3/trigger") >= 3
    assert clock.sleeps, "it waited between attempts"
    created = [s.id for s in emu.app.snapshots.values() if s.inputs]
    assert created == [first.id, second.id]  # retrying a 429 created nothing twice
    assert second.wait(timeout=10).done


def test_trigger_429_too_many_running_jobs_gives_up_after_busy_wait(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", jobs_limit=1, **SLOW)
    clock = BriefClock()
    bd = client(emu, clock=clock)
    bd.trigger(DATASET, INPUTS)
    message = (
        "You have too many running jobs for this dataset. Please wait until some of them finish or consider "
        "combining multiple inputs into a single request. Running jobs: 1>=1"
    )
    with pytest.raises(RateLimited) as now:
        bd.trigger(DATASET, INPUTS, busy_wait=0)
    assert now.value.vendor_message == message
    assert "combine inputs into one trigger" in str(now.value)
    clock.sleeps.clear()
    with pytest.raises(RateLimited):
        bd.trigger(DATASET, INPUTS, busy_wait=5.0)
    assert 0 < sum(clock.sleeps) <= 5.0  # retried, and never waited past the deadline
    assert sent(emu, "POST", "/datasets/v3/trigger") >= 4
    assert sum(1 for s in emu.app.snapshots.values() if s.inputs) == 1


def test_trigger_500_internal_server_error_is_not_re_sent(emu: Emulator) -> None:
    emu.faults.add("status", path="/datasets/v3/trigger$", status=500)
    with pytest.raises(ServerError) as info:
        client(emu).trigger(DATASET, INPUTS)
    assert info.value.vendor_message == "Internal server error"
    assert sent(emu, "POST", "/datasets/v3/trigger") == 1


# == GET /datasets/v3/snapshot/:snapshot_id =========================================================


def test_download_202_snapshot_is_not_ready_yet_try_again_in_10s(slow_emu: Emulator) -> None:
    bd = client(slow_emu)
    snap = bd.trigger(DATASET, INPUTS)
    answer = bd.http.request("GET", f"/datasets/v3/snapshot/{snap.id}", params={"format": "json"}, allow=(202,))
    assert answer.status_code == 202
    assert answer.json() in (
        {"status": s, "message": "Snapshot is not ready yet, try again in 10s"} for s in ("starting", "running")
    )
    # met after progress said ready (a race): waited out, as long as the answer says
    clock = FakeClock()
    with responses.RequestsMock() as mock:
        base = "https://api.brightdata.com/datasets/v3"
        mock.get(f"{base}/progress/s_race", json={"status": "ready"})
        mock.get(
            f"{base}/snapshot/s_race",
            status=202,
            json={"status": "running", "message": "Snapshot is not ready yet, try again in 10s"},
        )
        mock.get(f"{base}/snapshot/s_race", body=b'[{"id": 1}, {"id": 2}]')
        frame = Client(token="tok-0000", clock=clock).snapshot("s_race", format="json", compress=False).to_pandas()
    assert frame["id"].tolist() == [1, 2]
    assert len(clock.sleeps) == 1 and 10.0 <= clock.sleeps[0] <= 11.0


def test_download_202_snapshot_is_building_try_again_in_10s(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", building_after_ready=0.2, **SWIFT)
    clock = BriefClock()
    bd = client(emu, clock=clock)
    snap = bd.trigger(DATASET, INPUTS, download_format="json", compress=False).wait()
    answer = bd.http.request("GET", f"/datasets/v3/snapshot/{snap.id}", params={"format": "json"}, allow=(202,))
    assert (answer.status_code, answer.json()) == (
        202,
        {"status": "building", "message": "Snapshot is building, try again in 10s"},
    )
    clock.sleeps.clear()
    frame = snap.to_pandas()
    assert frame["product_id"].tolist() == [r["product_id"] for r in emu.app.records(snap.id)]
    assert any(10.0 <= s <= 11.0 for s in clock.sleeps)


def test_download_400_validation_errors_are_listed(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    with pytest.raises(InvalidArgument):
        bd.snapshot(snap.id, batch_size=10)
    with pytest.raises(BadRequest) as info:
        bd.http.request("GET", f"/datasets/v3/snapshot/{snap.id}", params={"format": "xml", "batch_size": "10"})
    assert info.value.errors == [
        "format must be equal to one of the allowed values: json, ndjson, jsonl, csv",
        "batch_size must be greater than or equal to 1000",
    ]
    assert "  - batch_size must be greater than or equal to 1000" in str(info.value)


def test_download_400_snapshot_is_expired(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    emu.app.expire(snap.id)
    with pytest.raises(SnapshotExpired) as info:
        snap.to_pandas()
    assert info.value.vendor_message == "Snapshot is expired"
    assert "trigger the collection again" in str(info.value)


def test_download_400_snapshot_is_empty(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, [{"url": "https://shop.example.com/none", "emulator_records": 0}])
    with pytest.raises(SnapshotEmpty) as info:
        snap.to_pandas()
    assert info.value.vendor_message == "Snapshot is empty"
    assert snap.done  # the snapshot itself is ready: an empty result is an answer, not a reason to keep polling
    assert sent(emu, "GET", f"/datasets/v3/snapshot/{snap.id}") == 1


def test_download_404_snapshot_does_not_exist(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    del emu.app.snapshots[snap.id]
    with pytest.raises(NotFound) as info:
        snap.to_pandas()
    assert info.value.vendor_message == "Snapshot does not exist"
    assert sent(emu, "GET", f"/datasets/v3/snapshot/{snap.id}") == 1


def test_download_500_internal_server_error(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS, download_format="ndjson").wait()
    emu.faults.add("status", path=f"/snapshot/{snap.id}$", status=500, times=2)
    assert len(snap.to_pandas()) == len(emu.app.records(snap.id))  # a GET is retried
    emu.faults.add("status", path=f"/snapshot/{snap.id}$", status=500, times=None)
    with pytest.raises(ServerError) as info:
        client(emu, max_attempts=2).snapshot(snap.id, format="json").to_pandas()
    assert info.value.vendor_message == "Internal server error"


# == GET /datasets/v3/snapshot/:snapshot_id/parts ===================================================


def test_parts_400_validation_errors_are_listed(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    with pytest.raises(BadRequest) as info:
        bd.http.request("GET", f"/datasets/v3/snapshot/{snap.id}/parts", params={"batch_size": "ten"})
    assert info.value.errors == ["batch_size must be an integer"]


def test_parts_400_snapshot_is_not_ready(slow_emu: Emulator) -> None:
    bd = client(slow_emu)
    snap = bd.trigger(DATASET, INPUTS, batch_size=1000)
    with pytest.raises(SnapshotNotReady) as info:
        snap.part_count()
    assert info.value.vendor_message == "Snapshot is not ready"
    assert "snap.wait()" in str(info.value)


def test_parts_404_snapshot_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).snapshot("s_doesnotexist", batch_size=1000).part_count()
    assert info.value.vendor_message == "Snapshot does not exist"


def test_parts_500_internal_server_error(emu: Emulator) -> None:
    bd = client(emu, max_attempts=3)
    snap = bd.trigger(DATASET, INPUTS, batch_size=1000).wait()
    emu.faults.add("status", path="/parts$", status=500, times=None)
    with pytest.raises(ServerError) as info:
        snap.part_count()
    assert info.value.vendor_message == "Internal server error"
    assert sent(emu, "GET", f"/datasets/v3/snapshot/{snap.id}/parts") == 3


# == GET /datasets/v3/snapshot/:snapshot_id/input ===================================================


def test_input_400_snapshot_input_does_not_exist(emu: Emulator) -> None:
    history = next(s.id for s in emu.app.snapshots.values() if s.inputs is None)  # made in the control panel
    with pytest.raises(BadRequest) as info:
        client(emu).snapshot(history).input()
    assert info.value.vendor_message == "Snapshot input does not exist"


def test_input_404_snapshot_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).snapshot("s_doesnotexist").input()
    assert info.value.vendor_message == "Snapshot does not exist"


def test_input_500_internal_server_error(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS)
    emu.faults.add("status", path="/input$", status=500, times=1)
    assert snap.input().to_dict(orient="records") == INPUTS  # retried
    emu.faults.add("status", path="/input$", status=500, times=None)
    with pytest.raises(ServerError, match="Internal server error"):
        client(emu, max_attempts=2).snapshot(snap.id).input()


# == POST /datasets/v3/snapshot/:snapshot_id/cancel =================================================


def test_cancel_400_snapshot_is_not_running(emu: Emulator) -> None:
    snap = client(emu).trigger(DATASET, INPUTS).wait()
    with pytest.raises(BadRequest) as info:
        snap.cancel()
    assert info.value.vendor_message == "Snapshot is not running"


def test_cancel_404_snapshot_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).snapshot("s_doesnotexist").cancel()
    assert info.value.vendor_message == "Snapshot does not exist"


def test_cancel_500_internal_server_error_is_not_re_sent(slow_emu: Emulator) -> None:
    snap = client(slow_emu).trigger(DATASET, INPUTS)
    slow_emu.faults.add("status", path="/cancel$", status=500)
    with pytest.raises(ServerError, match="Internal server error"):
        snap.cancel()
    assert sent(slow_emu, "POST", f"/datasets/v3/snapshot/{snap.id}/cancel") == 1


# == GET /datasets/v3/progress/:snapshot_id =========================================================


def test_progress_404_snapshot_does_not_exist(emu: Emulator) -> None:
    bd = client(emu)
    with pytest.raises(NotFound) as info:
        bd.snapshot("s_doesnotexist").wait(timeout=10)
    assert info.value.vendor_message == "Snapshot does not exist"
    assert sent(emu, "GET", "/datasets/v3/progress/s_doesnotexist") == 1
    # right after a trigger, a 404 only means "not visible yet"
    emu.faults.add("status", path="/progress/", status=404, message="Snapshot does not exist", times=2)
    assert bd.trigger(DATASET, INPUTS).wait(timeout=10).done


def test_progress_500_internal_server_error(emu: Emulator) -> None:
    bd = client(emu, max_attempts=1)
    snap = bd.trigger(DATASET, INPUTS)
    emu.faults.add("status", path="/progress/", status=500, times=3)
    assert snap.wait(timeout=10).done  # failed polls are waited through
    emu.faults.add("status", path="/progress/", status=500, times=None)
    with pytest.raises(ServerError, match="Internal server error"):
        bd.snapshot(snap.id).wait(timeout=10)


FAILED_MESSAGES = [
    "Something went wrong. Our team is looking into it.",
    "Account is suspended",
    "Account is new, please activate it in account settings. https://brightdata.com/cp/setting",
    "No data found in discovery",
    "Snapshot is empty",
    "Failed to deliver snapshot",
    "Failed to download response",
    "Failed to trigger collector",
    "Internal Server Error",
    "Input validation failed: Input 1: url must be a valid URL",
]


@pytest.mark.parametrize("message", FAILED_MESSAGES, ids=[m.split(".")[0].split(":")[0] for m in FAILED_MESSAGES])
def test_progress_200_failed_error_message_is_surfaced_verbatim(emu: Emulator, message: str) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, [{"url": "https://shop.example.com/p/1", "emulator_fail": message}])
    with pytest.raises(JobFailed) as info:
        snap.to_pandas()
    assert info.value.vendor_message == message
    assert str(info.value).splitlines()[0] == f"brightdata snapshot {snap.id} failed: {message}"
    assert info.value.job_id == snap.id
    assert sent(emu, "GET", f"/datasets/v3/snapshot/{snap.id}") == 0  # nothing to download


# == GET /datasets/v3/delivery/:delivery_id =========================================================


def test_delivery_404_delivery_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).delivery("d_doesnotexist").wait(timeout=10)
    assert info.value.vendor_message == "Delivery does not exist"


def test_delivery_500_internal_server_error(emu: Emulator) -> None:
    bd = client(emu, max_attempts=1)
    delivery = bd.trigger(DATASET, INPUTS).wait().deliver(HOOK)
    emu.faults.add("status", path="/delivery/", status=500, times=None)
    with pytest.raises(ServerError, match="Internal server error"):
        delivery.status()
    emu.faults.clear()
    assert delivery.wait(timeout=10).done


# == POST /datasets/v3/deliver/:snapshot_id =========================================================


def test_deliver_400_validation_errors_are_listed(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    body = {"deliver": {"type": "s3", "filename": {"template": "x", "extension": "xml"}, "bucket": "b"}}
    with pytest.raises(BadRequest) as info:
        bd.http.request("POST", f"/datasets/v3/deliver/{snap.id}", json=body, idempotent=False)
    assert info.value.errors == [
        "deliver.filename.extension must be equal to one of the allowed values: json, jsonl, csv",
        "deliver must have required property credentials",
    ]


def test_deliver_400_snapshot_is_not_ready(slow_emu: Emulator) -> None:
    snap = client(slow_emu).trigger(DATASET, INPUTS)
    with pytest.raises(SnapshotNotReady) as info:
        snap.deliver(HOOK)
    assert info.value.vendor_message == "Snapshot is not ready"


def test_deliver_400_snapshot_is_expired(emu: Emulator) -> None:
    snap = client(emu).trigger(DATASET, INPUTS).wait()
    emu.app.expire(snap.id)
    with pytest.raises(SnapshotExpired) as info:
        snap.deliver(HOOK)
    assert info.value.vendor_message == "Snapshot is expired"


def test_deliver_400_deliver_options_are_missing(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    with pytest.raises(BadRequest) as info:
        bd.http.request("POST", f"/datasets/v3/deliver/{snap.id}", json={"compress": True}, idempotent=False)
    assert info.value.vendor_message == "Deliver options are missing"


def test_deliver_400_snapshot_is_empty(emu: Emulator) -> None:
    snap = client(emu).trigger(DATASET, [{"url": "https://shop.example.com/none", "emulator_records": 0}]).wait()
    with pytest.raises(SnapshotEmpty) as info:
        snap.deliver(HOOK)
    assert info.value.vendor_message == "Snapshot is empty"


def test_deliver_400_snapshot_is_too_big_for_single_file_delivery(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", single_file_limit=10, **SWIFT)
    snap = client(emu).trigger(DATASET, INPUTS).wait()
    with pytest.raises(SnapshotTooBig) as info:
        snap.deliver(HOOK)
    assert info.value.vendor_message == "Snapshot is too big for single file delivery"
    assert "batch_size=" in str(info.value)
    assert snap.deliver(HOOK, batch_size=1000).wait(timeout=10).done


def test_deliver_400_batch_size_should_be_at_least_min_batch_size(emu: Emulator) -> None:
    bd = client(emu)
    snap = bd.trigger(DATASET, INPUTS).wait()
    with pytest.raises(InvalidArgument, match="batch_size must be at least 1000"):
        snap.deliver(HOOK, batch_size=10)
    assert sent(emu, "POST", f"/datasets/v3/deliver/{snap.id}") == 0
    body = {"deliver": {**HOOK.to_wire(), "filename": {"template": "x", "extension": "json"}}, "batch_size": 10}
    with pytest.raises(BadRequest) as info:
        bd.http.request("POST", f"/datasets/v3/deliver/{snap.id}", json=body, idempotent=False)
    assert info.value.vendor_message == "Batch size should be at least 1000"


def test_deliver_404_snapshot_does_not_exist(emu: Emulator) -> None:
    with pytest.raises(NotFound) as info:
        client(emu).snapshot("s_doesnotexist").deliver(HOOK)
    assert info.value.vendor_message == "Snapshot does not exist"


@pytest.mark.parametrize("message", ["Failed to deliver snapshot", "Internal server error"])
def test_deliver_500_is_not_re_sent(emu: Emulator, message: str) -> None:
    snap = client(emu).trigger(DATASET, INPUTS).wait()
    emu.faults.add("status", path="/deliver/", status=500, message=message)
    with pytest.raises(ServerError) as info:
        snap.deliver(S3("bucket-1", S3AccessKey("AKIA1", "aws-secret-0001")))
    assert info.value.vendor_message == message
    assert sent(emu, "POST", f"/datasets/v3/deliver/{snap.id}") == 1


# == GET /datasets/v3/snapshots =====================================================================


def test_snapshot_list_400_validation_errors_are_listed(emu: Emulator) -> None:
    bd = client(emu)
    with pytest.raises(InvalidArgument):
        bd.snapshots(DATASET, page_size=0)
    with pytest.raises(BadRequest) as info:
        bd.http.get_json("/datasets/v3/snapshots", params={"limit": "0", "from_date": "yesterday"})
    assert info.value.errors == [
        "dataset_id is required",
        "limit must be between 1 and 5000",
        "from_date must be a date (YYYY-MM-DD)",
    ]


def test_snapshot_list_500_internal_server_error(emu: Emulator) -> None:
    untouched = "gd_l1vikfnt1wgvvqz95w"  # no test triggers it: it holds the emulator's two history snapshots
    emu.faults.add("status", path="/snapshots$", status=500, times=1)
    assert len(client(emu).snapshots(untouched).to_pandas()) == 2  # retried
    emu.faults.add("status", path="/snapshots$", status=500, times=None)
    with pytest.raises(ServerError, match="Internal server error"):
        client(emu, max_attempts=2).snapshots(untouched).to_list()
