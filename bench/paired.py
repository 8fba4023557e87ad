"""Rounds, the machine's state per round, paired ratios and the targets of bench/throughput.py.

A shared 2-core VM makes one method's own times spread 2-3x within a run; what moves them (a
busy neighbour, the hypervisor stealing the CPUs, memory handed back to the host) mostly falls
on the methods that run close together. So every method runs once per round, rounds are
short, and two methods are compared by the ratio of their times **within each round**, then
the median of those per-round ratios (with its interquartile range): a slow spell shared by
both cancels out instead of landing on whichever method happened to run in it.

For every round the machine's share of stolen CPU time (``/proc/stat``), the CPU used by
processes that are not the benchmark's (busy time of the machine less this process's and its
children's), and the load average (``/proc/loadavg``) are recorded; a round that ran under
heavy steal or heavy foreign load is dropped, and counted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STEAL_DROP = 0.10
"""A round in which the hypervisor stole more than this share of the CPUs' time is dropped."""

FOREIGN_DROP = 0.35
"""A round in which processes other than the benchmark kept more than this many cores busy on
average is dropped (another helper's test run, say)."""


def add_options(parser: argparse.ArgumentParser, *, rounds: int) -> None:
    """The options every bench takes: --rounds, --seed, --json, --check, --steal-drop,
    --foreign-drop and --data-dir (where the emulator keeps the generated snapshots)."""
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--seed", type=int, default=0, help="seed of the order of the methods in each round")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed beyond its spread")
    parser.add_argument("--steal-drop", type=float, default=STEAL_DROP, help="drop rounds with more steal than this")
    parser.add_argument(
        "--foreign-drop", type=float, default=FOREIGN_DROP, help="drop rounds with more foreign busy cores than this"
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("DATAFERRY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "dataferry-bench-data")),
    )


def in_child(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    """``target(*args, queue)`` in a fresh (spawned) child process; what it put on the queue."""
    spawn = mp.get_context("spawn")
    queue = spawn.Queue()
    proc = spawn.Process(target=target, args=(*args, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def measure_as_asked(
    args: argparse.Namespace, names: Sequence[str], run: Callable[[str], dict[str, Any]], log: Callable[[str], None]
) -> dict[str, Any]:
    """:func:`measure` with the rounds, seed and drop thresholds of :func:`add_options`."""
    return measure(
        names, run, args.rounds, log, seed=args.seed, steal_drop=args.steal_drop, foreign_drop=args.foreign_drop
    )


def kept_rounds(measured: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """The kept rounds of :func:`measure`; exits when a method failed or every round was dropped
    (for benches whose every method must run)."""
    if measured["errors"]:
        raise SystemExit("; ".join(f"{name}: {r['error']}" for name, r in measured["errors"].items()))
    if not measured["kept"]:
        raise SystemExit(f"every round was dropped for the machine's load: {measured['rounds']}")
    return list(measured["kept"])


def summary(values: Sequence[float], digits: int) -> dict[str, float]:
    """Median, min and max of ``values``, rounded."""
    s = spread(values)
    return {k: round(s[k], digits) for k in ("median", "min", "max")}


def machine() -> dict[str, float]:
    """CPU seconds of the whole machine so far (busy, idle, steal; Linux; empty elsewhere), this
    process's and its waited children's CPU seconds, and the 1-minute load average."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
    except OSError:
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (x / tick for x in fields)
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return {
        "busy": user + nice + system + irq + softirq,
        "idle": idle + iowait,
        "steal": steal,
        "own": own,
        "load": load,
    }


def round_state(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """What the machine did during one round: the share of CPU time stolen, the cores kept busy
    by other processes, and the load average at its end."""
    if not before or not after or wall <= 0:
        return {}
    total = sum(after[k] - before[k] for k in ("busy", "idle", "steal"))
    steal = after["steal"] - before["steal"]
    foreign = max(0.0, (after["busy"] - before["busy"]) - (after["own"] - before["own"]))
    return {
        "steal_share": round(steal / total, 4) if total > 0 else 0.0,
        "foreign_cores": round(foreign / wall, 3),
        "load": after["load"],
        "wall": round(wall, 2),
    }


def heavy(state: dict[str, float], steal_drop: float = STEAL_DROP, foreign_drop: float = FOREIGN_DROP) -> str | None:
    """Why a round should be dropped (``"steal"`` or ``"load"``), or ``None``."""
    if state.get("steal_share", 0.0) > steal_drop:
        return "steal"
    if state.get("foreign_cores", 0.0) > foreign_drop:
        return "load"
    return None


def measure(
    names: Sequence[str],
    run: Callable[[str], dict[str, Any]],
    rounds: int,
    log: Callable[[str], None],
    *,
    seed: int = 0,
    sparse: Callable[[str, int], bool] = lambda name, k: True,
    steal_drop: float = STEAL_DROP,
    foreign_drop: float = FOREIGN_DROP,
) -> dict[str, Any]:
    """``run(name)`` for every method once per round, in a new random order each round (seeded;
    ``sparse(name, k)`` says whether ``name`` runs in round ``k``), each result marked with the
    method that ran before it (``"after"``); the machine's state per round, and the rounds that
    ran under heavy steal or foreign load dropped. A method whose result has ``"error"`` is
    reported, not run again.

    Returns ``{"rounds": [order and state of every round], "kept": [name → result, per kept
    round], "errors": name → result}``."""
    errors: dict[str, dict[str, Any]] = {}
    rng = random.Random(seed)
    previous = None
    log_rounds: list[dict[str, Any]] = []
    kept: list[dict[str, dict[str, Any]]] = []
    for k in range(rounds):
        these = [n for n in names if sparse(n, k)]
        order = rng.sample(these, len(these))
        before, started = machine(), time.perf_counter()
        results: dict[str, dict[str, Any]] = {}
        for name in order:
            if name in errors:
                continue
            result = {**run(name), "after": previous}
            previous = name
            if "error" in result:
                errors[name] = result
            else:
                results[name] = result
        state = round_state(before, machine(), time.perf_counter() - started)
        dropped = heavy(state, steal_drop, foreign_drop)
        log_rounds.append({"order": order, **state, "dropped": dropped})
        log(
            f"  round {k + 1}/{rounds}: {state.get('wall', 0):.0f} s, steal {state.get('steal_share', 0):.1%}, "
            f"foreign {state.get('foreign_cores', 0):.2f} cores, load {state.get('load', 0):.2f}"
            + (f" → dropped ({dropped})" if dropped else "")
        )
        if not dropped:
            kept.append(results)
    return {"rounds": log_rounds, "kept": kept, "errors": errors}


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, min and max of ``values`` (the quartiles inclusive of the ends, so three
    values give their min / median / max)."""
    vals = sorted(values)
    if len(vals) == 1:
        q1 = q3 = vals[0]
    else:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    return {
        "median": statistics.median(vals),
        "q1": q1,
        "q3": q3,
        "min": vals[0],
        "max": vals[-1],
        "n": len(vals),
    }


@dataclass(frozen=True)
class Ratio:
    """A paired ratio: per round, ``value(round)``; reported as the median over rounds.

    Args:
        name: its key in the output.
        needs: the methods that must all have run in a round for it to count.
        value: the round's ratio from the round's results (method name → result).
        target: the bar, or ``None`` (reported only).
        higher: ``True`` if the target is a floor (≥), ``False`` for a ceiling (≤).
        what: one line for the table.
    """

    name: str
    needs: tuple[str, ...]
    value: Callable[[dict[str, dict[str, Any]]], float]
    target: float | None = None
    higher: bool = True
    what: str = ""


def speed(a: str, *over: str) -> Callable[[dict[str, dict[str, Any]]], float]:
    """How many times faster ``a`` ran than the fastest of ``over`` in the round."""
    return lambda r: min(r[b]["seconds"] for b in over) / r[a]["seconds"]


def memory(a: str, b: str) -> Callable[[dict[str, dict[str, Any]]], float]:
    """``a``'s peak RSS over ``b``'s in the round."""
    return lambda r: r[a]["rss"] / r[b]["rss"]


def paired(ratio: Ratio, rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """The ratio in every round where all its methods ran, and their spread (``None``: no round)."""
    values = [ratio.value(r) for r in rounds if all(n in r for n in ratio.needs)]
    if not values:
        return None
    out: dict[str, Any] = {k: round(v, 3) for k, v in spread(values).items() if k != "n"}
    out["n"] = len(values)
    out["rounds"] = [round(v, 3) for v in values]
    return out


def verdict(ratio: Ratio, measured: dict[str, Any] | None) -> str:
    """``pass`` (the median meets the target), ``within spread`` (the median misses it, the
    interquartile range reaches it), ``MISS`` (the whole range misses it), ``n/a`` (no target or
    not measured; a target that could not be measured is a ``MISS``)."""
    if ratio.target is None:
        return "n/a"
    if measured is None:
        return "MISS"
    t = ratio.target
    if ratio.higher:
        if measured["median"] >= t:
            return "pass"
        return "within spread" if measured["q3"] >= t else "MISS"
    if measured["median"] <= t:
        return "pass"
    return "within spread" if measured["q1"] <= t else "MISS"


def table(ratios: Sequence[Ratio], measured: dict[str, dict[str, Any] | None]) -> list[str]:
    """The --check table: target, paired median, interquartile range, rounds, verdict."""
    lines = [f"{'target':34} {'bar':>7} {'median':>7} {'IQR':>15} {'n':>3}  verdict", "-" * 80]
    for r in ratios:
        m = measured.get(r.name)
        bar = "-" if r.target is None else f"{'≥' if r.higher else '≤'}{r.target:g}"
        if m is None:
            lines.append(f"{r.name:34} {bar:>7} {'-':>7} {'-':>15} {0:>3}  {verdict(r, m)}")
            continue
        iqr = f"{m['q1']:.2f}–{m['q3']:.2f}"
        lines.append(f"{r.name:34} {bar:>7} {m['median']:7.2f} {iqr:>15} {m['n']:>3}  {verdict(r, m)}")
    return lines
