"""The Algolia emulator: its behaviour, and every answer it gives (success and error) checked
against the official spec (../shared/specs/algolia-ingestion/pre-v2-2024-07/ingestion.yml) with
openapi-core.

The file is used as published, with four repairs that make it checkable at all — each one a
defect of the spec itself, not a loosening for the emulator's sake:

1. ``Platform`` and ``CommercetoolsCustomFields`` use ``type: 'null'``, which OpenAPI 3.0 does
   not have (openapi-core refuses the whole document); rewritten as ``nullable: true``.
2. ``AuthInput``, ``AuthInputPartial``, ``SourceInput`` and ``SourceUpdateInput`` are ``oneOf``
   lists whose members overlap (``AuthAlgolia`` and ``AuthAlgoliaInsights`` are identical,
   ``SourceJSON`` is a subset of ``SourceCSV``, ``SourceGA4BigQueryExport`` of
   ``SourceBigQuery``), so a strict ``oneOf`` rejects every Algolia authentication and every
   JSON source. They become ``anyOf``, and :func:`variant_problem` checks the one variant the
   resource's ``type`` names, which is stricter than ``oneOf`` could be.
3. ``SourceShopify`` is an ``allOf`` of two closed objects that no value can satisfy; it
   becomes the one closed object with both properties.
4. Statuses the spec does not declare for an operation (401, 403, 404, 405, 429) are checked
   against the spec's only error schema, ``ErrorBase``.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from dataferry.emulator.algolia import API_KEY, APP_ID, EXAMPLE_TASK_ID, SEARCH_KEY
from dataferry.emulator.algolia.cron import next_run

SPEC_PATH = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "specs"
    / "algolia-ingestion"
    / "pre-v2-2024-07"
    / "ingestion.yml"
)
HOST = "https://data.us.algolia.com"

AUTH_VARIANTS = {
    "googleServiceAccount": "AuthGoogleServiceAccountPartial",
    "basic": "AuthBasicPartial",
    "apiKey": "AuthAPIKeyPartial",
    "oauth": "AuthOAuthPartial",
    "algolia": "AuthAlgoliaPartial",
    "algoliaInsights": "AuthAlgoliaInsightsPartial",
}
SOURCE_VARIANTS = {
    "commercetools": "SourceCommercetools",
    "bigcommerce": "SourceBigCommerce",
    "json": "SourceJSON",
    "csv": "SourceCSV",
    "bigquery": "SourceBigQuery",
    "ga4BigqueryExport": "SourceGA4BigQueryExport",
    "docker": "SourceDocker",
    "shopify": "SourceShopify",
}


@lru_cache(maxsize=1)
def raw_spec() -> dict[str, Any]:
    """The spec with the repairs listed in the module docstring."""
    raw = yaml.safe_load(SPEC_PATH.read_text())
    schemas = raw["components"]["schemas"]
    schemas["Platform"] = {
        "type": "string",
        "enum": ["bigcommerce", "commercetools", "shopify", None],
        "nullable": True,
        "default": None,
    }
    for name in ("inventory", "price", "category"):
        schemas["CommercetoolsCustomFields"]["properties"][name] = {
            "type": "array",
            "items": {"type": "string"},
            "nullable": True,
        }
    for name in ("AuthInput", "AuthInputPartial", "SourceInput", "SourceUpdateInput"):
        schemas[name] = {"anyOf": schemas[name]["oneOf"]}
    schemas["SourceShopify"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["shopURL"],
        "properties": {**schemas["SourceUpdateShopify"]["properties"], **schemas["sourceShopifyBase"]["properties"]},
    }
    return raw


@lru_cache(maxsize=1)
def spec() -> OpenAPI:
    """openapi-core's view of the repaired spec (self-validation off: see repair 1)."""
    return OpenAPI.from_dict(copy.deepcopy(raw_spec()), config=Config(spec_validator_cls=None))


def schema_problem(name: str, value: Any) -> str | None:
    """Validate ``value`` against ``components.schemas.<name>`` (refs resolved in the spec)."""
    root = {"$ref": f"#/components/schemas/{name}", "components": raw_spec()["components"]}
    errors = sorted(OAS30Validator(root).iter_errors(value), key=str)
    return str(errors[0].message) if errors else None


def operations() -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of every v1 operation except transformations."""
    found = set()
    for path, item in raw_spec()["paths"].items():
        if not path.startswith("/1/") or path.startswith("/1/transformations"):
            continue
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                found.add((method.upper(), path))
    return found


def template_of(method: str, path: str) -> tuple[str, str] | None:
    """The spec operation a concrete request belongs to (static segments win)."""
    candidates = sorted(operations(), key=lambda op: op[1].count("{"))
    for op_method, template in candidates:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if op_method == method and re.match(pattern, path):
            return op_method, template
    return None


def variant_problem(body: Any) -> str | None:
    """Check each authentication / source input against the variant its ``type`` names."""
    items = body if isinstance(body, list) else [body]
    if isinstance(body, dict):
        for key in ("authentications", "sources"):
            if isinstance(body.get(key), list):
                items = body[key]
    for item in items:
        if not isinstance(item, dict) or "input" not in item:
            continue
        if (
            "authenticationID" in item
            and item.get("type") in AUTH_VARIANTS
            and "sourceID" not in item
            and "destinationID" not in item
        ):
            problem = schema_problem(AUTH_VARIANTS[item["type"]], item["input"])
        elif "sourceID" in item and item.get("type") in SOURCE_VARIANTS:
            problem = schema_problem(SOURCE_VARIANTS[item["type"]], item["input"])
        else:
            continue
        if problem:
            return f"{item.get('type')} input {item['input']}: {problem}"
    return None


def response_problem(method: str, path: str, status: int, mimetype: str, body: bytes) -> str | None:
    """Why an emulator answer does not match the spec, or ``None``.

    Answers of operations the spec lacks (the seed's ``GET /1/sources/{id}/discover``) are
    reported as ``"not in spec"`` for the caller to handle.
    """
    if mimetype != "application/json":
        return f"{method} {path} -> {status} is {mimetype}, not JSON"
    request = MockRequest(HOST, method.lower(), path)
    response = MockResponse(body, status_code=status, content_type=mimetype)
    try:
        spec().validate_response(request, response)
    except (PathNotFound, OperationNotFound, ServerNotFound):
        if status < 400:
            return "not in spec"
        return _error_problem(body)
    except ResponseNotFound:
        return _error_problem(body)
    except Exception as exc:  # openapi-core's validation errors
        cause = exc.__cause__ or exc
        details = getattr(cause, "schema_errors", None) or [cause]
        return f"{method} {path} -> {status}: {'; '.join(str(d)[:300] for d in details)}"
    if status < 300:
        problem = variant_problem(json.loads(body))
        if problem:
            return f"{method} {path}: {problem}"
    elif not isinstance(json.loads(body).get("message"), str):
        return f"{method} {path} -> {status}: no message"
    return None


def _error_problem(body: bytes) -> str | None:
    value = json.loads(body)
    problem = schema_problem("ErrorBase", value)
    if problem:
        return f"error body {value}: {problem}"
    if not isinstance(value.get("message"), str):
        return f"error body {value} has no message"
    return None


# -- fixtures ------------------------------------------------------------------------------------
FAST = {"start_after": 0.02, "event_interval": 0.01, "records": 60, "batch_size": 10}
"""Runs of 9 events that finish in about 0.1 s."""

UNKNOWN = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"


class Recorder:
    """A requests session with the emulator's credentials that keeps every response."""

    def __init__(self, base_url: str, app_id: str = APP_ID, key: str | None = API_KEY) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["X-Algolia-Application-Id"] = app_id
        if key:
            self.session.headers["X-Algolia-API-Key"] = key
        self.responses: list[requests.Response] = []
        self.session.hooks["response"].append(lambda r, *a, **k: self.responses.append(r))

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        r = self.call(method, path, **kw)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        return r.json()

    def refused(self, status: int, method: str, path: str, **kw: Any) -> str:
        r = self.call(method, path, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        return r.json()["message"]


def problems_of(responses: list[requests.Response]) -> tuple[list[str], set[tuple[str, str]], int]:
    """(problems, operations answered with 2xx, answers outside the spec)."""
    problems, covered, outside = [], set(), 0
    for r in responses:
        method = r.request.method or ""
        path = r.request.path_url.split("?")[0]
        problem = response_problem(
            method, path, r.status_code, r.headers.get("Content-Type", "").split(";")[0], r.content
        )
        if problem == "not in spec":
            outside += 1
            assert (method, re.sub(r"/1/sources/[^/]+/", "/1/sources/{id}/", path)) == (
                "GET",
                "/1/sources/{id}/discover",
            ), f"{method} {path} is not a spec operation"
            assert isinstance(r.json().get("streams"), list)
        elif problem:
            problems.append(problem)
        if r.status_code < 300:
            op = template_of(method, path)
            if op:
                covered.add(op)
    return problems, covered, outside


@pytest.fixture
def emu(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("algolia", **FAST)


@pytest.fixture
def api(emu: Any) -> Recorder:
    return Recorder(emu.base_url)


def wait_finished(api: Recorder, run_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = api.ok("GET", f"/1/runs/{run_id}")
        if run["status"] in ("finished", "skipped") or time.monotonic() > deadline:
            return run
        time.sleep(0.02)


def create(api: Recorder, kind: str, body: dict[str, Any]) -> str:
    answer = api.ok("POST", f"/1/{kind}", json=body)
    return answer[
        {
            "authentications": "authenticationID",
            "destinations": "destinationID",
            "sources": "sourceID",
            "tasks": "taskID",
        }[kind]
    ]


# -- the spec check ------------------------------------------------------------------------------
def test_every_answer_of_every_operation_matches_the_spec(emu: Any, api: Recorder) -> None:
    # authentications: every type, then get / patch / search / delete, and refusals
    auth_inputs = {
        "googleServiceAccount": {"clientEmail": "svc@proj.iam.gserviceaccount.com", "privateKey": "-----PK-----"},
        "basic": {"username": "feeds", "password": "pw-12345"},
        "apiKey": {"key": "k-123456"},
        "oauth": {
            "url": "https://auth.example.com/token",
            "client_id": "cid",
            "client_secret": "cs-123456",
            "scope": "read",
        },
        "algolia": {"appID": "APP", "apiKey": "write-key-123"},
        "algoliaInsights": {"appID": "APP", "apiKey": "search-key-123"},
    }
    auths = {
        t: create(
            api,
            "authentications",
            {"type": t, "name": f"{t} auth", "input": i, **({"platform": "shopify"} if t == "oauth" else {})},
        )
        for t, i in auth_inputs.items()
    }
    api.ok("GET", f"/1/authentications/{auths['basic']}")
    api.ok("PATCH", f"/1/authentications/{auths['basic']}", json={"name": "renamed", "input": {"password": "new-pw-1"}})
    api.ok("POST", "/1/authentications/search", json={"authenticationIDs": [*auths.values(), UNKNOWN]})
    api.ok(
        "GET",
        "/1/authentications",
        params={
            "type": "basic,algolia",
            "platform": "none",
            "sort": "name",
            "order": "asc",
            "itemsPerPage": 2,
            "page": 2,
        },
    )
    api.refused(400, "POST", "/1/authentications", json={"type": "basic", "name": "x", "input": {"username": "u"}})
    api.refused(400, "POST", "/1/authentications", json={"type": "ldap", "name": "x", "input": {}})
    api.refused(400, "POST", "/1/authentications", data="{not json", headers={"Content-Type": "application/json"})
    api.refused(404, "GET", f"/1/authentications/{UNKNOWN}")

    # destinations
    search = create(
        api,
        "destinations",
        {"type": "search", "name": "index", "input": {"indexName": "products"}, "authenticationID": auths["algolia"]},
    )
    insights = create(
        api,
        "destinations",
        {
            "type": "insights",
            "name": "events",
            "input": {"indexName": "shop_events"},
            "authenticationID": auths["algoliaInsights"],
        },
    )
    api.ok("GET", f"/1/destinations/{search}")
    api.ok(
        "PATCH",
        f"/1/destinations/{search}",
        json={"input": {"indexName": "products_v2", "recordType": "product", "attributesToExclude": ["internal"]}},
    )
    api.ok("POST", "/1/destinations/search", json={"destinationIDs": [search, insights]})
    api.ok("GET", "/1/destinations", params=[("type", "search"), ("type", "insights")])
    api.refused(
        400,
        "POST",
        "/1/destinations",
        json={"type": "search", "name": "x", "input": {"indexName": "p"}, "authenticationID": auths["basic"]},
    )

    # sources: every type with a schema, validate, discover
    source_inputs = {
        "csv": {"url": "https://feeds.example.com/p.csv", "mapping": {"price": "float"}, "delimiter": ";"},
        "json": {"url": "https://feeds.example.com/p.json", "method": "GET"},
        "bigquery": {"projectID": "proj", "datasetID": "ds", "table": "products"},
        "ga4BigqueryExport": {"projectID": "proj", "datasetID": "analytics", "tablePrefix": "events_intraday_"},
        "docker": {"imageType": "singer", "registry": "dockerhub", "image": "algolia/zendesk", "configuration": {}},
        "commercetools": {"url": "https://api.commercetools.example", "projectKey": "shop", "locales": ["fr-FR"]},
        "bigcommerce": {"storeHash": "abc123", "channel": {"id": 1, "currencies": ["usd"]}},
        "shopify": {"shopURL": "https://shop.example.com", "featureFlags": {"b2b": True}},
    }
    sources = {
        t: create(api, "sources", {"type": t, "name": f"{t} source", "input": i}) for t, i in source_inputs.items()
    }
    api.ok("GET", f"/1/sources/{sources['csv']}")
    api.ok(
        "PATCH",
        f"/1/sources/{sources['csv']}",
        json={"name": "products", "input": {"url": "https://feeds.example.com/p.csv", "uniqueIDColumn": "sku"}},
    )
    api.ok("POST", "/1/sources/search", json={"sourceIDs": list(sources.values())})
    api.ok("GET", "/1/sources", params={"type": "csv,json", "authenticationID": "none"})
    api.ok(
        "POST",
        "/1/sources/validate",
        json={"type": "csv", "name": "check", "input": {"url": "https://x.example/a.csv"}},
    )
    failed = api.ok(
        "POST",
        "/1/sources/validate",
        json={"type": "json", "name": "check", "input": {"url": "https://x.example/critical.json"}},
    )
    assert failed["events"][0]["status"] == "critical"
    api.ok("POST", f"/1/sources/{sources['json']}/validate", json={"input": {"url": "https://x.example/b.json"}})
    api.refused(404, "GET", f"/1/sources/{sources['docker']}/discover")
    api.ok("POST", f"/1/sources/{sources['docker']}/discover")
    api.ok("GET", f"/1/sources/{sources['docker']}/discover")
    api.refused(400, "POST", f"/1/sources/{sources['csv']}/discover")
    api.refused(400, "POST", "/1/sources", json={"type": "csv", "name": "x", "input": {"url": "https://x", "foo": 1}})
    api.refused(400, "PATCH", f"/1/sources/{sources['commercetools']}", json={"input": {"projectKey": "other"}})

    # tasks: every trigger type and action, get / patch / search / enable / disable / run / delete
    created = [
        create(
            api,
            "tasks",
            {
                "sourceID": sources["csv"],
                "destinationID": search,
                "action": "replace",
                "trigger": {"type": "onDemand"},
                "failureThreshold": 10,
            },
        ),
        create(
            api,
            "tasks",
            {
                "sourceID": sources["json"],
                "destinationID": search,
                "action": "save",
                "trigger": {"type": "schedule", "cron": "*/15 6-18 * * MON-FRI"},
            },
        ),
        create(
            api,
            "tasks",
            {
                "sourceID": sources["shopify"],
                "destinationID": search,
                "action": "partial",
                "trigger": {"type": "subscription"},
                "input": {
                    "metafields": [{"namespace": "n", "key": "k", "value": "v"}],
                    "market": {"countries": ["FR"], "currencies": ["EUR"], "locales": ["fr"]},
                },
            },
        ),
        create(
            api,
            "tasks",
            {
                "sourceID": sources["ga4BigqueryExport"],
                "destinationID": search,
                "action": "append",
                "trigger": {"type": "streaming"},
                "enabled": False,
                "input": {"mapping": {"format": "mappingkit/v1", "actions": []}},
            },
        ),
        create(
            api,
            "tasks",
            {
                "sourceID": sources["docker"],
                "destinationID": search,
                "action": "replace",
                "trigger": {"type": "onDemand"},
                "input": {"streams": {"tickets": {}}},
                "cursor": "2024-07-18T10:00:00Z",
            },
        ),
    ]
    on_demand, scheduled = created[0], created[1]
    api.ok("GET", f"/1/tasks/{scheduled}")
    api.ok("PATCH", f"/1/tasks/{scheduled}", json={"trigger": {"cron": "0 7 * * *"}, "failureThreshold": 20})
    api.ok("POST", "/1/tasks/search", json={"taskIDs": created})
    api.ok(
        "GET",
        "/1/tasks",
        params={
            "action": "replace,save",
            "enabled": "true",
            "triggerType": "onDemand",
            "sort": "triggerType",
            "order": "asc",
        },
    )
    api.ok("PUT", f"/1/tasks/{created[3]}/enable")
    api.ok("PUT", f"/1/tasks/{created[3]}/disable")
    api.refused(
        400,
        "POST",
        "/1/tasks",
        json={
            "sourceID": sources["csv"],
            "destinationID": search,
            "action": "save",
            "trigger": {"type": "schedule", "cron": "every day"},
        },
    )
    api.refused(400, "PATCH", f"/1/tasks/{on_demand}", json={"trigger": {"cron": "0 7 * * *"}})
    api.refused(404, "POST", f"/1/tasks/{UNKNOWN}/run")

    # runs and events
    run_id = api.ok("POST", f"/1/tasks/{on_demand}/run")["runID"]
    api.ok("GET", f"/1/runs/{run_id}")  # while it runs
    run = wait_finished(api, run_id)
    assert run["status"] == "finished"
    api.ok("GET", "/1/runs", params={"taskID": on_demand, "status": "finished,skipped", "sort": "status"})
    api.ok("GET", "/1/runs", params=[("status", "finished"), ("status", "created")])
    events = api.ok(
        "GET",
        f"/1/runs/{run_id}/events",
        params={"type": "record", "status": "succeeded", "itemsPerPage": 3, "page": 2},
    )["events"]
    api.ok("GET", f"/1/runs/{run_id}/events/{events[0]['eventID']}")
    api.refused(404, "GET", f"/1/runs/{UNKNOWN}")
    api.refused(404, "GET", f"/1/runs/{run_id}/events/{UNKNOWN}")
    api.refused(400, "GET", "/1/runs", params={"startDate": "yesterday"})
    api.refused(400, "GET", f"/1/runs/{run_id}/events", params={"status": "exploded"})

    # deletes (dependants first), and what the API refuses
    api.refused(400, "DELETE", f"/1/sources/{sources['csv']}")
    for task in created:
        api.ok("DELETE", f"/1/tasks/{task}")
    api.ok("DELETE", f"/1/sources/{sources['bigquery']}")
    api.ok("DELETE", f"/1/destinations/{insights}")
    api.ok("DELETE", f"/1/authentications/{auths['algoliaInsights']}")

    # refusals outside the operations: credentials, ACL, method, route, rate limit
    Recorder(emu.base_url, key="wrong-key").refused(403, "GET", "/1/tasks")
    Recorder(emu.base_url, key=SEARCH_KEY).refused(403, "GET", "/1/tasks")
    api.refused(405, "PUT", "/1/authentications")
    api.refused(404, "GET", "/1/unknown")
    emu.faults.add("status", path="/1/tasks$", status=429, retry_after=1)
    api.refused(429, "GET", "/1/tasks")

    answered = [*api.responses]
    problems, covered, outside = problems_of(answered)
    assert problems == []
    assert covered == operations(), f"operations never answered: {sorted(operations() - covered)}"
    assert outside == 1  # GET /1/sources/{id}/discover: in the seed, not in the spec


def test_rate_limited_answers_match_the_spec_error_shape(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", **FAST)
    api = Recorder(emu.base_url)
    run_id = next(iter(emu.app.runs))
    statuses = [api.call("GET", f"/1/runs/{run_id}").status_code for _ in range(201)]
    assert statuses[:200] == [200] * 200 and statuses[200] == 429
    limited = api.responses[-1]
    assert int(limited.headers["Retry-After"]) >= 1
    problems, _, _ = problems_of(api.responses)
    assert problems == []
    # the other family has its own budget
    assert api.call("GET", "/1/tasks").status_code == 200


def test_the_spec_check_rejects_what_the_spec_forbids() -> None:
    def answer(method: str, path: str, body: Any, status: int = 200) -> str | None:
        return response_problem(method, path, status, "application/json", json.dumps(body).encode())

    task = {
        "taskID": UNKNOWN,
        "sourceID": UNKNOWN,
        "destinationID": UNKNOWN,
        "trigger": {"type": "onDemand"},
        "enabled": True,
        "action": "replace",
        "createdAt": "2024-07-18T10:00:00Z",
    }
    assert answer("GET", f"/1/tasks/{UNKNOWN}", task) is None
    assert answer("GET", f"/1/tasks/{UNKNOWN}", {**task, "colour": "red"})  # unknown field
    assert answer("GET", f"/1/tasks/{UNKNOWN}", {**task, "action": "upsert"})  # value outside the enum
    assert answer("GET", f"/1/tasks/{UNKNOWN}", {**task, "trigger": {"type": "schedule"}})  # no cron / nextRun
    event = {
        "eventID": UNKNOWN,
        "runID": UNKNOWN,
        "status": "failed",
        "type": "record",
        "batchSize": 3,
        "publishedAt": "2024-07-18T10:00:00Z",
    }
    assert answer("GET", f"/1/runs/{UNKNOWN}/events/{UNKNOWN}", event) is None
    assert answer("GET", f"/1/runs/{UNKNOWN}/events/{UNKNOWN}", {**event, "data": None})  # data is not nullable
    auth = {
        "authenticationID": UNKNOWN,
        "type": "basic",
        "name": "n",
        "input": {"username": "u"},
        "createdAt": "2024-07-18T10:00:00Z",
    }
    assert answer("GET", f"/1/authentications/{UNKNOWN}", auth) is None
    assert answer("GET", f"/1/authentications/{UNKNOWN}", {**auth, "input": {"username": "u", "password": None}})
    assert answer("GET", f"/1/authentications/{UNKNOWN}", {**auth, "input": {"appID": "A"}})  # not a basic input
    source = {
        "sourceID": UNKNOWN,
        "type": "json",
        "name": "n",
        "input": {"url": "https://x", "delimiter": ","},
        "createdAt": "2024-07-18T10:00:00Z",
    }
    assert answer("GET", f"/1/sources/{UNKNOWN}", source)  # a CSV-only field on a JSON source
    assert answer("GET", f"/1/tasks/{UNKNOWN}", {"error": "gone"}, 404)  # error without message
    assert answer(
        "GET", "/1/runs", {"runs": [], "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10}}
    )  # no window


# -- behaviour -----------------------------------------------------------------------------------
def test_credentials_and_acl_are_checked(emu: Any) -> None:
    anonymous = Recorder(emu.base_url, app_id="", key=None)
    assert anonymous.refused(403, "GET", "/1/tasks") == "Invalid Application-Id or API-Key"
    assert (
        Recorder(emu.base_url, app_id="OTHERAPP").refused(403, "GET", "/1/tasks") == "Invalid Application-Id or API-Key"
    )
    assert (
        Recorder(emu.base_url, key=SEARCH_KEY).refused(403, "POST", f"/1/tasks/{EXAMPLE_TASK_ID}/run")
        == "Method not allowed with this API key"
    )
    assert emu.app.runs and all(
        r.task_id != EXAMPLE_TASK_ID or r.created < time.time() - 3600 for r in emu.app.runs.values()
    )  # the refused run did not start
    assert emu.credentials == {"app_id": APP_ID, "api_key": API_KEY}


def test_array_filters_accept_comma_joined_and_repeated_values(api: Recorder) -> None:
    joined = api.ok("GET", "/1/tasks", params={"action": "replace,save"})["tasks"]
    repeated = api.ok("GET", "/1/tasks", params=[("action", "replace"), ("action", "save")])["tasks"]
    assert {t["taskID"] for t in joined} == {t["taskID"] for t in repeated}
    assert {t["action"] for t in joined} == {"replace", "save"}
    everything = api.ok("GET", "/1/tasks")["tasks"]
    assert len(joined) == sum(1 for t in everything if t["action"] in ("replace", "save")) < len(everything)
    message = api.refused(400, "GET", "/1/tasks", params={"action": "replace,upsert"})
    assert "upsert" in message and "replace, save, partial, append" in message


def test_pages_are_walked_to_nb_pages(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", history=False, **FAST)
    api = Recorder(emu.base_url)
    ids = {
        create(api, "authentications", {"type": "apiKey", "name": f"key {n}", "input": {"key": f"k-{n:04d}"}})
        for n in range(7)
    }
    seen, sizes = [], []
    for page in (1, 2, 3):
        body = api.ok("GET", "/1/authentications", params={"itemsPerPage": 3, "page": page})
        assert body["pagination"] == {"nbPages": 3, "page": page, "nbItems": 7, "itemsPerPage": 3}
        sizes.append(len(body["authentications"]))
        seen += [a["authenticationID"] for a in body["authentications"]]
    assert sizes == [3, 3, 1] and len(seen) == 7 and set(seen) == ids
    beyond = api.ok("GET", "/1/authentications", params={"itemsPerPage": 3, "page": 4})
    assert beyond["authentications"] == [] and beyond["pagination"]["nbPages"] == 3
    empty = api.ok("GET", "/1/tasks")
    assert empty["pagination"] == {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10}
    assert "itemsPerPage" in api.refused(400, "GET", "/1/tasks", params={"itemsPerPage": 101})


def test_lists_sort_by_the_given_key_and_order(api: Recorder) -> None:
    for name in ("zeta", "alpha", "mid"):
        create(api, "sources", {"type": "json", "name": name, "input": {"url": f"https://x.example/{name}.json"}})
    asc = [s["name"] for s in api.ok("GET", "/1/sources", params={"sort": "name", "order": "asc"})["sources"]]
    desc = [s["name"] for s in api.ok("GET", "/1/sources", params={"sort": "name"})["sources"]]
    assert asc == sorted(asc) and desc == sorted(asc, reverse=True)
    newest_first = api.ok("GET", "/1/sources")["sources"]
    assert [s["createdAt"] for s in newest_first] == sorted((s["createdAt"] for s in newest_first), reverse=True)
    assert "sort" in api.refused(400, "GET", "/1/sources", params={"sort": "colour"})


def test_a_run_reveals_its_events_as_it_progresses(emu: Any, api: Recorder) -> None:
    run_id = api.ok("POST", f"/1/tasks/{EXAMPLE_TASK_ID}/run")["runID"]
    run = wait_finished(api, run_id)
    assert run["status"] == "finished" and run["outcome"] == "success" and run["reasonCode"] == "ok"
    assert run["progress"] == {"expectedNbOfEvents": 9, "receivedNbOfEvents": 9}
    assert run["failureThreshold"] == 5 and run["type"] == "reindex"
    events = api.ok("GET", f"/1/runs/{run_id}/events", params={"sort": "publishedAt", "order": "asc"})["events"]
    assert [(e["type"], e["status"]) for e in events] == [("fetch", "started"), ("fetch", "succeeded")] + [
        ("record", "succeeded")
    ] * 6 + [("log", "succeeded")]
    assert sum(e["batchSize"] for e in events if e["type"] == "record") == 60
    assert not any("parentID" in e for e in events)  # the current spec's closed Event has no parentID
    task = api.ok("GET", f"/1/tasks/{EXAMPLE_TASK_ID}")
    assert task["trigger"]["lastRun"] == api.ok("GET", f"/1/runs/{run_id}")["createdAt"]


def test_the_run_timeline_is_computed_from_time() -> None:
    import random

    from dataferry.emulator.algolia.runs import Timing, plan_run

    task = {"taskID": UNKNOWN, "action": "save", "failureThreshold": None}
    source = {"type": "csv", "name": "feed", "input": {"url": "https://x.example/feed.csv"}}
    run = plan_run(
        random.Random(1),
        run_id="r",
        app_id="A",
        created=1000.0,
        task=task,
        source=source,
        timing=Timing(start_after=1.0, event_interval=0.5, records=30, batch_size=10),
    )
    assert run.view(1000.5)["status"] == "created" and "progress" not in run.view(1000.5)
    started = run.view(1002.1)
    assert started["status"] == "started" and "outcome" not in started  # today's client knows no "processing"
    assert started["progress"] == {"expectedNbOfEvents": 6, "receivedNbOfEvents": 3}
    assert [(e.type, e.status) for e in run.published(1002.1)] == [
        ("fetch", "started"),
        ("fetch", "succeeded"),
        ("record", "succeeded"),
    ]
    finished = run.view(1000.0 + run.finish_offset)
    assert finished["status"] == "finished" and finished["outcome"] == "success" and "finishedAt" in finished
    assert finished["type"] == "update"


@pytest.mark.parametrize(
    ("where", "threshold", "outcome", "code", "failed_batches"),
    [
        ("https://x.example/feed.csv?errors=50", 10, "failure", "too_many_errors", 5),
        ("https://x.example/feed.csv?errors=50", 60, "success", "ok", 5),
        ("https://x.example/critical/feed.csv", 90, "failure", "critical", 0),
    ],
)
def test_sources_decide_how_runs_end(where: str, threshold: int, outcome: str, code: str, failed_batches: int) -> None:
    import random

    from dataferry.emulator.algolia.runs import Timing, plan_run

    run = plan_run(
        random.Random(2),
        run_id="r",
        app_id="A",
        created=0.0,
        task={"taskID": UNKNOWN, "action": "replace", "failureThreshold": threshold},
        source={"type": "csv", "name": "feed", "input": {"url": where}},
        timing=Timing(start_after=0.1, event_interval=0.1, records=100, batch_size=10),
    )
    final = run.view(run.finish_offset + 1)
    assert (final["outcome"], final["reasonCode"]) == (outcome, code)
    assert sum(1 for e in run.events if e.status == "failed") == failed_batches
    if code == "critical":
        assert [e.status for e in run.events] == ["started", "critical"]
    if code == "too_many_errors":
        assert "50% of the records failed" in final["reason"] and "10%" in final["reason"]


def test_runs_are_skipped_while_the_task_is_busy_or_disabled(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", start_after=30.0, event_interval=0.01)
    api = Recorder(emu.base_url)
    first = api.ok("POST", f"/1/tasks/{EXAMPLE_TASK_ID}/run")["runID"]
    second = api.ok("POST", f"/1/tasks/{EXAMPLE_TASK_ID}/run")["runID"]
    assert api.ok("GET", f"/1/runs/{first}")["status"] == "created"
    busy = api.ok("GET", f"/1/runs/{second}")
    assert (busy["status"], busy["reasonCode"]) == ("skipped", "blocking")
    assert "already in progress" in busy["reason"]
    api.ok("PUT", f"/1/tasks/{EXAMPLE_TASK_ID}/disable")
    disabled = api.ok("GET", f"/1/runs/{api.ok('POST', f'/1/tasks/{EXAMPLE_TASK_ID}/run')['runID']}")
    assert (disabled["status"], disabled["reasonCode"]) == ("skipped", "blocking")  # "discarded" is gone today
    assert "disabled" in disabled["reason"]
    skipped = api.ok("GET", "/1/runs", params={"status": "skipped", "taskID": EXAMPLE_TASK_ID})["runs"]
    assert {r["runID"] for r in skipped} == {second, disabled["runID"]}


def test_five_critical_runs_in_a_row_disable_the_task(api: Recorder) -> None:
    task = api.ok("GET", f"/1/tasks/{EXAMPLE_TASK_ID}")
    source = create(
        api, "sources", {"type": "json", "name": "gone", "input": {"url": "https://x.example/critical.json"}}
    )
    broken = create(
        api,
        "tasks",
        {"sourceID": source, "destinationID": task["destinationID"], "action": "save", "trigger": {"type": "onDemand"}},
    )
    for _ in range(5):
        assert api.ok("GET", f"/1/tasks/{broken}")["enabled"] is True
        run = wait_finished(api, api.ok("POST", f"/1/tasks/{broken}/run")["runID"])
        assert run["reasonCode"] == "critical"
    assert api.ok("GET", f"/1/tasks/{broken}")["enabled"] is False
    api.ok("PUT", f"/1/tasks/{broken}/enable")
    assert api.ok("GET", f"/1/tasks/{broken}")["enabled"] is True


def test_observability_windows_default_to_7_days_and_3_hours(emu: Any, api: Recorder) -> None:
    listed = api.ok("GET", "/1/runs")
    ages = sorted(time.time() - r.created for r in emu.app.runs.values())
    assert len(listed["runs"]) == sum(1 for a in ages if a <= 7 * 86400) < len(ages)
    start = datetime.fromisoformat(listed["window"]["startDate"])
    assert timedelta(days=6, hours=23) < datetime.now(UTC) - start < timedelta(days=7, minutes=1)
    everything = api.ok("GET", "/1/runs", params={"startDate": "2000-01-01T00:00:00Z", "itemsPerPage": 100})
    assert len(everything["runs"]) == len(ages)
    old = next(r for r in emu.app.runs.values() if 3 * 3600 < time.time() - r.created < 7 * 86400)
    assert api.ok("GET", f"/1/runs/{old.run_id}/events")["events"] == []  # older than 3 hours
    since = api.ok(
        "GET",
        f"/1/runs/{old.run_id}/events",
        params={"startDate": datetime.fromtimestamp(old.created - 1, UTC).isoformat(), "itemsPerPage": 100},
    )
    assert len(since["events"]) == len(old.events) > 0


def test_authentication_secrets_never_come_back(api: Recorder) -> None:
    aid = create(
        api,
        "authentications",
        {
            "type": "oauth",
            "name": "crm",
            "input": {
                "url": "https://auth.example.com/token",
                "client_id": "crm-client",
                "client_secret": "s3cr3t-value",
            },
        },
    )
    answers = [
        api.call("GET", f"/1/authentications/{aid}"),
        api.call("GET", "/1/authentications"),
        api.call("POST", "/1/authentications/search", json={"authenticationIDs": [aid]}),
        api.call("PATCH", f"/1/authentications/{aid}", json={"input": {"client_secret": "n3w-s3cr3t"}}),
    ]
    assert all(r.status_code == 200 for r in answers)
    assert not any("s3cr3t" in r.text or "client_secret" in r.text for r in answers)
    assert api.ok("GET", f"/1/authentications/{aid}")["input"] == {
        "url": "https://auth.example.com/token",
        "client_id": "crm-client",
    }


def test_resources_in_use_cannot_be_deleted(api: Recorder) -> None:
    task = api.ok("GET", f"/1/tasks/{EXAMPLE_TASK_ID}")
    message = api.refused(400, "DELETE", f"/1/destinations/{task['destinationID']}")
    assert "is used by" in message and "task" in message
    source = api.ok("GET", f"/1/sources/{task['sourceID']}")
    message = api.refused(400, "DELETE", f"/1/authentications/{source['authenticationID']}")
    assert "source 'Products CSV'" in message
    api.ok("DELETE", f"/1/tasks/{EXAMPLE_TASK_ID}")
    api.refused(404, "GET", f"/1/tasks/{EXAMPLE_TASK_ID}")


def test_rate_limits_can_be_switched_off(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", rate_limits=False, **FAST)
    api = Recorder(emu.base_url)
    run_id = next(iter(emu.app.runs))
    assert {api.call("GET", f"/1/runs/{run_id}").status_code for _ in range(205)} == {200}


def test_a_429_can_come_as_an_html_page(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", html_429=True, **FAST)
    api = Recorder(emu.base_url)
    run_id = next(iter(emu.app.runs))
    last = [api.call("GET", f"/1/runs/{run_id}") for _ in range(201)][-1]
    assert last.status_code == 429 and last.headers["Content-Type"].startswith("text/html")
    assert "<title>429 Too Many Requests</title>" in last.text and int(last.headers["Retry-After"]) >= 1


def test_scheduled_tasks_show_their_next_run(api: Recorder) -> None:
    scheduled = next(t for t in api.ok("GET", "/1/tasks")["tasks"] if t["trigger"]["type"] == "schedule")
    upcoming = datetime.fromisoformat(scheduled["trigger"]["nextRun"])
    now = datetime.now(UTC)
    assert now < upcoming <= now + timedelta(days=1) and (upcoming.hour, upcoming.minute) == (6, 0)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/15 * * * *", datetime(2024, 7, 18, 10, 7, tzinfo=UTC), datetime(2024, 7, 18, 10, 15, tzinfo=UTC)),
        (
            "0 6 * * MON-FRI",
            datetime(2024, 7, 19, 7, 0, tzinfo=UTC),
            datetime(2024, 7, 22, 6, 0, tzinfo=UTC),
        ),  # Fri → Mon
        ("0 0 29 FEB *", datetime(2024, 3, 1, tzinfo=UTC), datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
        # day or weekday: Sunday comes first
        ("30 9 1 * 0", datetime(2024, 7, 18, tzinfo=UTC), datetime(2024, 7, 21, 9, 30, tzinfo=UTC)),
    ],
)
def test_cron_next_run(expr: str, after: datetime, expected: datetime) -> None:
    assert next_run(expr, after) == expected


@pytest.mark.parametrize("expr", ["* * *", "61 * * * *", "0 6 * * FUNDAY", "*/0 * * * *"])
def test_cron_refuses_malformed_expressions(expr: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        next_run(expr, datetime(2024, 1, 1, tzinfo=UTC))


def test_describe_lists_the_seeded_tasks(emu: Any) -> None:
    described = emu.app.describe()
    assert EXAMPLE_TASK_ID in described["tasks"] and described["search_key (403 on every call)"] == SEARCH_KEY
    assert "critical" in described["runs"]


# -- runs in progress, and values today's API no longer has -------------------------------------
def test_a_run_in_progress_answers_without_an_outcome(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", start_after=0.02, event_interval=0.25, records=60, batch_size=10)
    api = Recorder(emu.base_url)
    run_id = api.ok("POST", f"/1/tasks/{EXAMPLE_TASK_ID}/run")["runID"]
    deadline = time.monotonic() + 5
    while (run := api.ok("GET", f"/1/runs/{run_id}"))["status"] != "started":
        assert time.monotonic() < deadline, run
        time.sleep(0.01)
    assert "outcome" not in run and run["progress"]["receivedNbOfEvents"] < run["progress"]["expectedNbOfEvents"]
    listed = api.ok("GET", "/1/runs", params={"taskID": EXAMPLE_TASK_ID, "status": "started"})["runs"]
    assert [r["runID"] for r in listed] == [run_id] and "outcome" not in listed[0]
    assert wait_finished(api, run_id)["outcome"] == "success"
    problems, _, _ = problems_of(api.responses)
    assert problems == []


def test_values_todays_api_no_longer_has_are_refused(api: Recorder) -> None:
    # SourceType lost sfcc, DestinationInput lost indexPrefix (current spec; the official client's models)
    before = api.ok("GET", "/1/sources", params={"itemsPerPage": 100})["sources"]
    assert "type" in api.refused(400, "POST", "/1/sources", json={"type": "sfcc", "name": "x", "input": {}})
    assert "type" in api.refused(400, "POST", "/1/sources/validate", json={"type": "sfcc", "name": "x", "input": {}})
    assert api.ok("GET", "/1/sources", params={"itemsPerPage": 100})["sources"] == before
    auth = create(
        api,
        "authentications",
        {"type": "algoliaInsights", "name": "ins", "input": {"appID": "APP", "apiKey": "k-12345"}},
    )
    message = api.refused(
        400,
        "POST",
        "/1/destinations",
        json={"type": "insights", "name": "events", "input": {"indexPrefix": "shop_"}, "authenticationID": auth},
    )
    assert "indexName" in message or "indexPrefix" in message


# -- malformed bodies: 400 with a JSON message, and nothing stored -------------------------------
FUZZED_AUTH_PATCH = {"type": "googleServiceAccount", "platform": "shopify", "input": [None, None], "name": ""}
"""The body schemathesis found to crash ``PATCH /1/authentications/{id}`` (issue #22)."""


def test_the_fuzzed_authentication_patch_is_a_400_not_a_500(api: Recorder) -> None:
    aid = api.ok("GET", "/1/authentications")["authentications"][0]["authenticationID"]
    before = api.ok("GET", f"/1/authentications/{aid}")
    r = api.call("PATCH", f"/1/authentications/{aid}", json=FUZZED_AUTH_PATCH)
    assert (r.status_code, r.headers["Content-Type"].split(";")[0]) == (400, "application/json"), r.text[:200]
    assert isinstance(r.json()["message"], str) and r.json()["message"]
    assert api.ok("GET", f"/1/authentications/{aid}") == before


def _body_operations(api: Recorder) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation that reads a JSON body, with a valid body for it (its fields are mutated)."""
    task = api.ok("GET", f"/1/tasks/{EXAMPLE_TASK_ID}")
    source = api.ok("GET", f"/1/sources/{task['sourceID']}")
    destination = api.ok("GET", f"/1/destinations/{task['destinationID']}")
    aid = destination["authenticationID"]
    return {
        ("POST", "/1/authentications"): {
            "type": "basic",
            "name": "n",
            "platform": None,
            "input": {"username": "u", "password": "p"},
        },
        ("PATCH", f"/1/authentications/{source['authenticationID']}"): {
            "type": "basic",
            "name": "n",
            "platform": None,
            "input": {"username": "u2"},
        },
        ("POST", "/1/authentications/search"): {"authenticationIDs": [aid]},
        ("POST", "/1/destinations"): {
            "type": "search",
            "name": "n",
            "input": {"indexName": "i"},
            "authenticationID": aid,
        },
        ("PATCH", f"/1/destinations/{destination['destinationID']}"): {
            "type": "search",
            "name": "n",
            "input": {"indexName": "i"},
            "authenticationID": aid,
        },
        ("POST", "/1/destinations/search"): {"destinationIDs": [destination["destinationID"]]},
        ("POST", "/1/sources"): {"type": "csv", "name": "n", "input": {"url": "https://x.example/a.csv"}},
        ("PATCH", f"/1/sources/{source['sourceID']}"): {
            "name": "n",
            "input": {"url": "https://x.example/b.csv"},
            "authenticationID": source["authenticationID"],
        },
        ("POST", "/1/sources/search"): {"sourceIDs": [source["sourceID"]]},
        ("POST", "/1/sources/validate"): {"type": "csv", "name": "n", "input": {"url": "https://x.example/a.csv"}},
        ("POST", f"/1/sources/{source['sourceID']}/validate"): {
            "name": "n",
            "input": {"url": "https://x.example/b.csv"},
        },
        ("POST", "/1/tasks"): {
            "sourceID": source["sourceID"],
            "destinationID": destination["destinationID"],
            "trigger": {"type": "onDemand"},
            "action": "save",
            "enabled": True,
            "failureThreshold": 5,
            "cursor": "2024-07-18T10:00:00Z",
        },
        ("PATCH", f"/1/tasks/{EXAMPLE_TASK_ID}"): {
            "destinationID": destination["destinationID"],
            "enabled": True,
            "failureThreshold": 5,
        },
        ("POST", "/1/tasks/search"): {"taskIDs": [EXAMPLE_TASK_ID]},
    }


MALFORMED_VALUES = ([None, None], {"unexpected": [None]}, "", -1.5)
"""Values no field of a request body accepts (every field is a string, object, array of strings,
boolean or integer; none is nullable but ``platform``, which takes none of these either)."""


def test_every_malformed_body_is_a_400_with_a_message_and_nothing_is_stored(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", rate_limits=False, **FAST)
    api = Recorder(emu.base_url)
    operations_ = _body_operations(api)
    assert {(m, template_of(m, p)[1]) for m, p in operations_} == {
        op
        for op in operations()
        if op[0] in ("POST", "PATCH") and "requestBody" in raw_spec()["paths"][op[1]][op[0].lower()]
    }, "an operation with a body is missing here"
    state = copy.deepcopy(emu.app.store)
    answers = []
    for (method, path), valid in operations_.items():
        bodies: list[Any] = [b"{", b"[]", b'"text"', b"42", b"null", b"\xff\xfe", b'{"name": "\\udb33"}']
        for field in valid:
            bodies += [{**valid, field: value} for value in MALFORMED_VALUES]
        for body in bodies:
            kw = (
                {"data": body, "headers": {"Content-Type": "application/json"}}
                if isinstance(body, bytes)
                else {"json": body}
            )
            r = api.call(method, path, **kw)
            answers.append((method, path, body, r.status_code, r.headers.get("Content-Type", ""), r.text[:120]))
    wrong = [a for a in answers if a[3] != 400 or not a[4].startswith("application/json")]
    assert wrong == [], f"{len(wrong)} of {len(answers)} malformed bodies not answered 400 JSON: {wrong[:5]}"
    assert all(isinstance(r.json().get("message"), str) for r in api.responses[-len(answers) :])
    for kind in ("authentications", "destinations", "sources", "tasks"):
        assert {k: {f: v for f, v in r.items() if f != "_lastRun"} for k, r in emu.app.store[kind].items()} == {
            k: {f: v for f, v in r.items() if f != "_lastRun"} for k, r in state[kind].items()
        }, kind


def test_source_inputs_that_match_no_variant_are_refused_and_never_stored(api: Recorder) -> None:
    flags = {"featureFlags": {"b2b": True, "anything": {"goes": [1, None]}}}
    shop = create(
        api, "sources", {"type": "shopify", "name": "shop", "input": {"shopURL": "https://s.example", **flags}}
    )
    csv_id = next(s["sourceID"] for s in api.ok("GET", "/1/sources")["sources"] if s["type"] == "csv")
    api.refused(400, "POST", "/1/sources", json={"type": "sfcc", "name": "x", "input": flags})  # the fuzzed case
    api.refused(400, "POST", "/1/sources", json={"type": "csv", "name": "x", "input": flags})
    api.refused(400, "PATCH", f"/1/sources/{csv_id}", json={"input": flags})
    api.refused(400, "POST", f"/1/sources/{csv_id}/validate", json={"input": flags})
    api.refused(400, "PATCH", f"/1/sources/{shop}", json={"input": {**flags, "colour": "red"}})
    # SourceUpdateInput reuses SourceCSV whole: an update input without url matches no variant (fuzzed case)
    api.refused(400, "PATCH", f"/1/sources/{csv_id}", json={"input": {"method": "POST", "uniqueIDColumn": "sku"}})
    bigcommerce = create(api, "sources", {"type": "bigcommerce", "name": "bc", "input": {"storeHash": "h1"}})
    api.refused(400, "PATCH", f"/1/sources/{bigcommerce}", json={"input": {"storeHash": "h2"}})  # no such variant
    api.refused(
        400,
        "POST",
        "/1/sources/validate",
        json={
            "type": "bigquery",
            "name": "x",
            "input": {"projectID": "p", "datasetID": "d", "dataType": "ga5", "customSQLRequest": []},
        },
    )
    api.ok("GET", "/1/sources", params={"itemsPerPage": 100})
    problems, _, _ = problems_of(api.responses)
    assert problems == []


def test_enum_filters_with_empty_values_are_refused(api: Recorder) -> None:
    for path, name in (
        ("/1/runs", "status"),
        ("/1/tasks", "action"),
        ("/1/tasks", "triggerType"),
        ("/1/authentications", "type"),
        ("/1/sources", "type"),
        ("/1/destinations", "type"),
        (f"/1/runs/{next(iter(api.ok('GET', '/1/runs')['runs']))['runID']}/events", "type"),
    ):
        assert name in api.refused(400, "GET", path, params={name: ""}), path
        assert name in api.refused(400, "GET", path, params={name: "a,,b"}), path


# -- overlapping oneOfs: one variant where a shape can match one ----------------------------------
@lru_cache(maxsize=1)
def published_spec() -> dict[str, Any]:
    """The spec exactly as published (strict ``oneOf``s, ``SourceShopify``'s impossible ``allOf``)."""
    return yaml.safe_load(SPEC_PATH.read_text())


def strict_variants(union: str, value: Any) -> list[str]:
    """The members of the published ``oneOf`` ``union`` that ``value`` is valid against."""
    components = published_spec()["components"]
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in components["schemas"][union]["oneOf"]]
    return [
        n
        for n in names
        if not list(OAS30Validator({"$ref": f"#/components/schemas/{n}", "components": components}).iter_errors(value))
    ]


SPEC_AMBIGUOUS = {
    "algolia": ("AuthAlgoliaPartial", "AuthAlgoliaInsightsPartial"),
    "algoliaInsights": ("AuthAlgoliaPartial", "AuthAlgoliaInsightsPartial"),
    "apiKey": (
        "AuthGoogleServiceAccountPartial",
        "AuthBasicPartial",
        "AuthAPIKeyPartial",
        "AuthOAuthPartial",
        "AuthAlgoliaPartial",
        "AuthAlgoliaInsightsPartial",
    ),
    "json": ("SourceJSON", "SourceCSV"),
    "ga4BigqueryExport": ("SourceBigQuery", "SourceGA4BigQueryExport"),
    "shopify": (),
}
"""Types no answer can give a single-variant input: the two Algolia variants are identical, an
API-key input is ``{}`` once its secret is left out, ``SourceJSON`` is a subset of ``SourceCSV``,
``SourceGA4BigQueryExport`` of ``SourceBigQuery``, and ``SourceShopify`` matches nothing."""


def test_inputs_match_exactly_one_published_variant_where_a_shape_can(api: Recorder) -> None:
    for kind, body in (
        (
            "authentications",
            {"type": "googleServiceAccount", "name": "g", "input": {"clientEmail": "a@b.iam", "privateKey": "pk-123"}},
        ),
        (
            "authentications",
            {
                "type": "oauth",
                "name": "o",
                "input": {"url": "https://o.example/token", "client_id": "c", "client_secret": "s-123"},
            },
        ),
        ("authentications", {"type": "apiKey", "name": "k", "input": {"key": "k-123"}}),
        ("sources", {"type": "csv", "name": "plain csv", "input": {"url": "https://x.example/a.csv"}}),
        ("sources", {"type": "json", "name": "j", "input": {"url": "https://x.example/a.json"}}),
        ("sources", {"type": "bigquery", "name": "b", "input": {"projectID": "p", "datasetID": "d"}}),
        (
            "sources",
            {
                "type": "docker",
                "name": "d",
                "input": {"registry": "ghcr", "image": "a/b", "imageType": "custom", "configuration": {}},
            },
        ),
    ):
        create(api, kind, body)
    answered = [
        ("AuthInputPartial", a)
        for a in api.ok("GET", "/1/authentications", params={"itemsPerPage": 100})["authentications"]
    ]
    answered += [("SourceInput", s) for s in api.ok("GET", "/1/sources", params={"itemsPerPage": 100})["sources"]]
    unexpected = []
    for union, item in answered:
        matched = strict_variants(union, item["input"])
        expected = SPEC_AMBIGUOUS.get(item["type"])
        if (expected is None and len(matched) != 1) or (expected is not None and tuple(matched) != expected):
            unexpected.append((item["type"], item["input"], matched))
    assert unexpected == []
