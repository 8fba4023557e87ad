"""``dataferry brightdata …`` commands.

    dataferry brightdata trigger DATASET inputs.csv -o day.parquet [--timeout 2h] [--json]
    dataferry brightdata collect COLLECTOR inputs.json -o day.parquet
    dataferry brightdata status|wait|fetch|cancel ID     (a snapshot s_…, or a collection j_…)

The token comes from ``$BRIGHTDATA_API_TOKEN`` or ``--token-file``; a webhook's Authorization
header from ``$BRIGHTDATA_WEBHOOK_AUTH`` or ``--auth-header-file``. Neither is ever taken from
the command line, where it would end up in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from dataferry.cli.commands import (
    add_common,
    add_job_commands,
    add_timeout,
    duration,
    finish_job,
    outcome_of,
    prepare,
    secret_from,
)
from dataferry.cli.outputs import add_output_options
from dataferry.errors import InvalidArgument
from dataferry.job import Job
from dataferry.providers.brightdata.client import BUSY_WAIT, DEFAULT_BASE_URL, TOKEN_ENV, Client
from dataferry.providers.brightdata.params import DOWNLOAD_FORMATS

WEBHOOK_AUTH_ENV = "BRIGHTDATA_WEBHOOK_AUTH"
"""Environment variable with the webhook's Authorization header (``auth_header``)."""


def _client(args: argparse.Namespace) -> Client:
    return Client(secret_from(args), base_url=args.base_url, progress=args.progress)


def _download_options(parser: argparse.ArgumentParser) -> None:
    """How a snapshot is downloaded: format, compression, batch size."""
    parser.add_argument("--download-format", choices=DOWNLOAD_FORMATS, default="csv", help="default csv")
    parser.add_argument("--no-compress", action="store_true", help="download uncompressed parts")
    parser.add_argument("--batch-size", type=int, default=None, help="records per downloaded part (>= 1000)")


def _busy_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--busy-wait",
        type=duration,
        default=BUSY_WAIT,
        metavar="TIME",
        help=f"retry a trigger Bright Data refuses as busy (429) this long (default {BUSY_WAIT:g}s), then exit 8",
    )


def _collection_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--collection",
        action="store_true",
        help="the id is a collector (DCA) collection (the default for ids starting j_)",
    )
    _download_options(parser)


def register(sub: Any) -> None:
    """Add the ``brightdata`` command group."""
    parser = sub.add_parser("brightdata", help="Bright Data Datasets v3 snapshots and collectors (DCA)")
    commands = parser.add_subparsers(dest="action", required=True)
    trig = commands.add_parser("trigger", help="trigger a collection, wait, and write its data")
    trig.add_argument("dataset_id")
    trig.add_argument("inputs", help="a CSV file (uploaded as is) or a JSON file with a list of objects")
    add_output_options(trig)
    trig.add_argument("--include-errors", action="store_true", help="include an error report in the results")
    trig.add_argument("--limit-per-input", type=int, help="results per input (>= 1)")
    trig.add_argument("--limit-multiple-results", type=int, help="results in all (>= 1)")
    trig.add_argument("--discover-by", help="trigger a discovery collection (type=discover_new) by this input field")
    trig.add_argument(
        "--custom-output-fields",
        "--field",
        dest="fields",
        action="append",
        default=None,
        metavar="FIELD",
        help="keep only these output fields (repeatable, or url|about.updated_on)",
    )
    trig.add_argument("--notify", metavar="URL", help="a URL Bright Data notifies when the collection is done")
    trig.add_argument("--endpoint", metavar="URL", help="a webhook URL the data is delivered to")
    trig.add_argument(
        "--auth-header-file",
        type=Path,
        metavar="FILE",
        help=f"the webhook's Authorization header, read from FILE (default ${WEBHOOK_AUTH_ENV})",
    )
    trig.add_argument("--webhook-format", choices=DOWNLOAD_FORMATS, help="format of the webhook delivery")
    trig.add_argument("--uncompressed-webhook", action="store_true", help="deliver to the webhook uncompressed")
    trig.add_argument(
        "--retrigger",
        type=int,
        default=0,
        metavar="N",
        help="trigger again up to N times when the collection fails with a transient message (each trigger "
        "is paid for; default 0: never)",
    )
    _download_options(trig)
    _busy_wait(trig)
    add_timeout(trig)
    add_common(trig, DEFAULT_BASE_URL, secret=TOKEN_ENV)
    trig.set_defaults(func=_trigger)
    _register_collect(commands)
    add_job_commands(
        commands,
        _client,
        job_for=_job,
        default_base_url=DEFAULT_BASE_URL,
        noun="snapshot or collection",
        secret=TOKEN_ENV,
        extra=_collection_option,
    )


def _job(client: Client, args: argparse.Namespace) -> Job:
    """A snapshot, or with ``--collection`` (or an id ``j_…``) a collector batch."""
    if args.collection or args.id.startswith("j_"):
        return client.collection(args.id)
    return client.snapshot(
        args.id,
        format=args.download_format,
        compress=not args.no_compress,
        batch_size=args.batch_size,
        on_empty="empty" if getattr(args, "allow_empty", False) else "raise",
    )


def _inputs(path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"{path}: not a readable JSON file ({exc})") from exc
    return path


def _auth_header(args: argparse.Namespace) -> str | None:
    if args.auth_header_file is not None:
        try:
            text = args.auth_header_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidArgument(
                f"--auth-header-file {args.auth_header_file}: cannot be read ({exc.strerror})"
            ) from None
        return text or None
    return os.environ.get(WEBHOOK_AUTH_ENV) or None


def _fields(args: argparse.Namespace) -> list[str] | None:
    fields = [f.strip() for item in args.fields or [] for f in item.split("|") if f.strip()]
    return fields or None


def _trigger(args: argparse.Namespace) -> int:
    outcome = outcome_of(args)
    bd = prepare(_client(args), args)
    snap = bd.trigger(
        args.dataset_id,
        _inputs(Path(args.inputs)),
        include_errors=args.include_errors or None,
        limit_per_input=args.limit_per_input,
        limit_multiple_results=args.limit_multiple_results,
        type="discover_new" if args.discover_by else None,
        discover_by=args.discover_by,
        custom_output_fields=_fields(args),
        notify=args.notify,
        endpoint=args.endpoint,
        auth_header=_auth_header(args),
        format=args.webhook_format,
        uncompressed_webhook=True if args.uncompressed_webhook else None,
        download_format=args.download_format,
        batch_size=args.batch_size,
        compress=not args.no_compress,
        on_empty="empty" if args.allow_empty else "raise",
        retrigger=args.retrigger,
        busy_wait=args.busy_wait,
    )
    outcome.say(f"snapshot {snap.id}")
    if not args.out:
        outcome.attach(snap, ["wait", snap.id])
        outcome.state = "triggered"
        return 0
    return finish_job(snap, args, DEFAULT_BASE_URL)


def _register_collect(commands: Any) -> None:
    """``dataferry brightdata collect``: trigger a collector (DCA) batch."""
    coll = commands.add_parser("collect", help="trigger a collector (DCA) batch, wait, and write its data")
    coll.add_argument("collector_id", help="the collector id (c_…)")
    coll.add_argument("inputs", help="a CSV file (uploaded as is) or a JSON file with a list of objects")
    add_output_options(coll)
    coll.add_argument("--name", help="a human-readable name for the batch")
    coll.add_argument("--dev", action="store_true", help="run the collector's development version (version=dev)")
    coll.add_argument("--deadline", help="terminate the batch after this long: 1h, 30m, 45s")
    coll.add_argument("--no-downloads", action="store_true", help="do not download media files")
    coll.add_argument("--body-format", choices=("json", "csv", "multipart"), help="how the inputs are sent")
    behaviour = coll.add_mutually_exclusive_group()
    behaviour.add_argument("--queue-next", action="store_true", help="wait behind a running batch (the default)")
    behaviour.add_argument("--queue", metavar="LABEL", help="start after the last queued batch (queue=LABEL)")
    behaviour.add_argument(
        "--confirm-cancel", action="store_true", help="cancel the running batch and run this one instead"
    )
    _busy_wait(coll)
    add_timeout(coll)
    add_common(coll, DEFAULT_BASE_URL, secret=TOKEN_ENV)
    coll.set_defaults(func=_collect)


def _collect(args: argparse.Namespace) -> int:
    outcome = outcome_of(args)
    bd = prepare(_client(args), args)
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
        body_format=args.body_format,
        busy_wait=args.busy_wait,
    )
    eta = f" (start ETA {col.start_eta})" if col.start_eta else ""
    outcome.say(f"collection {col.id}{eta}")
    if not args.out:
        outcome.attach(col, ["wait", col.id])
        outcome.state = "triggered"
        return 0
    return finish_job(col, args, DEFAULT_BASE_URL)
