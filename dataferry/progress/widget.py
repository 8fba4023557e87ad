"""The widget renderer: a live ipywidgets panel in a Jupyter kernel, left behind as static HTML.

The panel is made of ipywidgets' core controls only (``HTML``, ``FloatProgress``, ``Label``,
``HBox``, ``VBox``), so it needs no extension beyond ipywidgets itself:

* a header: vendor, kind, job id and the stage in colour;
* a bar: the vendor's own percentage while the job runs (pale-blue stripes, not a level,
  while the vendor gives no figure), then parts done out of parts while downloading; ``info``
  while running, ``success`` / ``danger`` / ``warning`` / grey (stopped) at the end;
* a detail line: vendor status, parts, bytes, rows, elapsed time and the last message.

When the operation ends, the widget shows its final state and is then replaced, through its
display handle, by the static HTML summary (with a one-line ``text/plain``), so a saved
notebook shows the outcome on GitHub, in nbconvert and after a reload, where widget state is
usually gone. ``keep_widget=True`` keeps the live widget instead (it then needs the widget
JavaScript to be seen again).
"""

from __future__ import annotations

from typing import Any

from dataferry.progress.formatting import bar_fraction, bar_label, detail_line
from dataferry.progress.html import Display, ipython_display
from dataferry.progress.panel import (
    PANEL_MAX_WIDTH,
    TONES,
    TRACK_COLOUR,
    bar_html,
    escape as _e,
    html_title,
    panel_bundle,
    panel_text,
    state_style,
    tone_of,
)
from dataferry.progress.reporter import ProgressState

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
"""The MIME type of a widget view in a notebook output."""

PANEL_CLASS = "dataferry-progress"
"""DOM class of the panel's outer box (also visible in saved widget state)."""

BAR_CLASS = "dataferry-bar"
"""DOM class of the panel's progress bar (tests find the bar in saved widget state by it)."""


class WidgetRenderer:
    """Draws the panel with ipywidgets and swaps it for the static summary at the end.

    Args:
        keep_widget: leave the live widget in the output instead of the static summary.
        display: the display function (IPython's by default; tests pass a recorder).

    Example:
        >>> snap.wait(progress="widget")  # doctest: +SKIP
        >>> from dataferry.progress import Progress, make_renderer
        >>> snap.wait(progress=Progress("widget", keep_widget=True))  # doctest: +SKIP
        >>> make_renderer(Progress("widget", keep_widget=True), kernel=True, widgets=True).keep_widget
        True
    """

    def __init__(self, *, keep_widget: bool = False, display: Display | None = None) -> None:
        self.keep_widget = keep_widget
        self._display = display
        self._handle: Any = None
        self._box: Any = None
        self._header: Any = None
        self._bar: Any = None
        self._label: Any = None
        self._detail: Any = None
        self._row: Any = None
        self._stripes: Any = None

    # -- Renderer --------------------------------------------------------------------------
    def draw(self, state: ProgressState) -> None:
        if self._box is None:
            self._build(state)
        self._apply(state)

    def close(self, state: ProgressState) -> None:
        if self._box is None and not self.keep_widget:
            # ended before anything was drawn: only the summary is worth showing
            self._show(panel_bundle(state, final=True))
            return
        if self._box is None:
            self._build(state)
        self._apply(state)
        if self.keep_widget:
            self._handle.update(self._widget_bundle(state), raw=True)
        else:
            self._handle.update(panel_bundle(state, final=True), raw=True)
            for widget in (self._header, self._bar, self._stripes, self._label, self._detail, self._row, self._box):
                for model in (getattr(widget, "style", None), getattr(widget, "layout", None), widget):
                    if model is not None:
                        model.close()  # release the kernel side; the summary replaced the view
        self._box = None
        self._handle = None

    # -- internals ---------------------------------------------------------------------------
    @property
    def widgets(self) -> dict[str, Any]:
        """The live controls by role (``box``, ``header``, ``row``, ``bar``, ``stripes``, ``label``,
        ``detail``); empty
        before the first draw and after the swap."""
        if self._box is None:
            return {}
        return {
            "box": self._box,
            "header": self._header,
            "bar": self._bar,
            "stripes": self._stripes,
            "row": self._row,
            "label": self._label,
            "detail": self._detail,
        }

    def _build(self, state: ProgressState) -> None:
        import ipywidgets as w

        self._header = w.HTML()
        self._bar = w.FloatProgress(
            min=0.0, max=1.0, value=0.0, bar_style="info", layout=w.Layout(flex="1 1 auto", width="auto")
        )
        self._bar.add_class(BAR_CLASS)
        # no figure yet: stripes, never a full bar that would read as 100 %
        self._stripes = w.HTML(bar_html(None, "info"), layout=w.Layout(flex="1 1 auto", width="auto"))
        self._label = w.Label(layout=w.Layout(min_width="6em"))
        self._detail = w.HTML()
        self._row = w.HBox([self._stripes, self._label], layout=w.Layout(align_items="center"))
        # the same frame as the static summary that replaces it, so nothing jumps at the swap
        self._box = w.VBox(
            [self._header, self._row, self._detail],
            layout=w.Layout(
                border_top=f"1px solid {TRACK_COLOUR}",
                border_right=f"1px solid {TRACK_COLOUR}",
                border_bottom=f"1px solid {TRACK_COLOUR}",
                border_left=f"4px solid {TONES['info']}",
                padding="2px 10px",
                max_width=PANEL_MAX_WIDTH,
            ),
        )
        self._box.add_class(PANEL_CLASS)
        self._box.add_class("dataferry-live")
        self._show(self._widget_bundle(state))

    def _apply(self, state: ProgressState) -> None:
        tone = tone_of(state.stage)
        colour = TONES[tone]
        fraction = bar_fraction(state)
        if state.stage.final and fraction is None:
            fraction = 1.0
        self._header.value = (
            f"{html_title(state.vendor, state.kind, state.job_id, state.title)} "
            f"<span class='dataferry-state' style='{state_style(tone)}'>{_e(state.stage.value)}</span>"
        )
        shown = self._stripes if fraction is None else self._bar
        if self._row.children[0] is not shown:
            self._row.children = (shown, self._label)
        if fraction is not None:
            with self._bar.hold_sync():
                self._bar.value = fraction * self._bar.max
                if tone in ("info", "success", "danger", "warning"):
                    self._bar.style.bar_color = None
                    self._bar.bar_style = tone
                else:  # a stopped wait: grey, neither failed nor cancelled
                    self._bar.bar_style = ""
                    self._bar.style.bar_color = colour
        self._label.value = bar_label(state)
        self._detail.value = f"<span class='dataferry-detail' style='opacity:.85'>{_e(detail_line(state))}</span>"
        for old in [c for c in self._box._dom_classes if c.startswith("dataferry-stage-")]:
            self._box.remove_class(old)
        self._box.add_class(f"dataferry-stage-{state.stage.value}")  # the stage, readable from the page
        self._box.layout.border_left = f"4px solid {colour}"

    def _widget_bundle(self, state: ProgressState) -> dict[str, Any]:
        return {
            WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": self._box.model_id},
            "text/plain": panel_text(state),
        }

    def _show(self, bundle: dict[str, Any]) -> None:
        display = self._display or ipython_display()
        self._handle = display(bundle, raw=True, display_id=True)
