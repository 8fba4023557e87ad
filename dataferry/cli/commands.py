"""Command-line pieces every vendor shares: ``status``, ``wait``, ``fetch`` and ``cancel``
for an existing job, and the common options (``--base-url``, ``--progress``, ``--timeout``,
``--json``, ``--token-file``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dataferry.cli.exits import TIMEOUT_ENV, default_timeout, parse_duration
from dataferry.cli.outputs import add_output_options, write_output
from dataferry.cli.report import Outcome, Recorder
from dataferry.datajob import DataJob
from dataferry.errors import InvalidArgument
from dataferry.job import Job

MakeClient = Callable[[argparse.Namespace], Any]
GetJob = Callable[[Any, str], Job]
GetJobFor = Callable[[Any, argparse.Namespace], Job]


def duration(text: str) -> float:
    """An argparse ``type=``: seconds from ``90s`` / ``30m`` / ``2h`` / ``90``."""
    try:
        return parse_duration(text)
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_common(parser: argparse.ArgumentParser, default_base_url: str, *, secret: str | None = None) -> None:
    """``--base-url``, ``--progress``, ``--json`` and, where ``secret`` names the environment
    variable of the vendor's secret, ``--token-file`` on a vendor command."""
    parser.add_argument("--base-url", default=default_base_url, help=f"API root (default {default_base_url})")
    parser.add_argument("--progress", default=None, help="auto, tqdm, log or off (drawn on standard error)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary on standard output (progress stays on stderr)"
    )
    if secret:
        parser.add_argument(
            "--token-file",
            type=Path,
            default=None,
            metavar="FILE",
            help=f"read the secret from FILE (default: ${secret}); it is never taken from the command line",
        )


def add_timeout(parser: argparse.ArgumentParser) -> None:
    """``--timeout`` on a command that waits."""
    parser.add_argument(
        "--timeout",
        type=duration,
        default=None,
        metavar="TIME",
        help=f"stop waiting after TIME (90s, 30m, 2h or seconds; default ${TIMEOUT_ENV}, else 6h); "
        "the job is left running, exit 3",
    )


def timeout_of(args: argparse.Namespace) -> float:
    """The wait budget in seconds: ``--timeout``, else ``$DATAFERRY_TIMEOUT``, else 6 hours."""
    value = getattr(args, "timeout", None)
    return float(value) if value is not None else default_timeout()


def secret_from(args: argparse.Namespace) -> str | None:
    """The secret read from ``--token-file`` (``None``: the client reads its environment variable)."""
    path = getattr(args, "token_file", None)
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidArgument(f"--token-file {path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not text:
        raise InvalidArgument(f"--token-file {path} is empty")
    return text


def outcome_of(args: argparse.Namespace) -> Outcome:
    """The command's :class:`Outcome` (made by ``main``; a fresh one when a test calls a command)."""
    outcome = getattr(args, "outcome", None)
    if outcome is None:
        outcome = args.outcome = Outcome.of(args)
    return outcome


def prepare(client: Any, args: argparse.Namespace) -> Any:
    """Route the client's progress through the outcome's recorder (figures for the summary), and
    settle the wait budget."""
    outcome = outcome_of(args)
    if hasattr(args, "timeout"):
        args.timeout = timeout_of(args)  # a bad $DATAFERRY_TIMEOUT fails now, before anything is sent
    outcome.recorder = Recorder(args.progress)
    client.progress = outcome.recorder
    return client


def reattach_args(args: argparse.Namespace, default_base_url: str, job_id: str, *, fetch: bool) -> list[str]:
    """The arguments of ``dataferry <vendor> wait|fetch ID …`` that get back to the job."""
    out = getattr(args, "out", None)
    command = ["fetch", job_id, "-o", out] if fetch and out and out != "-" else ["wait", job_id]
    if getattr(args, "collection", False) or (job_id.startswith("j_") and args.command == "brightdata"):
        command.append("--collection")
    if args.base_url != default_base_url:
        command += ["--base-url", args.base_url]
    return command


def finish_job(job: Job, args: argparse.Namespace, default_base_url: str) -> int:
    """Wait for ``job`` (and write its data when ``-o`` was given), within ``--timeout``."""
    outcome = outcome_of(args)
    data = isinstance(job, DataJob) and getattr(args, "out", None)
    outcome.attach(job, reattach_args(args, default_base_url, job.id, fetch=bool(data)))
    if data:
        assert isinstance(job, DataJob)
        write_output(job, args, outcome, timeout=timeout_of(args))
    else:
        job.wait(timeout=timeout_of(args))
        status = job.last_status
        outcome.say(f"{job.id}: {status.describe() if status else 'done'}")
    outcome.state = "done"
    if len(job.attempts) > 1:
        outcome.note(
            f"{job.vendor} {job.kind} {job.attempts[0]} was created again after failures that may be repeated; "
            f"the ids in order: {', '.join(job.attempts)}"
        )
    return 0


def add_job_commands(
    vendor_parsers: Any,
    make_client: MakeClient,
    get_job: GetJob | None = None,
    *,
    default_base_url: str,
    noun: str = "job",
    secret: str | None = None,
    cancel: bool = True,
    fetch: bool = True,
    job_for: GetJobFor | None = None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Add ``status``, ``wait`` and, where the vendor has them, ``fetch`` and ``cancel`` for ``noun`` ids.

    ``job_for(client, args)`` (instead of ``get_job(client, id)``) builds the handle from the
    parsed options; ``extra(parser)`` adds a vendor's options to each of them.
    """

    def handle(client: Any, args: argparse.Namespace) -> Job:
        if job_for is not None:
            return job_for(client, args)
        assert get_job is not None
        return get_job(client, args.id)

    names = [("status", f"print the {noun}'s status"), ("wait", f"wait until the {noun} finishes")]
    if cancel:
        names.append(("cancel", f"cancel the {noun}"))
    if fetch:
        names.append(("fetch", f"wait for the {noun}, then write its data (Parquet, CSV, NDJSON or - for stdout)"))
    for name, helptext in names:
        p = vendor_parsers.add_parser(name, help=helptext, description=helptext)
        p.add_argument("id")
        if name == "fetch":
            add_output_options(p, required=True)
        if name in ("wait", "fetch"):
            add_timeout(p)
        if extra is not None:
            extra(p)
        add_common(p, default_base_url, secret=secret)
        p.set_defaults(func=lambda a, _n=name: _job_command(a, _n, make_client, handle, default_base_url))


def _job_command(
    args: argparse.Namespace,
    name: str,
    make_client: MakeClient,
    handle: Callable[[Any, argparse.Namespace], Job],
    default_base_url: str,
) -> int:
    outcome = outcome_of(args)
    client = prepare(make_client(args), args)
    job = handle(client, args)
    outcome.attach(job, reattach_args(args, default_base_url, job.id, fetch=False))
    if name == "status":
        status = job.status()
        shown = {
            "id": job.id,
            "state": status.state.value,
            "status": status.raw,
            "progress": status.progress,
            "message": status.message,
        }
        outcome.extra.update(progress=status.progress, message=status.message)
        outcome.state = status.state.value
        if not outcome.json:
            print(json.dumps(shown, ensure_ascii=False))
        return 0
    if name == "cancel":
        job.cancel()
        outcome.state = "cancelled"
        outcome.say(f"{job.id}: cancel requested")
        return 0
    if name == "fetch" and not isinstance(job, DataJob):
        raise InvalidArgument(f"{job.vendor} {job.kind}s have no data to fetch")
    return finish_job(job, args, default_base_url)
