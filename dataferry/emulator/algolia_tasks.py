"""Tasks and observability of the Algolia emulator: task CRUD, runs (skipped when the task
is disabled or busy), enable / disable, and the run and event lists with their date windows."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator import algolia_rules as rules
from dataferry.emulator.algolia_base import AlgoliaBase, locked
from dataferry.emulator.algolia_cron import next_run
from dataferry.emulator.algolia_runs import new_uuid, plan_run, skipped_run

RUNS_WINDOW = 7 * 86400.0
"""Default window of the run list: the last 7 days."""

EVENTS_WINDOW = 3 * 3600.0
"""Default window of the event list: the last 3 hours."""


class TaskHandlers(AlgoliaBase):
    """``/1/tasks`` and ``/1/runs``."""

    # -- tasks ----------------------------------------------------------------------------------
    @locked
    def list_tasks(self, request: Request) -> Response:
        actions, p1 = self._multi(request, "action", rules.ACTIONS)
        sources, p2 = self._multi(request, "sourceID", None)
        destinations, p3 = self._multi(request, "destinationID", None)
        triggers, p4 = self._multi(request, "triggerType", rules.TRIGGER_TYPES)
        enabled = request.args.get("enabled")
        p5 = None if enabled in (None, "true", "false") else "enabled must be boolean"
        problem = p1 or p2 or p3 or p4 or p5
        if problem:
            return self.error(400, problem)
        items = [t for t in self.store["tasks"].values()
                 if (actions is None or t["action"] in actions)
                 and (sources is None or t["sourceID"] in sources)
                 and (destinations is None or t["destinationID"] in destinations)
                 and (triggers is None or t["trigger"]["type"] in triggers)
                 and (enabled is None or t["enabled"] == (enabled == "true"))]
        return self._listing(request, "tasks", items)

    @locked
    def create_tasks(self, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("sourceID", "destinationID", "trigger", "action", "enabled",
                                                "failureThreshold", "input", "cursor")),
            lambda: rules.required_fields(body, ("sourceID", "destinationID", "trigger", "action")),
            lambda: self._reference_problem(body, "sourceID", "sources"),
            lambda: self._reference_problem(body, "destinationID", "destinations"),
            lambda: rules.trigger_problem(body["trigger"]),
            lambda: self._cron_supported(body["trigger"].get("cron")),
            lambda: None if body["action"] in rules.ACTIONS else
            f"action must be equal to one of the allowed values: {', '.join(rules.ACTIONS)}",
            lambda: self._task_fields_problem(body),
        )
        if problem:
            return self.error(400, problem)
        now = self.now()
        record = {"taskID": new_uuid(self._rng), "enabled": True, **body, "trigger": dict(body["trigger"]),
                  "createdAt": rules.iso(now), "updatedAt": rules.iso(now), "_criticals": 0}
        self.store["tasks"][record["taskID"]] = record
        return self.json({"taskID": record["taskID"], "createdAt": record["createdAt"]})

    @locked
    def update_tasks(self, request: Request, rid: str) -> Response:
        record = self.store["tasks"].get(rid)
        if record is None:
            return self._missing("tasks", rid)
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("destinationID", "trigger", "input", "enabled", "failureThreshold")),
            lambda: self._reference_problem(body, "destinationID", "destinations"),
            lambda: self._trigger_update_problem(record, body.get("trigger")),
            lambda: self._task_fields_problem(body),
        )
        if problem:
            return self.error(400, problem)
        changes = {k: v for k, v in body.items() if k != "trigger"}
        if "trigger" in body:
            record["trigger"]["cron"] = body["trigger"]["cron"]
        record.update(changes, updatedAt=rules.iso(self.now()))
        return self.json({"taskID": rid, "updatedAt": record["updatedAt"]})

    @locked
    def enable_task(self, request: Request, rid: str) -> Response:
        return self._set_enabled(rid, True)

    @locked
    def disable_task(self, request: Request, rid: str) -> Response:
        return self._set_enabled(rid, False)

    @locked
    def run_task(self, request: Request, rid: str) -> Response:
        task = self.store["tasks"].get(rid)
        if task is None:
            return self._missing("tasks", rid)
        now = self.now()
        run_id = new_uuid(self._rng)
        busy = any(r.task_id == rid and r.status(now) in ("created", "started") for r in self.runs.values())
        if not task["enabled"]:
            run = skipped_run(run_id=run_id, app_id=self.app_id, created=now, task=task,
                              reason="the task is disabled", reason_code="blocking")
        elif busy:
            run = skipped_run(run_id=run_id, app_id=self.app_id, created=now, task=task,
                              reason="a run of this task is already in progress", reason_code="blocking")
        else:
            run = plan_run(self._rng, run_id=run_id, app_id=self.app_id, created=now, task=task,
                           source=self.store["sources"][task["sourceID"]], timing=self.timing)
        self.runs[run_id] = run
        task["_lastRun"] = now
        return self.json({"runID": run_id, "createdAt": rules.iso(now)})

    def _set_enabled(self, rid: str, enabled: bool) -> Response:
        task = self.store["tasks"].get(rid)
        if task is None:
            return self._missing("tasks", rid)
        task["enabled"] = enabled
        if enabled:
            task["_criticals"] = 0
        task["updatedAt"] = rules.iso(self.now())
        return self.json({"taskID": rid, "updatedAt": task["updatedAt"]})

    def _task_fields_problem(self, body: dict[str, Any]) -> str | None:
        if "enabled" in body and not isinstance(body["enabled"], bool):
            return "enabled must be boolean"
        if "failureThreshold" in body:
            problem = rules.threshold_problem(body["failureThreshold"])
            if problem:
                return problem
        if "input" in body:
            problem = rules.task_input_problem(body["input"])
            if problem:
                return problem
        if "cursor" in body and (not isinstance(body["cursor"], str) or rules.parse_date(body["cursor"]) is None):
            return "cursor must be a date in RFC 3339 format"
        return None

    def _trigger_update_problem(self, task: dict[str, Any], trigger: Any) -> str | None:
        if trigger is None:
            return None
        if not isinstance(trigger, dict) or set(trigger) != {"cron"}:
            return "trigger must have exactly the property 'cron'"
        if task["trigger"]["type"] != "schedule":
            return f"trigger.cron can only be set on a schedule task, not '{task['trigger']['type']}'"
        return rules.cron_problem(trigger["cron"]) or self._cron_supported(trigger["cron"])

    @staticmethod
    def _cron_supported(cron: Any) -> str | None:
        if cron is None:
            return None
        try:
            next_run(cron, datetime(2024, 1, 1, tzinfo=timezone.utc))
        except (ValueError, KeyError):
            return f"trigger.cron '{cron}' is not a valid cron expression"
        return None

    # -- observability -----------------------------------------------------------------------
    @locked
    def list_runs(self, request: Request) -> Response:
        statuses, problem = self._multi(request, "status", rules.RUN_STATUSES)
        if problem:
            return self.error(400, problem)
        now = self.now()
        window, problem = self._window(request, now, RUNS_WINDOW)
        if problem:
            return self.error(400, problem)
        task_id = request.args.get("taskID")
        start, end = window
        items = [r.view(now) for r in self.runs.values()
                 if start <= r.created <= end and (task_id is None or r.task_id == task_id)
                 and (statuses is None or r.status(now) in statuses)]
        return self._listing(request, "runs", items, window=window)

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
        statuses, p1 = self._multi(request, "status", rules.EVENT_STATUSES)
        types, p2 = self._multi(request, "type", rules.EVENT_TYPES)
        now = self.now()
        window, p3 = self._window(request, now, EVENTS_WINDOW)
        if p1 or p2 or p3:
            return self.error(400, p1 or p2 or p3 or "")
        start, end = window
        items = [run.event_view(e) for e in run.published(now)
                 if start <= run.created + e.offset <= end
                 and (statuses is None or e.status in statuses) and (types is None or e.type in types)]
        return self._listing(request, "events", items, window=window)

    @locked
    def get_event(self, request: Request, rid: str, eid: str) -> Response:
        run = self.runs.get(rid)
        if run is None:
            return self.error(404, f"run '{rid}' not found")
        found = next((e for e in run.published(self.now()) if e.event_id == eid), None)
        if found is None:
            return self.error(404, f"event '{eid}' not found in run '{rid}'")
        return self.json(run.event_view(found))

