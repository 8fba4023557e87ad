"""Bright Data collectors (DCA): waiting on ``GET /dca/dataset`` and loading what it returns
(``responses`` stands in for api.brightdata.com; a fake clock makes the waits instant)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.errors import AuthenticationError, DataferryError, DecodeError, JobCancelled, NotFound
from dataferry.progress.reporter import ProgressState
from dataferry.providers.brightdata import Client
from dataferry.status import JobState
from dataferry.wait import PollPolicy

BASE = "https://api.brightdata.com"
TRIGGER = f"{BASE}/dca/trigger"
DATASET = f"{BASE}/dca/dataset"
TOKEN = "bd-dca-token-1a2b3c4d5e"
JOB = "j_lq3xa1b2c3d4"
RECORDS = [
    {"Title": "Café crème", "Price": 12.5, "input": {"url": "https://example.com/p/1"}},
    {"Title": "東京 tea set", "Price": None, "input": {"url": "https://example.com/p/2"}},
]
BUILDING = {"status": "building", "message": "Dataset is not ready yet, try again in 12s"}
POLLS = PollPolicy(initial=2.0, growth=1.0, maximum=2.0, jitter=0.0)


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def bd(clock: FakeClock) -> Iterator[Client]:
    client = Client(token=TOKEN, base_url=BASE, clock=clock, poll=POLLS)
    yield client
    client.close()


def dataset_calls(rs: responses.RequestsMock) -> int:
    return sum(1 for c in rs.calls if c.request.url.startswith(DATASET))


class Capture:
    """A progress renderer that keeps every state it is asked to draw."""

    def __init__(self) -> None:
        self.states: list[ProgressState] = []

    def draw(self, state: ProgressState) -> None:
        self.states.append(state)

    def close(self, state: ProgressState) -> None:
        self.states.append(state)


def test_a_202_is_running_and_its_try_again_hint_is_honoured(
    rs: responses.RequestsMock, bd: Client, clock: FakeClock
) -> None:
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(DATASET, json=RECORDS)
    col = bd.collection(JOB)
    status = col.status()
    assert (status.state, status.raw, status.retry_after) == (JobState.RUNNING, "building", 12.0)
    assert status.message == "Dataset is not ready yet, try again in 12s"
    col.wait()
    assert col.done
    assert sum(clock.sleeps) == pytest.approx(12.0)  # the hint, not the 2 s policy
    assert rs.calls[0].request.url == f"{DATASET}?id={JOB}"


def test_the_literal_xxs_of_the_spec_gives_no_hint_and_the_policy_applies(
    rs: responses.RequestsMock, bd: Client, clock: FakeClock
) -> None:
    xxs = {"status": "building", "message": "Dataset is not ready yet, try again in XXs"}
    rs.get(DATASET, status=202, json=xxs)
    rs.get(DATASET, status=202, json=xxs)
    rs.get(DATASET, json=RECORDS)
    col = bd.collection(JOB)
    assert col.status().retry_after is None
    col.wait()
    assert sum(clock.sleeps) == pytest.approx(2.0)


def test_a_retry_after_header_on_the_202_wins_over_the_message(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(DATASET, status=202, json=BUILDING, headers={"Retry-After": "4"})
    assert bd.collection(JOB).status().retry_after == 4.0


def test_records_load_with_one_download_only(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(DATASET, json=RECORDS)
    col = bd.collection(JOB)
    frame = col.wait().to_pandas()
    assert frame["Title"].tolist() == ["Café crème", "東京 tea set"]
    assert frame["input"].tolist() == [{"url": "https://example.com/p/1"}, {"url": "https://example.com/p/2"}]
    assert frame["Price"].isna().tolist() == [False, True]
    assert dataset_calls(rs) == 2  # one 202, one 200 whose body is the data
    assert col.to_arrow().num_rows == 2 and sum(b.num_rows for b in col.iter_batches()) == 2
    assert dataset_calls(rs) == 2


def test_to_pandas_on_a_fresh_handle_waits_then_loads_without_a_second_download(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.get(DATASET, json=RECORDS)
    frame = bd.collection(JOB).to_pandas()
    assert len(frame) == 2 and dataset_calls(rs) == 1


def test_cache_false_fetches_the_data_again_and_keeps_no_copy(
    rs: responses.RequestsMock, bd: Client, tmp_path: Path
) -> None:
    bd.cache_dir = tmp_path
    rs.get(DATASET, json=RECORDS)
    col = bd.collection(JOB)
    col.wait()
    assert (tmp_path / "brightdata" / JOB / "dataset.json").is_file()
    frame = col.to_pandas(cache=False)
    assert len(frame) == 2
    assert dataset_calls(rs) == 2
    assert not (tmp_path / "brightdata" / JOB / "dataset.json").exists()


def test_an_empty_dataset_is_an_empty_frame_not_an_error(
    rs: responses.RequestsMock, bd: Client, tmp_path: Path
) -> None:
    rs.get(DATASET, body="[]", content_type="application/json")
    col = bd.collection(JOB)
    frame = col.wait().to_pandas()
    assert len(frame) == 0
    assert col.done
    out = col.to_parquet(tmp_path / "empty.parquet")
    assert pq.read_table(out).num_rows == 0


def test_to_parquet_writes_the_records(rs: responses.RequestsMock, bd: Client, tmp_path: Path) -> None:
    rs.get(DATASET, json=RECORDS)
    out = bd.collection(JOB).to_parquet(tmp_path / "batch.parquet")
    table = pq.read_table(out)
    assert table.num_rows == 2 and table.column("Title").to_pylist() == ["Café crème", "東京 tea set"]


def test_a_premature_building_object_with_200_is_not_taken_as_the_result(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.get(DATASET, json={"status": "building", "message": "Dataset is not ready yet, try again in 3s"})
    rs.get(DATASET, json={"status": "ready"})
    rs.get(DATASET, json=RECORDS)
    col = bd.collection(JOB)
    assert col.status().state is JobState.RUNNING
    assert col.status().state is JobState.RUNNING  # "ready" without records is not done
    assert len(col.wait().to_pandas()) == 2


def test_a_cancelled_collection_raises_job_cancelled_with_the_vendor_message(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(
        DATASET,
        json={"status": "canceled", "message": "Collection was cancelled: j_next was triggered with confirm_cancel"},
    )
    with pytest.raises(JobCancelled, match="j_next was triggered with confirm_cancel"):
        bd.collection(JOB).wait()


def test_an_unknown_collection_is_not_found_when_re_attached(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(DATASET, status=404, json={"error": "Dataset not found"})
    with pytest.raises(NotFound, match="Dataset not found"):
        bd.collection(JOB).wait()
    assert dataset_calls(rs) == 1


def test_a_404_right_after_the_trigger_is_forgiven_and_the_trigger_not_re_sent(
    rs: responses.RequestsMock, bd: Client
) -> None:
    rs.post(TRIGGER, json={"collection_id": JOB, "start_eta": "2021-11-07T13:26:22.702Z"})
    rs.get(DATASET, status=404, json={"error": "Dataset not found"})
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(DATASET, json=RECORDS)
    frame = bd.collect("c_lq3x1ab2", [{"url": "https://example.com/p/1"}]).wait().to_pandas()
    assert len(frame) == 2
    assert [c.request.method for c in rs.calls].count("POST") == 1


def test_a_refused_token_while_waiting_is_an_authentication_error(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(DATASET, status=401, json={"error": "Unauthorized"})
    with pytest.raises(AuthenticationError) as info:
        bd.collection(JOB).wait()
    assert TOKEN not in str(info.value)


def test_a_body_that_is_neither_records_nor_a_status_is_a_decode_error(rs: responses.RequestsMock, bd: Client) -> None:
    rs.get(DATASET, body="<html><title>Bad gateway</title></html>", content_type="text/html")
    with pytest.raises(DecodeError, match="not a JSON array of records"):
        bd.collection(JOB).wait()


def test_a_body_cut_short_is_asked_for_again_and_never_loaded_half(
    rs: responses.RequestsMock, bd: Client, tmp_path: Path
) -> None:
    bd.cache_dir = tmp_path
    body = json.dumps(RECORDS)
    rs.get(DATASET, body=body[:20], headers={"Content-Length": str(len(body))})
    rs.get(DATASET, body=body)
    frame = bd.collection(JOB).wait().to_pandas()
    assert frame["Title"].tolist() == ["Café crème", "東京 tea set"]
    assert dataset_calls(rs) == 2
    assert not list((tmp_path / "brightdata" / JOB).glob("*.partial"))


def test_start_eta_is_shown_in_the_progress_while_it_is_ahead(
    rs: responses.RequestsMock, bd: Client, clock: FakeClock
) -> None:
    rs.post(TRIGGER, json={"collection_id": JOB, "start_eta": "2031-01-02T03:04:05.000Z"})
    rs.get(DATASET, status=202, json={"status": "queued", "message": "Dataset is not ready yet, try again in 5s"})
    rs.get(DATASET, status=202, json={"status": "queued", "message": "Dataset is not ready yet, try again in 5s"})
    rs.get(DATASET, json=RECORDS)
    col = bd.collect("c_lq3x1ab2", [{"url": "https://example.com/p/1"}])
    capture = Capture()
    col.wait(progress=capture)
    messages = [s.message for s in capture.states]
    assert "Dataset is not ready yet, try again in 5s · start ETA 2031-01-02 03:04:05 UTC" in messages
    assert capture.states[-1].stage.value == "done"
    assert any(s.stage.value == "queued" for s in capture.states)


def test_a_start_eta_in_the_past_is_left_out(rs: responses.RequestsMock, bd: Client) -> None:
    rs.post(TRIGGER, json={"collection_id": JOB, "start_eta": "2021-11-07T13:26:22.702Z"})
    rs.get(DATASET, status=202, json=BUILDING)
    status = bd.collect("c_lq3x1ab2", [{"url": "https://example.com/p/1"}]).status()
    assert status.message == "Dataset is not ready yet, try again in 12s"


def test_cancel_explains_how_to_cancel_a_batch_and_sends_nothing(rs: responses.RequestsMock, bd: Client) -> None:
    with pytest.raises(DataferryError, match="cannot be cancelled through the API") as info:
        bd.collection(JOB).cancel()
    assert "confirm_cancel=True" in str(info.value)
    assert len(rs.calls) == 0


def test_the_token_never_shows_in_reprs_errors_or_logs(
    rs: responses.RequestsMock, bd: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rs.post(TRIGGER, json={"collection_id": JOB, "start_eta": "2021-11-07T13:26:22.702Z"})
    rs.get(DATASET, status=503, json={"error": "Service unavailable"})
    rs.get(DATASET, status=202, json=BUILDING)
    rs.get(DATASET, status=401, json={"error": f"token {TOKEN} is not valid"})
    col = bd.collect("c_lq3x1ab2", [{"url": "https://example.com/p/1"}])
    with pytest.raises(AuthenticationError) as info:
        col.wait(progress="log")
    shown: list[Any] = [
        str(info.value),
        repr(info.value),
        repr(bd),
        repr(col),
        col._repr_html_(),
        caplog.text,
        str(info.value.body),
        info.value.url,
    ]
    assert caplog.text  # the log renderer and the retry notice did log
    for text in shown:
        assert TOKEN not in text
