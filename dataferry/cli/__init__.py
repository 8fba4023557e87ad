"""The ``dataferry`` command: ``demo``, ``emulate``, and per-vendor job commands.

dataferry demo                                   the main job, on the embedded emulator
dataferry emulate --vendor brightdata [--port P] serve an emulator for notebooks / teaching
                  [--chaos 0.1 --seed 7]         ... with random faults a robust client survives
dataferry brightdata trigger DATASET inputs.csv  trigger, wait and save as Parquet
dataferry brightdata status|wait|fetch|cancel ID work with an existing job

Every waiting command takes ``--timeout`` and ``--json``; the exit status means the same for
every command and vendor (:mod:`dataferry.cli.exits`, shown by ``dataferry --help``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from dataferry.cli.exits import Exit, epilog, exit_code
from dataferry.cli.report import Outcome
from dataferry.errors import DataferryError, first_line
from dataferry.redact import mask_known
from dataferry.version import __version__

VENDOR_CLIS = {
    "brightdata": "dataferry.cli.brightdata",
    "mytracker": "dataferry.cli.mytracker",
    "woosmap": "dataferry.cli.woosmap",
    "algolia": "dataferry.cli.algolia",
}
"""Vendor name → module with ``register(subparsers)`` adding that vendor's commands."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataferry",
        description="Trigger, wait for and fetch vendor data exports.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dataferry {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole journey on the embedded Bright Data emulator")
    demo.add_argument("--rows", type=int, default=20_000, help="records to collect (default 20000)")
    demo.add_argument("--out", default="dataferry-demo/products.parquet", help="Parquet file to write")
    demo.add_argument("--progress", default=None, help="auto, widget, html, tqdm, log or off")
    demo.set_defaults(func=_demo)

    emulate = sub.add_parser("emulate", help="serve a vendor emulator on 127.0.0.1 until stopped")
    emulate.add_argument("--vendor", required=True, help="brightdata, mytracker, woosmap or algolia")
    emulate.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--no-rate-limits", action="store_true", help="switch the vendor's rate limits off")
    emulate.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="emulator setting, e.g. --set ready_after=10 (repeatable)",
    )
    emulate.add_argument(
        "--chaos",
        type=float,
        default=None,
        metavar="RATE",
        help="inject random survivable faults into this fraction of GET requests, e.g. 0.1",
    )
    emulate.add_argument(
        "--seed",
        "--chaos-seed",
        dest="chaos_seed",
        type=int,
        default=0,
        help="seed of --chaos: the same seed, the same faults (default 0)",
    )
    emulate.set_defaults(func=_emulate)

    for module in VENDOR_CLIS.values():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("dataferry"):
                continue
            raise
        mod.register(sub)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from dataferry.cli.demo import run_demo

    run_demo(rows=args.rows, out=args.out, progress=args.progress)
    return 0


def _parse_setting(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise DataferryError(f"--set expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        return name.strip(), raw


def _stop_on_sigterm() -> Any:
    """Make SIGTERM stop ``emulate`` as Ctrl-C does (so it cleans up); the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _emulate(args: argparse.Namespace) -> int:
    from dataferry import emulator

    options = dict(_parse_setting(s) for s in args.set)
    if args.no_rate_limits:
        options["rate_limits"] = False
    try:
        emu = emulator.start(
            args.vendor, port=args.port, host=args.host, chaos=args.chaos, fault_seed=args.chaos_seed, **options
        )
    except (ValueError, TypeError, OSError) as exc:
        raise DataferryError(str(exc)) from exc
    print(f"{args.vendor} emulator listening on {emu.base_url}")
    print(f"  base_url: {emu.base_url}")
    for key, value in emu.credentials.items():
        print(f"  {key}: {value}")
    for key, value in emu.app.describe().items():
        if isinstance(value, dict):
            print(f"  {key}:")
            for k, v in value.items():
                print(f"    {k}  {v}")
        else:
            print(f"  {key}: {value}")
    kwargs = ", ".join(f"{k}={v!r}" for k, v in emu.client_kwargs().items())
    print(f"  python: {args.vendor}.Client({kwargs})")
    if args.chaos is not None:
        print(
            f"  chaos: faults in {args.chaos:.0%} of GET requests, seed {args.chaos_seed} "
            f"({', '.join(emu.faults.chaos_kinds)})"
        )
    print("press Ctrl-C to stop", flush=True)
    previous = _stop_on_sigterm()
    try:
        emu.server._thread.join()  # type: ignore[union-attr]
    except KeyboardInterrupt:
        print("stopping")
    finally:
        emu.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if emu.faults.injected:
        print("faults injected: " + ", ".join(f"{k} {n}" for k, n in sorted(emu.faults.injected.items())))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dataferry`` console script; returns the exit status
    (:mod:`dataferry.cli.exits`). A usage error exits 2 through argparse."""
    parser = build_parser()
    args = parser.parse_args(argv)
    outcome = args.outcome = Outcome.of(args)
    error: BaseException | None = None
    try:
        code = int(args.func(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every failure becomes an exit status and a message
        error = exc
        code = int(exit_code(exc))
        _report(exc, code, outcome)
    if outcome.json:
        print(json.dumps(outcome.summary(code, error), ensure_ascii=False, default=str), flush=True)
    return code


def _report(exc: BaseException, code: int, outcome: Outcome) -> None:
    """The error on standard error: its message (secrets masked), and how to get back to the job."""
    if isinstance(exc, DataferryError):
        text = f"dataferry: error: {exc}"
    elif isinstance(exc, KeyboardInterrupt):
        text = f"dataferry: {first_line(exc)}" if str(exc) else "dataferry: interrupted"
    else:
        text = f"dataferry: unexpected error: {type(exc).__name__}: {first_line(exc, 1000)}"
    print(mask_known(text), file=sys.stderr)
    if code in (Exit.TIMEOUT, Exit.INTERRUPTED) and outcome.reattach:
        print(f"dataferry: the job was left running; re-attach with: {outcome.reattach}", file=sys.stderr)
    sys.stderr.flush()
