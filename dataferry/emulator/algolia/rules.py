"""What the Algolia Ingestion emulator accepts: the spec's enums, input variants and body
checks, written independently of the client so that the tests check one against the other.

Every check returns ``None`` when the value is fine, or the problem as the 400 ``message``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

AUTH_TYPES = ("googleServiceAccount", "basic", "apiKey", "oauth", "algolia", "algoliaInsights")
PLATFORMS = ("bigcommerce", "commercetools", "shopify")
DESTINATION_TYPES = ("search", "insights")
SOURCE_TYPES = ("bigcommerce", "bigquery", "commercetools", "csv", "docker", "ga4BigqueryExport", "json", "shopify")
"""Source types a source can be created with (today's ``SourceType`` has no ``sfcc``)."""
LISTED_SOURCE_TYPES = (*SOURCE_TYPES, "sfcc")
"""Source types the ``type`` filter of the source list takes (the pre-v2 enum)."""
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

Kind = Any
"""What a value must be: ``str``, ``int``, ``bool``, ``dict`` (any object), a tuple of allowed
strings, a :class:`ListOf`, a :class:`Nullable` or an :class:`Obj`."""


@dataclass(frozen=True)
class ListOf:
    """An array whose items are all of ``item``'s kind."""

    item: Kind


@dataclass(frozen=True)
class Nullable:
    """``null``, or a value of ``kind``."""

    kind: Kind


@dataclass(frozen=True)
class Obj:
    """An object with these fields (the ``required`` ones present), and no other unless ``open``."""

    required: frozenset[str]
    fields: dict[str, Kind]
    open: bool = False


def _variant(required: tuple[str, ...], **fields: Kind) -> Obj:
    return Obj(frozenset(required), fields)


STRINGS = ListOf(str)
"""An array of strings."""

AUTH_INPUTS = {
    "googleServiceAccount": _variant(("clientEmail", "privateKey"), clientEmail=str, privateKey=str),
    "basic": _variant(("username", "password"), username=str, password=str),
    "apiKey": _variant(("key",), key=str),
    "oauth": _variant(("url", "client_id", "client_secret"), url=str, client_id=str, client_secret=str, scope=str),
    "algolia": _variant(("appID", "apiKey"), appID=str, apiKey=str),
    "algoliaInsights": _variant(("appID", "apiKey"), appID=str, apiKey=str),
}
"""Authentication type → its input (``AuthGoogleServiceAccount``... in the spec)."""

METAFIELD = _variant(("namespace", "key"), namespace=str, key=str)
"""``BigCommerceMetafield``."""

SOURCE_INPUTS = {
    "commercetools": _variant(
        ("url", "projectKey"),
        url=str,
        projectKey=str,
        storeKeys=STRINGS,
        locales=STRINGS,
        fallbackIsInStockValue=bool,
        customFields=_variant((), inventory=Nullable(STRINGS), price=Nullable(STRINGS), category=Nullable(STRINGS)),
    ),
    "bigcommerce": _variant(
        ("storeHash",),
        storeHash=str,
        channel=_variant(("id",), id=int, currencies=STRINGS),
        customFields=STRINGS,
        productMetafields=ListOf(METAFIELD),
        variantMetafields=ListOf(METAFIELD),
    ),
    "json": _variant(("url",), url=str, uniqueIDColumn=str, method=("GET", "POST")),
    "csv": _variant(("url",), url=str, uniqueIDColumn=str, mapping=dict, method=("GET", "POST"), delimiter=str),
    "bigquery": _variant(
        ("projectID", "datasetID"),
        projectID=str,
        datasetID=str,
        dataType=("ga4", "ga360"),
        table=str,
        tablePrefix=str,
        customSQLRequest=str,
        uniqueIDColumn=str,
    ),
    "ga4BigqueryExport": _variant(
        ("projectID", "datasetID", "tablePrefix"), projectID=str, datasetID=str, tablePrefix=str
    ),
    "docker": _variant(
        ("registry", "image", "imageType", "configuration"),
        registry=("dockerhub", "ghcr"),
        image=str,
        imageType=("singer", "custom", "airbyte"),
        version=str,
        configuration=dict,
    ),
    "shopify": _variant(("shopURL",), shopURL=str, featureFlags=dict),
}
"""Source type → its input (``SourceCSV``... in the spec). ``sfcc``, which the spec lists
without a schema, is gone from today's ``SourceType``: the emulator refuses it."""

SOURCE_UPDATE_INPUTS = {
    **{kind: SOURCE_INPUTS[kind] for kind in ("json", "csv", "bigquery", "ga4BigqueryExport")},
    "commercetools": Obj(
        frozenset(), {k: v for k, v in SOURCE_INPUTS["commercetools"].fields.items() if k != "projectKey"}
    ),
    "docker": Obj(
        frozenset({"configuration"}), {k: v for k, v in SOURCE_INPUTS["docker"].fields.items() if k != "imageType"}
    ),
    "shopify": _variant((), featureFlags=dict),
}
"""Source type → the ``SourceUpdateInput`` variant a PATCH input must match whole (the spec
reuses the create variants of CSV, JSON and BigQuery, url and ids required; it has none for
BigCommerce, whose input cannot be updated)."""

DESTINATION_INPUT = _variant(
    ("indexName",), indexName=str, recordType=("product", "variant"), attributesToExclude=STRINGS
)
"""``DestinationInput`` as today's spec has it: the pre-v2 ``{indexPrefix}`` variant is gone, and
today's official client cannot read a destination that has one."""

MAPPING_INPUT = _variant(
    ("format", "actions"),
    format=("mappingkit/v1",),
    actions=ListOf(
        _variant(
            ("enabled", "trigger", "fieldDirectives"),
            id=str,
            enabled=bool,
            trigger=str,
            fieldDirectives=ListOf(_variant(("fieldKey", "value"), fieldKey=str, value=dict)),
        )
    ),
)
"""``MappingInput`` (the input of a streaming task)."""

TASK_INPUTS = {
    "streams": Obj(frozenset({"streams"}), {"streams": dict}, open=True),
    "mapping": _variant(("mapping",), mapping=MAPPING_INPUT),
    "metafields": _variant(
        ("metafields", "market"),
        metafields=ListOf(_variant(("namespace", "key", "value"), namespace=str, key=str, value=str)),
        market=_variant(("countries", "currencies", "locales"), countries=STRINGS, currencies=STRINGS, locales=STRINGS),
    ),
}
"""``TaskInput``'s variants by the field that tells them apart, the open ``DockerStreamsInput``
first (any object with ``streams`` is one), then ``StreamingInput`` and ``ShopifyInput``."""

LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#LW]+$")
CSV_TYPES = ("string", "integer", "float", "boolean", "json")
CSV_DELIMITER = ","
"""``SourceCSV.delimiter``'s default in the spec."""


def kind_problem(where: str, value: Any, kind: Kind, *, partial: bool = False) -> str | None:
    """Check ``value`` against ``kind``, nested objects and arrays included (``partial``: the
    required fields of the outer object may be missing)."""
    if isinstance(kind, Nullable):
        return None if value is None else kind_problem(where, value, kind.kind)
    if isinstance(kind, Obj):
        return _object_problem(where, value, kind, partial)
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            return f"{where} must be array"
        for n, item in enumerate(value):
            problem = kind_problem(f"{where}[{n}]", item, kind.item)
            if problem:
                return problem
        return None
    if isinstance(kind, tuple):
        return (
            None
            if isinstance(value, str) and value in kind
            else f"{where} must be equal to one of the allowed values: {', '.join(kind)}"
        )
    if kind is bool:
        return None if isinstance(value, bool) else f"{where} must be boolean"
    if kind is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{where} must be integer"
    names = {str: "string", list: "array", dict: "object"}
    return None if isinstance(value, kind) else f"{where} must be {names[kind]}"


def _object_problem(where: str, value: Any, variant: Obj, partial: bool) -> str | None:
    if not isinstance(value, dict):
        return f"{where} must be object"
    if not variant.open:
        for key in value:
            if key not in variant.fields:
                return f"{where} must NOT have additional properties ({key})"
    if not partial:
        for key in sorted(variant.required):
            if key not in value:
                return f"{where} must have required property '{key}'"
    for key, item in value.items():
        if key in variant.fields:
            problem = kind_problem(f"{where}.{key}", item, variant.fields[key])
            if problem:
                return problem
    return None


def check_fields(where: str, value: Any, variant: Obj, *, partial: bool = False) -> str | None:
    """Check an object against a variant: no unknown field, required ones present, kinds right."""
    return kind_problem(where, value, variant, partial=partial)


def source_input_problem(kind: str, value: Any, *, update: bool = False) -> str | None:
    """Check a source input for its type (``update``: a PATCH input, against the type's
    ``SourceUpdateInput`` variant), including the per-field rules of the spec."""
    if update and kind not in SOURCE_UPDATE_INPUTS:
        return f"the input of a {kind} source cannot be updated (SourceUpdateInput has no {kind} variant)"
    problem = check_fields("input", value, (SOURCE_UPDATE_INPUTS if update else SOURCE_INPUTS)[kind])
    if problem:
        return problem
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


def destination_input_problem(value: Any) -> str | None:
    """Check a destination input: ``{indexName, recordType?, attributesToExclude?}``."""
    return check_fields("input", value, DESTINATION_INPUT)


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
        return f"trigger must NOT have additional properties ({min(extra)})"
    return cron_problem(value.get("cron")) if kind == "schedule" else None


def task_input_problem(value: Any) -> str | None:
    """Check a task input: a streaming mapping, Docker streams or Shopify metafields + market."""
    if not isinstance(value, dict):
        return "input must be object"
    found = [key for key in TASK_INPUTS if key in value]
    if not found:
        return "input must match exactly one schema in oneOf"
    return check_fields("input", value, TASK_INPUTS[found[0]])


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
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso(ts: float) -> str:
    """Epoch seconds → ``2024-07-18T10:00:00.123Z``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
