"""``dataferry algolia …`` against the emulator, and ``dataferry emulate --vendor algolia``."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from dataferry.cli import main
from dataferry.emulator.algolia import API_KEY, APP_ID, EXAMPLE_TASK_ID


@pytest.fixture
def env(alg_emu: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ALGOLIA_APP_ID", alg_emu.credentials["app_id"])
    monkeypatch.setenv("ALGOLIA_API_KEY", alg_emu.credentials["api_key"])
    return alg_emu.base_url


def test_tasks_are_listed_as_a_table_or_csv(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["algolia", "tasks", "--enabled", "--base-url", env]) == 0
    table = capsys.readouterr().out
    assert EXAMPLE_TASK_ID in table and "trigger.type" in table and "onDemand" in table
    assert main(["algolia", "tasks", "--csv", "--base-url", env]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("taskID,") and len(lines) == 4  # header + the 3 seeded tasks


def test_a_task_is_run_and_waited_for(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["algolia", "run", EXAMPLE_TASK_ID, "--base-url", env, "--progress", "off"]) == 0
    out = capsys.readouterr().out.splitlines()
    run_id = out[0].removeprefix("run ")
    assert out[1].startswith(f"{run_id}: finished 100% – success")
    assert main(["algolia", "status", run_id, "--base-url", env]) == 0
    assert '"state": "done"' in capsys.readouterr().out
    assert main(["algolia", "events", run_id, "--status", "succeeded", "--base-url", env]) == 0
    assert "record" in capsys.readouterr().out
    assert main(["algolia", "runs", "--task", EXAMPLE_TASK_ID, "--status", "finished", "--base-url", env]) == 0
    assert run_id in capsys.readouterr().out


def test_an_unknown_run_exits_7_not_found_with_a_clear_message(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["algolia", "wait", "no-such-run", "--base-url", env]) == 7
    assert "run 'no-such-run' not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["fetch", "cancel"])
def test_fetch_and_cancel_which_algolia_has_no_endpoint_for_are_not_offered(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["algolia", command, "some-run"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["algolia", "--help"])
    assert "no fetch or cancel" in " ".join(capsys.readouterr().out.split())


def test_the_key_is_not_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["algolia", "tasks", "--api-key", "x"])
    assert "unrecognized arguments: --api-key" in capsys.readouterr().err


def test_emulate_prints_the_credentials_it_accepts() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataferry.cli",
            "emulate",
            "--vendor",
            "algolia",
            "--no-rate-limits",
            "--set",
            "event_interval=0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line or line.startswith("press Ctrl-C"):
                break
            lines.append(line)
        printed = "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "algolia emulator listening on http://127.0.0.1:" in printed
    assert f"app_id: {APP_ID}" in printed and f"api_key: {API_KEY}" in printed
    assert EXAMPLE_TASK_ID in printed and "algolia.Client(base_url=" in printed
