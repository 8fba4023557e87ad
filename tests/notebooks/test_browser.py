"""The saved notebook, as a person sees it: nbconvert HTML opened in headless Chromium.

The quickstart notebook is executed in a real kernel (shared with test_notebooks.py), exported
to HTML with nbconvert as a user or a static site would, and opened in Debian's ``chromium``
with no network (the widget JavaScript that nbconvert links from a CDN cannot load). A small
probe added to the page reports, from the DOM after layout, every progress summary: its state,
its text, whether it is visible, and how its bar is drawn.

Chromium comes from Debian (``apt-get install -y chromium``); ``.ci/run`` installs it and sets
``DATAFERRY_REQUIRE_BROWSER=1``, which turns a missing browser into a failure instead of a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executable names tried, in order."""

REQUIRE_ENV = "DATAFERRY_REQUIRE_BROWSER"
"""Set to ``1`` to fail (not skip) when no browser is installed."""

BROWSER_TIMEOUT = 120
"""Seconds the browser may take to load and dump the page."""

SUCCESS_RGB = "rgb(46, 125, 50)"

PROBE = """
<script>
window.addEventListener("load", function () {
  var found = [];
  document.querySelectorAll(".dataferry-summary").forEach(function (el) {
    el.scrollIntoView();
    var box = el.getBoundingClientRect(), css = getComputedStyle(el);
    var track = el.querySelector(".dataferry-bar"), fill = track ? track.firstElementChild : null;
    var hit = document.elementFromPoint(box.left + 8, box.top + box.height / 2);
    found.push({
      state: el.getAttribute("data-state"),
      text: el.innerText,
      visible: css.display !== "none" && css.visibility !== "hidden" && box.width > 0 && box.height > 0,
      on_top: !!hit && el.contains(hit),
      track: track ? track.getBoundingClientRect().width : 0,
      fill: fill ? fill.getBoundingClientRect().width : 0,
      colour: fill ? getComputedStyle(fill).backgroundColor : ""
    });
  });
  document.body.setAttribute("data-dataferry-probe", JSON.stringify(found));
});
</script>
"""
"""Reports every summary from the rendered DOM into an attribute of ``<body>``."""


def find_browser() -> str | None:
    """The first Chromium-like browser on ``PATH``."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture
def browser() -> str:
    path = find_browser()
    if path is None:
        message = (
            "headless Chromium is not installed: run `apt-get install -y chromium` "
            f"(.ci/run does, and sets {REQUIRE_ENV}=1 so that a missing browser fails)"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class BodyProbe(HTMLParser):
    """Finds the probe's attribute on ``<body>`` in a DOM dump."""

    def __init__(self) -> None:
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.value = dict(attrs).get("data-dataferry-probe")


def rendered_summaries(browser: str, page: Path, workdir: Path) -> list[dict[str, Any]]:
    """Open ``page`` in headless Chromium and return what the probe saw."""
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={workdir / 'profile'}",
            "--window-size=1200,2000",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        env={**os.environ, "HOME": str(workdir)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    probe = BodyProbe()
    probe.feed(run.stdout)
    assert probe.value is not None, "the page's probe did not run: " + run.stdout[:500]
    return json.loads(probe.value)


def test_saved_notebook_shows_the_finished_summaries_in_a_browser(
    browser: str, executed: Callable[[Path], Any], tmp_path: Path
) -> None:
    nb = executed(NOTEBOOK)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert "dataferry-summary" in body
    page = tmp_path / "quickstart.html"
    page.write_text(body.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    found = rendered_summaries(browser, page, tmp_path)
    done = [s for s in found if s["state"] == "done"]
    failed = [s for s in found if s["state"] == "failed"]
    assert done and failed, found
    for s in found:
        assert s["visible"] and s["on_top"], s
    for s in done:  # a failed job with no figure has no bar: a full one would read as 100 % done
        assert s["track"] > 100 and s["fill"] > 0, s
    for s in failed:
        assert s["track"] == 0, s
    for s in done:
        assert "done" in s["text"] and "brightdata snapshot s_" in s["text"]
        assert s["fill"] == pytest.approx(s["track"], abs=1) and s["colour"] == SUCCESS_RGB
    assert any("rows" in s["text"] and "parts" in s["text"] for s in done)
    assert any("Blocked by the target site" in s["text"] for s in failed)
