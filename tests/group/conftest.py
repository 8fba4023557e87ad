"""Fixtures for the group tests: three vendors' emulators with timings that order the jobs, a
request log with arrival times, and clients on them with the vendors' real rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dataferry.wait import PollPolicy

DATASET = "gd_l1viktl72bvl7bjuj0"
TASK = "6c02aeb1-775e-418e-870b-1faccd4b2c0f"
PERIOD = {"date_from": "2026-11-01", "date_to": "2026-11-07"}
POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.25, jitter=0.0)


class TimedLog(list):  # type: ignore[type-arg]
    """An emulator's request log that also notes when each request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Any) -> None:
        self.times.append(time.monotonic())
        super().append(item)

    def matching(self, predicate: Callable[[Any], bool]) -> list[float]:
        return [t for t, r in zip(self.times, self, strict=True) if predicate(r)]


def most_in_window(times: list[float], seconds: float) -> int:
    """The most requests that fell in any window of ``seconds``."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def timed(emu: Any) -> TimedLog:
    log = TimedLog()
    emu.app.requests = log
    return log


@dataclass
class Vendors:
    """Four emulators of three vendors: Bright Data fast and slow, myTracker, Algolia."""

    bd_fast: Any
    bd_slow: Any
    mt: Any
    alg: Any
    emus: dict[str, Any]

    def jobs(self, fail: bool = False) -> tuple[list[Any], dict[str, str]]:
        """20 jobs: 5 fast snapshots, 5 slow ones, 5 exports, 5 runs; ``tier`` of each id
        (the order the emulators' timings put them in)."""
        jobs, tier = [], {}
        for k in range(5):
            inputs = [{"url": f"https://example.com/p/{k}", "emulator_records": 50 + k}]
            if fail and k == 2:
                inputs.append({"url": "https://example.com/broken", "emulator_fail": "Crawl failed: blocked"})
            s = self.bd_fast.trigger(DATASET, inputs)
            jobs.append(s)
            tier[s.id] = "1 bd-fast"
        example = self.alg.get_task(TASK).info
        tasks = [
            self.alg.create_task(example["sourceID"], example["destinationID"], action="replace")["taskID"]
            for _ in range(5)
        ]  # one run per task: a second run of a running task is skipped
        for task in tasks:
            r = self.alg.run_task(task)
            jobs.append(r)
            tier[r.id] = "2 algolia"
        for k in range(5):
            e = self.mt.create_export("installs", ["idApp", "tsEvent"], id_app=[k + 1], **PERIOD)
            jobs.append(e)
            tier[e.id] = "3 mytracker"
        for k in range(5):
            s = self.bd_slow.trigger(DATASET, [{"url": f"https://example.com/s/{k}", "emulator_records": 30}])
            jobs.append(s)
            tier[s.id] = "4 bd-slow"
        return jobs, tier


@pytest.fixture
def vendors(start_emulator: Callable[..., Any]) -> Iterator[Vendors]:
    from dataferry.providers import algolia, brightdata, mytracker

    emus = {
        "bd_fast": start_emulator("brightdata", start_after=0.1, ready_after=0.4),
        "alg": start_emulator("algolia", start_after=1.0, event_interval=0.05, records=60, batch_size=10),
        "mt": start_emulator("mytracker", step_seconds=0.8, steps=3, rows_per_day=20, rows_per_file=50),
        "bd_slow": start_emulator("brightdata", start_after=0.2, ready_after=5.0),
    }
    algolia_client = getattr(algolia, "Client", None) or algolia.Ingestion
    clients = {
        "bd_fast": brightdata.Client(poll=POLLS, **emus["bd_fast"].client_kwargs()),
        "bd_slow": brightdata.Client(poll=POLLS, **emus["bd_slow"].client_kwargs()),
        "mt": mytracker.Client(poll=POLLS, **emus["mt"].client_kwargs()),  # the real quotas: 10/s, 100/min, 1000/h
        "alg": algolia_client(poll=POLLS, **emus["alg"].client_kwargs()),
    }
    yield Vendors(**clients, emus=emus)
    for c in clients.values():
        c.close()
