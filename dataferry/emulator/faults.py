"""Fault injection for the emulators: what can go wrong on the wire, on request.

A test (or a teacher) arms faults on a running emulator::

    emu.faults.add("status", path="/progress/", status=429, times=3, retry_after=1)
    emu.faults.add("drop", path="/snapshot/", after_bytes=100_000, times=1)

Kinds:
    ``status``       answer ``status`` with the vendor's error body (and ``Retry-After``)
    ``slow``         sleep ``delay`` seconds before answering
    ``drop``         send the headers and ``after_bytes`` of the body, then cut the connection
    ``ignore_range`` answer a ``Range`` request with the whole body (200)
    ``truncate``     serve a file cut to ``keep`` (fraction, or bytes when > 1), honestly labelled
    ``expire``       treat download links as expired (vendors with expiring links)
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "slow", "drop", "ignore_range", "truncate", "expire")
"""Fault kinds the emulators understand."""


@dataclass
class Fault:
    """One armed fault.

    Attributes:
        kind: one of :data:`KINDS`.
        path: a regular expression searched in the request path (``""`` matches all).
        method: only requests with this method (``None``: any).
        times: how many requests it hits (``None``: until cleared).
        params: kind-specific settings (``status``, ``message``, ``retry_after``, ``delay``,
            ``after_bytes``, ``keep``).
        hits: how many requests it has hit so far.
    """

    kind: str
    path: str = ""
    method: str | None = None
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class Faults:
    """The faults armed on one emulator; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, *, path: str = "", method: str | None = None, times: int | None = 1, **params: Any) -> Fault:
        """Arm a fault (see the module docstring for kinds and parameters)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(KINDS)}")
        fault = Fault(kind, path, method, times, dict(params))
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, kinds: tuple[str, ...] = KINDS) -> Fault | None:
        """The first armed fault of ``kinds`` matching this request, counting the hit."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
