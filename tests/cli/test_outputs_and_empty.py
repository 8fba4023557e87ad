"""What the console script writes (Parquet file or dataset, CSV, NDJSON, ``-``), empty results
(``--allow-empty``), ``--retrigger``, every trigger parameter reaching the wire, and collections
re-attached by id."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tests.cli.console import DATASET, PLANTED_TOKEN, Console, inputs_file


@pytest.fixture
def emu(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("brightdata", token=PLANTED_TOKEN, start_after=0.01, ready_after=0.1, records_per_input=5)


@pytest.fixture
def cli(emu: Any, tmp_path: Path) -> Console:
    return Console(emu, tmp_path)


def _failing(tmp_path: Path, message: str, **more: Any) -> str:
    path = tmp_path / "failing.json"
    path.write_text(json.dumps([{"url": "https://shop.example.com/p/1", "emulator_fail": message, **more}]))
    return str(path)


@pytest.mark.parametrize("message", ["Snapshot is empty", "No data found in discovery"])
def test_an_empty_night_fails_by_default_and_exits_0_with_allow_empty(
    cli: Console, tmp_path: Path, message: str
) -> None:
    out = tmp_path / "night.parquet"
    run = cli("brightdata", "trigger", DATASET, _failing(tmp_path, message), "-o", str(out), "--json")
    assert run.code == 4 and "--allow-empty" in run.stderr and not out.exists()
    run = cli(
        "brightdata", "trigger", DATASET, _failing(tmp_path, message), "-o", str(out), "--json", "--allow-empty",
        "--custom-output-fields", "url|title",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    summary = run.json()
    assert summary["rows"] == 0 and summary["state"] == "done" and summary["columns"] == ["url", "title"]
    assert any(message in note for note in summary["notes"]) and "has no rows" in run.stderr
    assert pq.read_metadata(out).num_rows == 0


def test_retrigger_on_the_command_line(cli: Console, emu: Any, tmp_path: Path) -> None:
    inputs = _failing(tmp_path, "Something went wrong. Our team is looking into it.", emulator_fail_first=1)
    run = cli("brightdata", "trigger", DATASET, inputs, "-o", str(tmp_path / "a.parquet"), "--retrigger", "2", "--json")
    assert run.code == 0, run.stderr
    summary = run.json()
    assert summary["rows"] > 0 and len(summary["attempts"]) == 2 and summary["job_id"] == summary["attempts"][1]
    assert "created again" in run.stderr
    triggered = [r for r in emu.app.requests if r.method == "POST" and r.path == "/datasets/v3/trigger"]
    assert len(triggered) == 2


def test_a_transient_failure_without_retrigger_says_so(cli: Console, tmp_path: Path) -> None:
    run = cli("brightdata", "trigger", DATASET, _failing(tmp_path, "Failed to download response"), "-o", "x.parquet",
              "--json")  # fmt: skip
    assert run.code == 4 and run.json()["error"]["transient"] is True and "retrigger" in run.json()["error"]["hint"]


def test_csv_ndjson_stdout_and_a_partitioned_dataset(cli: Console, tmp_path: Path) -> None:
    sid = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path, 2), "--json").json()["job_id"]
    run = cli("brightdata", "fetch", sid, "-o", str(tmp_path / "day.csv"), "--json")
    assert run.code == 0, run.stderr
    n = run.json()["rows"]
    rows = list(csv.DictReader((tmp_path / "day.csv").open()))
    assert len(rows) == n > 0 and rows[0]["url"].startswith("https://shop.example.com/p/")

    run = cli("brightdata", "fetch", sid, "-o", str(tmp_path / "day.ndjson"), "--download-format", "ndjson")
    assert run.code == 0, run.stderr
    lines = (tmp_path / "day.ndjson").read_text().splitlines()
    assert len(lines) == n and all("url" in json.loads(line) for line in lines)

    run = cli("brightdata", "fetch", sid, "-o", "-")
    assert run.code == 0 and len(list(csv.DictReader(io.StringIO(run.stdout)))) == n, run.stderr
    assert "snapshot" not in run.stdout  # only the data on stdout

    out = tmp_path / "lake"
    run = cli("brightdata", "fetch", sid, "-o", str(out), "--partition-by", "currency", "--json")
    assert run.code == 0, run.stderr
    assert any(p.name.startswith("currency=") for p in out.iterdir())
    assert ds.dataset(out, format="parquet", partitioning="hive").count_rows() == n == run.json()["rows"]

    run = cli("brightdata", "fetch", sid, "-o", str(tmp_path / "x.csv"), "--partition-by", "currency")
    assert run.code == 2 and "Parquet dataset" in run.stderr


def test_every_trigger_parameter_reaches_the_wire(cli: Console, emu: Any, tmp_path: Path) -> None:
    auth = tmp_path / "hook-auth"
    auth.write_text("Basic planted-hook-secret\n")
    run = cli(
        "brightdata", "trigger", DATASET, inputs_file(tmp_path), "--include-errors", "--limit-per-input", "3",
        "--limit-multiple-results", "9", "--custom-output-fields", "url|title", "--field", "price",
        "--notify", "https://hooks.example.com/done", "--endpoint", "https://hooks.example.com/data",
        "--auth-header-file", str(auth), "--webhook-format", "ndjson", "--uncompressed-webhook", "--json",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    sent = next(r for r in emu.app.requests if r.path == "/datasets/v3/trigger")
    query = {k: v[0] for k, v in parse_qs(sent.query).items()}
    assert query == {
        "dataset_id": DATASET,
        "include_errors": "true",
        "limit_per_input": "3",
        "limit_multiple_results": "9",
        "notify": "https://hooks.example.com/done",
        "endpoint": "https://hooks.example.com/data",
        "auth_header": "Basic planted-hook-secret",
        "format": "ndjson",
        "uncompressed_webhook": "true",
        "custom_output_fields": "url|title|price",
    }
    assert "planted-hook-secret" not in run.stdout + run.stderr


def test_discovery_and_batch_size(cli: Console, emu: Any, tmp_path: Path) -> None:
    keywords = tmp_path / "k.json"
    keywords.write_text(json.dumps([{"keyword": "lamp"}]))
    run = cli("brightdata", "trigger", DATASET, str(keywords), "--discover-by", "keyword", "--batch-size", "1000",
              "-o", str(tmp_path / "k.parquet"), "--json")  # fmt: skip
    assert run.code == 0, run.stderr
    sent = next(r for r in emu.app.requests if r.path == "/datasets/v3/trigger")
    assert parse_qs(sent.query)["type"] == ["discover_new"] and parse_qs(sent.query)["discover_by"] == ["keyword"]
    assert any("batch_size=1000" in r.query for r in emu.app.requests if "/snapshot/" in r.path)
    run = cli("brightdata", "trigger", DATASET, str(keywords), "--batch-size", "10")
    assert run.code == 2 and "batch_size must be at least 1000" in run.stderr


def test_a_collection_is_reattached_by_id(cli: Console, emu: Any, tmp_path: Path) -> None:
    collector = next(iter(emu.app.collectors))
    inputs = tmp_path / "c.json"
    inputs.write_text(json.dumps([{"url": "https://example.com/a"}]))
    run = cli("brightdata", "collect", collector, str(inputs), "--deadline", "1h", "--json")
    assert run.code == 0, run.stderr
    cid = run.json()["job_id"]
    assert cid.startswith("j_") and run.json()["kind"] == "collection"
    assert cli("brightdata", "status", cid, "--json").json()["kind"] == "collection"
    run = cli("brightdata", "fetch", cid, "--collection", "-o", str(tmp_path / "c.parquet"), "--json")
    assert run.code == 0 and run.json()["rows"] == pq.read_metadata(tmp_path / "c.parquet").num_rows, run.stderr
