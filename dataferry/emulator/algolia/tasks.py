"""What Algolia tasks do besides CRUD, and what they leave to observe: run (skipped when the
task is disabled or busy), enable / disable, and the run and event lists with their date windows."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from dataferry.emulator.algolia import query, rules
from dataferry.emulator.algolia.runs import new_uuid, plan_run, skipped_run
from dataferry.emulator.algolia.state import AlgoliaState, locked

RUNS_WINDOW = 7 * 86400.0
"""Default window of the run list: the last 7 days."""

EVENTS_WINDOW = 3 * 3600.0
"""Default window of the event list: the last 3 hours."""


class TaskHandlers(AlgoliaState):
    """``/1/tasks/{id}/run``, ``/enable``, ``/disable``, and ``/1/runs``."""

    # -- tasks ----------------------------------------------------------------------------------
    @locked
    def run_task(self, request: Request, rid: str) -> Response:
        task = self.store["tasks"].get(rid)
        if task is None:
            return self.missing("tasks", rid)
        now = self.now()
        run_id = new_uuid(self.rng)
        busy = any(r.task_id == rid and r.status(now) in ("created", "started") for r in self.runs.values())
        if not task["enabled"]:
            run = skipped_run(
                run_id=run_id,
                app_id=self.app_id,
                created=now,
                task=task,
                reason="the task is disabled",
                reason_code="blocking",
            )
        elif busy:
            run = skipped_run(
                run_id=run_id,
                app_id=self.app_id,
                created=now,
                task=task,
                reason="a run of this task is already in progress",
                reason_code="blocking",
            )
        else:
            run = plan_run(
                self.rng,
                run_id=run_id,
                app_id=self.app_id,
                created=now,
                task=task,
                source=self.store["sources"][task["sourceID"]],
                timing=self.timing,
            )
        self.runs[run_id] = run
        task["_lastRun"] = now
        return self.json({"runID": run_id, "createdAt": rules.iso(now)})

    @locked
    def set_task_enabled(self, request: Request, rid: str, enabled: bool) -> Response:
        """``PUT /1/tasks/{id}/enable`` and ``/disable`` (the route says which)."""
        task = self.store["tasks"].get(rid)
        if task is None:
            return self.missing("tasks", rid)
        task["enabled"] = enabled
        if enabled:
            task["_criticals"] = 0
        task["updatedAt"] = rules.iso(self.now())
        return self.json({"taskID": rid, "updatedAt": task["updatedAt"]})

    # -- observability -----------------------------------------------------------------------
    @locked
    def list_runs(self, request: Request) -> Response:
        statuses, problem = query.multi(request, "status", rules.RUN_STATUSES)
        if problem:
            return self.error(400, problem)
        now = self.now()
        window, problem = query.window(request, now, RUNS_WINDOW)
        if problem:
            return self.error(400, problem)
        task_id = request.args.get("taskID")
        start, end = window
        items = [
            r.view(now)
            for r in self.runs.values()
            if start <= r.created <= end
            and (task_id is None or r.task_id == task_id)
            and (statuses is None or r.status(now) in statuses)
        ]
        return self.answer(*query.page(request, "runs", items, window=window))

    @locked
    def get_run(self, request: Request, rid: str) -> Response:
        run = self.runs.get(rid)
        if run is None:
            return self.error(404, f"run '{rid}' not found")
        return self.json(run.view(self.now()))

    @locked
    def list_events(self, request: Request, rid: str) -> Response:
        run = self.runs.get(rid)
        if run is None:
            return self.error(404, f"run '{rid}' not found")
        statuses, p1 = query.multi(request, "status", rules.EVENT_STATUSES)
        types, p2 = query.multi(request, "type", rules.EVENT_TYPES)
        now = self.now()
        window, p3 = query.window(request, now, EVENTS_WINDOW)
        if p1 or p2 or p3:
            return self.error(400, p1 or p2 or p3 or "")
        start, end = window
        items = [
            run.event_view(e)
            for e in run.published(now)
            if start <= run.created + e.offset <= end
            and (statuses is None or e.status in statuses)
            and (types is None or e.type in types)
        ]
        return self.answer(*query.page(request, "events", items, window=window))

    @locked
    def get_event(self, request: Request, rid: str, eid: str) -> Response:
        run = self.runs.get(rid)
        if run is None:
            return self.error(404, f"run '{rid}' not found")
        found = next((e for e in run.published(self.now()) if e.event_id == eid), None)
        if found is None:
            return self.error(404, f"event '{eid}' not found in run '{rid}'")
        return self.json(run.event_view(found))
