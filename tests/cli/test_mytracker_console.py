"""``dataferry mytracker`` through the real console script: the secret key from ``--token-file``,
``--json``, exit statuses, and no secret in anything printed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.cli.console import ROOT, RUN_LIMIT, script


def run(emu: Any, tmp: Path, *args: str, secret_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYTRACKER_")}
    env.update(PYTHONPATH=str(ROOT), DATAFERRY_PROGRESS="off", MYTRACKER_API_USER_ID=emu.credentials["api_user_id"])
    extra = ["--token-file", str(secret_file)] if secret_file else []
    return subprocess.run(
        [*script(), "mytracker", *args, "--base-url", emu.base_url, *extra],
        capture_output=True, text=True, env=env, timeout=RUN_LIMIT, cwd=tmp,
    )  # fmt: skip


def test_create_with_the_secret_from_a_file_and_a_json_summary(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    emu = start_emulator("mytracker", rows_per_day=40, rows_per_file=30, steps=0)
    secret = tmp_path / "mytracker.key"
    secret.write_text(emu.credentials["secret_key"] + "\n")
    out = tmp_path / "installs.parquet"
    done = run(emu, tmp_path, "create", "installs", "--selectors", "idApp,tsEvent", "--from", "2026-11-01",
               "--to", "2026-11-01", "-o", str(out), "--json", secret_file=secret)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["vendor"] == "mytracker" and summary["kind"] == "export" and summary["state"] == "done"
    assert summary["rows"] == pq.read_metadata(out).num_rows == emu.app.rows(summary["job_id"]).num_rows
    assert summary["parts"] == 2 and summary["columns"] == ["idApp", "tsEvent"]
    assert emu.credentials["secret_key"] not in done.stdout + done.stderr

    missing = run(emu, tmp_path, "status", summary["job_id"], "--json")  # no secret anywhere
    assert missing.returncode == 2 and json.loads(missing.stdout)["error"]["type"] == "ConfigurationError"
    unknown = run(emu, tmp_path, "wait", "999999", "--json", secret_file=secret)
    assert unknown.returncode == 7 and "Raw export request not found" in unknown.stderr, unknown.stderr
    assert json.loads(unknown.stdout)["exit_code"] == unknown.returncode
