"""Raw exports end to end against the emulator over loopback: every status, the re-creation
after "Error occurred", cancelling, expiring links, and the data row for row."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dataferry.clock import FakeClock, SystemClock
from dataferry.errors import JobCancelled, LinkExpired, NotFound, WaitInterrupted
from dataferry.providers.mytracker import ExportInterrupted, ExportNotCancellable, ExportRefused

from .conftest import FAST_MT, PERIOD


def assert_same_rows(df: pd.DataFrame, emu: Any, export_id: str) -> None:
    """The DataFrame holds exactly the emulator's source rows of the export, in order."""
    expected = emu.app.rows(export_id).to_pandas()
    assert len(df) == len(expected) > 0
    assert list(df.columns) == list(expected.columns)
    for column in df.columns:
        assert df[column].tolist() == expected[column].tolist(), column


def creates(emu: Any) -> list[Any]:
    return [r for r in emu.app.requests if r.path.endswith("/create.json")]


def gets(emu: Any) -> list[Any]:
    return [r for r in emu.app.requests if r.path.endswith("/get.json")]


def test_payments_export_arrives_row_for_row_in_several_parts(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export(
        event="payments", selectors=["idApp", "tsEvent", "revenue", "idCountry"], id_app=[1, 2], **PERIOD
    )
    df = export.wait().to_pandas()
    assert len(export.files) > 1  # 120 rows a day over a week, 250 rows per file
    assert set(df["idApp"]) == {1, 2}
    assert df["tsEvent"].dtype == "int64" and df["tsEvent"].is_monotonic_increasing
    assert_same_rows(df, mt_emu, export.id)
    first, last = pd.Timestamp("2026-11-01", tz="Europe/Moscow"), pd.Timestamp("2026-11-08", tz="Europe/Moscow")
    assert first.timestamp() <= df["tsEvent"].min() and df["tsEvent"].max() < last.timestamp()


def test_to_parquet_holds_the_same_rows(mt: Any, mt_emu: Any, tmp_path: Any) -> None:
    export = mt.create_export("installs", "idApp,tsEvent,idPartnerTitle,advertisingId", timezone="UTC", **PERIOD)
    path = export.wait().to_parquet(tmp_path / "installs.parquet")
    assert_same_rows(pq.read_table(path).to_pandas(), mt_emu, export.id)


def test_status_rises_through_in_progress_to_success(
    make_mt: Callable[..., Any], start_emulator: Callable[..., Any]
) -> None:
    # The emulator's clock is moved by hand, a step at a time, so a busy machine cannot skip a step.
    emu = start_emulator("mytracker", **{**FAST_MT, "step_seconds": 1000, "steps": 4})
    export = make_mt(base_url=emu.base_url).create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    seen = []
    for _ in range(10):
        status = export.status()
        seen.append((status.raw, status.progress, export.is_cancellable))
        if status.finished:
            break
        emu.app.advance(1000)
    running = [s for s in seen if s[0] == "In progress"]
    assert [p for _, p, _ in running] == [0.0, 0.25, 0.5, 0.75]
    assert [c for _, _, c in running] == [True, True, False, False]
    assert seen[-1][:2] == ("Success!", 1.0)


def test_reattach_by_id_downloads_the_same_export(mt: Any, make_mt: Callable[..., Any], mt_emu: Any) -> None:
    export = mt.create_export("sessions", ["idApp", "tsEvent", "customUserId"], id_app=3, **PERIOD)
    export.wait()
    again = make_mt().export(int(export.id))
    assert again.reattach == f"mytracker.Client(base_url={mt_emu.base_url!r}).export({export.id!r})"
    assert_same_rows(again.to_pandas(), mt_emu, export.id)


def test_unknown_export_is_not_found(mt: Any) -> None:
    with pytest.raises(NotFound, match="Raw export request not found"):
        mt.export(987654).wait()


def test_error_occurred_is_recreated_with_the_same_parameters(
    mt: Any, mt_emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataferry")
    export = mt.create_export("payments", ["idApp", "tsEvent", "revenue"], id_app=[1, 9001], **PERIOD)
    first = export.id
    df = export.wait().to_pandas()
    assert export.attempts == [first, export.id] and export.id != first
    assert f"export {first} failed on the server; re-created as {export.id} (attempt 1 of 2)" in caplog.text
    bodies = [r.body for r in creates(mt_emu)]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert_same_rows(df, mt_emu, export.id)


class _Rushed(SystemClock):
    """Real sleeps, but a monotonic clock running 100 times faster (the display draws at once)."""

    def monotonic(self) -> float:
        return time.monotonic() * 100


class _Recorder:
    """A progress renderer that keeps every state it is asked to draw."""

    def __init__(self) -> None:
        self.states: list[Any] = []

    def draw(self, state: Any) -> None:
        self.states.append(state)

    def close(self, state: Any) -> None:
        self.states.append(state)


def test_recreation_is_said_in_the_progress_display_then_fails_typed(make_mt: Callable[..., Any], mt_emu: Any) -> None:
    mt = make_mt(clock=_Rushed())
    export = mt.create_export("installs", ["idApp", "tsEvent"], id_app=[9003], **PERIOD)
    first = export.id
    shown = _Recorder()
    with pytest.raises(ExportInterrupted) as info:
        export.wait(progress=shown)
    assert len(export.attempts) == 3 and export.attempts[0] == first
    messages = [s.message for s in shown.states]
    assert (
        f"export {export.attempts[0]} failed on the server; re-created as {export.attempts[1]} (attempt 1 of 2)"
        in messages
    )
    assert (
        f"export {export.attempts[1]} failed on the server; re-created as {export.attempts[2]} (attempt 2 of 2)"
        in messages
    )
    assert shown.states[-1].stage.value == "failed"
    exc = info.value
    assert exc.job_id == export.id and exc.attempts == tuple(export.attempts)
    assert exc.vendor_message == "Error occurred"
    assert "created 3 times" in str(exc) and "recreate_attempts=" in str(exc)
    assert len(creates(mt_emu)) == 3


def test_recreate_attempts_is_configurable(make_mt: Callable[..., Any], mt_emu: Any) -> None:
    patient = make_mt(recreate_attempts=3)
    export = patient.create_export("installs", ["idApp", "tsEvent"], id_app=[2, 9003], **PERIOD)
    assert_same_rows(export.wait().to_pandas(), mt_emu, export.id)
    assert len(export.attempts) == 4
    never = patient.create_export("installs", ["idApp", "tsEvent"], id_app=[9009], recreate_attempts=0, **PERIOD)
    with pytest.raises(ExportInterrupted, match="never re-created"):
        never.wait()
    assert never.attempts == [never.id]


def test_reattached_export_that_errored_cannot_be_recreated(mt: Any, make_mt: Callable[..., Any]) -> None:
    export = mt.create_export("installs", ["idApp"], id_app=[9009], recreate_attempts=0, **PERIOD)
    with pytest.raises(ExportInterrupted):
        export.wait()
    with pytest.raises(ExportInterrupted, match="re-attached by id"):
        make_mt().export(export.id).wait()


def test_user_error_is_final_with_the_message_and_a_hint(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export("installs", ["idApp", "tsEvent"], id_app=[9100], **PERIOD)
    with pytest.raises(ExportRefused) as info:
        export.wait()
    assert info.value.error_message == "Too many lines in one export"
    assert "narrow the period" in str(info.value) and "fewer selectors" in str(info.value)
    assert len(creates(mt_emu)) == 1  # never re-created


def test_too_many_rows_is_a_user_error(start_emulator: Callable[..., Any], make_mt: Callable[..., Any]) -> None:
    small = start_emulator("mytracker", step_seconds=0.02, steps=1, rows_per_day=50, max_rows=100)
    mt = make_mt(base_url=small.base_url)
    with pytest.raises(ExportRefused, match="Too many lines in one export"):
        mt.create_export("installs", ["idApp"], **PERIOD).wait()
    ok = mt.create_export("installs", ["idApp"], date_from="2026-11-01", date_to="2026-11-02", timezone="UTC").wait()
    assert len(ok.to_pandas()) == 100


def test_export_cancelled_elsewhere_raises_cancelled(mt: Any) -> None:
    with pytest.raises(JobCancelled, match="was cancelled"):
        mt.create_export("installs", ["idApp"], id_app=[9200], **PERIOD).wait()


def test_cancel_stops_an_export(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export("installs", ["idApp"], **PERIOD)
    export.cancel()
    assert mt_emu.app.exports[export.id].cancelled_at is not None
    assert export.status().raw == "Canceled by user"
    with pytest.raises(JobCancelled):
        export.wait()


def test_cancel_refused_when_no_longer_cancellable(mt: Any) -> None:
    export = mt.create_export("installs", ["idApp"], **PERIOD)
    export.wait()
    with pytest.raises(ExportNotCancellable, match="can not be cancel"):
        export.cancel()


class _InterruptOnSleep(SystemClock):
    """Ctrl-C arrives during the first wait between two polls."""

    def sleep(self, seconds: float) -> None:
        raise KeyboardInterrupt


@pytest.mark.parametrize("cancel", [True, False])
def test_interrupt_cancels_only_when_asked(make_mt: Callable[..., Any], mt_emu: Any, cancel: bool) -> None:
    mt = make_mt(clock=_InterruptOnSleep())
    export = mt.create_export("installs", ["idApp"], **PERIOD)
    with pytest.raises(WaitInterrupted) as info:
        export.wait(cancel_on_interrupt=cancel)
    assert info.value.cancelled is cancel
    assert (mt_emu.app.exports[export.id].cancelled_at is not None) is cancel
    # A cancelled export cannot be re-attached to, so only a live one offers the line.
    assert (export.reattach in str(info.value)) is not cancel


def test_dead_links_are_refreshed_with_one_more_get(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    export.wait()
    old_links = [f["link"] for f in export.files]
    mt_emu.app.expire_links(export.id)  # dead on the server, still "valid" by the client's clock
    before = len(gets(mt_emu))
    df = export.to_pandas()
    assert_same_rows(df, mt_emu, export.id)
    assert len(gets(mt_emu)) == before + 1  # one refresh, shared by every part
    assert all(f["link"] not in old_links for f in export.files)


def test_expire_fault_on_one_download_is_survived(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    export.wait()
    mt_emu.faults.add("expire", path="/storage/download/raw/", times=1)
    assert_same_rows(export.to_pandas(workers=1), mt_emu, export.id)


def test_links_expired_by_the_clock_are_refreshed_before_downloading(
    start_emulator: Callable[..., Any], make_mt: Callable[..., Any]
) -> None:
    emu = start_emulator("mytracker", steps=0, rows_per_day=60, rows_per_file=100, link_ttl=120)
    clock = FakeClock(wall=time.time())
    mt = make_mt(base_url=emu.base_url, clock=clock)
    export = mt.create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    export.wait()
    stale = {f["link"] for f in export.files}
    clock.advance(300)
    emu.app.advance(300)  # both sides agree five minutes have passed
    df = export.to_pandas()
    assert_same_rows(df, emu, export.id)
    downloaded = {f"{emu.base_url}{r.path}" for r in emu.app.requests if r.path.startswith("/storage/")}
    assert downloaded and not downloaded & stale  # the dead links were never tried


def test_links_that_stay_dead_fail_typed(mt: Any, mt_emu: Any) -> None:
    export = mt.create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    export.wait()
    mt_emu.faults.add("expire", path="/storage/download/raw/", times=None)
    with pytest.raises(LinkExpired, match="no longer valid"):
        export.to_pandas()


def test_links_on_another_host_are_downloaded_and_signed(mt: Any, mt_emu: Any) -> None:
    mt_emu.app.storage_url = mt_emu.base_url.replace("127.0.0.1", "localhost")
    export = mt.create_export("installs", ["idApp", "tsEvent"], **PERIOD)
    export.wait()
    assert all(f["link"].startswith("http://localhost:") for f in export.files)
    assert_same_rows(export.to_pandas(), mt_emu, export.id)
    hosts = {r.headers.get("Host", "").split(":")[0] for r in mt_emu.app.requests if r.path.startswith("/storage/")}
    assert hosts == {"localhost"}


def test_server_quota_429_is_waited_out(
    start_emulator: Callable[..., Any], make_mt: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataferry")
    emu = start_emulator("mytracker", steps=0, quotas={"user_per_second": 3})
    mt = make_mt(base_url=emu.base_url)
    export = mt.create_export("installs", ["idApp"], **PERIOD)
    statuses = [export.status().raw for _ in range(4)]  # the 4th call in a second meets the quota
    assert statuses == ["Success!"] * 4
    assert "rate limited" in caplog.text


def test_secrets_never_shown(
    make_mt: Callable[..., Any], mt_emu: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = mt_emu.credentials["secret_key"]
    mt = make_mt()
    export = mt.create_export("installs", ["idApp"], **PERIOD)
    export.wait(progress="log")
    wrong = make_mt(secret_key=secret[::-1])
    with pytest.raises(Exception) as info:
        wrong.export(export.id).wait(progress="log")
    shown = "\n".join(
        [
            str(info.value),
            repr(info.value),
            repr(mt),
            repr(wrong),
            repr(mt.http),
            repr(export),
            export._repr_html_(),
            caplog.text,
            *capsys.readouterr(),
        ]
    )
    assert "Access denied" in shown
    for value in (secret, secret[::-1]):
        assert value not in shown


def test_a_recreated_export_is_shown_under_its_new_id_and_not_as_error_occurred(
    make_mt: Callable[..., Any], mt_emu: Any
) -> None:
    mt = make_mt(clock=_Rushed())
    export = mt.create_export("payments", ["idApp", "tsEvent", "revenue"], id_app=[1, 9001], **PERIOD)
    first = export.id
    shown = _Recorder()
    export.wait(progress=shown)
    assert export.id != first
    final = shown.states[-1]
    assert final.stage.value == "done" and final.job_id == export.id
    assert final.reattach in ("", None) or repr(export.id) in final.reattach
    statuses = [s.status for s in shown.states]
    assert "Error occurred" not in statuses  # not grey "Error occurred 0%" beside blue "running"
    since = statuses.index("re-created")  # the display moves to the new export from there on
    assert {s.job_id for s in shown.states[since:]} == {export.id}, [(s.job_id, s.status) for s in shown.states]
    assert shown.states[since].fraction is None
