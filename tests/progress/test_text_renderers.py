"""The terminal and CI renderers: tqdm, plain log lines, nothing."""

from __future__ import annotations

import io

from dataferry.clock import FakeClock
from dataferry.progress import ProgressState, Reporter, Stage
from dataferry.progress.renderers import LogRenderer, NullRenderer, TqdmRenderer


def test_log_writes_a_line_per_stage_and_at_most_every_30_seconds(clock: FakeClock) -> None:
    out = io.StringIO()
    r = Reporter(
        LogRenderer(stream=out),
        vendor="brightdata",
        job_id="s_1",
        kind="snapshot",
        clock=clock,
        quiet_seconds=0,
        min_interval=0,
    )
    r.stage(Stage.QUEUED, status="starting")
    for _ in range(60):  # two minutes of running, a tick a second
        clock.advance(1.0)
        r.stage(Stage.RUNNING, status="running")
    r.stage(Stage.DOWNLOADING, parts_total=2)
    r.add(parts=1)
    r.add(parts=1)
    r.finish(Stage.DONE, output="out.parquet")
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    stages = [line.split(": ", 1)[1].split(" · ")[0] for line in lines]
    assert stages == ["queued", "running", "running", "downloading", "done"]
    assert all("brightdata snapshot s_1" in line for line in lines)
    assert lines[-1].endswith("parts 2/2 · 1m00s → out.parquet")


def test_tqdm_shows_the_percentage_then_the_parts(clock: FakeClock) -> None:
    out = io.StringIO()
    bar = TqdmRenderer(file=out)
    base = dict(vendor="brightdata", kind="snapshot", job_id="s_1")
    bar.draw(ProgressState(stage=Stage.RUNNING, status="In progress", fraction=0.5, **base))
    assert bar._bar.total == 100 and bar._bar.n == 50
    bar.draw(ProgressState(stage=Stage.DOWNLOADING, parts_total=4, parts_done=3, **base))
    assert bar._bar.total == 4 and bar._bar.n == 3
    bar.close(ProgressState(stage=Stage.DONE, parts_total=4, parts_done=4, **base))
    text = out.getvalue()
    assert "brightdata snapshot s_1" in text and "4/4" in text


def test_off_draws_nothing(clock: FakeClock, capsys) -> None:  # type: ignore[no-untyped-def]
    r = Reporter(NullRenderer(), clock=clock, quiet_seconds=0)
    r.stage(Stage.RUNNING)
    r.finish(Stage.DONE)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_tqdm_shows_the_stage_and_the_clock_until_there_is_a_figure() -> None:
    out = io.StringIO()
    r = TqdmRenderer(file=out)
    base = dict(vendor="brightdata", kind="snapshot", job_id="s_1", started=0.0)
    r.draw(ProgressState(stage=Stage.RUNNING, status="running", now=2.0, **base))  # type: ignore[arg-type]
    first = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert first == "brightdata snapshot s_1: running · 2s", first  # no empty "0it [00:00, ?it/s]" counter
    r.draw(ProgressState(stage=Stage.DOWNLOADING, parts_total=4, parts_done=1, now=5.0, **base))  # type: ignore[arg-type]
    line = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert line.startswith("brightdata snapshot s_1: downloading · parts 1/4 · 5s |") and line.endswith(
        "| 1/4 parts"
    ), line
    r.close(ProgressState(stage=Stage.STOPPED, parts_total=4, parts_done=1, now=6.0, **base))  # type: ignore[arg-type]
    assert "stopped" in out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
