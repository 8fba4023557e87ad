"""Bright Data fan-out past the account's running-jobs limit: the batches past it are queued
until running snapshots finish, within the deadline (issue #19, item 6)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from dataferry import brightdata
from dataferry.wait import PollPolicy

from .conftest import DATASET

POLLS = PollPolicy(initial=0.1, growth=1.5, maximum=0.3, jitter=0.0)


def batches(n: int) -> list[list[dict[str, Any]]]:
    return [[{"url": f"https://example.com/p/{k}", "emulator_records": 10 + k}] for k in range(n)]


def test_batches_past_the_limit_wait_for_running_jobs(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", start_after=0.1, ready_after=1.0, jobs_limit=2)
    bd = brightdata.Client(poll=POLLS, **emu.client_kwargs())
    started = time.monotonic()
    group = brightdata.trigger_many(bd, DATASET, batches(5), timeout=30)
    assert len(group) == 5 and time.monotonic() - started >= 1.5  # three had to wait their turn
    counts = [len(emu.app.records(s.id)) for s in group]
    assert counts == list(range(counts[0], counts[0] + 5))  # one record more per batch: in batch order
    triggers = [r for r in emu.app.requests if r.path == "/datasets/v3/trigger"]
    assert len(triggers) - 5 <= 3, "a 429 was answered more often than a running job finished"
    assert all(o.ok for o in group.wait(progress="off").outcomes)


def test_the_deadline_gives_what_was_triggered_and_what_is_left(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", start_after=0.1, ready_after=30, jobs_limit=1)
    bd = brightdata.Client(poll=POLLS, **emu.client_kwargs())
    started = time.monotonic()
    with pytest.raises(brightdata.TriggerTimeout, match="1 of 3 collections triggered") as caught:
        brightdata.trigger_many(bd, DATASET, batches(3), timeout=1.5)
    assert time.monotonic() - started < 4
    assert len(caught.value.triggered) == 1 and caught.value.left == batches(3)[1:]
