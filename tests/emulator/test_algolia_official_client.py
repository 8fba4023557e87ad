"""The Algolia emulator driven by Algolia's official Python client (``algoliasearch`` 4.x,
``IngestionClientSync``): every answer must parse into the client's pydantic models, which
are what today's server is known to send (issue #22: a run in progress answered
``outcome: "processing"``, which ``RunOutcome`` refuses)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig

from dataferry.emulator.algolia import EXAMPLE_TASK_ID

pytestmark = pytest.mark.filterwarnings("ignore:.* is deprecated:DeprecationWarning")
"""The emulator serves the v1 task endpoints, which the client marks deprecated."""

TIMING = {"start_after": 0.05, "event_interval": 0.04, "records": 60, "batch_size": 10}
"""Runs of 9 events over about 0.4 s: long enough for polls to see them ``started``."""


@pytest.fixture
def client(start_emulator: Callable[..., Any]) -> Iterator[IngestionClientSync]:
    emu = start_emulator("algolia", rate_limits=False, **TIMING)
    config = IngestionConfig(emu.credentials["app_id"], emu.credentials["api_key"])
    config.hosts = HostsCollection([Host("127.0.0.1", scheme="http", port=int(emu.base_url.rsplit(":", 1)[1]))])
    with IngestionClientSync.create_with_config(config) as c:
        yield c


def poll(client: IngestionClientSync, run_id: str, timeout: float = 10.0) -> list[Any]:
    """Every ``Run`` model seen until the run is finished or skipped."""
    seen = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1].status not in ("finished", "skipped"):
        assert time.monotonic() < deadline, seen[-1:]
        seen.append(client.get_run(run_id))
        time.sleep(0.01)
    return seen


def test_create_run_poll_and_list_events_with_the_official_client(client: IngestionClientSync) -> None:
    auth = client.create_authentication(
        {"type": "algolia", "name": "write key", "input": {"appID": "APP", "apiKey": "write-key-123"}}
    )
    destination = client.create_destination(
        {
            "type": "search",
            "name": "products",
            "input": {"indexName": "products"},
            "authenticationID": auth.authentication_id,
        }
    )
    source = client.create_source({"type": "csv", "name": "feed", "input": {"url": "https://x.example/feed.csv"}})
    task = client.create_task_v1(
        {
            "sourceID": source.source_id,
            "destinationID": destination.destination_id,
            "action": "replace",
            "trigger": {"type": "onDemand"},
            "failureThreshold": 10,
        }
    )
    run_id = client.run_task_v1(task.task_id).run_id
    seen = poll(client, run_id)
    assert {r.status for r in seen} >= {"started", "finished"}
    assert all(r.outcome is None for r in seen if r.status != "finished")
    assert (seen[-1].outcome, seen[-1].reason_code) == ("success", "ok")
    events = client.list_events(run_id, items_per_page=100).events
    assert len(events) == 9 and {e.type for e in events} == {"fetch", "record", "log"}
    assert client.get_event(run_id, events[0].event_id).event_id == events[0].event_id
    assert run_id in {r.run_id for r in client.list_runs(task_id=task.task_id).runs}
    assert client.get_task_v1(task.task_id).trigger.actual_instance.last_run is not None
    assert client.get_source(source.source_id).input.actual_instance.url == "https://x.example/feed.csv"
    assert client.get_destination(destination.destination_id).input.index_name == "products"
    assert client.get_authentication(auth.authentication_id).type == "algolia"


def test_every_listing_parses_with_the_official_client(client: IngestionClientSync) -> None:
    # the seeded history holds finished runs of every kind, a scheduled task and a run in progress
    client.run_task_v1(EXAMPLE_TASK_ID)
    assert len(client.list_runs(start_date="2000-01-01T00:00:00Z", items_per_page=100).runs) >= 7
    assert client.list_authentications().authentications
    assert client.list_destinations().destinations
    assert {s.type for s in client.list_sources().sources} == {"csv"}
    assert {t.trigger.actual_instance.type for t in client.list_tasks_v1().tasks} == {"onDemand", "schedule"}


def test_failed_and_skipped_runs_parse_with_the_official_client(client: IngestionClientSync) -> None:
    task = client.get_task_v1(EXAMPLE_TASK_ID)
    gone = client.create_source({"type": "json", "name": "gone", "input": {"url": "https://x.example/critical.json"}})
    broken = client.create_task_v1(
        {
            "sourceID": gone.source_id,
            "destinationID": task.destination_id,
            "action": "save",
            "trigger": {"type": "onDemand"},
        }
    )
    failed = poll(client, client.run_task_v1(broken.task_id).run_id)[-1]
    assert (failed.outcome, failed.reason_code) == ("failure", "critical")
    assert [e.status for e in client.list_events(failed.run_id).events] == ["critical", "started"]
    client.disable_task_v1(EXAMPLE_TASK_ID)
    skipped = poll(client, client.run_task_v1(EXAMPLE_TASK_ID).run_id)[-1]
    assert (skipped.status, skipped.outcome, skipped.reason_code) == ("skipped", None, "blocking")
