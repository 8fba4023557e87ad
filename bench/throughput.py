"""Throughput and memory of dataferry against the ways analysts do it by hand, in one run.

    python bench/throughput.py [--size 300MB] [--rounds 3] [--json]

Starts the Bright Data emulator (its generated parts are cached on disk under --data-dir, so
the server side costs almost nothing), builds a snapshot of about --size of CSV in 6 gzip
parts, and measures every method in its own child process: wall time (median of --rounds;
each round runs every method once, in a new random order each time, so a slow spell of the
shared machine or a heavy predecessor falls on all of them alike) → MB/s
of uncompressed CSV, and peak RSS. Each child imports what its method uses before the
clock starts, and nothing else. Peers:

- naive pandas: ``pd.read_csv(url)`` per part + ``concat`` (+ ``to_parquet``);
- naive requests: ``requests.get(url).content`` → ``pd.read_csv(BytesIO)`` (+ ``to_parquet``);
- polars: ``pl.read_csv`` per part + ``concat`` (+ ``write_parquet``), if installed (on each
  part's bytes: polars' HTTP reader cannot send the Authorization header the API needs);
- the local ceiling: ISA-L gunzip + ``pyarrow.csv.read_csv`` on the same files already on
  disk, two at a time;
- NDJSON: dataferry vs ``pd.read_json(lines=True)`` vs polars ``read_ndjson``.

Ratios are printed (higher is better unless marked) and, with --json, one JSON object.
Nothing here is a test: the machine is shared and noisy, so only ratios measured side by
side mean anything.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROW_BYTES = 263
"""Average CSV bytes per record of the emulated products dataset."""

PARTS = 6
"""Parts the snapshot is split into (batch_size = rows / PARTS)."""

DATASET = "gd_l1viktl72bvl7bjuj0"

CEILING_BLOCK = 1 << 20
"""CSV block size of the local ceiling (the fastest setting measured for these files; ISA-L
inflating in the reading thread beat its threaded reader too)."""


# -- child-side methods ------------------------------------------------------------------------
def _urls(ctx: dict[str, Any], fmt: str) -> list[str]:
    base = (
        f"{ctx['base_url']}/datasets/v3/snapshot/{ctx['snapshot']}?format={fmt}&compress=true&batch_size={ctx['batch']}"
    )
    return [f"{base}&part={k + 1}" for k in range(ctx["parts"])]


def _headers(ctx: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx['token']}"}


def m_dataferry(ctx: dict[str, Any], what: str, fmt: str = "csv") -> int:
    from dataferry.providers.brightdata import Client

    bd = Client(base_url=ctx["base_url"], token=ctx["token"], progress="off")
    snap = bd.snapshot(ctx["snapshot"], format=fmt, batch_size=ctx["batch"])
    if what == "arrow":
        return snap.to_arrow(cache=False).num_rows
    if what == "pandas":
        return len(snap.to_pandas(cache=False))
    out = Path(ctx["out"]) / "dataferry.parquet"
    snap.to_parquet(out, cache=False)
    import pyarrow.parquet as pq

    return pq.ParquetFile(out).metadata.num_rows


def m_naive_pandas(ctx: dict[str, Any], parquet: bool = False) -> int:
    import pandas as pd

    frames = [pd.read_csv(u, compression="gzip", storage_options=_headers(ctx)) for u in _urls(ctx, "csv")]
    df = pd.concat(frames, ignore_index=True)
    if parquet:
        df.to_parquet(Path(ctx["out"]) / "naive.parquet")
    return len(df)


def m_naive_requests(ctx: dict[str, Any], parquet: bool = False) -> int:
    import pandas as pd
    import requests

    frames = []
    for u in _urls(ctx, "csv"):
        content = requests.get(u, headers=_headers(ctx), timeout=300).content
        frames.append(pd.read_csv(io.BytesIO(content), compression="gzip"))
    df = pd.concat(frames, ignore_index=True)
    if parquet:
        df.to_parquet(Path(ctx["out"]) / "naive.parquet")
    return len(df)


def m_polars(ctx: dict[str, Any], parquet: bool = False, fmt: str = "csv") -> int:
    # polars' own HTTP reader cannot send an Authorization header (object_store has no such
    # option), so it gets each part's bytes, read from the raw stream, and parses them itself
    import polars as pl
    import requests

    read = pl.read_csv if fmt == "csv" else pl.read_ndjson
    frames = []
    for u in _urls(ctx, fmt):
        with requests.get(u, headers=_headers(ctx), stream=True, timeout=300) as r:
            data = r.raw.read()
        if fmt != "csv":
            import gzip

            data = gzip.decompress(data)
        frames.append(read(io.BytesIO(data)))
    df = pl.concat(frames, how="diagonal_relaxed")
    if parquet:
        df.write_parquet(Path(ctx["out"]) / "polars.parquet")
    return df.height


def m_pandas_ndjson(ctx: dict[str, Any]) -> int:
    import pandas as pd
    import requests

    frames = []
    for u in _urls(ctx, "ndjson"):
        content = requests.get(u, headers=_headers(ctx), timeout=300).content
        frames.append(pd.read_json(io.BytesIO(content), lines=True, compression="gzip"))
    return len(pd.concat(frames, ignore_index=True))


def m_ceiling(ctx: dict[str, Any]) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from isal import igzip

    def one(path: str) -> pa.Table:
        with igzip.open(path, "rb") as f:
            return pacsv.read_csv(f, read_options=pacsv.ReadOptions(block_size=ctx["ceiling_block"]))

    with ThreadPoolExecutor(2) as pool:
        tables = list(pool.map(one, ctx["local_files"]))
    return sum(t.num_rows for t in tables)


DF_ARROW = (
    "pyarrow",
    "pyarrow.csv",
    "pyarrow.json",
    "pyarrow.parquet",
    "requests",
    "isal.igzip",
    "dataferry.providers.brightdata",
    "dataferry.job",
)
"""What dataferry's Arrow and Parquet paths load (they never import pandas)."""
DF = ("pandas", *DF_ARROW)
PD = ("pandas", "pyarrow", "pyarrow.parquet", "requests")
PL = ("polars", "requests")
CEIL = ("pyarrow", "pyarrow.csv", "isal.igzip")

METHODS = {
    "dataferry_to_arrow": (m_dataferry, ("arrow",), DF_ARROW),
    "dataferry_to_pandas": (m_dataferry, ("pandas",), DF),
    "dataferry_to_parquet": (m_dataferry, ("parquet",), DF_ARROW),
    "naive_pandas_read_csv_url": (m_naive_pandas, (False,), PD),
    "naive_requests_content": (m_naive_requests, (False,), PD),
    "naive_pandas_to_parquet": (m_naive_pandas, (True,), PD),
    "naive_requests_to_parquet": (m_naive_requests, (True,), PD),
    "polars_read_csv_url": (m_polars, (False,), PL),
    "polars_write_parquet": (m_polars, (True,), PL),
    "local_ceiling_isal_pyarrow": (m_ceiling, (), CEIL),
    "ndjson_dataferry_to_pandas": (m_dataferry, ("pandas", "ndjson"), DF),
    "ndjson_pandas_read_json": (m_pandas_ndjson, (), PD),
    "ndjson_polars_read_ndjson": (m_polars, (False, "ndjson"), PL),
}
"""name → (function, arguments, modules imported before the clock starts)."""


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
        started = time.perf_counter()
        rows = fn(ctx, *args)
        seconds = time.perf_counter() - started
        rss = _peak_rss()
        queue.put({"seconds": seconds, "rss": rss, "rows": rows})
    except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
        queue.put({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})


def run_once(name: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One round of one method, in a fresh child process."""
    spawn = mp.get_context("spawn")
    queue = spawn.Queue()
    proc = spawn.Process(target=_child, args=(name, ctx, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def summarize(name: str, ctx: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds → MB/s of uncompressed data, median peak RSS; each round's seconds and
    the method that ran just before it."""
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "seconds": seconds,
        "mb_per_s": ctx["csv_bytes" if not name.startswith("ndjson") else "ndjson_bytes"] / seconds / 1e6,
        "peak_rss_mb": statistics.median(r["rss"] for r in runs) / 2**20,
        "rows": runs[0]["rows"],
        "rounds": [round(r["seconds"], 3) for r in runs],
        "after": [r["after"] for r in runs],
    }


def measure_all(names: list[str], ctx: dict[str, Any], rounds: int, log: Any, seed: int = 0) -> dict[str, Any]:
    """Every method once per round, the rounds one after another: a slow spell of the machine
    then falls on all the methods alike, not on whichever happened to be running.

    Each round runs the methods in a new random order (seeded): on the project's VM an
    Arrow-based child runs 15-40 % slower after a child that was not Arrow-based (freed memory
    goes back to the hypervisor; docs/performance.md), so no method may always follow the
    same one. Rotating a fixed list is not enough: it keeps every method's predecessor."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    errors: dict[str, dict[str, Any]] = {}
    rng = random.Random(seed)
    previous = None
    for k in range(rounds):
        log(f"  round {k + 1}/{rounds} ...")
        for name in rng.sample(names, len(names)):
            if name in errors:
                continue
            result = {**run_once(name, ctx), "after": previous}
            previous = name
            if "error" in result:
                errors[name] = result  # a peer that cannot run is reported, not retried
            else:
                runs[name].append(result)
    return {name: errors.get(name) or summarize(name, ctx, runs[name]) for name in names}


# -- parent side -------------------------------------------------------------------------------
def cpu_times() -> dict[str, float]:
    """Seconds the machine's CPUs spent busy, idle and stolen by the hypervisor so far (Linux;
    empty elsewhere): a run with much steal time measured a busy host, not the methods."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (x / tick for x in fields)
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait, "steal": steal}


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def prepare(emu: Any, size: int, fmt_bytes: bool = True) -> dict[str, Any]:
    """Trigger a snapshot of ~size bytes of CSV, wait, and fetch its parts once (warm cache)."""
    import requests

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
    for fmt in ("csv", "ndjson"):
        for k, url in enumerate(_urls(ctx, fmt)):
            data = requests.get(url, headers=headers, timeout=600).content
            from isal import igzip

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


def ratio(a: dict[str, Any], b: dict[str, Any], key: str = "mb_per_s") -> float | None:
    if "error" in a or "error" in b:
        return None
    return round(a[key] / b[key], 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="300MB", help="uncompressed CSV size N (default 300MB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("DATAFERRY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "dataferry-bench-data")),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the order of the methods in each round")
    parser.add_argument("--skip-4x", action="store_true", help="skip the memory run at 4N")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dataferry import emulator

    size = parse_size(args.size)
    results: dict[str, Any] = {"size_bytes": size, "rounds": args.rounds, "seed": args.seed, "cpus": os.cpu_count()}
    with emulator.serve(
        "brightdata", start_after=0, ready_after=0, fixed_seed=11, data_dir=args.data_dir, rate_limits=False
    ) as emu:

        def log(*a: object) -> None:
            print(*a, file=sys.stderr, flush=True)

        log(f"preparing a snapshot of ~{size / 1e6:.0f} MB CSV in {PARTS} parts (cached in {args.data_dir}) ...")
        ctx = prepare(emu, size)
        out = tempfile.mkdtemp(prefix="dataferry-bench-out-")
        ctx["out"] = out
        results["csv_mb"] = round(ctx["csv_bytes"] / 1e6, 1)
        results["ndjson_mb"] = round(ctx["ndjson_bytes"] / 1e6, 1)
        results["rows"] = ctx["rows"]
        before = cpu_times()
        methods = measure_all(list(METHODS), ctx, args.rounds, log, args.seed)
        after = cpu_times()
        results["cpu_seconds"] = {k: round(after[k] - before[k], 1) for k in after}
        if not args.skip_4x:
            log(f"preparing 4N = ~{4 * size / 1e6:.0f} MB for the memory check ...")
            ctx4 = prepare(emu, 4 * size)
            ctx4["out"] = out
            results["rows_4x"] = ctx4["rows"]
            log("  dataferry_to_parquet at 4N ...")
            methods["dataferry_to_parquet_4x"] = measure_all(["dataferry_to_parquet"], ctx4, 1, log)[
                "dataferry_to_parquet"
            ]
    results["methods"] = methods
    m = methods
    results["ratios"] = {
        "to_arrow_vs_ceiling": ratio(m["dataferry_to_arrow"], m["local_ceiling_isal_pyarrow"]),
        "to_pandas_vs_naive": ratio(m["dataferry_to_pandas"], m["naive_pandas_read_csv_url"]),
        "to_pandas_vs_naive_requests": ratio(m["dataferry_to_pandas"], m["naive_requests_content"]),
        "to_pandas_vs_polars": ratio(m["dataferry_to_pandas"], m["polars_read_csv_url"]),
        "to_parquet_vs_naive": ratio(m["dataferry_to_parquet"], m["naive_pandas_to_parquet"]),
        "to_parquet_vs_naive_requests": ratio(m["dataferry_to_parquet"], m["naive_requests_to_parquet"]),
        "to_parquet_vs_polars": ratio(m["dataferry_to_parquet"], m["polars_write_parquet"]),
        "ndjson_vs_pandas": ratio(m["ndjson_dataferry_to_pandas"], m["ndjson_pandas_read_json"]),
        "ndjson_vs_polars": ratio(m["ndjson_dataferry_to_pandas"], m["ndjson_polars_read_ndjson"]),
        "parquet_rss_vs_naive": ratio(m["dataferry_to_parquet"], m["naive_pandas_to_parquet"], "peak_rss_mb"),
        "parquet_rss_growth_4x": (
            ratio(m["dataferry_to_parquet_4x"], m["dataferry_to_parquet"], "peak_rss_mb")
            if "dataferry_to_parquet_4x" in m
            else None
        ),
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{results['csv_mb']} MB CSV ({results['rows']:,} rows, {PARTS} gzip parts), "
            f"{results['ndjson_mb']} MB NDJSON; median of {args.rounds} rounds; {os.cpu_count()} CPUs"
        )
        print(f"{'method':34} {'MB/s':>8} {'seconds':>8} {'peak RSS MB':>12}")
        for name, r in methods.items():
            if "error" in r:
                print(f"{name:34} {'error: ' + r['error']}")
            else:
                print(f"{name:34} {r['mb_per_s']:8.1f} {r['seconds']:8.2f} {r['peak_rss_mb']:12.0f}")
        if results.get("cpu_seconds"):
            print(
                "CPU seconds of the whole machine while measuring: "
                + ", ".join(f"{k} {v}" for k, v in results["cpu_seconds"].items())
            )
        print()
        for key, value in results["ratios"].items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
