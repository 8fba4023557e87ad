"""The progress panel as static HTML: the live HTML display, the summary a finished widget is
swapped for, and the status card of a job handle.

Everything here is plain HTML with inline styles only: no script, no ``<style>`` block, no
external resource. It therefore renders the same in JupyterLab, VS Code, Colab, nbconvert,
GitHub and a browser with no network, and still reads as text where styles are stripped.
Every value shown is HTML-escaped; secrets are removed before a state gets here (see
``Reporter(redact=...)``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from dataferry.progress.formatting import bar_fraction, bar_label, detail_line, header, one_line
from dataferry.progress.reporter import ProgressState, Stage

TONES = {
    "info": "#1976d2",
    "success": "#2e7d32",
    "danger": "#c62828",
    "warning": "#ef6c00",
    "neutral": "#757575",
}
"""Colours of the tones (``info``, ``success``, ``danger``, ``warning`` are ipywidgets'
``bar_style`` values; ``neutral`` is a stopped wait: neither failed nor cancelled)."""

TRACK_COLOUR = "var(--jp-border-color2,#e0e0e0)"
"""Colour of the empty part of a bar and of the frame (the theme's border colour in JupyterLab)."""

TEXT_MIX = "62%"
"""How much of the tone's colour the state word keeps; the rest is the theme's text colour, so
the word stays readable (WCAG AA) on light and dark backgrounds alike."""

INDETERMINATE_COLOUR = "#90caf9"
"""Colour of a bar while the vendor gives no figure (the widget shows it full in this colour)."""

INDETERMINATE = f"repeating-linear-gradient(45deg,{INDETERMINATE_COLOUR} 0 8px,#bbdefb 8px 16px)"
"""Background of an HTML bar while the vendor gives no figure (stripes instead of a level)."""

PANEL_MAX_WIDTH = "760px"
"""Widest a panel grows in a wide notebook."""

MIME_HTML = "text/html"
MIME_TEXT = "text/plain"


def tone_of(stage: Stage) -> str:
    """``"success"`` when done, ``"danger"`` when failed, ``"warning"`` when cancelled,
    ``"info"`` while it runs.

    Example:
        >>> tone_of(Stage.FAILED)
        'danger'
    """
    return {Stage.DONE: "success", Stage.FAILED: "danger", Stage.CANCELLED: "warning", Stage.STOPPED: "neutral"}.get(
        stage, "info"
    )


def state_style(tone: str) -> str:
    """The inline style of the state word: the tone's colour mixed with the theme's text colour
    (plain tone colour where ``color-mix`` is not understood).

    Example:
        >>> state_style("success").startswith("color:#2e7d32;")
        True
    """
    colour = TONES[tone]
    return f"color:{colour};color:color-mix(in srgb,{colour} {TEXT_MIX},var(--jp-ui-font-color1,#000));font-weight:600"


def reattach_html(code: str) -> str:
    """The re-attach line: the code that gets the job back, on a line of its own."""
    return (
        f"<div class='dataferry-reattach' style='margin-top:2px'>re-attach: "
        f"<code style='user-select:all'>{escape(code)}</code></div>"
    )


def escape(value: object) -> str:
    """``value`` as text safe inside HTML and attribute values.

    Example:
        >>> escape("<b>'x'</b>")
        '&lt;b&gt;&#x27;x&#x27;&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True)


_e = escape


def bar_html(fraction: float | None, tone: str, label: str = "") -> str:
    """A bar as two nested ``div``s (striped when ``fraction`` is ``None``).

    Example:
        >>> "width:50%" in bar_html(0.5, "info")
        True
    """
    colour = TONES[tone]
    if fraction is None:
        fill = f"width:100%;height:100%;background:{INDETERMINATE}"
        now = ""
    else:
        pct = round(100 * min(1.0, max(0.0, fraction)), 1)
        fill = f"width:{pct:g}%;height:100%;background:{colour}"
        now = f" aria-valuenow='{pct:g}'"
    bar = (
        f"<div class='dataferry-bar' role='progressbar' aria-valuemin='0' aria-valuemax='100'{now} "
        f"style='flex:1;height:10px;background:{TRACK_COLOUR};border-radius:5px;overflow:hidden'>"
        f"<div style='{fill}'></div></div>"
    )
    text = f"<span style='min-width:6em;font-variant-numeric:tabular-nums'>{_e(label)}</span>" if label else ""
    return f"<div style='display:flex;align-items:center;gap:8px;margin:6px 0'>{bar}{text}</div>"


def panel_html(state: ProgressState, *, final: bool) -> str:
    """The panel for ``state``: a header (vendor, kind, job id, state), the bar and the detail
    line. ``final=True`` gives the summary left in the notebook when the operation ends.

    Example:
        >>> s = ProgressState(vendor="brightdata", kind="snapshot", job_id="s_1", stage=Stage.DONE)
        >>> "dataferry-summary" in panel_html(s, final=True)
        True
    """
    tone = tone_of(state.stage)
    colour = TONES[tone]
    fraction = bar_fraction(state)
    # a summary with no figure has no bar: a full one would read as 100 % done (a finished job's is full)
    bar = "" if final and fraction is None else bar_html(fraction, tone, bar_label(state))
    css = "dataferry-panel " + ("dataferry-summary" if final else "dataferry-live")
    title = html_title(state.vendor, state.kind, state.job_id, state.title)
    head = (
        f"<div>{title} <span class='dataferry-state' style='{state_style(tone)}'>{_e(state.stage.value)}</span></div>"
    )
    detail = f"<div class='dataferry-detail' style='opacity:.85'>{_e(detail_line(state))}</div>"
    again = reattach_html(state.reattach) if final and state.reattach and state.stage is Stage.STOPPED else ""
    again += dashboard_html(state.dashboard)
    return (
        f"<div class='{css}' data-state='{_e(state.stage.value)}' data-vendor='{_e(state.vendor)}' "
        f"data-job='{_e(state.job_id)}' style='{box_style(colour)}'>"
        f"{head}{bar}{detail}{again}</div>"
    )


def panel_text(state: ProgressState) -> str:
    """The panel as one line of text (the ``text/plain`` of the summary).

    Example:
        >>> panel_text(ProgressState(vendor="brightdata", kind="snapshot", job_id="s_1", stage=Stage.DONE))
        'brightdata snapshot s_1: done · 0s'
    """
    text = f"{header(state)}: {state.stage.value} · {detail_line(state)}"
    if state.reattach and state.stage is Stage.STOPPED:
        text += f"\n  re-attach: {state.reattach}"
    if state.dashboard:
        text += f"\n  Dask dashboard: {state.dashboard}"
    return text


def dashboard_html(link: str) -> str:
    """The Dask dashboard line (nothing without an ``http(s)`` link).

    Example:
        >>> "href='http://127.0.0.1:8787/status'" in dashboard_html("http://127.0.0.1:8787/status")
        True
    """
    if not link.startswith(("http://", "https://")):
        return ""
    return (
        f"<div class='dataferry-dashboard' style='margin-top:2px'>Dask dashboard: "
        f"<a href='{escape(link)}' target='_blank' rel='noopener'>{escape(link)}</a></div>"
    )


def panel_bundle(state: ProgressState, *, final: bool) -> dict[str, str]:
    """``{"text/html": ..., "text/plain": ...}`` for IPython's ``display(..., raw=True)``."""
    return {MIME_HTML: panel_html(state, final=final), MIME_TEXT: panel_text(state)}


def html_title(vendor: str, kind: str, job_id: str, title: str = "") -> str:
    """``<b>vendor kind</b> <code>job_id</code>`` (or the escaped ``title`` when there is no id)."""
    if not job_id:
        return f"<b>{_e(title or ' '.join(x for x in (vendor, kind) if x))}</b>"
    what = " ".join(x for x in (vendor, kind) if x)
    return f"<b>{_e(what)}</b> <code>{_e(job_id)}</code>"


def card_html(
    *,
    vendor: str,
    kind: str,
    job_id: str,
    state: str,
    tone: str,
    fraction: float | None,
    rows: Sequence[tuple[str, str]],
) -> str:
    """A job's status card: the panel's header and bar over a small table of facts.

    Args:
        vendor, kind, job_id: what the job is.
        state: the word shown in colour (``"running"``, ``"done"``, ``"not checked"``).
        tone: a key of :data:`TONES`.
        fraction: the bar's level; ``None`` shows no bar.
        rows: ``(label, value)`` pairs, shown as text.

    Example:
        >>> "dataferry-job" in card_html(
        ...     vendor="v",
        ...     kind="export",
        ...     job_id="1",
        ...     state="done",
        ...     tone="success",
        ...     fraction=1.0,
        ...     rows=[("status", "Success!")],
        ... )
        True
    """
    colour = TONES[tone]
    head = (
        f"<div>{html_title(vendor, kind, job_id)} <span class='dataferry-state' "
        f"style='{state_style(tone)}'>{_e(state)}</span></div>"
    )
    bar = bar_html(fraction, tone, f"{fraction:.0%}") if fraction is not None else ""
    cells = "".join(
        f"<tr><th style='text-align:left;padding:1px 1em 1px 0;font-weight:600'>{_e(k)}</th>"
        f"<td style='text-align:left;padding:1px 0'><code>{_e(one_line(v, 500))}</code></td></tr>"
        for k, v in rows
    )
    return (
        f"<div class='dataferry-job' data-state='{_e(state)}' data-vendor='{_e(vendor)}' data-job='{_e(job_id)}' "
        f"style='{box_style(colour)}'>{head}{bar}"
        f"<table style='margin-top:4px;border-collapse:collapse'>{cells}</table></div>"
    )


def box_style(colour: str) -> str:
    """The frame every panel and card shares (the live widget copies it)."""
    return (
        f"font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.4;"
        f"border:1px solid {TRACK_COLOUR};border-left:4px solid {colour};border-radius:4px;"
        f"padding:6px 10px;margin:2px 0;max-width:{PANEL_MAX_WIDTH}"
    )
