"""A real Dask cluster for the scale-out tests: ``LocalCluster(processes=True, n_workers=2,
threads_per_worker=1)`` started once for the module that asks for it and always closed;
Bright Data snapshots and myTracker exports from the emulators over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("distributed", reason="the scale-out tests need dataferry[dask]")

from distributed import (
    Client as DaskClient,
    LocalCluster,
)

from tests.snapshots import DRIFT, PRODUCTS, bd, emu, snapshot

__all__ = ["DRIFT", "PRODUCTS", "bd", "emu", "snapshot"]  # the shared snapshot fixtures


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
