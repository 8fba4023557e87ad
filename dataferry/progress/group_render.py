"""The group renderers: a table in a notebook (widget or HTML), an overall bar in a terminal,
log lines in CI. They draw a :class:`~dataferry.progress.group.GroupState`.

The notebook table is plain HTML with inline styles (as :mod:`dataferry.progress.panel`), so
the final summary left in a saved notebook reads the same on GitHub, in nbconvert and after a
reload. Every text has been through each job's redactor before it gets here, and is escaped.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from dataferry.constants import LOG_PROGRESS_INTERVAL
from dataferry.progress.formatting import bar_fraction, human_seconds, one_line
from dataferry.progress.group import GroupState
from dataferry.progress.html import Display, ipython_display
from dataferry.progress.panel import (
    PANEL_MAX_WIDTH,
    TONES,
    TRACK_COLOUR,
    bar_html,
    box_style,
    escape as _e,
    reattach_html,
    state_style,
    tone_of,
)
from dataferry.progress.reporter import ProgressState, Stage

GROUP_ROWS_SHOWN = 50
"""Rows a group table shows; the rest are summed up in one line by state."""

GROUP_CLASS = "dataferry-group"
"""DOM class of a group display (``dataferry-group-live`` while it runs, ``dataferry-group-summary`` at the end)."""

CELL = "padding:1px 10px 1px 0;text-align:left;white-space:nowrap"


def figure(row: ProgressState) -> str:
    """The vendor's own figure for a row: its status word and percentage (``"running 40%"``)."""
    status = row.status or ""
    if row.fraction is not None and row.stage in (Stage.QUEUED, Stage.RUNNING):
        status = f"{status} {row.fraction:.0%}".strip()
    return one_line(status, 40)


def parts(row: ProgressState) -> str:
    if row.parts_total is None and not row.parts_done:
        return ""
    return f"{row.parts_done}/{'?' if row.parts_total is None else row.parts_total}"


def title(state: GroupState) -> str:
    """``"20 jobs (brightdata 8, mytracker 6, algolia 6)"``."""
    vendors = ", ".join(f"{v} {n}" for v, n in state.vendors().items())
    n = len(state.rows)
    return f"{n} job{'s' if n != 1 else ''}" + (f" ({vendors})" if vendors else "")


def counts_line(state: GroupState) -> str:
    """``"12/20 finished · 8 running · 11 done · 1 failed · 14s"``."""
    order = [s.value for s in Stage]
    counts = state.counts()
    bits = [f"{state.finished}/{len(state.rows)} finished"]
    bits += [f"{counts[s]} {s}" for s in order if counts.get(s)]
    bits.append(human_seconds(state.elapsed))
    if state.message:
        bits.append(one_line(state.message))
    if state.output and state.stage is Stage.DONE:
        bits[-1] += f" → {state.output}"
    return " · ".join(bits)


def row_line(state: GroupState, row: ProgressState) -> str:
    """A row as text: ``"brightdata snapshot s_1: done · ready · parts 2/2 · 1,000 rows · 3s"``."""
    bits = [
        b
        for b in (figure(row), f"parts {parts(row)}" if parts(row) else "", f"{row.rows:,} rows" if row.rows else "")
        if b
    ]
    bits.append(human_seconds(state.row_elapsed(row)))
    if row.message and row.stage in (Stage.FAILED, Stage.CANCELLED):
        bits.append(one_line(row.message, 120))
    head = " ".join(x for x in (row.vendor, row.kind, row.job_id) if x)
    return f"{head}: {row.stage.value} · " + " · ".join(bits)


def group_text(state: GroupState) -> str:
    """The whole display as text (the ``text/plain`` of the summary; the terminal's last lines)."""
    lines = [f"dataferry group of {title(state)}: {state.stage.value} · {counts_line(state)}"]
    lines += [f"  {row_line(state, r)}" for r in state.rows[:GROUP_ROWS_SHOWN]]
    if len(state.rows) > GROUP_ROWS_SHOWN:
        lines.append(f"  … and {len(state.rows) - GROUP_ROWS_SHOWN} more")
    if state.reattach and state.stage is Stage.STOPPED:
        lines.append(f"  re-attach: {state.reattach}")
    return "\n".join(lines)


def table_html(state: GroupState) -> str:
    """The rows as an HTML table."""
    head = "".join(
        f"<th style='{CELL};font-weight:600'>{h}</th>"
        for h in ("vendor", "job", "state", "figure", "parts", "rows", "elapsed")
    )
    body = []
    for row in state.rows[:GROUP_ROWS_SHOWN]:
        tone = tone_of(row.stage)
        fraction = bar_fraction(row)
        level = "" if fraction is None else f"{fraction:.0%}"
        body.append(
            f"<tr class='dataferry-row' data-state='{_e(row.stage.value)}' data-job='{_e(row.job_id)}'>"
            f"<td style='{CELL}'>{_e(row.vendor)} {_e(row.kind)}</td>"
            f"<td style='{CELL}'><code>{_e(row.job_id)}</code></td>"
            f"<td style='{CELL}'><span class='dataferry-state' style='{state_style(tone)}'>"
            f"{_e(row.stage.value)}</span></td>"
            f"<td style='{CELL}'>{_e(figure(row) or level)}</td><td style='{CELL}'>{_e(parts(row))}</td>"
            f"<td style='{CELL}'>{_e(f'{row.rows:,}' if row.rows else '')}</td>"
            f"<td style='{CELL}'>{_e(human_seconds(state.row_elapsed(row)))}</td></tr>"
        )
    more = len(state.rows) - GROUP_ROWS_SHOWN
    if more > 0:
        rest = ", ".join(f"{n} {s}" for s, n in GroupState(rows=state.rows[GROUP_ROWS_SHOWN:]).counts().items())
        body.append(f"<tr><td colspan='7' style='{CELL}'>… and {more} more: {_e(rest)}</td></tr>")
    failed = [r for r in state.rows if r.stage in (Stage.FAILED, Stage.CANCELLED) and r.message]
    notes = "".join(
        f"<div class='dataferry-row-error' style='opacity:.85'><code>{_e(r.job_id)}</code>: "
        f"{_e(one_line(r.message, 200))}</div>"
        for r in failed[:10]
    )
    return (
        f"<table style='border-collapse:collapse;margin-top:4px;font-variant-numeric:tabular-nums'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"
    )


def header_html(state: GroupState) -> str:
    tone = tone_of(state.stage)
    return (
        f"<div><b>dataferry</b> {_e(title(state))}: {_e(state.title)} "
        f"<span class='dataferry-state' style='{state_style(tone)}'>{_e(state.stage.value)}</span></div>"
    )


def group_html(state: GroupState, *, final: bool) -> str:
    """The whole display as HTML (``final``: the summary left in the notebook)."""
    tone = tone_of(state.stage)
    css = f"{GROUP_CLASS} " + (f"{GROUP_CLASS}-summary" if final else f"{GROUP_CLASS}-live")
    bar = bar_html(state.fraction, tone, f"{state.finished}/{len(state.rows)} jobs")
    counts = f"<div class='dataferry-detail' style='opacity:.85'>{_e(counts_line(state))}</div>"
    again = reattach_html(state.reattach) if final and state.reattach and state.stage is Stage.STOPPED else ""
    return (
        f"<div class='{css}' data-state='{_e(state.stage.value)}' data-jobs='{len(state.rows)}' "
        f"style='{box_style(TONES[tone])}'>{header_html(state)}{bar}{counts}{table_html(state)}{again}</div>"
    )


def group_bundle(state: GroupState, *, final: bool) -> dict[str, str]:
    return {"text/html": group_html(state, final=final), "text/plain": group_text(state)}


class GroupHtmlRenderer:
    """The group table as HTML, updated in place through one display id."""

    def __init__(self, *, display: Display | None = None) -> None:
        self._display = display
        self._handle: Any = None

    def draw(self, state: GroupState) -> None:
        self._show(group_bundle(state, final=False))

    def close(self, state: GroupState) -> None:
        self._show(group_bundle(state, final=True))
        self._handle = None

    def _show(self, bundle: dict[str, str]) -> None:
        if self._handle is None:
            self._handle = (self._display or ipython_display())(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


class GroupWidgetRenderer:
    """The group table in an ipywidgets box (an overall ``FloatProgress`` over an ``HTML``
    table), swapped for the static summary at the end, as the single-job widget is."""

    def __init__(self, *, display: Display | None = None) -> None:
        self._display = display
        self._handle: Any = None
        self._widgets: dict[str, Any] = {}

    def draw(self, state: GroupState) -> None:
        if not self._widgets:
            self._build(state)
        self._apply(state)

    def close(self, state: GroupState) -> None:
        if not self._widgets:
            self._handle = (self._display or ipython_display())(
                group_bundle(state, final=True), raw=True, display_id=True
            )
            return
        self._apply(state)
        self._handle.update(group_bundle(state, final=True), raw=True)
        for widget in self._widgets.values():
            for model in (getattr(widget, "style", None), getattr(widget, "layout", None), widget):
                if model is not None:
                    model.close()
        self._widgets = {}

    def _build(self, state: GroupState) -> None:
        import ipywidgets as w

        from dataferry.progress.widget import BAR_CLASS, PANEL_CLASS, WIDGET_MIME

        bar = w.FloatProgress(
            min=0.0, max=1.0, value=0.0, bar_style="info", layout=w.Layout(flex="1 1 auto", width="auto")
        )
        bar.add_class(BAR_CLASS)
        label = w.Label(layout=w.Layout(min_width="6em"))
        header, table = w.HTML(), w.HTML()
        row = w.HBox([bar, label], layout=w.Layout(align_items="center"))
        box = w.VBox(
            [header, row, table],
            layout=w.Layout(border=f"1px solid {TRACK_COLOUR}", padding="2px 10px", max_width=PANEL_MAX_WIDTH),
        )
        for css in (PANEL_CLASS, GROUP_CLASS, f"{GROUP_CLASS}-live"):
            box.add_class(css)
        self._widgets = {"header": header, "bar": bar, "label": label, "table": table, "row": row, "box": box}
        bundle = {
            WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": box.model_id},
            "text/plain": group_text(state),
        }
        self._handle = (self._display or ipython_display())(bundle, raw=True, display_id=True)

    def _apply(self, state: GroupState) -> None:
        tone = tone_of(state.stage)
        wd = self._widgets
        wd["header"].value = header_html(state)
        with wd["bar"].hold_sync():
            wd["bar"].value = state.fraction
            wd["bar"].bar_style = tone if tone in ("info", "success", "danger", "warning") else ""
            wd["bar"].style.bar_color = None if wd["bar"].bar_style else TONES[tone]
        wd["label"].value = f"{state.finished}/{len(state.rows)} jobs"
        wd["table"].value = (
            f"<div class='dataferry-detail' style='opacity:.85'>{_e(counts_line(state))}</div>" + table_html(state)
        )
        wd["box"].layout.border_left = f"4px solid {TONES[tone]}"


class GroupTqdmRenderer:
    """A terminal: one tqdm bar of finished jobs with the count per state, then a line per job."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file
        self._bar: Any = None

    def _line(self, state: GroupState) -> str:
        return f"{title(state)}: {state.stage.value} · {counts_line(state)}"

    def draw(self, state: GroupState) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=len(state.rows),
                file=self.file,
                leave=True,
                dynamic_ncols=True,
                bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} jobs",
            )
        self._bar.n = state.finished
        self._bar.set_description_str(self._line(state), refresh=False)
        self._bar.refresh()

    def close(self, state: GroupState) -> None:
        self.draw(state)
        self._bar.close()
        self._bar = None
        stream = self.file or sys.stderr
        for row in state.rows[:GROUP_ROWS_SHOWN]:
            stream.write(f"  {row_line(state, row)}\n")
        stream.flush()


class GroupLogRenderer:
    """Plain lines: one as each job ends, one every 30 s in between, a closing summary."""

    def __init__(self, stream: IO[str] | None = None, interval: float = LOG_PROGRESS_INTERVAL) -> None:
        self.stream = stream
        self.interval = interval
        self._ended: set[int] = set()
        self._last: float | None = None

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"{time.strftime('%H:%M:%S')} dataferry {text}\n")
        stream.flush()

    def draw(self, state: GroupState) -> None:
        wrote = False
        for i, row in enumerate(state.rows):
            if row.stage.final and i not in self._ended:
                self._ended.add(i)
                self._write(f"group {state.finished}/{len(state.rows)}: {row_line(state, row)}")
                wrote = True
        if self._last is None or (not wrote and state.now - self._last >= self.interval):
            self._write(f"group of {title(state)}: {state.title} · {counts_line(state)}")
            wrote = True
        if wrote:
            self._last = state.now

    def close(self, state: GroupState) -> None:
        self._last = state.now
        self.draw(state)
        self._write(f"group of {title(state)}: {state.stage.value} · {counts_line(state)}")
