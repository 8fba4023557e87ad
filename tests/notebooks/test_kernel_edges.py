"""What a notebook user sees at the edges, read from a real Jupyter kernel's messages (issue #17):
an interrupted wait or download is "stopped" (neither failed nor cancelled) with a short error
and the re-attach code on a line of its own; a cancelled job is not offered for re-attach;
download progress moves while bytes move; ``snap.wait()`` as a cell's last expression shows
one card; ``progress="log"`` does not write to standard error.

The HTML renderer is used so that every frame is a message the test can read (the widget
renderer's frames are widget-state messages; the browser tests look at those).
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SETUP = textwrap.dedent("""
    from dataferry import brightdata, emulator
    from dataferry.wait import PollPolicy
    emu = emulator.start("brightdata", start_after=0.05, ready_after=0.1)
    bd = brightdata.Client(poll=PollPolicy(initial=0.3, maximum=0.3, jitter=0), progress="html",
                           **emu.client_kwargs())
    DATASET = "gd_l1viktl72bvl7bjuj0"
    def inputs(n=4, records=1000):
        return [{"url": f"https://example.com/p/{k}", "emulator_records": records} for k in range(n)]
""")

INTERNALS = ("job.py", "wait.py", "pool.py", "queue.py", "threading.py", "datajob.py", "pipeline.py", "contextlib")
"""File names that must not appear in what the user sees after an interrupt."""

DETAIL = re.compile(r"class='dataferry-detail'[^>]*>([^<]*)<")

REATTACH = re.compile(r"\s*re-attach: brightdata\.Client\([^)]*\)\.snapshot\('s_\w+'\)")
"""The re-attach code, on a line of its own."""


@dataclass
class Cell:
    """What one executed cell showed: every display's successive frames, streams, the error."""

    frames: dict[str, list[str]] = field(default_factory=dict)  # display id → successive HTML frames
    times: dict[str, list[float]] = field(default_factory=dict)  # display id → when each frame came
    plain: list[str] = field(default_factory=list)  # HTML of displays without an id, results
    streams: list[tuple[str, str]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def final_html(self) -> list[str]:
        """The HTML the cell ends with, one entry per output."""
        return [frames[-1] for frames in self.frames.values()] + self.plain

    def cards(self) -> list[str]:
        return [h for h in self.final_html() if "dataferry-summary" in h or "dataferry-job" in h]


class Kernel:
    def __init__(self, tmp: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        env = {k: v for k, v in os.environ.items() if k != "DATAFERRY_PROGRESS"}
        env["DATAFERRY_CACHE_DIR"] = str(tmp / "cache")
        self.km, self.kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp))

    def run(self, code: str, *, interrupt_when: Callable[[Cell], bool] | None = None, timeout: float = 90) -> Cell:
        """Execute ``code``; press "interrupt kernel" once ``interrupt_when(cell so far)`` holds."""
        msg_id = self.kc.execute(code)
        cell = Cell()
        pressed = False
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"the cell did not finish within {timeout} s: {cell}"
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind in ("display_data", "update_display_data", "execute_result"):
                html = content["data"].get("text/html", "")
                display_id = content.get("transient", {}).get("display_id")
                if display_id:
                    cell.frames.setdefault(display_id, []).append(html)
                    cell.times.setdefault(display_id, []).append(time.monotonic())
                elif html:
                    cell.plain.append(html)
            elif kind == "stream":
                cell.streams.append((content["name"], content["text"]))
            elif kind == "error":
                cell.error = content
            elif kind == "status" and content["execution_state"] == "idle":
                return cell
            if interrupt_when is not None and not pressed and interrupt_when(cell):
                pressed = True
                self.km.interrupt_kernel()

    def ok(self, code: str) -> Cell:
        cell = self.run(code)
        assert cell.error is None, cell.error
        return cell

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    k = Kernel(tmp_path_factory.mktemp("kernel"))
    try:
        k.ok(SETUP)
        yield k
    finally:
        try:
            k.run("emu.stop()", timeout=20)
        finally:
            k.close()


def showing(state: str) -> Callable[[Cell], bool]:
    return lambda cell: any(f"data-state='{state}'" in f[-1] for f in cell.frames.values())


def live_frames(cell: Cell) -> list[str]:
    return [h for frames in cell.frames.values() for h in frames if "dataferry-live" in h]


def assert_short_interrupt(cell: Cell, ename: str) -> list[str]:
    assert cell.error is not None, "the interrupt raised nothing"
    assert cell.error["ename"] == ename
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in "\n".join(cell.error["traceback"]).splitlines()]
    shown = "\n".join(lines)
    assert not [n for n in INTERNALS if n in shown], f"dataferry's internals in the traceback:\n{shown}"
    assert len(lines) <= 4, f"the error is {len(lines)} lines long:\n{shown}"
    return lines


def test_interrupting_a_wait_says_stopped_with_the_re_attach_line(kernel: Kernel) -> None:
    cell = kernel.run(_long_wait("snap2"), interrupt_when=showing("running"))
    lines = assert_short_interrupt(cell, "WaitInterrupted")
    assert any(REATTACH.fullmatch(line) for line in lines), lines
    (summary,) = cell.cards()
    assert "data-state='stopped'" in summary and "dataferry-reattach" in summary
    assert "failed" not in summary and "keeps running" in summary


def test_cancel_on_interrupt_says_cancelled_and_offers_no_re_attach(kernel: Kernel) -> None:
    cell = kernel.run(_long_wait("snap3", "cancel_on_interrupt=True"), interrupt_when=showing("running"))
    lines = assert_short_interrupt(cell, "WaitInterrupted")
    assert not any("re-attach" in line for line in lines)
    (summary,) = cell.cards()
    assert "data-state='cancelled'" in summary and "dataferry-reattach" not in summary
    card = kernel.ok("snap3")  # the handle's card: a cancelled job is not offered for re-attach
    assert card.cards() and all("re-attach" not in c for c in card.cards())


def test_interrupting_a_download_says_stopped_with_the_re_attach_line(kernel: Kernel) -> None:
    kernel.ok(
        "snap4 = bd.trigger(DATASET, inputs(), batch_size=1000, compress=False).wait(progress=False)\n"
        "emu.faults.add('trickle', path='/datasets/v3/snapshot/', times=None, rate=3000, after_bytes=5000)"
    )
    cell = kernel.run("df = snap4.to_pandas(cache=False)", interrupt_when=showing("downloading"))
    kernel.ok("emu.faults.clear()")
    lines = assert_short_interrupt(cell, "DownloadInterrupted")
    assert any(REATTACH.fullmatch(line) for line in lines), lines
    (summary,) = cell.cards()
    assert "data-state='stopped'" in summary and "dataferry-reattach" in summary and "failed" not in summary


def test_download_progress_moves_while_parts_arrive(kernel: Kernel) -> None:
    kernel.ok(
        "snap5 = bd.trigger(DATASET, inputs(4), batch_size=1000, compress=False).wait(progress=False)\n"
        "emu.faults.add('slow', path='/datasets/v3/snapshot/', times=None, delay=2.5)"
    )
    cell = kernel.ok("df = snap5.to_pandas(cache=False, workers=1)")
    kernel.ok("emu.faults.clear()")
    (display,) = [d for d, frames in cell.frames.items() if any("dataferry-live" in h for h in frames)]
    seen = [
        (t, h)
        for t, h in zip(cell.times[display], cell.frames[display], strict=True)
        if "data-state='downloading'" in h
    ]
    details = [DETAIL.search(h).group(1) for _, h in seen]  # type: ignore[union-attr]
    parts = {m.group(1) for d in details if (m := re.search(r"parts (\d+)/4", d))}
    widths = {m.group(1) for _, h in seen if (m := re.search(r"width:([\d.]+)%", h))}
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(seen)]
    assert seen and max(gaps, default=0) < 2.0, f"the panel froze for {max(gaps, default=0):.1f} s: {details}"
    assert len(parts) >= 3, f"the part count did not move while downloading: {details}"
    assert len(widths) >= 3, f"the bar did not grow while downloading: {sorted(widths)}"


def test_wait_as_the_last_expression_shows_one_card(kernel: Kernel) -> None:
    cell = kernel.ok(
        "emu.app.ready_after = 2.5\nsnap6 = bd.trigger(DATASET, inputs(1))\nemu.app.ready_after = 0.1\nsnap6.wait()"
    )
    assert len(cell.cards()) == 1, cell.final_html()
    assert "data-state='done'" in cell.cards()[0]
    again = kernel.ok("snap6")  # in a later cell the handle shows its card
    assert len(again.cards()) == 1 and "dataferry-job" in again.cards()[0]


def test_log_progress_in_a_notebook_is_not_an_error_box(kernel: Kernel) -> None:
    cell = kernel.ok(
        "emu.app.ready_after = 2.5\nsnap7 = bd.trigger(DATASET, inputs(1))\nemu.app.ready_after = 0.1\n"
        "snap7.wait(progress='log')"
    )
    names = {name for name, _ in cell.streams}
    assert "stderr" not in names and "stdout" in names, cell.streams


def _long_wait(name: str, wait_args: str = "") -> str:
    """A cell that triggers a snapshot which takes ten minutes to build, then waits for it."""
    return (
        f"emu.app.ready_after = 600\n"
        f"{name} = bd.trigger(DATASET, inputs())\n"
        f"emu.app.ready_after = 0.1\n"
        f"{name}.wait({wait_args})"
    )
