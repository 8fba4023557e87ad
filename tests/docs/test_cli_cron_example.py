"""The cron-style shell example of docs/cli.md runs as written (bash and the real console script)
against the Bright Data emulator: exit 0 with the row count, exit 3 on a job that never finishes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]

RUN_LIMIT = 120.0
"""Seconds the script may take before the test gives up (a hang guard, not a timing check)."""


def example() -> str:
    page = (ROOT / "docs" / "cli.md").read_text()
    section = page.split("## A nightly cron job", 1)[1]
    found = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def run_example(emu: Any, tmp_path: Path, **env: str) -> tuple[int, str, Path]:
    script = tmp_path / "nightly.sh"
    script.write_text(example())
    inputs = tmp_path / "urls.json"
    inputs.write_text(json.dumps([{"url": "https://shop.example.com/p/1"}]))
    out = tmp_path / "products"
    out.mkdir(exist_ok=True)
    bin_dir = Path(sys.executable).parent
    full = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "DATAFERRY_PROGRESS": "off",
        "BRIGHTDATA_API_TOKEN": emu.credentials["token"],
        "BASE_URL": emu.base_url,
        "OUT_DIR": str(out),
        "INPUTS": str(inputs),
        **env,
    }
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run([bash, str(script)], capture_output=True, text=True, env=full, timeout=RUN_LIMIT)
    return done.returncode, done.stdout + done.stderr, out


@pytest.fixture
def emu(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("brightdata", start_after=0.01, ready_after=0.1, records_per_input=6)


def test_the_nightly_example_writes_the_day_and_its_summary(emu: Any, tmp_path: Path) -> None:
    assert (Path(sys.executable).parent / "dataferry").exists()  # the console script the example calls
    code, output, out = run_example(emu, tmp_path)
    assert code == 0, output
    [parquet] = out.glob("*.parquet")
    summary = json.loads(next(out.glob("*.summary.json")).read_text())
    rows = pq.read_metadata(parquet).num_rows
    assert summary["rows"] == rows > 0 and f"ok: {rows} rows" in output


def test_the_nightly_example_reports_a_job_still_running(emu: Any, tmp_path: Path) -> None:
    emu.app.ready_after = 10**6
    code, output, out = run_example(emu, tmp_path, TIMEOUT="1s")
    assert code == 3 and "still running" in output and "re-attach with: dataferry brightdata fetch s_" in output
    assert json.loads(next(out.glob("*.summary.json")).read_text())["exit_code"] == 3
