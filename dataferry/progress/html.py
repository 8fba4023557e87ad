"""The HTML renderer: the progress panel as HTML updated in place (a kernel without ipywidgets).

The panel is shown once with a display id and replaced through that id on each redraw, so
the cell holds exactly one panel at any time; the last update is the finished summary, which
is what a saved notebook keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dataferry.progress.panel import panel_bundle
from dataferry.progress.reporter import ProgressState, Stage  # noqa: F401  (Stage: for the example)

Display = Callable[..., Any]
"""``display(bundle, raw=True, display_id=True)`` → a handle with ``update(bundle, raw=True)``
(IPython's ``display`` and ``DisplayHandle``)."""


def ipython_display() -> Display:
    """IPython's ``display`` function (imported on first use)."""
    from IPython.display import display

    return display


class HtmlRenderer:
    """Draws the panel as HTML and updates it in place.

    Args:
        display: the display function (IPython's by default; tests pass a recorder).

    Example:
        >>> shown = []
        >>> class Handle:
        ...     def update(self, bundle, raw):
        ...         shown.append(bundle)
        >>> r = HtmlRenderer(display=lambda bundle, raw, display_id: shown.append(bundle) or Handle())
        >>> r.draw(ProgressState(vendor="brightdata", job_id="s_1"))
        >>> r.close(ProgressState(vendor="brightdata", job_id="s_1", stage=Stage.DONE))
        >>> ["dataferry-summary" in b["text/html"] for b in shown] == [False, True]
        True
    """

    def __init__(self, *, display: Display | None = None) -> None:
        self._display = display
        self._handle: Any = None

    def draw(self, state: ProgressState) -> None:
        self._show(panel_bundle(state, final=False))

    def close(self, state: ProgressState) -> None:
        self._show(panel_bundle(state, final=True))
        self._handle = None

    def _show(self, bundle: dict[str, str]) -> None:
        if self._handle is None:
            display = self._display or ipython_display()
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
