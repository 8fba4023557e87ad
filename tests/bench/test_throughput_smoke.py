"""bench/throughput.py runs end to end on a tiny snapshot: every method reads every row, every
paired ratio is reported with its spread, and --check prints every target (the figures
themselves are not checked: this machine is shared and noisy)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "throughput.py"
TARGETS = (
    "to_arrow_vs_ceiling",
    "to_pandas_vs_polars_raw",
    "to_pandas_vs_polars_pandas",
    "to_pandas_vs_naive",
    "to_parquet_vs_polars",
    "to_parquet_vs_naive",
    "ndjson_vs_polars",
    "ndjson_vs_pandas",
    "parquet_rss_vs_naive",
    "parquet_rss_growth_4x",
)
# a tiny run on a busy machine keeps every round: nothing here is a measurement
KEEP_ALL = ("--steal-drop", "1", "--foreign-drop", "1000")


@pytest.mark.timeout(280)
def test_bench_runs_and_every_method_reads_every_row(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            *("--size", "1MB", "--rounds", "2", "--sparse-every", "2", "--json", "--check"),
            *("--data-dir", str(tmp_path / "data"), *KEEP_ALL),
        ],
        capture_output=True,
        text=True,
        timeout=270,
        check=False,
    )
    # --check fails a run of two rounds (too few to trust): the exit status says so, no more
    assert out.returncode == 1, out.stderr[-2000:]
    assert "at least 5 needed" in out.stderr
    for key in TARGETS:
        assert key in out.stderr, key  # the check table
    result = json.loads(out.stdout)
    have_polars = importlib.util.find_spec("polars") is not None
    assert result["rounds_kept"] == 2 and result["rounds_dropped"]["total"] == 0
    for state in result["round_log"]:
        assert {"steal_share", "foreign_cores", "load", "order", "dropped"} <= set(state)
    # the sparse methods ran in the first round only, the others in both
    assert "ndjson_pandas_read_json" in result["round_log"][0]["order"]
    assert "ndjson_pandas_read_json" not in result["round_log"][1]["order"]
    for name, method in result["methods"].items():
        if "polars" in name and not have_polars:
            assert "error" in method
            continue
        assert "error" not in method, (name, method)
        assert method["rows"] == result["rows_4x" if name.endswith("_4x") else "rows"], name
        assert method["mb_per_s"] > 0 and method["best_mb_per_s"] >= method["mb_per_s"] and method["peak_rss_mb"] > 0
        assert len(method["rounds"]) == (1 if name in result["sparse"] else 2)
        if name.startswith(("dataferry", "ndjson_dataferry")):
            assert method["dataferry"].startswith(str(ROOT / "dataferry")), method["dataferry"]  # this checkout's
    for key in TARGETS:
        value = result["ratios"][key]
        if "polars" in key and not have_polars:
            assert value is None
            continue
        assert value["q1"] <= value["median"] <= value["q3"] and value["median"] > 0, key
        assert value["n"] == len(value["rounds"]) >= 1
        assert result["check"][key] in ("pass", "within spread", "MISS")
