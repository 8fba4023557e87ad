"""bench/paired.py: the spread, the paired ratio, the verdict of --check and the dropping of
heavy rounds, on made-up rounds (no timing: nothing here measures anything)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def paired() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("paired")
    finally:
        sys.path.remove(str(BENCH))


def rounds(*pairs: tuple[float, float]) -> list[dict[str, dict[str, float]]]:
    return [{"a": {"seconds": a, "rss": a}, "b": {"seconds": b, "rss": b}} for a, b in pairs]


def test_spread_of_three_values_is_their_min_median_max(paired: ModuleType) -> None:
    s = paired.spread([3.0, 1.0, 2.0])
    assert (s["min"], s["q1"], s["median"], s["q3"], s["max"], s["n"]) == (1.0, 1.5, 2.0, 2.5, 3.0, 3)
    one = paired.spread([4.0])
    assert one["q1"] == one["median"] == one["q3"] == 4.0


def test_the_paired_ratio_is_the_median_of_the_per_round_ratios(paired: ModuleType) -> None:
    # a slow round for both methods leaves their ratio alone; the ratio of medians would not
    ratio = paired.Ratio("a_vs_b", ("a", "b"), paired.speed("a", "b"), 1.5)
    measured = paired.paired(ratio, rounds((1.0, 2.0), (3.0, 6.0), (1.0, 1.8), (2.5, 2.0)))
    assert measured["rounds"] == [2.0, 2.0, 1.8, 0.8]
    assert measured["median"] == 1.9 and measured["n"] == 4
    assert measured["q1"] <= measured["median"] <= measured["q3"]


def test_a_round_without_one_of_the_methods_does_not_count(paired: ModuleType) -> None:
    ratio = paired.Ratio("a_vs_b", ("a", "b"), paired.speed("a", "b"))
    measured = paired.paired(ratio, [*rounds((1.0, 2.0)), {"a": {"seconds": 1.0}}])
    assert measured["n"] == 1
    assert paired.paired(ratio, [{"a": {"seconds": 1.0}}]) is None


def test_speed_against_several_peers_takes_the_fastest_in_the_round(paired: ModuleType) -> None:
    value = paired.speed("a", "b", "c")
    assert value({"a": {"seconds": 1.0}, "b": {"seconds": 3.0}, "c": {"seconds": 1.5}}) == 1.5


@pytest.mark.parametrize(
    ("median", "q1", "q3", "higher", "expected"),
    [
        (1.2, 1.1, 1.3, True, "pass"),
        (0.95, 0.9, 1.05, True, "within spread"),
        (0.8, 0.7, 0.9, True, "MISS"),
        (0.5, 0.4, 0.6, False, "pass"),
        (1.05, 0.98, 1.1, False, "within spread"),
        (1.2, 1.15, 1.3, False, "MISS"),
    ],
)
def test_verdict(paired: ModuleType, median: float, q1: float, q3: float, higher: bool, expected: str) -> None:
    ratio = paired.Ratio("r", ("a",), paired.speed("a", "a"), 1.0, higher=higher)
    assert paired.verdict(ratio, {"median": median, "q1": q1, "q3": q3}) == expected


def test_verdict_without_a_target_or_a_measurement(paired: ModuleType) -> None:
    reported = paired.Ratio("r", ("a",), paired.speed("a", "a"))
    assert paired.verdict(reported, {"median": 1.0, "q1": 1.0, "q3": 1.0}) == "n/a"
    targeted = paired.Ratio("r", ("a",), paired.speed("a", "a"), 1.0)
    assert paired.verdict(targeted, None) == "MISS"  # a target that could not be measured


def test_round_state_and_heavy_rounds(paired: ModuleType) -> None:
    before = {"busy": 100.0, "idle": 100.0, "steal": 0.0, "own": 50.0, "load": 0.0}
    after = {"busy": 118.0, "idle": 102.0, "steal": 0.0, "own": 66.0, "load": 1.5}  # 10 s, 2 cores
    state = paired.round_state(before, after, 10.0)
    assert state == {"steal_share": 0.0, "foreign_cores": 0.2, "load": 1.5, "wall": 10.0}
    assert paired.heavy(state) is None
    busy = paired.round_state(before, {**after, "own": 56.0}, 10.0)  # 1.2 cores were not ours
    assert paired.heavy(busy) == "load"
    stolen = paired.round_state(before, {**after, "steal": 4.0}, 10.0)
    assert stolen["steal_share"] == pytest.approx(4 / 24, abs=1e-3)
    assert paired.heavy(stolen) == "steal"
    assert paired.round_state({}, after, 10.0) == {}  # not Linux: nothing recorded, nothing dropped
    assert paired.heavy({}) is None


def test_table_names_every_ratio_with_its_verdict(paired: ModuleType) -> None:
    a = paired.Ratio("a_vs_b", ("a", "b"), paired.speed("a", "b"), 1.5)
    c = paired.Ratio("c_vs_b", ("c", "b"), paired.speed("c", "b"))
    lines = paired.table([a, c], {"a_vs_b": paired.paired(a, rounds((1.0, 2.0))), "c_vs_b": None})
    assert "a_vs_b" in lines[2] and lines[2].endswith("pass") and "≥1.5" in lines[2]
    assert "c_vs_b" in lines[3] and lines[3].endswith("n/a")


def test_throughput_keeps_what_the_other_benches_import() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        throughput = importlib.import_module("throughput")
    finally:
        sys.path.remove(str(BENCH))
    for name in ("_peak_rss", "cpu_times", "parse_size", "prepare", "METHODS", "RATIOS"):
        assert hasattr(throughput, name), name
    assert throughput.parse_size("300MB") == 300 * 10**6
    assert set(throughput.SPARSE) <= set(throughput.METHODS)
    for ratio in throughput.RATIOS:
        assert set(ratio.needs) <= set(throughput.METHODS), ratio.name
