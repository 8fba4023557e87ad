"""``dataferry woosmap …`` commands (the private key comes from ``WOOSMAP_PRIVATE_KEY``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dataferry.cli.commands import add_common, add_job_commands
from dataferry.providers.woosmap.client import DEFAULT_BASE_URL, Client
from dataferry.providers.woosmap.run import ImportRun


def _client(args: argparse.Namespace) -> Client:
    return Client(base_url=args.base_url, progress=args.progress)


def register(sub: Any) -> None:
    """Add the ``woosmap`` command group."""
    parser = sub.add_parser("woosmap", help="Woosmap Datasets: create, import, wait, inspect")
    commands = parser.add_subparsers(dest="action", required=True)

    p = commands.add_parser("datasets", help="list every dataset")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_datasets)

    p = commands.add_parser("create", help="create a dataset (and import it with --import)")
    p.add_argument("name")
    p.add_argument("url", help="where Woosmap fetches the data")
    p.add_argument("--title-key", help="the property of your data that is the feature title")
    p.add_argument("--import", dest="start_import", action="store_true", help="start an import and wait for it")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_create)

    p = commands.add_parser("get", help="print a dataset's details")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_dataset(_client(a).get_dataset(a.id).info))

    p = commands.add_parser("update", help="change a dataset's name and/or URL")
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--url")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_dataset(_client(a).dataset(a.id).update(name=a.name, url=a.url).info))

    p = commands.add_parser("delete", help="schedule a dataset for deletion (Woosmap removes it after 7 days)")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_delete)

    p = commands.add_parser("import", help="start an import of a dataset and wait for it")
    p.add_argument("id")
    p.add_argument("--no-wait", action="store_true", help="return once the import is requested")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=_import)

    p = commands.add_parser("log", help="print the steps and log entries of a dataset's latest import")
    p.add_argument("id")
    add_common(p, DEFAULT_BASE_URL)
    p.set_defaults(func=lambda a: _print_run(_client(a).dataset(a.id).last_import()))

    add_job_commands(commands, _client, lambda c, i: c.import_run(i), default_base_url=DEFAULT_BASE_URL, noun="import")


def _datasets(args: argparse.Namespace) -> int:
    frame = _client(args).datasets().to_pandas()
    print(frame.to_string(index=False) if len(frame) else "no datasets")
    return 0


def _create(args: argparse.Namespace) -> int:
    wm = _client(args)
    ds = wm.create_dataset(args.name, args.url, schema_mapping={"title": args.title_key} if args.title_key else None)
    _print_dataset(ds.info)
    if args.start_import:
        _print_run(ds.import_().wait(timeout=None))
    return 0


def _delete(args: argparse.Namespace) -> int:
    ds = _client(args).dataset(args.id)
    ds.delete()
    print(f"{ds.id}: scheduled for deletion after {ds.refresh().scheduled_for_deletion_after}")
    return 0


def _import(args: argparse.Namespace) -> int:
    run = _client(args).dataset(args.id).import_()
    print(f"import of {run.id} requested")
    if not args.no_wait:
        _print_run(run.wait(timeout=None))
    return 0


def _print_dataset(info: Any) -> int:
    shown = {k: v for k, v in (info or {}).items() if k != "reimport_key"}
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def _print_run(run: ImportRun) -> int:
    state = run.last_status.describe() if run.last_status else "unknown"
    print(f"import run {run.run_id} of dataset {run.id}: {state}")
    frame = run.to_pandas()
    print(_steps(frame).to_string(index=False))
    entries = frame[frame["created_at"].notna() | frame["level"].notna()]
    print(entries[["step", "created_at", "level", "detail"]].to_string(index=False))
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
