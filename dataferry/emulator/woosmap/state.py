"""What the Woosmap emulator holds: datasets and their import runs (planned when asked for,
revealed as time passes), the rate windows, and the two error bodies every handler answers with
(``{"detail": str}`` / ``{"details": str}``, and FastAPI's 422)."""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.woosmap import validation
from dataferry.emulator.woosmap.data import NAMESPACE, PRELOADED_NAMES

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
            steps.append(
                {
                    "name": step.name,
                    "start": iso(step.start),
                    "end": iso(step.end) if done else None,
                    "status": step.status if done else "in_progress",
                    "entries": [
                        {"created_at": iso(at), "detail": detail, "level": level}
                        for at, level, detail in step.entries
                        if at <= now
                    ],
                }
            )
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
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _seed(text: str) -> int:
    """A data seed drawn from a URL (the same URL, the same features)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


class WoosmapState(EmulatorApp):
    """The state every Woosmap handler shares (see :class:`~dataferry.emulator.woosmap.WoosmapEmulator`,
    which sets the settings).

    Attributes:
        datasets: dataset id → :class:`Dataset`.
        throttled: ``(rate group, path)`` of every request answered 429.
    """

    vendor = "woosmap"

    # settings (see WoosmapEmulator)
    queue_seconds: float
    fetch_seconds: float
    import_seconds: float
    features: int | None
    rate_scale: float

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.datasets: dict[str, Dataset] = {}
        self.throttled: list[tuple[str, str]] = []

    # -- answers ------------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> Response:
        """The spec's error bodies: ``detail`` for 401/402/403, ``details`` otherwise."""
        key = "detail" if status in (401, 402, 403) else "details"
        return self.json({key: message, **extra}, status)

    def invalid(self, problems: validation.Problems) -> Response:
        """A FastAPI-style 422 listing every problem."""
        return self.json({"detail": problems}, 422)

    def unreadable_body(self, problem: str) -> Response:
        """A body that is not Unicode text is FastAPI's JSON decode error (422), as a syntax error is."""
        return self.invalid([validation.problem(["body", 0], f"JSON decode error: {problem}", "json_invalid")])

    def throttle(self, group: str, who: str, request: Request) -> Response | None:
        limit, window = RATE_LIMITS[group]
        wait = self.limited((group, who), limit, window * self.rate_scale)
        if wait is None:
            return None
        with self.lock:
            self.throttled.append((group, request.path))
        response = self.error(429, MESSAGES[429])
        # whole seconds as HTTP says; to the millisecond (rounded up) when the windows are scaled down
        response.headers["Retry-After"] = (
            str(math.ceil(wait)) if self.rate_scale >= 1 else f"{math.ceil(wait * 1000) / 1000:.3f}"
        )
        return response

    def _dataset(self, dataset_id: str) -> Dataset | None:
        return self.datasets.get(dataset_id.lower())

    def _new_id(self, *parts: Any) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in (*parts, len(self.datasets), self.now()))))

    def _plan(
        self, dataset: Dataset, requested: float, *, fetch: float | None = None, load: float | None = None
    ) -> Run:
        """Plan a run of ``dataset``'s import: its steps, entries and outcome."""
        fetch = self.fetch_seconds if fetch is None else fetch
        load = self.import_seconds if load is None else load
        url = dataset.url
        seed = _seed(url)
        count = self.features if self.features is not None else 20 + seed % 40
        start = requested + self.queue_seconds
        fetch_end = start + fetch
        if "fail-fetch" in url:
            steps = [
                Step(
                    "fetch",
                    start,
                    fetch_end,
                    "failed",
                    [
                        (start, "info", f"Fetching {url}..."),
                        (start + 0.5 * fetch, "error", f"Unable to fetch {url}: the server answered 404 Not Found."),
                        (fetch_end, "error", "Fetch failed; the dataset was left unchanged."),
                    ],
                )
            ]
        else:
            fetched = Step(
                "fetch",
                start,
                fetch_end,
                "success",
                [
                    (start, "info", f"Fetching {url}..."),
                    (start + 0.6 * fetch, "info", "Loading dataset..."),
                    (fetch_end, "info", "Dataset loaded"),
                ],
            )
            i0 = fetch_end + min(0.001, fetch / 100)
            i1 = i0 + load
            entries = [(i0, "info", f"Will import {count} features.")]
            title = next((m["data_key"] for m in dataset.schema_mapping or [] if m.get("schema_key") == "title"), None)
            if title is None:
                entries.append(
                    (i0 + 0.3 * load, "warning", "No schema mapping for 'title': features will have no title.")
                )
            elif title != "name":
                entries.append(
                    (
                        i0 + 0.3 * load,
                        "warning",
                        f"Property '{title}' not found in {count} features; their title is empty.",
                    )
                )
            if "fail-import" in url:
                bad = sorted({seed % count + 1, (seed // 7) % count + 1, (seed // 13) % count + 1})
                for n, feature in enumerate(bad):
                    entries.append(
                        (
                            i0 + (0.4 + 0.1 * n) * load,
                            "error",
                            f"Feature {feature}: invalid geometry, latitude {91 + n * 1.5:.1f} is out of range.",
                        )
                    )
                entries.append(
                    (i1, "error", f"Import failed: {len(bad)} invalid features; the previous data was kept.")
                )
                imported = Step("import", i0, i1, "failed", entries)
            else:
                entries.append((i1, "info", f"Successfully imported {count} features."))
                imported = Step("import", i0, i1, "success", entries)
            steps = [fetched, imported]
        run_id = str(uuid.uuid5(NAMESPACE, f"run/{dataset.id}/{len(dataset.runs)}/{requested}"))
        return Run(run_id, start, steps, count, seed)

    def preload(self, k: int) -> None:
        """Add the ``k``-th dataset that exists from the start, with a finished import."""
        created = self.now() - 86400 * (k + 2)
        did = str(uuid.uuid5(NAMESPACE, f"preloaded/{k}"))
        names = PRELOADED_NAMES
        dataset = Dataset(
            did,
            names[k % len(names)] + ("" if k < len(names) else f" {k}"),
            f"https://data.example.com/woosmap/{did[:8]}.geojson",
            [{"schema_key": "title", "data_key": "name"}],
            str(uuid.uuid5(NAMESPACE, f"reimport/{k}")),
            created,
            updated_at=created + 3600,
        )
        dataset.runs.append(self._plan(dataset, created + 60, fetch=11.6, load=30.5))
        self.datasets[did] = dataset
