"""One process against a Dask LocalCluster writing the same snapshot to a Parquet dataset, in one run.

    python bench/scaleout.py [--size 60MB] [--grow 4] [--rounds 3] [--json]

Starts the Bright Data emulator in this process, builds a snapshot of about --size of CSV in 6
gzip parts (as bench/throughput.py does) and a grown one with --grow times as many rows in
--grow times as many parts of the same size (a vendor's snapshot grows by its number of parts:
``batch_size`` is the user's), then runs each method in its own child process:

- ``one_process``: ``snap.to_parquet(dir/, existing_data="replace")`` (two cores: downloads and
  decoding side by side);
- ``cluster_1`` / ``cluster_2``: ``snap.to_parquet(dir/, dask=client)`` on a
  ``LocalCluster(n_workers=1|2, threads_per_worker=1, processes=True)``;
- ``one_process_grown`` / ``cluster_2_grown``: the same on the grown snapshot, for the memory
  of one process and of a worker as the snapshot grows.

Both sides are warm before the clock starts, in the same way: the process (or the cluster, up
and with every worker) first writes a small snapshot once, as a user's session or cluster has
done something before the big job; what the first job on a cold cluster costs more is printed
apart (``cold_start_seconds``: the first run on the cluster minus the second, same snapshot).

Every round runs every method once, in a new random order (seeded), and records the machine's
steal time and the cores other processes kept busy; a round under heavy steal or foreign load
is dropped and counted (``bench/paired.py``, as in bench/throughput.py). Printed: per method the
median seconds, MB/s of uncompressed CSV and peak RSS (of the one process; of the busiest worker
for a cluster) with their spread (min-max) over the kept rounds, then the paired ratios (per
round, then their median and interquartile range) with the issue's bars: ``cluster_2`` at least
0.85x ``one_process``'s speed at equal cores, and a worker's peak RSS grown / base at most 1.1x
(flat). ``--check`` exits 1 when a bar is missed beyond the spread. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paired import (
    Ratio,
    add_options,
    in_child,
    kept_rounds,
    measure_as_asked,
    memory,
    paired,
    speed,
    spread,
    summary,
    table,
    verdict,
)
from throughput import ROW_BYTES, _peak_rss, parse_size, prepare

METHODS = ("one_process", "one_process_grown", "cluster_1", "cluster_2", "cluster_2_grown")


def _warm() -> int:
    """Run on each worker before the clock: what the first task would otherwise import."""
    import pyarrow.parquet  # noqa: F401

    import dataferry.scaleout.writes  # noqa: F401

    return os.getpid()


def _worker_peak() -> int:
    return _peak_rss()


def _child(name: str, ctx: dict[str, Any], queue: Any) -> None:
    import pyarrow.parquet  # noqa: F401 - imported before the clock starts

    from dataferry.providers.brightdata import Client

    try:
        snapshot = ctx["grown"] if name.endswith("grown") else ctx["base"]
        bd = Client(base_url=ctx["base_url"], token=ctx["token"], progress="off")
        snap = bd.snapshot(snapshot["snapshot"], batch_size=snapshot["batch"])
        out = str(Path(ctx["out"]) / "ds") + "/"
        warm = bd.snapshot(ctx["warm"]["snapshot"], batch_size=ctx["warm"]["batch"])
        warm_out = str(Path(ctx["out"]) / "warm") + "/"
        if name.startswith("one_process"):
            warm.to_parquet(warm_out, cache=False, existing_data="replace")
            started = time.perf_counter()
            snap.to_parquet(out, cache=False, existing_data="replace")
            seconds = time.perf_counter() - started
            queue.put({"seconds": seconds, "rss": _peak_rss(), "mb": snapshot["csv_bytes"] / 1e6})
            return
        from distributed import Client as DaskClient, LocalCluster

        import dataferry.scaleout.writes  # noqa: F401 - the client's side, imported before the clock

        workers = int(name.split("_")[1])
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            DaskClient(cluster) as client,
        ):
            client.run(_warm)
            cold = time.perf_counter()
            warm.to_parquet(warm_out, cache=False, existing_data="replace", dask=client)
            cold = time.perf_counter() - cold
            again = time.perf_counter()
            warm.to_parquet(warm_out, cache=False, existing_data="replace", dask=client)
            cold -= time.perf_counter() - again
            started = time.perf_counter()
            snap.to_parquet(out, cache=False, existing_data="replace", dask=client)
            seconds = time.perf_counter() - started
            rss = max(client.run(_worker_peak).values())
        queue.put({"seconds": seconds, "rss": rss, "mb": snapshot["csv_bytes"] / 1e6, "cold": cold})
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        queue.put({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})


def run_once(name: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One round of one method, in a fresh child process."""
    return in_child(_child, name, ctx)


def grow(emu: Any, base: dict[str, Any], factor: float) -> dict[str, Any]:
    """A snapshot of ``factor`` times the rows of ``base`` in parts of ``base``'s size, its CSV
    parts fetched once (the emulator's cache warm)."""
    import requests
    from isal import igzip

    grown = prepare(emu, int(base["rows"] * factor) * ROW_BYTES)
    grown["batch"] = base["batch"]
    grown["parts"] = math.ceil(grown["rows"] / base["batch"])
    url = f"{grown['base_url']}/datasets/v3/snapshot/{grown['snapshot']}?format=csv&compress=true"
    headers = {"Authorization": f"Bearer {grown['token']}"}
    grown["csv_bytes"] = 0
    for k in range(grown["parts"]):
        data = requests.get(f"{url}&batch_size={grown['batch']}&part={k + 1}", headers=headers, timeout=600).content
        grown["csv_bytes"] += len(igzip.decompress(data))
    return grown


def rows_written(ctx: dict[str, Any]) -> int:
    import pyarrow.dataset as ds

    return ds.dataset(str(Path(ctx["out"]) / "ds"), format="parquet").count_rows()


RATIOS = (
    Ratio(
        "cluster_2_vs_one_process",
        ("cluster_2", "one_process"),
        speed("cluster_2", "one_process"),
        0.85,
        what="2 workers against one process, speed at equal cores",
    ),
    Ratio(
        "cluster_2_vs_one_process_grown",
        ("cluster_2_grown", "one_process_grown"),
        speed("cluster_2_grown", "one_process_grown"),
        what="the same on the grown snapshot",
    ),
    Ratio("cluster_2_vs_cluster_1", ("cluster_2", "cluster_1"), speed("cluster_2", "cluster_1"), what="2 workers vs 1"),
    Ratio(
        "worker_rss_grown_vs_base",
        ("cluster_2_grown", "cluster_2"),
        memory("cluster_2_grown", "cluster_2"),
        1.1,
        higher=False,
        what="a worker's peak RSS as the snapshot grows",
    ),
    Ratio(
        "worker_rss_vs_one_process",
        ("cluster_2", "one_process"),
        memory("cluster_2", "one_process"),
        what="a worker's peak RSS against one process's",
    ),
    Ratio(
        "one_process_rss_grown_vs_base",
        ("one_process_grown", "one_process"),
        memory("one_process_grown", "one_process"),
        what="one process's peak RSS as the snapshot grows",
    ),
)


def summarize(runs: list[dict[str, Any]], expected_rows: int) -> dict[str, Any]:
    """A method over its kept rounds: seconds, MB/s and peak RSS as median [min-max]."""
    return {
        "seconds": summary([r["seconds"] for r in runs], 3),
        "mb_per_s": summary([r["mb"] / r["seconds"] for r in runs], 1),
        "peak_rss_mb": summary([r["rss"] / 2**20 for r in runs], 0),
        "rows": min(r["rows"] for r in runs),
        "expected_rows": expected_rows,
        "n": len(runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="60MB", help="uncompressed CSV size N (default 60MB)")
    parser.add_argument("--grow", type=float, default=4.0, help="the grown snapshot has this many times the parts")
    add_options(parser, rounds=3)
    args = parser.parse_args(argv)
    from dataferry import emulator

    def log(*a: Any) -> None:
        print(*a, file=sys.stderr, flush=True)

    size = parse_size(args.size)
    with emulator.serve(
        "brightdata", start_after=0, ready_after=0, fixed_seed=11, data_dir=args.data_dir, rate_limits=False
    ) as emu:
        log(f"preparing snapshots of ~{size / 1e6:.0f} MB and ~{size * args.grow / 1e6:.0f} MB CSV ...")
        base = prepare(emu, size)
        grown = grow(emu, base, args.grow)
        warm = prepare(emu, 0)  # the smallest snapshot prepare makes
        ctx = {"base_url": base["base_url"], "token": base["token"], "base": base, "grown": grown, "warm": warm}
        ctx["out"] = tempfile.mkdtemp(prefix="dataferry-bench-scaleout-")

        def run(name: str) -> dict[str, Any]:
            result = run_once(name, ctx)
            if "error" not in result:
                result["rows"] = rows_written(ctx)
            shutil.rmtree(Path(ctx["out"]) / "ds", ignore_errors=True)
            return result

        try:
            measured = measure_as_asked(args, METHODS, run, log)
        finally:
            shutil.rmtree(ctx["out"], ignore_errors=True)
    kept = kept_rounds(measured)
    methods = {
        name: summarize([r[name] for r in kept], (grown if name.endswith("grown") else base)["rows"])
        for name in METHODS
    }
    ratios = {r.name: paired(r, kept) for r in RATIOS}
    colds = [r[name]["cold"] for r in kept for name in METHODS if "cold" in r[name]]
    result = {
        "csv_mb": round(base["csv_bytes"] / 1e6, 1),
        "parts": base["parts"],
        "grown_csv_mb": round(grown["csv_bytes"] / 1e6, 1),
        "grown_parts": grown["parts"],
        "rounds": args.rounds,
        "rounds_kept": len(kept),
        "round_states": measured["rounds"],
        "cpus": os.cpu_count(),
        "cold_start_seconds": {k: round(v, 3) for k, v in spread(colds).items()},
        "methods": methods,
        "ratios": ratios,
        "verdicts": {r.name: verdict(r, ratios[r.name]) for r in RATIOS},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['csv_mb']} MB CSV in {result['parts']} gzip parts (grown: {result['grown_csv_mb']} MB in "
            f"{result['grown_parts']}); {len(kept)} of {args.rounds} rounds kept; {os.cpu_count()} CPUs"
        )
        cold = result["cold_start_seconds"]
        print(f"a cold cluster's first job costs {cold['median']} s more [{cold['min']}-{cold['max']}]")
        print(f"{'method':18} {'seconds':>22} {'MB/s':>22} {'peak RSS MB':>20}   median [min-max]")
        for name, m in methods.items():
            cells = [f"{m[k]['median']} [{m[k]['min']}-{m[k]['max']}]" for k in ("seconds", "mb_per_s", "peak_rss_mb")]
            print(f"{name:18} {cells[0]:>22} {cells[1]:>22} {cells[2]:>20}")
        print()
        for line in table(RATIOS, ratios):
            print(line)
    missed = [name for name, v in result["verdicts"].items() if v == "MISS"]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
