"""Fuzz the emulators with schemathesis against the vendors' published OpenAPI specs.

Each emulator runs in this process on a free loopback port with its rate limits off (with
them on, most answers are 429 and little is tested) and fast timings; schemathesis runs once
per spec file as a subprocess and writes its JSON report; a table sums them up per emulator.

Run it from the repository, with ``../shared/specs`` beside it::

    pip install -e '.[fuzz]'                        # schemathesis
    python scripts/fuzz_emulators.py                # all four, 100 cases per operation and phase
    python scripts/fuzz_emulators.py algolia -n 30  # one emulator, fewer cases
    python scripts/fuzz_emulators.py woosmap --checks all --seed 7

Targets: ``algolia`` (the pre-v2 Ingestion spec, ``/1/`` without transformations),
``woosmap`` (the extracted Datasets spec), ``brightdata`` (the per-endpoint Datasets v3
blocks) and ``brightdata-dca`` (the two DCA blocks). myTracker publishes no spec, so it has
no target here (its tests check the documented rules instead).

The default checks are the ones that say the emulator is wrong: a 5xx, an answer that is not
the documented content type or not valid against the documented schema, and a request the
spec forbids that was accepted. ``--checks all`` adds schemathesis' other checks, among them
``status_code_conformance``, which flags every 401/403/404/429 the specs leave undocumented
although the vendors send them. Exit status: 1 when any target had a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT.parent / "shared" / "specs"

DEFAULT_CHECKS = (
    "not_a_server_error",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
"""Checks run unless ``--checks`` says otherwise."""

BRIGHTDATA_V3 = SPECS / "brightdata" / "bencrane-api-reference-docs"

UNSERVED = frozenset({"02-synchronous-requests.openapi.yml"})
"""Bright Data spec files of endpoints the emulator does not serve (``/datasets/v3/scrape``)."""


@dataclass(frozen=True)
class Target:
    """One emulator and the spec files it is fuzzed against.

    Attributes:
        vendor: the emulator (``dataferry.emulator.start(vendor)``).
        specs: spec files, one schemathesis run each.
        headers: credentials → the headers every request carries.
        options: emulator settings besides ``rate_limits=False``.
        include: a regular expression of the paths fuzzed (``None``: all).
    """

    vendor: str
    specs: tuple[Path, ...]
    headers: Callable[[dict[str, str]], dict[str, str]]
    options: dict[str, Any] = field(default_factory=dict)
    include: str | None = None


TARGETS = {
    "algolia": Target(
        "algolia",
        (SPECS / "algolia-ingestion" / "pre-v2-2024-07" / "ingestion.yml",),
        lambda c: {"X-Algolia-Application-Id": c["app_id"], "X-Algolia-API-Key": c["api_key"]},
        {"start_after": 0.05, "event_interval": 0.02},
        r"^/1/(?!transformations)",
    ),
    "woosmap": Target(
        "woosmap",
        (SPECS / "woosmap-datasets" / "datasets-only.extracted.openapi3.json",),
        lambda c: {"X-Api-Key": c["private_key"]},
        {"queue_seconds": 0.02, "fetch_seconds": 0.05, "import_seconds": 0.05},
    ),
    "brightdata": Target(
        "brightdata",
        (
            *sorted(p for p in BRIGHTDATA_V3.rglob("*.openapi.yml") if p.name not in UNSERVED),
            SPECS / "brightdata" / "llm-code-docs" / "get-snapshots.openapi.yml",
        ),
        lambda c: {"Authorization": f"Bearer {c['token']}"},
        {"start_after": 0.05, "ready_after": 0.1, "delivery_after": 0.1},
    ),
    "brightdata-dca": Target(
        "brightdata",
        (
            SPECS / "brightdata" / "llm-code-docs" / "Trigger_a_scraper_for_batch_collection_method.openapi.yml",
            SPECS / "brightdata" / "index-copy" / "Receive_batch_data.openapi.yml",
        ),
        lambda c: {"Authorization": f"Bearer {c['token']}"},
        {"collect_after": 0.1},
    ),
}
"""What ``python scripts/fuzz_emulators.py NAME`` fuzzes."""


@dataclass
class Result:
    """What schemathesis found in one spec file."""

    spec: Path
    cases: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    exit_code: int = 0


def plain_discriminator_mappings(node: Any) -> bool:
    """Rewrite ``discriminator.mapping`` values written as ``{$ref: ...}`` to the plain strings
    OpenAPI wants (Bright Data's deliver block has them; schemathesis cannot read it otherwise).
    ``True`` when something was rewritten."""
    changed = False
    if isinstance(node, dict):
        mapping = (
            (node.get("discriminator") or {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        )
        if isinstance(mapping, dict):
            for key, value in mapping.items():
                if isinstance(value, dict) and isinstance(value.get("$ref"), str):
                    mapping[key] = value["$ref"]
                    changed = True
        for value in node.values():
            changed = plain_discriminator_mappings(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = plain_discriminator_mappings(value) or changed
    return changed


def readable_spec(spec: Path, report_dir: Path) -> Path:
    """``spec``, or a repaired copy of it in ``report_dir`` (see :func:`plain_discriminator_mappings`)."""
    import yaml

    document = yaml.safe_load(spec.read_text())
    if not plain_discriminator_mappings(document):
        return spec
    copy = report_dir / f"{spec.stem}.repaired.json"
    copy.write_text(json.dumps(document))
    return copy


def fuzz(name: str, target: Target, args: argparse.Namespace, report_dir: Path) -> list[Result]:
    """Start the emulator, fuzz it with each of its spec files, stop it."""
    from dataferry import emulator

    emu = emulator.start(target.vendor, rate_limits=False, **target.options)
    results = []
    try:
        for n, spec in enumerate(target.specs):
            report = report_dir / f"{name}-{n}-{spec.stem}.json"
            command = [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(readable_spec(spec, report_dir)),
                "--url",
                emu.base_url,
                "--checks",
                args.checks,
                "--seed",
                str(args.seed),
                "--workers",
                "1",
                "--max-examples",
                str(args.max_examples),
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ]
            for header, value in target.headers(emu.credentials).items():
                command += ["--header", f"{header}: {value}"]
            if target.include:
                command += ["--include-path-regex", target.include]
            log = report.with_suffix(".txt")
            with open(log, "w") as out:
                done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=report_dir, check=False)
            results.append(read_report(spec, report, done.returncode))
            print(
                f"  {name}: {spec.name}: {results[-1].cases} cases, {sum(results[-1].failures.values())} failures"
                f" (log: {log})",
                flush=True,
            )
    finally:
        emu.stop()
    return results


def read_report(spec: Path, report: Path, exit_code: int) -> Result:
    """The figures of one schemathesis JSON report."""
    result = Result(spec, exit_code=exit_code)
    if not report.is_file():
        result.errors = 1
        return result
    data = json.loads(report.read_text())
    result.cases = int(data.get("test_cases", {}).get("generated", 0))
    for failure in data.get("failures", []):
        key = f"{failure.get('code')} {failure.get('title')}"
        result.failures[key] = result.failures.get(key, 0) + int(failure.get("count", 1))
    result.errors = len(data.get("errors", []))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"emulators to fuzz: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("-n", "--max-examples", type=int, default=100, help="cases per operation and phase")
    parser.add_argument("--checks", default=",".join(DEFAULT_CHECKS), help="schemathesis checks (or 'all')")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report-dir", type=Path, default=None, help="where reports and logs go (a temp dir)")
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"no target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="dataferry-fuzz-"))
    report_dir.mkdir(parents=True, exist_ok=True)
    totals = {}
    for name in args.targets or list(TARGETS):
        print(f"fuzzing {name}...", flush=True)
        totals[name] = fuzz(name, TARGETS[name], args, report_dir)
    print(f"\n{'emulator':<16}{'cases':>8}{'failures':>10}{'errors':>8}  by check")
    failed = False
    for name, results in totals.items():
        by_check: dict[str, int] = {}
        for r in results:
            for key, count in r.failures.items():
                by_check[key] = by_check.get(key, 0) + count
        cases = sum(r.cases for r in results)
        errors = sum(r.errors for r in results)
        count = sum(by_check.values())
        failed = failed or count > 0
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(by_check.items())) or "-"
        print(f"{name:<16}{cases:>8}{count:>10}{errors:>8}  {detail}")
    print(f"\nreports and logs: {report_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
