"""Throughput and memory of dataferry against the ways analysts do it by hand, in one run.

    python bench/throughput.py [--size 300MB] [--rounds 9] [--check] [--json]

Starts the Bright Data emulator (its generated parts are cached on disk under --data-dir, so
the server side costs almost nothing), builds a snapshot of about --size of CSV in 6 gzip
parts (and one of 4x that size for the memory check), and measures every method in its own
child process: wall time and peak RSS. Each child imports what its method uses before the
clock starts, and nothing else.

Rounds: every round runs every method once, in a new random order (seeded); the slowest peers
and the 4x memory run (``SPARSE``) run in every --sparse-every-th round only, so the other
rounds stay short. Per method: the minimum and the median of its rounds. Between methods:
**paired ratios** (bench/paired.py): the ratio of two methods' times within one round, then
the median over the rounds, with its interquartile range. The machine's steal time, the CPU
of other processes and the load average are recorded per round; a round under heavy steal or
foreign load is dropped and counted. ``--check`` prints every target with its paired median and
spread and exits 1 when a target is missed beyond its spread (docs/performance.md).

The methods and peers are in bench/peers.py.

Nothing here is a test: the machine is shared and noisy, so only ratios measured side by side
mean anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import (
    FOREIGN_DROP,
    STEAL_DROP,
    Ratio,
    in_child,
    machine,
    measure,
    memory,
    paired,
    speed,
    spread,
    table,
    verdict,
)
from peers import METHODS, SPARSE, urls

ROW_BYTES = 263
"""Average CSV bytes per record of the emulated products dataset."""

PARTS = 6
"""Parts the snapshot is split into (batch_size = rows / PARTS)."""

DATASET = "gd_l1viktl72bvl7bjuj0"

CEILING_BLOCK = 1 << 20
"""CSV block size of the local ceiling (the fastest setting measured for these files; ISA-L
inflating in the reading thread beat its threaded reader too)."""

MIN_KEPT = 5
"""--check fails when fewer rounds than this were kept (too few to trust a median)."""


DF_ = "dataferry_to_"
RATIOS = (
    Ratio("to_arrow_vs_ceiling", (f"{DF_}arrow", "local_ceiling_isal_pyarrow"),
          speed(f"{DF_}arrow", "local_ceiling_isal_pyarrow"), 0.9, what="to_arrow / local ceiling"),
    Ratio("to_pandas_vs_polars_raw", (f"{DF_}pandas", "polars_read_csv_raw"),
          speed(f"{DF_}pandas", "polars_read_csv_raw"), 1.0, what="to_pandas / polars read_csv (no dates, no pandas)"),
    Ratio("to_pandas_vs_polars_pandas", (f"{DF_}pandas", "polars_dates_to_pandas"),
          speed(f"{DF_}pandas", "polars_dates_to_pandas"), 2.0, what="to_pandas / polars dates + to_pandas"),
    Ratio("to_pandas_vs_naive", (f"{DF_}pandas", "naive_pandas_read_csv_url"),
          speed(f"{DF_}pandas", "naive_pandas_read_csv_url"), 2.5, what="to_pandas / pd.read_csv(url)"),
    Ratio("to_pandas_vs_pandas_pyarrow", (f"{DF_}pandas", "pandas_read_csv_pyarrow"),
          speed(f"{DF_}pandas", "pandas_read_csv_pyarrow"), what="to_pandas / pd.read_csv(engine=pyarrow)"),
    Ratio("to_pandas_vs_naive_requests", (f"{DF_}pandas", "naive_requests_content"),
          speed(f"{DF_}pandas", "naive_requests_content")),
    # bounds (no target): to_pandas does all that to_arrow does and more, so these cap its ratios
    Ratio("to_arrow_vs_polars_raw", (f"{DF_}arrow", "polars_read_csv_raw"),
          speed(f"{DF_}arrow", "polars_read_csv_raw"), what="bound: to_arrow / polars read_csv"),
    Ratio("to_arrow_vs_polars_pandas", (f"{DF_}arrow", "polars_dates_to_pandas"),
          speed(f"{DF_}arrow", "polars_dates_to_pandas"), what="bound: to_arrow / polars dates + to_pandas"),
    Ratio("to_arrow_vs_naive", (f"{DF_}arrow", "naive_pandas_read_csv_url"),
          speed(f"{DF_}arrow", "naive_pandas_read_csv_url"), what="bound: to_arrow / pd.read_csv(url)"),
    Ratio("ceiling_vs_polars_raw", ("local_ceiling_isal_pyarrow", "polars_read_csv_raw"),
          speed("local_ceiling_isal_pyarrow", "polars_read_csv_raw"), what="pyarrow's own reader / polars'"),
    Ratio("to_pandas_vs_to_arrow", (f"{DF_}pandas", f"{DF_}arrow"),
          speed(f"{DF_}pandas", f"{DF_}arrow"), what="to_pandas / to_arrow (the conversion's cost)"),
    Ratio("to_parquet_vs_polars", (f"{DF_}parquet", "polars_write_parquet", "polars_sink_parquet"),
          speed(f"{DF_}parquet", "polars_write_parquet", "polars_sink_parquet"), 1.2,
          what="to_parquet / best of polars eager, lazy"),
    Ratio("to_parquet_vs_polars_eager", (f"{DF_}parquet", "polars_write_parquet"),
          speed(f"{DF_}parquet", "polars_write_parquet")),
    Ratio("to_parquet_vs_polars_lazy", (f"{DF_}parquet", "polars_sink_parquet"),
          speed(f"{DF_}parquet", "polars_sink_parquet")),
    Ratio("to_parquet_vs_naive", (f"{DF_}parquet", "naive_pandas_to_parquet"),
          speed(f"{DF_}parquet", "naive_pandas_to_parquet"), 2.5, what="to_parquet / pandas + to_parquet"),
    Ratio("to_parquet_vs_naive_requests", (f"{DF_}parquet", "naive_requests_to_parquet"),
          speed(f"{DF_}parquet", "naive_requests_to_parquet")),
    Ratio("ndjson_vs_polars", ("ndjson_dataferry_to_pandas", "ndjson_polars_read_ndjson"),
          speed("ndjson_dataferry_to_pandas", "ndjson_polars_read_ndjson"), 1.0, what="NDJSON / polars read_ndjson"),
    Ratio("ndjson_to_arrow_vs_polars", ("ndjson_dataferry_to_arrow", "ndjson_polars_read_ndjson"),
          speed("ndjson_dataferry_to_arrow", "ndjson_polars_read_ndjson"),
          what="bound: NDJSON to_arrow / polars read_ndjson (no pandas objects)"),
    Ratio("ndjson_vs_pandas", ("ndjson_dataferry_to_pandas", "ndjson_pandas_read_json"),
          speed("ndjson_dataferry_to_pandas", "ndjson_pandas_read_json"), 8.0, what="NDJSON / pd.read_json(lines)"),
    Ratio("parquet_rss_vs_naive", (f"{DF_}parquet", "naive_pandas_to_parquet"),
          memory(f"{DF_}parquet", "naive_pandas_to_parquet"), 0.6, higher=False, what="peak RSS / naive"),
    Ratio("parquet_rss_growth_4x", (f"{DF_}parquet_4x", f"{DF_}parquet"),
          memory(f"{DF_}parquet_4x", f"{DF_}parquet"), 1.1, higher=False, what="peak RSS at 4N / at N"),
)  # fmt: skip
"""The paired ratios (higher is faster unless ``higher=False``); those with a target are checked."""


def _peak_rss() -> int:
    """This process's peak resident set (VmHWM; ru_maxrss would include the parent's peak
    before exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _preimport(modules: tuple[str, ...]) -> None:
    """Import what a method uses before it is timed (imports are not what is measured), and
    nothing else (an unused library would inflate its peak RSS)."""
    import importlib

    for module in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def _child(name: str, ctx: dict[str, Any], queue: Any) -> None:
    fn, args, modules = METHODS[name]
    _preimport(modules)
    try:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        rows = fn(ctx["x4"] if name.endswith("_4x") else ctx, *args)
        seconds = time.perf_counter() - started
        end = resource.getrusage(resource.RUSAGE_SELF)
        queue.put(
            {
                "seconds": seconds,
                "rss": _peak_rss(),
                "rows": rows,
                "cpu": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime,
                "dataferry": sys.modules["dataferry"].__file__ if "dataferry" in sys.modules else None,
            }
        )
    except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
        queue.put({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})


def run_once(name: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One round of one method, in a fresh child process."""
    return in_child(_child, name, ctx)


def _bytes_of(name: str, ctx: dict[str, Any]) -> int:
    if name.endswith("_4x"):
        return ctx["x4"]["csv_bytes"]
    return ctx["ndjson_bytes" if name.startswith("ndjson") else "csv_bytes"]


def summarize(name: str, ctx: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A method over its kept rounds: min and median seconds (and MB/s of uncompressed data at
    each), their quartiles, median peak RSS, CPU seconds; each round's seconds and predecessor."""
    s = spread([r["seconds"] for r in runs])
    size = _bytes_of(name, ctx)
    return {
        "seconds": round(s["median"], 3),
        "min_seconds": round(s["min"], 3),
        "iqr_seconds": [round(s["q1"], 3), round(s["q3"], 3)],
        "mb_per_s": size / s["median"] / 1e6,
        "best_mb_per_s": size / s["min"] / 1e6,
        "peak_rss_mb": statistics.median(r["rss"] for r in runs) / 2**20,
        "cpu_seconds": round(statistics.median(r["cpu"] for r in runs), 2),
        "rows": runs[0]["rows"],
        "dataferry": runs[0]["dataferry"],
        "rounds": [round(r["seconds"], 3) for r in runs],
        "after": [r["after"] for r in runs],
    }


def measure_all(
    names: list[str],
    ctx: dict[str, Any],
    rounds: int,
    log: Any,
    seed: int = 0,
    sparse_every: int = 3,
    steal_drop: float = STEAL_DROP,
    foreign_drop: float = FOREIGN_DROP,
) -> dict[str, Any]:
    """Every method once per round (:func:`paired.measure`; the ``SPARSE`` ones in every
    ``sparse_every``-th round, the first included), then each method over its kept rounds.

    On the project's VM an Arrow-based child runs 15-40 % slower after a child that was not
    Arrow-based (freed memory goes back to the hypervisor; docs/performance.md), so no method
    may always follow the same one: rotating a fixed list is not enough, it keeps every
    method's predecessor.

    Returns ``{"methods": name → summary or error, "rounds": [...], "kept": [round results]}``."""
    measured = measure(
        names,
        lambda name: run_once(name, ctx),
        rounds,
        log,
        seed=seed,
        sparse=lambda name, k: name not in SPARSE or k % sparse_every == 0,
        steal_drop=steal_drop,
        foreign_drop=foreign_drop,
    )
    kept, errors = measured["kept"], measured["errors"]
    methods: dict[str, Any] = {}
    for name in names:
        runs = [r[name] for r in kept if name in r]
        methods[name] = errors.get(name) or (summarize(name, ctx, runs) if runs else {"error": "no kept round"})
    return {"methods": methods, "rounds": measured["rounds"], "kept": kept}


# -- parent side -------------------------------------------------------------------------------
def cpu_times() -> dict[str, float]:
    """Seconds the machine's CPUs spent busy, idle and stolen by the hypervisor so far (Linux;
    empty elsewhere): a run with much steal time measured a busy host, not the methods."""
    state = machine()
    return {k: state[k] for k in ("busy", "idle", "steal")} if state else {}


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def prepare(
    emu: Any, size: int, fmt_bytes: bool = True, formats: tuple[str, ...] = ("csv", "ndjson")
) -> dict[str, Any]:
    """Trigger a snapshot of ~size bytes of CSV, wait, and fetch its parts once (warm cache) in
    ``formats``; the CSV parts are also kept on local disk (the ceiling reads them)."""
    import requests
    from isal import igzip

    rows = max(PARTS * 1000, size // ROW_BYTES)
    emu.app.total_records = rows
    headers = {"Authorization": f"Bearer {emu.credentials['token']}"}
    r = requests.post(
        f"{emu.base_url}/datasets/v3/trigger",
        params={"dataset_id": DATASET, "include_errors": "true"},
        json=[{"url": "https://shop.example.com/bench"}],
        headers=headers,
        timeout=30,
    )
    r.raise_for_status()
    sid = r.json()["snapshot_id"]
    while (
        requests.get(f"{emu.base_url}/datasets/v3/progress/{sid}", headers=headers, timeout=30).json()["status"]
        != "ready"
    ):
        time.sleep(0.2)
    batch = math.ceil(rows / PARTS)
    ctx = {
        "base_url": emu.base_url,
        "token": emu.credentials["token"],
        "snapshot": sid,
        "batch": batch,
        "parts": PARTS,
        "rows": rows,
    }
    local = Path(tempfile.mkdtemp(prefix="dataferry-bench-local-"))
    csv_bytes = ndjson_bytes = 0
    files = []
    for fmt in formats:
        for k, url in enumerate(urls(ctx, fmt)):
            data = requests.get(url, headers=headers, timeout=600).content
            raw = len(igzip.decompress(data))
            if fmt == "csv":
                csv_bytes += raw
                path = local / f"part-{k}.csv.gz"
                path.write_bytes(data)
                files.append(str(path))
            else:
                ndjson_bytes += raw
    ctx.update(csv_bytes=csv_bytes, ndjson_bytes=ndjson_bytes, local_files=files, ceiling_block=CEILING_BLOCK)
    return ctx


def _print_text(results: dict[str, Any], args: argparse.Namespace, ratios: list[Ratio]) -> None:
    kept = results["rounds_kept"]
    print(
        f"{results['csv_mb']} MB CSV ({results['rows']:,} rows, {PARTS} gzip parts), {results['ndjson_mb']} MB NDJSON; "
        f"{kept} of {args.rounds} rounds kept ({results['rounds_dropped']}); {os.cpu_count()} CPUs"
    )
    print(
        f"{'method':30} {'MB/s med':>8} {'MB/s best':>9} {'s med':>6} {'s IQR':>11} {'n':>2} {'RSS MB':>7} {'CPU s':>6}"
    )
    for name, r in results["methods"].items():
        if "error" in r:
            print(f"{name:30} error: {r['error']}")
            continue
        iqr = f"{r['iqr_seconds'][0]:.2f}–{r['iqr_seconds'][1]:.2f}"
        print(
            f"{name:30} {r['mb_per_s']:8.1f} {r['best_mb_per_s']:9.1f} {r['seconds']:6.2f} {iqr:>11} "
            f"{len(r['rounds']):2} {r['peak_rss_mb']:7.0f} {r['cpu_seconds']:6.2f}"
        )
    print()
    for line in table(ratios, results["ratios"]):
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="300MB", help="uncompressed CSV size N (default 300MB)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sparse-every", type=int, default=3, help="run the SPARSE methods every k-th round")
    parser.add_argument("--only", default="", help="comma-separated methods to run (default: all)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed beyond its spread")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the table goes to stderr)")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("DATAFERRY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "dataferry-bench-data")),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the order of the methods in each round")
    parser.add_argument("--skip-4x", action="store_true", help="skip the memory run at 4N")
    parser.add_argument("--steal-drop", type=float, default=STEAL_DROP, help="drop rounds with more steal than this")
    parser.add_argument(
        "--foreign-drop", type=float, default=FOREIGN_DROP, help="drop rounds with more foreign busy cores than this"
    )
    args = parser.parse_args(argv)
    # the children are spawned with this sys.path: they import this checkout's dataferry
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dataferry import emulator

    names = [n for n in args.only.split(",") if n] or list(METHODS)
    names = [n for n in names if not (args.skip_4x and n.endswith("_4x"))]
    size = parse_size(args.size)
    results: dict[str, Any] = {"size_bytes": size, "rounds": args.rounds, "seed": args.seed, "cpus": os.cpu_count()}
    results["sparse_every"] = args.sparse_every
    results["sparse"] = sorted(SPARSE)

    def log(*a: object) -> None:
        print(*a, file=sys.stderr, flush=True)

    with emulator.serve(
        "brightdata", start_after=0, ready_after=0, fixed_seed=11, data_dir=args.data_dir, rate_limits=False
    ) as emu:
        log(f"preparing a snapshot of ~{size / 1e6:.0f} MB CSV in {PARTS} parts (cached in {args.data_dir}) ...")
        ctx = prepare(emu, size)
        ctx["out"] = tempfile.mkdtemp(prefix="dataferry-bench-out-")
        if any(n.endswith("_4x") for n in names):
            log(f"preparing 4N = ~{4 * size / 1e6:.0f} MB for the memory check ...")
            ctx["x4"] = {**prepare(emu, 4 * size, formats=("csv",)), "out": ctx["out"]}
            results["rows_4x"] = ctx["x4"]["rows"]
        results["csv_mb"] = round(ctx["csv_bytes"] / 1e6, 1)
        results["ndjson_mb"] = round(ctx["ndjson_bytes"] / 1e6, 1)
        results["rows"] = ctx["rows"]
        before = cpu_times()
        measured = measure_all(
            names, ctx, args.rounds, log, args.seed, args.sparse_every, args.steal_drop, args.foreign_drop
        )
        after = cpu_times()
    results["cpu_seconds"] = {k: round(after[k] - before[k], 1) for k in after}
    results["methods"] = measured["methods"]
    results["round_log"] = measured["rounds"]
    dropped = [r["dropped"] for r in measured["rounds"] if r["dropped"]]
    results["rounds_kept"] = len(measured["kept"])
    results["rounds_dropped"] = {
        "total": len(dropped),
        "steal": dropped.count("steal"),
        "load": dropped.count("load"),
    }
    ratios = [r for r in RATIOS if all(n in names for n in r.needs)]
    results["ratios"] = {r.name: paired(r, measured["kept"]) for r in ratios}
    results["check"] = {r.name: verdict(r, results["ratios"][r.name]) for r in ratios if r.target is not None}
    failed = [k for k, v in results["check"].items() if v == "MISS"]
    errors = [k for k, v in results["methods"].items() if "error" in v]
    too_few = results["rounds_kept"] < MIN_KEPT
    results["check_passed"] = not failed and not errors and not too_few
    if args.json:
        print(json.dumps(results, indent=2))
        if args.check:
            log("\n".join(table(ratios, results["ratios"])))
    else:
        _print_text(results, args, ratios)
    if args.check:
        if too_few:
            log(f"check: only {results['rounds_kept']} rounds kept (at least {MIN_KEPT} needed)")
        for k in errors:
            log(f"check: {k} did not run: {results['methods'][k]['error']}")
        log(
            "check: "
            + ("passed" if results["check_passed"] else "FAILED: " + ", ".join(failed or errors or ["rounds"]))
        )
        return 0 if results["check_passed"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
