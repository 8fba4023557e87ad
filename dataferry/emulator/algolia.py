"""Algolia Ingestion API v1, emulated: authentications, destinations, sources (validate,
discover), tasks (run, enable, disable), runs and their events, with pagination, filters,
sorting, the documented rate limits and answers shaped like the official spec
(``specs/algolia-ingestion/pre-v2-2024-07/ingestion.yml``).

Runs unfold over time (``start_after``, ``event_interval``) and succeed or fail as their
source asks (see :mod:`dataferry.emulator.algolia_runs`): a source whose URL or name holds
``critical`` fails critically, ``errors=P`` fails P % of the record batches.

Emulator-only behaviour, documented where the API is silent:

* the credentials are ``app_id`` / ``api_key``; ``search_key`` is a valid key without the
  write ACL (every call answers 403 "Method not allowed with this API key");
* a run asked for while another run of the task is in progress is ``skipped``
  (``reasonCode: blocking``), and so is a run of a disabled task (``blocking`` too: the pre-v2
  ``discarded`` is gone from today's ``RunReasonCode``);
* a run in progress carries no ``outcome`` (today's ``RunOutcome`` has no ``processing``);
* after 5 consecutive critical runs a task is disabled (as Algolia documents);
* authentication secrets never come back: the spec types them as strings yet documents them
  as ``null``, so the emulator leaves them out;
* array filters are accepted comma-joined (``type=a,b``) and repeated (``type=a&type=b``);
* rate limits answer 429 ``{"message": "Too Many Requests"}`` with ``Retry-After`` (an HTML
  page with ``html_429=True``, as from a proxy); ``rate_limits=False`` switches them off;
* tests reach the state directly: ``app.store``, ``app.runs``, ``app.faults``.

Example::

    from dataferry import algolia, emulator
    emu = emulator.start("algolia", event_interval=0.01)
    ing = algolia.Ingestion(**emu.client_kwargs())
    ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f").wait()
"""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator import algolia_rules as rules
from dataferry.emulator.algolia_base import ID_FIELDS
from dataferry.emulator.algolia_resources import ResourceHandlers
from dataferry.emulator.algolia_runs import Timing, new_uuid, plan_run
from dataferry.emulator.algolia_tasks import TaskHandlers

APP_ID = "EMULATORAPP"
"""The application id the emulator accepts by default."""

API_KEY = "emulator-algolia-admin-key-0001"
"""The API key (with the write ACL) the emulator accepts by default."""

SEARCH_KEY = "emulator-algolia-search-key-0001"
"""A valid key without the ACL the Ingestion API needs: every call answers 403."""

EXAMPLE_TASK_ID = "6c02aeb1-775e-418e-870b-1faccd4b2c0f"
"""The spec's example UUID, given to the seeded on-demand task so the docs' snippets work."""

DEFAULT_LIMIT = (200, 60.0)
"""Requests per window (seconds) per IP on every endpoint but observability."""

OBSERVABILITY_LIMIT = (200, 30.0)
"""Requests per window (seconds) per IP on ``/1/runs*``."""


class AlgoliaEmulator(ResourceHandlers, TaskHandlers):
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

    def __init__(self, *, app_id: str = APP_ID, api_key: str = API_KEY, search_key: str = SEARCH_KEY,
                 start_after: float = 0.5, event_interval: float = 0.15, records: int = 250, batch_size: int = 25,
                 history: bool = True, html_429: bool = False, seed: int = 11, **kw: Any) -> None:
        super().__init__(app_id=app_id, timing=Timing(start_after, event_interval, records, batch_size), seed=seed,
                         **kw)
        self.api_key = api_key
        self.search_key = search_key
        self.html_429 = html_429
        if history:
            self._seed_history()

    # -- identity -------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, list[str], str]]:
        table = []
        for kind in ("authentications", "destinations", "sources", "tasks"):
            table += [
                (f"/1/{kind}", ["GET"], f"list_{kind}"),
                (f"/1/{kind}", ["POST"], f"create_{kind}"),
                (f"/1/{kind}/search", ["POST"], f"search_{kind}"),
                (f"/1/{kind}/<rid>", ["GET"], f"get_{kind}"),
                (f"/1/{kind}/<rid>", ["PATCH"], f"update_{kind}"),
                (f"/1/{kind}/<rid>", ["DELETE"], f"delete_{kind}"),
            ]
        return table + [
            ("/1/sources/validate", ["POST"], "validate_source"),
            ("/1/sources/<rid>/validate", ["POST"], "validate_source_update"),
            ("/1/sources/<rid>/discover", ["POST"], "discover_source"),
            ("/1/sources/<rid>/discover", ["GET"], "source_streams"),
            ("/1/tasks/<rid>/run", ["POST"], "run_task"),
            ("/1/tasks/<rid>/enable", ["PUT"], "enable_task"),
            ("/1/tasks/<rid>/disable", ["PUT"], "disable_task"),
            ("/1/runs", ["GET"], "list_runs"),
            ("/1/runs/<rid>", ["GET"], "get_run"),
            ("/1/runs/<rid>/events", ["GET"], "list_events"),
            ("/1/runs/<rid>/events/<eid>", ["GET"], "get_event"),
        ]

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        """Rate limits first (they apply per IP, before the key is looked at), then the key."""
        observability = request.path.startswith("/1/runs")
        limit, seconds = OBSERVABILITY_LIMIT if observability else DEFAULT_LIMIT
        wait = self.limited(("observability" if observability else "default", request.remote_addr or ""), limit,
                            seconds)
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
        tasks = {tid: f"{t['trigger']['type']}, {t['action']}, source {self.store['sources'][t['sourceID']]['name']!r}"
                 for tid, t in self.store["tasks"].items() if t["sourceID"] in self.store["sources"]}
        return {
            "search_key (403 on every call)": self.search_key,
            "tasks": tasks,
            "runs": "a source whose URL or name holds 'critical' fails critically; 'errors=P' fails P% of batches",
        }

    def _too_many(self, wait: float) -> Response:
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        if self.html_429:
            page = ("<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests"
                    "</h1></center></body></html>")
            return Response(page, status=429, headers=headers, content_type="text/html")
        return self.json({"message": "Too Many Requests"}, 429, headers=headers)

    # -- seed data -------------------------------------------------------------------------------
    def _seed_history(self) -> None:
        now = self.now()
        day = 86400.0

        def add(kind: str, record: dict[str, Any], age_days: float) -> str:
            rid = record.get(ID_FIELDS[kind]) or new_uuid(self._rng)
            stamp = rules.iso(now - age_days * day)
            self.store[kind][rid] = {ID_FIELDS[kind]: rid, **record, "createdAt": stamp, "updatedAt": stamp}
            return rid

        write = add("authentications", {"type": "algolia", "name": "Algolia write key (emulated)", "platform": None,
                                        "input": {"appID": self.app_id, "apiKey": "emulated-write-key-7f3a9c"}}, 30)
        feed = add("authentications", {"type": "basic", "name": "Feed server login", "platform": None,
                                       "input": {"username": "feeds", "password": "emulated-feed-pass-41d2"}}, 29)
        index = add("destinations", {"type": "search", "name": "Products index", "input": {"indexName": "products"},
                                     "authenticationID": write}, 28)
        csv = add("sources", {"type": "csv", "name": "Products CSV",
                              "input": {"url": "https://feeds.example.com/products.csv", "uniqueIDColumn": "sku",
                                        "delimiter": ","}, "authenticationID": feed}, 27)
        flaky = add("sources", {"type": "csv", "name": "Flaky offers feed",
                                "input": {"url": "https://feeds.example.com/offers.csv?errors=20", "delimiter": ","}}, 26)
        broken = add("sources", {"type": "csv", "name": "Retired catalogue",
                                 "input": {"url": "https://feeds.example.com/critical/catalogue.csv", "delimiter": ";"}},
                     25)
        tasks = [
            add("tasks", {"taskID": EXAMPLE_TASK_ID, "sourceID": csv, "destinationID": index,
                          "trigger": {"type": "onDemand"}, "enabled": True, "action": "replace",
                          "failureThreshold": 5, "_criticals": 0}, 24),
            add("tasks", {"sourceID": flaky, "destinationID": index, "trigger": {"type": "schedule", "cron": "0 6 * * *"},
                          "enabled": True, "action": "save", "failureThreshold": 10, "_criticals": 0}, 23),
            add("tasks", {"sourceID": broken, "destinationID": index, "trigger": {"type": "onDemand"},
                          "enabled": True, "action": "partial", "_criticals": 0}, 22),
        ]
        for task_id, ages in zip(tasks, ((9.0, 2.0, 1.0), (1.5, 0.5), (0.25,))):
            task = self.store["tasks"][task_id]
            for age in ages:
                created = now - age * day
                run = plan_run(self._rng, run_id=new_uuid(self._rng), app_id=self.app_id, created=created, task=task,
                               source=self.store["sources"][task["sourceID"]], timing=Timing())
                self.runs[run.run_id] = run
                task["_lastRun"] = created


