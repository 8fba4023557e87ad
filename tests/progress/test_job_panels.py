"""Progress and reprs of real jobs against the Bright Data emulator (real HTTP on loopback).

The emulated snapshots here take a little over a second, so that the displays draw at all
(jobs that end within ``QUIET_SECONDS`` leave no trace).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from dataferry import emulator as emulator_mod
from dataferry.errors import ApiError, ConfigurationError, InvalidArgument, JobFailed
from dataferry.progress import Stage
from dataferry.progress.html import HtmlRenderer
from dataferry.progress.widget import WIDGET_MIME, WidgetRenderer
from dataferry.providers.brightdata import Client
from tests.recorder import Recorder

DATASET = "gd_l1viktl72bvl7bjuj0"
SLOW = {"start_after": 0.3, "ready_after": 1.3}
"""Snapshot timings long enough for a display to appear."""


class Screen:
    """Stands in for IPython's display; keeps every bundle shown or updated."""

    def __init__(self) -> None:
        self.bundles: list[dict[str, Any]] = []

    def display(self, bundle: dict[str, Any], raw: bool, display_id: bool) -> Any:
        self.bundles.append(bundle)
        screen = self

        class Handle:
            def update(self, new: dict[str, Any], raw: bool) -> None:
                screen.bundles.append(new)

        return Handle()

    def everything(self) -> str:
        return "\n".join(str(v) for b in self.bundles for v in b.values())


def make_client(emu: emulator_mod.Emulator) -> Client:
    """A client for ``emu`` with short poll delays."""
    from dataferry.wait import PollPolicy

    return Client(poll=PollPolicy(initial=0.05, growth=1.5, maximum=0.25, jitter=0.0), **emu.client_kwargs())


def test_one_display_follows_a_job_from_trigger_to_dataframe(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", **SLOW, records_per_input=1500)
    bd = make_client(emu)
    snap = bd.trigger(DATASET, [{"url": f"https://example.com/p/{k}"} for k in range(2)], batch_size=1000)
    rec = Recorder()
    df = snap.to_pandas(progress=rec, cache=False)
    stages = [s.stage for s in rec.states]
    assert stages[0] in (Stage.SUBMITTED, Stage.QUEUED, Stage.RUNNING)
    assert Stage.RUNNING in stages
    assert rec.closed is not None and rec.closed.stage is Stage.DONE
    assert rec.closed.parts_done == rec.closed.parts_total == 3
    assert rec.closed.rows == len(df) == len(emu.app.records(snap.id))
    assert rec.closed.bytes_done > 0
    assert (rec.closed.vendor, rec.closed.kind, rec.closed.job_id) == ("brightdata", "snapshot", snap.id)
    # the engine never goes back to an earlier stage
    order = list(Stage)
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)


def test_a_job_shown_as_a_widget_ends_as_a_summary_with_its_outcome(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", **SLOW)
    bd = make_client(emu)
    snap = bd.trigger(DATASET, [{"url": "https://example.com/p/1"}])
    screen = Screen()
    snap.wait(progress=WidgetRenderer(display=screen.display))
    assert WIDGET_MIME in screen.bundles[0]
    final = screen.bundles[-1]
    assert "data-state='done'" in final["text/html"] and snap.id in final["text/html"]
    assert final["text/plain"].startswith(f"brightdata snapshot {snap.id}: done")


@pytest.mark.parametrize("renderer", [HtmlRenderer, WidgetRenderer])
def test_a_secret_in_a_vendor_failure_message_never_reaches_the_panel(
    start_emulator: Callable[..., Any], renderer: type
) -> None:
    emu = start_emulator("brightdata", **SLOW)
    token = emu.credentials["token"]
    bd = make_client(emu)
    snap = bd.trigger(
        DATASET,
        [{"url": "https://example.com/p/1", "emulator_fail": f"login refused for Bearer {token} (token {token})"}],
    )
    screen = Screen()
    with pytest.raises(JobFailed):
        snap.wait(progress=renderer(display=screen.display))
    shown = screen.everything()
    assert "data-state='failed'" in shown and "login refused" in shown
    assert token not in shown and "***" in shown
    assert token not in repr(snap) and token not in snap._repr_html_()
    assert "login refused" in snap._repr_html_()


def test_an_api_error_shown_in_the_panel_is_masked(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", **SLOW)
    token = emu.credentials["token"]
    bd = make_client(emu)
    snap = bd.trigger(DATASET, [{"url": "https://example.com/p/1"}])
    # a second into the wait, the status endpoint starts refusing with a message that echoes the token
    arm = threading.Timer(
        1.1,
        lambda: emu.faults.add(
            "status", path="/progress/", status=400, times=None, message=f"token {token} is not valid for this dataset"
        ),
    )
    arm.start()
    screen = Screen()
    try:
        with pytest.raises(ApiError) as info:
            snap.wait(progress=HtmlRenderer(display=screen.display))
    finally:
        arm.cancel()
    assert token not in str(info.value)
    shown = screen.everything()
    assert "data-state='failed'" in shown and "is not valid for this dataset" in shown
    assert token not in shown


def test_a_progress_mode_that_cannot_draw_fails_before_anything_is_sent(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", start_after=0.05, ready_after=0.2)
    bd = make_client(emu)
    snap = bd.snapshot("s_hist7bjuj0000")
    before = len(emu.app.requests)
    with pytest.raises(ConfigurationError, match="Jupyter kernel"):
        snap.wait(progress="widget")  # pytest is not a Jupyter kernel
    with pytest.raises(InvalidArgument, match="widget, html, tqdm, log, off"):
        snap.to_pandas(progress="bar")
    assert len(emu.app.requests) == before


def test_repr_is_one_line_and_the_card_tells_how_to_reattach(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("brightdata", start_after=0.05, ready_after=0.2)
    bd = make_client(emu)
    snap = bd.snapshot("s_hist7bjuj0000")
    assert repr(snap) == "<brightdata snapshot s_hist7bjuj0000: status not checked>"
    assert "not checked" in snap._repr_html_()
    snap.wait(progress="off")
    assert repr(snap) == "<brightdata snapshot s_hist7bjuj0000: ready>"
    card = snap._repr_html_()
    assert "data-state='done'" in card and ".snapshot(&#x27;s_hist7bjuj0000&#x27;)" in card
    failed = bd.snapshot("s_hist7bjuj0001")
    with pytest.raises(JobFailed):
        failed.wait(progress="off")
    assert repr(failed) == "<brightdata snapshot s_hist7bjuj0001: failed – Failed to trigger collector>"
    assert "\n" not in repr(failed) and "data-state='failed'" in failed._repr_html_()
