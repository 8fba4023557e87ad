"""A real S3 API on loopback for the storage tests: moto's server, started once per session on a
free port of 127.0.0.1 and always stopped; a fresh bucket per test; Bright Data snapshots from
the emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataferry.emulator import Emulator
from dataferry.providers.brightdata import Client
from dataferry.s3server import LocalS3
from tests.conftest import FAST, QUICK_POLLS

PRODUCTS = "gd_l1viktl72bvl7bjuj0"
DRIFT = "gd_drift0schema0parts"


@pytest.fixture(scope="session")
def s3() -> Iterator[LocalS3]:
    """moto's S3 server on 127.0.0.1 (a free port), for the whole session."""
    server = LocalS3()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(s3: LocalS3) -> str:
    """A new, empty bucket on the local S3 server."""
    name = f"lake-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(name)
    return name


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

    def make(records: int = 3000, batch_size: int = 1000, dataset: str = PRODUCTS, url: str = "p/1") -> Any:
        emu.app.total_records = records
        snap = bd.trigger(dataset, [{"url": f"https://example.com/{url}"}], batch_size=batch_size)
        snap.wait(progress="off")
        return snap

    return make
