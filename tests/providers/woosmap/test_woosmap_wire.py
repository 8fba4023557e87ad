"""What the Woosmap client sends, and how it reads Woosmap's error answers (``responses``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from responses import matchers

from dataferry.clock import FakeClock
from dataferry.errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    InvalidArgument,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    UnprocessableEntity,
)
from dataferry.providers.woosmap import Client, NoImportRun

KEY = "test-woosmap-private-key-4f1c9a"
BASE = "https://api.woosmap.com"
DID = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"
REIMPORT_KEY = "0f3a1c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
DATASET = {
    "id": DID,
    "name": "stores",
    "url": "https://example.com/stores.geojson",
    "reimport_key": REIMPORT_KEY,
    "created_at": "2024-06-07T09:30:36.715881",
    "updated_at": None,
    "scheduled_for_deletion_after": None,
}
RUN = {"id": "832eb97f-266c-4387-991d-52e77366dc99", "status": "success", "steps": []}


def _sent(n: int = -1) -> Any:
    return responses.calls[n].request


@responses.activate
def test_the_private_key_travels_in_the_x_api_key_header_never_in_the_url(offline: Client) -> None:
    responses.get(f"{BASE}/datasets/{DID}", json=DATASET)
    offline.get_dataset(DID)
    assert _sent().headers["X-Api-Key"] == KEY
    assert KEY not in _sent().url and "private_key" not in _sent().url


@responses.activate
def test_key_in_query_sends_private_key_and_no_header(clock: FakeClock) -> None:
    wm = Client(private_key=KEY, key_in="query", clock=clock)
    responses.get(f"{BASE}/datasets/{DID}", json=DATASET, match=[matchers.query_param_matcher({"private_key": KEY})])
    wm.get_dataset(DID)
    assert "X-Api-Key" not in _sent().headers


def test_the_key_comes_from_the_environment_or_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="WOOSMAP_PRIVATE_KEY"):
        Client()
    monkeypatch.setenv("WOOSMAP_PRIVATE_KEY", KEY)
    assert Client().http.auth.secrets == (KEY,)
    with pytest.raises(InvalidArgument, match="key_in"):
        Client(key_in="cookie")


@responses.activate
@pytest.mark.parametrize("mapping", [{"title": "store_name"}, [{"schema_key": "title", "data_key": "store_name"}]])
def test_create_sends_name_url_and_schema_mapping(offline: Client, mapping: Any) -> None:
    responses.post(f"{BASE}/datasets/", json=DATASET)
    ds = offline.create_dataset("stores", "https://example.com/stores.geojson", schema_mapping=mapping)
    assert json.loads(_sent().body) == {
        "name": "stores",
        "url": "https://example.com/stores.geojson",
        "schema_mapping": [{"schema_key": "title", "data_key": "store_name"}],
    }
    assert ds.id == DID and ds.name == "stores" and len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize(
    "call,message",
    [
        (lambda wm: wm.create_dataset("", "https://example.com/x.json"), "name"),
        (lambda wm: wm.create_dataset("x", "ftp://example.com/x.json"), "http"),
        (lambda wm: wm.create_dataset("x", "https://e.com/" + "a" * 2100), "2083"),
        (lambda wm: wm.create_dataset("x", "https://e.com/x", schema_mapping={"name": "n"}), "title"),
        (lambda wm: wm.create_dataset("x", "https://e.com/x", schema_mapping=[{"schema_key": "title"}]), "data_key"),
        (lambda wm: wm.dataset("stores"), "UUID"),
        (lambda wm: wm.dataset(DID).update(), "name= and/or url="),
        (lambda wm: wm.dataset(DID).update(url="example.com"), "http"),
        (lambda wm: wm.datasets(page_size=50), "page_size"),
        (lambda wm: wm.reimport("key"), "reimport_key"),
        (lambda wm: wm.dataset(DID).search(""), "where"),
        (lambda wm: wm.dataset(DID).search("cost:>1", format="kml"), "format"),
        (lambda wm: wm.dataset(DID).nearby(None), "geometry"),
        (lambda wm: wm.dataset(DID).nearby((43.6, 3.8), buffer=-1), "buffer"),
        (lambda wm: wm.dataset(DID).nearby({"type": "Circle", "coordinates": [1, 2]}), "GeoJSON"),
        (lambda wm: wm.dataset(DID).within((43.6, 3.8)), "polygon"),
        (lambda wm: wm.dataset(DID).within("POINT(3.8 43.6)"), "polygon"),
        (lambda wm: wm.dataset(DID).feature("f-1"), "feature_id"),
        (lambda wm: wm.dataset(DID).feature(DID, fields="name"), "fields"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(offline: Client, call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call(offline)
    assert len(responses.calls) == 0


@responses.activate
def test_the_dataset_list_follows_next_to_the_last_page(offline: Client) -> None:
    rows = [
        {"id": f"00000000-0000-4000-8000-00000000000{i}", "name": f"d{i}", "created_at": "2024-06-07T09:30:36"}
        for i in range(5)
    ]
    for page, chunk, following in ((1, rows[:2], 2), (2, rows[2:4], 3), (3, rows[4:], None)):
        responses.get(
            f"{BASE}/datasets/",
            match=[matchers.query_param_matcher({"page": str(page), "per_page": "2"})],
            json={"datasets": chunk, "pagination": {"page": page, "prev": page - 1 or None, "next": following}},
        )
    frame = offline.datasets(page_size=2).to_pandas()
    assert frame["id"].tolist() == [r["id"] for r in rows] and len(responses.calls) == 3


@responses.activate
def test_a_list_whose_next_page_goes_backwards_stops_with_an_error(offline: Client) -> None:
    from dataferry.errors import DataError

    responses.get(
        f"{BASE}/datasets/",
        json={
            "datasets": [{"id": DID, "name": "x", "created_at": "t"}],
            "pagination": {"page": 1, "prev": None, "next": 1},
        },
    )
    with pytest.raises(DataError, match="next one"):
        offline.datasets().to_list()


@responses.activate
def test_get_update_and_delete_request_shapes(offline: Client) -> None:
    responses.put(f"{BASE}/datasets/{DID}", json={**DATASET, "name": "shops", "updated_at": "2024-06-08T10:00:00"})
    responses.delete(f"{BASE}/datasets/{DID}", json={})
    ds = offline.dataset(DID).update(name="shops")
    assert json.loads(_sent().body) == {"name": "shops"} and ds.name == "shops"
    assert ds.delete() is None
    assert _sent().method == "DELETE" and ds.info is None


@responses.activate
def test_import_reads_the_current_run_then_posts_the_import(offline: Client) -> None:
    responses.get(f"{BASE}/datasets/{DID}/status", json=RUN)
    responses.post(f"{BASE}/datasets/{DID}/import", status=202, json={"dataset_id": DID})
    run = offline.dataset(DID).import_()
    assert [(c.request.method, c.request.url) for c in responses.calls] == [
        ("GET", f"{BASE}/datasets/{DID}/status"),
        ("POST", f"{BASE}/datasets/{DID}/import"),
    ]
    assert run.previous_run_id == RUN["id"] and run.id == DID


@responses.activate
def test_import_of_a_never_imported_dataset_has_no_previous_run(offline: Client) -> None:
    responses.get(f"{BASE}/datasets/{DID}/status", status=404, json={"details": "No import run found for this dataset"})
    responses.post(f"{BASE}/datasets/{DID}/import", status=202, json={"dataset_id": DID})
    assert offline.dataset(DID).import_().previous_run_id is None


@responses.activate
def test_the_reimport_hook_sends_no_key(offline: Client) -> None:
    responses.post(
        f"{BASE}/datasets/hooks/reimport/{REIMPORT_KEY}",
        status=202,
        json={"dataset_id": DID},
        headers={"Date": "Fri, 07 Jun 2024 09:30:00 GMT"},
    )
    run = offline.reimport(REIMPORT_KEY)
    assert "X-Api-Key" not in _sent().headers and KEY not in _sent().url
    assert run.id == DID and run.not_before == 1717752600.0


@responses.activate
def test_feature_queries_send_the_spec_bodies_and_page_through(offline: Client) -> None:
    feature = {
        "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
        "geometry": {"type": "Point", "coordinates": [3.8, 43.6]},
        "attributes": {"cost": 40},
    }
    url = f"{BASE}/datasets/{DID}/features/nearby/"
    responses.post(
        url,
        match=[
            matchers.query_param_matcher({"format": "geojson", "page": "1", "per_page": "20"}),
            matchers.json_params_matcher({"geometry": "43.6,3.883", "buffer": 500.0, "where": "cost:>32.3"}),
        ],
        json={"features": [feature], "pagination": {"page": 1, "prev": None, "next": 2}},
    )
    responses.post(
        url,
        match=[matchers.query_param_matcher({"format": "geojson", "page": "2", "per_page": "20"})],
        json={"features": [feature], "pagination": {"page": 2, "prev": 1, "next": None}},
    )
    frame = offline.dataset(DID).nearby((43.6, 3.883), buffer=500, where="cost:>32.3").to_pandas()
    assert len(frame) == 2 and frame.loc[0, "attributes.cost"] == 40 and frame.loc[0, "geometry.type"] == "Point"
    polygon = {"type": "Polygon", "coordinates": [[[-10, -10], [10, -10], [10, 10], [-10, 10], [-10, -10]]]}
    responses.post(
        f"{BASE}/datasets/{DID}/features/within/",
        json={"features": [], "pagination": {"page": 1}},
        match=[
            matchers.json_params_matcher(
                {
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[-10.0, -10.0], [10.0, -10.0], [10.0, 10.0], [-10.0, 10.0], [-10.0, -10.0]]],
                    },
                    "buffer": 10.0,
                }
            )
        ],
    )
    assert offline.dataset(DID).within(polygon, buffer=10).to_list() == []
    responses.post(
        f"{BASE}/datasets/{DID}/features/search/",
        match=[matchers.json_params_matcher({"where": "cost:>1"})],
        json={"features": [feature] * 20, "pagination": {"page": 1, "prev": None, "next": 2}},
    )
    assert len(offline.dataset(DID).search("cost:>1", limit=5).to_list()) == 5
    assert responses.calls[-1].request.url.endswith("page=1&per_page=20")


@responses.activate
def test_a_feature_is_read_with_a_field_mask(offline: Client) -> None:
    fid = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
    responses.get(
        f"{BASE}/datasets/{DID}/features/{fid}",
        match=[matchers.query_param_matcher({"format": "wkb"}), matchers.header_matcher({"X-Field-Mask": "name,cost"})],
        json={"id": fid, "geometry": "AQEAAAA=", "attributes": {"name": "x", "cost": 1}},
    )
    assert offline.dataset(DID).feature(fid, format="wkb", fields=["name", "cost"])["attributes"] == {
        "name": "x",
        "cost": 1,
    }


# -- errors -----------------------------------------------------------------------------------------
@responses.activate
@pytest.mark.parametrize(
    "status,body,error,text",
    [
        (401, {"detail": "Unable to locate credentials."}, AuthenticationError, "Unable to locate credentials."),
        (402, {"detail": "Out of free quota."}, PaymentRequired, "Out of free quota."),
        (
            403,
            {"detail": "Credentials found, but not matching."},
            PermissionDenied,
            "Credentials found, but not matching.",
        ),
        (404, {"details": "Dataset was not found"}, NotFound, "Dataset was not found"),
        (409, {"details": "The Dataset was already scheduled for deletion."}, Conflict, "already scheduled"),
        (429, {"details": "Rate limit reached"}, RateLimited, "Rate limit reached"),
        (429, {"detail": "Rate limit reached"}, RateLimited, "Rate limit reached"),  # some docs pages say detail
    ],
)
def test_each_error_status_becomes_a_typed_error_with_woosmap_s_message(
    clock: FakeClock, status: int, body: Any, error: type, text: str
) -> None:
    wm = Client(private_key=KEY, clock=clock, max_attempts=1)
    responses.delete(f"{BASE}/datasets/{DID}", status=status, json=body)
    with pytest.raises(error) as caught:
        wm.dataset(DID).delete()
    assert caught.value.status == status and text in caught.value.vendor_message
    assert caught.value.hint and f"DELETE {BASE}/datasets/{DID}" in str(caught.value)


@responses.activate
def test_a_422_lists_every_loc_and_msg(offline: Client) -> None:
    problems = [
        {"loc": ["body", "url"], "msg": "URL scheme should be 'http' or 'https'", "type": "url_scheme"},
        {"loc": ["body", "schema_mapping", 0, "schema_key"], "msg": "Input should be 'title'", "type": "enum"},
    ]
    responses.post(f"{BASE}/datasets/", status=422, json={"detail": problems})
    with pytest.raises(UnprocessableEntity) as caught:
        offline.create_dataset("x", "https://example.com/x.json")
    text = str(caught.value)
    assert "Validation Error (2 problems)" in text
    assert "body.url: URL scheme should be 'http' or 'https'" in text
    assert "body.schema_mapping.0.schema_key: Input should be 'title'" in text
    assert caught.value.errors == problems


@responses.activate
def test_a_429_waits_for_retry_after_then_succeeds(offline: Client, clock: FakeClock) -> None:
    responses.get(
        f"{BASE}/datasets/{DID}", status=429, json={"details": "Rate limit reached"}, headers={"Retry-After": "4"}
    )
    responses.get(f"{BASE}/datasets/{DID}", json=DATASET)
    assert offline.get_dataset(DID).name == "stores"
    assert any(4.0 <= s <= 5.0 for s in clock.sleeps)


@responses.activate
def test_a_create_that_meets_a_429_is_sent_again_because_nothing_was_created(offline: Client) -> None:
    responses.post(
        f"{BASE}/datasets/", status=429, json={"details": "Rate limit reached"}, headers={"Retry-After": "1"}
    )
    responses.post(f"{BASE}/datasets/", json=DATASET)
    assert offline.create_dataset("stores", "https://example.com/stores.geojson").id == DID
    assert len(responses.calls) == 2


@responses.activate
def test_a_create_that_meets_a_500_is_not_sent_again(offline: Client) -> None:
    from dataferry.errors import ServerError

    responses.post(f"{BASE}/datasets/", status=500, json={"details": "Internal Server Error"})
    with pytest.raises(ServerError):
        offline.create_dataset("stores", "https://example.com/stores.geojson")
    assert len(responses.calls) == 1


@responses.activate
def test_the_status_of_a_never_imported_dataset_says_to_import_it(offline: Client) -> None:
    responses.get(f"{BASE}/datasets/{DID}/status", status=404, json={"details": "No import run found for this dataset"})
    with pytest.raises(NoImportRun, match=r"ds\.import_"):
        offline.dataset(DID).last_import()
