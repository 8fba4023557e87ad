"""The myTracker emulator itself: its settings, the credentials it accepts, and what
``dataferry emulate`` prints. The handlers are mixed in from
:mod:`~dataferry.emulator.mytracker.exports` and :mod:`~dataferry.emulator.mytracker.auth`."""

from __future__ import annotations

from typing import Any

from dataferry.emulator.app import Route
from dataferry.emulator.chaos import DEFAULT_CHAOS_KINDS
from dataferry.emulator.mytracker.auth import DEFAULT_QUOTAS, AuthHandlers
from dataferry.emulator.mytracker.data import APPS, EVENTS, SDK_KEYS, SELECTORS
from dataferry.emulator.mytracker.exports import ExportHandlers
from dataferry.emulator.mytracker.routes import ROUTES

API_USER_ID = "77658"
"""The API user id the emulator accepts by default."""

SECRET_KEY = "emulator-mytracker-secret-key-0001"
"""The secret key the emulator accepts by default."""


class MyTrackerEmulator(ExportHandlers, AuthHandlers):
    """The myTracker Export API (raw data) on 127.0.0.1.

    Args:
        api_user_id, secret_key: the credentials accepted.
        step_seconds: seconds per progress step of an export.
        steps: progress steps before an export finishes (``0``: finished at once).
        cancellable_below: progress fraction below which ``isCancellable`` is true.
        rows_per_day: synthetic events per day (before filters).
        rows_per_file: rows per gzip CSV part.
        max_rows: an export with more rows ends "User error occurred" ("Too many lines in one export").
        link_ttl: seconds a file link stays valid.
        storage_url: the root file links point at (default: this server), e.g. ``http://localhost:<port>``
            to put them on "another host".
        quotas: overrides of :data:`DEFAULT_QUOTAS`.
        seed: the data seed.
        first_id: the first ``idRawExport`` handed out.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``rate_limits=False``...).
    """

    chaos_kinds = (*DEFAULT_CHAOS_KINDS, "expire")  # a dead link is survived: get.json hands out links again

    def __init__(
        self,
        *,
        api_user_id: str = API_USER_ID,
        secret_key: str = SECRET_KEY,
        step_seconds: float = 1.0,
        steps: int = 4,
        cancellable_below: float = 0.5,
        rows_per_day: int = 240,
        rows_per_file: int = 5000,
        max_rows: int = 1_000_000,
        link_ttl: float = 3600.0,
        storage_url: str | None = None,
        quotas: dict[str, int] | None = None,
        seed: int = 11,
        first_id: int = 1,
        **kw: Any,
    ) -> None:
        unknown = set(quotas or {}) - set(DEFAULT_QUOTAS)
        if unknown:
            raise ValueError(f"unknown quota {', '.join(sorted(unknown))}; choose from {', '.join(DEFAULT_QUOTAS)}")
        if rows_per_file < 1 or rows_per_day < 0 or steps < 0 or step_seconds < 0:
            raise ValueError("rows_per_file must be ≥ 1; rows_per_day, steps and step_seconds ≥ 0")
        super().__init__(first_id=first_id, **kw)  # after the checks: a refused setting makes no directory
        self.api_user_id = str(api_user_id)
        self.secret_key = secret_key
        self.step_seconds = float(step_seconds)
        self.steps = int(steps)
        self.cancellable_below = float(cancellable_below)
        self.rows_per_day = int(rows_per_day)
        self.rows_per_file = int(rows_per_file)
        self.max_rows = int(max_rows)
        self.link_ttl = float(link_ttl)
        self.storage_url = storage_url
        self.quotas = {**DEFAULT_QUOTAS, **(quotas or {})}
        self.seed = int(seed)

    # -- identity ---------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return ROUTES

    def credentials(self) -> dict[str, str]:
        return {"api_user_id": self.api_user_id, "secret_key": self.secret_key}

    def describe(self) -> dict[str, Any]:
        return {
            "events": ", ".join(EVENTS),
            "selectors": ", ".join(SELECTORS),
            "apps with data": ", ".join(f"{a} (SDKKey {SDK_KEYS[a]})" for a in APPS),
            "idApp values that choose an outcome": {
                "9001..9008": "the first 1..8 exports with the same parameters end 'Error occurred'",
                "9009": "every export ends 'Error occurred'",
                "9100": "'User error occurred': Too many lines in one export",
                "9101": "'User error occurred': Too much export data",
                "9200": "'Canceled by user'",
            },
            "timings": f"{self.steps} steps of {self.step_seconds:g} s; links valid {self.link_ttl:g} s",
        }
