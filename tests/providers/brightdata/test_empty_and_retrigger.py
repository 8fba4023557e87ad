"""Empty results (``on_empty=``) and transient failures (``JobFailed.transient``, ``retrigger=``)
of Bright Data snapshots, against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dataferry.errors import InvalidArgument, JobFailed
from dataferry.providers.brightdata.errors import SnapshotEmpty
from dataferry.providers.brightdata.failures import FAILURES, Kind, classify

DATASET = "gd_l1viktl72bvl7bjuj0"
URL = "https://shop.example.com/p/1"

SEED_KINDS = {
    "Something went wrong. Our team is looking into it.": Kind.TRANSIENT,
    "Account is suspended": Kind.PERMANENT,
    "Account is new, please activate it in account settings. https://brightdata.com/cp/setting": Kind.PERMANENT,
    "No data found in discovery": Kind.EMPTY,
    "Snapshot is empty": Kind.EMPTY,
    "Failed to deliver snapshot": Kind.TRANSIENT,
    "Failed to download response": Kind.TRANSIENT,
    "Failed to trigger collector": Kind.TRANSIENT,
    "Internal Server Error": Kind.TRANSIENT,
    "Input validation failed: Input 1: url must be a valid URL": Kind.PERMANENT,
}
"""Every failure message of the seed's "Monitor progress" table, and what it means."""


def triggers(emu: Any) -> int:
    return sum(1 for r in emu.app.requests if r.method == "POST" and r.path == "/datasets/v3/trigger")


def test_every_seed_message_is_classified_and_only_those_are_known() -> None:
    for message, kind in SEED_KINDS.items():
        assert classify(message).kind is kind, message
    assert len(FAILURES) == len(SEED_KINDS)
    assert classify("a message nobody documented").kind is Kind.PERMANENT  # never re-triggered blindly


@pytest.mark.parametrize("message", list(SEED_KINDS), ids=[m.split(".")[0].split(":")[0] for m in SEED_KINDS])
def test_a_failed_snapshot_says_whether_a_new_trigger_may_succeed(bd: Any, message: str) -> None:
    snap = bd.trigger(DATASET, [{"url": URL, "emulator_fail": message}])
    with pytest.raises(JobFailed) as info:
        snap.to_pandas()
    assert info.value.vendor_message == message
    assert info.value.transient is (SEED_KINDS[message] is Kind.TRANSIENT)
    assert info.value.hint == classify(message).hint


@pytest.mark.parametrize("message", ["Snapshot is empty", "No data found in discovery"])
def test_an_empty_result_raises_by_default_and_is_an_empty_frame_on_request(bd: Any, message: str) -> None:
    with pytest.raises(JobFailed, match=message):
        bd.trigger(DATASET, [{"url": URL, "emulator_fail": message}]).to_pandas()
    snap = bd.trigger(DATASET, [{"url": URL, "emulator_fail": message}], on_empty="empty")
    frame = snap.to_pandas()
    assert frame.empty and snap.done and snap.empty_message == message
    assert snap.last_status is not None and snap.last_status.message == f"empty: {message}"


def test_a_ready_snapshot_with_no_records_is_empty_on_request(bd: Any, tmp_path: Path) -> None:
    with pytest.raises(SnapshotEmpty):
        bd.trigger(DATASET, [{"url": URL, "emulator_records": 0}]).to_pandas()
    snap = bd.trigger(DATASET, [{"url": URL, "emulator_records": 0}], on_empty="empty")
    out = snap.to_parquet(tmp_path / "empty.parquet")
    assert pq.read_metadata(out).num_rows == 0 and snap.empty_message == "Snapshot is empty"
    again = bd.snapshot(snap.id, on_empty="empty")  # re-attached by id: the same choice
    assert again.to_pandas().empty


def test_an_empty_parquet_file_keeps_the_columns_asked_for(bd: Any, tmp_path: Path) -> None:
    snap = bd.trigger(
        DATASET,
        [{"url": URL, "emulator_fail": "Snapshot is empty"}],
        on_empty="empty",
        custom_output_fields=["url", "title", "about.updated_on"],
    )
    out = snap.to_parquet(tmp_path / "empty.parquet")
    assert pq.read_schema(out).names == ["url", "title", "about"]
    assert pq.read_metadata(out).num_rows == 0
    assert list(snap.to_pandas().columns) == ["url", "title", "about"]


def test_retrigger_triggers_again_on_a_transient_failure_until_it_succeeds(bd: Any, bd_emu: Any) -> None:
    inputs = [{"url": URL, "emulator_fail": "Failed to download response", "emulator_fail_first": 2}]
    snap = bd.trigger(DATASET, inputs, retrigger=3)
    first = snap.id
    frame = snap.to_pandas()
    assert len(frame) > 0 and triggers(bd_emu) == 3
    assert snap.attempts[0] == first and len(snap.attempts) == 3 and snap.id == snap.attempts[-1] != first
    assert bd_emu.app.snapshots[snap.id].status(bd_emu.app.now()) == "ready"


def test_retrigger_gives_up_after_n_and_says_how_many_times(bd: Any, bd_emu: Any) -> None:
    snap = bd.trigger(DATASET, [{"url": URL, "emulator_fail": "Internal Server Error"}], retrigger=1)
    with pytest.raises(JobFailed) as info:
        snap.wait(timeout=30)
    assert triggers(bd_emu) == 2 and info.value.transient is True
    assert info.value.hint is not None and "triggered 2 times" in info.value.hint


def test_a_permanent_failure_and_the_default_are_never_retriggered(bd: Any, bd_emu: Any) -> None:
    with pytest.raises(JobFailed):
        bd.trigger(DATASET, [{"url": URL, "emulator_fail": "Account is suspended"}], retrigger=5).wait(timeout=30)
    assert triggers(bd_emu) == 1
    with pytest.raises(JobFailed) as info:
        bd.trigger(DATASET, [{"url": URL, "emulator_fail": "Failed to trigger collector"}]).wait(timeout=30)
    assert triggers(bd_emu) == 2 and info.value.transient is True  # transient, but retrigger=0: not re-sent


@pytest.mark.parametrize(("option", "value"), [("on_empty", "ignore"), ("retrigger", -1), ("retrigger", True)])
def test_bad_choices_are_refused_before_anything_is_sent(bd: Any, bd_emu: Any, option: str, value: Any) -> None:
    with pytest.raises(InvalidArgument, match=option):
        bd.trigger(DATASET, [{"url": URL}], **{option: value})
    assert triggers(bd_emu) == 0
