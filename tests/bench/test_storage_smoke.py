"""bench/storage.py runs end to end on a tiny snapshot: every method (disk and the local S3
server, a file and a dataset) writes every row, and the ratios are reported with their spread
(the figures themselves are not checked: this machine is shared and noisy). A dataset method
writes a dataset (a file per part), not one file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "storage.py"


@pytest.mark.timeout(240)
def test_storage_bench_runs_and_every_method_writes_every_row(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--size", "1MB", "--rounds", "1", "--json"),
            *("--steal-drop", "1", "--foreign-drop", "1000", "--data-dir", str(tmp_path / "data")),
        ],
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert set(result["methods"]) == {"disk_file", "s3_file", "s3_file_staged", "disk_dataset", "s3_dataset"}
    for name, method in result["methods"].items():
        assert method["rows"] == result["rows"], name
        assert (method["files"] > 1) == name.endswith("dataset"), (name, method["files"])
        assert method["mb_per_s"]["median"] > 0 and method["peak_rss_mb"]["median"] > 0
    for key, value in result["ratios"].items():
        assert 0 < value["min"] <= value["median"] <= value["max"], key
    assert result["rounds_kept"] == 1
    assert result["verdicts"]["s3_dataset_vs_disk_dataset_speed"] in {"pass", "within spread", "MISS"}
