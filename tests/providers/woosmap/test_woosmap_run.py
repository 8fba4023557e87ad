"""Waiting on a Woosmap import run: statuses, progress, failures, stale runs (fake clock)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pandas as pd
import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.errors import JobFailed
from dataferry.providers.woosmap import Client, ImportFailed, ImportRun
from dataferry.status import JobState
from dataferry.wait import PollPolicy

KEY = "test-woosmap-private-key-4f1c9a"
BASE = "https://api.woosmap.com"
DID = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"
STATUS_URL = f"{BASE}/datasets/{DID}/status"
RUN_ID = "832eb97f-266c-4387-991d-52e77366dc99"

SPEC_EXAMPLE = {  # the spec's DatasetStatusResponse example, verbatim (timestamps without a zone)
    "id": RUN_ID,
    "status": "success",
    "steps": [
        {
            "end": "2024-06-07T09:30:48.356003",
            "entries": [
                {
                    "created_at": "2024-06-07T09:30:36.741569",
                    "detail": "Fetching https://hostname.com/archive.zip...",
                    "level": "info",
                },
                {"created_at": "2024-06-07T09:30:48.103825", "detail": "Loading dataset...", "level": "info"},
                {"created_at": "2024-06-07T09:30:48.351829", "detail": "Dataset loaded", "level": "info"},
            ],
            "name": "fetch",
            "start": "2024-06-07T09:30:36.715881",
            "status": "success",
        },
        {
            "end": "2024-06-07T09:31:18.900746",
            "entries": [
                {"created_at": "2024-06-07T09:30:48.366471", "detail": "Will import 34867 features.", "level": "info"},
                {
                    "created_at": "2024-06-07T09:31:18.785477",
                    "detail": "Successfully imported 34867 features.",
                    "level": "info",
                },
            ],
            "name": "import",
            "start": "2024-06-07T09:30:48.358285",
            "status": "success",
        },
    ],
}


def fetching() -> dict[str, Any]:
    step = dict(
        SPEC_EXAMPLE["steps"][0], end=None, status="in_progress", entries=SPEC_EXAMPLE["steps"][0]["entries"][:2]
    )
    return {"id": RUN_ID, "status": "in_progress", "steps": [step]}


def importing() -> dict[str, Any]:
    step = dict(
        SPEC_EXAMPLE["steps"][1], end=None, status="in_progress", entries=SPEC_EXAMPLE["steps"][1]["entries"][:1]
    )
    return {"id": RUN_ID, "status": "in_progress", "steps": [SPEC_EXAMPLE["steps"][0], step]}


def failed() -> dict[str, Any]:
    errors = [
        {"created_at": "2024-06-07T09:31:00.000001", "detail": "Feature 7: invalid geometry.", "level": "error"},
        {"created_at": "2024-06-07T09:31:01.000001", "detail": "Feature 9: no coordinates.", "level": "error"},
        {"created_at": "2024-06-07T09:31:02.000001", "detail": "3 features without a title.", "level": "warning"},
        {"created_at": "2024-06-07T09:31:03.000001", "detail": "Import failed: 2 invalid features.", "level": "error"},
    ]
    step = dict(SPEC_EXAMPLE["steps"][1], status="failed", entries=SPEC_EXAMPLE["steps"][1]["entries"][:1] + errors)
    return {"id": RUN_ID, "status": "failed", "steps": [SPEC_EXAMPLE["steps"][0], step]}


def serve(bodies: list[dict[str, Any]], clock: FakeClock) -> list[float]:
    """Answer the status endpoint with ``bodies`` in turn (the last one repeats); record when."""
    times: list[float] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        times.append(clock.monotonic())
        body = bodies[min(len(times), len(bodies)) - 1]
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    responses.add_callback(responses.GET, STATUS_URL, callback=answer)
    return times


@pytest.fixture
def run(offline: Client) -> ImportRun:
    return offline.import_run(DID)


@responses.activate
def test_in_progress_is_running_with_the_current_step_and_its_latest_entry(run: ImportRun, clock: FakeClock) -> None:
    serve([fetching()], clock)
    status = run.status()
    assert (status.state, status.raw, status.progress) == (JobState.RUNNING, "in_progress", 0.0)
    assert status.message == "fetch: Loading dataset..."
    responses.reset()
    serve([importing()], clock)
    status = run.status()
    assert status.progress == 0.5 and status.message == "import: Will import 34867 features."
    assert repr(run) == f"<woosmap import {DID}: in_progress 50% – import: Will import 34867 features.>"


@responses.activate
def test_success_is_done_and_the_frames_read_the_spec_example(run: ImportRun, clock: FakeClock) -> None:
    serve([SPEC_EXAMPLE], clock)
    assert run.wait() is run and run.done and run.run_id == RUN_ID
    assert (
        run.last_status.progress == 1.0 and run.last_status.message == "import: Successfully imported 34867 features."
    )
    entries = run.to_pandas()
    assert (
        entries.columns.tolist()
        == ["step", "step_status", "step_start", "step_end", "step_seconds", "created_at", "level", "detail"]
        and len(entries) == 5
    )
    steps = entries.drop_duplicates("step").reset_index(drop=True)
    assert steps["step"].tolist() == ["fetch", "import"] and entries["step"].value_counts().tolist() == [3, 2]
    assert steps.loc[0, "step_start"] == pd.Timestamp("2024-06-07T09:30:36.715881", tz="UTC")
    assert steps["step_seconds"].round(3).tolist() == [11.640, 30.542]
    assert entries["created_at"].dt.tz is not None and entries["step"].tolist() == ["fetch"] * 3 + ["import"] * 2
    assert run.errors == [] and run.warnings == []


@responses.activate
def test_a_failed_run_raises_import_failed_with_every_error_entry(run: ImportRun, clock: FakeClock) -> None:
    serve([fetching(), importing(), failed()], clock)
    with pytest.raises(ImportFailed) as caught:
        run.wait()
    exc = caught.value
    assert isinstance(exc, JobFailed) and exc.job_id == DID and exc.run_id == RUN_ID
    assert [e["detail"] for e in exc.errors] == [
        "Feature 7: invalid geometry.",
        "Feature 9: no coordinates.",
        "Import failed: 2 invalid features.",
    ]
    assert all(e["step"] == "import" and e["level"] == "error" for e in exc.errors)
    text = str(exc)
    assert text.startswith(f"woosmap import of dataset {DID} failed: import: Import failed: 2 invalid features.")
    assert "\n  - import: Feature 7: invalid geometry." in text and "\n  - import: Feature 9: no coordinates." in text
    assert "without a title" not in text and "ds.import_()" in text
    assert run.last_status.state is JobState.FAILED
    frame = run.to_pandas()
    assert frame["level"].value_counts().to_dict() == {"error": 3, "info": 4, "warning": 1}
    assert [int((frame["step"].eq(s) & frame["level"].eq("error")).sum()) for s in ("fetch", "import")] == [0, 3]


@responses.activate
def test_a_failed_fetch_names_the_fetch_step(run: ImportRun, clock: FakeClock) -> None:
    step = dict(
        SPEC_EXAMPLE["steps"][0],
        status="failed",
        entries=[
            {
                "created_at": "2024-06-07T09:30:37",
                "detail": "Unable to fetch https://hostname.com/archive.zip: 404",
                "level": "error",
            }
        ],
    )
    serve([{"id": RUN_ID, "status": "failed", "steps": [step]}], clock)
    with pytest.raises(ImportFailed, match=r"failed: fetch: Unable to fetch .*\n  - fetch: Unable to fetch"):
        run.wait()


@responses.activate
def test_an_unknown_status_keeps_waiting(run: ImportRun, clock: FakeClock) -> None:
    serve([{**fetching(), "status": "pending_review"}, SPEC_EXAMPLE], clock)
    status = run.status()
    assert status.state is JobState.RUNNING and status.raw == "pending_review"
    run.wait()
    assert run.done


@responses.activate
@pytest.mark.parametrize("poll", [None, PollPolicy(initial=0.1, maximum=0.5, jitter=0.0)])
def test_waiting_asks_for_the_status_at_most_once_per_5_seconds(clock: FakeClock, poll: PollPolicy | None) -> None:
    wm = Client(private_key=KEY, clock=clock, poll=poll)
    times = serve([fetching()] * 3 + [importing()] * 4 + [SPEC_EXAMPLE], clock)
    wm.import_run(DID).wait()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 8 and min(gaps) >= 5.0


@responses.activate
def test_the_run_shown_before_the_import_counts_as_queued_until_the_new_one_shows(
    offline: Client, clock: FakeClock
) -> None:
    new = {**SPEC_EXAMPLE, "id": "11111111-2222-4333-8444-555555555555"}
    serve([SPEC_EXAMPLE, SPEC_EXAMPLE, SPEC_EXAMPLE, {**fetching(), "id": new["id"]}, new], clock)
    responses.post(f"{BASE}/datasets/{DID}/import", status=202, json={"dataset_id": DID})
    run = offline.dataset(DID).import_()
    status = run.status()
    assert (status.state, status.raw) == (JobState.QUEUED, "queued") and run.run_id is None
    run.wait()
    assert run.run_id == new["id"] and run.done
    assert len(responses.calls) == 6


@responses.activate
def test_a_run_that_started_before_the_hook_answered_is_the_previous_one(offline: Client, clock: FakeClock) -> None:
    later = dict(
        SPEC_EXAMPLE,
        id="11111111-2222-4333-8444-555555555555",
        steps=[dict(s, start="2024-06-07T10:00:01.5") for s in SPEC_EXAMPLE["steps"]],
    )
    serve([SPEC_EXAMPLE, later], clock)
    responses.post(
        f"{BASE}/datasets/hooks/reimport/0f3a1c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
        status=202,
        json={"dataset_id": DID},
        headers={"Date": "Fri, 07 Jun 2024 10:00:00 GMT"},
    )
    run = offline.reimport("0f3a1c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b")
    assert run.status().state is JobState.QUEUED
    run.wait()
    assert run.run_id == later["id"]


@responses.activate
def test_a_404_right_after_an_import_is_forgiven_while_the_run_appears(offline: Client, clock: FakeClock) -> None:
    responses.get(STATUS_URL, status=404, json={"details": "No import run found for this dataset"})
    responses.post(f"{BASE}/datasets/{DID}/import", status=202, json={"dataset_id": DID})
    run = offline.dataset(DID).import_()
    responses.get(STATUS_URL, status=404, json={"details": "No import run found for this dataset"})
    responses.get(STATUS_URL, json=SPEC_EXAMPLE)
    run.wait()
    assert run.done


@responses.activate
def test_status_of_a_dataset_returns_the_run_with_its_status_read(offline: Client, clock: FakeClock) -> None:
    serve([SPEC_EXAMPLE], clock)
    run = offline.dataset(DID).last_import()
    assert run.done and len(responses.calls) == 1
    run.wait()
    assert len(responses.calls) == 1  # a finished run is not asked again
    assert run.reattach == f"woosmap.Client().dataset('{DID}').last_import()"


@responses.activate
def test_frames_read_the_status_once_when_none_was_read(run: ImportRun, clock: FakeClock) -> None:
    serve([SPEC_EXAMPLE], clock)
    assert len(run.to_pandas()) == 5 and len(responses.calls) == 1
    assert len(run.steps) == 2 and len(responses.calls) == 1


def test_empty_runs_give_empty_frames_with_their_columns(run: ImportRun) -> None:
    run.body = {"id": RUN_ID, "status": "in_progress", "steps": []}
    frame = run.to_pandas()
    assert frame.empty and frame.columns.tolist() == [
        "step",
        "step_status",
        "step_start",
        "step_end",
        "step_seconds",
        "created_at",
        "level",
        "detail",
    ]


def test_imports_cannot_be_cancelled_and_say_so(run: ImportRun) -> None:
    from dataferry.errors import DataferryError

    with pytest.raises(DataferryError, match="cannot be cancelled"):
        run.cancel()
