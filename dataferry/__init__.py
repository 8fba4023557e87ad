"""dataferry: trigger a vendor's export or collection, wait for it with live progress, and
stream its parts into pandas, Arrow or Parquet in bounded memory.

Vendors are imported on first use, either way::

    from dataferry import brightdata  # or: import dataferry.brightdata

    bd = brightdata.Client(token="...")
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
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
    "JobGroup",
    "TransportError",
    "WaitInterrupted",
    "WaitTimeout",
    "__version__",
    "algolia",
    "as_completed",
    "brightdata",
    "emulator",
    "group",
    "mytracker",
    "wait_all",
    "wait_all_async",
    "woosmap",
]
assert set(__all__) >= {*_LAZY, *_LAZY_NAMES}  # the lazy names are spelled out so static tools can read them


class _VendorAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import dataferry.<vendor>`` (and ``dataferry.<vendor>.<module>``) give the very
    module object of ``dataferry.providers.<vendor>…``: one module under two names, never a
    second copy of its classes."""

    PREFIX = __name__ + "."

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.PREFIX):
            return None
        vendor, _, _rest = fullname[len(self.PREFIX) :].partition(".")
        if vendor not in PROVIDERS:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        vendor, _, rest = spec.name[len(self.PREFIX) :].partition(".")
        module = importlib.import_module(PROVIDERS[vendor] + (f".{rest}" if rest else ""))
        spec.loader_state = module.__spec__  # the import system overwrites it; put back below
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the real module ran under its own name); keep its own spec."""
        alias = module.__spec__
        if alias is not None and alias.loader_state is not None:
            module.__spec__ = alias.loader_state


if not any(isinstance(f, _VendorAlias) for f in sys.meta_path):
    sys.meta_path.insert(0, _VendorAlias())


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
