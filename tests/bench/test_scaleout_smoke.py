"""bench/scaleout.py runs end to end on a tiny snapshot: one process and the LocalCluster at 1
and 2 workers each write every row, and the ratios are reported with their spread (the
figures themselves are not checked: this machine is shared and noisy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the scale-out bench needs dataferry[dask]")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scaleout.py"


@pytest.mark.timeout(280)
def test_scaleout_bench_runs_and_every_method_writes_every_row(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--size", "2MB", "--rounds", "1", "--json"),
            *("--steal-drop", "1", "--foreign-drop", "1000", "--data-dir", str(tmp_path / "data")),
        ],
        capture_output=True,
        text=True,
        timeout=270,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert set(result["methods"]) == {"one_process", "one_process_grown", "cluster_1", "cluster_2", "cluster_2_grown"}
    for name, method in result["methods"].items():
        assert method["rows"] == method["expected_rows"] > 0, name
        assert method["mb_per_s"]["median"] > 0 and method["peak_rss_mb"]["median"] > 0
    assert result["grown_csv_mb"] > 3 * result["csv_mb"]
    assert result["grown_parts"] >= 4 * result["parts"] - 1  # grown by parts of the same size
    assert "median" in result["cold_start_seconds"]
    assert result["rounds_kept"] == 1 and set(result["round_states"][0]) >= {"foreign_cores", "dropped"}
    assert result["verdicts"]["cluster_2_vs_one_process"] in {"pass", "within spread", "MISS"}
    for key, value in result["ratios"].items():
        assert 0 < value["min"] <= value["median"] <= value["max"], key
