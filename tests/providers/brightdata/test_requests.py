"""Bright Data Datasets v3: the exact requests the client sends, endpoint by endpoint and
parameter by parameter (``responses`` stands in for api.brightdata.com)."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.errors import BadRequest, ConfigurationError, InvalidArgument, JobCancelled, JobFailed, ServerError
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
    S3Role,
    SFTPCredentials,
    Snowflake,
    SnowflakeCredentials,
    Webhook,
)
from dataferry.providers.brightdata.delivery import TARGETS
from dataferry.status import JobState
from dataferry.wait import PollPolicy

BASE = "https://api.brightdata.com"
V3 = f"{BASE}/datasets/v3"
TOKEN = "bd-test-token-5f1e2d3c"
DATASET = "gd_l1viktl72bvl7bjuj0"
POLLS = PollPolicy(initial=1.0, growth=1.0, maximum=1.0, jitter=0.0)


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def bd(clock: FakeClock) -> Iterator[Client]:
    client = Client(token=TOKEN, base_url=BASE, clock=clock, poll=POLLS)
    yield client
    client.close()


def query(call: Any) -> list[tuple[str, str]]:
    """The query string of a recorded call as ordered pairs."""
    return parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True)


def path(call: Any) -> str:
    return urlsplit(call.request.url).path


# -- client ------------------------------------------------------------------------------------------


def test_token_from_argument_or_environment_else_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="BRIGHTDATA_API_TOKEN"):
        Client()
    monkeypatch.setenv("BRIGHTDATA_API_TOKEN", "from-env-token-1234")
    with responses.RequestsMock() as mock:
        mock.get(f"{V3}/progress/s_1", json={"status": "running"})
        Client().snapshot("s_1").status()
        assert mock.calls[0].request.headers["Authorization"] == "Bearer from-env-token-1234"


def test_base_url_is_honoured_with_or_without_trailing_slash(clock: FakeClock) -> None:
    with responses.RequestsMock() as mock:
        mock.get("http://127.0.0.1:9999/datasets/v3/progress/s_1", json={"status": "ready"})
        bd = Client(token=TOKEN, base_url="http://127.0.0.1:9999/", clock=clock)
        assert bd.snapshot("s_1").status().state is JobState.DONE
        assert bd.base_url == "http://127.0.0.1:9999"


def test_reattach_code_names_the_base_url_only_when_it_is_not_the_default(bd: Client) -> None:
    assert bd.snapshot("s_abc").reattach == "brightdata.Client().snapshot('s_abc')"
    assert bd.delivery("d_abc").reattach == "brightdata.Client().delivery('d_abc')"
    other = Client(token=TOKEN, base_url="http://127.0.0.1:8000")
    assert other.snapshot("s_abc").reattach == "brightdata.Client(base_url='http://127.0.0.1:8000').snapshot('s_abc')"


# -- trigger -----------------------------------------------------------------------------------------


def test_trigger_posts_the_inputs_as_a_json_array_with_bearer_auth(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_m4x7enmven8djfqak"})
    inputs = [{"url": "https://example.com/p/1"}, {"url": "https://example.com/p/2", "zipcode": "10001"}]
    snap = bd.trigger(DATASET, inputs)
    sent = rs.calls[0].request
    assert sent.method == "POST"
    assert path(rs.calls[0]) == "/datasets/v3/trigger"
    assert query(rs.calls[0]) == [("dataset_id", DATASET)]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body) == inputs
    assert snap.id == "s_m4x7enmven8djfqak"
    assert snap.dataset_id == DATASET


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"include_errors": True}, [("include_errors", "true")]),
        ({"include_errors": False}, [("include_errors", "false")]),
        ({"type": "discover_new", "discover_by": "keyword"}, [("type", "discover_new"), ("discover_by", "keyword")]),
        ({"limit_per_input": 5}, [("limit_per_input", "5")]),
        ({"limit_multiple_results": 200}, [("limit_multiple_results", "200")]),
        ({"custom_output_fields": ["url", "about.updated_on"]}, [("custom_output_fields", "url|about.updated_on")]),
        ({"custom_output_fields": "url|title"}, [("custom_output_fields", "url|title")]),
        ({"notify": True}, [("notify", "true")]),
        ({"notify": "https://notify-me.example.com/done"}, [("notify", "https://notify-me.example.com/done")]),
        ({"endpoint": "https://hooks.example.com/bd"}, [("endpoint", "https://hooks.example.com/bd")]),
        (
            {"endpoint": "https://hooks.example.com/bd", "auth_header": "Basic dXNlcjpwYXNz"},
            [("endpoint", "https://hooks.example.com/bd"), ("auth_header", "Basic dXNlcjpwYXNz")],
        ),
        ({"format": "ndjson"}, [("format", "ndjson")]),
        ({"format": "jsonl"}, [("format", "jsonl")]),
        ({"format": "csv"}, [("format", "csv")]),
        ({"format": "json"}, [("format", "json")]),
        ({"uncompressed_webhook": True}, [("uncompressed_webhook", "true")]),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_trigger_query_parameter(
    rs: responses.RequestsMock, bd: Client, options: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_1"})
    inputs = [{"keyword": "chairs"}] if options.get("type") else [{"url": "https://example.com/p/1"}]
    bd.trigger(DATASET, inputs, **options)
    sent = query(rs.calls[0])
    assert sent[0] == ("dataset_id", DATASET)
    assert sorted(sent[1:]) == sorted(expected)


def test_trigger_with_every_parameter_at_once(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_all"})
    bd.trigger(
        DATASET,
        [{"keyword": "lamp"}],
        include_errors=True,
        type="discover_new",
        discover_by="keyword",
        limit_per_input=3,
        limit_multiple_results=9,
        custom_output_fields=["url", "title"],
        notify="https://n.example.com/",
        endpoint="https://hooks.example.com/x",
        auth_header="Bearer hook-secret-99",
        format="csv",
        uncompressed_webhook=False,
    )
    assert dict(query(rs.calls[0])) == {
        "dataset_id": DATASET,
        "include_errors": "true",
        "type": "discover_new",
        "discover_by": "keyword",
        "limit_per_input": "3",
        "limit_multiple_results": "9",
        "custom_output_fields": "url|title",
        "notify": "https://n.example.com/",
        "endpoint": "https://hooks.example.com/x",
        "auth_header": "Bearer hook-secret-99",
        "format": "csv",
        "uncompressed_webhook": "false",
    }


def test_trigger_body_from_a_dataframe_sends_records_with_nulls_numbers_and_dates(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_df"})
    frame = pd.DataFrame(
        {
            "url": ["https://example.com/a", "https://example.com/b"],
            "max_pages": np.array([3, 4], dtype="int64"),
            "budget": [1.5, np.nan],
            "since": pd.to_datetime(["2026-01-02", "2026-02-03"]),
            "note": ["Café 東京", None],
        }
    )
    bd.trigger(DATASET, frame)
    sent = rs.calls[0].request
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body) == [
        {
            "url": "https://example.com/a",
            "max_pages": 3,
            "budget": 1.5,
            "since": "2026-01-02T00:00:00",
            "note": "Café 東京",
        },
        {"url": "https://example.com/b", "max_pages": 4, "budget": None, "since": "2026-02-03T00:00:00", "note": None},
    ]


def test_trigger_body_from_a_csv_file_is_uploaded_as_multipart_field_data(
    rs: responses.RequestsMock, bd: Client, tmp_path: Path
) -> None:
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_csv"})
    csv_file = tmp_path / "inputs.csv"
    content = "url,zipcode\nhttps://example.com/p/1,10001\nhttps://example.com/p/2,Zürich\n".encode()
    csv_file.write_bytes(content)
    bd.trigger(DATASET, csv_file)
    sent = rs.calls[0].request
    ctype = sent.headers["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    fields = [p for p in sent.body.split(b"--" + boundary) if p.strip(b"-\r\n")]
    assert len(fields) == 1
    head, _, payload = fields[0].partition(b"\r\n\r\n")
    assert b'name="data"' in head and b'filename="inputs.csv"' in head and b"Content-Type: text/csv" in head
    assert payload.rstrip(b"\r\n") == content.rstrip(b"\n")
    # a str path works as well
    rs.post(f"{V3}/trigger", json={"snapshot_id": "s_csv2"})
    assert bd.trigger(DATASET, str(csv_file)).id == "s_csv2"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("", [{"url": "https://e.com"}]), {}, "dataset_id is required"),
        ((DATASET, [{"url": "https://e.com"}]), {"type": "discover_all"}, "only trigger type is 'discover_new'"),
        ((DATASET, [{"keyword": "x"}]), {"type": "discover_new"}, "needs discover_by"),
        ((DATASET, [{"keyword": "x"}]), {"discover_by": "keyword"}, "only applies with type='discover_new'"),
        ((DATASET, [{"url": "https://e.com"}]), {"limit_per_input": 0}, "limit_per_input must be a number >= 1"),
        ((DATASET, [{"url": "https://e.com"}]), {"limit_multiple_results": -2}, "limit_multiple_results must be"),
        ((DATASET, [{"url": "https://e.com"}]), {"format": "xml"}, "format='xml' is not one of"),
        ((DATASET, [{"url": "https://e.com"}]), {"endpoint": "ftp://hooks"}, "endpoint must be an http"),
        ((DATASET, []), {}, "inputs is empty"),
        ((DATASET, ["https://e.com"]), {}, "inputs must be a list of dicts"),
        ((DATASET, "/no/such/inputs.csv"), {}, "is not a file"),
        ((DATASET, [{"url": "https://e.com"}]), {"download_format": "parquet"}, "format='parquet' is not one of"),
        ((DATASET, [{"url": "https://e.com"}]), {"batch_size": 999}, "batch_size must be at least 1000"),
    ],
    ids=[
        "no-dataset",
        "bad-type",
        "discover-without-by",
        "by-without-discover",
        "limit-per-input",
        "limit-multiple",
        "webhook-format",
        "endpoint",
        "empty",
        "not-dicts",
        "missing-csv",
        "download-format",
        "batch-size",
    ],
)
def test_trigger_refuses_bad_arguments_before_sending(
    rs: responses.RequestsMock, bd: Client, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        bd.trigger(*args, **kwargs)
    assert len(rs.calls) == 0


# -- progress ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("starting", JobState.QUEUED),
        ("running", JobState.RUNNING),
        ("collecting", JobState.RUNNING),
        ("digesting", JobState.RUNNING),
        ("building", JobState.RUNNING),
        ("ready", JobState.DONE),
        ("failed", JobState.FAILED),
        ("canceled", JobState.CANCELLED),
        ("some_new_status", JobState.RUNNING),
    ],
)
def test_progress_status_maps_onto_job_states(
    rs: responses.RequestsMock, bd: Client, raw: str, state: JobState
) -> None:
    rs.get(f"{V3}/progress/s_1", json={"snapshot_id": "s_1", "dataset_id": DATASET, "status": raw})
    status = bd.snapshot("s_1").status()
    assert path(rs.calls[0]) == "/datasets/v3/progress/s_1"
    assert rs.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (status.state, status.raw) == (state, raw)


def test_wait_polls_progress_until_ready(rs: responses.RequestsMock, bd: Client, clock: FakeClock) -> None:
    for raw in ("starting", "running", "running", "ready"):
        rs.get(f"{V3}/progress/s_1", json={"snapshot_id": "s_1", "dataset_id": DATASET, "status": raw})
    snap = bd.snapshot("s_1").wait()
    assert snap.done and len(rs.calls) == 4
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_failed_progress_raises_job_failed_with_the_message(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/progress/s_1", json={"status": "failed", "error_message": "Account is suspended"})
    with pytest.raises(JobFailed) as info:
        bd.snapshot("s_1").wait()
    assert info.value.vendor_message == "Account is suspended"


def test_canceled_progress_raises_job_cancelled(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/progress/s_1", json={"status": "canceled"})
    with pytest.raises(JobCancelled):
        bd.snapshot("s_1").wait()


# -- snapshot download -------------------------------------------------------------------------------

ROWS = [{"id": 1, "name": "Café", "tags": ["a"]}, {"id": 2, "name": "東京", "tags": []}]


def encoded(rows: list[dict[str, Any]], fmt: str, compress: bool) -> bytes:
    if fmt == "json":
        data = json.dumps(rows, ensure_ascii=False).encode()
    elif fmt == "csv":
        lines = ["id,name,tags"] + [
            f'{r["id"]},{r["name"]},"{json.dumps(r["tags"]).replace(chr(34), chr(34) * 2)}"' for r in rows
        ]
        data = ("\n".join(lines) + "\n").encode()
    else:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    return gzip.compress(data) if compress else data


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("fmt", ["json", "ndjson", "jsonl", "csv"])
def test_download_in_one_part_sends_format_and_compress(
    rs: responses.RequestsMock, bd: Client, fmt: str, compress: bool
) -> None:
    rs.get(f"{V3}/progress/s_1", json={"status": "ready"})
    rs.get(f"{V3}/snapshot/s_1", body=encoded(ROWS, fmt, compress))
    df = bd.snapshot("s_1", format=fmt, compress=compress).to_pandas()
    download = rs.calls[1]
    assert path(download) == "/datasets/v3/snapshot/s_1"
    assert query(download) == [("format", fmt), ("compress", "true" if compress else "false")]
    assert download.request.headers["Accept-Encoding"] == "identity"
    assert df["id"].tolist() == [1, 2] and df["name"].tolist() == ["Café", "東京"]


def test_download_in_parts_asks_parts_then_each_part_in_order(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/progress/s_1", json={"status": "ready"})
    rs.get(f"{V3}/snapshot/s_1/parts", json={"parts": 3})
    for k in range(3):
        rows = [{"id": 1000 * k + i, "name": f"r{k}"} for i in range(2)]
        rs.get(
            f"{V3}/snapshot/s_1",
            body=encoded(rows, "ndjson", True),
            match=[
                responses.matchers.query_param_matcher(
                    {"format": "ndjson", "compress": "true", "batch_size": "1000", "part": str(k + 1)}
                )
            ],
        )
    snap = bd.snapshot("s_1", format="ndjson", compress=True, batch_size=1000)
    df = snap.to_pandas(workers=1)
    assert query(rs.calls[1]) == [("format", "ndjson"), ("compress", "true"), ("batch_size", "1000")]
    assert [q for c in rs.calls[2:] for k, q in query(c) if k == "part"] == ["1", "2", "3"]
    assert df["id"].tolist() == [0, 1, 1000, 1001, 2000, 2001]


def test_part_count_sends_format_compress_and_batch_size(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/snapshot/s_1/parts", json={"parts": 7})
    assert bd.snapshot("s_1", format="csv", compress=False, batch_size=5000).part_count() == 7
    assert path(rs.calls[0]) == "/datasets/v3/snapshot/s_1/parts"
    assert query(rs.calls[0]) == [("format", "csv"), ("compress", "false"), ("batch_size", "5000")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"format": "xlsx"}, "format='xlsx'"), ({"batch_size": 10}, "batch_size must be at least 1000")],
)
def test_snapshot_handle_refuses_bad_download_options(bd: Client, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        bd.snapshot("s_1", **kwargs)


def test_snapshot_and_delivery_ids_are_required(bd: Client) -> None:
    with pytest.raises(InvalidArgument):
        bd.snapshot("")
    with pytest.raises(InvalidArgument):
        bd.delivery("")


# -- input, cancel, log ------------------------------------------------------------------------------


def test_input_reads_the_csv_as_utf8_even_without_a_charset(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(
        f"{V3}/snapshot/s_1/input", body="url,name\nhttps://example.com/1,Café 東京\n".encode(), content_type="text/csv"
    )
    frame = bd.snapshot("s_1").input()
    assert path(rs.calls[0]) == "/datasets/v3/snapshot/s_1/input"
    assert frame.to_dict(orient="records") == [{"url": "https://example.com/1", "name": "Café 東京"}]


def test_cancel_posts_to_the_cancel_endpoint(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(f"{V3}/snapshot/s_1/cancel", body="OK", content_type="text/plain")
    snap = bd.snapshot("s_1")
    snap.cancel()
    assert rs.calls[0].request.method == "POST" and path(rs.calls[0]) == "/datasets/v3/snapshot/s_1/cancel"
    assert snap.last_status is not None and snap.last_status.state is JobState.CANCELLED


def test_log_returns_the_run_metadata(rs: responses.RequestsMock, bd: Client) -> None:
    body = {"id": "s_1", "status": "ready", "dataset_size": 42, "trigger": {"type": "API"}}
    rs.get(f"{V3}/log/s_1", json=body)
    assert bd.snapshot("s_1").log() == body
    assert path(rs.calls[0]) == "/datasets/v3/log/s_1"


# -- deliver -----------------------------------------------------------------------------------------

GOOGLE = GoogleCredentials("svc@proj.iam.gserviceaccount.com", "-----BEGIN PRIVATE KEY-----\nabc\n")

WIRE_CASES: list[tuple[Any, dict[str, Any]]] = [
    (
        S3("bkt", S3AccessKey("AKIA123", "aws-secret-1"), region="eu-west-1", directory="out/"),
        {
            "type": "s3",
            "bucket": "bkt",
            "credentials": {"aws-access-key": "AKIA123", "aws-secret-key": "aws-secret-1"},
            "region": "eu-west-1",
            "directory": "out/",
        },
    ),
    (
        S3("bkt", S3Role("arn:aws:iam::1:role/bd", "ext-9")),
        {"type": "s3", "bucket": "bkt", "credentials": {"role_arn": "arn:aws:iam::1:role/bd", "external_id": "ext-9"}},
    ),
    (
        S3("bkt", S3AccessKey("AKIA123", "aws-secret-1"), endpoint_url="https://minio.example.com"),
        {
            "type": "s3",
            "bucket": "bkt",
            "credentials": {"aws-access-key": "AKIA123", "aws-secret-key": "aws-secret-1"},
            "endpoint_url": "https://minio.example.com",
        },
    ),
    (
        GCS("gbkt", GOOGLE, directory="d"),
        {
            "type": "gcs",
            "bucket": "gbkt",
            "directory": "d",
            "credentials": {"client_email": "svc@proj.iam.gserviceaccount.com", "private_key": GOOGLE.private_key},
        },
    ),
    (
        GCSPubSub("topic-1", GOOGLE, attributes=[{"source": "bd"}]),
        {
            "type": "gcs_pubsub",
            "topic_id": "topic-1",
            "attributes": [{"source": "bd"}],
            "credentials": {"client_email": "svc@proj.iam.gserviceaccount.com", "private_key": GOOGLE.private_key},
        },
    ),
    (
        Azure("my-container", AzureCredentials("acct1", key="azure-key-1"), directory="x"),
        {
            "type": "azure",
            "container": "my-container",
            "directory": "x",
            "credentials": {"account": "acct1", "key": "azure-key-1"},
        },
    ),
    (
        Azure("my-container", AzureCredentials("acct1", sas_token="sv=2024&sig=abc")),
        {
            "type": "azure",
            "container": "my-container",
            "credentials": {"account": "acct1", "sas_token": "sv=2024&sig=abc"},
        },
    ),
    (
        SFTP("sftp.example.com", SFTPCredentials("bob", password="pw-123"), port=2222, directory="/in"),
        {
            "type": "sftp",
            "path": "sftp.example.com",
            "port": 2222,
            "directory": "/in",
            "credentials": {"username": "bob", "password": "pw-123"},
        },
    ),
    (
        SFTP("sftp.example.com", SFTPCredentials("bob", ssh_key="ssh-ed25519 AAAA", passphrase="pp-1")),
        {
            "type": "sftp",
            "path": "sftp.example.com",
            "credentials": {"username": "bob", "ssh_key": "ssh-ed25519 AAAA", "passphrase": "pp-1"},
        },
    ),
    (
        Snowflake("DB", "PUBLIC", "STG", "LOADER", "WH", SnowflakeCredentials("acc-1", "loader", "snow-pw")),
        {
            "type": "snowflake",
            "database": "DB",
            "schema": "PUBLIC",
            "stage": "STG",
            "role": "LOADER",
            "warehouse": "WH",
            "credentials": {"account": "acc-1", "user": "loader", "password": "snow-pw"},
        },
    ),
    (Webhook("https://hooks.example.com/in"), {"type": "webhook", "endpoint": "https://hooks.example.com/in"}),
    (Email("https://mail.example.com/in"), {"type": "email", "endpoint": "https://mail.example.com/in"}),
    (Build("https://build.example.com/in"), {"type": "build", "endpoint": "https://build.example.com/in"}),
    (
        AliOSS("obkt", AliOSSCredentials("LTAI1", "ali-secret"), "oss-cn-hangzhou", directory="y"),
        {
            "type": "ali_oss",
            "bucket": "obkt",
            "region": "oss-cn-hangzhou",
            "directory": "y",
            "credentials": {"access-key": "LTAI1", "secret-key": "ali-secret"},
        },
    ),
]


def test_every_delivery_type_of_the_spec_has_a_wire_case() -> None:
    assert {type(t) for t, _ in WIRE_CASES} == set(TARGETS)


@pytest.mark.parametrize(
    ("target", "wire"), WIRE_CASES, ids=lambda v: type(v).__name__ if not isinstance(v, dict) else ""
)
def test_deliver_body_for_each_target_type(
    rs: responses.RequestsMock, bd: Client, target: Any, wire: dict[str, Any]
) -> None:
    rs.post(f"{V3}/deliver/s_1", json={"delivery_id": "d_1"})
    delivery = bd.snapshot("s_1").deliver(target)
    sent = rs.calls[0].request
    assert sent.method == "POST" and path(rs.calls[0]) == "/datasets/v3/deliver/s_1"
    assert query(rs.calls[0]) == []
    assert json.loads(sent.body) == {
        "deliver": {**wire, "filename": {"template": "{{snapshot_id}}", "extension": "json"}},
        "compress": False,
    }
    assert delivery.id == "d_1" and delivery.snapshot_id == "s_1"


def test_deliver_options_filename_extension_compress_batch_size_notify(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(f"{V3}/deliver/s_1", json={"delivery_id": "d_2"})
    bd.snapshot("s_1").deliver(
        Webhook("https://hooks.example.com/in"),
        filename="run-{{snapshot_id}}",
        extension="csv",
        compress=True,
        batch_size=50_000,
        notify="https://n.example.com/x",
    )
    assert query(rs.calls[0]) == [("notify", "https://n.example.com/x")]
    assert json.loads(rs.calls[0].request.body) == {
        "deliver": {
            "type": "webhook",
            "endpoint": "https://hooks.example.com/in",
            "filename": {"template": "run-{{snapshot_id}}", "extension": "csv"},
        },
        "compress": True,
        "batch_size": 50_000,
    }


@pytest.mark.parametrize(
    "answer",
    [{"delivery_id": "d_key"}, {"id": "d_key"}, {"delivery_id": "d_key", "id": "d_key"}],
    ids=["delivery_id", "id", "both"],
)
def test_deliver_reads_delivery_id_or_id(rs: responses.RequestsMock, bd: Client, answer: dict[str, str]) -> None:
    rs.post(f"{V3}/deliver/s_1", json=answer)
    assert bd.snapshot("s_1").deliver(Webhook("https://hooks.example.com/in")).id == "d_key"


@pytest.mark.parametrize(
    ("target", "kwargs", "message"),
    [
        ("s3://bucket", {}, "target must be a delivery target"),
        (Webhook("https://h.example.com"), {"extension": "parquet"}, "extension='parquet'"),
        (Webhook("https://h.example.com"), {"batch_size": 500}, "batch_size must be at least 1000"),
        (Webhook("https://h.example.com"), {"filename": ""}, "filename"),
        (Webhook("https://h.example.com"), {"notify": "not-a-url"}, "notify must be an http"),
    ],
    ids=["not-a-target", "extension", "batch-size", "filename", "notify"],
)
def test_deliver_refuses_bad_options_before_sending(
    rs: responses.RequestsMock, bd: Client, target: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        bd.snapshot("s_1").deliver(target, **kwargs)
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: S3("", S3AccessKey("a", "b")), "S3.bucket is required"),
        (lambda: S3("b", {"aws-access-key": "a"}), "S3AccessKey"),
        (lambda: S3("b", S3Role("arn", "x"), endpoint_url="https://minio"), "only with access-key"),
        (lambda: S3AccessKey("AKIA", ""), "secret_key is required"),
        (lambda: AzureCredentials("acct", key="k", sas_token="t"), "exactly one of key= or sas_token="),
        (lambda: AzureCredentials("bad-account!", key="k"), "letters and digits"),
        (lambda: Azure("UPPER", AzureCredentials("a", key="k")), "lowercase"),
        (lambda: SFTP("h", SFTPCredentials("u"), port=70000), "0–65535"),
        (lambda: SFTP("h", None), "SFTPCredentials"),  # type: ignore[arg-type]
        (lambda: Snowflake("", "s", "st", "r", "w", SnowflakeCredentials("a", "u", "p")), "Snowflake.database"),
        (lambda: AliOSS("b", AliOSSCredentials("a", "s"), ""), "AliOSS.region"),
        (lambda: Webhook("hooks.example.com"), "Webhook.endpoint must be an http"),
        (lambda: GCS("", GOOGLE), "GCS.bucket"),
        (lambda: GCSPubSub("", GOOGLE), "topic_id"),
    ],
    ids=[
        "s3-bucket",
        "s3-creds",
        "s3-endpoint-role",
        "s3-secret",
        "azure-both",
        "azure-account",
        "azure-container",
        "sftp-port",
        "sftp-creds",
        "snowflake",
        "ali-region",
        "webhook",
        "gcs",
        "pubsub",
    ],
)
def test_targets_validate_on_creation(make: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_target_reprs_hide_their_secrets() -> None:
    for target, _ in WIRE_CASES:
        text = repr(target)
        for secret in target.secrets():
            assert secret not in text


# -- delivery status ---------------------------------------------------------------------------------


def test_delivery_wait_polls_until_done_and_keeps_the_files(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/delivery/d_1", json={"id": "d_1", "status": "in_progress", "delivery_files": []})
    rs.get(
        f"{V3}/delivery/d_1",
        json={"id": "d_1", "status": "done", "delivery_files": [{"filename": "s_1.json", "delivery_ts": 1793491200}]},
    )
    delivery = bd.delivery("d_1").wait()
    assert [path(c) for c in rs.calls] == ["/datasets/v3/delivery/d_1"] * 2
    assert delivery.done
    assert delivery.files == [{"filename": "s_1.json", "delivery_ts": 1793491200}]
    assert delivery.last_status is not None and delivery.last_status.message == "1 files delivered"


@pytest.mark.parametrize(("raw", "error"), [("failed", JobFailed), ("canceled", JobCancelled)])
def test_delivery_failed_or_canceled_raises(rs: responses.RequestsMock, bd: Client, raw: str, error: type) -> None:
    rs.get(f"{V3}/delivery/d_1", json={"id": "d_1", "status": raw})
    with pytest.raises(error):
        bd.delivery("d_1").wait()


# -- snapshot list -----------------------------------------------------------------------------------


def snapshot_rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"s_{k}",
            "created": "2026-11-01T00:00:00.000Z",
            "status": "ready",
            "dataset_id": DATASET,
            "dataset_size": k,
            "trigger": {"type": "API"},
        }
        for k in range(start, start + n)
    ]


def test_snapshot_list_pages_with_skip_and_limit_to_the_end(rs: responses.RequestsMock, bd: Client) -> None:
    for skip, n in ((0, 2), (2, 2), (4, 1)):
        rs.get(
            f"{V3}/snapshots",
            json=snapshot_rows(n, skip),
            match=[responses.matchers.query_param_matcher({"dataset_id": DATASET, "skip": str(skip), "limit": "2"})],
        )
    frame = bd.snapshots(DATASET, page_size=2).to_pandas()
    assert len(rs.calls) == 3
    assert frame["id"].tolist() == ["s_0", "s_1", "s_2", "s_3", "s_4"]
    assert frame["trigger.type"].tolist() == ["API"] * 5


def test_snapshot_list_stops_on_an_empty_page_after_a_full_one(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(
        f"{V3}/snapshots",
        json=snapshot_rows(3),
        match=[responses.matchers.query_param_matcher({"dataset_id": DATASET, "skip": "0", "limit": "3"})],
    )
    rs.get(
        f"{V3}/snapshots",
        json=[],
        match=[responses.matchers.query_param_matcher({"dataset_id": DATASET, "skip": "3", "limit": "3"})],
    )
    assert len(bd.snapshots(DATASET, page_size=3)) == 3


def test_snapshot_list_filters(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(f"{V3}/snapshots", json=snapshot_rows(1))
    bd.snapshots(DATASET, status="ready", from_date="2026-01-01", to_date="2026-02-01", trigger_type="API").to_list()
    assert dict(query(rs.calls[0])) == {
        "dataset_id": DATASET,
        "status": "ready",
        "from_date": "2026-01-01",
        "to_date": "2026-02-01",
        "trigger_type": "API",
        "skip": "0",
        "limit": "1000",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "done"}, "status='done'"),
        ({"trigger_type": "WEB"}, "trigger_type='WEB'"),
        ({"page_size": 0}, "page_size must be 1–5000"),
        ({"page_size": 5001}, "page_size must be 1–5000"),
        ({"from_date": "yesterday"}, "from_date='yesterday'"),
        ({"to_date": "2026/01/01"}, "to_date='2026/01/01'"),
    ],
)
def test_snapshot_list_refuses_bad_filters_before_sending(
    rs: responses.RequestsMock, bd: Client, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        bd.snapshots(DATASET, **kwargs)
    with pytest.raises(InvalidArgument, match="dataset_id is required"):
        bd.snapshots("")
    assert len(rs.calls) == 0


# -- secrets -----------------------------------------------------------------------------------------


def test_secrets_echoed_back_by_the_vendor_are_masked(
    rs: responses.RequestsMock, bd: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = "Basic aG9vay1zZWNyZXQtMTIz"
    s3_secret = "aws-secret-Zq81xXk2"
    rs.post(
        f"{V3}/trigger",
        status=400,
        json={"validation_errors": [f"auth_header {hook} was refused", f"token {TOKEN} is not allowed here"]},
    )
    with pytest.raises(BadRequest) as trig:
        bd.trigger(
            DATASET, [{"url": "https://example.com/p/1"}], endpoint="https://hooks.example.com/x", auth_header=hook
        )
    target = S3("bkt", S3AccessKey("AKIA123", s3_secret))
    rs.post(f"{V3}/deliver/s_1", status=500, json={"error": f"S3 refused aws-secret-key={s3_secret}"})
    with pytest.raises(ServerError) as dlv:
        bd.snapshot("s_1").deliver(target)
    shown = [
        str(trig.value),
        repr(trig.value.body),
        trig.value.url,
        str(dlv.value),
        repr(dlv.value.body),
        repr(bd),
        repr(bd.snapshot("s_1")),
        repr(target),
        repr(target.credentials),
    ]
    shown += [r.getMessage() for r in caplog.records]
    assert "auth_header=%2A%2A%2A" in trig.value.url or "auth_header=***" in trig.value.url
    assert "***" in str(trig.value) and "***" in str(dlv.value)
    for secret in (TOKEN, hook, s3_secret):
        assert not [line for line in shown if secret in line], secret
