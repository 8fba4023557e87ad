"""``dataferry mytracker …`` and ``dataferry emulate --vendor mytracker``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
import pytest

from dataferry.cli import main


@pytest.fixture
def env(start_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``env(**emulator_options)`` → an emulator whose credentials are in the environment."""

    def start(**options: Any) -> Any:
        emu = start_emulator("mytracker", rows_per_day=60, rows_per_file=100, **options)
        monkeypatch.setenv("MYTRACKER_API_USER_ID", emu.credentials["api_user_id"])
        monkeypatch.setenv("MYTRACKER_SECRET_KEY", emu.credentials["secret_key"])
        return emu

    return start


def test_create_waits_and_writes_parquet_then_status_and_fetch(
    env: Callable[..., Any], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = env(steps=0)
    base = ["--base-url", emu.base_url, "--progress", "off"]
    out = tmp_path / "payments.parquet"
    code = main(
        [
            "mytracker",
            "create",
            "payments",
            "--selectors",
            "idApp,tsEvent,revenue",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-03",
            "--app",
            "1",
            "--app",
            "2",
            "--where",
            "id_country=188,200",
            "--where",
            "is_verified=1",
            "-o",
            str(out),
            *base,
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    export_id = printed.split()[1]
    assert f"mytracker export {export_id}: {emu.app.rows(export_id).num_rows} rows written to {out}" in printed
    table = pq.read_table(out)
    assert table.to_pylist() == emu.app.rows(export_id).to_pylist()
    assert set(table.column("idApp").to_pylist()) == {1, 2}
    assert emu.app.exports[export_id].params["idCountry"] == ["188", "200"]
    assert emu.app.exports[export_id].params["isVerified"] == ["1"]

    assert main(["mytracker", "status", export_id, *base]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["id"], shown["state"], shown["status"], shown["progress"]) == (export_id, "done", "Success!", 1.0)
    again = tmp_path / "fetched.parquet"
    assert main(["mytracker", "fetch", export_id, "-o", str(again), *base]) == 0
    assert pq.read_table(again).to_pylist() == table.to_pylist()


def test_status_and_cancel_of_a_running_export(env: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    emu = env(step_seconds=60)
    base = ["--base-url", emu.base_url, "--progress", "off"]
    assert (
        main(
            [
                "mytracker",
                "create",
                "installs",
                "--selectors",
                "idApp",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-01",
                *base,
            ]
        )
        == 0
    )
    export_id = capsys.readouterr().out.split()[1]
    assert main(["mytracker", "status", export_id, *base]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["id"], shown["state"], shown["status"]) == (export_id, "running", "In progress")
    assert shown["message"] == "can be cancelled"
    assert main(["mytracker", "cancel", export_id, *base]) == 0
    assert "cancel requested" in capsys.readouterr().out
    assert emu.app.exports[export_id].cancelled_at is not None


def test_bad_input_and_missing_credentials_are_clear_and_exit_2(
    env: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = env()
    base = ["--base-url", emu.base_url]
    assert (
        main(
            [
                "mytracker",
                "create",
                "installz",
                "--selectors",
                "idApp",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-01",
                *base,
            ]
        )
        == 2
    )
    assert "unknown event 'installz'; did you mean 'installs'?" in capsys.readouterr().err
    assert (
        main(
            [
                "mytracker",
                "create",
                "installs",
                "--selectors",
                "idApp",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-01",
                "--where",
                "colour=red",
                *base,
            ]
        )
        == 2
    )
    assert "--where expects NAME=VALUE" in capsys.readouterr().err
    monkeypatch.delenv("MYTRACKER_SECRET_KEY")
    assert main(["mytracker", "status", "1", *base]) == 2
    err = capsys.readouterr().err
    assert "no secret key given" in err and "MYTRACKER_SECRET_KEY" in err
    assert not emu.app.requests  # nothing was sent for any of these


def test_emulate_prints_the_credentials_it_accepts() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dataferry.cli", "emulate", "--vendor", "mytracker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("press Ctrl-C"):
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = "\n".join(lines)
    assert "mytracker emulator listening on http://127.0.0.1:" in text
    assert "  api_user_id: 77658" in text
    assert "  secret_key: emulator-mytracker-secret-key-0001" in text
    assert "mytracker.Client(base_url=" in text and "9100" in text
