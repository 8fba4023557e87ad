"""Ctrl-C (or "interrupt kernel") during a wait, a download and a Parquet write: it is prompt,
stops every worker, leaves nothing partial at the target, the process stays usable and the
next run resumes from the cache (issue #15, class 3 and part 5.3)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dataferry import brightdata
from dataferry.emulator import Emulator
from dataferry.errors import WaitInterrupted
from dataferry.wait import PollPolicy

DATASET = "gd_l1viktl72bvl7bjuj0"
INPUTS = [{"url": f"https://example.com/p/{k}", "emulator_records": 1500} for k in range(2)]
POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.2, jitter=0.0)
SNAPSHOT = "/datasets/v3/snapshot/"


def workers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("dataferry-")]


def interrupt_when(condition: Callable[[], bool], timeout: float = 20.0) -> threading.Thread:
    """Press Ctrl-C in the main thread as soon as ``condition()`` holds."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                # a real SIGINT to the main thread: it also wakes a blocked wait, as Ctrl-C does
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                return
            time.sleep(0.02)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def downloading(emu: Emulator) -> Callable[[], bool]:
    return lambda: any(r.path.startswith(SNAPSHOT) for r in emu.app.requests) and bool(emu.faults.injected)


def kept(cache: Path) -> list[Path]:
    """The partial downloads holding at least the bytes sent before the trickle."""
    return [p for p in cache.rglob("*.partial") if p.stat().st_size >= 20_000]


@pytest.fixture
def emu(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator("brightdata", start_after=0.05, ready_after=0.15)


def test_ctrl_c_during_a_download_stops_every_worker_at_once_and_the_next_run_resumes(
    emu: Emulator, tmp_path: Path
) -> None:
    bd = brightdata.Client(poll=POLLS, cache_dir=tmp_path / "cache", **emu.client_kwargs())
    snap = bd.trigger(DATASET, INPUTS, compress=False, batch_size=1000).wait()
    emu.faults.add("trickle", path=SNAPSHOT, times=None, rate=3000, after_bytes=20_000)
    target = tmp_path / "out" / "data.parquet"
    # Ctrl-C once the client holds a part's first bytes (not merely once the server began sending:
    # on a loaded machine the first 20 KB may still be in flight then)
    watcher = interrupt_when(lambda: downloading(emu)() and bool(kept(tmp_path / "cache")))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        snap.to_parquet(target, progress=False)
    pressed = time.monotonic() - started
    watcher.join()
    assert pressed < 15, "the interrupt was not taken"  # (the trickle alone would take a minute)
    assert workers() == [], "download or decode threads still running after Ctrl-C"
    assert not target.exists() and not any(target.parent.glob(".*")), "something partial at the target"
    assert kept(tmp_path / "cache"), "the bytes received were not kept"

    emu.faults.clear()
    again = snap.to_parquet(target, progress=False)  # the process is usable; the cache is resumed
    assert pq.read_table(again).column("product_id").to_pylist() == [r["product_id"] for r in emu.app.records(snap.id)]
    resumed = [r for r in emu.app.requests if r.path.startswith(SNAPSHOT) and "Range" in r.headers]
    assert resumed and all(r.headers["Range"].startswith("bytes=") for r in resumed)


def test_ctrl_c_while_the_parquet_file_is_written_leaves_nothing(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataferry import parquet

    bd = brightdata.Client(poll=POLLS, **emu.client_kwargs())
    snap = bd.trigger(DATASET, INPUTS, batch_size=1000).wait()
    real = parquet.ParquetFileSink.flush
    calls = {"n": 0}

    def flush(self: parquet.ParquetFileSink) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C between two row groups
        real(self)

    monkeypatch.setattr(parquet.ParquetFileSink, "flush", flush)
    target = tmp_path / "data.parquet"
    with pytest.raises(KeyboardInterrupt):
        snap.to_parquet(target, row_group_size=500, progress=False)
    assert workers() == []
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(parquet.ParquetFileSink, "flush", real)
    assert pq.read_table(snap.to_parquet(target, progress=False)).num_rows == len(emu.app.records(snap.id))


def test_ctrl_c_while_waiting_is_prompt_and_says_how_to_re_attach(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator("brightdata", start_after=30, ready_after=60)
    bd = brightdata.Client(poll=PollPolicy(initial=5, maximum=5, jitter=0), **emu.client_kwargs())
    snap = bd.trigger(DATASET, INPUTS)
    interrupt_when(lambda: bool(emu.app.requests) and time.sleep(0.3) is None)
    started = time.monotonic()
    with pytest.raises(WaitInterrupted, match=r"snapshot\('s_") as caught:
        snap.wait(progress=False)
    assert time.monotonic() - started < 3
    assert not caught.value.cancelled


SLOW_SNAPSHOT = textwrap.dedent("""
    from dataferry import brightdata, emulator
    emu = emulator.start("brightdata", start_after=0.05, ready_after=0.1)
    bd = brightdata.Client(**emu.client_kwargs())
    snap = bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://e.com/1", "emulator_records": 3000}],
                      compress=False, batch_size=1000).wait(progress=False)
    emu.faults.add("trickle", path="/datasets/v3/snapshot/", times=None, rate=2000, after_bytes=10000)
""")
"""A ready snapshot whose parts then trickle in at 2 kB/s (a minute or more to download)."""

SCRIPT = (
    "import sys\n"
    + SLOW_SNAPSHOT
    + textwrap.dedent("""
    print("downloading", flush=True)
    snap.to_parquet(sys.argv[1], progress=False)
""")
)


def test_ctrl_c_in_a_script_ends_the_process_promptly_with_nothing_written(tmp_path: Path) -> None:
    script = tmp_path / "export.py"
    script.write_text(SCRIPT)
    target = tmp_path / "out.parquet"
    env = {**os.environ, "DATAFERRY_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "downloading"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    pressed = time.monotonic()
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert time.monotonic() - pressed < 5, "the process took long to exit after Ctrl-C"
    assert proc.returncode != 0 and "DownloadInterrupted: stopped reading the parts" in err
    assert re.search(r"^  re-attach: brightdata\.Client\(.*\)\.snapshot\('s_\w+'\)$", err, re.MULTILINE), err
    frames = re.findall(r'^  File "([^"]+)"', err, re.MULTILINE)
    # the traceback starts where dataferry gives the error back, not deep in its threads
    assert not [f for f in frames if f.endswith(("pool.py", "queue.py", "threading.py", "pipeline.py"))], err
    assert len(frames) <= 4, err
    assert "Fatal Python error" not in err and "terminate called" not in err
    assert not target.exists() and not list(tmp_path.glob(".out.parquet*"))


def test_interrupting_a_real_kernel_during_a_download_keeps_it_usable(tmp_path: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k != "DATAFERRY_PROGRESS"}
    env["DATAFERRY_CACHE_DIR"] = str(tmp_path / "cache")
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        assert kc.execute_interactive(SLOW_SNAPSHOT, timeout=60)["content"]["status"] == "ok"
        msg_id = kc.execute("df = snap.to_pandas(progress=False)")
        time.sleep(1.5)
        km.interrupt_kernel()
        pressed = time.monotonic()
        reply = kc.get_shell_msg(timeout=15)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=15)
        assert time.monotonic() - pressed < 5
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "DownloadInterrupted"
        check = textwrap.dedent("""
            import threading, time
            time.sleep(0.2)
            assert [t.name for t in threading.enumerate() if t.name.startswith("dataferry-")] == []
            emu.faults.clear()
            df = snap.to_pandas(progress=False)
            assert df["product_id"].tolist() == [r["product_id"] for r in emu.app.records(snap.id)]
            emu.stop()
        """)
        done = kc.execute_interactive(check, timeout=60)
        assert done["content"]["status"] == "ok", done["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
