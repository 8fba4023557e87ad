"""Bright Data snapshots from the emulator over loopback, for the test packages that write them
somewhere (tests/storage, tests/dask): import the fixtures into the package's conftest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataferry.emulator import Emulator
from dataferry.providers.brightdata import Client
from tests.conftest import FAST, QUICK_POLLS

PRODUCTS = "gd_l1viktl72bvl7bjuj0"
DRIFT = "gd_drift0schema0parts"
"""A dataset whose parts disagree on a column's type (empty in one part, numeric in the next)."""


@pytest.fixture
def emu(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator("brightdata", **FAST)


@pytest.fixture
def bd(emu: Emulator) -> Iterator[Client]:
    client = Client(base_url=emu.base_url, poll=QUICK_POLLS, progress="off", **emu.credentials)
    yield client
    client.close()


@pytest.fixture
def snapshot(emu: Emulator, bd: Client) -> Callable[..., Any]:
    """``snapshot(records=3000, batch_size=1000, dataset=PRODUCTS, fmt="csv", url="p/1")`` → a
    ready snapshot (a new ``url`` makes a different snapshot of the same dataset)."""

    def make(
        records: int = 3000, batch_size: int = 1000, dataset: str = PRODUCTS, fmt: str = "csv", url: str = "p/1"
    ) -> Any:
        emu.app.total_records = records
        snap = bd.trigger(dataset, [{"url": f"https://example.com/{url}"}], batch_size=batch_size, download_format=fmt)
        snap.wait(progress="off")
        return snap

    return make
