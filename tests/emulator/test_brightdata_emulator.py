"""The Bright Data emulator on its own, over raw HTTP with ``requests``: the vendor's paths,
auth, timings, formats and parts, error bodies verbatim, the running-jobs limit, expiry and
the injectable faults. Nothing from dataferry's client side is used here."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from dataferry import emulator
from dataferry.emulator import Emulator

DATASET = "gd_l1viktl72bvl7bjuj0"
INPUTS = [{"url": "https://shop.example.com/p/1"}, {"url": "https://shop.example.com/p/2"}]
V3 = "/datasets/v3"


class Api:
    """Raw HTTP against one running emulator."""

    def __init__(self, emu: Emulator, token: str | None = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or emu.credentials['token']}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.emu.base_url + path, timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self.emu.base_url + path, timeout=10, **kw)

    def trigger(self, inputs: Any = INPUTS, **params: Any) -> str:
        answer = self.post(f"{V3}/trigger", params={"dataset_id": DATASET, **params}, json=inputs)
        assert answer.status_code == 200, answer.text
        return answer.json()["snapshot_id"]

    def wait_status(self, sid: str, wanted: str = "ready", limit: float = 10.0) -> list[str]:
        """Poll progress until ``wanted``; the statuses seen, in order."""
        seen: list[str] = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status = self.get(f"{V3}/progress/{sid}").json()["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == wanted:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"{sid} never reached {wanted!r}: {seen}")


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with emulator.serve("brightdata", start_after=0.05, ready_after=0.2, delivery_after=0.1) as emu:
        yield emu


@pytest.fixture
def api(server: Emulator) -> Iterator[Api]:
    """Raw HTTP against the module's emulator; faults armed by a test are cleared after it."""
    yield Api(server)
    server.faults.clear()


# -- serving, auth, routing ---------------------------------------------------------------------------


def test_serve_gives_a_loopback_base_url_and_the_credentials_it_accepts() -> None:
    with emulator.serve("brightdata", token="my-own-token-1") as emu:
        assert emu.base_url.startswith("http://127.0.0.1:") and int(emu.base_url.rsplit(":", 1)[1]) > 0
        assert emu.credentials == {"token": "my-own-token-1"}
        assert emu.client_kwargs() == {"base_url": emu.base_url, "token": "my-own-token-1"}
        assert Api(emu).get(f"{V3}/progress/s_nope").status_code == 404
        url = emu.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + f"{V3}/progress/s_nope", timeout=2)


def test_two_emulators_run_side_by_side_on_their_own_ports(start_emulator: Callable[..., Emulator]) -> None:
    one, two = start_emulator("brightdata"), start_emulator("brightdata")
    assert one.base_url != two.base_url
    sid = Api(one).trigger()
    assert Api(two).get(f"{V3}/progress/{sid}").status_code == 404


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "User authentication is required"),
        ("Bearer wrong-token", "Unauthorized"),
        ("emulator-brightdata-token-0001", "Unauthorized"),
    ],
)
def test_bearer_auth_is_required_on_every_endpoint(api: Api, header: str | None, message: str) -> None:
    sid = api.trigger()
    headers = {} if header is None else {"Authorization": header}
    calls = [
        ("POST", f"{V3}/trigger?dataset_id={DATASET}"),
        ("GET", f"{V3}/progress/{sid}"),
        ("GET", f"{V3}/snapshot/{sid}"),
        ("GET", f"{V3}/snapshot/{sid}/parts"),
        ("GET", f"{V3}/snapshot/{sid}/input"),
        ("POST", f"{V3}/snapshot/{sid}/cancel"),
        ("POST", f"{V3}/deliver/{sid}"),
        ("GET", f"{V3}/delivery/d_1"),
        ("GET", f"{V3}/snapshots?dataset_id={DATASET}"),
        ("GET", f"{V3}/log/{sid}"),
    ]
    for method, path in calls:
        answer = requests.request(method, api.emu.base_url + path, headers=headers, json=INPUTS, timeout=10)
        assert (answer.status_code, answer.json()) == (401, {"error": message}), path


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.get("/datasets/v2/trigger").status_code == 404
    assert api.get(f"{V3}/trigger").status_code == 405


def test_the_emulator_never_imports_the_client_side() -> None:
    code = (
        "import sys, dataferry.emulator, dataferry.emulator.brightdata;"
        "print(sorted(m for m in sys.modules if m.startswith('dataferry')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out.replace("'", '"')))
    client_side = {m for m in loaded if not m.startswith("dataferry.emulator")}
    assert client_side <= {"dataferry", "dataferry.errors", "dataferry.redact", "dataferry.version"}, client_side


# -- snapshot life cycle ----------------------------------------------------------------------------------


def test_snapshots_move_from_starting_to_running_to_ready(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", start_after=0.15, ready_after=0.5))
    sid = api.trigger()
    assert sid.startswith("s_")
    body = api.get(f"{V3}/progress/{sid}").json()
    assert body == {"snapshot_id": sid, "dataset_id": DATASET, "status": "starting"}
    assert api.wait_status(sid) == ["starting", "running", "ready"]


def test_download_before_ready_answers_202_not_ready_verbatim(api: Api) -> None:
    sid = api.trigger()
    answer = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"})
    assert answer.status_code == 202
    assert answer.json() == {"status": "starting", "message": "Snapshot is not ready yet, try again in 10s"}
    assert api.get(f"{V3}/snapshot/{sid}/parts").json() == {"error": "Snapshot is not ready"}


def test_building_after_ready_answers_202_building_then_the_data(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", start_after=0.01, ready_after=0.05, building_after_ready=0.3))
    sid = api.trigger()
    api.wait_status(sid)
    answer = api.get(f"{V3}/snapshot/{sid}")
    assert (answer.status_code, answer.json()) == (
        202,
        {"status": "building", "message": "Snapshot is building, try again in 10s"},
    )
    deadline = time.monotonic() + 5
    while answer.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = api.get(f"{V3}/snapshot/{sid}")
    assert answer.status_code == 200 and len(answer.json()) == len(api.emu.app.records(sid))


def test_records_are_deterministic_and_rich(api: Api) -> None:
    sid = api.trigger(include_errors="true")
    api.wait_status(sid)
    first = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"}).content
    again = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"}).content
    assert first == again
    records = json.loads(first)
    assert records == api.emu.app.records(sid) and len(records) == 50
    kinds = {type(v).__name__ for r in records for v in r.values()}
    assert {"str", "int", "float", "bool", "list", "dict", "NoneType"} <= kinds
    assert any(any(ord(ch) > 127 for ch in r["title"]) for r in records)
    assert all(r["scraped_at"].endswith("Z") and "T" in r["scraped_at"] for r in records)
    assert {r["input"]["url"] for r in records} == {i["url"] for i in INPUTS}
    failed = [r for r in records if r["error"]]
    assert failed and all(r["error_code"] == "dead_page" and r["price"] is None for r in failed)
    other = api.trigger()
    api.wait_status(other)
    assert api.get(f"{V3}/snapshot/{other}", params={"format": "json"}).json() != records


@pytest.mark.parametrize("fmt", ["json", "ndjson", "jsonl", "csv"])
def test_every_format_compressed_or_not(api: Api, fmt: str) -> None:
    sid = api.trigger()
    api.wait_status(sid)
    expected = api.emu.app.records(sid)
    plain = api.get(f"{V3}/snapshot/{sid}", params={"format": fmt, "compress": "false"})
    packed = api.get(f"{V3}/snapshot/{sid}", params={"format": fmt, "compress": "true"})
    assert packed.content[:2] == b"\x1f\x8b" and packed.headers["Content-Type"] == "application/gzip"
    assert gzip.decompress(packed.content) == plain.content
    text = plain.content.decode("utf-8")
    if fmt == "json":
        assert plain.headers["Content-Type"].startswith("application/json") and json.loads(text) == expected
    elif fmt == "csv":
        assert plain.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["product_id"] for r in rows] == [r["product_id"] for r in expected]
        assert [json.loads(r["seller"]) for r in rows] == [r["seller"] for r in expected]  # nested as JSON text
        assert list(rows[0]) == list(expected[0])
    else:
        assert plain.headers["Content-Type"].startswith("application/x-ndjson")
        assert [json.loads(line) for line in text.splitlines()] == expected


def test_batch_size_part_and_parts_agree(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", start_after=0.01, ready_after=0.05, total_records=3300))
    sid = api.trigger()
    api.wait_status(sid)
    expected = api.emu.app.records(sid)
    assert len(expected) == 3234
    assert api.get(f"{V3}/snapshot/{sid}/parts", params={"format": "json"}).json() == {"parts": 1}
    for batch in (1000, 1500, 5000):
        count = api.get(f"{V3}/snapshot/{sid}/parts", params={"format": "ndjson", "batch_size": batch}).json()["parts"]
        assert count == math.ceil(len(expected) / batch)
        rows: list[dict[str, Any]] = []
        for part in range(1, count + 1):
            body = api.get(
                f"{V3}/snapshot/{sid}",
                params={"format": "ndjson", "batch_size": batch, "part": part, "compress": "true"},
            ).content
            chunk = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
            assert len(chunk) == min(batch, len(expected) - (part - 1) * batch)
            rows += chunk
        assert rows == expected
        beyond = api.get(f"{V3}/snapshot/{sid}", params={"batch_size": batch, "part": count + 1})
        assert (beyond.status_code, beyond.json()) == (
            400,
            {"validation_errors": [f"part must be between 1 and {count}"]},
        )


def test_download_validation_errors(api: Api) -> None:
    sid = api.trigger()
    api.wait_status(sid)
    answer = api.get(f"{V3}/snapshot/{sid}", params={"format": "xml", "batch_size": "999"})
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "validation_errors": [
                "format must be equal to one of the allowed values: json, ndjson, jsonl, csv",
                "batch_size must be greater than or equal to 1000",
            ]
        },
    )
    no_batch = api.get(f"{V3}/snapshot/{sid}", params={"part": "2"})
    assert no_batch.json() == {"validation_errors": ["part requires batch_size"]}


def test_range_requests_are_honoured(api: Api) -> None:
    sid = api.trigger()
    api.wait_status(sid)
    whole = api.get(f"{V3}/snapshot/{sid}", params={"format": "csv"}).content
    tail = api.get(f"{V3}/snapshot/{sid}", params={"format": "csv"}, headers={"Range": "bytes=100-"})
    assert tail.status_code == 206 and tail.content == whole[100:]
    assert tail.headers["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert (
        api.get(f"{V3}/snapshot/{sid}", params={"format": "csv"}, headers={"Range": f"bytes={len(whole)}-"}).status_code
        == 416
    )


def test_expiry(api: Api) -> None:
    sid = api.trigger()
    api.wait_status(sid)
    api.emu.app.expire(sid)
    answer = api.get(f"{V3}/snapshot/{sid}")
    assert (answer.status_code, answer.json()) == (400, {"error": "Snapshot is expired"})
    deliver = api.post(
        f"{V3}/deliver/{sid}",
        json={
            "deliver": {
                "type": "webhook",
                "endpoint": "https://h.example.com",
                "filename": {"template": "x", "extension": "json"},
            }
        },
    )
    assert (deliver.status_code, deliver.json()) == (400, {"error": "Snapshot is expired"})


def test_empty_and_failed_snapshots(api: Api) -> None:
    empty = api.trigger([{"url": "https://shop.example.com/none", "emulator_records": 0}])
    failed = api.trigger([{"url": "https://shop.example.com/x", "emulator_fail": "No data found in discovery"}])
    api.wait_status(empty)
    assert api.get(f"{V3}/snapshot/{empty}").json() == {"error": "Snapshot is empty"}
    api.wait_status(failed, "failed")
    assert api.get(f"{V3}/progress/{failed}").json() == {
        "snapshot_id": failed,
        "dataset_id": DATASET,
        "status": "failed",
        "error_message": "No data found in discovery",
    }
    assert api.get(f"{V3}/snapshot/{failed}").json() == {"error": "Snapshot is not ready"}


# -- trigger ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "body", "status", "answer"),
    [
        ({}, INPUTS, 400, {"error": "dataset missing"}),
        ({"dataset_id": "gd_nope"}, INPUTS, 404, {"error": "dataset does not exist"}),
        ({"dataset_id": "gd_lnotallowed0000000"}, INPUTS, 400, {"error": "This dataset is not allowed for API"}),
        ({"dataset_id": "gd_lnotready000000000"}, INPUTS, 400, {"error": "This dataset is not ready yet"}),
        ({"dataset_id": DATASET}, [], 400, {"error": "No data to trigger"}),
        ({"dataset_id": "gd_lmininputs00000000"}, INPUTS[:1], 400, {"error": "Should be at least 2 inputs"}),
        (
            {
                "dataset_id": DATASET,
                "limit_per_input": "0",
                "type": "discover_all",
                "format": "xml",
                "include_errors": "maybe",
                "endpoint": "ftp://x",
            },
            INPUTS,
            400,
            {
                "validation_errors": [
                    "limit_per_input must be a number greater than or equal to 1",
                    "type must be equal to one of the allowed values: discover_new",
                    "format must be equal to one of the allowed values: json, ndjson, jsonl, csv",
                    "include_errors must be boolean",
                    "endpoint must be a valid URL",
                ]
            },
        ),
        (
            {"dataset_id": DATASET, "type": "discover_new"},
            [{"keyword": "x"}],
            400,
            {"validation_errors": ["discover_by is required when type=discover_new"]},
        ),
        (
            {"dataset_id": DATASET, "type": "discover_new", "discover_by": "keyword"},
            [{"url": "https://e.com"}],
            400,
            {"validation_errors": ["Input 1: keyword is required"]},
        ),
        ({"dataset_id": DATASET}, {"not": "a list"}, 400, {"validation_errors": ["Input must be an array of objects"]}),
    ],
    ids=[
        "dataset-missing",
        "dataset-unknown",
        "not-allowed",
        "not-ready",
        "no-data",
        "min-inputs",
        "query-validation",
        "discover-by",
        "discover-input",
        "body-shape",
    ],
)
def test_trigger_errors_verbatim(api: Api, params: dict[str, str], body: Any, status: int, answer: Any) -> None:
    response = api.post(f"{V3}/trigger", params=params, json=body)
    assert (response.status_code, response.json()) == (status, answer)


def test_trigger_with_a_csv_upload_and_its_input_file(api: Api) -> None:
    upload = "url,zip\nhttps://shop.example.com/a,10001\nhttps://shop.example.com/b,Zürich\n"
    answer = api.post(
        f"{V3}/trigger", params={"dataset_id": DATASET}, files={"data": ("inputs.csv", upload.encode(), "text/csv")}
    )
    sid = answer.json()["snapshot_id"]
    given = api.get(f"{V3}/snapshot/{sid}/input")
    assert given.headers["Content-Type"].startswith("text/csv")
    assert given.content.decode() == upload
    wrong_field = api.post(
        f"{V3}/trigger", params={"dataset_id": DATASET}, files={"file": ("inputs.csv", upload.encode(), "text/csv")}
    )
    assert (wrong_field.status_code, wrong_field.json()) == (400, {"error": "Invalid attachments"})


def test_trigger_limits_and_output_fields(api: Api) -> None:
    limited = api.trigger(limit_per_input="3")
    capped = api.trigger(limit_multiple_results="4")
    fields = api.trigger(custom_output_fields="url|seller.name")
    for sid in (limited, capped, fields):
        api.wait_status(sid)
    assert len(api.get(f"{V3}/snapshot/{limited}").json()) == 6
    assert len(api.get(f"{V3}/snapshot/{capped}").json()) == 4
    assert [list(r) for r in api.get(f"{V3}/snapshot/{fields}").json()] == [["url", "seller"]] * 49


def test_running_jobs_limit_answers_429_until_a_job_finishes(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", jobs_limit=2, start_after=0.01, ready_after=0.4))
    first, _ = api.trigger(), api.trigger()
    refused = api.post(f"{V3}/trigger", params={"dataset_id": DATASET}, json=INPUTS)
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "You have too many running jobs for this dataset. Please wait until some of "
        "them finish or consider combining multiple inputs into a single request. "
        "Running jobs: 2>=2"
    }
    other = api.post(f"{V3}/trigger", params={"dataset_id": "gd_l1vikfnt1wgvvqz95w"}, json=INPUTS)
    assert other.status_code == 200  # the limit is per dataset
    api.wait_status(first)
    assert api.post(f"{V3}/trigger", params={"dataset_id": DATASET}, json=INPUTS).status_code == 200


# -- input, cancel, log -------------------------------------------------------------------------------------


def test_input_cancel_and_log(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", start_after=0.01, ready_after=30))
    sid = api.trigger(endpoint="https://hooks.example.com/x", auth_header="Bearer hook-secret-1")
    given = api.get(f"{V3}/snapshot/{sid}/input").text
    assert given == "url\nhttps://shop.example.com/p/1\nhttps://shop.example.com/p/2\n"
    log = api.get(f"{V3}/log/{sid}").json()
    assert (log["id"], log["inputs_count"], log["dataset_size"]) == (sid, 2, 49)
    assert log["status"] in ("starting", "running")
    assert log["trigger"]["params"]["auth_header"] == "***"
    cancelled = api.post(f"{V3}/snapshot/{sid}/cancel")
    assert (cancelled.status_code, cancelled.text) == (200, "OK")
    assert api.get(f"{V3}/progress/{sid}").json()["status"] == "canceled"
    again = api.post(f"{V3}/snapshot/{sid}/cancel")
    assert (again.status_code, again.json()) == (400, {"error": "Snapshot is not running"})
    for method, path in (("GET", "/input"), ("POST", "/cancel"), ("GET", "/parts"), ("GET", "")):
        missing = api.session.request(method, f"{api.emu.base_url}{V3}/snapshot/s_nope{path}", timeout=10)
        assert (missing.status_code, missing.json()) == (404, {"error": "Snapshot does not exist"})
    history = next(s.id for s in api.emu.app.snapshots.values() if s.inputs is None)
    assert api.get(f"{V3}/snapshot/{history}/input").json() == {"error": "Snapshot input does not exist"}


# -- deliver -----------------------------------------------------------------------------------------------


def deliver_body(**deliver: Any) -> dict[str, Any]:
    return {
        "deliver": {
            "type": "webhook",
            "endpoint": "https://hooks.example.com/in",
            "filename": {"template": "{{snapshot_id}}", "extension": "json"},
            **deliver,
        }
    }


def test_deliver_and_delivery_status(api: Api) -> None:
    sid = api.trigger()
    not_ready = api.post(f"{V3}/deliver/{sid}", json=deliver_body())
    assert (not_ready.status_code, not_ready.json()) == (400, {"error": "Snapshot is not ready"})
    api.wait_status(sid)
    answer = api.post(f"{V3}/deliver/{sid}", json={**deliver_body(), "compress": True})
    did = answer.json()["delivery_id"]
    assert answer.json() == {"delivery_id": did, "id": did}
    assert api.get(f"{V3}/delivery/{did}").json() == {"id": did, "status": "in_progress", "delivery_files": []}
    deadline = time.monotonic() + 5
    while (body := api.get(f"{V3}/delivery/{did}").json())["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert body["status"] == "done"
    assert [f["filename"] for f in body["delivery_files"]] == [f"{sid}.json.gz"]
    assert all(isinstance(f["delivery_ts"], int) for f in body["delivery_files"])
    failing = api.post(f"{V3}/deliver/{sid}", json=deliver_body(endpoint="https://fail.example.com/in")).json()["id"]
    time.sleep(0.15)
    assert api.get(f"{V3}/delivery/{failing}").json()["status"] == "failed"
    assert api.get(f"{V3}/delivery/d_nope").json() == {"error": "Delivery does not exist"}


def test_deliver_errors_verbatim(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata", start_after=0.01, ready_after=0.05, single_file_limit=10))
    sid = api.trigger()
    api.wait_status(sid)

    def deliver(body: Any, **params: Any) -> tuple[int, Any]:
        r = api.post(f"{V3}/deliver/{sid}", json=body, params=params)
        return r.status_code, r.json()

    assert deliver({}) == (400, {"error": "Deliver options are missing"})
    assert deliver(deliver_body()) == (400, {"error": "Snapshot is too big for single file delivery"})
    assert deliver({**deliver_body(), "batch_size": 10}) == (400, {"error": "Batch size should be at least 1000"})
    assert deliver({**deliver_body(), "batch_size": 1000})[0] == 200
    assert deliver(deliver_body(), notify="nope") == (400, {"validation_errors": ["notify must be a valid URL"]})
    assert deliver({"deliver": {"type": "ftp"}}) == (
        400,
        {
            "validation_errors": [
                (
                    "deliver.type must be equal to one of the allowed values: "
                    "s3, gcs, gcs_pubsub, azure, sftp, snowflake, webhook, email, build, ali_oss"
                )
            ]
        },
    )
    assert deliver(
        {
            "deliver": {
                "type": "azure",
                "container": "c",
                "filename": {"template": "x", "extension": "json"},
                "credentials": {"account": "a", "key": "k", "sas_token": "t"},
            }
        }
    ) == (400, {"validation_errors": ["deliver.credentials must have account and exactly one of key, sas_token"]})
    assert api.post(f"{V3}/deliver/s_nope", json=deliver_body()).json() == {"error": "Snapshot does not exist"}


# -- snapshot list -----------------------------------------------------------------------------------------


def test_snapshot_list_pages_and_filters(start_emulator: Callable[..., Emulator]) -> None:
    api = Api(start_emulator("brightdata"))
    made = [api.trigger() for _ in range(3)]
    everything = api.get(f"{V3}/snapshots", params={"dataset_id": DATASET}).json()
    assert [s["id"] for s in everything][:3] == made[::-1] and len(everything) == 5
    assert set(everything[0]) == {"id", "created", "status", "dataset_id", "dataset_size", "trigger"}
    pages = [
        api.get(f"{V3}/snapshots", params={"dataset_id": DATASET, "skip": k, "limit": 2}).json() for k in (0, 2, 4)
    ]
    assert [len(p) for p in pages] == [2, 2, 1] and [s for p in pages for s in p] == everything
    cp = api.get(f"{V3}/snapshots", params={"dataset_id": DATASET, "trigger_type": "CP"}).json()
    assert {s["trigger"]["type"] for s in cp} == {"CP"} and len(cp) == 2
    failed = api.get(f"{V3}/snapshots", params={"dataset_id": DATASET, "status": "failed"}).json()
    assert [s["status"] for s in failed] == ["failed"]
    future = api.get(f"{V3}/snapshots", params={"dataset_id": DATASET, "from_date": "2999-01-01"}).json()
    assert future == []
    bad = api.get(
        f"{V3}/snapshots",
        params={"skip": "-1", "limit": "9000", "status": "done", "trigger_type": "X", "to_date": "soon"},
    )
    assert (bad.status_code, bad.json()) == (
        400,
        {
            "validation_errors": [
                "dataset_id is required",
                "skip must be greater than or equal to 0",
                "limit must be between 1 and 5000",
                "status must be equal to one of the allowed values: starting, running, ready, failed",
                "trigger_type must be equal to one of the allowed values: ALL, CP, API",
                "to_date must be a date (YYYY-MM-DD)",
            ]
        },
    )


# -- faults ------------------------------------------------------------------------------------------------


@pytest.fixture
def ready(api: Api) -> Iterator[tuple[Api, str]]:
    sid = api.trigger()
    api.wait_status(sid)
    yield api, sid


def test_status_fault_answers_the_vendor_error_shape_then_clears(ready: tuple[Api, str]) -> None:
    api, sid = ready
    api.emu.faults.add("status", path="/progress/", status=500, times=2)
    api.emu.faults.add("status", path="/snapshots$", status=429, retry_after=3, times=1)
    api.emu.faults.add("status", path="/log/", status=502, html=True, times=1)
    for _ in range(2):
        answer = api.get(f"{V3}/progress/{sid}")
        assert (answer.status_code, answer.json()) == (500, {"error": "Internal server error"})
    assert api.get(f"{V3}/progress/{sid}").status_code == 200
    limited = api.get(f"{V3}/snapshots", params={"dataset_id": DATASET})
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    page = api.get(f"{V3}/log/{sid}")
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")
    assert len(api.emu.faults) == 0


def test_status_fault_on_trigger_creates_nothing(ready: tuple[Api, str]) -> None:
    api, _ = ready
    before = set(api.emu.app.snapshots)
    api.emu.faults.add("status", path="/trigger$", status=500, message="Internal server error")
    answer = api.post(f"{V3}/trigger", params={"dataset_id": DATASET}, json=INPUTS)
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal server error"})
    assert set(api.emu.app.snapshots) == before
    assert [r.method for r in api.emu.app.requests if r.path.endswith("/trigger")][-1] == "POST"


def test_slow_fault_delays_the_answer(ready: tuple[Api, str]) -> None:
    api, sid = ready
    api.emu.faults.add("slow", path="/progress/", delay=0.5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{api.emu.base_url}{V3}/progress/{sid}", timeout=(2, 0.1), headers=dict(api.session.headers))
    assert api.get(f"{V3}/progress/{sid}").json()["status"] == "ready"


def test_drop_truncate_and_ignore_range_faults(ready: tuple[Api, str]) -> None:
    api, sid = ready
    whole = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"}).content
    api.emu.faults.add("drop", path=f"/snapshot/{sid}$", after_bytes=100)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(f"{V3}/snapshot/{sid}", params={"format": "json"})
    api.emu.faults.add("truncate", path=f"/snapshot/{sid}$", keep=0.5)
    half = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"})
    assert half.content == whole[: len(whole) // 2] and half.headers["Content-Length"] == str(len(whole) // 2)
    api.emu.faults.add("ignore_range", path=f"/snapshot/{sid}$")
    ignored = api.get(f"{V3}/snapshot/{sid}", params={"format": "json"}, headers={"Range": "bytes=10-"})
    assert ignored.status_code == 200 and ignored.content == whole
    assert api.get(f"{V3}/snapshot/{sid}", params={"format": "json"}).content == whole


def test_every_request_is_recorded(ready: tuple[Api, str]) -> None:
    api, sid = ready
    api.post(f"{V3}/deliver/{sid}", params={"notify": "https://n.example.com"}, json=deliver_body())
    last = api.emu.app.requests[-1]
    assert (last.method, last.path, last.query) == ("POST", f"{V3}/deliver/{sid}", "notify=https%3A%2F%2Fn.example.com")
    assert last.json() == deliver_body() and last.headers["Authorization"].startswith("Bearer ")


# -- malformed bodies: a documented 4xx with a JSON body, never a 500, nothing stored ----------------
MALFORMED_BODIES = (
    b"{",
    b"[]",
    b'"text"',
    b"42",
    b"null",
    b"\xff\xfe",
    b"[[null, null]]",
    b'[{"url": [null]}]',
    b'{"deliver": [null]}',
    b'[{"url": "https://shop.example.com/\\udb33"}]',
    (
        b'{"deliver": {"type": "webhook", "endpoint": "https://h.example/\\udc00",'
        b' "filename": {"template": "t", "extension": "json"}}}'
    ),
)
"""Bodies schemathesis-style fuzzing sends; the two lone surrogate escapes were stored, then
made every answer that echoed them a 500 page."""


def test_every_malformed_body_is_a_json_4xx_and_nothing_is_stored(api: Api) -> None:
    sid = api.trigger()
    before = {s["id"] for s in api.get(f"{V3}/snapshots", params={"dataset_id": DATASET}).json()}
    collector = next(iter(api.emu.app.collectors))
    collections = len(api.emu.app.collections)
    wrong = []
    for path, allowed in (
        (f"{V3}/trigger?dataset_id={DATASET}", {400}),
        (f"{V3}/deliver/{sid}", {400}),
        (f"/dca/trigger?collector={collector}", {400, 422}),
    ):
        for body in MALFORMED_BODIES:
            answer = api.post(path, data=body, headers={"Content-Type": "application/json"})
            if answer.status_code not in allowed or not answer.headers["Content-Type"].startswith("application/json"):
                wrong.append((path, body, answer.status_code, answer.text[:100]))
    assert wrong == []
    assert {s["id"] for s in api.get(f"{V3}/snapshots", params={"dataset_id": DATASET}).json()} == before
    assert len(api.emu.app.collections) == collections
