"""Command-line pieces every vendor shares: ``status``, ``wait``, ``fetch`` and ``cancel``
for an existing job, and the common options (``--base-url``, ``--progress``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from dataferry.datajob import DataJob
from dataferry.job import Job

MakeClient = Callable[[argparse.Namespace], Any]
GetJob = Callable[[Any, str], Job]


def add_common(parser: argparse.ArgumentParser, default_base_url: str) -> None:
    """``--base-url`` and ``--progress`` on a vendor command."""
    parser.add_argument("--base-url", default=default_base_url, help=f"API root (default {default_base_url})")
    parser.add_argument("--progress", default=None, help="auto, widget, html, tqdm, log or off")


def add_job_commands(
    vendor_parsers: Any, make_client: MakeClient, get_job: GetJob, *, default_base_url: str, noun: str = "job"
) -> None:
    """Add ``status``, ``wait``, ``fetch`` and ``cancel`` subcommands for ``noun`` ids."""
    for name, helptext in (
        ("status", f"print the {noun}'s status"),
        ("wait", f"wait until the {noun} finishes"),
        ("cancel", f"cancel the {noun}"),
    ):
        p = vendor_parsers.add_parser(name, help=helptext)
        p.add_argument("id")
        add_common(p, default_base_url)
        p.set_defaults(func=lambda a, _n=name: _job_command(a, _n, make_client, get_job))
    p = vendor_parsers.add_parser("fetch", help=f"download the {noun}'s data to Parquet (waits first)")
    p.add_argument("id")
    p.add_argument("-o", "--out", required=True, help="a .parquet file, or a directory for a dataset")
    p.add_argument("--partition-cols", nargs="*", default=None)
    add_common(p, default_base_url)
    p.set_defaults(func=lambda a: _job_command(a, "fetch", make_client, get_job))


def _job_command(args: argparse.Namespace, name: str, make_client: MakeClient, get_job: GetJob) -> int:
    client = make_client(args)
    if args.progress is not None:
        client.progress = args.progress
    job = get_job(client, args.id)
    if name == "status":
        status = job.status()
        print(
            json.dumps(
                {
                    "id": job.id,
                    "state": status.state.value,
                    "status": status.raw,
                    "progress": status.progress,
                    "message": status.message,
                },
                ensure_ascii=False,
            )
        )
    elif name == "wait":
        job.wait(timeout=None)
        print(f"{job.id}: {job.last_status.describe() if job.last_status else 'done'}")
    elif name == "cancel":
        job.cancel()
        print(f"{job.id}: cancel requested")
    else:
        if not isinstance(job, DataJob):
            raise SystemExit(f"{job.kind}s have no data to fetch")
        path = job.to_parquet(args.out, partition_cols=args.partition_cols, timeout=None)
        print(f"{job.id}: written to {path}")
    return 0
