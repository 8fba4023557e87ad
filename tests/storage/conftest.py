"""A real S3 API on loopback for the storage tests: moto's server, started once per session on a
free port of 127.0.0.1 and always stopped; a fresh bucket per test; Bright Data snapshots from
the emulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dataferry.s3server import LocalS3
from tests.snapshots import DRIFT, PRODUCTS, bd, emu, snapshot

__all__ = ["DRIFT", "PRODUCTS", "bd", "emu", "snapshot"]  # the shared snapshot fixtures


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
