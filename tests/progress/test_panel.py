"""The static panel: what the HTML renderer shows and what a finished widget leaves behind."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dataferry.progress import ProgressState, Stage
from dataferry.progress.formatting import bar_fraction, bar_label, detail_line
from dataferry.progress.panel import TONES, card_html, panel_bundle, panel_html, panel_text


def state(**kw: object) -> ProgressState:
    base = dict(vendor="brightdata", kind="snapshot", job_id="s_m4x7enmven8djfqak", started=0.0, now=14.0)
    base.update(kw)
    return ProgressState(**base)  # type: ignore[arg-type]


class Tags(HTMLParser):
    """Collects tags and attributes; fails on unbalanced markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> Tags:
    p = Tags()
    p.feed(markup)
    p.close()
    assert p.stack == []
    return p


def bar_width(markup: str) -> str | None:
    """The bar's level in percent, or ``None`` for the striped (no figure) bar."""
    m = re.search(r"class='dataferry-bar'[^>]*><div style='width:([0-9.]+)%;height:100%;background:([^']+)'", markup)
    assert m, "no bar in the panel"
    return None if "gradient" in m.group(2) else m.group(1)


@pytest.mark.parametrize(
    "stage,tone",
    [
        (Stage.SUBMITTED, "info"),
        (Stage.QUEUED, "info"),
        (Stage.RUNNING, "info"),
        (Stage.DOWNLOADING, "info"),
        (Stage.WRITING, "info"),
        (Stage.DONE, "success"),
        (Stage.FAILED, "danger"),
        (Stage.CANCELLED, "warning"),
    ],
)
def test_each_stage_has_its_colour_and_name(stage: Stage, tone: str) -> None:
    markup = panel_html(state(stage=stage), final=stage.final)
    tags = parse(markup)
    outer = tags.tags[0][1]
    assert outer["data-state"] == stage.value
    assert TONES[tone] in (outer["style"] or "")
    assert stage.value in "".join(tags.text)


def test_waiting_without_a_figure_shows_a_striped_bar_and_no_percentage() -> None:
    s = state(stage=Stage.RUNNING, status="running")
    markup = panel_html(s, final=False)
    assert "repeating-linear-gradient" in markup and bar_width(markup) is None
    assert bar_fraction(s) is None and bar_label(s) == ""
    assert "aria-valuenow" not in markup


def test_the_vendors_percentage_fills_the_bar_while_running() -> None:
    s = state(stage=Stage.RUNNING, status="In progress", fraction=0.64, message="exporting")
    markup = panel_html(s, final=False)
    assert bar_width(markup) == "64"
    assert "64%" in markup and "In progress 64%" in detail_line(s) and "exporting" in markup


def test_downloading_counts_parts_bytes_and_rows() -> None:
    s = state(stage=Stage.DOWNLOADING, status="ready", parts_total=6, parts_done=2, bytes_done=12 << 20, rows=50_000)
    markup = panel_html(s, final=False)
    assert bar_width(markup) == "33.3"
    assert "2/6 parts" in markup
    assert detail_line(s) == "ready · parts 2/6 · 12.0 MiB · 50,000 rows · 14s"


def test_the_finished_summary_is_full_green_and_says_where_the_data_went() -> None:
    s = state(stage=Stage.DONE, parts_total=6, parts_done=6, rows=20_000, output="out/products.parquet")
    bundle = panel_bundle(s, final=True)
    assert "dataferry-summary" in bundle["text/html"] and "dataferry-live" not in bundle["text/html"]
    assert bar_width(bundle["text/html"]) == "100"
    assert bundle["text/plain"] == (
        "brightdata snapshot s_m4x7enmven8djfqak: done · parts 6/6 · 20,000 rows · 14s → out/products.parquet"
    )


def test_a_failure_keeps_the_last_figure_and_shows_the_message_on_one_line() -> None:
    s = state(stage=Stage.FAILED, parts_total=4, parts_done=1, message="part 2: connection dropped\n  hint: run again")
    markup = panel_html(s, final=True)
    assert bar_width(markup) == "25"
    assert "part 2: connection dropped / hint: run again" in panel_text(s)
    assert "\n" not in panel_text(s)


def test_a_summary_with_no_figure_shows_no_bar_but_a_done_one_is_full() -> None:
    # a full bar on a failed, cancelled or stopped job that never had a figure would read as 100 % done
    for stage in (Stage.FAILED, Stage.CANCELLED, Stage.STOPPED):
        markup = panel_html(state(stage=stage, message="blocked"), final=True)
        assert "dataferry-bar" not in markup and f"data-state='{stage.value}'" in markup
    assert TONES["danger"] in panel_html(state(stage=Stage.FAILED, message="blocked"), final=True)
    assert bar_width(panel_html(state(stage=Stage.DONE), final=True)) == "100"
    assert bar_width(panel_html(state(stage=Stage.FAILED, parts_total=4, parts_done=1), final=True)) == "25"


def test_hostile_text_is_escaped() -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    s = state(stage=Stage.FAILED, message=evil, status=evil, job_id="s_<b>", output=evil)
    markup = panel_html(s, final=True)
    tags = parse(markup)
    assert {t for t, _ in tags.tags} <= {"div", "b", "code", "span"}
    assert "<script" not in markup and "<img" not in markup
    card = card_html(
        vendor="v", kind="k", job_id="<i>", state="failed", tone="danger", fraction=None, rows=[("message", evil)]
    )
    assert "<script" not in card and "<i>" not in card


@pytest.mark.parametrize("stage", list(Stage))
def test_the_panel_needs_nothing_from_the_network_and_runs_no_code(stage: Stage) -> None:
    for final in (False, True):
        markup = panel_html(state(stage=stage, fraction=0.3), final=final)
        assert "<script" not in markup and "<style" not in markup and "<link" not in markup
        assert "http://" not in markup and "https://" not in markup and "url(" not in markup
        assert len(markup) < 4096
