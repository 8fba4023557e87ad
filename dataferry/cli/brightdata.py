"""``dataferry brightdata …`` commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dataferry.cli.commands import add_common, add_job_commands
from dataferry.errors import InvalidArgument
from dataferry.providers.brightdata.client import DEFAULT_BASE_URL, Client


def _client(args: argparse.Namespace) -> Client:
    return Client(base_url=args.base_url, progress=args.progress)


def register(sub: Any) -> None:
    """Add the ``brightdata`` command group."""
    parser = sub.add_parser("brightdata", help="Bright Data Datasets v3 snapshots")
    commands = parser.add_subparsers(dest="action", required=True)
    trig = commands.add_parser("trigger", help="trigger a collection, wait, and save it as Parquet")
    trig.add_argument("dataset_id")
    trig.add_argument("inputs", help="a CSV file (uploaded as is) or a JSON file with a list of objects")
    trig.add_argument("-o", "--out", help="Parquet path; without it, only the snapshot id is printed")
    trig.add_argument("--include-errors", action="store_true")
    trig.add_argument("--limit-per-input", type=int)
    trig.add_argument("--discover-by", help="trigger a discovery collection (type=discover_new)")
    add_common(trig, DEFAULT_BASE_URL)
    trig.set_defaults(func=_trigger)
    _register_collect(commands)
    add_job_commands(commands, _client, lambda c, i: c.snapshot(i), default_base_url=DEFAULT_BASE_URL, noun="snapshot")


def _trigger(args: argparse.Namespace) -> int:
    bd = _client(args)
    path = Path(args.inputs)
    if path.suffix.lower() == ".json":
        try:
            inputs: Any = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"{path}: not a readable JSON file ({exc})") from exc
    else:
        inputs = path
    snap = bd.trigger(
        args.dataset_id,
        inputs,
        include_errors=args.include_errors or None,
        limit_per_input=args.limit_per_input,
        type="discover_new" if args.discover_by else None,
        discover_by=args.discover_by,
    )
    print(f"snapshot {snap.id}")
    if args.out:
        print(f"written to {snap.to_parquet(args.out, timeout=None)}")
    return 0


def _register_collect(commands: Any) -> None:
    """``dataferry brightdata collect``: trigger a collector (DCA) batch."""
    coll = commands.add_parser("collect", help="trigger a collector (DCA) batch, wait, and save it as Parquet")
    coll.add_argument("collector_id", help="the collector id (c_…)")
    coll.add_argument("inputs", help="a CSV file (uploaded as is) or a JSON file with a list of objects")
    coll.add_argument("-o", "--out", help="Parquet path; without it, only the collection id is printed")
    coll.add_argument("--name", help="a human-readable name for the batch")
    coll.add_argument("--dev", action="store_true", help="run the collector's development version (version=dev)")
    coll.add_argument("--deadline", help="terminate the batch after this long: 1h, 30m, 45s")
    coll.add_argument("--no-downloads", action="store_true", help="do not download media files")
    behaviour = coll.add_mutually_exclusive_group()
    behaviour.add_argument("--queue-next", action="store_true", help="wait behind a running batch (the default)")
    behaviour.add_argument("--queue", metavar="LABEL", help="start after the last queued batch (queue=LABEL)")
    behaviour.add_argument(
        "--confirm-cancel", action="store_true", help="cancel the running batch and run this one instead"
    )
    add_common(coll, DEFAULT_BASE_URL)
    coll.set_defaults(func=_collect)


def _collect(args: argparse.Namespace) -> int:
    bd = _client(args)
    col = bd.collect(
        args.collector_id,
        Path(args.inputs),
        name=args.name,
        version="dev" if args.dev else None,
        queue_next=True if args.queue_next else None,
        queue=args.queue,
        confirm_cancel=args.confirm_cancel,
        no_downloads=args.no_downloads,
        deadline=args.deadline,
    )
    eta = f" (start ETA {col.start_eta})" if col.start_eta else ""
    print(f"collection {col.id}{eta}")
    if args.out:
        print(f"written to {col.to_parquet(args.out, timeout=None)}")
    return 0
