"""Bright Data collectors (DCA): what ``Client.collect`` sends to ``POST /dca/trigger``, what it
refuses before sending, and how the trigger's error answers surface (``responses`` stands in
for api.brightdata.com)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest
import requests
import responses

from dataferry.clock import FakeClock
from dataferry.errors import (
    ApiError,
    AuthenticationError,
    InvalidArgument,
    NotFound,
    RequestMayHaveReached,
    ServerError,
    UnprocessableEntity,
)
from dataferry.providers.brightdata import Client, Collection
from dataferry.wait import PollPolicy

BASE = "https://api.brightdata.com"
TRIGGER = f"{BASE}/dca/trigger"
TOKEN = "bd-dca-token-9c8b7a6d5e"
COLLECTOR = "c_lq3x1ab2"
ANSWER = {"collection_id": "j_lq3xa1b2c3d4", "start_eta": "2021-11-07T13:26:22.702Z"}
INPUTS = [{"url": "https://example.com/p/1"}, {"url": "https://example.com/p/2"}]


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def bd(clock: FakeClock) -> Iterator[Client]:
    client = Client(token=TOKEN, base_url=BASE, clock=clock, poll=PollPolicy(jitter=0.0))
    yield client
    client.close()


def query(call: Any) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True)


# -- what is sent ------------------------------------------------------------------------------------


def test_collect_sends_every_parameter_and_returns_the_collection(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    col = bd.collect(
        COLLECTOR, INPUTS, name="nightly", version="dev", queue="after-nightly", no_downloads=True, deadline="90m"
    )
    (call,) = rs.calls
    assert query(call) == [
        ("collector", COLLECTOR),
        ("version", "dev"),
        ("name", "nightly"),
        ("queue", "after-nightly"),
        ("no_downloads", "1"),
        ("deadline", "90m"),
    ]
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == INPUTS
    assert isinstance(col, Collection)
    assert (col.id, col.collector_id, col.name, col.deadline) == ("j_lq3xa1b2c3d4", COLLECTOR, "nightly", "90m")
    assert col.start_eta == "2021-11-07T13:26:22.702Z"
    assert col.reattach == "brightdata.Client().collection('j_lq3xa1b2c3d4')"


def test_queue_next_is_sent_by_default_and_when_asked(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    bd.collect(COLLECTOR, INPUTS)
    bd.collect(COLLECTOR, INPUTS, queue_next=True)
    assert query(rs.calls[0]) == [("collector", COLLECTOR), ("queue_next", "1")]
    assert query(rs.calls[1]) == [("collector", COLLECTOR), ("queue_next", "1")]


def test_confirm_cancel_is_sent_alone(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    bd.collect(COLLECTOR, INPUTS, confirm_cancel=True, queue_next=False)
    assert query(rs.calls[0]) == [("collector", COLLECTOR), ("confirm_cancel", "1")]


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        ("1h", "1h"),
        ("30m", "30m"),
        ("45s", "45s"),
        ("120s", "120s"),
        (timedelta(hours=2), "2h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=75), "75s"),
    ],
)
def test_deadline_goes_on_the_wire_as_number_and_unit(
    rs: responses.RequestsMock, bd: Client, given: Any, wire: str
) -> None:
    rs.post(TRIGGER, json=ANSWER)
    col = bd.collect(COLLECTOR, INPUTS, deadline=given)
    assert ("deadline", wire) in query(rs.calls[0])
    assert col.deadline == wire


# -- refused before anything is sent ------------------------------------------------------------------


@pytest.mark.parametrize(
    "deadline",
    ["1d", "1.5h", "h", "10", " 1h", "1h ", "1h\n", "0m", "-5s", "1H", 10, timedelta(0), timedelta(seconds=1.5)],
)
def test_a_malformed_deadline_is_refused_before_sending(rs: responses.RequestsMock, bd: Client, deadline: Any) -> None:
    with pytest.raises(InvalidArgument, match="deadline"):
        bd.collect(COLLECTOR, INPUTS, deadline=deadline)
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"queue_next": True, "queue": "x"}, "queue_next and queue"),
        ({"queue_next": True, "confirm_cancel": True}, "queue_next and confirm_cancel"),
        ({"queue": "x", "confirm_cancel": True}, "queue and confirm_cancel"),
        ({"queue_next": True, "queue": "x", "confirm_cancel": True}, "queue_next and queue and confirm_cancel"),
    ],
)
def test_contradicting_behaviours_are_refused_naming_them(
    rs: responses.RequestsMock, bd: Client, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidArgument, match=named) as info:
        bd.collect(COLLECTOR, INPUTS, **options)
    assert "confirm_cancel=True" in str(info.value)  # the hint lists the choices
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"queue_next": False}, "queue_next=False leaves no trigger behaviour"),
        ({"queue": ""}, "queue must be a non-empty string"),
        ({"queue": 3}, "queue must be a non-empty string"),
        ({"confirm_cancel": "yes"}, "confirm_cancel must be True or False"),
        ({"no_downloads": 1}, "no_downloads must be True or False"),
        ({"version": "prod"}, "only version to ask for is 'dev'"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"body_format": "xml"}, "body_format='xml' is not one of json, csv, multipart"),
    ],
)
def test_bad_options_are_refused_before_sending(
    rs: responses.RequestsMock, bd: Client, options: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        bd.collect(COLLECTOR, INPUTS, **options)
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("collector", "inputs", "pattern"),
    [
        ("", INPUTS, "collector_id must be a collector id"),
        ("c_ x", INPUTS, "collector_id must be a collector id"),
        (COLLECTOR, [], "is empty"),
        (COLLECTOR, ["https://example.com"], "must be a list of dicts"),
        (COLLECTOR, {"url": "https://example.com"}, "must be a list of dicts"),
        (COLLECTOR, "no/such/file.csv", "is not a file"),
    ],
)
def test_bad_inputs_are_refused_before_sending(
    rs: responses.RequestsMock, bd: Client, collector: str, inputs: Any, pattern: str
) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        bd.collect(collector, inputs)
    assert len(rs.calls) == 0


def test_input_files_must_be_csv_or_json_and_not_empty(rs: responses.RequestsMock, bd: Client, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("url\nhttps://example.com\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidArgument, match=r"\.csv or a \.json"):
        bd.collect(COLLECTOR, tmp_path / "in.txt")
    with pytest.raises(InvalidArgument, match="is empty"):
        bd.collect(COLLECTOR, tmp_path / "empty.csv")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        bd.collect(COLLECTOR, tmp_path / "bad.json")
    assert len(rs.calls) == 0


# -- body forms ----------------------------------------------------------------------------------------


def test_a_dataframe_goes_as_json_records_with_nulls_and_iso_dates(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    frame = pd.DataFrame(
        {
            "url": ["https://example.com/a", "https://example.com/b"],
            "max_pages": [3, np.nan],
            "since": pd.to_datetime(["2026-01-02", "2026-02-03"]),
        }
    )
    bd.collect(COLLECTOR, frame)
    assert json.loads(rs.calls[0].request.body) == [
        {"url": "https://example.com/a", "max_pages": 3.0, "since": "2026-01-02T00:00:00"},
        {"url": "https://example.com/b", "max_pages": None, "since": "2026-02-03T00:00:00"},
    ]


def test_records_can_go_as_a_csv_body(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    bd.collect(
        COLLECTOR,
        [{"url": "https://example.com/a", "tags": ["x", "y"]}, {"url": "https://example.com/b"}],
        body_format="csv",
    )
    request = rs.calls[0].request
    assert request.headers["Content-Type"].startswith("text/csv")
    assert request.body.decode().splitlines() == [
        "url,tags",
        'https://example.com/a,"[""x"", ""y""]"',
        "https://example.com/b,",
    ]


def test_records_can_go_as_a_multipart_upload(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json=ANSWER)
    bd.collect(COLLECTOR, INPUTS, body_format="multipart")
    request = rs.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.body.decode()
    assert 'name="data"; filename="inputs.csv"' in body
    assert "url\r\nhttps://example.com/p/1\r\nhttps://example.com/p/2\r\n" in body


def test_a_csv_file_is_uploaded_as_is(rs: responses.RequestsMock, bd: Client, tmp_path: Path) -> None:
    rs.post(TRIGGER, json=ANSWER)
    path = tmp_path / "urls.csv"
    path.write_bytes(b"url\nhttps://example.com/\xc3\xa9\n")
    bd.collect(COLLECTOR, path)
    request = rs.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="data"; filename="urls.csv"' in request.body
    assert b"Content-Type: text/csv\r\n\r\nurl\nhttps://example.com/\xc3\xa9\n" in request.body


def test_a_csv_file_can_go_as_the_raw_body_or_as_json(rs: responses.RequestsMock, bd: Client, tmp_path: Path) -> None:
    rs.post(TRIGGER, json=ANSWER)
    path = tmp_path / "urls.csv"
    path.write_text("url,country\nhttps://example.com/1,DE\n")
    bd.collect(COLLECTOR, str(path), body_format="csv")
    bd.collect(COLLECTOR, path, body_format="json")
    assert rs.calls[0].request.headers["Content-Type"].startswith("text/csv")
    assert rs.calls[0].request.body == path.read_bytes()
    assert json.loads(rs.calls[1].request.body) == [{"url": "https://example.com/1", "country": "DE"}]


def test_a_json_file_goes_as_a_json_body(rs: responses.RequestsMock, bd: Client, tmp_path: Path) -> None:
    rs.post(TRIGGER, json=ANSWER)
    path = tmp_path / "urls.json"
    path.write_text(json.dumps(INPUTS))
    bd.collect(COLLECTOR, path)
    assert rs.calls[0].request.headers["Content-Type"] == "application/json"
    assert json.loads(rs.calls[0].request.body) == INPUTS
    path.write_text(json.dumps({"url": "https://example.com"}))
    with pytest.raises(InvalidArgument, match="must be a list of dicts"):
        bd.collect(COLLECTOR, path)


# -- error answers and never re-sending ---------------------------------------------------------------


def test_a_schema_mismatch_is_unprocessable_with_each_problem_listed(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(
        TRIGGER,
        status=422,
        json={
            "error": "Input does not match the collector's input schema",
            "validation_errors": ["Input 1: url is required"],
        },
    )
    with pytest.raises(UnprocessableEntity) as info:
        bd.collect(COLLECTOR, [{"keyword": "chairs"}])
    text = str(info.value)
    assert "HTTP 422: Input does not match the collector's input schema" in text
    assert "- Input 1: url is required" in text
    assert "input schema: check the field names" in text
    assert len(rs.calls) == 1


def test_an_unknown_collector_is_not_found_with_a_hint_about_the_id(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, status=404, json={"error": "Collector not found"})
    with pytest.raises(NotFound) as info:
        bd.collect("c_nope", INPUTS)
    assert "Collector not found" in str(info.value)
    assert "check the collector id 'c_nope'" in str(info.value)


def test_a_refused_token_is_an_authentication_error_without_the_token(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, status=401, json={"error": "Unauthorized"})
    with pytest.raises(AuthenticationError) as info:
        bd.collect(COLLECTOR, INPUTS)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert "check the API token" in str(info.value)


def test_a_server_error_on_the_trigger_is_never_re_sent(
    rs: responses.RequestsMock, bd: Client, clock: FakeClock
) -> None:
    rs.post(TRIGGER, status=503, json={"error": "Service unavailable"})
    with pytest.raises(ServerError):
        bd.collect(COLLECTOR, INPUTS)
    assert len(rs.calls) == 1
    assert clock.sleeps == []


def test_a_dropped_connection_after_sending_is_reported_not_re_sent(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(RequestMayHaveReached, match="not re-sent"):
        bd.collect(COLLECTOR, INPUTS)
    assert len(rs.calls) == 1


def test_a_429_created_nothing_and_is_waited_out(rs: responses.RequestsMock, bd: Client, clock: FakeClock) -> None:
    rs.post(TRIGGER, status=429, json={"error": "Too many requests"}, headers={"Retry-After": "7"})
    rs.post(TRIGGER, status=429, json={"error": "Too many requests"}, headers={"Retry-After": "7"})
    rs.post(TRIGGER, json=ANSWER)
    col = bd.collect(COLLECTOR, INPUTS)
    assert col.id == ANSWER["collection_id"]
    assert len(rs.calls) == 3
    assert len(clock.sleeps) == 2 and all(7 <= s <= 8 for s in clock.sleeps)


def test_an_answer_without_a_collection_id_is_an_error_that_warns_of_a_started_batch(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.post(TRIGGER, json={"start_eta": "2021-11-07T13:26:22.702Z"})
    with pytest.raises(ApiError, match="no collection_id") as info:
        bd.collect(COLLECTOR, INPUTS)
    assert "look in Scraper Studio before triggering again" in str(info.value)
    assert len(rs.calls) == 1


def test_re_attaching_needs_an_id_and_sends_nothing(rs: responses.RequestsMock, bd: Client) -> None:
    col = bd.collection("j_lq3xa1b2c3d4")
    assert col.id == "j_lq3xa1b2c3d4" and col.last_status is None
    assert repr(col) == "<brightdata collection j_lq3xa1b2c3d4: status not checked>"
    with pytest.raises(InvalidArgument, match="collection_id is required"):
        bd.collection("")
    assert len(rs.calls) == 0
