"""What the myTracker emulator holds: the exports (with their rows and current links), the
link tokens, the clock tests can move, and the ``{code, message, data}`` envelope every answer
is wrapped in (the HTTP status and the JSON ``code`` always agree)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from werkzeug.wrappers import Response

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.data import FileCache

REASONS: dict[int, str] = {
    200: "Ok",
    400: "Bad Request",
    403: "Access denied",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
"""The envelope's ``message`` for each code."""


@dataclass
class RawExport:
    """One export on the emulated server."""

    id: str
    user: str
    event: str
    selectors: list[str]
    table: pa.Table | None
    created: float
    outcome: str  # success | error | user_error | cancelled
    error_message: str | None = None
    cancelled_at: float | None = None
    token: str = ""
    links_expire: float = 0.0
    issued: int = 0
    files: int = 1
    params: dict[str, list[str]] = field(default_factory=dict)


class MyTrackerState(EmulatorApp):
    """The state every myTracker handler shares (see :class:`~dataferry.emulator.mytracker.MyTrackerEmulator`,
    which sets the settings).

    Attributes:
        exports: export id → :class:`RawExport`.
        tokens: link token → ``(export id, when its links expire)``.
        files: the generated files, cached in the data directory.
    """

    vendor = "mytracker"

    # settings (see MyTrackerEmulator)
    api_user_id: str
    secret_key: str
    step_seconds: float
    steps: int
    cancellable_below: float
    rows_per_day: int
    rows_per_file: int
    max_rows: int
    link_ttl: float
    storage_url: str | None
    quotas: dict[str, int]
    seed: int

    def __init__(self, *, first_id: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.exports: dict[str, RawExport] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.files = FileCache(self.data_dir)
        self._ids = itertools.count(int(first_id))
        self._attempts: dict[tuple[str, ...], int] = {}
        self._offset = 0.0
        self._errors: dict[str, deque[float]] = {}
        self._errors_lock = threading.Lock()

    # -- the envelope -----------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> Response:
        data = None if status == 403 else {"error": {"detail": message, **extra}}
        return self.json({"code": status, "message": REASONS.get(status, "Error"), "data": data}, status)

    def ok(self, data: Any) -> Response:
        """The success envelope."""
        return self.json({"code": 200, "message": "Ok", "data": data})

    # -- clock and test controls ----------------------------------------------------------------
    def now(self) -> float:  # type: ignore[override]
        """Wall-clock seconds, moved forward by :meth:`advance`."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (exports progress, links expire)."""
        self._offset += float(seconds)

    def rows(self, export_id: str | int) -> pa.Table:
        """The rows an export serves, every part together, exactly as the CSV files hold them."""
        table = self.exports[str(export_id)].table
        if table is None:
            raise ValueError(f"export {export_id} has no data ({self.exports[str(export_id)].outcome})")
        return table

    def expire_links(self, export_id: str | int) -> None:
        """Make the current file links of an export dead now (the next get.json issues new ones)."""
        with self.lock:
            exp = self.exports[str(export_id)]
            exp.links_expire = self.now() - 1
            self.tokens[exp.token] = (exp.id, exp.links_expire)
