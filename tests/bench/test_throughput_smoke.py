"""bench/throughput.py runs end to end on a tiny snapshot and every method reads every row
(the figures themselves are not checked: this machine is shared and noisy)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "throughput.py"
RATIOS = (
    "to_arrow_vs_ceiling",
    "to_pandas_vs_naive",
    "to_pandas_vs_polars",
    "to_parquet_vs_naive",
    "to_parquet_vs_polars",
    "ndjson_vs_pandas",
    "parquet_rss_vs_naive",
    "parquet_rss_growth_4x",
)


@pytest.mark.timeout(240)
def test_bench_runs_and_every_method_reads_every_row(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--size", "1MB", "--rounds", "1", "--json", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=230,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    have_polars = importlib.util.find_spec("polars") is not None
    for name, method in result["methods"].items():
        if "polars" in name and not have_polars:
            assert "error" in method
            continue
        assert "error" not in method, (name, method)
        assert method["rows"] == result["rows_4x" if name.endswith("_4x") else "rows"], name
        assert method["mb_per_s"] > 0 and method["peak_rss_mb"] > 0
    for key in RATIOS:
        value = result["ratios"][key]
        if "polars" in key and not have_polars:
            assert value is None
        else:
            assert isinstance(value, float) and value > 0, key
