"""The progress reporter: collects events from the engine, throttles them, feeds one renderer.

The wait engine, the downloader and the decoder all report here; they never draw anything
themselves. A renderer (widget, HTML, tqdm, log lines, nothing) only ever sees a consistent
:class:`ProgressState`, under a lock, at most a few times per second, and always on a stage
change and at the end.
"""

from __future__ import annotations

import enum
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import PROGRESS_MIN_INTERVAL, PROGRESS_TICK, QUIET_SECONDS

log = logging.getLogger("dataferry")

REDACTED_FIELDS = ("title", "status", "message", "output", "reattach")
"""Text fields of :class:`ProgressState` passed through the reporter's ``redact`` before any
renderer sees them."""


class Stage(str, enum.Enum):
    """What the operation is doing now."""

    SUBMITTED = "submitted"
    QUEUED = "queued"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    """The user stopped waiting or reading (Ctrl-C, a timeout): the remote job goes on."""

    @property
    def final(self) -> bool:
        return self in (Stage.DONE, Stage.FAILED, Stage.CANCELLED, Stage.STOPPED)


@dataclass
class ProgressState:
    """Everything a renderer may show.

    Attributes:
        vendor, kind, job_id, title: what is being waited for (``kind``: ``"snapshot"``,
            ``"export"``...).
        stage: the current :class:`Stage`.
        status: the vendor's own status text (``"running"``, ``"In progress"``).
        fraction: server-side completion in ``[0, 1]`` or ``None`` when unknown.
        message: the latest message (server step, retry notice, failure reason).
        parts_total, parts_done, bytes_done, bytes_total, rows: transfer figures.
        started, now: monotonic seconds, for the elapsed time.
        output: where the result went (a file path), once known.
        reattach: the code that gets the job back, shown when the operation stopped with the
            job still there.
        dashboard: the Dask dashboard's address, when the parts are read on a cluster.
    """

    vendor: str = ""
    job_id: str = ""
    title: str = ""
    kind: str = ""
    stage: Stage = Stage.SUBMITTED
    status: str = ""
    fraction: float | None = None
    message: str = ""
    parts_total: int | None = None
    parts_done: int = 0
    bytes_done: int = 0
    bytes_total: int | None = None
    rows: int = 0
    started: float = 0.0
    now: float = 0.0
    output: str = ""
    reattach: str = ""
    dashboard: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        """Seconds since the operation began."""
        return max(0.0, self.now - self.started)


class Renderer(Protocol):
    """Draws a :class:`ProgressState`. Called under the reporter's lock."""

    def draw(self, state: ProgressState) -> None:
        """Show the state (first call: create the display)."""

    def close(self, state: ProgressState) -> None:
        """Show the final state and release the display."""


class Reporter:
    """Throttled, thread-safe progress events for one operation.

    Args:
        renderer: where to draw.
        vendor, job_id, title, kind: what the display is about.
        clock: time source.
        min_interval: seconds between two throttled redraws.
        quiet_seconds: nothing is drawn until the operation has run this long; an operation
            that ends sooner leaves no trace.
        redact: applied to every text a renderer may show (title, status, message, output),
            e.g. the vendor client's ``Redactor.text``, so that no secret reaches a display.
        tick: once drawn, the display is redrawn at least this often (seconds, from a daemon
            thread) until the operation ends, so the clock ticks and no figure stays held back
            by the throttle; ``None`` redraws only on events.

    A renderer that raises is replaced by one that draws nothing (a warning is logged): a
    broken display never stops a download.

    Example:
        >>> from dataferry.progress.renderers import NullRenderer
        >>> r = Reporter(NullRenderer(), vendor="brightdata", job_id="s_1")
        >>> r.stage(Stage.RUNNING, status="running")
        >>> r.finish(Stage.DONE)
        >>> r.state.stage
        <Stage.DONE: 'done'>
    """

    def __init__(
        self,
        renderer: Renderer,
        *,
        vendor: str = "",
        job_id: str = "",
        title: str = "",
        clock: Clock = SYSTEM_CLOCK,
        min_interval: float = PROGRESS_MIN_INTERVAL,
        quiet_seconds: float = QUIET_SECONDS,
        kind: str = "",
        redact: Callable[[str], str] | None = None,
        tick: float | None = PROGRESS_TICK,
    ) -> None:
        self.renderer = renderer
        self.clock = clock
        self.min_interval = min_interval
        self.quiet_seconds = quiet_seconds
        self.redact = redact
        now = clock.monotonic()
        self.state = ProgressState(vendor=vendor, job_id=job_id, kind=kind, started=now, now=now)
        self._set(title=title)
        self._lock = threading.RLock()
        self._last_draw: float | None = None
        self._drawn = False
        self._closed = False
        self.tick = tick
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # -- events --------------------------------------------------------------------------
    def stage(self, stage: Stage, message: str | None = None, **fields: object) -> None:
        """Enter a stage (always redrawn, unless still within the quiet period)."""
        with self._lock:
            changed = stage != self.state.stage
            self._set(stage=stage, **({"message": message} if message is not None else {}), **fields)
            self._draw(force=changed)

    def update(self, **fields: object) -> None:
        """Change some figures (throttled redraw)."""
        with self._lock:
            self._set(**fields)
            self._draw(force=False)

    def add(self, *, parts: int = 0, bytes: int = 0, rows: int = 0) -> None:  # noqa: A002
        """Add to the counters (safe from download threads; throttled redraw)."""
        with self._lock:
            s = self.state
            self._set(parts_done=s.parts_done + parts, bytes_done=s.bytes_done + bytes, rows=s.rows + rows)
            self._draw(force=False)

    def bytes_added(self, n: int) -> None:
        """``add(bytes=n)``, as a callback (a downloader's ``on_bytes``)."""
        self.add(bytes=n)

    def notice(self, message: str) -> None:
        """Show a passing message (retry, rate limit)."""
        self.update(message=message)

    def finish(self, stage: Stage, message: str | None = None, **fields: object) -> None:
        """End the operation in a final stage and close the display (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            self._set(stage=stage, **({"message": message} if message is not None else {}), **fields)
            if self._drawn or self.state.elapsed >= self.quiet_seconds:
                self._drawn = True
                self._call("close")

    @property
    def closed(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._closed

    @property
    def shown(self) -> bool:
        """Whether anything was drawn (an operation that ended within the quiet period shows
        nothing)."""
        return self._drawn

    # -- internals ----------------------------------------------------------------------
    def _set(self, **fields: object) -> None:
        for key, value in fields.items():
            if self.redact is not None and key in REDACTED_FIELDS and isinstance(value, str) and value:
                value = self.redact(value)
            setattr(self.state, key, value)
        self.state.now = self.clock.monotonic()

    def _call(self, method: str) -> None:
        try:
            getattr(self.renderer, method)(replace(self.state))
        except Exception as exc:  # noqa: BLE001 - a display problem must not stop the work it reports on
            log.warning(
                "dataferry: the %s progress display failed (%s: %s); progress is off for this operation",
                type(self.renderer).__name__,
                type(exc).__name__,
                exc,
            )
            self.renderer = _Silent()

    def _draw(self, *, force: bool) -> None:
        if self._closed:
            return
        now = self.state.now
        if not self._drawn and self.state.elapsed < self.quiet_seconds:
            return
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self._drawn = True
        self._call("draw")
        if self.tick is not None and self._ticker is None:
            # the thread holds the reporter weakly: one dropped without finish() ends it too
            self._ticker = threading.Thread(
                target=_tick, args=(weakref.ref(self), self._stop, self.tick), name="dataferry-progress", daemon=True
            )
            self._ticker.start()

    def _tick(self) -> None:
        with self._lock:
            if not self._closed:
                self.state.now = self.clock.monotonic()
                self._draw(force=True)


def _tick(ref: weakref.ref[Reporter], stop: threading.Event, seconds: float) -> None:
    """Redraw the reporter every ``seconds`` until it finishes or is dropped."""
    while not stop.wait(seconds):
        reporter = ref()
        if reporter is None:
            return
        reporter._tick()
        del reporter


class _Silent:
    """Stands in for a renderer that failed."""

    def draw(self, state: ProgressState) -> None:
        pass

    def close(self, state: ProgressState) -> None:
        pass
