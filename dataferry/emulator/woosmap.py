"""Woosmap Datasets API, emulated: dataset CRUD, imports that move ``fetch`` → ``import`` over
time with log entries at each level, the import status, the reimport hook and feature queries.

Behaviour follows ../shared/specs/woosmap-datasets/datasets-only.extracted.openapi3.json and
../shared/seeds/woosmap-dataset-status.txt: the same paths (list and create with or without the
trailing slash), the spec's response shapes (every answer validates against it), its error
bodies (``{"detail": str}`` for 401/402/403, ``{"details": str}`` for 404/409/429, FastAPI's
``{"detail": [{loc, msg, type}]}`` for 422) and its rate limits per endpoint and key, answered
with 429 and a ``Retry-After`` header.

Keys (printed by ``dataferry emulate --vendor woosmap``):

* ``private_key`` — a private key with write permission, as query ``private_key=`` or header
  ``X-Api-Key``;
* ``read_only_key`` — a private key without write permission: feature queries only, 403 on
  every management endpoint;
* ``no_quota_key`` — a key whose project is out of free quota: 402 everywhere;
* ``public_key`` — a ``woos-`` public key (query ``key=``), feature queries only.

Emulator-only controls (never sent by dataferry itself): imports of a dataset whose URL
contains ``fail-fetch`` fail while fetching, those of one whose URL contains ``fail-import``
fail while importing, each with ``error`` entries. Tests reach the state directly:
``app.datasets``, ``app.throttled``, ``app.faults``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import EmulatorApp

PRIVATE_KEY = "emulator-woosmap-private-key-0001"
"""The private key with write permission the emulator accepts by default."""

READ_ONLY_KEY = "emulator-woosmap-read-only-key-0001"
"""A private key without write permission (feature queries only)."""

NO_QUOTA_KEY = "emulator-woosmap-no-quota-key-0001"
"""A key whose project is out of free quota (every call answers 402)."""

PUBLIC_KEY = "woos-emulator-public-key-0001"
"""A public key (query ``key=``), accepted by the feature queries only."""

RATE_LIMITS: dict[str, tuple[int, float]] = {
    "list": (1, 1.0),
    "create": (1, 1.0),
    "get": (1, 1.0),
    "update": (1, 1.0),
    "delete": (1, 1.0),
    "status": (1, 5.0),
    "import": (1, 90.0),
    "reimport": (1, 90.0),
    "features": (20, 1.0),
}
"""Requests allowed per window (seconds) for each endpoint group, per key, as in the spec's
``x-ratelimit-limit`` / ``x-ratelimit-window-seconds``."""

ENDPOINT_GROUP = {
    "list_datasets": "list",
    "create_dataset": "create",
    "get_dataset": "get",
    "update_dataset": "update",
    "delete_dataset": "delete",
    "dataset_status": "status",
    "trigger_import": "import",
    "reimport_hook": "reimport",
    "query_features": "features",
    "get_feature": "features",
}
"""Route handler → rate-limit group."""

FEATURE_ENDPOINTS = frozenset({"query_features", "get_feature"})
"""Endpoints that also take a read-only private key or a public key."""

DELETION_DELAY_DAYS = 7
"""Days after which a dataset scheduled for deletion is removed (spec: "in 7 days")."""

MAX_URL_LENGTH = 2083
"""Longest dataset URL the API accepts."""

PER_PAGE_MAX = 20
"""Largest ``per_page``."""

PER_PAGE_DEFAULT = 10
"""``per_page`` when none is given."""

FORMATS = ("geojson", "wkb")
"""Geometry formats of the feature endpoints."""

NAMESPACE = uuid.UUID("5b3f3c1e-8a59-4c7e-9a51-6f1d9c0e2b77")
"""Namespace of the emulator's deterministic ids."""

CENTRE = (3.8767, 43.6108)
"""Longitude, latitude around which generated features lie (Montpellier, as in the spec's examples)."""

CATEGORIES = ("bakery", "café", "pharmacy", "bookshop", "florist", "épicerie")
STREETS = ("Rue de la Loge", "Boulevard du Jeu de Paume", "Rue Foch", "Avenue de Toulouse", "Place de la Comédie")

MESSAGES = {
    401: "Unable to locate credentials.",
    402: "Out of free quota.",
    403: "Credentials found, but not matching.",
    404: "Dataset was not found",
    409: "The Dataset was already scheduled for deletion.",
    429: "Rate limit reached",
}
"""The spec's message for each error status."""

NO_RUN_MESSAGE = "No import run found for this dataset"
FEATURE_NOT_FOUND = "Feature or Dataset were not found"


@dataclass
class Step:
    """A planned step of an import run (absolute times, in ``EmulatorApp.now()`` seconds)."""

    name: str
    start: float
    end: float
    status: str
    entries: list[tuple[float, str, str]] = field(default_factory=list)  # (at, level, detail)


@dataclass
class Run:
    """An import run: its steps are planned when it is requested and revealed as time passes."""

    id: str
    visible_at: float
    steps: list[Step]
    features: int
    seed: int

    def view(self, now: float) -> dict[str, Any]:
        """The run as the status endpoint shows it at ``now``."""
        steps = []
        for step in self.steps:
            if step.start > now:
                break
            done = step.end <= now
            steps.append({
                "name": step.name,
                "start": iso(step.start),
                "end": iso(step.end) if done else None,
                "status": step.status if done else "in_progress",
                "entries": [{"created_at": iso(at), "detail": detail, "level": level}
                            for at, level, detail in step.entries if at <= now],
            })
        if any(s["status"] == "failed" for s in steps):
            status = "failed"
        elif self.steps[-1].end <= now:
            status = "success"
        else:
            status = "in_progress"
        return {"id": self.id, "status": status, "steps": steps}

    def imported(self, now: float) -> bool:
        """Whether the run finished successfully by ``now``."""
        last = self.steps[-1]
        return last.status == "success" and last.end <= now


@dataclass
class Dataset:
    """A dataset and its import runs."""

    id: str
    name: str
    url: str
    schema_mapping: list[dict[str, str]] | None
    reimport_key: str
    created_at: float
    updated_at: float | None = None
    deletion_date: str | None = None
    runs: list[Run] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        """``DatasetResponse``."""
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "reimport_key": self.reimport_key,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at) if self.updated_at is not None else None,
            "scheduled_for_deletion_after": self.deletion_date,
        }

    def summary(self) -> dict[str, Any]:
        """``DatasetSummaryResponse``."""
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at) if self.updated_at is not None else None,
            "scheduled_for_deletion_after": self.deletion_date,
        }

    def current_run(self, now: float) -> Run | None:
        """The latest run visible at ``now``."""
        visible = [r for r in self.runs if r.visible_at <= now]
        return visible[-1] if visible else None

    def live_run(self, now: float) -> Run | None:
        """The latest run whose data is in the dataset at ``now``."""
        done = [r for r in self.runs if r.imported(now)]
        return done[-1] if done else None


def iso(ts: float) -> str:
    """Epoch seconds → ``2024-06-07T09:30:36.715881Z`` (the spec's examples, with the UTC mark
    that RFC 3339 ``date-time`` requires)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _problem(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _missing(loc: list[Any]) -> dict[str, Any]:
    return _problem(loc, "Field required", "missing")


def _url_problems(value: Any, loc: list[Any]) -> list[dict[str, Any]]:
    if not isinstance(value, str):
        return [_problem(loc, "Input should be a valid string", "string_type")]
    if len(value) > MAX_URL_LENGTH:
        return [_problem(loc, f"URL should have at most {MAX_URL_LENGTH} characters", "url_too_long")]
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return [_problem(loc, "Input should be a valid URL, relative URL without a base", "url_parsing")]
    if parts.scheme not in ("http", "https"):
        return [_problem(loc, "URL scheme should be 'http' or 'https'", "url_scheme")]
    return []


def _uuid_problem(value: str, name: str) -> list[dict[str, Any]]:
    try:
        uuid.UUID(value)
    except ValueError:
        return [_problem(["path", name], "Input should be a valid UUID, invalid character or length", "uuid_parsing")]
    return []


class WoosmapEmulator(EmulatorApp):
    """The Woosmap Datasets API on 127.0.0.1.

    Args:
        private_key: the private key with write permission.
        read_only_key, no_quota_key, public_key: the other keys it knows (see the module
            docstring).
        queue_seconds: seconds between an import request and its run appearing in the status
            (until then the status shows the previous run, or 404 when there is none).
        fetch_seconds: seconds the ``fetch`` step takes.
        import_seconds: seconds the ``import`` step takes.
        features: features each successful import loads (default: 20–59, fixed per URL).
        existing_datasets: datasets that exist from the start, each with a finished import.
        rate_scale: factor applied to every rate-limit window (0.01 makes status 1 per 0.05 s);
            pair it with the client's ``rate_limits=`` of the same value.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``rate_limits=False`` switches
            the limits off, for fuzzing).

    Example:
        >>> from dataferry import emulator
        >>> with emulator.serve("woosmap", fetch_seconds=0.1) as emu:     # doctest: +SKIP
        ...     print(emu.credentials)
        {'private_key': 'emulator-woosmap-private-key-0001'}
    """

    vendor = "woosmap"
    public_endpoints = frozenset({"reimport_hook"})

    def __init__(self, *, private_key: str = PRIVATE_KEY, read_only_key: str = READ_ONLY_KEY,
                 no_quota_key: str = NO_QUOTA_KEY, public_key: str = PUBLIC_KEY, queue_seconds: float = 1.0,
                 fetch_seconds: float = 3.0, import_seconds: float = 5.0, features: int | None = None,
                 existing_datasets: int = 3, rate_scale: float = 1.0, **kw: Any) -> None:
        super().__init__(**kw)
        if rate_scale <= 0:
            raise ValueError(f"rate_scale must be > 0, got {rate_scale}")
        self.private_key = private_key
        self.read_only_key = read_only_key
        self.no_quota_key = no_quota_key
        self.public_key = public_key
        self.queue_seconds = float(queue_seconds)
        self.fetch_seconds = float(fetch_seconds)
        self.import_seconds = float(import_seconds)
        self.features = features
        self.rate_scale = float(rate_scale)
        self.datasets: dict[str, Dataset] = {}
        self.throttled: list[tuple[str, str]] = []
        for k in range(existing_datasets):
            self._preload(k)

    # -- identity -----------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, list[str], str]]:
        one = "/datasets/<dataset_id>"
        return [
            ("/datasets/", ["GET"], "list_datasets"),
            ("/datasets/", ["POST"], "create_dataset"),
            ("/datasets/hooks/reimport/<reimport_key>", ["POST"], "reimport_hook"),
            (one, ["GET"], "get_dataset"),
            (one, ["PUT"], "update_dataset"),
            (one, ["DELETE"], "delete_dataset"),
            (f"{one}/status", ["GET"], "dataset_status"),
            (f"{one}/import", ["POST"], "trigger_import"),
            (f"{one}/features/<any(search, nearby, intersects, contains, within):kind>/", ["POST"], "query_features"),
            (f"{one}/features/<feature_id>", ["GET"], "get_feature"),
        ]

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        """Check the key (401/402/403 as the spec says), then the endpoint's rate limit (429)."""
        key = request.headers.get("X-Api-Key") or request.args.get("private_key")
        public = request.args.get("key") if endpoint in FEATURE_ENDPOINTS else None
        if not key and not public:
            return self.error(401, MESSAGES[401])
        if key == self.no_quota_key:
            return self.error(402, MESSAGES[402])
        if key:
            allowed = {self.private_key, self.read_only_key} if endpoint in FEATURE_ENDPOINTS else {self.private_key}
            if key not in allowed:
                return self.error(403, MESSAGES[403])
        elif public != self.public_key:
            return self.error(403, MESSAGES[403])
        return self._throttle(ENDPOINT_GROUP[endpoint], key or public or "", request)

    def error(self, status: int, message: str, **extra: Any) -> Response:
        """The spec's error bodies: ``detail`` for 401/402/403, ``details`` otherwise."""
        key = "detail" if status in (401, 402, 403) else "details"
        return self.json({key: message, **extra}, status)

    def invalid(self, problems: list[dict[str, Any]]) -> Response:
        """A FastAPI-style 422 listing every problem."""
        return self.json({"detail": problems}, 422)

    def unreadable_body(self, problem: str) -> Response:
        """A body that is not Unicode text is FastAPI's JSON decode error (422), as a syntax error is."""
        return self.invalid([_problem(["body", 0], f"JSON decode error: {problem}", "json_invalid")])

    def credentials(self) -> dict[str, str]:
        return {"private_key": self.private_key}

    def describe(self) -> dict[str, Any]:
        return {
            "other keys": {
                "read_only_key": f"{self.read_only_key}  (feature queries only)",
                "no_quota_key": f"{self.no_quota_key}  (answers 402 Out of free quota)",
                "public_key": f"{self.public_key}  (query key=, feature queries only)",
            },
            "imports": f"queued {self.queue_seconds:g} s, fetch {self.fetch_seconds:g} s, import {self.import_seconds:g} s; "
                       "URLs containing 'fail-fetch' or 'fail-import' fail in that step",
            "rate limits": ("off" if not self.rate_limits else
                            ", ".join(f"{g} {n}/{w * self.rate_scale:g}s" for g, (n, w) in RATE_LIMITS.items())),
            "datasets": {d.id: d.name for d in self.datasets.values()},
        }

    # -- helpers ------------------------------------------------------------------------------
    def _throttle(self, group: str, who: str, request: Request) -> Response | None:
        limit, window = RATE_LIMITS[group]
        wait = self.limited((group, who), limit, window * self.rate_scale)
        if wait is None:
            return None
        with self.lock:
            self.throttled.append((group, request.path))
        response = self.error(429, MESSAGES[429])
        # whole seconds as HTTP says; to the millisecond (rounded up) when the windows are scaled down
        response.headers["Retry-After"] = str(math.ceil(wait)) if self.rate_scale >= 1 else f"{math.ceil(wait * 1000) / 1000:.3f}"
        return response

    def _dataset(self, dataset_id: str) -> Dataset | None:
        return self.datasets.get(dataset_id.lower())

    def _body(self, request: Request) -> tuple[Any, list[dict[str, Any]]]:
        raw = request.get_data()
        if not raw.strip():
            return None, [_missing(["body"])]
        try:
            value = json.loads(raw)
        except ValueError as exc:
            return None, [_problem(["body", getattr(exc, "pos", 0)], "JSON decode error", "json_invalid")]
        if not isinstance(value, dict):
            return None, [_problem(["body"], "Input should be a valid dictionary or object to extract fields from",
                                   "model_attributes_type")]
        return value, []

    @staticmethod
    def _paging(request: Request, *, with_format: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        q = request.args
        out: dict[str, Any] = {"page": 1, "per_page": PER_PAGE_DEFAULT, "format": "geojson"}
        problems = []
        for name, low, high in (("page", 1, None), ("per_page", 1, PER_PAGE_MAX)):
            if name not in q:
                continue
            try:
                value = int(q[name])
            except ValueError:
                problems.append(_problem(["query", name], "Input should be a valid integer, unable to parse string as an integer",
                                         "int_parsing"))
                continue
            if value < low:
                problems.append(_problem(["query", name], f"Input should be greater than or equal to {low}",
                                         "greater_than_equal"))
            elif high is not None and value > high:
                problems.append(_problem(["query", name], f"Input should be less than or equal to {high}",
                                         "less_than_equal"))
            else:
                out[name] = value
        if with_format and "format" in q:
            if q["format"] not in FORMATS:
                problems.append(_problem(["query", "format"], "Input should be 'geojson' or 'wkb'", "enum"))
            else:
                out["format"] = q["format"]
        return out, problems

    @staticmethod
    def _page(items: list[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        more = start + per_page < len(items)
        return chunk, {"page": page, "prev": page - 1 if page > 1 else None, "next": page + 1 if more else None}

    def _new_id(self, *parts: Any) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in (*parts, len(self.datasets), self.now()))))

    def _plan(self, dataset: Dataset, requested: float, *, fetch: float | None = None,
              load: float | None = None) -> Run:
        """Plan a run of ``dataset``'s import: its steps, entries and outcome."""
        fetch = self.fetch_seconds if fetch is None else fetch
        load = self.import_seconds if load is None else load
        url = dataset.url
        seed = _seed(url)
        count = self.features if self.features is not None else 20 + seed % 40
        start = requested + self.queue_seconds
        fetch_end = start + fetch
        if "fail-fetch" in url:
            steps = [Step("fetch", start, fetch_end, "failed", [
                (start, "info", f"Fetching {url}..."),
                (start + 0.5 * fetch, "error", f"Unable to fetch {url}: the server answered 404 Not Found."),
                (fetch_end, "error", "Fetch failed; the dataset was left unchanged."),
            ])]
        else:
            fetched = Step("fetch", start, fetch_end, "success", [
                (start, "info", f"Fetching {url}..."),
                (start + 0.6 * fetch, "info", "Loading dataset..."),
                (fetch_end, "info", "Dataset loaded"),
            ])
            i0 = fetch_end + min(0.001, fetch / 100)
            i1 = i0 + load
            entries = [(i0, "info", f"Will import {count} features.")]
            title = next((m["data_key"] for m in dataset.schema_mapping or [] if m.get("schema_key") == "title"), None)
            if title is None:
                entries.append((i0 + 0.3 * load, "warning", "No schema mapping for 'title': features will have no title."))
            elif title != "name":
                entries.append((i0 + 0.3 * load, "warning",
                                f"Property '{title}' not found in {count} features; their title is empty."))
            if "fail-import" in url:
                bad = sorted({seed % count + 1, (seed // 7) % count + 1, (seed // 13) % count + 1})
                for n, feature in enumerate(bad):
                    entries.append((i0 + (0.4 + 0.1 * n) * load, "error",
                                    f"Feature {feature}: invalid geometry, latitude {91 + n * 1.5:.1f} is out of range."))
                entries.append((i1, "error", f"Import failed: {len(bad)} invalid features; the previous data was kept."))
                imported = Step("import", i0, i1, "failed", entries)
            else:
                entries.append((i1, "info", f"Successfully imported {count} features."))
                imported = Step("import", i0, i1, "success", entries)
            steps = [fetched, imported]
        run_id = str(uuid.uuid5(NAMESPACE, f"run/{dataset.id}/{len(dataset.runs)}/{requested}"))
        return Run(run_id, start, steps, count, seed)

    def _preload(self, k: int) -> None:
        names = ("Stores — France", "Parking lots", "Delivery zones", "Charging stations", "Pharmacies")
        created = self.now() - 86400 * (k + 2)
        did = str(uuid.uuid5(NAMESPACE, f"preloaded/{k}"))
        dataset = Dataset(did, names[k % len(names)] + ("" if k < len(names) else f" {k}"),
                          f"https://data.example.com/woosmap/{did[:8]}.geojson",
                          [{"schema_key": "title", "data_key": "name"}], str(uuid.uuid5(NAMESPACE, f"reimport/{k}")),
                          created, updated_at=created + 3600)
        dataset.runs.append(self._plan(dataset, created + 60, fetch=11.6, load=30.5))
        self.datasets[did] = dataset

    def _features(self, dataset: Dataset, run: Run) -> list[dict[str, Any]]:
        rng = random.Random(run.seed)
        out = []
        for i in range(run.features):
            category = CATEGORIES[rng.randrange(len(CATEGORIES))]
            lng = round(CENTRE[0] + rng.uniform(-0.05, 0.05), 6)
            lat = round(CENTRE[1] + rng.uniform(-0.035, 0.035), 6)
            out.append({
                "id": str(uuid.uuid5(NAMESPACE, f"feature/{dataset.id}/{i}")),
                "geometry": {"type": "Point", "coordinates": [lng, lat]},
                "attributes": {
                    "name": f"{category.capitalize()} {STREETS[i % len(STREETS)]} #{i + 1}",
                    "category": category,
                    "cost": round(rng.uniform(5, 80), 2),
                    "opening_year": rng.randint(1990, 2025),
                    "accessible": rng.random() < 0.7,
                    "city": "Montpellier",
                },
            })
        return out

    # -- datasets -----------------------------------------------------------------------------
    def list_datasets(self, request: Request) -> Response:
        paging, problems = self._paging(request)
        if problems:
            return self.invalid(problems)
        with self.lock:
            rows = [d.summary() for d in sorted(self.datasets.values(), key=lambda d: d.created_at)]
        chunk, pagination = self._page(rows, paging["page"], paging["per_page"])
        return self.json({"datasets": chunk, "pagination": pagination})

    def create_dataset(self, request: Request) -> Response:
        body, problems = self._body(request)
        if body is not None:
            problems = self._create_problems(body)
        if problems:
            return self.invalid(problems)
        now = self.now()
        with self.lock:
            did = self._new_id("dataset", body["name"], body["url"])
            dataset = Dataset(did, body["name"], body["url"].strip(), body.get("schema_mapping"),
                              str(uuid.uuid5(NAMESPACE, f"reimport/{did}")), now)
            self.datasets[did] = dataset
        return self.json(dataset.response())

    @staticmethod
    def _create_problems(body: dict[str, Any]) -> list[dict[str, Any]]:
        problems = []
        if "name" not in body:
            problems.append(_missing(["body", "name"]))
        elif not isinstance(body["name"], str):
            problems.append(_problem(["body", "name"], "Input should be a valid string", "string_type"))
        if "url" not in body:
            problems.append(_missing(["body", "url"]))
        else:
            problems += _url_problems(body["url"], ["body", "url"])
        mapping = body.get("schema_mapping")
        if mapping is not None:
            if not isinstance(mapping, list):
                problems.append(_problem(["body", "schema_mapping"], "Input should be a valid list", "list_type"))
            else:
                for n, item in enumerate(mapping):
                    loc = ["body", "schema_mapping", n]
                    if not isinstance(item, dict):
                        problems.append(_problem(loc, "Input should be a valid dictionary or object to extract fields from",
                                                 "model_attributes_type"))
                        continue
                    if "schema_key" not in item:
                        problems.append(_missing([*loc, "schema_key"]))
                    elif item["schema_key"] != "title":
                        problems.append(_problem([*loc, "schema_key"], "Input should be 'title'", "enum"))
                    if "data_key" not in item:
                        problems.append(_missing([*loc, "data_key"]))
                    elif not isinstance(item["data_key"], str):
                        problems.append(_problem([*loc, "data_key"], "Input should be a valid string", "string_type"))
        return problems

    def _existing(self, dataset_id: str) -> tuple[Any, Response | None]:
        """The dataset for a path id, or the 422 (not a UUID) / 404 answer."""
        problems = _uuid_problem(dataset_id, "dataset_id")
        if problems:
            return None, self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return None, self.error(404, MESSAGES[404])
        return dataset, None

    def get_dataset(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        return self.json(dataset.response())

    def update_dataset(self, request: Request, dataset_id: str) -> Response:
        problems = _uuid_problem(dataset_id, "dataset_id")
        body, body_problems = self._body(request)
        problems += body_problems
        if body is not None:
            if body.get("name") is not None and not isinstance(body["name"], str):
                problems.append(_problem(["body", "name"], "Input should be a valid string", "string_type"))
            if body.get("url") is not None:
                problems += _url_problems(body["url"], ["body", "url"])
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        with self.lock:
            changed = False
            for name in ("name", "url"):
                value = body.get(name)
                if value is not None and value != getattr(dataset, name):
                    setattr(dataset, name, value.strip() if name == "url" else value)
                    changed = True
            if changed:
                dataset.updated_at = self.now()
        return self.json(dataset.response())

    def delete_dataset(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        with self.lock:
            if dataset.deletion_date is not None:
                return self.error(409, MESSAGES[409])
            when = datetime.fromtimestamp(self.now(), tz=timezone.utc) + timedelta(days=DELETION_DELAY_DAYS)
            dataset.deletion_date = when.date().isoformat()
        return self.json({})

    # -- imports -------------------------------------------------------------------------------
    def dataset_status(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        now = self.now()
        run = dataset.current_run(now)
        if run is None:
            return self.error(404, NO_RUN_MESSAGE)
        return self.json(run.view(now))

    def trigger_import(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        return self._start_import(dataset)

    def reimport_hook(self, request: Request, reimport_key: str) -> Response:
        refused = self._throttle("reimport", reimport_key, request)
        if refused is not None:
            return refused
        problems = _uuid_problem(reimport_key, "reimport_key")
        if problems:
            return self.invalid(problems)
        dataset = next((d for d in self.datasets.values() if d.reimport_key == reimport_key.lower()), None)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        return self._start_import(dataset)

    def _start_import(self, dataset: Dataset) -> Response:
        with self.lock:
            dataset.runs.append(self._plan(dataset, self.now()))
        return self.json({"dataset_id": dataset.id}, 202)

    # -- features -------------------------------------------------------------------------------
    def query_features(self, request: Request, dataset_id: str, kind: str) -> Response:
        problems = _uuid_problem(dataset_id, "dataset_id")
        paging, paging_problems = self._paging(request, with_format=True)
        problems += paging_problems
        body, body_problems = self._body(request)
        problems += body_problems
        geometry = where = None
        buffer = None
        if body is not None:
            where_text = body.get("where")
            if kind == "search" and "where" not in body:
                problems.append(_missing(["body", "where"]))
            elif "where" in body:  # a string, not nullable in the spec: an explicit null is refused
                if not isinstance(where_text, str):
                    problems.append(_problem(["body", "where"], "Input should be a valid string", "string_type"))
                else:
                    try:
                        where = parse_where(where_text)
                    except ValueError as exc:
                        problems.append(_problem(["body", "where"], str(exc), "value_error"))
            if kind != "search":
                if "geometry" not in body:
                    problems.append(_missing(["body", "geometry"]))
                else:
                    try:
                        geometry = parse_geometry(body["geometry"], polygon_only=kind == "within")
                    except ValueError as exc:
                        problems.append(_problem(["body", "geometry"], str(exc), "value_error"))
                raw_buffer = body.get("buffer")
                if raw_buffer is not None:
                    if isinstance(raw_buffer, bool) or not isinstance(raw_buffer, (int, float)):
                        problems.append(_problem(["body", "buffer"], "Input should be a valid number", "float_type"))
                    else:
                        buffer = float(raw_buffer)
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        run = dataset.live_run(self.now())
        features = self._features(dataset, run) if run is not None else []
        if where is not None:
            features = [f for f in features if where(f["attributes"])]
        if geometry is not None:
            features = select(features, kind, geometry, buffer)
        chunk, pagination = self._page(features, paging["page"], paging["per_page"])
        return self.json({"features": [self._shaped(f, paging["format"]) for f in chunk], "pagination": pagination})

    def get_feature(self, request: Request, dataset_id: str, feature_id: str) -> Response:
        problems = _uuid_problem(dataset_id, "dataset_id") + _uuid_problem(feature_id, "feature_id")
        paging, paging_problems = self._paging(request, with_format=True)
        problems += paging_problems
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        run = dataset.live_run(self.now()) if dataset is not None else None
        found = None
        if dataset is not None and run is not None:
            found = next((f for f in self._features(dataset, run) if f["id"] == feature_id.lower()), None)
        if found is None:
            return self.error(404, FEATURE_NOT_FOUND)
        mask = request.headers.get("X-Field-Mask")
        if mask:
            keep = {m.strip().removeprefix("attributes.") for m in mask.split(",") if m.strip()}
            found = {**found, "attributes": {k: v for k, v in found["attributes"].items() if k in keep}}
        return self.json(self._shaped(found, paging["format"]))

    @staticmethod
    def _shaped(feature: dict[str, Any], fmt: str) -> dict[str, Any]:
        if fmt == "wkb":
            lng, lat = feature["geometry"]["coordinates"]
            wkb = struct.pack("<BIdd", 1, 1, lng, lat)
            return {**feature, "geometry": base64.b64encode(wkb).decode()}
        return feature


# -- the feature query language (a subset of Woosmap's) ------------------------------------------
_CLAUSE = re.compile(r'^\s*(\w+)\s*:\s*(>=|<=|>|<|=)?\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def parse_where(text: str) -> Any:
    """``cost:>32.3 AND category:"bakery" OR accessible:true`` → a predicate on attributes.

    Clauses are ``field:value`` (equality) or ``field:<op>number`` with ``>``, ``<``, ``>=``,
    ``<=``; ``AND`` binds tighter than ``OR``. Raises ``ValueError`` on anything else.
    """
    if not text.strip():
        raise ValueError("the where clause is empty")
    alternatives = []
    for part in re.split(r"\s+OR\s+", text.strip()):
        clauses = []
        for clause in re.split(r"\s+AND\s+", part):
            m = _CLAUSE.match(clause)
            if not m:
                raise ValueError(f"cannot parse the where clause near {clause.strip()!r}")
            name, op, raw = m.group(1), m.group(2) or "=", m.group(3)
            value: Any
            if raw.startswith('"'):
                value = json.loads(raw)
            elif raw in ("true", "false"):
                value = raw == "true"
            else:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
            if op != "=" and not isinstance(value, float):
                raise ValueError(f"{op} needs a number in {clause.strip()!r}")
            clauses.append((name, op, value))
        alternatives.append(clauses)

    def matches(attributes: dict[str, Any]) -> bool:
        return any(all(_compare(attributes.get(n), op, v) for n, op, v in clauses) for clauses in alternatives)

    return matches


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    if op == "=":
        if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
            return float(actual) == expected
        return actual == expected or str(actual) == str(expected)
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    return {">": actual > expected, "<": actual < expected, ">=": actual >= expected, "<=": actual <= expected}[op]


Geometry = tuple[str, Any]


def parse_geometry(value: Any, *, polygon_only: bool = False) -> Geometry:
    """A GeoJSON Point/LineString/Polygon, a WKT POINT/LINESTRING/POLYGON or a bare ``lat,lng``.

    Returns ``("point", (lng, lat))``, ``("line", [(lng, lat), ...])`` or
    ``("polygon", [ring, ...])``; raises ``ValueError`` on anything else.
    """
    kind, coords = _geometry(value)
    if polygon_only and kind != "polygon":
        raise ValueError("geometry must be a Polygon")
    return kind, coords


def _geometry(value: Any) -> Geometry:
    if isinstance(value, dict):
        kind = str(value.get("type", "")).lower()
        coords = value.get("coordinates")
        try:
            if kind == "point":
                return "point", _pair(coords)
            if kind == "linestring":
                line = [_pair(p) for p in coords]
                if len(line) < 2:  # GeoJSON: a LineString has two positions or more
                    raise ValueError
                return "line", line
            if kind == "polygon":
                rings = [[_pair(p) for p in ring] for ring in coords]
                if not rings or any(len(r) < 4 for r in rings):
                    raise ValueError
                return "polygon", rings
        except (TypeError, ValueError):
            raise ValueError(f"invalid {value.get('type')} coordinates") from None
        raise ValueError("geometry type must be Point, LineString or Polygon")
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)", text)
        if m:
            return "point", (float(m.group(2)), float(m.group(1)))
        m = re.fullmatch(r"(POINT|LINESTRING|POLYGON)\s*\((.*)\)", text, re.IGNORECASE | re.DOTALL)
        if m:
            kind = m.group(1).upper()
            try:
                if kind == "POLYGON":
                    rings = [[_wkt_pair(p) for p in ring.split(",")] for ring in re.findall(r"\(([^()]*)\)", m.group(2))]
                    if not rings or any(len(r) < 4 for r in rings):
                        raise ValueError
                    return "polygon", rings
                points = [_wkt_pair(p) for p in m.group(2).split(",")]
                if kind == "LINESTRING" and len(points) < 2:
                    raise ValueError
                return ("point", points[0]) if kind == "POINT" else ("line", points)
            except (ValueError, IndexError):
                raise ValueError(f"invalid WKT {kind}") from None
        raise ValueError("unable to parse the geometry (GeoJSON, WKT or 'lat,lng')")
    raise ValueError("geometry must be a GeoJSON object or a string")


def _pair(value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise ValueError  # GeoJSON positions are numbers (float() would take False and "3.5")
    lng, lat = (float(v) for v in value)
    return lng, lat


def _wkt_pair(text: str) -> tuple[float, float]:
    lng, lat = text.split()
    return float(lng), float(lat)


def _meters(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres between two lng/lat points (equirectangular; fine at city scale)."""
    mean = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111_320.0 * math.cos(mean)
    dy = (b[1] - a[1]) * 110_540.0
    return math.hypot(dx, dy)


def _to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    scale = math.cos(math.radians(p[1]))
    ax, ay, bx, by, px, py = a[0] * scale, a[1], b[0] * scale, b[1], p[0] * scale, p[1]
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    closest = ((ax + t * dx) / scale, ay + t * dy)
    return _meters(p, closest)


def _inside(p: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > p[1]) != (y2 > p[1]) and p[0] < (x2 - x1) * (p[1] - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _distance(p: tuple[float, float], geometry: Geometry) -> float:
    kind, coords = geometry
    if kind == "point":
        return _meters(p, coords)
    if kind == "line":
        return min(_to_segment(p, a, b) for a, b in zip(coords, coords[1:])) if len(coords) > 1 else _meters(p, coords[0])
    outer, holes = coords[0], coords[1:]
    if _inside(p, outer) and not any(_inside(p, h) for h in holes):
        return 0.0
    return min(_to_segment(p, a, b) for ring in coords for a, b in zip(ring, ring[1:]))


def select(features: list[dict[str, Any]], kind: str, geometry: Geometry, buffer: float | None) -> list[dict[str, Any]]:
    """The point features a ``nearby`` / ``intersects`` / ``within`` / ``contains`` query keeps."""
    reach = buffer or 0.0
    scored = [(_distance(tuple(f["geometry"]["coordinates"]), geometry), f) for f in features]
    if kind == "nearby":
        kept = [(d, f) for d, f in scored if buffer is None or d <= reach]
        return [f for _, f in sorted(kept, key=lambda x: x[0])]
    if kind == "contains":
        # a point feature contains only the very same point
        return [f for d, f in scored if geometry[0] == "point" and not buffer and d < 0.01]
    return [f for d, f in scored if d <= reach]
