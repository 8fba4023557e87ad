"""``dataferry woosmap …`` commands (the private key comes from ``$WOOSMAP_PRIVATE_KEY`` or
``--token-file``, never from the command line).

An import run has no data to download and Woosmap has no endpoint to cancel one, so there is
no ``fetch`` or ``cancel``: ``log ID`` prints a run's steps and log entries (its "data")."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dataferry.cli.commands import (
    add_common as _add_common,
    add_job_commands,
    add_timeout,
    finish_job,
    outcome_of,
    prepare,
    secret_from,
)
from dataferry.providers.woosmap.client import DEFAULT_BASE_URL, KEY_ENV, Client
from dataferry.providers.woosmap.run import ImportRun


def _client(args: argparse.Namespace) -> Client:
    return Client(secret_from(args), base_url=args.base_url, progress=args.progress)


def add_common(parser: argparse.ArgumentParser, default_base_url: str) -> None:
    _add_common(parser, default_base_url, secret=KEY_ENV)


def register(sub: Any) -> None:
    """Add the ``woosmap`` command group."""
    parser = sub.add_parser(
        "woosmap",
        help="Woosmap Datasets: create, import, wait, inspect",
        description="Woosmap Datasets. An import run carries no data and cannot be cancelled through the API: "
        "there is no fetch or cancel; 'log ID' prints a run's steps and log entries.",
    )
    commands = parser.add_subparsers(dest="action", required=True)

    p = commands.add_parser("datasets", help="list every dataset")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_datasets)

    p = commands.add_parser("create", help="create a dataset (and import it with --import)")
    p.add_argument("name")
    p.add_argument("url", help="where Woosmap fetches the data")
    p.add_argument("--title-key", help="the property of your data that is the feature title")
    p.add_argument("--import", dest="start_import", action="store_true", help="start an import and wait for it")
    add_timeout(p)
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_create)

    p = commands.add_parser("get", help="print a dataset's details")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_dataset(_client(a).get_dataset(a.id).info, a))

    p = commands.add_parser("update", help="change a dataset's name and/or URL")
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--url")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_dataset(_client(a).dataset(a.id).update(name=a.name, url=a.url).info, a))

    p = commands.add_parser("delete", help="schedule a dataset for deletion (Woosmap removes it after 7 days)")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_delete)

    p = commands.add_parser("import", help="start an import of a dataset and wait for it")
    p.add_argument("id")
    p.add_argument("--no-wait", action="store_true", help="return once the import is requested")
    add_timeout(p)
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_import)

    p = commands.add_parser("log", help="print the steps and log entries of a dataset's latest import")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_run(_client(a).dataset(a.id).last_import(), a))

    add_job_commands(
        commands,
        _client,
        lambda c, i: c.import_run(i),
        default_base_url=DEFAULT_BASE_URL,
        noun="import",
        secret=KEY_ENV,
        cancel=False,
        fetch=False,
    )


def _datasets(args: argparse.Namespace) -> int:
    frame = _client(args).datasets().to_pandas()
    outcome_of(args).say(frame.to_string(index=False) if len(frame) else "no datasets")
    return 0


def _create(args: argparse.Namespace) -> int:
    wm = prepare(_client(args), args)
    ds = wm.create_dataset(args.name, args.url, schema_mapping={"title": args.title_key} if args.title_key else None)
    _print_dataset(ds.info, args)
    if args.start_import:
        run = ds.import_()
        finish_job(run, args, DEFAULT_BASE_URL)
        _print_run(run, args)
    return 0


def _delete(args: argparse.Namespace) -> int:
    ds = _client(args).dataset(args.id)
    ds.delete()
    outcome_of(args).say(f"{ds.id}: scheduled for deletion after {ds.refresh().scheduled_for_deletion_after}")
    return 0


def _import(args: argparse.Namespace) -> int:
    outcome = outcome_of(args)
    run = prepare(_client(args), args).dataset(args.id).import_()
    outcome.say(f"import of {run.id} requested")
    if args.no_wait:
        outcome.attach(run, ["wait", run.id])
        outcome.state = "requested"
        return 0
    finish_job(run, args, DEFAULT_BASE_URL)
    _print_run(run, args)
    return 0


def _print_dataset(info: Any, args: argparse.Namespace) -> int:
    shown = {k: v for k, v in (info or {}).items() if k != "reimport_key"}
    outcome = outcome_of(args)
    outcome.extra["dataset"] = shown
    outcome.say(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def _print_run(run: ImportRun, args: argparse.Namespace) -> int:
    say = outcome_of(args).say
    state = run.last_status.describe() if run.last_status else "unknown"
    say(f"import run {run.run_id} of dataset {run.id}: {state}")
    frame = run.to_pandas()
    say(_steps(frame).to_string(index=False))
    entries = frame[frame["created_at"].notna() | frame["level"].notna()]
    say(entries[["step", "created_at", "level", "detail"]].to_string(index=False))
    return 0


def _steps(frame: Any) -> Any:
    """One row per step: its status, start, end, seconds and how many entries / warnings / errors."""
    import pandas as pd

    rows = []
    for step, group in frame.groupby("step", sort=False):
        has = group["created_at"].notna() | group["level"].notna()
        first = group.iloc[0]
        rows.append(
            {
                "step": step,
                "status": first["step_status"],
                "start": first["step_start"],
                "end": first["step_end"],
                "seconds": first["step_seconds"],
                "entries": int(has.sum()),
                "warnings": int(group["level"].eq("warning").sum()),
                "errors": int(group["level"].eq("error").sum()),
            }
        )
    return pd.DataFrame(rows, columns=["step", "status", "start", "end", "seconds", "entries", "warnings", "errors"])
