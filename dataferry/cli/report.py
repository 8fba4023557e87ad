"""What one ``dataferry`` command reports: the ``--json`` summary, the human lines, the
re-attach command, and the figures (parts, bytes, rows) read off the progress reporter.

Progress and logs go to standard error; standard output carries only the result (the
``--json`` object, a status, or CSV with ``-o -``), so a script can parse it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dataferry.cli.exits import Exit
from dataferry.constants import QUIET_SECONDS
from dataferry.errors import ApiError, JobFailed, first_line
from dataferry.progress import make_renderer
from dataferry.progress.reporter import ProgressState, Renderer
from dataferry.redact import mask_known


class Recorder:
    """A progress renderer that keeps the transfer figures for the summary and draws through
    the renderer ``progress`` names (a fresh one for each operation).

    It sees every operation from its start (``quiet_seconds=0``), and passes it on only once
    it has run for :data:`~dataferry.constants.QUIET_SECONDS`, as the reporter would.
    """

    reporter_options: ClassVar[dict[str, Any]] = {"quiet_seconds": 0.0}

    def __init__(self, progress: Any) -> None:
        make_renderer(progress)  # a bad --progress fails now, before anything is sent
        self.progress = progress
        self._inner: Renderer | None = None
        self.parts = 0
        self.bytes = 0
        self.rows = 0

    def _keep(self, state: ProgressState) -> None:
        self.parts = max(self.parts, state.parts_done)
        self.bytes = max(self.bytes, state.bytes_done)
        self.rows = max(self.rows, state.rows)

    def draw(self, state: ProgressState) -> None:
        self._keep(state)
        if self._inner is None and state.elapsed >= QUIET_SECONDS:
            self._inner = make_renderer(self.progress)
        if self._inner is not None:
            self._inner.draw(state)

    def close(self, state: ProgressState) -> None:
        self._keep(state)
        inner, self._inner = self._inner, None
        if inner is None and state.elapsed >= QUIET_SECONDS:
            inner = make_renderer(self.progress)
        if inner is not None:
            inner.close(state)


@dataclass
class Outcome:
    """What a command did, for its ``--json`` summary and its last lines.

    Attributes:
        vendor: the command group (``"brightdata"``...).
        action: the subcommand (``"trigger"``, ``"wait"``...).
        json: ``--json`` was given: human lines go to standard error.
        job: the job handle, once there is one.
        reattach: the command that gets back to the job (``dataferry brightdata wait s_…``).
    """

    vendor: str
    action: str
    json: bool = False
    quiet_stdout: bool = False
    job: Any = None
    kind: str | None = None
    state: str | None = None
    rows: int | None = None
    columns: list[str] | None = None
    parts: int | None = None
    bytes: int | None = None
    output: str | None = None
    reattach: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    recorder: Recorder | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, args: argparse.Namespace) -> Outcome:
        return cls(
            vendor=str(getattr(args, "command", "")),
            action=str(getattr(args, "action", "") or ""),
            json=bool(getattr(args, "json", False)),
            quiet_stdout=getattr(args, "out", None) == "-",
        )

    def say(self, text: str) -> None:
        """A human line: on standard output, or standard error when stdout carries the result."""
        print(mask_known(text), file=sys.stderr if self.json or self.quiet_stdout else sys.stdout, flush=True)

    def note(self, text: str) -> None:
        """A remark that belongs in the summary (``notes``) and on standard error."""
        self.notes.append(mask_known(text))
        print(f"dataferry: note: {mask_known(text)}", file=sys.stderr, flush=True)

    def attach(self, job: Any, command: list[str]) -> None:
        """The command has a job now; ``command`` re-attaches to it (``["wait", id, ...]``)."""
        self.job = job
        self.kind = getattr(job, "kind", None)
        self.reattach = shlex.join(["dataferry", self.vendor, *command])

    def summary(self, code: int, exc: BaseException | None = None) -> dict[str, Any]:
        """The ``--json`` object."""
        job = self.job
        status = getattr(job, "last_status", None) if job is not None else None
        recorder = self.recorder
        out: dict[str, Any] = {
            "vendor": self.vendor,
            "command": self.action,
            "kind": self.kind,
            "job_id": getattr(job, "id", None),
            "attempts": list(getattr(job, "attempts", []) or []),
            "state": self.state or (status.state.value if status is not None else None),
            "status": status.raw if status is not None else None,
            "rows": self.rows if self.rows is not None else (recorder.rows if recorder and recorder.rows else None),
            "columns": self.columns,
            "parts": self.parts if self.parts is not None else (recorder.parts if recorder else None),
            "bytes": self.bytes if self.bytes is not None else (recorder.bytes if recorder else None),
            "output": self.output,
            "seconds": round(time.monotonic() - self.started, 3),
            "exit_code": int(code),
            "notes": self.notes,
            **self.extra,
        }
        if code != Exit.OK and self.reattach and code in (Exit.TIMEOUT, Exit.INTERRUPTED):
            out["reattach"] = self.reattach
        if exc is not None:
            out["error"] = {
                "type": type(exc).__name__,
                "message": mask_known(first_line(exc, 1000)),
                "vendor_message": getattr(exc, "vendor_message", None),
                "transient": getattr(exc, "transient", None) if isinstance(exc, JobFailed) else None,
                "http_status": exc.status if isinstance(exc, ApiError) else None,
                "hint": getattr(exc, "hint", None),
            }
            if out["state"] is None and isinstance(exc, JobFailed):
                out["state"] = "failed"
        return out
