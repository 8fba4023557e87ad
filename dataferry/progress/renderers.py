"""Text renderers: tqdm for terminals, plain log lines for CI and scripts, and nothing."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from dataferry.constants import LOG_PROGRESS_INTERVAL
from dataferry.progress.reporter import ProgressState, Stage


def human_bytes(n: float | None) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def human_seconds(seconds: float) -> str:
    """``75`` → ``'1m15s'``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m"


def detail_line(state: ProgressState) -> str:
    """The one-line summary every text renderer shares.

    Example: ``running 40% · parts 2/6 · 12.0 MiB · 50,000 rows · 14s · building``
    """
    bits = [state.status] if state.status and state.status != state.stage.value else []
    if bits and state.fraction is not None and state.stage in (Stage.QUEUED, Stage.RUNNING):
        bits[0] += f" {state.fraction:.0%}"
    if state.parts_total is not None or state.parts_done:
        total = "?" if state.parts_total is None else str(state.parts_total)
        bits.append(f"parts {state.parts_done}/{total}")
    if state.bytes_done:
        bits.append(human_bytes(state.bytes_done))
    if state.rows:
        bits.append(f"{state.rows:,} rows")
    bits.append(human_seconds(state.elapsed))
    if state.message:
        bits.append(state.message)
    if state.output and state.stage is Stage.DONE:
        bits.append(f"→ {state.output}")
    return " · ".join(bits)


def header(state: ProgressState) -> str:
    """``brightdata s_m4x7…`` (or the title when there is one)."""
    return state.title or " ".join(x for x in (state.vendor, state.job_id) if x)


class NullRenderer:
    """Draws nothing (``progress="off"``)."""

    def draw(self, state: ProgressState) -> None:
        pass

    def close(self, state: ProgressState) -> None:
        pass


class LogRenderer:
    """One plain line per stage change, and at most one every 30 s within a stage; no ``\\r``.

    Args:
        stream: where lines go (standard error by default).
        interval: seconds between two lines within one stage.
    """

    def __init__(self, stream: IO[str] | None = None, interval: float = LOG_PROGRESS_INTERVAL) -> None:
        self.stream = stream
        self.interval = interval
        self._last_stage: Stage | None = None
        self._last_line = 0.0

    def draw(self, state: ProgressState) -> None:
        if state.stage == self._last_stage and state.now - self._last_line < self.interval:
            return
        self._emit(state)

    def close(self, state: ProgressState) -> None:
        self._emit(state)

    def _emit(self, state: ProgressState) -> None:
        self._last_stage = state.stage
        self._last_line = state.now
        stream = self.stream or sys.stderr
        stamp = time.strftime("%H:%M:%S")
        stream.write(f"{stamp} dataferry {header(state)}: {state.stage.value} · {detail_line(state)}\n")
        stream.flush()


class TqdmRenderer:
    """A tqdm bar: the server's percentage while waiting, parts while downloading.

    Args:
        notebook: use ``tqdm.auto`` (a notebook bar inside a kernel).
        file: the stream for the terminal bar.
    """

    def __init__(self, notebook: bool = False, file: IO[str] | None = None) -> None:
        self.notebook = notebook
        self.file = file
        self._bar: Any = None
        self._mode: str | None = None

    def _ensure(self, state: ProgressState) -> Any:
        mode, total = self._mode_of(state)
        if self._bar is not None and mode != self._mode:
            self._bar.close()
            self._bar = None
        if self._bar is None:
            if self.notebook:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            self._bar = tqdm(total=total, desc=header(state), file=self.file, leave=True, dynamic_ncols=True)
            self._mode = mode
        elif total is not None and self._bar.total != total:
            self._bar.total = total
        return self._bar

    @staticmethod
    def _mode_of(state: ProgressState) -> tuple[str, int | None]:
        if state.stage in (Stage.DOWNLOADING, Stage.WRITING) or state.parts_total is not None:
            return "parts", state.parts_total
        return "wait", 100 if state.fraction is not None else None

    def draw(self, state: ProgressState) -> None:
        bar = self._ensure(state)
        if self._mode == "parts":
            bar.n = state.parts_done
        elif state.fraction is not None:
            bar.n = int(round(state.fraction * 100))
        bar.set_postfix_str(detail_line(state), refresh=False)
        bar.refresh()

    def close(self, state: ProgressState) -> None:
        bar = self._ensure(state)
        if state.stage is Stage.DONE and bar.total is not None:
            bar.n = bar.total
        bar.set_postfix_str(detail_line(state), refresh=False)
        bar.refresh()
        bar.close()
        self._bar = None
