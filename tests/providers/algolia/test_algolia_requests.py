"""Request shapes: every endpoint of the Algolia Ingestion API is called with the method, path,
query and body the spec describes, with the two auth headers (``responses``, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from dataferry.errors import AuthenticationError, BadRequest, NotFound, RateLimited, ServerError
from dataferry.providers.algolia import (
    AuthAlgolia,
    Client,
    DestinationIndexName,
    Schedule,
    SourceCSV,
)

from .conftest import APP, BASE, KEY, RUN_ID, TASK_ID

AID = "a1a1a1a1-0000-4000-8000-000000000001"
DID = "d1d1d1d1-0000-4000-8000-000000000002"
SID = "51515151-0000-4000-8000-000000000003"
EID = "e1e1e1e1-0000-4000-8000-000000000004"
STAMP = "2024-07-18T10:00:00Z"
PAGE = {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 100}
WINDOW = {"startDate": STAMP, "endDate": STAMP}


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def answer(mock: responses.RequestsMock, method: str, path: str, body: Any, status: int = 200) -> None:
    mock.add(method, BASE + path, json=body, status=status)


def sent(mock: responses.RequestsMock, index: int = -1) -> tuple[str, str, dict[str, str], Any, Any]:
    """(method, path, query, JSON body, request) of a call made."""
    request = mock.calls[index].request
    url = urlsplit(request.url)
    body = json.loads(request.body) if request.body else None
    return request.method, url.path, dict(parse_qsl(url.query)), body, request


# One row per endpoint: (call, answer, method, path, query, body)
CASES: list[tuple[str, Callable[[Client], Any], Any, str, str, dict[str, str], Any]] = [
    (
        "list authentications",
        lambda c: c.authentications(
            type=["basic", "algolia"], platform="none", sort="name", order="asc", page_size=5
        ).to_list(),
        {"authentications": [], "pagination": PAGE},
        "GET",
        "/1/authentications",
        {"type": "basic,algolia", "platform": "none", "sort": "name", "order": "asc", "page": "1", "itemsPerPage": "5"},
        None,
    ),
    (
        "create authentication",
        lambda c: c.create_authentication(name="write", input=AuthAlgolia(app_id="APP", api_key="w-key-1234")),
        {"authenticationID": AID, "name": "write", "createdAt": STAMP},
        "POST",
        "/1/authentications",
        {},
        {"type": "algolia", "name": "write", "input": {"appID": "APP", "apiKey": "w-key-1234"}},
    ),
    (
        "create authentication with platform",
        lambda c: c.create_authentication(
            type="oauth",
            name="shop",
            platform="shopify",
            input={"url": "https://shop.example.com/oauth", "client_id": "id", "client_secret": "cs-12345"},
        ),
        {"authenticationID": AID, "name": "shop", "createdAt": STAMP},
        "POST",
        "/1/authentications",
        {},
        {
            "type": "oauth",
            "name": "shop",
            "platform": "shopify",
            "input": {"url": "https://shop.example.com/oauth", "client_id": "id", "client_secret": "cs-12345"},
        },
    ),
    (
        "get authentication",
        lambda c: c.get_authentication(AID),
        {"authenticationID": AID, "type": "basic", "name": "n", "input": {"username": "u"}, "createdAt": STAMP},
        "GET",
        f"/1/authentications/{AID}",
        {},
        None,
    ),
    (
        "update authentication",
        lambda c: c.update_authentication(AID, name="renamed", input={"password": "pw-45678"}),
        {"authenticationID": AID, "name": "renamed", "updatedAt": STAMP},
        "PATCH",
        f"/1/authentications/{AID}",
        {},
        {"name": "renamed", "input": {"password": "pw-45678"}},
    ),
    (
        "delete authentication",
        lambda c: c.delete_authentication(AID),
        {"deletedAt": STAMP},
        "DELETE",
        f"/1/authentications/{AID}",
        {},
        None,
    ),
    (
        "search authentications",
        lambda c: c.search_authentications([AID]).to_list(),
        [],
        "POST",
        "/1/authentications/search",
        {},
        {"authenticationIDs": [AID]},
    ),
    (
        "list destinations",
        lambda c: c.destinations(type="search", authentication_id=[AID, "x"], order="desc").to_list(),
        {"destinations": [], "pagination": PAGE},
        "GET",
        "/1/destinations",
        {"type": "search", "authenticationID": f"{AID},x", "order": "desc", "page": "1", "itemsPerPage": "100"},
        None,
    ),
    (
        "create destination",
        lambda c: c.create_destination(
            type="search", name="index", authentication_id=AID, input=DestinationIndexName(index_name="products")
        ),
        {"destinationID": DID, "name": "index", "createdAt": STAMP},
        "POST",
        "/1/destinations",
        {},
        {"type": "search", "name": "index", "input": {"indexName": "products"}, "authenticationID": AID},
    ),
    (
        "get destination",
        lambda c: c.get_destination(DID),
        {"destinationID": DID},
        "GET",
        f"/1/destinations/{DID}",
        {},
        None,
    ),
    (
        "update destination",
        lambda c: c.update_destination(DID, input={"indexPrefix": "shop_"}),
        {"destinationID": DID, "name": "index", "updatedAt": STAMP},
        "PATCH",
        f"/1/destinations/{DID}",
        {},
        {"input": {"indexPrefix": "shop_"}},
    ),
    (
        "delete destination",
        lambda c: c.delete_destination(DID),
        {"deletedAt": STAMP},
        "DELETE",
        f"/1/destinations/{DID}",
        {},
        None,
    ),
    (
        "search destinations",
        lambda c: c.search_destinations(DID).to_list(),
        [],
        "POST",
        "/1/destinations/search",
        {},
        {"destinationIDs": [DID]},
    ),
    (
        "list sources",
        lambda c: c.sources(type=["csv", "json"], authentication_id="none", sort="type").to_list(),
        {"sources": [], "pagination": PAGE},
        "GET",
        "/1/sources",
        {"type": "csv,json", "authenticationID": "none", "sort": "type", "page": "1", "itemsPerPage": "100"},
        None,
    ),
    (
        "create source",
        lambda c: c.create_source(type="csv", name="products", input={"url": "https://x.example/p.csv"}),
        {"sourceID": SID, "name": "products", "createdAt": STAMP},
        "POST",
        "/1/sources",
        {},
        {"type": "csv", "name": "products", "input": {"url": "https://x.example/p.csv"}},
    ),
    (
        "validate source",
        lambda c: c.validate_source(
            name="p", input=SourceCSV(url="https://x.example/p.csv", delimiter=";"), authentication_id=AID
        ),
        {"message": "ok"},
        "POST",
        "/1/sources/validate",
        {},
        {
            "type": "csv",
            "name": "p",
            "input": {"url": "https://x.example/p.csv", "delimiter": ";"},
            "authenticationID": AID,
        },
    ),
    ("get source", lambda c: c.get_source(SID), {"sourceID": SID}, "GET", f"/1/sources/{SID}", {}, None),
    (
        "update source",
        lambda c: c.update_source(SID, name="renamed", input={"uniqueIDColumn": "sku"}),
        {"sourceID": SID, "name": "renamed", "updatedAt": STAMP},
        "PATCH",
        f"/1/sources/{SID}",
        {},
        {"name": "renamed", "input": {"uniqueIDColumn": "sku"}},
    ),
    (
        "validate source update",
        lambda c: c.validate_source_update(SID, type="json", input={"method": "POST"}),
        {"message": "ok"},
        "POST",
        f"/1/sources/{SID}/validate",
        {},
        {"input": {"method": "POST"}},
    ),
    ("delete source", lambda c: c.delete_source(SID), {"deletedAt": STAMP}, "DELETE", f"/1/sources/{SID}", {}, None),
    (
        "search sources",
        lambda c: c.search_sources([SID]).to_list(),
        [],
        "POST",
        "/1/sources/search",
        {},
        {"sourceIDs": [SID]},
    ),
    (
        "discover source",
        lambda c: c.discover_source(SID),
        {"message": "ok"},
        "POST",
        f"/1/sources/{SID}/discover",
        {},
        None,
    ),
    ("source streams", lambda c: c.source_streams(SID), {"streams": []}, "GET", f"/1/sources/{SID}/discover", {}, None),
    (
        "list tasks",
        lambda c: c.tasks(
            action=["replace", "save"],
            enabled=True,
            source_id=SID,
            destination_id=[DID],
            trigger_type=["onDemand", "schedule"],
            sort="action",
            order="asc",
        ).to_list(),
        {"tasks": [], "pagination": PAGE},
        "GET",
        "/1/tasks",
        {
            "action": "replace,save",
            "enabled": "true",
            "sourceID": SID,
            "destinationID": DID,
            "triggerType": "onDemand,schedule",
            "sort": "action",
            "order": "asc",
            "page": "1",
            "itemsPerPage": "100",
        },
        None,
    ),
    (
        "create on-demand task",
        lambda c: c.create_task(SID, DID, action="replace", failure_threshold=10),
        {"taskID": TASK_ID, "createdAt": STAMP},
        "POST",
        "/1/tasks",
        {},
        {
            "sourceID": SID,
            "destinationID": DID,
            "trigger": {"type": "onDemand"},
            "action": "replace",
            "failureThreshold": 10,
        },
    ),
    (
        "create scheduled task",
        lambda c: c.create_task(SID, DID, action="save", trigger="schedule", cron="0 6 * * *", enabled=False),
        {"taskID": TASK_ID, "createdAt": STAMP},
        "POST",
        "/1/tasks",
        {},
        {
            "sourceID": SID,
            "destinationID": DID,
            "trigger": {"type": "schedule", "cron": "0 6 * * *"},
            "action": "save",
            "enabled": False,
        },
    ),
    (
        "create task with a typed schedule",
        lambda c: c.create_task(SID, DID, action="partial", trigger=Schedule(cron="*/30 * * * *")),
        {"taskID": TASK_ID, "createdAt": STAMP},
        "POST",
        "/1/tasks",
        {},
        {
            "sourceID": SID,
            "destinationID": DID,
            "trigger": {"type": "schedule", "cron": "*/30 * * * *"},
            "action": "partial",
        },
    ),
    (
        "create subscription task",
        lambda c: c.create_task(
            SID,
            DID,
            action="partial",
            trigger="subscription",
            cursor="2024-07-18T12:00:00+02:00",
            input={
                "metafields": [{"namespace": "n", "key": "k", "value": "v"}],
                "market": {"countries": ["FR"], "currencies": ["EUR"], "locales": ["fr"]},
            },
        ),
        {"taskID": TASK_ID, "createdAt": STAMP},
        "POST",
        "/1/tasks",
        {},
        {
            "sourceID": SID,
            "destinationID": DID,
            "trigger": {"type": "subscription"},
            "action": "partial",
            "input": {
                "metafields": [{"namespace": "n", "key": "k", "value": "v"}],
                "market": {"countries": ["FR"], "currencies": ["EUR"], "locales": ["fr"]},
            },
            "cursor": "2024-07-18T10:00:00Z",
        },
    ),
    ("get task", lambda c: c.get_task(TASK_ID).info, {"taskID": TASK_ID}, "GET", f"/1/tasks/{TASK_ID}", {}, None),
    (
        "update task",
        lambda c: c.update_task(TASK_ID, cron="0 7 * * *", enabled=True, failure_threshold=0),
        {"taskID": TASK_ID, "updatedAt": STAMP},
        "PATCH",
        f"/1/tasks/{TASK_ID}",
        {},
        {"trigger": {"cron": "0 7 * * *"}, "enabled": True, "failureThreshold": 0},
    ),
    ("delete task", lambda c: c.delete_task(TASK_ID), {"deletedAt": STAMP}, "DELETE", f"/1/tasks/{TASK_ID}", {}, None),
    (
        "search tasks",
        lambda c: c.search_tasks([TASK_ID]).to_list(),
        [],
        "POST",
        "/1/tasks/search",
        {},
        {"taskIDs": [TASK_ID]},
    ),
    (
        "run task",
        lambda c: c.run_task(TASK_ID),
        {"runID": RUN_ID, "createdAt": STAMP},
        "POST",
        f"/1/tasks/{TASK_ID}/run",
        {},
        None,
    ),
    (
        "enable task",
        lambda c: c.enable_task(TASK_ID),
        {"taskID": TASK_ID, "updatedAt": STAMP},
        "PUT",
        f"/1/tasks/{TASK_ID}/enable",
        {},
        None,
    ),
    (
        "disable task",
        lambda c: c.disable_task(TASK_ID),
        {"taskID": TASK_ID, "updatedAt": STAMP},
        "PUT",
        f"/1/tasks/{TASK_ID}/disable",
        {},
        None,
    ),
    (
        "list runs",
        lambda c: c.runs(
            status=["finished", "skipped"],
            task_id=TASK_ID,
            start_date="2024-07-01",
            end_date="2024-07-18T12:00:00Z",
            sort="status",
        ).to_list(),
        {"runs": [], "pagination": PAGE, "window": WINDOW},
        "GET",
        "/1/runs",
        {
            "status": "finished,skipped",
            "taskID": TASK_ID,
            "startDate": "2024-07-01T00:00:00Z",
            "endDate": "2024-07-18T12:00:00Z",
            "sort": "status",
            "page": "1",
            "itemsPerPage": "100",
        },
        None,
    ),
    (
        "get run",
        lambda c: c.run(RUN_ID).get(),
        {
            "runID": RUN_ID,
            "appID": APP,
            "taskID": TASK_ID,
            "status": "created",
            "type": "reindex",
            "createdAt": STAMP,
            "failureThreshold": 3,
        },
        "GET",
        f"/1/runs/{RUN_ID}",
        {},
        None,
    ),
    (
        "list events",
        lambda c: c.events(
            RUN_ID,
            status=["failed", "critical"],
            type="record",
            start_date="2024-07-18T09:00:00Z",
            order="asc",
            sort="publishedAt",
            page_size=50,
        ).to_list(),
        {"events": [], "pagination": PAGE, "window": WINDOW},
        "GET",
        f"/1/runs/{RUN_ID}/events",
        {
            "status": "failed,critical",
            "type": "record",
            "startDate": "2024-07-18T09:00:00Z",
            "sort": "publishedAt",
            "order": "asc",
            "page": "1",
            "itemsPerPage": "50",
        },
        None,
    ),
    (
        "get event",
        lambda c: c.get_event(RUN_ID, EID),
        {"eventID": EID},
        "GET",
        f"/1/runs/{RUN_ID}/events/{EID}",
        {},
        None,
    ),
]


@pytest.mark.parametrize(
    ("call", "reply", "method", "path", "query", "body"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_endpoint_sends_what_the_spec_describes(
    wire: responses.RequestsMock,
    unit: Client,
    call: Callable[[Client], Any],
    reply: Any,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
) -> None:
    answer(wire, method, path, reply)
    if path == f"/1/runs/{RUN_ID}":  # reading a run also peeks at its latest events
        answer(wire, "GET", f"/1/runs/{RUN_ID}/events", {"events": [], "pagination": PAGE, "window": WINDOW})
    call(unit)
    got_method, got_path, got_query, got_body, request = sent(wire, 0)
    assert (got_method, got_path, got_query, got_body) == (method, path, query, body)
    assert request.headers["X-Algolia-Application-Id"] == APP
    assert request.headers["X-Algolia-API-Key"] == KEY
    if body is not None:
        assert request.headers["Content-Type"] == "application/json"


def test_array_filters_are_comma_joined_on_the_wire(wire: responses.RequestsMock, unit: Client) -> None:
    answer(wire, "GET", "/1/authentications", {"authentications": [], "pagination": PAGE})
    unit.authentications(type=["basic", "algolia"]).to_list()
    assert "type=basic%2Calgolia" in wire.calls[0].request.url


def test_the_region_picks_the_host(wire: responses.RequestsMock) -> None:
    wire.add("GET", "https://data.eu.algolia.com/1/tasks/" + TASK_ID, json={"taskID": TASK_ID})
    eu = Client(app_id=APP, api_key=KEY, region="eu")
    assert eu.get_task(TASK_ID).info == {"taskID": TASK_ID}
    assert eu.base_url == "https://data.eu.algolia.com" and eu.reattach_client == "algolia.Client(region='eu')"


def test_an_unknown_region_is_refused() -> None:
    from dataferry.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="region='asia' is not one of us, eu"):
        Client(app_id=APP, api_key=KEY, region="asia")


def test_credentials_and_region_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, wire: responses.RequestsMock
) -> None:
    monkeypatch.setenv("ALGOLIA_APP_ID", APP)
    monkeypatch.setenv("ALGOLIA_API_KEY", KEY)
    monkeypatch.setenv("ALGOLIA_REGION", "eu")
    wire.add("GET", f"https://data.eu.algolia.com/1/tasks/{TASK_ID}", json={"taskID": TASK_ID})
    Client().get_task(TASK_ID)
    assert wire.calls[0].request.headers["X-Algolia-API-Key"] == KEY


def test_missing_credentials_say_which_variable_to_set() -> None:
    from dataferry.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="ALGOLIA_APP_ID"):
        Client(api_key=KEY)
    with pytest.raises(ConfigurationError, match="ALGOLIA_API_KEY"):
        Client(app_id=APP)


def test_every_page_is_fetched_up_to_nb_pages_even_after_a_short_page(
    wire: responses.RequestsMock, unit: Client
) -> None:
    pages = {1: ["t1", "t2"], 2: ["t3"], 3: ["t4", "t5"]}  # page 2 is short, yet page 3 follows
    for number, ids in pages.items():
        wire.add(
            "GET",
            BASE + "/1/tasks",
            match=[responses.matchers.query_param_matcher({"page": str(number), "itemsPerPage": "2"})],
            json={
                "tasks": [{"taskID": i} for i in ids],
                "pagination": {"nbPages": 3, "page": number, "nbItems": 5, "itemsPerPage": 2},
            },
        )
    listing = unit.tasks(page_size=2)
    assert [t["taskID"] for t in listing] == ["t1", "t2", "t3", "t4", "t5"]
    assert len(wire.calls) == 3 and listing.total == 5 and listing.pages == 3


def test_a_listing_without_pagination_is_a_data_error(wire: responses.RequestsMock, unit: Client) -> None:
    from dataferry.errors import DataError

    answer(wire, "GET", "/1/tasks", {"tasks": []})
    with pytest.raises(DataError, match="no 'tasks' list or no pagination"):
        unit.tasks().to_list()


def test_errors_carry_algolias_message(wire: responses.RequestsMock, unit: Client) -> None:
    answer(wire, "POST", "/1/sources", {"message": "input.url must be a valid URL"}, 400)
    with pytest.raises(BadRequest, match=r"input\.url must be a valid URL") as caught:
        unit.create_source(type="json", name="n", input={"url": "https://x.example/a.json"})
    assert caught.value.status == 400 and caught.value.vendor == "algolia"
    answer(wire, "GET", f"/1/tasks/{TASK_ID}", {"message": "Invalid Application-Id or API-Key"}, 403)
    with pytest.raises(AuthenticationError, match="Invalid Application-Id or API-Key") as denied:
        unit.get_task(TASK_ID)
    assert denied.value.status == 403 and KEY not in str(denied.value)
    answer(wire, "GET", f"/1/sources/{SID}", {"message": "source not found"}, 404)
    with pytest.raises(NotFound, match="source not found") as missing:
        unit.get_source(SID)
    assert "us and eu regions" in str(missing.value)


def test_a_429_with_an_html_body_is_waited_out(wire: responses.RequestsMock, unit: Client, clock: Any) -> None:
    html = "<html><head><title>429 Too Many Requests</title></head><body>nginx</body></html>"
    wire.add(
        "POST",
        f"{BASE}/1/tasks/{TASK_ID}/run",
        body=html,
        status=429,
        content_type="text/html",
        headers={"Retry-After": "7"},
    )
    answer(wire, "POST", f"/1/tasks/{TASK_ID}/run", {"runID": RUN_ID, "createdAt": STAMP})
    run = unit.run_task(TASK_ID)  # a 429 started nothing, so even this POST is sent again
    assert run.id == RUN_ID and len(wire.calls) == 2
    assert any(7 <= s < 8.5 for s in clock.sleeps)


def test_a_429_that_persists_becomes_rate_limited_with_the_page_title(wire: responses.RequestsMock, clock: Any) -> None:
    client = Client(app_id=APP, api_key=KEY, clock=clock, max_attempts=3)
    wire.add(
        "GET",
        f"{BASE}/1/tasks/{TASK_ID}",
        status=429,
        content_type="text/html",
        body="<html><head><title>429 Too Many Requests</title></head></html>",
    )
    with pytest.raises(RateLimited, match="429 Too Many Requests") as caught:
        client.get_task(TASK_ID)
    assert len(wire.calls) == 3 and "200 requests per minute" in str(caught.value)


def test_creations_are_never_sent_twice_after_a_server_error(wire: responses.RequestsMock, unit: Client) -> None:
    answer(wire, "POST", "/1/tasks", {"message": "internal error"}, 503)
    with pytest.raises(ServerError):
        unit.create_task(SID, DID, action="replace")
    answer(wire, "POST", f"/1/tasks/{TASK_ID}/run", {"message": "internal error"}, 502)
    with pytest.raises(ServerError):
        unit.run_task(TASK_ID)
    assert len(wire.calls) == 2


def test_reads_are_retried_after_a_server_error(wire: responses.RequestsMock, unit: Client) -> None:
    answer(wire, "POST", "/1/tasks/search", {"message": "busy"}, 503)
    answer(wire, "POST", "/1/tasks/search", [{"taskID": TASK_ID}])
    assert unit.search_tasks(TASK_ID).to_list() == [{"taskID": TASK_ID}]
    assert len(wire.calls) == 2


def test_client_side_rate_limits_follow_the_documentation(unit: Client, clock: Any) -> None:
    limiter = unit.http.limiter
    assert [(r.calls, r.per) for r in limiter.rates("default")] == [(200, 60.0)]
    assert [(r.calls, r.per) for r in limiter.rates("observability")] == [(200, 30.0)]
    waited = [limiter.acquire("observability") for _ in range(201)]
    assert waited[:200] == [0.0] * 200 and waited[200] == pytest.approx(0.15)
    assert limiter.acquire("default") == 0.0  # a separate budget


def test_runs_and_events_use_the_observability_budget(wire: responses.RequestsMock, unit: Client) -> None:
    families: list[str] = []
    original = unit.http.limiter.acquire
    unit.http.limiter.acquire = lambda family, **kw: families.append(family) or original(family, **kw)  # type: ignore[method-assign]
    answer(wire, "GET", "/1/runs", {"runs": [], "pagination": PAGE, "window": WINDOW})
    answer(wire, "GET", f"/1/runs/{RUN_ID}/events", {"events": [], "pagination": PAGE, "window": WINDOW})
    answer(wire, "GET", f"/1/tasks/{TASK_ID}", {"taskID": TASK_ID})
    unit.runs().to_list()
    unit.events(RUN_ID).to_list()
    unit.get_task(TASK_ID)
    assert families == ["observability", "observability", "default"]
