"""dataferry: trigger a vendor's export or collection, wait for it with live progress, and
stream its parts into pandas, Arrow or Parquet in bounded memory.

Vendors are imported on first use::

    from dataferry import brightdata
    bd = brightdata.Client(token="...")
"""

from __future__ import annotations

import importlib
from typing import Any

from dataferry.errors import (
    ApiError,
    DataError,
    DataferryError,
    DownloadInterrupted,
    Interrupted,
    InvalidArgument,
    JobCancelled,
    JobFailed,
    TransportError,
    WaitInterrupted,
    WaitTimeout,
)
from dataferry.version import __version__

PROVIDERS = {
    "brightdata": "dataferry.providers.brightdata",
    "mytracker": "dataferry.providers.mytracker",
    "woosmap": "dataferry.providers.woosmap",
    "algolia": "dataferry.providers.algolia",
}
"""Vendor module names, importable as ``from dataferry import <name>``."""

_LAZY = {**PROVIDERS, "emulator": "dataferry.emulator"}

__all__ = [
    "ApiError",
    "DataError",
    "DataferryError",
    "DownloadInterrupted",
    "Interrupted",
    "InvalidArgument",
    "JobCancelled",
    "JobFailed",
    "TransportError",
    "WaitInterrupted",
    "WaitTimeout",
    "__version__",
    # the lazily imported modules of _LAZY, spelled out so static tools can read __all__
    "algolia",
    "brightdata",
    "emulator",
    "mytracker",
    "woosmap",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'dataferry' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
