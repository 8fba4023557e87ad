"""The shared part of the Algolia emulator: its state, the lock every handler takes, the
generic get / delete / search of the four resources, their JSON views, and the helpers that
read a request (body, array filters, date windows, sorting and pages)."""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator import algolia_rules as rules
from dataferry.emulator.algolia_cron import next_run
from dataferry.emulator.algolia_runs import EmulatedRun, Timing
from dataferry.emulator.app import EmulatorApp

CRITICAL_STREAK = 5
"""Consecutive critical runs after which a task is disabled."""

ID_FIELDS = {"authentications": "authenticationID", "destinations": "destinationID", "sources": "sourceID",
             "tasks": "taskID"}
"""Collection → the id field of its resources."""

NOUNS = {"authentications": "authentication", "destinations": "destination", "sources": "source", "tasks": "task"}
"""Collection → how messages name one of its resources."""


def locked(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Run a handler under the emulator's lock (its state is shared by the server threads)."""

    @functools.wraps(handler)
    def wrapper(self: AlgoliaBase, *args: Any, **kw: Any) -> Response:
        with self.lock:
            self._settle(self.now())
            return handler(self, *args, **kw)

    return wrapper


class AlgoliaBase(EmulatorApp):
    """State and helpers of the Algolia emulator (see :class:`~dataferry.emulator.algolia.AlgoliaEmulator`).

    Attributes:
        store: collection → id → resource (secrets included; views leave them out).
        runs: run id → :class:`~dataferry.emulator.algolia_runs.EmulatedRun`.
        streams: source id → its stream listing (Docker sources after a discover).
        timing: how runs unfold.
    """

    vendor = "algolia"

    def __init__(self, *, app_id: str, timing: Timing, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.app_id = app_id
        self.timing = timing
        self.store: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in ID_FIELDS}
        self.runs: dict[str, EmulatedRun] = {}
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self._rng = random.Random(seed)

    # -- get / delete / search, the same for the four resources --------------------------------
    @locked
    def get_authentications(self, request: Request, rid: str) -> Response:
        return self._get_one("authentications", rid)

    @locked
    def get_destinations(self, request: Request, rid: str) -> Response:
        return self._get_one("destinations", rid)

    @locked
    def get_sources(self, request: Request, rid: str) -> Response:
        return self._get_one("sources", rid)

    @locked
    def get_tasks(self, request: Request, rid: str) -> Response:
        return self._get_one("tasks", rid)

    @locked
    def delete_authentications(self, request: Request, rid: str) -> Response:
        return self._delete_one("authentications", rid)

    @locked
    def delete_destinations(self, request: Request, rid: str) -> Response:
        return self._delete_one("destinations", rid)

    @locked
    def delete_sources(self, request: Request, rid: str) -> Response:
        return self._delete_one("sources", rid)

    @locked
    def delete_tasks(self, request: Request, rid: str) -> Response:
        return self._delete_one("tasks", rid)

    @locked
    def search_authentications(self, request: Request) -> Response:
        return self._search("authentications", request)

    @locked
    def search_destinations(self, request: Request) -> Response:
        return self._search("destinations", request)

    @locked
    def search_sources(self, request: Request) -> Response:
        return self._search("sources", request)

    @locked
    def search_tasks(self, request: Request) -> Response:
        return self._search("tasks", request)

    def _get_one(self, kind: str, rid: str) -> Response:
        record = self.store[kind].get(rid)
        if record is None:
            return self._missing(kind, rid)
        return self.json(self._view(kind, record))

    def _delete_one(self, kind: str, rid: str) -> Response:
        if rid not in self.store[kind]:
            return self._missing(kind, rid)
        users = self._users_of(kind, rid)
        if users:
            return self.error(400, f"{NOUNS[kind]} '{rid}' is used by {users}; update or delete them first")
        del self.store[kind][rid]
        self.streams.pop(rid, None)
        return self.json({"deletedAt": rules.iso(self.now())})

    def _search(self, kind: str, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        field = f"{NOUNS[kind]}IDs"
        problem = rules.first(
            lambda: rules.unknown_fields(body, (field,)),
            lambda: rules.required_fields(body, (field,)),
            lambda: None if isinstance(body[field], list) and all(isinstance(i, str) for i in body[field]) else
            f"{field} must be an array of strings",
        )
        if problem:
            return self.error(400, problem)
        found = [self._view(kind, self.store[kind][i]) for i in dict.fromkeys(body[field]) if i in self.store[kind]]
        return self.json(found)

    def _users_of(self, kind: str, rid: str) -> str:
        if kind == "authentications":
            names = [f"source '{s['name']}'" for s in self.store["sources"].values() if s.get("authenticationID") == rid]
            names += [f"destination '{d['name']}'" for d in self.store["destinations"].values()
                      if d.get("authenticationID") == rid]
        elif kind in ("sources", "destinations"):
            field = ID_FIELDS[kind]
            names = [f"task '{t['taskID']}'" for t in self.store["tasks"].values() if t[field] == rid]
        else:
            names = []
        return ", ".join(names)

    # -- views ------------------------------------------------------------------------------------
    def _view(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        if kind == "authentications":
            shown = {k: v for k, v in record.items() if not k.startswith("_")}
            shown["input"] = {k: v for k, v in record["input"].items() if k not in rules.AUTH_SECRETS}
            return shown
        if kind == "tasks":
            return self._task_view(record)
        shown = {k: v for k, v in record.items() if not k.startswith("_")}
        if kind == "sources" and record["type"] == "csv" and "delimiter" not in record["input"]:
            # the spec's default, shown so that the input matches SourceCSV alone (not SourceJSON too)
            shown["input"] = {**record["input"], "delimiter": rules.CSV_DELIMITER}
        return shown

    def _task_view(self, task: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in task.items() if not k.startswith("_")}
        trigger = dict(task["trigger"])
        if trigger["type"] in ("onDemand", "schedule") and task.get("_lastRun") is not None:
            trigger["lastRun"] = rules.iso(task["_lastRun"])
        if trigger["type"] == "schedule":
            upcoming = next_run(trigger["cron"], datetime.fromtimestamp(self.now(), tz=timezone.utc))
            trigger["nextRun"] = rules.iso(upcoming.timestamp()) if upcoming else trigger.get("lastRun", shown["createdAt"])
        shown["trigger"] = trigger
        return shown

    # -- request helpers ----------------------------------------------------------------------
    def _body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return {}, self.error(400, "Invalid JSON body")
        if not isinstance(body, dict):
            return {}, self.error(400, "body must be object")
        return body, None

    def _missing(self, kind: str, rid: str) -> Response:
        return self.error(404, f"{NOUNS[kind]} '{rid}' not found")

    def _reference_problem(self, body: dict[str, Any], field: str, kind: str) -> str | None:
        if field not in body:
            return None
        value = body[field]
        if not isinstance(value, str) or value not in self.store[kind]:
            return f"{field} '{value}' does not exist"
        return None

    @staticmethod
    def _multi(request: Request, name: str, allowed: tuple[str, ...] | None) -> tuple[list[str] | None, str | None]:
        """An array filter, comma-joined or repeated; ``(values or None, problem)``."""
        raw = request.args.getlist(name)
        if not raw:
            return None, None
        values = [v for item in raw for v in item.split(",")]
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                return None, f"{name} must be equal to one of the allowed values: {', '.join(allowed)} (got '{bad[0]}')"
        return values, None

    def _window(self, request: Request, now: float, default: float) -> tuple[tuple[float, float], str | None]:
        bounds = []
        for name, fallback in (("startDate", now - default), ("endDate", now)):
            text = request.args.get(name)
            value = fallback if text is None else rules.parse_date(text)
            if value is None:
                return (0.0, 0.0), f"{name} must be a date in RFC 3339 format"
            bounds.append(value)
        if bounds[0] > bounds[1]:
            return (0.0, 0.0), "startDate must be before endDate"
        return (bounds[0], bounds[1]), None

    def _listing(self, request: Request, kind: str, items: list[dict[str, Any]],
                 window: tuple[float, float] | None = None) -> Response:
        q = request.args
        sort = q.get("sort", "publishedAt" if kind == "events" else "createdAt")
        order = q.get("order", "desc")
        if sort not in rules.SORT_KEYS[kind]:
            return self.error(400, f"sort must be equal to one of the allowed values: {', '.join(rules.SORT_KEYS[kind])}")
        if order not in rules.ORDERS:
            return self.error(400, "order must be equal to one of the allowed values: asc, desc")
        try:
            page = int(q.get("page", 1))
            per_page = int(q.get("itemsPerPage", 10))
        except ValueError:
            return self.error(400, "page and itemsPerPage must be integers")
        if page < 1:
            return self.error(400, "page must be >= 1")
        if not 1 <= per_page <= 100:
            return self.error(400, "itemsPerPage must be <= 100 and >= 1")
        views = items if kind in ("runs", "events") else [self._view(kind, i) for i in items]
        views.sort(key=lambda v: _sort_value(kind, sort, v), reverse=order == "desc")
        nb_pages = max(1, math.ceil(len(views) / per_page))
        body: dict[str, Any] = {kind: views[(page - 1) * per_page:page * per_page],
                                "pagination": {"nbPages": nb_pages, "page": page, "nbItems": len(views),
                                               "itemsPerPage": per_page}}
        if window is not None:
            body["window"] = {"startDate": rules.iso(window[0]), "endDate": rules.iso(window[1])}
        return self.json(body)

    # -- time passing ---------------------------------------------------------------------------
    def _settle(self, now: float) -> None:
        """Apply what finished runs do to their task (the critical streak)."""
        for run in sorted((r for r in self.runs.values() if not r.settled), key=lambda r: r.created):
            if run.skipped:
                run.settled = True
                continue
            if run.status(now) != "finished":
                continue
            run.settled = True
            task = self.store["tasks"].get(run.task_id)
            if task is None:
                continue
            task["_criticals"] = task.get("_criticals", 0) + 1 if run.reason_code == "critical" else 0
            if task["_criticals"] >= CRITICAL_STREAK and task["enabled"]:
                task["enabled"] = False
                task["updatedAt"] = rules.iso(run.finished_at)


def _sort_value(kind: str, sort: str, view: dict[str, Any]) -> Any:
    if sort == "auth_type":
        return view.get("type") or ""
    if sort == "triggerType":
        return view["trigger"]["type"]
    if sort == "updatedAt" and kind == "runs":
        return view.get("finishedAt") or view.get("startedAt") or view["createdAt"]
    value = view.get(sort)
    return (0, "") if value is None else (1, value)
