"""Streaming a snapshot to object storage against streaming it to local disk, in one run.

    python bench/storage.py [--size 200MB] [--rounds 5] [--json]

Starts the Bright Data emulator and moto's S3 server (a real S3 API over HTTP on 127.0.0.1),
both in this process, builds a snapshot of about --size of CSV in 6 gzip parts (as
bench/throughput.py does), and runs each method in its own child process, so a child's peak
RSS is the client's alone (the S3 server's memory is this process's):

- ``disk_file``: ``snap.to_parquet(tmp/x.parquet)``;
- ``s3_file``: ``snap.to_parquet("s3://bench/x.parquet", storage_options=...)`` (pyarrow's S3
  client, streamed to a temporary key, then a server-side copy);
- ``disk_dataset`` / ``s3_dataset``: the same as a dataset of one file per part
  (``existing_data="replace"``).

Every round runs every method once, in a new random order (seeded); the objects are deleted
between methods. Printed: per method the median seconds, MB/s of uncompressed CSV and peak RSS
with the spread over the rounds (min-max), then the ratios S3 / disk per round (each from the
same round, so a slow spell of the shared machine falls on both) with their median and spread.
The issue's bar: S3 peak memory within ~1.2x of disk, speed at least ~0.8x. Nothing here is a
test: the machine is shared and noisy.

The CPU seconds are the client's (the child) and the server's (this process: the emulator for
every method, moto too for the S3 ones). moto is Python on the same cores as the client, so on
a small machine its CPU slows the S3 runs; ``*_client_cpu`` (the client's CPU for S3 over its
CPU for disk) and ``*_speed_server_off`` (the speed ratio with the server's extra CPU seconds
taken off the S3 run, see :func:`_server_off`) show how much of the gap is the server's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from throughput import _peak_rss, cpu_times, parse_size, prepare

BUCKET = "bench"
METHODS = ("disk_file", "s3_file", "disk_dataset", "s3_dataset")
PAIRS = (("s3_file", "disk_file"), ("s3_dataset", "disk_dataset"))


def _target(ctx: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    where, shape = name.split("_")
    suffix = "x.parquet" if shape == "file" else "ds/"
    if where == "disk":
        return os.path.join(ctx["out"], suffix), {}  # keeps the trailing "/" that asks for a dataset
    return f"s3://{BUCKET}/{suffix}", {"storage_options": ctx["storage_options"]}


def _child(name: str, ctx: dict[str, Any], queue: Any) -> None:
    import pyarrow.parquet  # noqa: F401 - imported before the clock starts

    from dataferry.providers.brightdata import Client

    try:
        bd = Client(base_url=ctx["base_url"], token=ctx["token"], progress="off")
        snap = bd.snapshot(ctx["snapshot"], batch_size=ctx["batch"])
        path, kw = _target(ctx, name)
        if name.endswith("dataset"):
            kw["existing_data"] = "replace"
        cpu = _cpu_seconds()
        started = time.perf_counter()
        snap.to_parquet(path, cache=False, **kw)
        seconds = time.perf_counter() - started
        queue.put({"seconds": seconds, "rss": _peak_rss(), "client_cpu": _cpu_seconds() - cpu})
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        queue.put({"error": f"{type(exc).__name__}: {str(exc)[:300]}"})


def _cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far."""
    t = os.times()
    return t.user + t.system


def _server_off(s3: dict[str, Any], disk: dict[str, Any]) -> float:
    """An S3 run's seconds without the S3 server's CPU on the shared cores (an estimate).

    The runs are CPU-bound on a small machine and moto's server is Python on the same cores:
    its CPU seconds (this process's, less what the emulator used in the disk run of the round)
    stretch the client's run. The estimate keeps the client's share of the CPU the run spent.
    """
    server = max(0.0, s3["server_cpu"] - disk["server_cpu"])
    client = max(s3["client_cpu"], 1e-9)
    return s3["seconds"] * client / (client + server)


def run_once(name: str, ctx: dict[str, Any]) -> dict[str, Any]:
    spawn = mp.get_context("spawn")
    queue = spawn.Queue()
    proc = spawn.Process(target=_child, args=(name, ctx, queue))
    cpu = _cpu_seconds()
    proc.start()
    result = queue.get()
    # this process serves the emulator (every method) and the S3 server (the s3 methods)
    result["server_cpu"] = _cpu_seconds() - cpu
    proc.join()
    return result


def written(ctx: dict[str, Any], name: str, s3: Any) -> tuple[int, int]:
    """(rows, data files) of what a method wrote."""
    import pyarrow.dataset as ds

    path, _ = _target(ctx, name)
    fs = s3.filesystem() if path.startswith("s3://") else None
    inner = path.removeprefix("s3://").rstrip("/")
    data = ds.dataset(inner, filesystem=fs, format="parquet")
    return data.count_rows(), len(data.files)


def clean(ctx: dict[str, Any], s3: Any) -> None:
    shutil.rmtree(ctx["out"], ignore_errors=True)
    Path(ctx["out"]).mkdir()
    client = s3.client()
    for key in s3.keys(BUCKET, markers=True):
        client.delete_object(Bucket=BUCKET, Key=key)


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="200MB", help="uncompressed CSV size (default 200MB)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("DATAFERRY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "dataferry-bench-data")),
    )
    args = parser.parse_args(argv)
    from dataferry import emulator
    from dataferry.s3server import LocalS3

    def log(*a):
        return print(*a, file=sys.stderr, flush=True)

    size = parse_size(args.size)
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    rows: dict[str, int] = {}
    files: dict[str, int] = {}
    with (
        emulator.serve(
            "brightdata", start_after=0, ready_after=0, fixed_seed=11, data_dir=args.data_dir, rate_limits=False
        ) as emu,
        LocalS3(buckets=[BUCKET]) as s3,
    ):
        log(f"preparing a snapshot of ~{size / 1e6:.0f} MB CSV (cached in {args.data_dir}) ...")
        ctx = prepare(emu, size)
        ctx["out"] = tempfile.mkdtemp(prefix="dataferry-bench-storage-")
        ctx["storage_options"] = s3.storage_options
        rng = random.Random(args.seed)
        before = cpu_times()
        for k in range(args.rounds):
            log(f"  round {k + 1}/{args.rounds} ...")
            for name in rng.sample(METHODS, len(METHODS)):
                result = run_once(name, ctx)
                if "error" in result:
                    raise SystemExit(f"{name}: {result['error']}")
                rows[name], files[name] = written(ctx, name, s3)
                runs[name].append(result)
                clean(ctx, s3)
        after = cpu_times()
        shutil.rmtree(ctx["out"], ignore_errors=True)
    mb = ctx["csv_bytes"] / 1e6
    methods = {
        name: {
            "seconds": spread([r["seconds"] for r in rs]),
            "mb_per_s": spread([mb / r["seconds"] for r in rs], 1),
            "peak_rss_mb": spread([r["rss"] / 2**20 for r in rs], 0),
            "client_cpu_s": spread([r["client_cpu"] for r in rs], 2),
            "server_cpu_s": spread([r["server_cpu"] for r in rs], 2),
            "rows": rows[name],
            "files": files[name],
        }
        for name, rs in runs.items()
    }
    ratios = {}
    for s3_name, disk_name in PAIRS:
        pairs = list(zip(runs[s3_name], runs[disk_name], strict=False))
        ratios[f"{s3_name}_vs_{disk_name}_speed"] = spread([d["seconds"] / s["seconds"] for s, d in pairs])
        ratios[f"{s3_name}_vs_{disk_name}_peak_rss"] = spread([s["rss"] / d["rss"] for s, d in pairs])
        ratios[f"{s3_name}_vs_{disk_name}_client_cpu"] = spread([s["client_cpu"] / d["client_cpu"] for s, d in pairs])
        off = [d["seconds"] / _server_off(s, d) for s, d in pairs]
        ratios[f"{s3_name}_vs_{disk_name}_speed_server_off"] = spread(off)
    result = {
        "csv_mb": round(mb, 1),
        "rows": ctx["rows"],
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "cpu_seconds": {k: round(after[k] - before[k], 1) for k in after},
        "methods": methods,
        "ratios": ratios,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['csv_mb']} MB CSV ({ctx['rows']:,} rows, 6 gzip parts); {args.rounds} rounds; "
        f"{os.cpu_count()} CPUs; median [min-max]"
    )
    columns = ("seconds", "mb_per_s", "peak_rss_mb", "client_cpu_s", "server_cpu_s")
    heads = ("seconds", "MB/s", "peak RSS MB", "client CPU s", "server CPU s")
    print(f"{'method':14}" + "".join(f" {h:>22}" for h in heads))
    for name, m in methods.items():
        cells = [f"{m[k]['median']} [{m[k]['min']}-{m[k]['max']}]" for k in columns]
        print(f"{name:14}" + "".join(f" {c:>22}" for c in cells))
    if result["cpu_seconds"]:
        print("CPU seconds of the whole machine: " + ", ".join(f"{k} {v}" for k, v in result["cpu_seconds"].items()))
    print()
    for key, r in ratios.items():
        print(f"{key:50} {r['median']} [{r['min']}-{r['max']}]")
    print("(*_speed_server_off: the S3 run's seconds without the local S3 server's CPU on the shared cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
