"""Every exit status of the ``dataferry`` console script, each produced by the real script (a
subprocess) against the Bright Data emulator; ``--json`` parsed; the token never shown."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.cli.console import DATASET, PLANTED_TOKEN, Console, inputs_file


@pytest.fixture
def emu(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("brightdata", token=PLANTED_TOKEN, start_after=0.01, ready_after=0.1, records_per_input=7)


@pytest.fixture
def cli(emu: Any, tmp_path: Path) -> Console:
    return Console(emu, tmp_path)


def test_0_done_writes_parquet_and_the_json_summary_says_what(cli: Console, tmp_path: Path) -> None:
    out = tmp_path / "day.parquet"
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path, 2), "-o", str(out), "--json")
    assert run.code == 0, run.stderr
    summary = run.json()
    assert summary["exit_code"] == 0 and summary["vendor"] == "brightdata" and summary["state"] == "done"
    assert summary["job_id"].startswith("s_") and summary["output"] == str(out)
    assert summary["rows"] == pq.read_metadata(out).num_rows > 0, (summary, pq.read_metadata(out).num_rows)
    assert summary["parts"] == 1 and summary["bytes"] > 0 and summary["seconds"] >= 0
    assert "url" in summary["columns"] and summary["columns"] == pq.read_schema(out).names
    assert "error" not in summary
    cli.assert_no_secret(run)


def test_1_unexpected_a_part_that_is_not_data(cli: Console, emu: Any, tmp_path: Path) -> None:
    emu.faults.add("body", path=r"/datasets/v3/snapshot/s_", method="GET", html="<h1>Proxy error</h1>")
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path), "-o", str(tmp_path / "x.parquet"), "--json")
    assert run.code == 1, run.stderr
    assert run.json()["error"]["type"] in ("NotData", "PartCorrupt")  # a DataError: not the job's failure
    assert not (tmp_path / "x.parquet").exists()
    cli.assert_no_secret(run)


def test_2_usage_and_bad_input_before_anything_is_sent(cli: Console, emu: Any, tmp_path: Path) -> None:
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path), "--limit-per-input", "0", "--json")
    assert run.code == 2 and "limit_per_input must be a number >= 1" in run.stderr
    assert run.json()["error"]["type"] == "InvalidArgument"
    run = cli("brightdata", "wait", "s_1", "--timeout", "soon")
    assert run.code == 2 and "is not a duration" in run.stderr  # argparse's own usage error
    run = cli(
        "brightdata", "trigger", DATASET, inputs_file(tmp_path), "-o", "x.parquet", env={"DATAFERRY_TIMEOUT": "?"}
    )
    assert run.code == 2 and "$DATAFERRY_TIMEOUT" in run.stderr
    run = cli("brightdata", "status", "s_1", token=None)
    assert run.code == 2 and "BRIGHTDATA_API_TOKEN" in run.stderr
    assert not [r for r in emu.app.requests if "/trigger" in r.path or "/s_1" in r.path]


def test_3_timeout_leaves_the_job_running_and_prints_the_reattach_command(
    cli: Console, emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "day.parquet"
    never = tmp_path / "never.json"
    never.write_text(json.dumps([{"url": "https://shop.example.com/p/1"}]))
    emu.app.ready_after = 10**6  # a job that never finishes
    started = time.monotonic()
    run = cli("brightdata", "trigger", DATASET, str(never), "-o", str(out), "--timeout", "2s", "--json")
    assert run.code == 3, run.stderr
    summary = run.json()
    sid = summary["job_id"]
    assert summary["state"] == "running" and summary["error"]["type"] == "WaitTimeout"
    reattach = f"dataferry brightdata fetch {sid} -o {out} --base-url {emu.base_url}"
    assert summary["reattach"] == reattach
    assert f"re-attach with: {reattach}" in run.stderr
    assert emu.app.snapshots[sid].status(emu.app.now()) == "running"  # left running, not cancelled
    assert not [r for r in emu.app.requests if r.path.endswith("/cancel")]
    assert time.monotonic() - started < 120  # it did not wait for the job (a sanity bound, not a timing test)

    emu.app.snapshots[sid].ready_after = 0.0  # the job finishes: the printed command fetches it
    again = cli(*reattach.split()[1:], "--json")
    assert again.code == 0, again.stderr
    assert again.json()["job_id"] == sid and pq.read_metadata(out).num_rows == 7


def test_timeout_comes_from_the_environment_when_not_given(cli: Console, emu: Any) -> None:
    emu.app.ready_after = 10**6
    sid = cli("brightdata", "trigger", DATASET, inputs_file(cli.tmp), "--json").json()["job_id"]
    run = cli("brightdata", "wait", sid, "--json", env={"DATAFERRY_TIMEOUT": "1s"})
    assert run.code == 3 and f"dataferry brightdata wait {sid} --base-url {emu.base_url}" in run.stderr


def test_4_failed_job_with_the_vendors_message_and_its_kind(cli: Console, tmp_path: Path) -> None:
    failing = tmp_path / "fail.json"
    failing.write_text(json.dumps([{"url": "https://shop.example.com/p/1", "emulator_fail": "Account is suspended"}]))
    run = cli("brightdata", "trigger", DATASET, str(failing), "-o", str(tmp_path / "x.parquet"), "--json")
    assert run.code == 4, run.stderr
    error = run.json()["error"]
    assert error["type"] == "JobFailed" and error["vendor_message"] == "Account is suspended"
    assert error["transient"] is False and "support" in error["hint"]
    assert run.json()["state"] == "failed"


def test_4_the_vendor_refusing_the_request(cli: Console, tmp_path: Path) -> None:
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path), "--discover-by", "keyword", "--json")
    assert run.code == 4 and run.json()["error"]["http_status"] == 400, run.stderr


def test_5_cancelled(cli: Console, emu: Any) -> None:
    emu.app.ready_after = 10**6
    sid = cli("brightdata", "trigger", DATASET, inputs_file(cli.tmp), "--json").json()["job_id"]
    cancel = cli("brightdata", "cancel", sid, "--json")
    assert cancel.code == 0 and cancel.json()["state"] == "cancelled"
    run = cli("brightdata", "wait", sid, "--json")
    assert run.code == 5 and run.json()["error"]["type"] == "JobCancelled", run.stderr


def test_6_authentication_refused(cli: Console) -> None:
    run = cli("brightdata", "status", "s_m4x7enmven8djfqak", "--json", token="not-the-token")
    assert run.code == 6 and run.json()["error"]["type"] == "AuthenticationError", run.stderr
    assert "not-the-token" not in run.stdout + run.stderr


def test_7_not_found(cli: Console) -> None:
    run = cli("brightdata", "wait", "s_doesnotexist", "--json")
    assert run.code == 7 and run.json()["error"]["http_status"] == 404, run.stderr


def test_8_busy_beyond_the_wait_budget(cli: Console, emu: Any, tmp_path: Path) -> None:
    emu.app.jobs_limit = 0  # every trigger: 429 "You have too many running jobs for this dataset"
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path), "--busy-wait", "2s", "--json")
    assert run.code == 8, run.stderr
    error = run.json()["error"]
    assert error["type"] == "RateLimited" and error["vendor_message"].startswith("You have too many running jobs")


def test_130_interrupted_leaves_the_job_running_and_says_how_to_reattach(cli: Console, emu: Any) -> None:
    emu.app.ready_after = 10**6
    sid = cli("brightdata", "trigger", DATASET, inputs_file(cli.tmp), "--json").json()["job_id"]
    proc = cli.start("brightdata", "wait", sid, "--progress", "log", "--json")
    deadline = time.monotonic() + 60
    while not [r for r in emu.app.requests if r.path.endswith(f"/progress/{sid}")] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    summary = json.loads(stdout)
    assert (
        summary["exit_code"] == 130
        and summary["reattach"] == f"dataferry brightdata wait {sid} --base-url {emu.base_url}"
    )
    assert f"re-attach with: dataferry brightdata wait {sid}" in stderr
    assert emu.app.snapshots[sid].status(emu.app.now()) == "running"
    assert PLANTED_TOKEN not in stdout + stderr


def test_json_alone_is_on_stdout_and_progress_on_stderr(cli: Console, emu: Any, tmp_path: Path) -> None:
    emu.app.ready_after = 2.5  # long enough for the log renderer to draw (it is quiet for the first second)
    out = str(tmp_path / "a.parquet")
    run = cli("brightdata", "trigger", DATASET, inputs_file(tmp_path), "-o", out, "--json", "--progress", "log")
    assert run.code == 0, run.stderr
    assert run.stdout.count("\n") == 1 and json.loads(run.stdout)["exit_code"] == 0, run.stdout
    assert "snapshot s_" in run.stderr and "dataferry brightdata snapshot" in run.stderr, run.stderr


def test_the_help_epilog_holds_the_exit_table(cli: Console) -> None:
    run = cli("--help")
    assert run.code == 0
    for code in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "130"):
        assert any(line.split()[:1] == [code] for line in run.stdout.splitlines()), code


def test_a_token_file_is_read_and_never_shown(cli: Console, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(PLANTED_TOKEN + "\n")
    run = cli("brightdata", "status", "s_doesnotexist", "--token-file", str(secret), "--json", token=None)
    assert run.code == 7, run.stderr  # the token from the file was accepted: the id was looked up
    cli.assert_no_secret(run)
    missing = cli("brightdata", "status", "s_1", "--token-file", str(tmp_path / "nope"), token=None)
    assert missing.code == 2 and "cannot be read" in missing.stderr
