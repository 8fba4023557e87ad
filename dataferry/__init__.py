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

_LAZY_NAMES = {
    "wait_all": "dataferry.groups",
    "as_completed": "dataferry.groups",
    "JobGroup": "dataferry.groups",
    "group": "dataferry.groups",
    "wait_all_async": "dataferry.aio",
}
"""Many jobs at once (issue #19), imported on first use (they need no pyarrow either)."""

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
    *_LAZY,
    *_LAZY_NAMES,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        globals()[name] = module
        return module
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dataferry' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
