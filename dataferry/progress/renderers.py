"""Text renderers: tqdm for terminals, plain log lines for CI and scripts, and nothing.

The notebook renderers are in :mod:`dataferry.progress.widget` and :mod:`dataferry.progress.html`.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from dataferry.constants import LOG_PROGRESS_INTERVAL
from dataferry.progress.formatting import detail_line, header, human_bytes, human_seconds
from dataferry.progress.reporter import ProgressState, Stage

__all__ = ["LogRenderer", "NullRenderer", "TqdmRenderer", "detail_line", "header", "human_bytes", "human_seconds"]


class NullRenderer:
    """Draws nothing (``progress="off"``)."""

    def draw(self, state: ProgressState) -> None:
        pass

    def close(self, state: ProgressState) -> None:
        pass


class LogRenderer:
    """One plain line per stage change, and at most one every 30 s within a stage; no ``\\r``.

    Args:
        stream: where lines go (standard error by default; standard output in a notebook,
            where standard error is painted as an error).
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
    """A terminal tqdm bar: the server's percentage while waiting, parts while downloading.

    Args:
        file: the stream for the bar (standard error by default).
    """

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file
        self._bar: Any = None
        self._mode: str | None = None

    def _ensure(self, state: ProgressState) -> Any:
        mode, total = self._mode_of(state)
        if self._bar is not None and mode != self._mode:
            self._bar.close()
            self._bar = None
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=self._line(state),
                file=self.file,
                leave=True,
                dynamic_ncols=True,
                bar_format=self._format(mode, total),
            )
            self._mode = mode
        elif total is not None and self._bar.total != total:
            self._bar.total = total
            self._bar.bar_format = self._format(mode, total)
        return self._bar

    @staticmethod
    def _format(mode: str, total: int | None) -> str:
        """tqdm's line: the stage and the elapsed time while there is no figure (no empty
        ``0it [00:00, ?it/s]`` counter), a bar once there is one."""
        if total is None:
            return "{desc}"
        if mode == "parts":
            return "{desc} |{bar}| {n_fmt}/{total_fmt} parts"
        return "{desc} |{bar}| {percentage:3.0f}%"

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
            bar.n = round(state.fraction * 100)
        bar.set_description_str(self._line(state), refresh=False)
        bar.refresh()

    @staticmethod
    def _line(state: ProgressState) -> str:
        return f"{header(state)}: {state.stage.value} · {detail_line(state)}"

    def close(self, state: ProgressState) -> None:
        bar = self._ensure(state)
        if state.stage is Stage.DONE and bar.total is not None:
            bar.n = bar.total
        bar.set_description_str(self._line(state), refresh=False)
        bar.refresh()
        bar.close()
        self._bar = None
