"""Words and figures every renderer shares: sizes, durations, the header and the detail line."""

from __future__ import annotations

from dataferry.progress.reporter import ProgressState, Stage


def human_bytes(n: float | None) -> str:
    """A byte count for people.

    Example:
        >>> human_bytes(1536)
        '1.5 KiB'
    """
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def human_seconds(seconds: float) -> str:
    """A duration for people.

    Example:
        >>> human_seconds(75)
        '1m15s'
    """
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m"


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (newlines become `` / ``), cut to ``limit`` characters.

    Example:
        >>> one_line("bad token\\n  hint: check it")
        'bad token / hint: check it'
    """
    flat = " / ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def detail_line(state: ProgressState) -> str:
    """The one-line summary every renderer shares.

    Example:
        >>> s = ProgressState(stage=Stage.DOWNLOADING, status="ready", parts_total=6, parts_done=2, rows=50000, now=14)
        >>> detail_line(s)
        'ready · parts 2/6 · 50,000 rows · 14s'
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
        bits.append(one_line(state.message))
    if state.output and state.stage is Stage.DONE:
        bits[-1] += f" → {state.output}"
    return " · ".join(bits)


def header(state: ProgressState) -> str:
    """What the display is about: the title, else ``vendor kind job_id``.

    Example:
        >>> header(ProgressState(vendor="brightdata", kind="snapshot", job_id="s_1"))
        'brightdata snapshot s_1'
    """
    return state.title or " ".join(x for x in (state.vendor, state.kind, state.job_id) if x)


def bar_fraction(state: ProgressState) -> float | None:
    """Where the bar stands in ``[0, 1]``, or ``None`` while nothing gives a figure.

    Parts count while downloading and writing; the vendor's own figure while queued or
    running; a finished job's bar is full. A failed or cancelled operation keeps the last
    figure it had.

    Example:
        >>> bar_fraction(ProgressState(stage=Stage.DOWNLOADING, parts_total=4, parts_done=1))
        0.25
        >>> bar_fraction(ProgressState(stage=Stage.RUNNING)) is None
        True
    """
    if state.stage is Stage.DONE:
        return 1.0
    if state.parts_total is not None and (state.stage in (Stage.DOWNLOADING, Stage.WRITING) or state.stage.final):
        if state.parts_total <= 0:
            return 1.0
        return min(1.0, max(0.0, state.parts_done / state.parts_total))
    if state.fraction is not None:
        return min(1.0, max(0.0, float(state.fraction)))
    return None


def bar_label(state: ProgressState) -> str:
    """The figure written next to the bar: ``"64%"``, ``"2/6 parts"`` or ``""``.

    Example:
        >>> bar_label(ProgressState(stage=Stage.RUNNING, fraction=0.64))
        '64%'
    """
    fraction = bar_fraction(state)
    if state.parts_total is not None and (state.stage in (Stage.DOWNLOADING, Stage.WRITING) or state.parts_done):
        return f"{state.parts_done}/{state.parts_total} parts"
    if fraction is None:
        return ""
    return f"{fraction:.0%}"
