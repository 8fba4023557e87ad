"""Bright Data collectors (DCA) end to end: the client against the emulator over real HTTP on
loopback — trigger behaviours, queueing, deadlines, bodies, errors, faults and the CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dataferry import emulator as emulator_mod
from dataferry.cli import main
from dataferry.errors import (
    AuthenticationError,
    JobCancelled,
    NotFound,
    RequestMayHaveReached,
    ServerError,
    UnprocessableEntity,
)
from dataferry.providers.brightdata import Client
from dataferry.status import JobState
from tests.conftest import QUICK_POLLS

COLLECTOR = "c_lq3x1ab2"
KEYWORDS = "c_lq3x5kw7"
PER_INPUT = 4
DCA_FAST = {"collect_after": 0.5, "deadline_scale": 0.05, "records_per_input": PER_INPUT}
"""Batches take 0.5 s (long enough to trigger the next one while one runs); ``deadline="2s"``
ends one after 0.1 s."""

URLS = [{"url": f"https://shop.example.com/p/{k}"} for k in range(3)]


@pytest.fixture
def emu(start_emulator: Callable[..., emulator_mod.Emulator]) -> emulator_mod.Emulator:
    return start_emulator("brightdata", **DCA_FAST)


@pytest.fixture
def bd(emu: emulator_mod.Emulator) -> Iterator[Client]:
    client = Client(poll=QUICK_POLLS, **emu.client_kwargs())
    yield client
    client.close()


def dataset_gets(emu: emulator_mod.Emulator, collection_id: str) -> int:
    return sum(1 for r in emu.app.requests if r.path == "/dca/dataset" and f"id={collection_id}" in r.query)


def test_collect_wait_and_load_with_the_inputs_echoed(bd: Client, emu: emulator_mod.Emulator) -> None:
    col = bd.collect(COLLECTOR, URLS, name="nightly")
    frame = col.wait().to_pandas()
    assert len(frame) == PER_INPUT * len(URLS)
    assert frame["product_id"].tolist() == [r["product_id"] for r in emu.app.collection_records(col.id)]
    assert sorted({row["url"] for row in frame["input"]}) == sorted(u["url"] for u in URLS)
    assert frame["product_id"].is_unique
    assert emu.app.collections[col.id].name == "nightly"
    assert dataset_gets(emu, col.id) >= 2  # at least one 202, then the data
    gets = dataset_gets(emu, col.id)
    col.to_arrow()
    assert dataset_gets(emu, col.id) == gets  # loading read the records the last poll brought


def test_to_parquet_and_iter_batches_read_the_same_records(bd: Client, tmp_path: Path) -> None:
    col = bd.collect(COLLECTOR, URLS)
    out = col.to_parquet(tmp_path / "batch.parquet")
    table = pq.read_table(out)
    assert table.num_rows == PER_INPUT * len(URLS)
    assert sum(b.num_rows for b in col.iter_batches()) == table.num_rows
    assert table.column("product_id").to_pylist() == col.to_pandas()["product_id"].tolist()


def test_queue_next_waits_behind_the_running_batch(bd: Client, emu: emulator_mod.Emulator) -> None:
    first = bd.collect(COLLECTOR, URLS)
    second = bd.collect(COLLECTOR, URLS[:1])
    assert second.status().state is JobState.QUEUED
    assert second.start_eta is not None and second.start_eta > first.start_eta
    assert len(second.wait().to_pandas()) == PER_INPUT
    assert len(first.wait().to_pandas()) == PER_INPUT * len(URLS)
    runs = emu.app.collections
    assert runs[second.id].started >= runs[first.id].ended


def test_queue_next_goes_before_batches_queued_with_queue(bd: Client, emu: emulator_mod.Emulator) -> None:
    running = bd.collect(COLLECTOR, URLS)
    tail = bd.collect(COLLECTOR, URLS, queue="after-the-last")
    nxt = bd.collect(COLLECTOR, URLS, queue_next=True)
    for col in (running, nxt, tail):
        col.wait()
    runs = emu.app.collections
    assert runs[running.id].ended <= runs[nxt.id].started < runs[tail.id].started
    assert runs[tail.id].params["queue"] == "after-the-last"


def test_confirm_cancel_cancels_the_running_batch(bd: Client) -> None:
    old = bd.collect(COLLECTOR, URLS)
    new = bd.collect(COLLECTOR, URLS[:1], confirm_cancel=True)
    with pytest.raises(JobCancelled, match=f"{new.id} was triggered with confirm_cancel") as info:
        old.wait()
    assert info.value.job_id == old.id
    assert len(new.wait().to_pandas()) == PER_INPUT


def test_a_deadline_terminates_the_batch_with_what_it_had_collected(
    bd: Client,
    emu: emulator_mod.Emulator,
) -> None:
    inputs = [{"url": f"https://shop.example.com/p/{k}"} for k in range(10)]
    col = bd.collect(COLLECTOR, inputs, deadline="2s")  # 0.1 s of the batch's 0.5 s
    frame = col.wait().to_pandas()
    assert 0 < len(frame) < PER_INPUT * len(inputs)
    assert emu.app.collections[col.id].outcome == "deadline"
    assert frame["product_id"].tolist() == [r["product_id"] for r in emu.app.collection_records(col.id)]


def test_a_deadline_that_passes_in_the_queue_leaves_an_empty_result(bd: Client) -> None:
    first = bd.collect(COLLECTOR, URLS)
    queued = bd.collect(COLLECTOR, URLS, deadline="2s")
    frame = queued.wait().to_pandas()
    assert frame.shape == (0, 0)
    assert queued.done
    first.wait()


def test_an_empty_dataset_is_an_empty_frame(bd: Client) -> None:
    col = bd.collect(COLLECTOR, [{"url": "https://shop.example.com/none", "emulator_records": 0}])
    assert len(col.wait().to_pandas()) == 0


def test_no_downloads_leaves_the_media_files_out(bd: Client) -> None:
    with_media = bd.collect(KEYWORDS, [{"keyword": "chairs"}]).to_pandas()
    without = bd.collect(KEYWORDS, [{"keyword": "chairs"}], no_downloads=True, queue="x").to_pandas()
    assert with_media["image_file"].notna().all()
    assert without["image_file"].isna().all()
    assert without["image"].notna().all()


def test_version_dev_and_name_reach_the_collector(bd: Client, emu: emulator_mod.Emulator) -> None:
    col = bd.collect(COLLECTOR, URLS[:1], version="dev", name="try the dev build")
    col.wait()
    params = emu.app.collections[col.id].params
    assert params["version"] == "dev" and params["name"] == "try the dev build"


@pytest.mark.parametrize("body_format", ["json", "csv", "multipart"])
def test_every_body_form_collects_the_same_inputs(bd: Client, body_format: str) -> None:
    frame = pd.DataFrame({"keyword": ["chairs", "lamps"], "country": ["DE", "SE"]})
    result = bd.collect(KEYWORDS, frame, body_format=body_format).to_pandas()
    assert len(result) == PER_INPUT * 2
    assert sorted({json.dumps(row, sort_keys=True) for row in result["input"]}) == [
        '{"country": "DE", "keyword": "chairs"}',
        '{"country": "SE", "keyword": "lamps"}',
    ]


def test_a_csv_file_upload_collects_its_rows(bd: Client, tmp_path: Path) -> None:
    path = tmp_path / "urls.csv"
    path.write_text("url\nhttps://shop.example.com/a\nhttps://shop.example.com/b\n")
    result = bd.collect(COLLECTOR, path).to_pandas()
    assert sorted({row["url"] for row in result["input"]}) == [
        "https://shop.example.com/a",
        "https://shop.example.com/b",
    ]


def test_inputs_that_do_not_fit_the_collector_are_unprocessable(bd: Client, emu: emulator_mod.Emulator) -> None:
    with pytest.raises(UnprocessableEntity) as info:
        bd.collect(COLLECTOR, [{"keyword": "chairs"}, {"url": "ftp://x"}])
    text = str(info.value)
    assert "HTTP 422" in text
    assert "Input 1: url is required" in text and "Input 2: url must be a valid URL" in text
    assert emu.app.collections == {}


def test_an_unknown_collector_is_not_found(bd: Client) -> None:
    with pytest.raises(NotFound, match="Collector not found") as info:
        bd.collect("c_unknown0", URLS)
    assert "check the collector id 'c_unknown0'" in str(info.value)


def test_an_expired_collection_is_not_found(bd: Client, emu: emulator_mod.Emulator) -> None:
    col = bd.collect(COLLECTOR, URLS)
    col.wait()
    emu.app.expire_collection(col.id)
    with pytest.raises(NotFound, match="Dataset not found"):
        bd.collection(col.id).wait()


def test_a_wrong_token_is_refused_and_never_shown(emu: emulator_mod.Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "not-the-right-token-7f6e5d"
    client = Client(token=secret, base_url=emu.base_url, poll=QUICK_POLLS)
    with pytest.raises(AuthenticationError) as info:
        client.collect(COLLECTOR, URLS)
    col = client.collection("j_anything")
    with pytest.raises(AuthenticationError) as waited:
        col.wait(progress="log")
    for text in (str(info.value), repr(info.value), str(waited.value), repr(client), repr(col), caplog.text):
        assert secret not in text
    client.close()


def test_a_connection_dropped_mid_dataset_is_asked_again_without_duplicates(
    bd: Client, emu: emulator_mod.Emulator
) -> None:
    emu.faults.add("drop", path="/dca/dataset", after_bytes=300, times=1)
    col = bd.collect(COLLECTOR, URLS)
    frame = col.wait().to_pandas()
    assert len(frame) == PER_INPUT * len(URLS) and frame["product_id"].is_unique
    assert len(emu.faults) == 0  # the fault did fire


def test_a_failed_trigger_is_never_re_sent(bd: Client, emu: emulator_mod.Emulator) -> None:
    emu.faults.add("status", path="/dca/trigger", status=503, times=1)
    with pytest.raises(ServerError):
        bd.collect(COLLECTOR, URLS)
    assert [r.method for r in emu.app.requests if r.path == "/dca/trigger"] == ["POST"]
    assert emu.app.collections == {}


def test_a_trigger_that_timed_out_after_sending_is_not_re_sent(emu: emulator_mod.Emulator) -> None:
    emu.faults.add("slow", path="/dca/trigger", delay=0.6, times=1)
    client = Client(poll=QUICK_POLLS, timeout=(2.0, 0.2), **emu.client_kwargs())
    with pytest.raises(RequestMayHaveReached, match="not re-sent"):
        client.collect(COLLECTOR, URLS)
    client.close()
    assert [r.path for r in emu.app.requests].count("/dca/trigger") == 1


def test_a_429_on_the_trigger_is_waited_out_and_creates_one_batch(bd: Client, emu: emulator_mod.Emulator) -> None:
    emu.faults.add("status", path="/dca/trigger", status=429, retry_after=0, times=2)
    col = bd.collect(COLLECTOR, URLS)
    assert [r.path for r in emu.app.requests].count("/dca/trigger") == 3
    assert list(emu.app.collections) == [col.id]


def test_the_cli_collects_and_writes_parquet(
    emu: emulator_mod.Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BRIGHTDATA_API_TOKEN", emu.credentials["token"])
    inputs = tmp_path / "urls.json"
    inputs.write_text(json.dumps(URLS))
    out = tmp_path / "out.parquet"
    code = main(
        [
            "brightdata",
            "collect",
            COLLECTOR,
            str(inputs),
            "-o",
            str(out),
            "--base-url",
            emu.base_url,
            "--progress",
            "off",
            "--deadline",
            "1h",
            "--name",
            "from the cli",
            "--no-downloads",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    (run,) = emu.app.collections.values()
    assert f"collection {run.id}" in printed and f"written to {out}" in printed
    assert run.params == {
        "collector": COLLECTOR,
        "name": "from the cli",
        "queue_next": "1",
        "no_downloads": "1",
        "deadline": "1h",
    }
    assert pq.read_table(out).num_rows == PER_INPUT * len(URLS)


def test_the_cli_refuses_two_behaviours(
    emu: emulator_mod.Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGHTDATA_API_TOKEN", emu.credentials["token"])
    inputs = tmp_path / "urls.json"
    inputs.write_text(json.dumps(URLS))
    with pytest.raises(SystemExit):
        main(
            [
                "brightdata",
                "collect",
                COLLECTOR,
                str(inputs),
                "--queue",
                "x",
                "--confirm-cancel",
                "--base-url",
                emu.base_url,
            ]
        )
    assert emu.app.collections == {}


def test_the_cli_reports_a_bad_deadline_as_an_error(
    emu: emulator_mod.Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIGHTDATA_API_TOKEN", emu.credentials["token"])
    inputs = tmp_path / "urls.json"
    inputs.write_text(json.dumps(URLS))
    code = main(["brightdata", "collect", COLLECTOR, str(inputs), "--deadline", "2 days", "--base-url", emu.base_url])
    assert code == 2
    assert "deadline='2 days' is not a deadline" in capsys.readouterr().err
    assert emu.app.collections == {}
