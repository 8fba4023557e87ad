"""The soak's short mode runs in CI: every vendor, random faults on, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_a_short_soak_loses_no_row_and_lets_no_untyped_error_out() -> None:
    done = subprocess.run([sys.executable, str(SOAK), "--short", "--json"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows_lost"] == 0 and result["untyped_errors"] == 0 and result["never_completed"] == []
    assert set(result["jobs_by_kind"]) == {
        "brightdata snapshot",
        "brightdata collection",
        "mytracker export",
        "woosmap import",
        "algolia run",
    }
    assert result["faults_injected"] > 0 and result["rows_verified"] > 0
