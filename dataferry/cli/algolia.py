"""``dataferry algolia …`` commands.

    dataferry algolia tasks [--enabled | --disabled] [--csv]     list tasks
    dataferry algolia runs [--task ID] [--status S ...] [--csv]    list runs (last 7 days)
    dataferry algolia events RUN_ID [--status S ...] [--csv]      list a run's events
    dataferry algolia run TASK_ID [--no-wait]                      run a task and wait for it
    dataferry algolia status|wait RUN_ID                           an existing run

A run's data is its events (``events RUN_ID``): Algolia has no endpoint to download a run's
records or to cancel a run, so there is no ``fetch`` or ``cancel``.

Credentials come from ``$ALGOLIA_APP_ID`` (or ``--app-id``) and ``$ALGOLIA_API_KEY`` (or
``--token-file``); the key is never taken from the command line, where other users of the
machine could read it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dataferry.cli.commands import (
    add_common,
    add_job_commands,
    add_timeout,
    finish_job,
    outcome_of,
    prepare,
    secret_from,
)
from dataferry.providers.algolia.client import API_KEY_ENV, DEFAULT_BASE_URL, Client
from dataferry.providers.algolia.enums import EVENT_STATUSES, REGIONS, RUN_STATUSES

SHOWN_COLUMNS = {
    "tasks": ("taskID", "trigger.type", "action", "enabled", "failureThreshold", "sourceID", "destinationID"),
    "runs": (
        "runID",
        "taskID",
        "status",
        "outcome",
        "progress.receivedNbOfEvents",
        "progress.expectedNbOfEvents",
        "reasonCode",
        "createdAt",
    ),
    "events": ("publishedAt", "type", "status", "batchSize", "data", "eventID"),
}
"""Columns printed as a table for each list (``--csv`` prints every column)."""


def _client(args: argparse.Namespace) -> Client:
    base_url = None if args.base_url == DEFAULT_BASE_URL else args.base_url
    return Client(
        app_id=getattr(args, "app_id", None),
        api_key=secret_from(args),
        region=getattr(args, "region", None),
        base_url=base_url,
        progress=args.progress,
    )


def _add_options(parser: argparse.ArgumentParser) -> None:
    add_common(parser, DEFAULT_BASE_URL, secret=API_KEY_ENV)
    _add_place(parser)


def _add_place(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", choices=REGIONS, default=None, help="us or eu (default: $ALGOLIA_REGION or us)")
    parser.add_argument("--app-id", default=None, help="application id (default: $ALGOLIA_APP_ID)")


def register(sub: Any) -> None:
    """Add the ``algolia`` command group."""
    parser = sub.add_parser(
        "algolia",
        help="Algolia Ingestion tasks, runs and events",
        description="Algolia Ingestion. A run's data is its events ('events RUN_ID'); Algolia has no endpoint "
        "to download a run's records or cancel a run, so there is no fetch or cancel.",
    )
    commands = parser.add_subparsers(dest="action", required=True)

    tasks = commands.add_parser("tasks", help="list tasks")
    state = tasks.add_mutually_exclusive_group()
    state.add_argument("--enabled", dest="enabled", action="store_true", default=None)
    state.add_argument("--disabled", dest="enabled", action="store_false")
    tasks.add_argument("--csv", action="store_true", help="print every column as CSV")
    _add_options(tasks)
    tasks.set_defaults(func=_tasks)

    runs = commands.add_parser("runs", help="list runs (Algolia's default window: the last 7 days)")
    runs.add_argument("--task", default=None, help="only this task's runs")
    runs.add_argument("--status", nargs="*", choices=RUN_STATUSES, default=None)
    runs.add_argument("--csv", action="store_true", help="print every column as CSV")
    _add_options(runs)
    runs.set_defaults(func=_runs)

    events = commands.add_parser("events", help="list the events of a run (a run's data)")
    events.add_argument("run_id")
    events.add_argument("--status", nargs="*", choices=EVENT_STATUSES, default=None)
    events.add_argument("--csv", action="store_true", help="print every column as CSV")
    _add_options(events)
    events.set_defaults(func=_events)

    run = commands.add_parser("run", help="run a task and wait for the run")
    run.add_argument("task_id")
    run.add_argument("--no-wait", action="store_true", help="print the run id and return")
    add_timeout(run)
    _add_options(run)
    run.set_defaults(func=_run)

    add_job_commands(
        commands,
        _client,
        lambda c, i: c.run(i),
        default_base_url=DEFAULT_BASE_URL,
        noun="run",
        secret=API_KEY_ENV,
        cancel=False,
        fetch=False,
        extra=_add_place,
    )


def _print(frame: Any, kind: str, args: argparse.Namespace) -> None:
    outcome = outcome_of(args)
    outcome.rows = len(frame)
    outcome.columns = [str(c) for c in frame.columns]
    if args.csv:
        frame.to_csv(sys.stdout, index=False)
    elif frame.empty:
        outcome.say(f"no {kind}")
    else:
        shown = [c for c in SHOWN_COLUMNS[kind] if c in frame.columns]
        outcome.say(frame[shown].to_string(index=False, max_colwidth=60))


def _tasks(args: argparse.Namespace) -> int:
    _print(_client(args).tasks(enabled=args.enabled).to_pandas(), "tasks", args)
    return 0


def _runs(args: argparse.Namespace) -> int:
    _print(_client(args).runs(task_id=args.task, status=args.status or None).to_pandas(), "runs", args)
    return 0


def _events(args: argparse.Namespace) -> int:
    _print(_client(args).run(args.run_id).events(status=args.status or None).to_pandas(), "events", args)
    return 0


def _run(args: argparse.Namespace) -> int:
    outcome = outcome_of(args)
    run = prepare(_client(args), args).run_task(args.task_id)
    outcome.say(f"run {run.id}")
    if args.no_wait:
        outcome.attach(run, ["wait", run.id])
        outcome.state = "started"
        return 0
    return finish_job(run, args, DEFAULT_BASE_URL)
