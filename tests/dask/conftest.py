"""A real Dask cluster for the scale-out tests: ``LocalCluster(processes=True, n_workers=2,
threads_per_worker=1)`` started once for the module that asks for it and always closed;
Bright Data snapshots and myTracker exports from the emulators over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the scale-out tests need dataferry[dask]")

from distributed import (
    Client as DaskClient,
    LocalCluster,
)

from dataferry.emulator import Emulator
from dataferry.providers.brightdata import Client
from tests.conftest import FAST, QUICK_POLLS

PRODUCTS = "gd_l1viktl72bvl7bjuj0"
DRIFT = "gd_drift0schema0parts"


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", host="127.0.0.1"
    ) as running:
        yield running


@pytest.fixture
def dask_client(cluster: LocalCluster) -> Iterator[DaskClient]:
    """A client of the module's cluster, with both workers up (a test may have killed one)."""
    with DaskClient(cluster, set_as_default=True) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


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
    """``snapshot(records=3000, batch_size=1000, dataset=PRODUCTS)`` → a ready snapshot."""

    def make(records: int = 3000, batch_size: int = 1000, dataset: str = PRODUCTS, fmt: str = "csv") -> Any:
        emu.app.total_records = records
        snap = bd.trigger(dataset, [{"url": "https://example.com/p/1"}], batch_size=batch_size, download_format=fmt)
        snap.wait(progress="off")
        return snap

    return make
