"""Fixtures for the Woosmap tests: a fast emulator and a client paced to match it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataferry.clock import FakeClock
from dataferry.providers.woosmap import Client
from dataferry.wait import PollPolicy

RATE_SCALE = 0.005
"""Emulator windows and client rates, both scaled: status 1 per 25 ms, import 1 per 0.45 s."""

FAST = {"queue_seconds": 0.02, "fetch_seconds": 0.08, "import_seconds": 0.12, "rate_scale": RATE_SCALE}
"""Woosmap emulator timings that keep integration tests quick."""

QUICK = PollPolicy(initial=0.02, growth=1.5, maximum=0.1, jitter=0.0)
"""Poll delays for the fast emulator (the scaled status limit is still the floor)."""

KEY = "test-woosmap-private-key-4f1c9a"
"""A private key for unit tests (long enough to be masked everywhere)."""

BASE = "https://api.woosmap.com"
DATASET_ID = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"


@pytest.fixture
def wm_emu(start_emulator: Callable[..., Any]) -> Any:
    """A Woosmap emulator with quick imports and windows scaled by :data:`RATE_SCALE`."""
    return start_emulator("woosmap", **FAST)


@pytest.fixture
def wm(wm_emu: Any) -> Iterator[Client]:
    """A client of :func:`wm_emu`, paced to the emulator's scaled limits."""
    client = Client(**wm_emu.client_kwargs(), rate_limits=RATE_SCALE, poll=QUICK)
    yield client
    client.close()


@pytest.fixture
def offline(clock: FakeClock) -> Iterator[Client]:
    """A client of the real API root on a fake clock, for ``responses``-mocked unit tests."""
    client = Client(private_key=KEY, clock=clock)
    yield client
    client.close()
