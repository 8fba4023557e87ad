"""One progress display for a group of jobs.

Each job of a group still reports through its own :class:`~dataferry.progress.Reporter` (the
wait loop, the downloader and the decoder are unchanged), but its renderer is a *row* of a
:class:`GroupProgress`: nothing is drawn per job. The group keeps every row's latest
:class:`~dataferry.progress.ProgressState`, throttles, ticks, and hands one consistent
:class:`GroupState` to exactly one group renderer (:mod:`dataferry.progress.group_render`):

* notebook (``widget`` / ``html``): a compact table, a row per job (vendor, id, state, the
  vendor's figure, parts, rows, elapsed) under an overall bar; a finished row settles (its
  figures and clock stop); at the end the static summary replaces the live display;
* terminal (``tqdm``): one overall bar with the count per state, then a line per job;
* ``log``: a line as each job ends, one every 30 s in between, a closing summary;
* ``off``: nothing.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import PROGRESS_MIN_INTERVAL, PROGRESS_TICK, QUIET_SECONDS
from dataferry.progress.reporter import ProgressState, Renderer, Stage, log

ROW_OPTIONS = {"quiet_seconds": 0.0, "tick": None, "min_interval": 0.0}
"""How a job's own reporter runs inside a group: every event forwarded at once, no clock
thread of its own (the group throttles and ticks once for all rows)."""


@dataclass
class GroupState:
    """What a group renderer may show.

    Attributes:
        rows: each job's latest state, in the group's order.
        stage: the group's stage (``RUNNING`` until it ends; then ``DONE``, ``FAILED`` when a
            job failed, ``STOPPED`` when the wait was interrupted or timed out).
        title: what the group is doing (``"waiting"``, ``"reading"``...).
        started, now: monotonic seconds.
        message: the group's own last word (why it stopped).
        reattach: the one snippet that gets every unfinished job back.
        output: where the result went.
    """

    rows: list[ProgressState]
    stage: Stage = Stage.RUNNING
    title: str = "waiting"
    started: float = 0.0
    now: float = 0.0
    message: str = ""
    reattach: str = ""
    output: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        return max(0.0, self.now - self.started)

    @property
    def finished(self) -> int:
        """Jobs in a final stage."""
        return sum(1 for r in self.rows if r.stage.final)

    @property
    def fraction(self) -> float:
        """The overall bar: finished jobs out of all (1.0 for an empty group)."""
        return self.finished / len(self.rows) if self.rows else 1.0

    def counts(self) -> Counter[str]:
        """Jobs per stage name, e.g. ``{"running": 3, "done": 5}``."""
        return Counter(r.stage.value for r in self.rows)

    def vendors(self) -> Counter[str]:
        """Jobs per vendor."""
        return Counter(r.vendor for r in self.rows)

    def row_elapsed(self, row: ProgressState) -> float:
        """A row's elapsed time: frozen once it is final, still moving otherwise."""
        end = row.now if row.stage.final else self.now
        return max(0.0, end - row.started)


class RowRenderer:
    """The renderer of one job inside a group: forwards its states to the group."""

    reporter_options = ROW_OPTIONS

    def __init__(self, group: GroupProgress, index: int) -> None:
        self.group = group
        self.index = index

    def draw(self, state: ProgressState) -> None:
        self.group.set_row(self.index, state)

    def close(self, state: ProgressState) -> None:
        self.group.set_row(self.index, state)


class GroupProgress:
    """The rows of a group, throttled and thread-safe, drawn by one group renderer.

    Args:
        renderer: a group renderer (``draw(GroupState)`` / ``close(GroupState)``).
        jobs: the jobs, for the rows' first state (vendor, kind, id).
        clock: time source.
        title: what the group does.
        quiet_seconds: nothing is drawn before this (``0``: at once, e.g. a background wait
            draws in the caller's cell).
        tick: seconds between two redraws when nothing happens (the clocks move).
        min_interval: seconds between two throttled redraws.
    """

    def __init__(
        self,
        renderer: Any,
        jobs: Sequence[Any],
        *,
        clock: Clock = SYSTEM_CLOCK,
        title: str = "waiting",
        quiet_seconds: float = QUIET_SECONDS,
        tick: float | None = PROGRESS_TICK,
        min_interval: float = PROGRESS_MIN_INTERVAL,
    ) -> None:
        self.renderer = renderer
        self.clock = clock
        now = clock.monotonic()
        rows = [
            ProgressState(vendor=j.vendor, kind=j.kind, job_id=j.id, started=now, now=now, stage=_first_stage(j))
            for j in jobs
        ]
        self.state = GroupState(rows=rows, title=title, started=now, now=now)
        self.quiet_seconds = quiet_seconds
        self.min_interval = min_interval
        self.tick = tick
        self._lock = threading.RLock()
        self._last_draw: float | None = None
        self._drawn = False
        self._closed = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def row(self, index: int) -> RowRenderer:
        """The renderer to pass as ``progress=`` for job ``index``."""
        return RowRenderer(self, index)

    def set_row(self, index: int, state: ProgressState) -> None:
        """A job's new state (from its reporter, in any thread)."""
        with self._lock:
            if self._closed:
                return
            previous = self.state.rows[index]
            self.state.rows[index] = replace(state, started=min(previous.started, state.started))
            self._redraw(force=previous.stage != state.stage)

    def draw(self) -> None:
        """Redraw now (past the quiet period: at once)."""
        with self._lock:
            self._redraw(force=True, eager=True)

    def finish(self, stage: Stage, message: str = "", *, reattach: str = "", output: str = "") -> None:
        """End the display in ``stage`` (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            self.state.stage, self.state.message = stage, message
            self.state.reattach, self.state.output = reattach, output
            self.state.now = self.clock.monotonic()
            if self._drawn or self.state.elapsed >= self.quiet_seconds:
                self._drawn = True
                self._call("close")

    @property
    def shown(self) -> bool:
        return self._drawn

    # -- internals ----------------------------------------------------------------------
    def _redraw(self, *, force: bool, eager: bool = False) -> None:
        if self._closed:
            return
        now = self.state.now = self.clock.monotonic()
        if not self._drawn and not eager and self.state.elapsed < self.quiet_seconds:
            return
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self._drawn = True
        self._call("draw")
        if self.tick is not None and self._ticker is None:
            self._ticker = threading.Thread(
                target=_tick, args=(weakref.ref(self), self._stop, self.tick), name="dataferry-progress", daemon=True
            )
            self._ticker.start()

    def _call(self, method: str) -> None:
        snapshot = replace(self.state, rows=[replace(r) for r in self.state.rows])
        try:
            getattr(self.renderer, method)(snapshot)
        except Exception as exc:  # noqa: BLE001 - a display problem must not stop the waits it reports on
            log.warning(
                "dataferry: the %s group display failed (%s: %s); progress is off for this group",
                type(self.renderer).__name__,
                type(exc).__name__,
                exc,
            )
            self.renderer = _Silent()


def _first_stage(job: Any) -> Stage:
    status = getattr(job, "last_status", None)
    if status is None:
        return Stage.SUBMITTED
    return {"done": Stage.DONE, "failed": Stage.FAILED, "cancelled": Stage.CANCELLED}.get(
        status.state.value, Stage.RUNNING
    )


def _tick(ref: weakref.ref[GroupProgress], stop: threading.Event, seconds: float) -> None:
    while not stop.wait(seconds):
        group = ref()
        if group is None:
            return
        with group._lock:
            group._redraw(force=True)
        del group


class _Silent:
    def draw(self, state: GroupState) -> None:
        pass

    def close(self, state: GroupState) -> None:
        pass


def make_group_renderer(progress: Any = None) -> Renderer | Any:
    """The group renderer for ``progress=`` (the same values as a job's: a mode name, ``True`` /
    ``False`` / ``None``, a :class:`~dataferry.progress.Progress`, or a ready group renderer).

    Raises:
        InvalidArgument, ConfigurationError: see :func:`~dataferry.progress.resolve_mode`.

    Example:
        >>> type(make_group_renderer("log")).__name__
        'GroupLogRenderer'
    """
    if hasattr(progress, "draw") and hasattr(progress, "close"):
        return progress
    from dataferry.progress import group_render as gr
    from dataferry.progress.choice import in_kernel, resolve_mode

    mode = resolve_mode(progress)
    if mode == "off":
        return _Silent()
    if mode == "log":
        import sys

        return gr.GroupLogRenderer(sys.stdout if in_kernel() else None)
    if mode == "tqdm":
        return gr.GroupTqdmRenderer()
    if mode == "html":
        return gr.GroupHtmlRenderer()
    return gr.GroupWidgetRenderer()
