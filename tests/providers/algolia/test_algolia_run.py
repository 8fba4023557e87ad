"""Waiting on a task run: statuses onto the engine's states, progress from the event counts,
failure with its reason and events, skipped runs, unknown statuses (``responses``, fake clock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.providers.algolia import Client, Outcome, Run, RunFailed
from dataferry.status import JobState
from dataferry.wait import PollPolicy

from .conftest import APP, BASE, KEY, RUN_ID, TASK_ID

CREATED = "2024-07-18T10:00:00.000Z"
RUN_URL = f"{BASE}/1/runs/{RUN_ID}"
EVENTS_URL = f"{RUN_URL}/events"


def run_body(status: str, expected: int | None = None, received: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "runID": RUN_ID,
        "appID": APP,
        "taskID": TASK_ID,
        "status": status,
        "type": "reindex",
        "createdAt": CREATED,
        **extra,
    }
    if expected is not None:
        body["progress"] = {"expectedNbOfEvents": expected, "receivedNbOfEvents": received}
    return body


def event(n: int, status: str = "succeeded", kind: str = "record", message: str = "ok") -> dict[str, Any]:
    return {
        "eventID": f"e{n}",
        "runID": RUN_ID,
        "status": status,
        "type": kind,
        "batchSize": 10,
        "publishedAt": f"2024-07-18T10:00:{n:02d}Z",
        "data": {"message": message},
    }


def events_page(events: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    return {
        "events": events,
        "window": {"startDate": CREATED, "endDate": CREATED},
        "pagination": {"nbPages": 1, "page": 1, "nbItems": len(events) if total is None else total, "itemsPerPage": 5},
    }


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client(clock: FakeClock) -> Iterator[Client]:
    c = Client(app_id=APP, api_key=KEY, clock=clock, poll=PollPolicy(initial=0.01, growth=1.0, jitter=0.0))
    yield c
    c.close()


def calls_to(mock: responses.RequestsMock, url: str) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(c.request.url).query)) for c in mock.calls if c.request.url.split("?")[0] == url]


def test_statuses_progress_and_success(wire: responses.RequestsMock, client: Client, clock: FakeClock) -> None:
    for body in (
        run_body("created"),
        run_body("idled", 9, 0, outcome="processing"),
        run_body("started", 9, 4, outcome="processing"),
        run_body("started", 9, 4, outcome="processing"),
        run_body("finished", 9, 9, outcome="success", reasonCode="ok", failureThreshold=5),
    ):
        wire.add("GET", RUN_URL, json=body)
    wire.add("GET", EVENTS_URL, json=events_page([event(3), event(2, "failed"), event(1)]))
    wire.add("GET", f"{BASE}/1/tasks/{TASK_ID}", json={"taskID": TASK_ID, "failureThreshold": 5})
    run = client.run(RUN_ID)
    seen = [run.status() for _ in range(5)]
    assert [s.state for s in seen] == [JobState.RUNNING] * 4 + [JobState.DONE]
    assert [s.raw for s in seen] == ["created", "idled", "started", "started", "finished"]
    assert [s.progress for s in seen] == [None, 0.0, pytest.approx(4 / 9), pytest.approx(4 / 9), 1.0]
    assert seen[2].message == (
        "4/9 events; latest: record succeeded (10 records); 1 of the last 3 events failed; failure threshold 5%"
    )
    # events are asked for only when the status or the event count moved: not on the 4th poll
    assert len(calls_to(wire, EVENTS_URL)) == 4
    assert calls_to(wire, EVENTS_URL)[0] == {
        "page": "1",
        "itemsPerPage": "5",
        "sort": "publishedAt",
        "order": "desc",
        "startDate": CREATED,
    }
    assert run.outcome is Outcome.SUCCESS and run.done and not run.skipped
    assert run.failure_threshold == 5


def test_wait_polls_at_the_observability_pace_until_done(
    wire: responses.RequestsMock, client: Client, clock: FakeClock
) -> None:
    for body in [run_body("started", 9, n, outcome="processing") for n in range(0, 9, 2)] + [
        run_body("finished", 9, 9, outcome="success", failureThreshold=0)
    ]:
        wire.add("GET", RUN_URL, json=body)
    wire.add("GET", EVENTS_URL, json=events_page([event(1)]))
    run = client.run(RUN_ID)
    assert run.wait(progress="off") is run
    assert (
        run.last_status is not None
        and run.last_status.message
        == "success; 9/9 events; latest: record succeeded (10 records); failure threshold 0%"
    )
    waits = [s for s in clock.sleeps if s > 0]
    assert waits and min(waits) >= 0.15 - 1e-9  # 200 requests per 30 s: never polled faster
    assert repr(run) == (
        f"<algolia run {RUN_ID}: finished 100% – success; 9/9 events; latest: record succeeded "
        "(10 records); failure threshold 0%>"
    )
    assert run.reattach == f"algolia.Client().run('{RUN_ID}')"


def test_a_failed_run_raises_run_failed_with_reason_and_events(wire: responses.RequestsMock, client: Client) -> None:
    wire.add("GET", RUN_URL, json=run_body("started", 12, 6, outcome="processing"))
    wire.add(
        "GET",
        RUN_URL,
        json=run_body(
            "finished",
            12,
            12,
            outcome="failure",
            reasonCode="too_many_errors",
            reason="40% of the records failed",
            failureThreshold=10,
        ),
    )
    failures = [event(n, "failed", message=f"Record {n} is too big") for n in range(1, 5)] + [
        event(5, "critical", "fetch", "timeout")
    ]
    wire.add("GET", EVENTS_URL, json=events_page([event(9)]))  # the progress peek
    wire.add("GET", EVENTS_URL, json=events_page([event(9)]))
    wire.add("GET", EVENTS_URL, json=events_page(failures, total=48))
    with pytest.raises(RunFailed) as caught:
        client.run(RUN_ID).wait(progress="off")
    exc = caught.value
    assert exc.vendor_message == "40% of the records failed" and exc.reason == "40% of the records failed"
    assert exc.reason_code == "too_many_errors" and exc.failure_threshold == 10 and exc.task_id == TASK_ID
    assert exc.events == failures and exc.events_total == 48 and exc.job_id == RUN_ID
    text = str(exc)
    assert text.splitlines()[0] == (
        f"algolia run {RUN_ID} failed: 40% of the records failed (reasonCode "
        "too_many_errors; 48 failed/critical events; task failureThreshold 10%)"
    )
    assert "2024-07-18T10:00:01Z record failed (10 records): Record 1 is too big" in text
    assert "… and 45 more" in text and "run.events(status=['failed', 'critical'])" in text
    assert calls_to(wire, EVENTS_URL)[-1] == {
        "page": "1",
        "itemsPerPage": "100",
        "sort": "publishedAt",
        "order": "asc",
        "status": "failed,critical",
        "startDate": CREATED,
    }


def test_a_skipped_run_ends_the_wait_with_its_own_outcome(wire: responses.RequestsMock, client: Client) -> None:
    wire.add(
        "GET",
        RUN_URL,
        json=run_body(
            "skipped", reason="a run of this task is already in progress", reasonCode="blocking", failureThreshold=5
        ),
    )
    wire.add("GET", EVENTS_URL, json=events_page([]))
    run = client.run(RUN_ID).wait(progress="off")
    assert run.outcome is Outcome.SKIPPED and run.skipped and not run.done
    assert (
        run.last_status is not None and run.last_status.message == "skipped: a run of this task is already in progress"
    )


def test_unknown_statuses_and_undecided_outcomes_keep_waiting(wire: responses.RequestsMock, client: Client) -> None:
    for body in (
        run_body("queued_for_retry"),
        run_body("finished", 3, 3, outcome="processing"),
        run_body("finished", 3, 3),
        run_body("finished", 3, 3, outcome="success"),
    ):
        wire.add("GET", RUN_URL, json=body)
    wire.add("GET", EVENTS_URL, json=events_page([]))
    wire.add("GET", f"{BASE}/1/tasks/{TASK_ID}", json={"taskID": TASK_ID})
    run = client.run(RUN_ID)
    states = [run.status() for _ in range(4)]
    assert [s.state for s in states] == [JobState.RUNNING] * 3 + [JobState.DONE]
    assert states[1].message == "outcome processing; 3/3 events" and states[2].message == "outcome pending; 3/3 events"


def test_the_threshold_comes_from_the_task_when_the_run_has_none(wire: responses.RequestsMock, client: Client) -> None:
    wire.add("GET", RUN_URL, json=run_body("started", 4, 1, outcome="processing"))
    wire.add("GET", RUN_URL, json=run_body("started", 4, 2, outcome="processing"))
    wire.add("GET", EVENTS_URL, json=events_page([]))
    wire.add("GET", f"{BASE}/1/tasks/{TASK_ID}", json={"taskID": TASK_ID, "failureThreshold": 25})
    run = client.run(RUN_ID)
    _first, second = run.status(), run.status()
    assert run.failure_threshold == 25 and second.message == "2/4 events; failure threshold 25%"
    assert len(calls_to(wire, f"{BASE}/1/tasks/{TASK_ID}")) == 1  # asked once


def test_a_deleted_task_leaves_the_threshold_unknown(wire: responses.RequestsMock, client: Client) -> None:
    wire.add("GET", RUN_URL, json=run_body("finished", 2, 2, outcome="success"))
    wire.add("GET", EVENTS_URL, json=events_page([]))
    wire.add("GET", f"{BASE}/1/tasks/{TASK_ID}", json={"message": "task not found"}, status=404)
    run = client.run(RUN_ID).wait(progress="off")
    assert run.done and run.failure_threshold is None


def test_a_run_not_visible_yet_right_after_starting_it_is_waited_for(
    wire: responses.RequestsMock, client: Client
) -> None:
    wire.add("POST", f"{BASE}/1/tasks/{TASK_ID}/run", json={"runID": RUN_ID, "createdAt": CREATED})
    wire.add("GET", RUN_URL, json={"message": "run not found"}, status=404)
    wire.add("GET", RUN_URL, json=run_body("finished", 1, 1, outcome="success", failureThreshold=1))
    wire.add("GET", EVENTS_URL, json=events_page([]))
    run = client.run_task(TASK_ID)
    assert isinstance(run, Run) and run.task_id == TASK_ID and run.created_at == CREATED
    assert run.wait(progress="off").done


def test_events_of_a_reattached_run_start_at_its_creation(wire: responses.RequestsMock, client: Client) -> None:
    wire.add("GET", RUN_URL, json=run_body("finished", 2, 2, outcome="success", failureThreshold=1))
    wire.add("GET", EVENTS_URL, json=events_page([event(1), event(2, "failed")]))
    frame = client.run(RUN_ID).events(status="failed").to_pandas()
    listed = calls_to(wire, EVENTS_URL)[-1]
    assert listed["startDate"] == "2024-07-18T10:00:00Z" and listed["status"] == "failed"
    assert list(frame["eventID"]) == ["e1", "e2"] and frame["data"].iloc[0] == {"message": "ok"}
    assert str(frame["publishedAt"].dtype).startswith("datetime64") and str(frame["publishedAt"].dt.tz) == "UTC"


def test_run_failed_is_a_job_failed(wire: responses.RequestsMock, client: Client) -> None:
    from dataferry.errors import JobFailed

    assert issubclass(RunFailed, JobFailed) and Run.failure is RunFailed
    wire.add("GET", RUN_URL, json=run_body("finished", 1, 1, outcome="failure", reasonCode="critical"))
    wire.add("GET", EVENTS_URL, json=events_page([event(1, "critical", "fetch", "404")]))
    with pytest.raises(JobFailed, match="failed: critical"):
        client.run(RUN_ID).wait(progress="off")
