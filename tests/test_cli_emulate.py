"""``dataferry emulate --vendor brightdata --port P``: serves the emulator from the command line,
says where and with which credentials, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import dataferry
from dataferry.cli import main
from dataferry.providers.brightdata import Client
from dataferry.wait import PollPolicy

STARTUP = 30.0
"""Seconds allowed for the command to print its banner."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command:
    """A ``dataferry`` subprocess whose output is read line by line in the background."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(Path(dataferry.__file__).resolve().parents[1])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dataferry.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            # Ctrl-C must reach Python even when the test runner itself ignores SIGINT; the child only
            # resets one signal handler before exec, which is safe with threads
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_until(self, text: str, timeout: float = STARTUP) -> list[str]:
        """Lines up to and including the first one containing ``text``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s; got {self.seen}") from None
            if line is None:
                raise AssertionError(f"exited ({self.proc.wait()}) before {text!r}: {self.seen}")
            self.seen.append(line)
            if text in line:
                return self.seen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def command() -> Iterator[type[Command]]:
    started: list[Command] = []

    class Tracked(Command):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for c in started:
        c.stop()


def test_emulate_prints_url_token_and_datasets_serves_and_stops_on_ctrl_c(command: type[Command]) -> None:
    port = free_port()
    cmd = command(
        "emulate",
        "--vendor",
        "brightdata",
        "--port",
        str(port),
        "--set",
        "start_after=0.01",
        "--set",
        "ready_after=0.1",
    )
    banner = "\n".join(cmd.read_until("press Ctrl-C to stop"))
    base_url = f"http://127.0.0.1:{port}"
    assert f"brightdata emulator listening on {base_url}" in banner
    assert f"base_url: {base_url}" in banner
    token = re.search(r"^\s+token: (\S+)$", banner, re.MULTILINE)
    assert token is not None
    datasets = re.findall(r"^\s+(gd_\w+)\s+\S", banner, re.MULTILINE)
    assert "gd_l1viktl72bvl7bjuj0" in datasets and len(datasets) >= 3
    assert f"brightdata.Client(base_url='{base_url}', token='{token.group(1)}')" in banner

    # it serves: the client collects from it with what was printed
    bd = Client(token=token.group(1), base_url=base_url, poll=PollPolicy(initial=0.05, maximum=0.2, jitter=0))
    frame = bd.trigger(datasets[0], [{"url": "https://shop.example.com/p/1"}], download_format="json").to_pandas()
    assert len(frame) == 24 and frame["url"].str.startswith("https://shop.example.com/p/1#item-").all()
    bd.close()

    cmd.proc.send_signal(signal.SIGINT)
    assert cmd.proc.wait(timeout=15) == 0
    assert "stopping" in cmd.read_until("stopping")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/datasets/v3/snapshots", timeout=2)


def test_emulate_on_a_busy_port_or_an_unknown_vendor_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "--vendor", "nope"]) == 1
    assert "no emulator for 'nope'" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["emulate", "--vendor", "brightdata", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in err and "port=0" in err


def test_emulate_with_chaos_says_so_injects_faults_and_counts_them_on_ctrl_c(command: type[Command]) -> None:
    port = free_port()
    cmd = command("emulate", "--vendor", "brightdata", "--port", str(port), "--chaos", "1", "--seed", "7")
    banner = "\n".join(cmd.read_until("press Ctrl-C to stop"))
    assert "chaos: faults in 100% of GET requests, seed 7 (status, reset, drop" in banner
    token = re.search(r"^\s+token: (\S+)$", banner, re.MULTILINE)
    assert token is not None
    outcomes = []
    for _ in range(8):
        try:
            outcomes.append(
                requests.get(
                    f"http://127.0.0.1:{port}/datasets/v3/snapshots?dataset_id=gd_l1viktl72bvl7bjuj0",
                    headers={"Authorization": f"Bearer {token.group(1)}"},
                    timeout=10,
                ).status_code
            )
        except requests.RequestException:
            outcomes.append(0)
    assert 200 in outcomes and any(code != 200 for code in outcomes)  # at most 3 faults in a row
    cmd.proc.send_signal(signal.SIGINT)
    assert cmd.proc.wait(timeout=15) == 0
    counted = cmd.read_until("faults injected:")[-1]
    assert re.fullmatch(r"faults injected: (\w+ \d+)(, \w+ \d+)*", counted)


def test_emulate_refuses_a_chaos_rate_above_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "--vendor", "brightdata", "--chaos", "2"]) == 1
    assert "chaos rate must be between 0 and 1" in capsys.readouterr().err


def test_emulate_stops_cleanly_on_sigterm_and_leaves_no_data_directory(
    command: type[Command], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    cmd = command("emulate", "--vendor", "mytracker", "--port", str(free_port()))
    cmd.read_until("press Ctrl-C to stop")
    assert next(p.name for p in tmp_path.iterdir()).startswith("dataferry-emulator-mytracker-")
    cmd.proc.terminate()
    assert cmd.proc.wait(timeout=15) == 0
    assert "stopping" in cmd.read_until("stopping")
    assert list(tmp_path.iterdir()) == []
