"""Running the real ``dataferry`` console script (a subprocess) against an emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataferry

DATASET = "gd_l1viktl72bvl7bjuj0"
"""A dataset of the Bright Data emulator."""

PLANTED_TOKEN = "planted-secret-token-7f3c9e"
"""The emulator's token in these tests: it must never appear in anything the command prints."""

RUN_LIMIT = 120.0
"""Seconds a command may take before the test gives up on it (a hang guard, not a timing check)."""

ROOT = Path(dataferry.__file__).resolve().parents[1]


def script() -> list[str]:
    """The installed ``dataferry`` console script, next to this interpreter."""
    found = Path(sys.executable).with_name("dataferry")
    return [str(found)] if found.exists() else [sys.executable, "-m", "dataferry.cli"]


def inputs_file(directory: Path, n: int = 1) -> str:
    path = directory / f"inputs-{n}.json"
    path.write_text(json.dumps([{"url": f"https://shop.example.com/p/{k}"} for k in range(n)]))
    return str(path)


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The one JSON object on standard output."""
        return json.loads(self.stdout)


class Console:
    """``cli("brightdata", "status", id)`` runs the console script with the emulator's base URL
    (``--base-url`` is added to vendor commands) and its token in the environment."""

    def __init__(self, emu: Any, tmp: Path) -> None:
        self.emu = emu
        self.tmp = tmp

    def env(self, token: str | None = PLANTED_TOKEN, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("BRIGHTDATA_API_TOKEN", "DATAFERRY_TIMEOUT")}
        env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", DATAFERRY_PROGRESS="off")
        if token is not None:
            env["BRIGHTDATA_API_TOKEN"] = token
        env.update(extra or {})
        return env

    def argv(self, args: tuple[str, ...]) -> list[str]:
        vendor = bool(args) and args[0] in ("brightdata", "mytracker", "woosmap", "algolia") and len(args) > 1
        base = ["--base-url", self.emu.base_url] if vendor and "--base-url" not in args else []
        return [*script(), *args, *base]

    def __call__(self, *args: str, token: str | None = PLANTED_TOKEN, env: dict[str, str] | None = None) -> Ran:
        done = subprocess.run(
            self.argv(args), capture_output=True, text=True, env=self.env(token, env), timeout=RUN_LIMIT, cwd=self.tmp
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.tmp,
            # Ctrl-C must reach Python even when the test runner ignores SIGINT
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
        )

    @staticmethod
    def assert_no_secret(run: Ran) -> None:
        assert PLANTED_TOKEN not in run.stdout + run.stderr
