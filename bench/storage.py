"""Streaming a snapshot to object storage against streaming it to local disk, in one run.

    python bench/storage.py [--size 200MB] [--rounds 5] [--json]

Starts the Bright Data emulator and moto's S3 server (a real S3 API over HTTP on 127.0.0.1),
both in this process, builds a snapshot of about --size of CSV in 6 gzip parts (as
bench/throughput.py does), and runs each method in its own child process, so a child's peak
RSS is the client's alone (the S3 server's memory is this process's):

- ``disk_file``: ``snap.to_parquet(tmp/x.parquet)``;
- ``s3_file``: ``snap.to_parquet("s3://bench/x.parquet", storage_options=...)`` (written
  locally and uploaded straight to its key as it grows: dataferry/s3upload.py);
- ``s3_file_staged``: the same the way GCS, Azure and s3fs options go (pyarrow's S3 client,
  streamed to a temporary key, then a server-side copy);
- ``disk_dataset`` / ``s3_dataset``: the same as a dataset of one file per part
  (``existing_data="replace"``).

Every round runs every method once, in a new random order (seeded); the objects are deleted
between methods; a round under heavy steal or foreign load is dropped and counted
(``bench/paired.py``). Printed: per method the median seconds, MB/s of uncompressed CSV and peak
RSS with their spread over the kept rounds (min-max), then the paired ratios S3 / disk (per
round, so a slow spell of the shared machine falls on both; their median and interquartile
range) against the issue's bars: S3 peak memory within ~1.2x of disk, speed at least ~0.8x;
``--check`` exits 1 when one is missed beyond its spread. Nothing here is a test.

The CPU seconds are the client's (the child) and the server's (this process: the emulator for
every method, moto too for the S3 ones). moto is Python on the same cores as the client, so on
a small machine its CPU slows the S3 runs; ``*_client_cpu`` (the client's CPU for S3 over its
CPU for disk) and ``*_speed_server_off`` (the speed ratio with the server's extra CPU seconds
taken off the S3 run, see :func:`_server_off`) show how much of the gap is the server's.
"""

from __future__ import annotations

import argparse
import json
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
    summary,
    table,
    verdict,
)
from throughput import _peak_rss, parse_size, prepare

BUCKET = "bench"
METHODS = ("disk_file", "s3_file", "s3_file_staged", "disk_dataset", "s3_dataset")
PAIRS = (("s3_file", "disk_file"), ("s3_dataset", "disk_dataset"))


def _target(ctx: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    where, shape = name.split("_")[:2]
    suffix = "x.parquet" if shape == "file" else "ds/"
    if where == "disk":
        return os.path.join(ctx["out"], suffix), {}  # keeps the trailing "/" that asks for a dataset
    return f"s3://{BUCKET}/{suffix}", {"storage_options": ctx["storage_options"]}


def _child(name: str, ctx: dict[str, Any], queue: Any) -> None:
    import pyarrow.parquet  # noqa: F401 - imported before the clock starts

    from dataferry.providers.brightdata import Client

    if name == "s3_file":  # its uploads use botocore (making the client is timed, importing is not)
        import botocore.client
        import botocore.config
        import botocore.session  # noqa: F401
    if name.endswith("_staged"):  # the path of GCS, Azure, s3fs options: a temporary key, then a copy
        from dataferry import storage

        storage._mirrors = lambda options: None
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
    """One round of one method, in a fresh child process, with the CPU this process spent
    meanwhile (it serves the emulator for every method and the S3 server for the s3 ones)."""
    cpu = _cpu_seconds()
    result = in_child(_child, name, ctx)
    result["server_cpu"] = _cpu_seconds() - cpu
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


def _ratios() -> tuple[Ratio, ...]:
    """Per pair (S3, disk): speed (the bar: ≥0.8), peak RSS (≤1.2), the client's CPU, and the
    speed without the local S3 server's CPU (see :func:`_server_off`)."""
    out: list[Ratio] = []
    for s3_name, disk_name in PAIRS:
        stem, both = f"{s3_name}_vs_{disk_name}", (s3_name, disk_name)
        out += [
            Ratio(f"{stem}_speed", both, speed(s3_name, disk_name), 0.8, what="S3 against disk, speed"),
            Ratio(f"{stem}_peak_rss", both, memory(s3_name, disk_name), 1.2, higher=False, what="peak RSS"),
            Ratio(
                f"{stem}_client_cpu",
                both,
                lambda r, a=s3_name, b=disk_name: r[a]["client_cpu"] / r[b]["client_cpu"],
                what="the client's CPU seconds",
            ),
            Ratio(
                f"{stem}_speed_server_off",
                both,
                lambda r, a=s3_name, b=disk_name: r[b]["seconds"] / _server_off(r[a], r[b]),
                what="speed, the S3 server's CPU taken off",
            ),
        ]
    direct = ("s3_file", "s3_file_staged")
    out.append(Ratio("s3_file_vs_staged_speed", direct, speed(*direct), what="straight to the key / staged + copy"))
    return tuple(out)


RATIOS = _ratios()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="200MB", help="uncompressed CSV size (default 200MB)")
    add_options(parser, rounds=5)
    args = parser.parse_args(argv)
    from dataferry import emulator
    from dataferry.s3server import LocalS3

    def log(*a: Any) -> None:
        print(*a, file=sys.stderr, flush=True)

    size = parse_size(args.size)
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

        def run(name: str) -> dict[str, Any]:
            result = run_once(name, ctx)
            if "error" not in result:
                result["rows"], result["files"] = written(ctx, name, s3)
            clean(ctx, s3)
            return result

        try:
            measured = measure_as_asked(args, METHODS, run, log)
        finally:
            shutil.rmtree(ctx["out"], ignore_errors=True)
    kept = kept_rounds(measured)
    mb = ctx["csv_bytes"] / 1e6

    methods = {}
    for name in METHODS:
        rs = [r[name] for r in kept]
        methods[name] = {
            "seconds": summary([r["seconds"] for r in rs], 3),
            "mb_per_s": summary([mb / r["seconds"] for r in rs], 1),
            "peak_rss_mb": summary([r["rss"] / 2**20 for r in rs], 0),
            "client_cpu_s": summary([r["client_cpu"] for r in rs], 2),
            "server_cpu_s": summary([r["server_cpu"] for r in rs], 2),
            "rows": min(r["rows"] for r in rs),
            "files": min(r["files"] for r in rs),
        }
    ratios = {r.name: paired(r, kept) for r in RATIOS}
    result = {
        "csv_mb": round(mb, 1),
        "rows": ctx["rows"],
        "rounds": args.rounds,
        "rounds_kept": len(kept),
        "round_states": measured["rounds"],
        "cpus": os.cpu_count(),
        "methods": methods,
        "ratios": ratios,
        "verdicts": {r.name: verdict(r, ratios[r.name]) for r in RATIOS},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['csv_mb']} MB CSV ({ctx['rows']:,} rows, 6 gzip parts); {len(kept)} of {args.rounds} rounds "
            f"kept; {os.cpu_count()} CPUs"
        )
        columns = ("seconds", "mb_per_s", "peak_rss_mb", "client_cpu_s", "server_cpu_s")
        heads = ("seconds", "MB/s", "peak RSS MB", "client CPU s", "server CPU s")
        print(f"{'method':14}" + "".join(f" {h:>22}" for h in heads) + "   median [min-max]")
        for name, m in methods.items():
            cells = [f"{m[k]['median']} [{m[k]['min']}-{m[k]['max']}]" for k in columns]
            print(f"{name:14}" + "".join(f" {c:>22}" for c in cells))
        print()
        for line in table(RATIOS, ratios):
            print(line)
        print("(*_speed_server_off: the S3 run's seconds without the local S3 server's CPU on the shared cores)")
    missed = [name for name, v in result["verdicts"].items() if v == "MISS"]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
