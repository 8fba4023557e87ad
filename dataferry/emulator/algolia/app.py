"""The Algolia Ingestion emulator itself: its settings, the keys it accepts (and the one
without the ACL), the documented rate limits, and what ``dataferry emulate`` prints. The
handlers are mixed in from :mod:`~dataferry.emulator.algolia.crud`,
:mod:`~dataferry.emulator.algolia.sources` and :mod:`~dataferry.emulator.algolia.tasks`."""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.algolia.crud import CrudHandlers
from dataferry.emulator.algolia.data import seed_history
from dataferry.emulator.algolia.routes import ROUTES
from dataferry.emulator.algolia.runs import Timing
from dataferry.emulator.algolia.sources import SourceHandlers
from dataferry.emulator.algolia.tasks import TaskHandlers
from dataferry.emulator.app import Route

APP_ID = "EMULATORAPP"
"""The application id the emulator accepts by default."""

API_KEY = "emulator-algolia-admin-key-0001"
"""The API key (with the write ACL) the emulator accepts by default."""

SEARCH_KEY = "emulator-algolia-search-key-0001"
"""A valid key without the ACL the Ingestion API needs: every call answers 403."""

DEFAULT_LIMIT = (200, 60.0)
"""Requests per window (seconds) per IP on every endpoint but observability."""

OBSERVABILITY_LIMIT = (200, 30.0)
"""Requests per window (seconds) per IP on ``/1/runs*``."""


class AlgoliaEmulator(CrudHandlers, SourceHandlers, TaskHandlers):
    """The Algolia Ingestion API on 127.0.0.1.

    Args:
        app_id, api_key: the accepted credentials.
        search_key: a key that authenticates but lacks the ACL (403 on every call).
        start_after: seconds a run stays ``created``.
        event_interval: seconds between two events of a run.
        records: records each run reads; batch_size: records per ``record`` event.
        history: seed authentications, destinations, sources, tasks and past runs.
        html_429: answer rate-limited calls with an HTML page instead of JSON.
        seed: seeds the ids.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``rate_limits=False``...).
    """

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        api_key: str = API_KEY,
        search_key: str = SEARCH_KEY,
        start_after: float = 0.5,
        event_interval: float = 0.15,
        records: int = 250,
        batch_size: int = 25,
        history: bool = True,
        html_429: bool = False,
        seed: int = 11,
        **kw: Any,
    ) -> None:
        super().__init__(
            app_id=app_id, timing=Timing(start_after, event_interval, records, batch_size), seed=seed, **kw
        )
        self.api_key = api_key
        self.search_key = search_key
        self.html_429 = html_429
        if history:
            seed_history(self)

    # -- identity -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return ROUTES

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        """Rate limits first (they apply per IP, before the key is looked at), then the key."""
        observability = request.path.startswith("/1/runs")
        limit, seconds = OBSERVABILITY_LIMIT if observability else DEFAULT_LIMIT
        wait = self.limited(
            ("observability" if observability else "default", request.remote_addr or ""), limit, seconds
        )
        if wait is not None:
            return self._too_many(wait)
        app_id = request.headers.get("X-Algolia-Application-Id")
        key = request.headers.get("X-Algolia-API-Key")
        if app_id != self.app_id or key not in (self.api_key, self.search_key):
            return self.error(403, "Invalid Application-Id or API-Key")
        if key == self.search_key:
            return self.error(403, "Method not allowed with this API key")
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return self.json({"message": message, **extra}, status)

    def credentials(self) -> dict[str, str]:
        return {"app_id": self.app_id, "api_key": self.api_key}

    def describe(self) -> dict[str, Any]:
        tasks = {
            tid: f"{t['trigger']['type']}, {t['action']}, source {self.store['sources'][t['sourceID']]['name']!r}"
            for tid, t in self.store["tasks"].items()
            if t["sourceID"] in self.store["sources"]
        }
        return {
            "search_key (403 on every call)": self.search_key,
            "tasks": tasks,
            "runs": "a source whose URL or name holds 'critical' fails critically; 'errors=P' fails P% of batches",
        }

    def _too_many(self, wait: float) -> Response:
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        if self.html_429:
            page = (
                "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests"
                "</h1></center></body></html>"
            )
            return Response(page, status=429, headers=headers, content_type="text/html")
        return self.json({"message": "Too Many Requests"}, 429, headers=headers)
