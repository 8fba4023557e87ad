"""What the Algolia Ingestion emulator accepts: the spec's enums, input variants and body
checks, written independently of the client so that the tests check one against the other.

Every check returns ``None`` when the value is fine, or the problem as the 400 ``message``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

AUTH_TYPES = ("googleServiceAccount", "basic", "apiKey", "oauth", "algolia", "algoliaInsights")
PLATFORMS = ("bigcommerce", "commercetools", "shopify")
DESTINATION_TYPES = ("search", "insights")
SOURCE_TYPES = ("bigcommerce", "bigquery", "commercetools", "csv", "docker", "ga4BigqueryExport", "json", "shopify",
                "sfcc")
ACTIONS = ("replace", "save", "partial", "append")
TRIGGER_TYPES = ("onDemand", "schedule", "subscription", "streaming")
RUN_STATUSES = ("created", "started", "idled", "finished", "skipped")
EVENT_STATUSES = ("created", "started", "retried", "failed", "succeeded", "critical")
EVENT_TYPES = ("fetch", "record", "log", "transform")
ORDERS = ("asc", "desc")
SORT_KEYS = {
    "authentications": ("name", "auth_type", "platform", "updatedAt", "createdAt"),
    "destinations": ("name", "type", "updatedAt", "createdAt"),
    "sources": ("name", "type", "updatedAt", "createdAt"),
    "tasks": ("enabled", "triggerType", "action", "updatedAt", "createdAt"),
    "runs": ("status", "updatedAt", "createdAt"),
    "events": ("status", "type", "publishedAt"),
}

AUTH_SECRETS = frozenset({"privateKey", "password", "key", "client_secret", "apiKey"})
"""Authentication input fields never returned (the spec documents them as ``null`` but types
them as strings, so the emulator leaves them out of its answers)."""

Kind = Any  # str | list | dict | bool | int | a tuple of allowed strings


def _variant(required: tuple[str, ...], **fields: Kind) -> tuple[frozenset[str], dict[str, Kind]]:
    return frozenset(required), fields


AUTH_INPUTS = {
    "googleServiceAccount": _variant(("clientEmail", "privateKey"), clientEmail=str, privateKey=str),
    "basic": _variant(("username", "password"), username=str, password=str),
    "apiKey": _variant(("key",), key=str),
    "oauth": _variant(("url", "client_id", "client_secret"), url=str, client_id=str, client_secret=str, scope=str),
    "algolia": _variant(("appID", "apiKey"), appID=str, apiKey=str),
    "algoliaInsights": _variant(("appID", "apiKey"), appID=str, apiKey=str),
}
"""Authentication type → (required fields, field kinds)."""

SOURCE_INPUTS = {
    "commercetools": _variant(("url", "projectKey"), url=str, projectKey=str, storeKeys=list, locales=list,
                              fallbackIsInStockValue=bool, customFields=dict),
    "bigcommerce": _variant(("storeHash",), storeHash=str, channel=dict, customFields=list, productMetafields=list,
                            variantMetafields=list),
    "json": _variant(("url",), url=str, uniqueIDColumn=str, method=("GET", "POST")),
    "csv": _variant(("url",), url=str, uniqueIDColumn=str, mapping=dict, method=("GET", "POST"), delimiter=str),
    "bigquery": _variant(("projectID", "datasetID"), projectID=str, datasetID=str, dataType=("ga4", "ga360"),
                         table=str, tablePrefix=str, customSQLRequest=str, uniqueIDColumn=str),
    "ga4BigqueryExport": _variant(("projectID", "datasetID", "tablePrefix"), projectID=str, datasetID=str,
                                  tablePrefix=str),
    "docker": _variant(("registry", "image", "imageType", "configuration"), registry=("dockerhub", "ghcr"), image=str,
                       imageType=("singer", "custom", "airbyte"), version=str, configuration=dict),
    "shopify": _variant(("shopURL",), shopURL=str, featureFlags=dict),
}
"""Source type → (required fields, field kinds); ``sfcc`` has no schema and takes any object."""

FIXED_ON_UPDATE = {"commercetools": ("projectKey",), "docker": ("imageType",), "shopify": ("shopURL",)}
"""Source input fields absent from the spec's update variants."""

DESTINATION_INPUTS = {
    "indexName": _variant(("indexName",), indexName=str, recordType=("product", "variant"), attributesToExclude=list),
    "indexPrefix": _variant(("indexPrefix",), indexPrefix=str),
}

LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#LW]+$")
CSV_TYPES = ("string", "integer", "float", "boolean", "json")


def _kind_problem(where: str, value: Any, kind: Kind) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else f"{where} must be equal to one of the allowed values: {', '.join(kind)}"
    if kind is bool:
        return None if isinstance(value, bool) else f"{where} must be boolean"
    if kind is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{where} must be integer"
    names = {str: "string", list: "array", dict: "object"}
    return None if isinstance(value, kind) else f"{where} must be {names[kind]}"


def check_fields(where: str, value: Any, variant: tuple[frozenset[str], dict[str, Kind]], *,
                 partial: bool = False) -> str | None:
    """Check an object against a variant: no unknown field, required ones present, kinds right."""
    required, kinds = variant
    if not isinstance(value, dict):
        return f"{where} must be object"
    for key in value:
        if key not in kinds:
            return f"{where} must NOT have additional properties ({key})"
    if not partial:
        for key in sorted(required):
            if key not in value:
                return f"{where} must have required property '{key}'"
    for key, item in value.items():
        problem = _kind_problem(f"{where}.{key}", item, kinds[key])
        if problem:
            return problem
    return None


def source_input_problem(kind: str, value: Any, *, partial: bool = False) -> str | None:
    """Check a source input for its type, including the per-field rules of the spec."""
    if kind == "sfcc":
        return None if isinstance(value, dict) else "input must be object"
    problem = check_fields("input", value, SOURCE_INPUTS[kind], partial=partial)
    if problem:
        return problem
    if partial:
        fixed = [f for f in FIXED_ON_UPDATE.get(kind, ()) if f in value]
        if fixed:
            return f"input.{fixed[0]} cannot be updated"
    if "delimiter" in value and (len(value["delimiter"]) != 1 or value["delimiter"] in ("\r", "\n", "\ufffd", " ")):
        return "input.delimiter must be a single character other than \\r, \\n, U+FFFD and space"
    if kind == "csv" and "mapping" in value:
        bad = [c for c, t in value["mapping"].items() if t not in CSV_TYPES]
        if bad:
            return f"input.mapping.{bad[0]} must be equal to one of the allowed values: {', '.join(CSV_TYPES)}"
    if "locales" in value and not all(isinstance(x, str) and LOCALE.match(x) for x in value["locales"]):
        return "input.locales items must match pattern ^[a-z]{2}(-[A-Z]{2})?$"
    for key in ("url", "shopURL"):
        if key in value and not re.match(r"^https?://\S+$", value[key]):
            return f"input.{key} must be a valid URL"
    return None


def destination_input_problem(value: Any, *, partial: bool = False) -> str | None:
    """Check a destination input: ``{indexName, ...}`` or ``{indexPrefix}``."""
    if not isinstance(value, dict):
        return "input must be object"
    variant = DESTINATION_INPUTS["indexPrefix" if "indexPrefix" in value else "indexName"]
    return check_fields("input", value, variant, partial=partial)


def cron_problem(value: Any) -> str | None:
    """Check a five-field cron expression."""
    if not isinstance(value, str):
        return "trigger.cron must be string"
    fields = value.split()
    if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
        return f"trigger.cron '{value}' is not a valid cron expression (5 fields expected)"
    return None


def trigger_problem(value: Any) -> str | None:
    """Check the trigger of a task creation."""
    if not isinstance(value, dict):
        return "trigger must be object"
    kind = value.get("type")
    if kind not in TRIGGER_TYPES:
        return f"trigger.type must be equal to one of the allowed values: {', '.join(TRIGGER_TYPES)}"
    allowed = {"type", "cron"} if kind == "schedule" else {"type"}
    extra = set(value) - allowed
    if extra:
        return f"trigger must NOT have additional properties ({sorted(extra)[0]})"
    return cron_problem(value.get("cron")) if kind == "schedule" else None


def task_input_problem(value: Any) -> str | None:
    """Check a task input: streaming mapping, Docker streams or Shopify metafields + market."""
    if not isinstance(value, dict):
        return "input must be object"
    if "mapping" in value:
        mapping = value["mapping"]
        if set(value) != {"mapping"} or not isinstance(mapping, dict):
            return "input must match exactly one schema in oneOf"
        if mapping.get("format") != "mappingkit/v1" or not isinstance(mapping.get("actions"), list):
            return "input.mapping must have format 'mappingkit/v1' and a list of actions"
        return None
    if "streams" in value:
        return None if isinstance(value["streams"], dict) else "input.streams must be object"
    if set(value) == {"metafields", "market"}:
        if not isinstance(value["metafields"], list) or not isinstance(value["market"], dict):
            return "input.metafields must be array and input.market must be object"
        for key in ("countries", "currencies", "locales"):
            if not isinstance(value["market"].get(key), list):
                return f"input.market must have required property '{key}'"
        return None
    return "input must match exactly one schema in oneOf"


def threshold_problem(value: Any) -> str | None:
    """Check ``failureThreshold`` (0–100)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        return "failureThreshold must be an integer between 0 and 100"
    return None


def unknown_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> str | None:
    """The first body field the schema does not have, as a message."""
    extra = [k for k in body if k not in allowed]
    return f"body must NOT have additional properties ({extra[0]})" if extra else None


def required_fields(body: dict[str, Any], required: tuple[str, ...]) -> str | None:
    """The first required body field missing, as a message."""
    missing = [k for k in required if k not in body]
    return f"body must have required property '{missing[0]}'" if missing else None


def first(*checks: Callable[[], str | None]) -> str | None:
    """The first problem among lazily evaluated checks."""
    for check in checks:
        problem = check()
        if problem:
            return problem
    return None


def parse_date(text: str) -> float | None:
    """RFC 3339 text → epoch seconds (``None`` when it does not parse)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def iso(ts: float) -> str:
    """Epoch seconds → ``2024-07-18T10:00:00.123Z``."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
