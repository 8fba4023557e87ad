"""The Bright Data emulator's collector (DCA) endpoints, spoken to with plain ``requests``:
wire shapes, the documented errors, queueing, deadlines, bodies, and what ``dataferry
emulate`` prints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import requests

from dataferry import emulator as emulator_mod
from dataferry.emulator.brightdata import COLLECTORS

COLLECTOR = "c_lq3x1ab2"
KEYWORDS = "c_lq3x5kw7"
URLS = [{"url": "https://shop.example.com/p/1"}, {"url": "https://shop.example.com/p/2"}]
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


class Api:
    """Plain HTTP calls to one emulator."""

    def __init__(self, emu: emulator_mod.Emulator) -> None:
        self.emu = emu
        self.headers = {"Authorization": f"Bearer {emu.credentials['token']}"}

    def trigger(self, inputs: Any = URLS, **params: Any) -> requests.Response:
        params.setdefault("collector", COLLECTOR)
        return requests.post(
            f"{self.emu.base_url}/dca/trigger", params=params, json=inputs, headers=self.headers, timeout=10
        )

    def dataset(self, collection_id: str, **kw: Any) -> requests.Response:
        return requests.get(
            f"{self.emu.base_url}/dca/dataset",
            params={"id": collection_id},
            headers={**self.headers, **kw.pop("headers", {})},
            timeout=10,
            **kw,
        )

    def finished(self, collection_id: str, timeout: float = 10.0) -> requests.Response:
        """Poll until the dataset answer is no longer 202."""
        end = time.monotonic() + timeout
        while True:
            r = self.dataset(collection_id)
            if r.status_code != 202 or time.monotonic() > end:
                return r
            time.sleep(0.05)


@pytest.fixture
def api(start_emulator: Callable[..., emulator_mod.Emulator]) -> Api:
    return Api(start_emulator("brightdata", collect_after=0.5, deadline_scale=0.05, records_per_input=3))


def test_trigger_answers_a_collection_id_and_a_start_eta(api: Api) -> None:
    r = api.trigger()
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"collection_id", "start_eta"}
    assert body["collection_id"].startswith("j_")
    assert ISO.fullmatch(body["start_eta"])


def test_the_dataset_is_building_then_an_array_of_records_echoing_their_input(api: Api) -> None:
    jid = api.trigger().json()["collection_id"]
    r = api.dataset(jid)
    assert r.status_code == 202
    assert r.json()["status"] == "building"
    assert re.fullmatch(r"Dataset is not ready yet, try again in \d+(\.\d)?s", r.json()["message"])
    done = api.finished(jid)
    assert done.status_code == 200
    assert done.headers["Content-Type"].startswith("application/json")
    records = done.json()
    assert len(records) == 3 * len(URLS)
    assert {json.dumps(r["input"]) for r in records} == {json.dumps(u) for u in URLS}
    assert records == api.emu.app.collection_records(jid)


def test_the_dataset_supports_range_requests(api: Api) -> None:
    jid = api.trigger().json()["collection_id"]
    whole = api.finished(jid).content
    part = api.dataset(jid, headers={"Range": "bytes=10-"})
    assert part.status_code == 206
    assert part.content == whole[10:]


def test_records_are_the_same_on_every_read(api: Api) -> None:
    jid = api.trigger().json()["collection_id"]
    assert api.finished(jid).content == api.dataset(jid).content


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-1234"}])
def test_both_endpoints_refuse_a_missing_or_wrong_token(api: Api, headers: dict[str, str]) -> None:
    r = requests.post(
        f"{api.emu.base_url}/dca/trigger", params={"collector": COLLECTOR}, json=URLS, headers=headers, timeout=10
    )
    assert r.status_code == 401 and r.json()["error"]
    r = requests.get(f"{api.emu.base_url}/dca/dataset", params={"id": "j_x"}, headers=headers, timeout=10)
    assert r.status_code == 401
    assert api.emu.app.collections == {}


def test_unknown_collectors_and_collections_are_404(api: Api) -> None:
    r = api.trigger(collector="c_nosuchone")
    assert (r.status_code, r.json()) == (404, {"error": "Collector not found"})
    r = api.dataset("j_nosuchone")
    assert (r.status_code, r.json()) == (404, {"error": "Dataset not found"})


def test_an_expired_collection_is_404(api: Api) -> None:
    jid = api.trigger().json()["collection_id"]
    api.emu.app.expire_collection(jid)
    assert api.dataset(jid).status_code == 404


@pytest.mark.parametrize(
    ("collector", "inputs", "problem"),
    [
        (COLLECTOR, [{"keyword": "chairs"}], "Input 1: url is required"),
        (
            COLLECTOR,
            [{"url": "https://a.example/x", "colour": "red"}],
            "Input 1: colour is not an input of this collector",
        ),
        (COLLECTOR, [{"url": "not a url"}], "Input 1: url must be a valid URL"),
        (COLLECTOR, [], "Input must contain at least one object"),
        (COLLECTOR, {"url": "https://a.example/x"}, "Input must be an array of objects"),
        (KEYWORDS, [{"keyword": "chairs"}, {"country": "DE"}], "Input 2: keyword is required"),
        (
            COLLECTOR,
            [{"url": "https://a.example/x", "emulator_records": "many"}],
            "Input 1: emulator_records must be a whole number",
        ),
    ],
)
def test_inputs_that_do_not_match_the_schema_are_422(api: Api, collector: str, inputs: Any, problem: str) -> None:
    r = api.trigger(inputs, collector=collector)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "Input does not match the collector's input schema"
    assert any(p.startswith(problem) for p in body["validation_errors"])
    assert api.emu.app.collections == {}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"deadline": "1d"}, "deadline must be a positive number followed by h, m or s"),
        ({"deadline": "0s"}, "deadline must be a positive number followed by h, m or s"),
        ({"version": "live"}, "version must be equal to: dev"),
        ({"queue_next": "1", "confirm_cancel": "1"}, "queue_next, confirm_cancel cannot be combined"),
        ({"queue": "x", "confirm_cancel": "1"}, "queue, confirm_cancel cannot be combined"),
        ({"queue": ""}, "queue must be a non-empty string"),
        ({"no_downloads": "maybe"}, "no_downloads must be 0 or 1"),
    ],
)
def test_bad_trigger_parameters_are_400(api: Api, params: dict[str, str], problem: str) -> None:
    r = api.trigger(**params)
    assert r.status_code == 400
    assert problem in r.json()["validation_errors"][0]


def test_a_collector_id_is_required(api: Api) -> None:
    r = requests.post(f"{api.emu.base_url}/dca/trigger", json=URLS, headers=api.headers, timeout=10)
    assert (r.status_code, r.json()) == (400, {"error": "collector is required"})


def test_a_new_batch_queues_behind_the_running_one(api: Api) -> None:
    first = api.trigger().json()
    second = api.trigger().json()
    eta = [datetime.fromisoformat(x["start_eta"]).timestamp() for x in (first, second)]
    assert eta[1] - eta[0] == pytest.approx(0.5, abs=0.05)
    r = api.dataset(second["collection_id"])
    assert (r.status_code, r.json()["status"]) == (202, "queued")
    assert api.finished(second["collection_id"]).status_code == 200
    runs = api.emu.app.collections
    assert runs[second["collection_id"]].started == pytest.approx(runs[first["collection_id"]].ended)


def test_queue_next_goes_first_and_queue_goes_last(api: Api) -> None:
    running = api.trigger().json()["collection_id"]
    last = api.trigger(queue="batch-b").json()["collection_id"]
    nxt = api.trigger(queue_next="1").json()["collection_id"]
    api.finished(last)
    runs = api.emu.app.collections
    assert runs[running].ended <= runs[nxt].started < runs[last].started


def test_collectors_run_independently(api: Api) -> None:
    api.trigger()
    other = api.trigger([{"keyword": "lamps"}], collector=KEYWORDS).json()["collection_id"]
    assert api.dataset(other).json()["status"] == "building"


def test_confirm_cancel_cancels_the_running_batch_and_runs_at_once(api: Api) -> None:
    old = api.trigger().json()["collection_id"]
    queued = api.trigger().json()["collection_id"]
    new = api.trigger(confirm_cancel="1").json()["collection_id"]
    r = api.dataset(old)
    assert r.status_code == 200
    assert r.json() == {
        "status": "canceled",
        "message": f"Collection was cancelled: {new} was triggered with confirm_cancel",
    }
    assert api.dataset(new).json()["status"] == "building"
    assert api.dataset(queued).json()["status"] == "queued"
    assert api.finished(queued).status_code == 200
    runs = api.emu.app.collections
    assert runs[queued].started >= runs[new].ended


def test_a_deadline_ends_a_batch_with_the_records_collected_so_far(api: Api) -> None:
    inputs = [{"url": f"https://shop.example.com/p/{k}"} for k in range(20)]
    jid = api.trigger(inputs, deadline="2s").json()["collection_id"]  # 0.1 s of a 0.5 s batch
    records = api.finished(jid).json()
    assert 0 < len(records) < 3 * len(inputs)
    assert len(records) == 60 // 5
    assert api.emu.app.collections[jid].outcome == "deadline"


def test_a_deadline_reached_in_the_queue_gives_an_empty_dataset(api: Api) -> None:
    api.trigger()
    jid = api.trigger(deadline="4s").json()["collection_id"]  # 0.2 s; the batch ahead runs 0.5 s
    r = api.finished(jid)
    assert (r.status_code, r.json()) == (200, [])


def test_no_downloads_leaves_image_file_empty(api: Api) -> None:
    with_files = api.finished(api.trigger().json()["collection_id"]).json()
    without = api.finished(api.trigger(no_downloads="1", collector=COLLECTOR).json()["collection_id"]).json()
    assert all(r["image_file"] for r in with_files)
    assert all(r["image_file"] is None and r["image"] for r in without)


def test_emulator_records_zero_gives_an_empty_array(api: Api) -> None:
    jid = api.trigger([{"url": "https://shop.example.com/x", "emulator_records": 0}]).json()["collection_id"]
    r = api.finished(jid)
    assert (r.status_code, r.text) == (200, "[]")


def test_csv_bodies_and_uploads_are_read(api: Api) -> None:
    base = f"{api.emu.base_url}/dca/trigger"
    csv_text = "url\nhttps://shop.example.com/a\nhttps://shop.example.com/b\n"
    r = requests.post(
        base,
        params={"collector": COLLECTOR},
        data=csv_text.encode(),
        headers={**api.headers, "Content-Type": "text/csv"},
        timeout=10,
    )
    assert r.status_code == 200
    r2 = requests.post(
        base,
        params={"collector": COLLECTOR, "queue": "x"},
        headers=api.headers,
        timeout=10,
        files={"data": ("urls.csv", csv_text.encode(), "text/csv")},
    )
    r3 = requests.post(
        base,
        params={"collector": COLLECTOR, "queue": "x"},
        headers=api.headers,
        timeout=10,
        files={"file": ("urls.json", json.dumps(URLS).encode(), "application/json")},
    )
    runs = api.emu.app.collections
    assert runs[r.json()["collection_id"]].inputs == [
        {"url": "https://shop.example.com/a"},
        {"url": "https://shop.example.com/b"},
    ]
    assert runs[r2.json()["collection_id"]].inputs == runs[r.json()["collection_id"]].inputs
    assert runs[r3.json()["collection_id"]].inputs == URLS


def test_a_body_that_is_not_json_is_400(api: Api) -> None:
    r = requests.post(
        f"{api.emu.base_url}/dca/trigger",
        params={"collector": COLLECTOR},
        data=b"[{oops",
        headers={**api.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert (r.status_code, r.json()) == (400, {"error": "Request body must be a valid JSON array"})


def test_format_json_added_by_clients_is_accepted(api: Api) -> None:
    jid = api.trigger().json()["collection_id"]
    api.finished(jid)
    r = requests.get(
        f"{api.emu.base_url}/dca/dataset", params={"id": jid, "format": "json"}, headers=api.headers, timeout=10
    )
    assert r.status_code == 200 and isinstance(r.json(), list)


def test_describe_lists_every_collector_with_its_inputs(api: Api) -> None:
    collectors = api.emu.app.describe()["collectors"]
    assert set(collectors) == {c.id for c in COLLECTORS}
    assert collectors[KEYWORDS].endswith("input: keyword, country")
    assert "datasets" in api.emu.app.describe()  # the Datasets v3 part is still described


def test_dataferry_emulate_prints_the_collector_ids() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataferry.cli", "emulate", "--vendor", "brightdata"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("press Ctrl-C"):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = "".join(lines)
    assert "  collectors:" in text
    for c in COLLECTORS:
        assert f"    {c.id}  {c.name}" in text
