"""Fixtures for the myTracker tests: a fast emulator and a client talking to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataferry import emulator as emulator_mod

QUICK_POLLS_MT = {"initial": 0.03, "growth": 1.5, "maximum": 0.1, "jitter": 0.0}
"""Poll delays for the fast myTracker emulator."""

FAST_MT = {"step_seconds": 0.05, "steps": 3, "rows_per_day": 120, "rows_per_file": 250}
"""myTracker emulator timings and sizes that keep integration tests quick (several parts per export)."""

PERIOD = {"date_from": "2026-11-01", "date_to": "2026-11-07"}
"""A week that lies in the past of the emulator's and the client's clocks."""


@pytest.fixture
def mt_emu(start_emulator: Callable[..., emulator_mod.Emulator]) -> emulator_mod.Emulator:
    """A myTracker emulator with fast exports."""
    return start_emulator("mytracker", **FAST_MT)


@pytest.fixture
def make_mt(mt_emu: emulator_mod.Emulator) -> Iterator[Callable[..., Any]]:
    """``make_mt(**client_options)`` → a myTracker client on :func:`mt_emu` with short polls.

    Client-side rate limits are off unless asked for (the emulator still enforces its quotas).
    """
    from dataferry.providers.mytracker import Client
    from dataferry.wait import PollPolicy

    made: list[Any] = []

    def make(**options: Any) -> Any:
        kwargs = {**mt_emu.client_kwargs(), "poll": PollPolicy(**QUICK_POLLS_MT), "rate_limits": False, **options}
        client = Client(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def mt(make_mt: Callable[..., Any]) -> Any:
    """A myTracker client on the fast emulator."""
    return make_mt()
