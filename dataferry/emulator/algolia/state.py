"""What the Algolia emulator holds: the four resource stores, the runs and the stream listings,
the lock every handler takes, and what time passing does to a task (the critical streak)."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from dataferry.emulator.algolia import rules
from dataferry.emulator.algolia.resources import RESOURCES
from dataferry.emulator.algolia.runs import EmulatedRun, Timing
from dataferry.emulator.app import EmulatorApp

CRITICAL_STREAK = 5
"""Consecutive critical runs after which a task is disabled."""


def locked(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Run a handler under the emulator's lock (its state is shared by the server threads)."""

    @functools.wraps(handler)
    def wrapper(self: AlgoliaState, *args: Any, **kw: Any) -> Response:
        with self.lock:
            self.settle(self.now())
            return handler(self, *args, **kw)

    return wrapper


class AlgoliaState(EmulatorApp):
    """The state every Algolia handler shares (see :class:`~dataferry.emulator.algolia.AlgoliaEmulator`).

    Attributes:
        store: collection → id → resource (secrets included; views leave them out).
        runs: run id → :class:`~dataferry.emulator.algolia.runs.EmulatedRun`.
        streams: source id → its stream listing (Docker sources after a discover).
        timing: how runs unfold.
        rng: draws the ids (seeded, so ids repeat from one run of the emulator to the next).
    """

    vendor = "algolia"

    def __init__(self, *, app_id: str, timing: Timing, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.app_id = app_id
        self.timing = timing
        self.store: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in RESOURCES}
        self.runs: dict[str, EmulatedRun] = {}
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self.rng = random.Random(seed)

    def missing(self, kind: str, rid: str) -> Response:
        """The 404 of a resource that does not exist."""
        return self.error(404, f"{RESOURCES[kind].noun} '{rid}' not found")

    def answer(self, body: Any, problem: str | None) -> Response:
        """``body`` as JSON, or the 400 of ``problem``."""
        return self.error(400, problem) if problem else self.json(body)

    def view(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """A resource as the API shows it (no secrets, no internal fields)."""
        return RESOURCES[kind].view(record, self.now())

    def settle(self, now: float) -> None:
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
