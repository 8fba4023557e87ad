"""Fixtures for the Algolia Ingestion tests: a fast emulator, a client of it, and a client for
request-shape tests with a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataferry.clock import FakeClock
from dataferry.providers.algolia import Client
from dataferry.wait import PollPolicy

FAST = {"start_after": 0.02, "event_interval": 0.01, "records": 60, "batch_size": 10}
"""Emulated runs of 9 events that finish in about 0.1 s."""

QUICK = PollPolicy(initial=0.02, growth=1.5, maximum=0.1, jitter=0.0)
"""Poll delays for the fast emulator (the observability rate limit stays the floor)."""

APP = "TESTAPP42"
"""An application id for unit tests."""

KEY = "test-algolia-admin-key-9c1e7b"
"""An API key for unit tests (long enough to be masked everywhere)."""

BASE = "https://data.us.algolia.com"

TASK_ID = "6c02aeb1-775e-418e-870b-1faccd4b2c0f"
RUN_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"


@pytest.fixture
def alg_emu(start_emulator: Callable[..., Any]) -> Any:
    """An Algolia emulator whose runs finish in about 0.1 s."""
    return start_emulator("algolia", **FAST)


@pytest.fixture
def ing(alg_emu: Any) -> Iterator[Client]:
    """A client of :func:`alg_emu` with quick polls."""
    client = Client(**alg_emu.client_kwargs(), poll=QUICK)
    yield client
    client.close()


@pytest.fixture
def unit(clock: FakeClock) -> Iterator[Client]:
    """A client of the real host for ``responses`` tests; sleeps cost no wall time."""
    client = Client(app_id=APP, api_key=KEY, clock=clock)
    yield client
    client.close()
