"""The Ingestion client against the Algolia emulator over real HTTP on loopback: every
resource, paged lists as DataFrames, runs waited for to success, failure and skip."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from dataferry.emulator.algolia import EXAMPLE_TASK_ID
from dataferry.errors import BadRequest, NotFound
from dataferry.providers.algolia import (
    AuthAlgolia,
    AuthAlgoliaInsights,
    AuthAPIKey,
    AuthBasic,
    AuthGoogleServiceAccount,
    AuthOAuth,
    Client,
    DestinationIndexName,
    Outcome,
    RunFailed,
    Schedule,
    SourceCSV,
    SourceDocker,
    SourceJSON,
)

from .conftest import QUICK


def index_and_auth(ing: Client) -> tuple[str, str]:
    task = ing.get_task(EXAMPLE_TASK_ID).info
    return task["destinationID"], ing.get_destination(task["destinationID"])["authenticationID"]


def test_the_issue_example_runs_as_written(ing: Client) -> None:
    tasks = ing.tasks(enabled=True).to_pandas()
    assert EXAMPLE_TASK_ID in set(tasks["taskID"]) and tasks["enabled"].all()
    assert {"trigger.type", "action", "failureThreshold", "createdAt"} <= set(tasks.columns)
    run = ing.run_task(EXAMPLE_TASK_ID)
    assert run.wait(progress="off") is run and run.outcome is Outcome.SUCCESS
    assert run.events(status=["failed", "critical"]).to_pandas().empty
    created = ing.create_source(type="csv", name="products", input={"url": "https://feeds.example.com/p.csv"})
    # the spec's default delimiter comes back, so that the input is a SourceCSV and not a SourceJSON too
    assert ing.get_source(created["sourceID"])["input"] == {"url": "https://feeds.example.com/p.csv", "delimiter": ","}


def test_authentications_of_every_type(ing: Client) -> None:
    inputs = [
        AuthGoogleServiceAccount(client_email="svc@p.iam.gserviceaccount.com", private_key="-----PK-1-----"),
        AuthBasic(username="feeds", password="feed-pass-1"),
        AuthAPIKey(key="api-key-0001"),
        AuthOAuth(url="https://auth.example.com/token", client_id="cid", client_secret="oauth-secret-1"),
        AuthAlgolia(app_id="APP1", api_key="algolia-key-1"),
        AuthAlgoliaInsights(app_id="APP1", api_key="insights-key-1"),
    ]
    ids = {i.kind: ing.create_authentication(name=f"{i.kind} auth", input=i)["authenticationID"] for i in inputs}
    frame = ing.authentications(type=["basic", "apiKey"]).to_pandas()
    assert set(frame["authenticationID"]) >= {ids["basic"], ids["apiKey"]} and set(frame["type"]) == {"basic", "apiKey"}
    assert ing.get_authentication(ids["oauth"])["input"] == {
        "url": "https://auth.example.com/token",
        "client_id": "cid",
    }
    updated = ing.update_authentication(ids["basic"], name="feeds v2", input={"password": "feed-pass-2"})
    assert updated["name"] == "feeds v2"
    found = ing.search_authentications([ids["basic"], ids["algolia"]]).to_pandas()
    assert list(found["authenticationID"]) == [ids["basic"], ids["algolia"]]
    assert "deletedAt" in ing.delete_authentication(ids["apiKey"])
    with pytest.raises(NotFound, match="authentication"):
        ing.get_authentication(ids["apiKey"])
    with pytest.raises(BadRequest, match=r"additional properties \(username\)"):
        ing.update_authentication(ids["basic"], type="algolia")  # a basic input does not fit the new type


def test_destinations(ing: Client) -> None:
    _, write_auth = index_and_auth(ing)
    created = ing.create_destination(
        type="search",
        name="catalog",
        authentication_id=write_auth,
        input=DestinationIndexName(index_name="catalog", attributes_to_exclude=["cost"]),
    )
    did = created["destinationID"]
    assert ing.get_destination(did)["input"] == {"indexName": "catalog", "attributesToExclude": ["cost"]}
    ing.update_destination(did, input={"indexName": "catalog_v2", "recordType": "variant"}, name="catalogs")
    assert ing.get_destination(did)["input"] == {"indexName": "catalog_v2", "recordType": "variant"}
    listed = ing.destinations(type="search", authentication_id=write_auth).to_pandas()
    assert did in set(listed["destinationID"]) and "input.recordType" in listed.columns
    with pytest.raises(BadRequest, match="indexPrefix"):  # today's DestinationInput has no indexPrefix variant
        ing.update_destination(did, input={"indexPrefix": "catalog_"})
    assert ing.search_destinations(did).to_list()[0]["name"] == "catalogs"
    with pytest.raises(BadRequest, match="needs an 'algoliaInsights' authentication"):
        ing.create_destination(type="insights", name="events", input={"indexName": "e"}, authentication_id=write_auth)
    ing.delete_destination(did)
    assert did not in {d["destinationID"] for d in ing.destinations()}


def test_sources_validate_and_discover(ing: Client) -> None:
    csv = ing.create_source(
        name="offers", input=SourceCSV(url="https://feeds.example.com/o.csv", delimiter=";", mapping={"price": "float"})
    )["sourceID"]
    docker = ing.create_source(
        name="zendesk",
        input=SourceDocker(image_type="singer", registry="dockerhub", image="algolia/zendesk", configuration={}),
    )["sourceID"]
    with pytest.raises(BadRequest, match="url"):  # SourceUpdateInput reuses SourceCSV, url required
        ing.update_source(csv, input={"uniqueIDColumn": "sku"})
    ing.update_source(csv, input={"url": "https://feeds.example.com/o.csv", "uniqueIDColumn": "sku"})
    assert ing.get_source(csv)["input"]["uniqueIDColumn"] == "sku" and ing.get_source(csv)["input"]["delimiter"] == ";"
    assert set(ing.sources(type=["csv", "docker"]).to_pandas()["sourceID"]) >= {csv, docker}
    assert ing.sources(authentication_id="none", type="docker").to_list()[0]["sourceID"] == docker
    checked = ing.validate_source(name="try", input=SourceJSON(url="https://feeds.example.com/p.json"))
    assert checked["message"] == "validated" and len(checked["data"]) == 3
    broken = ing.validate_source(type="json", name="try", input={"url": "https://feeds.example.com/critical.json"})
    assert broken["events"][0]["status"] == "critical" and "404" in broken["message"]
    assert (
        ing.validate_source_update(csv, input={"url": "https://feeds.example.com/o2.csv", "delimiter": ","})["message"]
        == "validated"
    )
    with pytest.raises(NotFound, match="no stream listing"):
        ing.source_streams(docker)
    discovered = ing.discover_source(docker)
    assert [s["name"] for s in ing.source_streams(docker)["streams"]] == [s["name"] for s in discovered["data"]]
    with pytest.raises(BadRequest, match="only works with sources with type: docker"):
        ing.discover_source(csv)
    assert [s["sourceID"] for s in ing.search_sources([docker, csv])] == [docker, csv]
    ing.delete_source(docker)
    with pytest.raises(NotFound):
        ing.get_source(docker)


@pytest.mark.parametrize(
    ("trigger", "cron", "action"),
    [
        ("onDemand", None, "replace"),
        ("schedule", "0 6 * * *", "save"),
        (Schedule(cron="*/10 * * * *"), None, "save"),
        ("subscription", None, "partial"),
    ],
)
def test_tasks_with_each_trigger_and_action(ing: Client, trigger: Any, cron: str | None, action: str) -> None:
    index, _ = index_and_auth(ing)
    source = ing.create_source(type="json", name="feed", input={"url": "https://feeds.example.com/f.json"})["sourceID"]
    tid = ing.create_task(source, index, action=action, trigger=trigger, cron=cron, failure_threshold=15)["taskID"]
    task = ing.get_task(tid).info
    kind = trigger if isinstance(trigger, str) else "schedule"
    assert (task["trigger"]["type"], task["action"], task["failureThreshold"], task["enabled"]) == (
        kind,
        action,
        15,
        True,
    )
    if kind == "schedule":
        assert task["trigger"]["cron"] == (cron or "*/10 * * * *") and "nextRun" in task["trigger"]
        ing.update_task(tid, cron="30 5 * * *")
        assert ing.get_task(tid).info["trigger"]["cron"] == "30 5 * * *"
    ing.disable_task(tid)
    assert tid in set(ing.tasks(enabled=False, action=action).to_pandas()["taskID"])
    assert tid not in {t["taskID"] for t in ing.tasks(enabled=True)}
    ing.enable_task(tid)
    assert ing.search_tasks(tid).to_list()[0]["enabled"] is True
    assert tid in {t["taskID"] for t in ing.tasks(trigger_type=kind, source_id=[source], destination_id=index)}
    ing.delete_task(tid)
    with pytest.raises(NotFound):
        ing.get_task(tid)


def test_every_page_is_walked(ing: Client) -> None:
    index, _ = index_and_auth(ing)
    source = ing.create_source(type="json", name="feed", input={"url": "https://feeds.example.com/f.json"})["sourceID"]
    for _ in range(7):
        ing.create_task(source, index, action="save")
    listing = ing.tasks(page_size=2)
    frame = listing.to_pandas()
    assert len(frame) == listing.total == 10 and frame["taskID"].is_unique
    assert listing.pages == math.ceil(10 / 2)
    newest_first = list(ing.tasks(sort="createdAt", order="desc", page_size=3).to_pandas()["createdAt"])
    assert newest_first == sorted(newest_first, reverse=True)


def test_a_run_that_fails_brings_its_failed_events(ing: Client) -> None:
    index, _ = index_and_auth(ing)
    source = ing.create_source(
        type="csv", name="offers", input={"url": "https://feeds.example.com/offers.csv?errors=50"}
    )["sourceID"]
    tid = ing.create_task(source, index, action="save", failure_threshold=10)["taskID"]
    run = ing.run_task(tid)
    with pytest.raises(RunFailed) as caught:
        run.wait(progress="off")
    exc = caught.value
    assert exc.reason_code == "too_many_errors" and exc.failure_threshold == 10 and exc.events_total == 3
    assert all(e["status"] == "failed" and "too big" in e["data"]["message"] for e in exc.events)
    assert run.outcome is Outcome.FAILURE and not run.done
    failed = run.events(status=["failed", "critical"], order="asc").to_pandas()
    assert list(failed["eventID"]) == [e["eventID"] for e in exc.events]
    assert run.get_event(exc.events[0]["eventID"])["status"] == "failed"


def test_a_critical_run(ing: Client) -> None:
    index, _ = index_and_auth(ing)
    source = ing.create_source(type="json", name="gone", input={"url": "https://x.example/critical.json"})["sourceID"]
    run = ing.run_task(ing.create_task(source, index, action="replace")["taskID"])
    with pytest.raises(RunFailed, match="reasonCode critical") as caught:
        run.wait(progress="off")
    assert [e["status"] for e in caught.value.events] == ["critical"]


def test_a_run_skipped_while_another_runs(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia", start_after=30.0)
    ing = Client(**emu.client_kwargs(), poll=QUICK)
    busy = ing.run_task(EXAMPLE_TASK_ID)
    second = ing.run_task(EXAMPLE_TASK_ID).wait(progress="off")
    assert second.outcome is Outcome.SKIPPED and second.skipped and not second.done
    assert second.last_status is not None and "already in progress" in (second.last_status.message or "")
    assert busy.status().raw == "created"


def test_runs_and_events_as_dataframes(ing: Client) -> None:
    run = ing.run_task(EXAMPLE_TASK_ID).wait(progress="off")
    runs = ing.runs(task_id=EXAMPLE_TASK_ID, status="finished").to_pandas()
    assert run.id in set(runs["runID"]) and set(runs["status"]) == {"finished"}
    assert {"progress.expectedNbOfEvents", "progress.receivedNbOfEvents", "outcome"} <= set(runs.columns)
    assert isinstance(runs["createdAt"].dtype, pd.DatetimeTZDtype)
    listing = ing.runs()
    listing.to_list()
    assert listing.window is not None and set(listing.window) == {"startDate", "endDate"}
    events = run.events(type="record", sort="publishedAt", order="asc", page_size=4).to_pandas()
    assert len(events) == 6 and set(events["type"]) == {"record"} and events["batchSize"].sum() == 60
    assert events["publishedAt"].is_monotonic_increasing and isinstance(events["data"].iloc[0], dict)
    everything = ing.events(run.id, start_date=run.created_at).to_pandas()
    assert len(everything) == run.info["progress"]["expectedNbOfEvents"]


def test_an_html_429_from_the_edge_is_waited_out(alg_emu: Any, ing: Client) -> None:
    alg_emu.faults.add("status", path=f"/1/tasks/{EXAMPLE_TASK_ID}/run", status=429, html=True, retry_after=0, times=2)
    run = ing.run_task(EXAMPLE_TASK_ID)
    assert run.wait(progress="off").done
    posts = [r for r in alg_emu.app.requests if r.method == "POST" and r.path.endswith("/run")]
    assert len(posts) == 3


def test_resources_in_use_are_refused_with_algolias_reason(ing: Client) -> None:
    task = ing.get_task(EXAMPLE_TASK_ID).info
    with pytest.raises(BadRequest, match="is used by task"):
        ing.delete_source(task["sourceID"])


def test_a_key_without_the_acl_is_permission_denied(alg_emu: Any) -> None:
    from dataferry.emulator.algolia import SEARCH_KEY
    from dataferry.errors import PermissionDenied

    reader = Client(app_id=alg_emu.credentials["app_id"], api_key=SEARCH_KEY, base_url=alg_emu.base_url)
    with pytest.raises(PermissionDenied, match="Method not allowed with this API key") as caught:
        reader.run_task(EXAMPLE_TASK_ID)
    assert "ACL addObject, deleteIndex and editSettings" in str(caught.value)


def test_a_run_read_back_by_id(ing: Client) -> None:
    started = ing.run_task(EXAMPLE_TASK_ID)
    started.wait(progress="off")
    again = ing.run(started.id).get()
    assert again["runID"] == started.id and again["status"] == "finished" and again["taskID"] == EXAMPLE_TASK_ID
    assert again["progress"]["receivedNbOfEvents"] == again["progress"]["expectedNbOfEvents"] == 9
