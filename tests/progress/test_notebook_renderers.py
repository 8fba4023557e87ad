"""The widget and HTML renderers, with real ipywidgets objects and a recording display.

(The same renderers in a real Jupyter kernel are covered by tests/notebooks.)
"""

from __future__ import annotations

from typing import Any

import pytest

from dataferry.progress import ProgressState, Reporter, Stage
from dataferry.progress.html import HtmlRenderer
from dataferry.progress.panel import INDETERMINATE
from dataferry.progress.widget import BAR_CLASS, PANEL_CLASS, WIDGET_MIME, WidgetRenderer


class Screen:
    """Stands in for IPython's display: records what is shown and every in-place update."""

    def __init__(self) -> None:
        self.outputs: list[list[dict[str, Any]]] = []  # one list of successive bundles per display

    def display(self, bundle: dict[str, Any], raw: bool, display_id: bool) -> Any:
        assert raw is True and display_id is True
        history = [bundle]
        self.outputs.append(history)

        class Handle:
            def update(self, new: dict[str, Any], raw: bool) -> None:
                assert raw is True
                history.append(new)

        return Handle()

    def final(self, index: int = -1) -> dict[str, Any]:
        return self.outputs[index][-1]


def state(**kw: Any) -> ProgressState:
    base = dict(vendor="brightdata", kind="snapshot", job_id="s_1", started=0.0, now=3.0)
    base.update(kw)
    return ProgressState(**base)


def test_widget_panel_follows_the_stages_and_is_swapped_for_the_summary() -> None:
    screen = Screen()
    r = WidgetRenderer(display=screen.display)
    r.draw(state(stage=Stage.SUBMITTED))
    w = r.widgets
    assert len(screen.outputs) == 1
    first = screen.outputs[0][0]
    assert first[WIDGET_MIME]["model_id"] == w["box"].model_id
    assert first["text/plain"].startswith("brightdata snapshot s_1: submitted")
    assert PANEL_CLASS in w["box"]._dom_classes and BAR_CLASS in w["bar"]._dom_classes

    # no figure from the vendor: stripes in place of the bar, never a full bar that reads as 100 %
    r.draw(state(stage=Stage.QUEUED, status="starting"))
    row = w["row"]
    assert row.children[0] is w["stripes"] and w["bar"] not in row.children
    assert INDETERMINATE in w["stripes"].value and "width:100%" in w["stripes"].value
    assert "queued" in w["header"].value and "starting" in w["detail"].value

    r.draw(state(stage=Stage.RUNNING, status="In progress", fraction=0.64))
    assert row.children[0] is w["bar"] and w["stripes"] not in row.children
    assert w["bar"].value == pytest.approx(0.64) and w["bar"].style.bar_color is None
    assert w["label"].value == "64%"

    r.draw(state(stage=Stage.DOWNLOADING, parts_total=4, parts_done=1, bytes_done=2048, rows=10))
    assert w["bar"].value == pytest.approx(0.25) and w["label"].value == "1/4 parts"
    assert "2.0 KiB" in w["detail"].value and "10 rows" in w["detail"].value
    assert len(screen.outputs) == 1 and len(screen.outputs[0]) == 1  # redraws change the widgets only

    r.close(state(stage=Stage.DONE, parts_total=4, parts_done=4, rows=40, output="out.parquet"))
    # the widget's last frame is the finished one ...
    assert w["bar"].value == w["bar"].max and w["bar"].bar_style == "success"
    # ... then the output is replaced by the static summary, and the widgets are released
    summary = screen.final()
    assert WIDGET_MIME not in summary
    assert "dataferry-summary" in summary["text/html"] and "data-state='done'" in summary["text/html"]
    assert summary["text/plain"] == "brightdata snapshot s_1: done · parts 4/4 · 40 rows · 3s → out.parquet"
    assert w["box"].comm is None and w["bar"].comm is None
    assert w["bar"].style.comm is None and w["box"].layout.comm is None
    assert r.widgets == {}


def test_keep_widget_leaves_the_live_widget_with_a_final_text() -> None:
    screen = Screen()
    r = WidgetRenderer(keep_widget=True, display=screen.display)
    r.draw(state(stage=Stage.RUNNING))
    w = r.widgets
    r.close(state(stage=Stage.FAILED, message="blocked by target"))
    last = screen.final()
    assert last[WIDGET_MIME]["model_id"] == w["box"].model_id
    assert last["text/plain"] == "brightdata snapshot s_1: failed · 3s · blocked by target"
    assert w["bar"].bar_style == "danger" and w["bar"].value == w["bar"].max
    assert w["box"].comm is not None  # still alive


def test_cancelled_is_shown_as_a_warning() -> None:
    screen = Screen()
    r = WidgetRenderer(keep_widget=True, display=screen.display)
    r.draw(state(stage=Stage.DOWNLOADING, parts_total=2, parts_done=1))
    bar = r.widgets["bar"]
    r.close(state(stage=Stage.CANCELLED, parts_total=2, parts_done=1))
    assert bar.bar_style == "warning" and bar.value == pytest.approx(0.5)


def test_widget_ending_before_any_draw_shows_only_the_summary() -> None:
    screen = Screen()
    r = WidgetRenderer(display=screen.display)
    r.close(state(stage=Stage.DONE))
    assert len(screen.outputs) == 1 and WIDGET_MIME not in screen.final()
    assert "dataferry-summary" in screen.final()["text/html"]


def test_html_panel_is_updated_in_place_and_ends_as_the_summary() -> None:
    screen = Screen()
    r = HtmlRenderer(display=screen.display)
    r.draw(state(stage=Stage.RUNNING, status="running"))
    r.draw(state(stage=Stage.DOWNLOADING, parts_total=3, parts_done=2))
    r.close(state(stage=Stage.DONE, parts_total=3, parts_done=3))
    assert len(screen.outputs) == 1
    history = screen.outputs[0]
    assert ["dataferry-live" in b["text/html"] for b in history] == [True, True, False]
    assert "dataferry-summary" in history[-1]["text/html"]
    assert history[-1]["text/plain"].startswith("brightdata snapshot s_1: done · parts 3/3")


def test_a_quick_job_leaves_no_output_in_either_renderer() -> None:
    for renderer_class in (WidgetRenderer, HtmlRenderer):
        screen = Screen()
        r = Reporter(renderer_class(display=screen.display), vendor="brightdata", job_id="s_1")
        r.stage(Stage.RUNNING)
        r.add(parts=1, bytes=10)
        r.finish(Stage.DONE)
        assert screen.outputs == []
