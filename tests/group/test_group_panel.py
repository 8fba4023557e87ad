"""The group display: what each renderer shows at each stage, and the notebook table read from
a real Jupyter kernel's display messages, including a background wait's panel that keeps
updating while another cell runs (issue #19, items 2 and 4)."""

from __future__ import annotations

import io
import os
import queue
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataferry.progress.group import GroupProgress, GroupState
from dataferry.progress.group_render import (
    GroupHtmlRenderer,
    GroupLogRenderer,
    GroupTqdmRenderer,
    group_html,
    group_text,
)
from dataferry.progress.reporter import ProgressState, Stage


def rows() -> list[ProgressState]:
    return [
        ProgressState(
            vendor="brightdata",
            kind="snapshot",
            job_id="s_1",
            stage=Stage.RUNNING,
            status="running",
            fraction=0.4,
            started=0,
            now=3,
        ),
        ProgressState(
            vendor="mytracker",
            kind="export",
            job_id="7",
            stage=Stage.DOWNLOADING,
            status="Success!",
            parts_total=3,
            parts_done=1,
            rows=250,
            started=0,
            now=3,
        ),
        ProgressState(
            vendor="algolia",
            kind="run",
            job_id="r-1",
            stage=Stage.FAILED,
            status="finished",
            message="critical: source unreachable <b>",
            started=0,
            now=2,
        ),
    ]


def test_the_table_shows_a_row_per_job_and_an_overall_bar() -> None:
    state = GroupState(rows=rows(), started=0, now=5)
    html = group_html(state, final=False)
    assert "dataferry-group-live" in html and html.count("class='dataferry-row'") == 3
    assert "running 40%" in html and "1/3" in html and "250" in html and "1/3 jobs" in html
    assert "source unreachable &lt;b&gt;" in html and '<b>"' not in html  # escaped
    assert "2s" in html  # the failed row settled: its clock stopped at 2 s while the others show 5 s
    text = group_text(state)
    assert text.splitlines()[0] == (
        "dataferry group of 3 jobs (brightdata 1, mytracker 1, algolia 1): running · "
        "1/3 finished · 1 running · 1 downloading · 1 failed · 5s"
    )
    stopped = GroupState(rows=rows(), stage=Stage.STOPPED, started=0, now=6, reattach="dataferry.wait_all([…])")
    final = group_html(stopped, final=True)
    assert "dataferry-group-summary" in final and "re-attach" in final and "data-state='stopped'" in final


def test_terminal_and_log_renderers() -> None:
    out = io.StringIO()
    bar = GroupTqdmRenderer(file=out)
    bar.draw(GroupState(rows=rows(), now=1))
    bar.close(GroupState(rows=rows(), stage=Stage.FAILED, now=2))
    shown = out.getvalue()
    assert "1/3 jobs" in shown and "  algolia run r-1: failed" in shown
    log = io.StringIO()
    lines = GroupLogRenderer(log)
    lines.draw(GroupState(rows=rows(), now=1))
    lines.draw(GroupState(rows=rows(), now=2))
    lines.close(GroupState(rows=rows(), stage=Stage.FAILED, now=3))
    got = [line.split(" ", 1)[1] for line in log.getvalue().splitlines()]
    head = "dataferry group of 3 jobs (brightdata 1, mytracker 1, algolia 1)"
    assert got == [
        "dataferry group 1/3: algolia run r-1: failed · finished · 2s · critical: source unreachable <b>",
        f"{head}: waiting · 1/3 finished · 1 running · 1 downloading · 1 failed · 1s",
        f"{head}: failed · 1/3 finished · 1 running · 1 downloading · 1 failed · 3s",
    ]


class Recorder:
    def __init__(self) -> None:
        self.frames: list[dict[str, str]] = []

    def __call__(self, bundle: dict[str, str], raw: bool, display_id: bool) -> Any:
        self.frames.append(bundle)
        return self

    def update(self, bundle: dict[str, str], raw: bool) -> None:
        self.frames.append(bundle)


class Job:
    def __init__(self, n: int) -> None:
        self.vendor, self.kind, self.id, self.last_status = "brightdata", "snapshot", f"s_{n}", None


def test_group_progress_forwards_rows_and_draws_once_per_change() -> None:
    shown = Recorder()
    group = GroupProgress(
        GroupHtmlRenderer(display=shown), [Job(1), Job(2)], quiet_seconds=0, tick=None, min_interval=10
    )
    row = group.row(1)
    row.draw(ProgressState(vendor="brightdata", kind="snapshot", job_id="s_2", stage=Stage.RUNNING))
    row.draw(ProgressState(vendor="brightdata", kind="snapshot", job_id="s_2", stage=Stage.RUNNING, fraction=0.5))
    row.close(ProgressState(vendor="brightdata", kind="snapshot", job_id="s_2", stage=Stage.DONE))
    group.finish(Stage.DONE)
    assert len(shown.frames) == 3  # the stage changes and the end; the throttled update waits
    assert "dataferry-group-summary" in shown.frames[-1]["text/html"]
    assert "1/2 finished" in shown.frames[-1]["text/plain"]


SETUP = textwrap.dedent("""
    import dataferry
    from dataferry import brightdata, emulator
    from dataferry.wait import PollPolicy
    emu = emulator.start("brightdata", start_after=0.3, ready_after=3.0)
    bd = brightdata.Client(poll=PollPolicy(initial=0.2, maximum=0.3, jitter=0), progress="html", **emu.client_kwargs())
    def inputs(k, fail=False):
        extra = [{"url": "https://example.com/x", "emulator_fail": "Crawl failed: blocked"}] if fail else []
        return [{"url": f"https://example.com/p/{k}"}] + extra
""")


class Kernel:
    """A real kernel; every display frame it sends, by display id, whatever cell it is from."""

    def __init__(self, tmp: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        env = {k: v for k, v in os.environ.items() if k != "DATAFERRY_PROGRESS"}
        env["DATAFERRY_CACHE_DIR"] = str(tmp / "cache")
        self.km, self.kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp))
        self.frames: dict[str, list[tuple[str, str, str]]] = {}  # id → (parent msg id, html, plain)

    def run(self, code: str, timeout: float = 60) -> dict[str, Any]:
        msg_id = self.kc.execute(code)
        deadline = time.monotonic() + timeout
        error = None
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1.0)
            except queue.Empty:
                continue
            kind, content = msg["msg_type"], msg["content"]
            parent = msg["parent_header"].get("msg_id", "")
            if kind in ("display_data", "update_display_data"):
                did = content.get("transient", {}).get("display_id", "")
                data = content["data"]
                self.frames.setdefault(did, []).append((parent, data.get("text/html", ""), data.get("text/plain", "")))
            elif kind == "error" and parent == msg_id:
                error = content
            elif kind == "status" and parent == msg_id and content["execution_state"] == "idle":
                return {"id": msg_id, "error": error}
        raise AssertionError(f"the cell did not finish in {timeout} s")

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    k = Kernel(tmp_path_factory.mktemp("kernel"))
    try:
        assert k.run(SETUP)["error"] is None
        yield k
    finally:
        k.run("emu.stop()", timeout=20)
        k.close()


def group_frames(kernel: Kernel) -> list[list[tuple[str, str, str]]]:
    return [f for f in kernel.frames.values() if any("dataferry-group" in h for _, h, _ in f)]


def test_the_group_table_in_a_real_kernel(kernel: Kernel) -> None:
    kernel.frames.clear()
    cell = kernel.run(
        "jobs = [bd.trigger('gd_l1viktl72bvl7bjuj0', inputs(k, fail=k == 1)) for k in range(3)]\n"
        "group = dataferry.wait_all(jobs, raise_on_failure=False)"
    )
    assert cell["error"] is None
    [frames] = group_frames(kernel)  # one display for the whole group...
    assert len(kernel.frames) == 1, "a job drew a panel of its own"  # ...and nothing per job
    htmls = [h for _, h, _ in frames]
    assert all("dataferry-group-live" in h for h in htmls[:-1]) and len(htmls) >= 3
    assert any("data-state='running'" in h and h.count("class='dataferry-row'") == 3 for h in htmls)
    final, plain = htmls[-1], frames[-1][2]
    assert "dataferry-group-summary" in final and "data-state='failed'" in final  # one job failed
    assert final.count("class='dataferry-row' data-state='done'") == 2 and "Crawl failed: blocked" in final
    assert plain.startswith("dataferry group of 3 jobs (brightdata 3): failed · 3/3 finished · 2 done · 1 failed")


def test_a_background_wait_keeps_its_panel_updating_while_another_cell_runs(kernel: Kernel) -> None:
    kernel.frames.clear()
    first = kernel.run("snap = bd.trigger('gd_l1viktl72bvl7bjuj0', inputs(9))\nfut = snap.wait(background=True)")
    assert first["error"] is None
    second = kernel.run(
        "import time\nbusy = time.monotonic()\nwhile time.monotonic() - busy < 4.5: pass\n"
        "assert fut.done() and fut.result() is snap"
    )
    assert second["error"] is None
    [frames] = [f for f in kernel.frames.values() if any("dataferry-panel" in h for _, h, _ in f)]
    assert frames[0][0] == first["id"]  # the panel was created in the cell that started the wait
    updated_meanwhile = [h for _, h, _ in frames[1:]]
    assert len(updated_meanwhile) >= 3  # updated from the background thread while the other cell ran
    assert "data-state='done'" in frames[-1][1] and "dataferry-summary" in frames[-1][1]
