"""The Woosmap client against the emulator over loopback HTTP: the whole journey."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from dataferry.emulator.woosmap import NO_QUOTA_KEY, READ_ONLY_KEY
from dataferry.errors import Conflict, NotFound, PaymentRequired, PermissionDenied, UnprocessableEntity
from dataferry.http import Rate
from dataferry.providers.woosmap import Client, Dataset, ImportFailed, NoImportRun

UNKNOWN = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[3.85, 43.59], [3.90, 43.59], [3.90, 43.63], [3.85, 43.63], [3.85, 43.59]]],
}


def _imported(wm: Client, url: str = "https://example.com/stores.geojson") -> Dataset:
    ds = wm.create_dataset(name="stores", url=url, schema_mapping={"title": "name"})
    ds.import_().wait()
    return ds


def test_create_import_wait_and_inspect_the_steps_and_entries(start_emulator: Callable[..., Any]) -> None:
    # steps long enough (0.4 s) for polls every 25 ms to see each of them
    wm_emu = start_emulator("woosmap", queue_seconds=0.02, fetch_seconds=0.4, import_seconds=0.4, rate_scale=0.005)
    wm = Client(**wm_emu.client_kwargs(), rate_limits=0.005)
    ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
    assert ds.name == "stores" and ds.url == "https://example.com/stores.geojson" and ds.updated_at is None
    run = ds.import_()
    messages = []
    while not run.status().finished:
        if run.last_status.raw != "queued":
            messages.append(run.last_status.message)
    assert run.wait() is run and run.done and run.run_id
    assert messages[0] == "fetch: Fetching https://example.com/stores.geojson..."
    no_title = "import: No schema mapping for 'title': features will have no title."
    assert "fetch: Loading dataset..." in messages and no_title in messages
    stored = wm_emu.app.datasets[ds.id].runs[-1]
    assert run.run_id == stored.id
    entries = run.to_pandas()
    steps = entries.drop_duplicates("step")
    assert steps["step"].tolist() == ["fetch", "import"] and steps["step_status"].tolist() == ["success", "success"]
    assert (steps["step_seconds"] > 0).all()
    assert [int((entries["step"].eq(s) & entries["level"].eq("warning")).sum()) for s in ("fetch", "import")] == [0, 1]
    assert set(entries["level"]) == {"info", "warning"}
    count = int(re.search(r"\d+", entries["detail"].iloc[-1]).group())
    assert entries["detail"].iloc[-1] == f"Successfully imported {count} features." == run.last_status.message[8:]
    assert "No schema mapping for 'title'" in run.warnings[0]["detail"]
    assert len(ds.search("cost:>=0").to_list()) == count


@pytest.mark.parametrize("marker,step", [("fail-import", "import"), ("fail-fetch", "fetch")])
def test_a_failed_import_raises_import_failed_with_the_error_entries(
    wm: Client, wm_emu: Any, marker: str, step: str
) -> None:
    ds = wm.create_dataset(name="broken", url=f"https://example.com/{marker}.geojson")
    run = ds.import_()
    with pytest.raises(ImportFailed) as caught:
        run.wait()
    planned = wm_emu.app.datasets[ds.id].runs[-1].steps[-1]
    expected = [detail for _, level, detail in planned.entries if level == "error"]
    assert [e["detail"] for e in caught.value.errors] == expected and len(expected) >= 2
    assert {e["step"] for e in caught.value.errors} == {step}
    for detail in expected:
        assert f"\n  - {step}: {detail}" in str(caught.value)
    assert run.to_pandas().query("level == 'error'")["detail"].tolist() == expected
    assert run.to_pandas()["step_status"].iloc[-1] == "failed"


def test_a_run_asked_for_before_it_is_visible_is_queued(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("woosmap", queue_seconds=60, rate_scale=0.005)
    wm = Client(**emu.client_kwargs(), rate_limits=0.005)
    ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
    run = ds.import_()
    status = run.status()
    assert (status.state.value, status.raw, status.message) == (
        "queued",
        "queued",
        "import requested; its run is not visible yet",
    )
    with pytest.raises(NoImportRun):
        wm.import_run(ds.id).status()  # a handle that did not request the import: 404 is an answer


def test_status_of_an_imported_dataset_and_of_a_new_one(wm: Client) -> None:
    ds = _imported(wm)
    run = wm.dataset(ds.id).last_import()
    assert run.done and run.wait() is run and len(run.steps) == 2
    fresh = wm.create_dataset(name="fresh", url="https://example.com/fresh.geojson")
    with pytest.raises(NoImportRun) as caught:
        fresh.last_import()
    assert caught.value.status == 404 and "ds.import_()" in str(caught.value)


def test_a_second_import_is_waited_for_not_confused_with_the_first(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("woosmap", queue_seconds=0.3, fetch_seconds=0.05, import_seconds=0.05, rate_scale=0.005)
    wm = Client(**emu.client_kwargs(), rate_limits=0.005)
    ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
    first = ds.import_().wait()
    second = ds.import_()
    assert second.status().raw == "queued"
    second.wait()
    assert second.run_id != first.run_id and second.run_id == emu.app.datasets[ds.id].runs[-1].id


def test_the_reimport_hook_with_and_without_the_dataset_id(wm: Client, wm_emu: Any) -> None:
    ds = _imported(wm)
    first = wm_emu.app.datasets[ds.id].runs[-1].id
    run = ds.reimport()
    run.wait()
    assert run.run_id != first and run.run_id == wm_emu.app.datasets[ds.id].runs[-1].id
    # with the key alone: an existing dataset whose last import ran days ago
    old = wm.get_dataset(next(iter(wm_emu.app.datasets)))
    before = wm_emu.app.datasets[old.id].runs[-1].id
    key_only = wm.reimport(old.reimport_key)
    assert key_only.id == old.id and key_only.not_before is not None
    assert key_only.status().raw == "queued"  # the run of days ago is not taken for the new one
    key_only.wait()
    assert key_only.run_id != before and key_only.run_id == wm_emu.app.datasets[old.id].runs[-1].id
    assert len(wm_emu.app.datasets[ds.id].runs) == 2 and len(wm_emu.app.datasets[old.id].runs) == 2
    hook_requests = [r for r in wm_emu.app.requests if "/hooks/reimport/" in r.path]
    assert len(hook_requests) - len([p for g, p in wm_emu.app.throttled if g == "reimport"]) == 2
    assert all(
        "x-api-key" not in {k.lower() for k in r.headers} and "private_key" not in r.query for r in hook_requests
    )


def test_the_dataset_list_reads_every_page(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("woosmap", existing_datasets=4, rate_scale=0.005)
    wm = Client(**emu.client_kwargs(), rate_limits=0.005)
    wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
    listing = wm.datasets(page_size=2)
    frame = listing.to_pandas()
    assert listing.pages == 3 and len(frame) == 5
    assert sorted(frame["id"]) == sorted(emu.app.datasets)
    assert {"id", "name", "created_at", "updated_at", "scheduled_for_deletion_after"} <= set(frame.columns)
    assert frame["id"].is_unique
    for column in ("created_at", "updated_at", "scheduled_for_deletion_after"):  # datetimes, not ISO text
        assert str(frame[column].dtype).startswith("datetime64"), (column, frame[column].dtype)


def test_get_update_and_scheduled_deletion(wm: Client) -> None:
    ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
    again = wm.get_dataset(ds.id)
    assert again == ds and again.created_at == ds.created_at and again.reimport_key == ds.reimport_key
    ds.update(name="shops", url="https://example.com/shops.geojson")
    assert (ds.name, ds.url) == ("shops", "https://example.com/shops.geojson") and ds.updated_at
    ds.delete()
    assert ds.scheduled_for_deletion_after is not None  # read again after the deletion
    with pytest.raises(Conflict) as caught:
        ds.delete()
    assert caught.value.vendor_message == "The Dataset was already scheduled for deletion."


def test_typed_errors_from_the_emulator(wm: Client, wm_emu: Any) -> None:
    with pytest.raises(NotFound) as caught:
        wm.get_dataset(UNKNOWN)
    assert caught.value.vendor_message == "Dataset was not found" and not isinstance(caught.value, NoImportRun)
    with pytest.raises(NotFound):
        wm.dataset(UNKNOWN).import_()
    with pytest.raises(PermissionDenied, match="Credentials found, but not matching"):
        Client(private_key="someone-elses-key", base_url=wm_emu.base_url).datasets().to_list()
    with pytest.raises(PermissionDenied):
        Client(private_key=READ_ONLY_KEY, base_url=wm_emu.base_url).create_dataset("x", "https://example.com/x.json")
    with pytest.raises(PaymentRequired, match="Out of free quota"):
        Client(private_key=NO_QUOTA_KEY, base_url=wm_emu.base_url).get_dataset(UNKNOWN)


def test_a_422_from_woosmap_lists_each_problem(wm: Client) -> None:
    ds = _imported(wm)
    with pytest.raises(UnprocessableEntity) as caught:
        ds.search("cost:>cheap")
        ds.search("cost:>cheap").to_list()
    assert caught.value.errors[0]["loc"] == ["body", "where"]
    assert "body.where: >" in str(caught.value)


def test_the_key_in_the_query_works_too(wm_emu: Any) -> None:
    wm = Client(**wm_emu.client_kwargs(), key_in="query", rate_limits=0.005)
    assert len(wm.datasets().to_list()) == 3
    assert "private_key=" in wm_emu.app.requests[-1].query
    assert "x-api-key" not in {k.lower() for k in wm_emu.app.requests[-1].headers}


def test_a_429_from_woosmap_is_waited_out(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("woosmap", rate_scale=0.1)  # status: 1 per 0.5 s
    # a client that paces itself far less than Woosmap allows: the emulator answers 429
    wm = Client(**emu.client_kwargs(), rate_limits={"status": Rate(100, 1.0)})
    did = next(iter(emu.app.datasets))
    runs = [wm.dataset(did).last_import() for _ in range(3)]
    assert all(r.done for r in runs)
    throttled = [g for g, _ in emu.app.throttled]
    asked = [r for r in emu.app.requests if r.path.endswith("/status")]
    assert throttled and set(throttled) == {"status"} and len(asked) == 3 + len(throttled)


def test_feature_queries_return_json_or_dataframes(wm: Client, wm_emu: Any) -> None:
    ds = _imported(wm)
    everything = ds.search("cost:>=0").to_list()
    costly = ds.search("cost:>40", page_size=5)
    frame = costly.to_pandas()
    assert (frame["attributes.cost"] > 40).all()
    assert frame["id"].tolist() == [f["id"] for f in everything if f["attributes"]["cost"] > 40]
    assert costly.pages == -(-len(frame) // 5)
    near = ds.nearby((43.6108, 3.8767), buffer=2000).to_list()
    assert 0 < len(near) < len(everything)
    inside = ds.within(SQUARE).to_list()
    assert ds.intersects(SQUARE).to_list() == inside
    assert [f["id"] for f in ds.contains(everything[0]["geometry"]).to_list()] == [everything[0]["id"]]
    wkb = ds.search("cost:>=0", format="wkb", limit=3).to_list()
    assert len(wkb) == 3 and all(isinstance(f["geometry"], str) for f in wkb)
    one = ds.feature(everything[0]["id"], fields=["name"])
    assert one["attributes"] == {"name": everything[0]["attributes"]["name"]}
    with pytest.raises(NotFound, match="Feature or Dataset were not found"):
        ds.feature(UNKNOWN)
