"""``dataferry mytracker …`` commands.

    dataferry mytracker create payments --selectors idApp,tsEvent,revenue \\
        --from 2026-11-01 --to 2026-11-07 --app 1 --app 2 -o payments.parquet
    dataferry mytracker status|wait|fetch|cancel EXPORT_ID

Credentials come from ``MYTRACKER_API_USER_ID`` (or ``--user-id``) and ``MYTRACKER_SECRET_KEY``
(or ``--token-file``); the secret key is never taken from the command line, where it would end up
in the shell history.
"""

from __future__ import annotations

import argparse
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
from dataferry.cli.outputs import add_output_options
from dataferry.errors import InvalidArgument
from dataferry.providers.mytracker.client import DEFAULT_BASE_URL, SECRET_KEY_ENV, Client

FILTERS = (
    "sdk_key",
    "id_account",
    "id_ad",
    "id_campaign",
    "id_country",
    "id_project",
    "id_partner",
    "is_verified",
    "id_purchase_type",
    "event_name",
    "event_name_invert",
    "id_ad_mediator",
    "id_segment",
    "rooted",
    "availability_ts_from",
    "availability_ts_to",
)
"""``create_export`` keywords accepted by ``--where NAME=VALUE``."""

OWN_OPTIONS = ("date_from", "date_to", "ts_from", "ts_to", "timezone", "id_app")
"""``create_export`` keywords with an option of their own (``--from``, ``--app``...)."""

_FLAGS = {"is_verified", "event_name_invert", "rooted"}
_LISTS = {"sdk_key", "id_account", "id_ad", "id_campaign", "id_country", "id_project", "id_partner", "event_name"}


def _client(args: argparse.Namespace) -> Client:
    kw: dict[str, Any] = {}
    if getattr(args, "recreate_attempts", None) is not None:
        kw["recreate_attempts"] = args.recreate_attempts
    return Client(
        getattr(args, "user_id", None), secret_from(args), base_url=args.base_url, progress=args.progress, **kw
    )


def _credentials(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-id", default=None, help="the API user id (default: $MYTRACKER_API_USER_ID)")


def register(sub: Any) -> None:
    """Add the ``mytracker`` command group."""
    parser = sub.add_parser("mytracker", help="myTracker raw data exports")
    commands = parser.add_subparsers(dest="action", required=True)
    create = commands.add_parser("create", help="create a raw export, wait, and save it as Parquet")
    create.add_argument("event", help="an event of myTracker's Events dictionary, e.g. installs or payments")
    create.add_argument("--selectors", required=True, help="comma-separated columns, e.g. idApp,tsEvent,revenue")
    create.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    create.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
    create.add_argument("--ts-from", type=int, help="first event time, unix seconds")
    create.add_argument("--ts-to", type=int, help="last event time, unix seconds")
    create.add_argument("--timezone", help="IANA timezone of the dates (myTracker's default: Europe/Moscow)")
    create.add_argument("--app", action="append", default=[], help="idApp filter (repeatable, or 1,2,3)")
    create.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"another filter: {', '.join(FILTERS)} (repeatable)",
    )
    create.add_argument(
        "--recreate-attempts",
        type=int,
        default=None,
        metavar="N",
        help="create the export again up to N times when myTracker says 'Error occurred' (default 2)",
    )
    add_output_options(create)
    add_timeout(create)
    _credentials(create)
    add_common(create, DEFAULT_BASE_URL, secret=SECRET_KEY_ENV)
    create.set_defaults(func=_create)
    add_job_commands(
        commands,
        _client,
        lambda c, i: c.export(i),
        default_base_url=DEFAULT_BASE_URL,
        noun="export",
        secret=SECRET_KEY_ENV,
        extra=_credentials,
    )


def _where(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in items:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or name not in FILTERS:
            raise InvalidArgument(f"--where expects NAME=VALUE with NAME one of {', '.join(FILTERS)}; got {text!r}")
        if name in _FLAGS:
            if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise InvalidArgument(f"--where {name}= takes 1/0 or true/false, got {value!r}")
            out[name] = value.strip().lower() in ("1", "true", "yes")
        elif name in _LISTS:
            out[name] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            out[name] = value.strip()
    return out


def _create(args: argparse.Namespace) -> int:
    outcome = outcome_of(args)
    mt = prepare(_client(args), args)
    apps = [a.strip() for item in args.app for a in item.split(",") if a.strip()]
    export = mt.create_export(
        args.event,
        args.selectors,
        date_from=args.date_from,
        date_to=args.date_to,
        ts_from=args.ts_from,
        ts_to=args.ts_to,
        timezone=args.timezone,
        id_app=apps or None,
        **_where(args.where),
    )
    outcome.say(f"export {export.id}")
    if not args.out:
        outcome.attach(export, ["wait", export.id])
        outcome.state = "created"
        return 0
    return finish_job(export, args, DEFAULT_BASE_URL)
