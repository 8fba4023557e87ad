"""Soak: many jobs of every vendor at once, for a bounded time, with random faults on the wire.

Starts the four emulators with seeded chaos (``dataferry.emulator.chaos``: 429 storms, 5xx
bursts, resets, drops, ignored ``Range``, truncated and corrupt gzip, lying lengths, trickles,
stalls, expired links), then keeps ``--workers`` threads busy running jobs until ``--seconds``
have passed: Bright Data snapshots (CSV, NDJSON, JSON, gzip or not, in parts), collector (DCA)
batches, myTracker exports, Woosmap imports and Algolia runs. Every job's data is checked row
for row against the emulator's source records. A job that fails with a typed dataferry error
is run again, as a user would (a retry never re-triggers: the same job is read again).

It prints jobs completed, faults injected (by kind), retries and resumes the client made, rows
verified, rows lost (must be 0), typed errors survived, untyped errors (must be 0), peak RSS,
and whether memory grew over the run (the last third of the samples against the middle third,
after the warm-up). It exits 1 when a row was lost or duplicated, an untyped
error escaped, or a job never completed.

Usage::

    python bench/soak.py                       # 120 s, chaos 0.15, seed 7
    python bench/soak.py --seconds 600 --workers 6 --chaos 0.2 --seed 3
    python bench/soak.py --short --json        # the CI mode: about 20 s
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dataferry import emulator
from dataferry.errors import DataferryError
from dataferry.wait import PollPolicy

POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.3, jitter=0.1)
"""Polls for emulated jobs that finish in well under a second."""

REPEATS = 4
"""Times a job is read again after a typed error before the soak counts it as never completed."""

SAMPLE_SECONDS = 0.5
"""How often resident memory is sampled."""


@dataclass
class Tally:
    """What the soak counts, shared by the worker threads."""

    jobs: Counter[str] = field(default_factory=Counter)
    rows_verified: int = 0
    rows_lost: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    untyped: list[str] = field(default_factory=list)
    never_completed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Retries(logging.Handler):
    """Counts the client's notices of retries, resumes and link refreshes."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        for word in ("retrying", "resuming", "fresh link", "downloading it again", "not ready yet"):
            if word in text:
                self.counts[word] += 1


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux), else its peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class Soak:
    """The emulators, the clients and one job runner per vendor."""

    def __init__(self, chaos: float, seed: int) -> None:
        from dataferry import brightdata, mytracker, woosmap
        from dataferry.providers.algolia import Client as AlgoliaClient

        def started(vendor: str, **options: Any) -> emulator.Emulator:
            return emulator.start(vendor, chaos=chaos, fault_seed=seed, **options)

        self.bd_emu = started("brightdata", start_after=0.05, ready_after=0.2, collect_after=0.2, records_per_input=300)
        self.mt_emu = started("mytracker", step_seconds=0.05, steps=3, rows_per_day=150, rows_per_file=300)
        self.wm_emu = started("woosmap", queue_seconds=0.02, fetch_seconds=0.05, import_seconds=0.08, rate_scale=0.002)
        self.alg_emu = started("algolia", start_after=0.02, event_interval=0.01, records=40, batch_size=10)
        self.emus = (self.bd_emu, self.mt_emu, self.wm_emu, self.alg_emu)
        self.bd = brightdata.Client(poll=POLLS, progress="off", **self.bd_emu.client_kwargs())
        self.mt = mytracker.Client(poll=POLLS, progress="off", **self.mt_emu.client_kwargs())
        self.wm = woosmap.Client(poll=POLLS, progress="off", rate_limits=0.002, **self.wm_emu.client_kwargs())
        self.alg = AlgoliaClient(poll=POLLS, progress="off", **self.alg_emu.client_kwargs())
        self.runners: dict[str, Callable[[random.Random], tuple[Any, Callable[[Any], int]]]] = {
            "brightdata snapshot": self.snapshot,
            "brightdata collection": self.collection,
            "mytracker export": self.export,
            "woosmap import": self.woosmap_import,
            "algolia run": self.algolia_run,
        }

    # -- the jobs: each returns (job, check); check(job) reads the data and returns rows verified --
    def snapshot(self, rng: random.Random) -> tuple[Any, Callable[[Any], int]]:
        fmt = rng.choice(["csv", "ndjson", "json", "jsonl"])
        inputs = [{"url": f"https://example.com/p/{rng.randrange(10**6)}"} for _ in range(rng.randint(2, 5))]
        snap = self.bd.trigger(
            "gd_l1viktl72bvl7bjuj0",
            inputs,
            download_format=fmt,
            compress=rng.random() < 0.7,
            batch_size=rng.choice([None, 1000]),
        )

        def check(job: Any) -> int:
            got = job.to_arrow(cache=rng.random() < 0.5).column("product_id").to_pylist()
            return self.compare(got, [r["product_id"] for r in self.bd_emu.app.records(job.id)])

        return snap, check

    def collection(self, rng: random.Random) -> tuple[Any, Callable[[Any], int]]:
        col = self.bd.collect("c_lq3x1ab2", [{"url": f"https://shop.example.com/p/{k}"} for k in range(3)])

        def check(job: Any) -> int:
            got = job.to_arrow().column("product_id").to_pylist()
            return self.compare(got, [r["product_id"] for r in self.bd_emu.app.collection_records(job.id)])

        return col, check

    def export(self, rng: random.Random) -> tuple[Any, Callable[[Any], int]]:
        export = self.mt.create_export(
            event="payments",
            selectors=["idApp", "tsEvent", "revenue"],
            id_app=[1, 2],
            date_from="2026-11-01",
            date_to=f"2026-11-0{rng.randint(2, 7)}",
        )

        def check(job: Any) -> int:
            got = job.to_arrow(cache=False).column("tsEvent").to_pylist()
            return self.compare(got, self.mt_emu.app.rows(job.id).column("tsEvent").to_pylist())

        return export, check

    def woosmap_import(self, rng: random.Random) -> tuple[Any, Callable[[Any], int]]:
        ds = self.wm.create_dataset(name=f"soak-{rng.randrange(10**6)}", url="https://example.com/stores.geojson")
        return ds.import_(), lambda job: 0

    def algolia_run(self, rng: random.Random) -> tuple[Any, Callable[[Any], int]]:
        from dataferry.emulator.algolia import EXAMPLE_TASK_ID

        return self.alg.run_task(EXAMPLE_TASK_ID), lambda job: 0

    # -- running ---------------------------------------------------------------------------------
    def compare(self, got: list[Any], want: list[Any]) -> int:
        if got != want:
            with self.tally.lock:
                self.tally.rows_lost += abs(len(want) - len(set(got) & set(want))) + max(0, len(got) - len(want)) or 1
            raise AssertionError(f"rows differ: got {len(got)}, want {len(want)}")
        return len(got)

    def run_one(self, kind: str, rng: random.Random) -> None:
        tally = self.tally
        try:
            job, check = self.runners[kind](rng)
        except DataferryError as exc:  # the create call itself failed (typed): nothing was made twice
            with tally.lock:
                tally.typed_errors[type(exc).__name__] += 1
            return
        for _attempt in range(REPEATS + 1):
            try:
                job.wait(timeout=120)
                rows = check(job)
            except DataferryError as exc:
                with tally.lock:
                    tally.typed_errors[type(exc).__name__] += 1
                continue
            with tally.lock:
                tally.jobs[kind] += 1
                tally.rows_verified += rows
            return
        with tally.lock:
            tally.never_completed.append(f"{kind} {job.id}")

    def run(self, seconds: float, workers: int, seed: int) -> dict[str, Any]:
        self.tally = Tally()
        retries = Retries()
        logging.getLogger("dataferry").addHandler(retries)
        logging.getLogger("dataferry").setLevel(logging.INFO)
        deadline = time.monotonic() + seconds
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(rss_mb())
                stop.wait(SAMPLE_SECONDS)

        def work(k: int) -> None:
            rng = random.Random(seed * 1000 + k)
            kinds = list(self.runners)
            n = k
            while time.monotonic() < deadline:
                kind = kinds[n % len(kinds)]
                n += 1
                try:
                    self.run_one(kind, rng)
                except Exception:  # noqa: BLE001 - an untyped error: a defect, reported
                    with self.tally.lock:
                        self.tally.untyped.append(traceback.format_exc(limit=6))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        threads = [threading.Thread(target=work, args=(k,), name=f"soak-{k}") for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stop.set()
        sampler.join()
        logging.getLogger("dataferry").removeHandler(retries)
        injected: Counter[str] = Counter()
        for emu in self.emus:
            injected.update(emu.faults.injected)
        third = max(1, len(samples) // 3)
        early, late = samples[third : 2 * third] or samples[:1], samples[-third:]  # after the warm-up third
        growth = (sum(late) / len(late)) / (sum(early) / len(early)) if samples else 1.0
        t = self.tally
        return {
            "seconds": round(elapsed, 1),
            "workers": workers,
            "jobs_completed": sum(t.jobs.values()),
            "jobs_by_kind": dict(t.jobs),
            "faults_injected": sum(injected.values()),
            "faults_by_kind": dict(sorted(injected.items())),
            "client_retries": dict(retries.counts),
            "typed_errors_survived": dict(t.typed_errors),
            "rows_verified": t.rows_verified,
            "rows_lost": t.rows_lost,
            "untyped_errors": len(t.untyped),
            "untyped_examples": t.untyped[:3],
            "never_completed": t.never_completed,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
            "rss_middle_third_mb": round(sum(early) / len(early), 1) if samples else None,
            "rss_last_third_mb": round(sum(late) / len(late), 1) if samples else None,
            "rss_growth": round(growth, 3),
        }

    def close(self) -> None:
        for client in (self.bd, self.mt, self.wm, self.alg):
            client.close()
        for emu in self.emus:
            emu.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to keep starting jobs (default 120)")
    parser.add_argument("--workers", type=int, default=4, help="jobs running at once (default 4)")
    parser.add_argument("--chaos", type=float, default=0.15, help="share of requests that draw a fault (default 0.15)")
    parser.add_argument("--seed", type=int, default=7, help="chaos seed (default 7)")
    parser.add_argument("--short", action="store_true", help="the CI mode: 20 s, 3 workers, chaos 0.25")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.workers, args.chaos = 20.0, 3, 0.25
    soak = Soak(args.chaos, args.seed)
    try:
        result = soak.run(args.seconds, args.workers, args.seed)
    finally:
        soak.close()
    result.update(chaos=args.chaos, seed=args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    ok = (
        result["rows_lost"] == 0
        and result["untyped_errors"] == 0
        and not result["never_completed"]
        and result["jobs_completed"] > 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
