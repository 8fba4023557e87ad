"""The four resources of the Algolia emulator as a table: for each collection, its id field,
list filters, the checks of a create and an update body, how a new record is made, and how
the API shows one. The generic handlers of :mod:`~dataferry.emulator.algolia.crud` read it.

The checks take the store (``collection → id → record``), as references must exist there, and
return the problem as the 400 ``message``, or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dataferry.emulator.algolia import rules
from dataferry.emulator.algolia.cron import next_run

Record = dict[str, Any]
Store = dict[str, dict[str, Record]]


@dataclass(frozen=True)
class Filter:
    """A filter of a resource list.

    Attributes:
        name: the query parameter (an array filter, or ``true`` / ``false`` when ``boolean``).
        allowed: the values it takes (``None``: any).
        value: what of a record it is compared with.
    """

    name: str
    allowed: tuple[str, ...] | None
    value: Callable[[Record], Any]
    boolean: bool = False


@dataclass(frozen=True)
class Resource:
    """A collection of the API, and what the generic handlers need to know of it.

    Attributes:
        kind: the path segment and the store key (``sources``).
        id_field: the id field of its records (``sourceID``).
        noun: how messages name one (``source``).
        filters: the filters of its list.
        create_problem: the check of a create body.
        new_record: a new record's fields from a checked create body.
        update: the changes a PATCH body makes to a record, or the problem.
        view: the record as the API shows it at a time.
        answer: the fields a create or update answer echoes besides the id and time.
        used_by: the collections whose records name one of these by ``id_field``.
        label: the field that names a record in a message (``name``).
    """

    kind: str
    id_field: str
    noun: str
    filters: tuple[Filter, ...]
    create_problem: Callable[[Store, Record], str | None]
    new_record: Callable[[Record], Record]
    update: Callable[[Store, Record, Record], tuple[Record, str | None]]
    view: Callable[[Record, float], Record]
    answer: tuple[str, ...] = ("name",)
    used_by: tuple[str, ...] = ()
    label: str = "name"


def public(record: Record) -> Record:
    """A record without its internal (``_``) fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def reference_problem(store: Store, body: Record, field: str, kind: str) -> str | None:
    """The problem of a body field that must name an existing ``kind`` resource."""
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, str) or value not in store[kind]:
        return f"{field} '{value}' does not exist"
    return None


def _name_problem(body: Record) -> str | None:
    return None if isinstance(body["name"], str) and body["name"] else "name must be a non-empty string"


# -- authentications ----------------------------------------------------------------------------------------------
AUTH_FIELDS = ("type", "name", "platform", "input")


def auth_problem(body: Record, *, partial: bool) -> str | None:
    """Check an authentication body; ``partial``: a PATCH body, every field optional and the
    input checked for its fields' kinds only (it is merged, then checked whole)."""
    if (not partial or "type" in body) and body.get("type") not in rules.AUTH_TYPES:
        return f"type must be equal to one of the allowed values: {', '.join(rules.AUTH_TYPES)}"
    if (not partial or "name" in body) and (not isinstance(body.get("name"), str) or not body["name"]):
        return "name must be a non-empty string"
    if body.get("platform") is not None and body["platform"] not in rules.PLATFORMS:
        return f"platform must be null or one of: {', '.join(rules.PLATFORMS)}"
    if partial and "input" not in body:
        return None
    kinds = (
        rules.AUTH_INPUTS[body["type"]]
        if "type" in body
        else rules.Obj(frozenset(), {k: str for v in rules.AUTH_INPUTS.values() for k in v.fields})
    )
    return rules.check_fields("input", body.get("input"), kinds, partial=partial)


def _auth_create_problem(store: Store, body: Record) -> str | None:
    return rules.first(
        lambda: rules.unknown_fields(body, AUTH_FIELDS),
        lambda: rules.required_fields(body, ("type", "name", "input")),
        lambda: auth_problem(body, partial=False),
    )


def _auth_record(body: Record) -> Record:
    return {"type": body["type"], "name": body["name"], "platform": body.get("platform"), "input": dict(body["input"])}


def _auth_update(store: Store, record: Record, body: Record) -> tuple[Record, str | None]:
    problem = rules.first(lambda: rules.unknown_fields(body, AUTH_FIELDS), lambda: auth_problem(body, partial=True))
    if problem:
        return {}, problem
    kind = body.get("type", record["type"])
    merged = {
        "type": kind,
        "name": body.get("name", record["name"]),
        "platform": body.get("platform", record.get("platform")),
        "input": dict(body["input"])
        if kind != record["type"] and "input" in body
        else {**record["input"], **body.get("input", {})},
    }
    return merged, auth_problem(merged, partial=False)


def _auth_view(record: Record, now: float) -> Record:
    shown = public(record)
    shown["input"] = {k: v for k, v in record["input"].items() if k not in rules.AUTH_SECRETS}
    return shown


# -- destinations -------------------------------------------------------------------------------------------------
DESTINATION_FIELDS = ("type", "name", "input", "authenticationID")


def destination_problem(store: Store, body: Record) -> str | None:
    """Check a whole destination (a create body, or a record merged with a PATCH body)."""
    if body.get("type") not in rules.DESTINATION_TYPES:
        return f"type must be equal to one of the allowed values: {', '.join(rules.DESTINATION_TYPES)}"
    if not isinstance(body.get("name"), str) or not body["name"]:
        return "name must be a non-empty string"
    problem = rules.destination_input_problem(body.get("input"))
    if problem:
        return problem
    if "authenticationID" in body:
        aid = body["authenticationID"]
        auth = store["authentications"].get(aid) if isinstance(aid, str) else None
        if auth is None:
            return f"authenticationID '{aid}' does not exist"
        wanted = "algolia" if body["type"] == "search" else "algoliaInsights"
        if auth["type"] != wanted:
            return f"a '{body['type']}' destination needs an '{wanted}' authentication, not '{auth['type']}'"
    return None


def _destination_create_problem(store: Store, body: Record) -> str | None:
    return rules.first(
        lambda: rules.unknown_fields(body, DESTINATION_FIELDS),
        lambda: rules.required_fields(body, ("type", "name", "input")),
        lambda: destination_problem(store, body),
    )


def _destination_update(store: Store, record: Record, body: Record) -> tuple[Record, str | None]:
    merged = {k: v for k, v in record.items() if k in DESTINATION_FIELDS}
    merged.update(body)
    return merged, rules.first(
        lambda: rules.unknown_fields(body, DESTINATION_FIELDS), lambda: destination_problem(store, merged)
    )


# -- sources ------------------------------------------------------------------------------------------------------
def source_create_problem(store: Store, body: Record) -> str | None:
    """Check a source create body (also what ``POST /1/sources/validate`` checks)."""
    return rules.first(
        lambda: rules.unknown_fields(body, ("type", "name", "input", "authenticationID")),
        lambda: rules.required_fields(body, ("type", "name", "input")),
        lambda: (
            None
            if body["type"] in rules.SOURCE_TYPES
            else f"type must be equal to one of the allowed values: {', '.join(rules.SOURCE_TYPES)}"
        ),
        lambda: _name_problem(body),
        lambda: rules.source_input_problem(body["type"], body["input"]),
        lambda: reference_problem(store, body, "authenticationID", "authentications"),
    )


def source_update(store: Store, record: Record, body: Record) -> tuple[Record, str | None]:
    """The changes of a source PATCH body, input merged and checked whole (also what
    ``POST /1/sources/{id}/validate`` checks)."""
    problem = rules.first(
        lambda: rules.unknown_fields(body, ("name", "input", "authenticationID")),
        lambda: None if "input" not in body else rules.source_input_problem(record["type"], body["input"], update=True),
        lambda: None if "name" not in body else _name_problem(body),
        lambda: reference_problem(store, body, "authenticationID", "authentications"),
    )
    if problem:
        return {}, problem
    merged = {k: v for k, v in body.items() if k != "input"}
    if "input" in body:
        merged["input"] = {**record["input"], **body["input"]}
        problem = rules.source_input_problem(record["type"], merged["input"])
    return merged, problem


def _source_view(record: Record, now: float) -> Record:
    shown = public(record)
    if record["type"] == "csv" and "delimiter" not in record["input"]:
        # the spec's default, shown so that the input matches SourceCSV alone (not SourceJSON too)
        shown["input"] = {**record["input"], "delimiter": rules.CSV_DELIMITER}
    return shown


# -- tasks --------------------------------------------------------------------------------------------------------
TASK_FIELDS = ("sourceID", "destinationID", "trigger", "action", "enabled", "failureThreshold", "input", "cursor")
TASK_UPDATE_FIELDS = ("destinationID", "trigger", "input", "enabled", "failureThreshold")


def _task_create_problem(store: Store, body: Record) -> str | None:
    return rules.first(
        lambda: rules.unknown_fields(body, TASK_FIELDS),
        lambda: rules.required_fields(body, ("sourceID", "destinationID", "trigger", "action")),
        lambda: reference_problem(store, body, "sourceID", "sources"),
        lambda: reference_problem(store, body, "destinationID", "destinations"),
        lambda: rules.trigger_problem(body["trigger"]),
        lambda: _cron_supported(body["trigger"].get("cron")),
        lambda: (
            None
            if body["action"] in rules.ACTIONS
            else f"action must be equal to one of the allowed values: {', '.join(rules.ACTIONS)}"
        ),
        lambda: _task_fields_problem(body),
    )


def _task_record(body: Record) -> Record:
    return {"enabled": True, **body, "trigger": dict(body["trigger"]), "_criticals": 0}


def _task_update(store: Store, record: Record, body: Record) -> tuple[Record, str | None]:
    problem = rules.first(
        lambda: rules.unknown_fields(body, TASK_UPDATE_FIELDS),
        lambda: reference_problem(store, body, "destinationID", "destinations"),
        lambda: _trigger_update_problem(record, body.get("trigger")),
        lambda: _task_fields_problem(body),
    )
    if problem:
        return {}, problem
    changes = {k: v for k, v in body.items() if k != "trigger"}
    if "trigger" in body:
        changes["trigger"] = {**record["trigger"], "cron": body["trigger"]["cron"]}
    return changes, None


def _task_fields_problem(body: Record) -> str | None:
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


def _trigger_update_problem(task: Record, trigger: Any) -> str | None:
    if trigger is None:
        return None
    if not isinstance(trigger, dict) or set(trigger) != {"cron"}:
        return "trigger must have exactly the property 'cron'"
    if task["trigger"]["type"] != "schedule":
        return f"trigger.cron can only be set on a schedule task, not '{task['trigger']['type']}'"
    return rules.cron_problem(trigger["cron"]) or _cron_supported(trigger["cron"])


def _cron_supported(cron: Any) -> str | None:
    if cron is None:
        return None
    try:
        next_run(cron, datetime(2024, 1, 1, tzinfo=UTC))
    except (ValueError, KeyError):
        return f"trigger.cron '{cron}' is not a valid cron expression"
    return None


def _task_view(task: Record, now: float) -> Record:
    shown = public(task)
    trigger = dict(task["trigger"])
    if trigger["type"] in ("onDemand", "schedule") and task.get("_lastRun") is not None:
        trigger["lastRun"] = rules.iso(task["_lastRun"])
    if trigger["type"] == "schedule":
        upcoming = next_run(trigger["cron"], datetime.fromtimestamp(now, tz=UTC))
        trigger["nextRun"] = rules.iso(upcoming.timestamp()) if upcoming else trigger.get("lastRun", shown["createdAt"])
    shown["trigger"] = trigger
    return shown


# -- the table ------------------------------------------------------------------------------------------------------
RESOURCES: dict[str, Resource] = {
    r.kind: r
    for r in (
        Resource(
            "authentications",
            "authenticationID",
            "authentication",
            (
                Filter("type", rules.AUTH_TYPES, lambda r: r["type"]),
                Filter("platform", (*rules.PLATFORMS, "none"), lambda r: r.get("platform") or "none"),
            ),
            _auth_create_problem,
            _auth_record,
            _auth_update,
            _auth_view,
            used_by=("sources", "destinations"),
        ),
        Resource(
            "destinations",
            "destinationID",
            "destination",
            (
                Filter("type", rules.DESTINATION_TYPES, lambda r: r["type"]),
                Filter("authenticationID", None, lambda r: r.get("authenticationID")),
            ),
            _destination_create_problem,
            dict,
            _destination_update,
            lambda r, now: public(r),
            used_by=("tasks",),
        ),
        Resource(
            "sources",
            "sourceID",
            "source",
            (
                Filter("type", rules.LISTED_SOURCE_TYPES, lambda r: r["type"]),
                Filter("authenticationID", None, lambda r: r.get("authenticationID") or "none"),
            ),
            source_create_problem,
            dict,
            source_update,
            _source_view,
            used_by=("tasks",),
        ),
        Resource(
            "tasks",
            "taskID",
            "task",
            (
                Filter("action", rules.ACTIONS, lambda r: r["action"]),
                Filter("sourceID", None, lambda r: r["sourceID"]),
                Filter("destinationID", None, lambda r: r["destinationID"]),
                Filter("triggerType", rules.TRIGGER_TYPES, lambda r: r["trigger"]["type"]),
                Filter("enabled", None, lambda r: r["enabled"], boolean=True),
            ),
            _task_create_problem,
            _task_record,
            _task_update,
            _task_view,
            answer=(),
            label="taskID",
        ),
    )
}
"""Collection → its :class:`Resource`, in the order the API documents them."""
