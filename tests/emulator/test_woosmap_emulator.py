"""The Woosmap emulator: its behaviour, and every answer it gives checked against the official
OpenAPI spec (../shared/specs/woosmap-datasets/datasets-only.extracted.openapi3.json) with
openapi-core."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from dataferry.emulator.woosmap import NO_QUOTA_KEY, PUBLIC_KEY, READ_ONLY_KEY, parse_where

SPEC = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "specs"
    / "woosmap-datasets"
    / "datasets-only.extracted.openapi3.json"
)
SPEC_SERVER = "https://api.woosmap.com"
FAST = {"queue_seconds": 0.02, "fetch_seconds": 0.08, "import_seconds": 0.12}
UNKNOWN = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[3.85, 43.59], [3.90, 43.59], [3.90, 43.63], [3.85, 43.63], [3.85, 43.59]]],
}
HOOK_WITHOUT_AUTH = {401, 402, 403}  # the hook takes no credentials: the spec lists these without a body


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    assert SPEC.is_file(), f"the official Woosmap spec is expected at {SPEC}"
    return json.loads(SPEC.read_text())


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec)


class Recorder:
    """A requests session that keeps every response for validation afterwards."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if key:
            self.session.headers["X-Api-Key"] = key
        self.responses: list[requests.Response] = []
        self.session.hooks["response"].append(lambda r, *a, **k: self.responses.append(r))

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, **kw)


def operation_of(spec: dict[str, Any], method: str, path: str) -> str:
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\{[^/]+\}", "[^/]+", template.rstrip("/")) + "/?"
        if re.fullmatch(pattern, path) and method.lower() in item:
            return f"{method.upper()} {template}"
    raise AssertionError(f"{method} {path} is not an operation of the spec")


def validate(openapi: OpenAPI, response: requests.Response) -> None:
    """Raise unless ``response`` is what the spec documents for its request."""
    sent = response.request
    parts = urlsplit(sent.url)
    # the docs pages write list/create as /datasets, the spec as /datasets/: the emulator takes both
    path = "/datasets/" if parts.path == "/datasets" else parts.path
    req = MockRequest(SPEC_SERVER, sent.method, path, args=dict(parse_qsl(parts.query)))
    res = MockResponse(
        response.content,
        response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("Content-Type", ""),
    )
    openapi.validate_response(req, res)


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "the emulator never reached the expected state"
        time.sleep(0.01)


# -- spec conformance --------------------------------------------------------------------------------
def _exercise(emu: Any, rec: Recorder, anon: Recorder, keys: dict[str, Recorder]) -> None:
    """Every operation, with a success and each documented error the emulator can give."""
    made = rec.call(
        "POST",
        "/datasets/",
        json={
            "name": "stores",
            "url": "https://example.com/stores.geojson",
            "schema_mapping": [{"schema_key": "title", "data_key": "name"}],
        },
    )
    did = made.json()["id"]
    failing = rec.call(
        "POST", "/datasets", json={"name": "broken", "url": "https://example.com/fail-import.json"}
    ).json()["id"]
    rec.call("GET", "/datasets/?page=1&per_page=2")
    rec.call("GET", "/datasets/?page=99")
    rec.call("GET", f"/datasets/{did}")
    rec.call("PUT", f"/datasets/{did}", json={"name": "stores (FR)", "url": None})
    rec.call("GET", f"/datasets/{did}/status")  # 404: never imported
    rec.call("POST", f"/datasets/{did}/import")
    until(lambda: rec.call("GET", f"/datasets/{did}/status").status_code == 200)
    until(lambda: rec.call("GET", f"/datasets/{did}/status").json()["status"] == "success")
    rec.call("POST", f"/datasets/{failing}/import")
    until(lambda: rec.call("GET", f"/datasets/{failing}/status").json().get("status") == "failed")
    key = rec.call("GET", f"/datasets/{did}").json()["reimport_key"]
    anon.call("POST", f"/datasets/hooks/reimport/{key}")
    anon.call("POST", f"/datasets/hooks/reimport/{UNKNOWN}")  # 404
    anon.call("POST", "/datasets/hooks/reimport/not-a-uuid")  # 422
    until(lambda: rec.call("GET", f"/datasets/{did}/status").json()["status"] == "success")
    for fmt in ("geojson", "wkb"):
        found = rec.call(
            "POST", f"/datasets/{did}/features/search/?format={fmt}&per_page=3", json={"where": "cost:>10"}
        )
        rec.call(
            "POST", f"/datasets/{did}/features/nearby/?format={fmt}", json={"geometry": "43.61,3.87", "buffer": 3000}
        )
        rec.call("POST", f"/datasets/{did}/features/intersects/?format={fmt}", json={"geometry": SQUARE})
        rec.call(
            "POST",
            f"/datasets/{did}/features/within/?format={fmt}",
            json={"geometry": SQUARE, "where": "accessible:true"},
        )
        rec.call(
            "POST",
            f"/datasets/{did}/features/contains/?format={fmt}",
            json={"geometry": {"type": "Point", "coordinates": [3.87, 43.6]}},
        )
        rec.call("GET", f"/datasets/{did}/features/{found.json()['features'][0]['id']}?format={fmt}")
    rec.call("GET", f"/datasets/{did}/features/{UNKNOWN}")
    keys["public"].call("POST", f"/datasets/{did}/features/search/?key={PUBLIC_KEY}", json={"where": "cost:<30"})
    keys["read_only"].call("GET", f"/datasets/{did}/features/{UNKNOWN}")
    rec.call("DELETE", f"/datasets/{did}")
    rec.call("DELETE", f"/datasets/{did}")  # 409
    templates = [
        ("GET", "/datasets/", None),
        ("POST", "/datasets/", {"name": "x", "url": "https://e.com/x.json"}),
        ("GET", "/datasets/{id}", None),
        ("PUT", "/datasets/{id}", {"name": "y"}),
        ("DELETE", "/datasets/{id}", None),
        ("GET", "/datasets/{id}/status", None),
        ("POST", "/datasets/{id}/import", None),
        ("GET", "/datasets/{id}/features/{fid}", None),
    ] + [
        ("POST", f"/datasets/{{id}}/features/{q}/", {"where": "cost:>1", "geometry": SQUARE})
        for q in ("search", "nearby", "intersects", "contains", "within")
    ]
    for method, template, body in templates:
        path = template.replace("{id}", UNKNOWN).replace("{fid}", UNKNOWN)
        anon.call(method, path, json=body)  # 401
        keys["no_quota"].call(method, path, json=body)  # 402
        keys["wrong"].call(method, path, json=body)  # 403
        bad = template.replace("{id}", "not-a-uuid").replace("{fid}", "nor-this")
        rec.call(
            method, bad + ("?per_page=50" if method == "GET" and template == "/datasets/" else ""), json=body
        )  # 422 (404 for the list: see below)
        rec.call(method, path, json=body)  # 404 where the path has an id
    rec.call("GET", "/datasets/?per_page=0&page=x")  # 422
    rec.call("POST", "/datasets/", json={"name": 3, "url": "ftp://nope", "schema_mapping": [{"schema_key": "x"}]})
    rec.call("POST", "/datasets/", data="{not json", headers={"Content-Type": "application/json"})
    rec.call("POST", f"/datasets/{failing}/features/search/", json={"where": "cost:>"})
    rec.call("POST", f"/datasets/{failing}/features/nearby/", json={"geometry": {"type": "Circle"}, "buffer": "far"})


def _exercise_limits(limited: Recorder, anon: Recorder, did: str, key: str) -> None:
    """Each operation twice in a row on an emulator with the real windows: the second is a 429."""
    calls = [
        ("GET", "/datasets/", None),
        ("POST", "/datasets/", {"name": "x", "url": "https://e.com/x.json"}),
        ("GET", f"/datasets/{did}", None),
        ("PUT", f"/datasets/{did}", {"name": "y"}),
        ("GET", f"/datasets/{did}/status", None),
        ("POST", f"/datasets/{did}/import", None),
        ("DELETE", f"/datasets/{did}", None),
    ]
    for method, path, body in calls:
        limited.call(method, path, json=body)
        limited.call(method, path, json=body)
    for _ in range(21):
        limited.call("POST", f"/datasets/{did}/features/search/", json={"where": "cost:>1"})
    # the feature endpoints share one 20-per-second window, just used up
    for q in ("nearby", "intersects", "contains", "within"):
        limited.call("POST", f"/datasets/{did}/features/{q}/", json={"geometry": SQUARE})
    limited.call("GET", f"/datasets/{did}/features/{UNKNOWN}")
    anon.call("POST", f"/datasets/hooks/reimport/{key}")
    anon.call("POST", f"/datasets/hooks/reimport/{key}")


def test_every_emulator_answer_validates_against_the_official_spec(
    start_emulator: Any, spec: dict[str, Any], openapi: OpenAPI
) -> None:
    emu = start_emulator("woosmap", rate_limits=False, **FAST)
    rec = Recorder(emu.base_url, emu.credentials["private_key"])
    anon = Recorder(emu.base_url, None)
    keys = {
        "no_quota": Recorder(emu.base_url, NO_QUOTA_KEY),
        "wrong": Recorder(emu.base_url, "not-a-key-at-all"),
        "read_only": Recorder(emu.base_url, READ_ONLY_KEY),
        "public": Recorder(emu.base_url, None),
    }
    _exercise(emu.app, rec, anon, keys)

    limited_emu = start_emulator("woosmap", **FAST)
    limited = Recorder(limited_emu.base_url, limited_emu.credentials["private_key"])
    anon_limited = Recorder(limited_emu.base_url, None)
    target = next(iter(limited_emu.app.datasets.values()))
    _exercise_limits(limited, anon_limited, target.id, target.reimport_key)

    recorders = [rec, anon, *keys.values(), limited, anon_limited]
    seen: set[tuple[str, int]] = set()
    failures = []
    for r in recorders:
        for response in r.responses:
            op = operation_of(spec, response.request.method, urlsplit(response.request.url).path)
            seen.add((op, response.status_code))
            try:
                validate(openapi, response)
            except Exception as exc:  # collect them all, then fail with the list
                failures.append(
                    f"{op} → {response.status_code} {response.text[:200]}: {type(exc).__name__}: {str(exc)[:300]}"
                )
    assert not failures, "\n".join(failures)

    documented = {
        (f"{m.upper()} {p}", int(code))
        for p, item in spec["paths"].items()
        for m, op in item.items()
        if isinstance(op, dict) and "responses" in op
        for code in op["responses"]
    }
    expected = {
        (op, code)
        for op, code in documented
        if not (op.endswith("/hooks/reimport/{reimport_key}") and code in HOOK_WITHOUT_AUTH)
    }
    missing = sorted(expected - seen)
    assert not missing, f"documented answers never produced and checked: {missing}"
    assert seen <= documented, f"answers the spec does not document: {sorted(seen - documented)}"


def test_the_validator_rejects_what_the_spec_does_not_allow(openapi: OpenAPI, start_emulator: Any) -> None:
    """The conformance check can fail: a wrong error key and an undocumented status are caught."""
    emu = start_emulator("woosmap", rate_limits=False)
    response = requests.get(f"{emu.base_url}/datasets/{UNKNOWN}", headers={"X-Api-Key": emu.credentials["private_key"]})
    validate(openapi, response)
    response._content = json.dumps({"detail": "Dataset was not found"}).encode()  # singular key on a 404
    with pytest.raises(Exception, match="details"):
        validate(openapi, response)
    response.status_code = 418
    with pytest.raises(Exception, match="418"):
        validate(openapi, response)


# -- imports over time --------------------------------------------------------------------------------
@pytest.fixture
def emu(start_emulator: Any) -> Any:
    return start_emulator("woosmap", rate_limits=False, **FAST)


@pytest.fixture
def api(emu: Any) -> Recorder:
    return Recorder(emu.base_url, emu.credentials["private_key"])


def _create(api: Recorder, url: str = "https://example.com/stores.geojson", **extra: Any) -> str:
    response = api.call("POST", "/datasets/", json={"name": "stores", "url": url, **extra})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _statuses_until_final(api: Recorder, did: str) -> list[dict[str, Any]]:
    seen = []

    def final() -> bool:
        response = api.call("GET", f"/datasets/{did}/status")
        if response.status_code == 200:
            seen.append(response.json())
            return response.json()["status"] != "in_progress"
        return False

    until(final)
    return seen


def test_an_import_moves_from_fetch_to_import_and_logs_each_step(api: Recorder) -> None:
    did = _create(api)
    assert api.call("GET", f"/datasets/{did}/status").json() == {"details": "No import run found for this dataset"}
    answer = api.call("POST", f"/datasets/{did}/import")
    assert (answer.status_code, answer.json()) == (202, {"dataset_id": did})
    seen = _statuses_until_final(api, did)
    phases = []
    for body in seen:
        phase = (body["status"], [(s["name"], s["status"]) for s in body["steps"]])
        if not phases or phases[-1] != phase:
            phases.append(phase)
    assert phases[0] == ("in_progress", [("fetch", "in_progress")])
    assert ("in_progress", [("fetch", "success"), ("import", "in_progress")]) in phases
    assert phases[-1] == ("success", [("fetch", "success"), ("import", "success")])
    final = seen[-1]
    assert len({b["id"] for b in seen}) == 1
    fetch, load = final["steps"]
    assert fetch["end"] <= load["start"] and load["end"] is not None
    details = [e["detail"] for s in final["steps"] for e in s["entries"]]
    assert details[0] == "Fetching https://example.com/stores.geojson..."
    count = int(re.search(r"Will import (\d+) features", " ".join(details)).group(1))
    assert details[-1] == f"Successfully imported {count} features."
    assert {e["level"] for s in final["steps"] for e in s["entries"]} == {"info", "warning"}


@pytest.mark.parametrize("marker,failed_step", [("fail-fetch", "fetch"), ("fail-import", "import")])
def test_imports_fail_on_request_with_error_entries(api: Recorder, marker: str, failed_step: str) -> None:
    did = _create(api, f"https://example.com/{marker}/stores.geojson")
    api.call("POST", f"/datasets/{did}/import")
    final = _statuses_until_final(api, did)[-1]
    assert final["status"] == "failed"
    assert final["steps"][-1]["name"] == failed_step and final["steps"][-1]["status"] == "failed"
    assert [s["name"] for s in final["steps"]] == (["fetch"] if failed_step == "fetch" else ["fetch", "import"])
    errors = [e for e in final["steps"][-1]["entries"] if e["level"] == "error"]
    assert len(errors) >= 2
    features = api.call("POST", f"/datasets/{did}/features/search/", json={"where": "cost:>0"}).json()
    assert features["features"] == []


def test_the_status_keeps_showing_the_previous_run_until_the_new_one_starts(start_emulator: Any) -> None:
    emu = start_emulator("woosmap", rate_limits=False, queue_seconds=0.6, fetch_seconds=0.05, import_seconds=0.05)
    api = Recorder(emu.base_url, emu.credentials["private_key"])
    did = _create(api)
    api.call("POST", f"/datasets/{did}/import")
    assert api.call("GET", f"/datasets/{did}/status").status_code == 404
    first = _statuses_until_final(api, did)[-1]
    api.call("POST", f"/datasets/{did}/import")
    assert api.call("GET", f"/datasets/{did}/status").json()["id"] == first["id"]
    second = until(lambda: (b := api.call("GET", f"/datasets/{did}/status").json())["id"] != first["id"] and b)
    assert second["steps"][0]["name"] == "fetch"


def test_the_reimport_hook_needs_no_key_and_checks_its_own(api: Recorder, emu: Any) -> None:
    did = _create(api)
    key = api.call("GET", f"/datasets/{did}").json()["reimport_key"]
    uuid.UUID(key)
    answer = requests.post(f"{emu.base_url}/datasets/hooks/reimport/{key}")
    assert (answer.status_code, answer.json()) == (202, {"dataset_id": did})
    assert requests.post(f"{emu.base_url}/datasets/hooks/reimport/{UNKNOWN}").status_code == 404
    assert _statuses_until_final(api, did)[-1]["status"] == "success"


# -- auth --------------------------------------------------------------------------------------------
def test_the_private_key_is_accepted_in_the_header_and_in_the_query(emu: Any) -> None:
    key = emu.credentials["private_key"]
    assert requests.get(f"{emu.base_url}/datasets/", headers={"X-Api-Key": key}).status_code == 200
    assert requests.get(f"{emu.base_url}/datasets/", params={"private_key": key}).status_code == 200
    for headers, params, status, body in [
        ({}, {}, 401, {"detail": "Unable to locate credentials."}),
        ({"X-Api-Key": "someone-else"}, {}, 403, {"detail": "Credentials found, but not matching."}),
        ({"X-Api-Key": READ_ONLY_KEY}, {}, 403, {"detail": "Credentials found, but not matching."}),
        ({}, {"key": PUBLIC_KEY}, 401, {"detail": "Unable to locate credentials."}),
        ({"X-Api-Key": NO_QUOTA_KEY}, {}, 402, {"detail": "Out of free quota."}),
    ]:
        answer = requests.get(f"{emu.base_url}/datasets/", headers=headers, params=params)
        assert (answer.status_code, answer.json()) == (status, body)


def test_feature_queries_also_take_the_read_only_and_public_keys(emu: Any) -> None:
    did = next(iter(emu.app.datasets))
    url = f"{emu.base_url}/datasets/{did}/features/search/"
    assert requests.post(url, json={"where": "cost:>1"}, headers={"X-Api-Key": READ_ONLY_KEY}).status_code == 200
    assert requests.post(url, json={"where": "cost:>1"}, params={"key": PUBLIC_KEY}).status_code == 200
    assert requests.post(url, json={"where": "cost:>1"}, params={"key": "woos-other"}).status_code == 403


# -- rate limits ------------------------------------------------------------------------------------
def test_rate_limits_answer_429_with_retry_after_per_endpoint(start_emulator: Any) -> None:
    emu = start_emulator("woosmap")
    api = Recorder(emu.base_url, emu.credentials["private_key"])
    did = next(iter(emu.app.datasets))
    assert api.call("GET", f"/datasets/{did}/status").status_code == 200
    second = api.call("GET", f"/datasets/{did}/status")
    assert (second.status_code, second.json()) == (429, {"details": "Rate limit reached"})
    assert 4 <= int(second.headers["Retry-After"]) <= 5
    assert api.call("GET", f"/datasets/{did}").status_code == 200  # another endpoint: its own window
    assert emu.app.throttled == [("status", f"/datasets/{did}/status")]


def test_rate_limits_can_be_scaled_or_switched_off(start_emulator: Any) -> None:
    scaled = start_emulator("woosmap", rate_scale=0.1)
    api = Recorder(scaled.base_url, scaled.credentials["private_key"])
    did = next(iter(scaled.app.datasets))
    api.call("GET", f"/datasets/{did}/status")
    refused = api.call("GET", f"/datasets/{did}/status")
    assert refused.status_code == 429 and 0 < float(refused.headers["Retry-After"]) <= 0.5
    until(lambda: api.call("GET", f"/datasets/{did}/status").status_code == 200)
    off = start_emulator("woosmap", rate_limits=False)
    api = Recorder(off.base_url, off.credentials["private_key"])
    did = next(iter(off.app.datasets))
    assert {api.call("POST", f"/datasets/{did}/import").status_code for _ in range(5)} == {202}


# -- datasets -----------------------------------------------------------------------------------------
def test_the_list_pages_with_next_until_the_end(start_emulator: Any) -> None:
    emu = start_emulator("woosmap", rate_limits=False, existing_datasets=5)
    api = Recorder(emu.base_url, emu.credentials["private_key"])
    pages = [api.call("GET", f"/datasets?page={n}&per_page=2").json() for n in (1, 2, 3, 4)]
    assert [p["pagination"] for p in pages] == [
        {"page": 1, "prev": None, "next": 2},
        {"page": 2, "prev": 1, "next": 3},
        {"page": 3, "prev": 2, "next": None},
        {"page": 4, "prev": 3, "next": None},
    ]
    ids = [d["id"] for p in pages for d in p["datasets"]]
    assert sorted(ids) == sorted(emu.app.datasets) and len(ids) == 5
    assert api.call("GET", "/datasets/").json()["pagination"] == {"page": 1, "prev": None, "next": None}
    problems = api.call("GET", "/datasets/?per_page=21").json()["detail"]
    assert problems == [
        {"loc": ["query", "per_page"], "msg": "Input should be less than or equal to 20", "type": "less_than_equal"}
    ]


def test_create_validates_like_fastapi_and_lists_every_problem(api: Recorder) -> None:
    answer = api.call(
        "POST", "/datasets/", json={"url": "x" * 10, "schema_mapping": [{"schema_key": "name", "data_key": "n"}, "x"]}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {
            "loc": ["body", "url"],
            "msg": "Input should be a valid URL, relative URL without a base",
            "type": "url_parsing",
        },
        {"loc": ["body", "schema_mapping", 0, "schema_key"], "msg": "Input should be 'title'", "type": "enum"},
        {
            "loc": ["body", "schema_mapping", 1],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "type": "model_attributes_type",
        },
    ]
    long_url = "https://example.com/" + "a" * 2100
    assert (
        api.call("POST", "/datasets/", json={"name": "n", "url": long_url}).json()["detail"][0]["type"]
        == "url_too_long"
    )


def test_update_and_scheduled_deletion(api: Recorder) -> None:
    did = _create(api)
    before = api.call("GET", f"/datasets/{did}").json()
    assert before["updated_at"] is None and before["scheduled_for_deletion_after"] is None
    after = api.call("PUT", f"/datasets/{did}", json={"url": "https://example.com/v2.geojson"}).json()
    assert after["url"] == "https://example.com/v2.geojson" and after["name"] == "stores" and after["updated_at"]
    assert api.call("DELETE", f"/datasets/{did}").json() == {}
    scheduled = api.call("GET", f"/datasets/{did}").json()["scheduled_for_deletion_after"]
    created = before["created_at"][:10]
    days = (time.mktime(time.strptime(scheduled, "%Y-%m-%d")) - time.mktime(time.strptime(created, "%Y-%m-%d"))) / 86400
    assert round(days) == 7
    again = api.call("DELETE", f"/datasets/{did}")
    assert (again.status_code, again.json()) == (409, {"details": "The Dataset was already scheduled for deletion."})


# -- features -------------------------------------------------------------------------------------------
@pytest.fixture
def imported(api: Recorder) -> Iterator[str]:
    did = _create(api)
    api.call("POST", f"/datasets/{did}/import")
    assert _statuses_until_final(api, did)[-1]["status"] == "success"
    yield did


def _all(api: Recorder, did: str, query: str, body: dict[str, Any], fmt: str = "geojson") -> list[dict[str, Any]]:
    out, page = [], 1
    while page:
        answer = api.call(
            "POST", f"/datasets/{did}/features/{query}/?page={page}&per_page=20&format={fmt}", json=body
        ).json()
        out += answer["features"]
        page = answer["pagination"]["next"]
    return out


def test_feature_search_filters_on_attributes(api: Recorder, imported: str) -> None:
    everything = _all(api, imported, "search", {"where": "cost:>=0"})
    assert len(everything) >= 20
    cheap_or_bakery = _all(api, imported, "search", {"where": 'cost:<20 AND accessible:true OR category:"bakery"'})
    expected = [
        f
        for f in everything
        if (f["attributes"]["cost"] < 20 and f["attributes"]["accessible"]) or f["attributes"]["category"] == "bakery"
    ]
    assert cheap_or_bakery == expected and 0 < len(expected) < len(everything)
    refused = api.call("POST", f"/datasets/{imported}/features/search/", json={"where": "cost:>cheap"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "where"]


def test_geometry_queries_select_by_position(api: Recorder, imported: str) -> None:
    everything = _all(api, imported, "search", {"where": "cost:>=0"})
    inside = _all(api, imported, "within", {"geometry": SQUARE})
    expected = [
        f
        for f in everything
        if 3.85 < f["geometry"]["coordinates"][0] < 3.90 and 43.59 < f["geometry"]["coordinates"][1] < 43.63
    ]
    assert {f["id"] for f in inside} == {f["id"] for f in expected} and expected
    assert _all(api, imported, "intersects", {"geometry": SQUARE}) == inside
    near = _all(api, imported, "nearby", {"geometry": "43.6108,3.8767", "buffer": 2500})
    assert 0 < len(near) < len(everything)
    distances = [_haversine(f["geometry"]["coordinates"], (3.8767, 43.6108)) for f in near]
    assert distances == sorted(distances) and max(distances) <= 2500 * 1.01
    left_out = [f for f in everything if f["id"] not in {n["id"] for n in near}]
    assert min(_haversine(f["geometry"]["coordinates"], (3.8767, 43.6108)) for f in left_out) >= 2500 * 0.99
    point = everything[0]["geometry"]
    assert [f["id"] for f in _all(api, imported, "contains", {"geometry": point})] == [everything[0]["id"]]
    wkt = "POLYGON((3.85 43.59, 3.90 43.59, 3.90 43.63, 3.85 43.63, 3.85 43.59))"
    assert _all(api, imported, "within", {"geometry": wkt}) == inside
    refused = api.call("POST", f"/datasets/{imported}/features/within/", json={"geometry": "43.6,3.8"})
    assert refused.json()["detail"][0]["msg"] == "geometry must be a Polygon"


def _haversine(a: Any, b: Any) -> float:
    lng1, lat1, lng2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def test_features_come_as_geojson_or_wkb_and_one_can_be_read_with_a_field_mask(api: Recorder, imported: str) -> None:
    first = _all(api, imported, "search", {"where": "cost:>=0"})[0]
    wkb = _all(api, imported, "search", {"where": "cost:>=0"}, fmt="wkb")[0]
    order, kind, lng, lat = struct.unpack("<BIdd", base64.b64decode(wkb["geometry"]))
    assert (order, kind, [lng, lat]) == (1, 1, first["geometry"]["coordinates"])
    one = api.call("GET", f"/datasets/{imported}/features/{first['id']}").json()
    assert one == first
    masked = api.call(
        "GET", f"/datasets/{imported}/features/{first['id']}", headers={"X-Field-Mask": "attributes.name,cost"}
    ).json()
    assert masked["attributes"] == {"name": first["attributes"]["name"], "cost": first["attributes"]["cost"]}


def test_the_where_parser_refuses_what_it_cannot_read() -> None:
    assert parse_where('name:"Café" OR cost:<=5')({"name": "Café", "cost": 9})
    assert not parse_where("cost:>5 AND accessible:false")({"cost": 9, "accessible": True})
    for text in ("", "cost >5", "cost:>abc", "a:1 AND"):
        with pytest.raises(ValueError):
            parse_where(text)


# -- served from the command line -------------------------------------------------------------------------
def test_dataferry_emulate_serves_woosmap_and_prints_the_private_key() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataferry.cli", "emulate", "--vendor", "woosmap", "--set", "existing_datasets=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("press Ctrl-C"):
                break
        text = "\n".join(lines)
        assert "private_key: emulator-woosmap-private-key-0001" in text
        base_url = re.search(r"base_url: (http://127\.0\.0\.1:\d+)", text).group(1)
        answer = requests.get(f"{base_url}/datasets/", headers={"X-Api-Key": "emulator-woosmap-private-key-0001"})
        assert answer.status_code == 200 and len(answer.json()["datasets"]) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- malformed bodies: the FastAPI 422, never a 500 --------------------------------------------------
def test_fuzzed_feature_queries_are_422s_not_500s(api: Recorder, imported: str) -> None:
    empty_line = {"geometry": {"type": "LineString", "coordinates": []}}  # schemathesis: a 500 page
    for kind in ("nearby", "intersects", "contains"):
        for body in (
            empty_line,
            {"geometry": {"type": "LineString", "coordinates": [[3.87, 43.6]]}},
            {"geometry": "LINESTRING(3.87 43.6)"},
            {"geometry": {"type": "Point", "coordinates": [0, False]}},  # fuzzed: accepted as 0.0
            {"geometry": {"type": "Point", "coordinates": ["3.87", 43.6]}},
        ):
            r = api.call("POST", f"/datasets/{imported}/features/{kind}/", json=body)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "geometry"], (kind, r.text[:200])
    for kind, body in (("search", {"where": None}), ("nearby", {"geometry": SQUARE, "where": None})):
        r = api.call("POST", f"/datasets/{imported}/features/{kind}/", json=body)  # where is a string, not nullable
        assert (r.status_code, r.json()["detail"][0]["loc"]) == (422, ["body", "where"]), (kind, r.text[:200])


def test_every_malformed_body_is_a_422_and_nothing_is_stored(api: Recorder, imported: str) -> None:
    listed = api.call("GET", "/datasets/?per_page=20").json()
    paths = [("POST", "/datasets/"), ("PUT", f"/datasets/{imported}")] + [
        ("POST", f"/datasets/{imported}/features/{q}/")
        for q in ("search", "nearby", "intersects", "contains", "within")
    ]
    bodies = [
        b"{",
        b"[]",
        b'"text"',
        b"42",
        b"\xff\xfe",
        b'{"name": "\\udb33", "url": "https://e.com/x.json"}',
        b'{"where": "name:\\udc00", "geometry": "43.6,3.87"}',
    ]
    wrong = []
    for method, path in paths:
        for body in bodies:
            r = api.call(method, path, data=body, headers={"Content-Type": "application/json"})
            if r.status_code != 422 or not isinstance(r.json().get("detail"), list):
                wrong.append((method, path, body, r.status_code, r.text[:100]))
    assert wrong == []
    assert api.call("GET", "/datasets/?per_page=20").json() == listed
