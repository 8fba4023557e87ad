"""Every teaching notebook runs top to bottom in a real kernel and leaves a notebook worth saving.

Parametrized over ``notebooks/*.ipynb``: a notebook added by anyone is checked with no change
here. What each notebook must do (also in docs/notebooks.md):

* be stored without outputs or execution counts;
* run cleanly offline against the emulator it starts itself: no error output, no traceback
  or warning on stderr;
* leave at least one finished progress summary (run at least one job long enough for the
  panel to appear: a few seconds of emulator time) and no panel still "running";
* leave its progress widgets, as saved in the notebook's widget state, at their end;
* keep its outputs small, and free of any credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from dataferry import emulator
from dataferry.progress.widget import BAR_CLASS, PANEL_CLASS, WIDGET_MIME

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
"""Every teaching notebook, found by glob."""

OUTPUT_BUDGET = 512 * 1024
"""Bytes (as JSON) all outputs of one executed notebook may take."""

WIDGET_STATE_BUDGET = 256 * 1024
"""Bytes (as JSON) the saved widget state of one notebook may take."""

SUMMARY_BUDGET = 4 * 1024
"""Bytes one progress summary may take."""

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FINAL_STYLES = ("success", "danger", "warning")

ids = [p.name for p in NOTEBOOKS]


def outputs(nb: nbformat.NotebookNode) -> list[Any]:
    """Every output of every code cell, in order."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def widget_models(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The saved widget state: model id → ``{"model_name", "state", ...}``."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def dataferry_bars(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """States of the progress bars dataferry drew (found by their DOM class)."""
    return [
        m["state"]
        for m in widget_models(nb).values()
        if m.get("model_name") == "FloatProgressModel" and BAR_CLASS in m["state"].get("_dom_classes", [])
    ]


def summaries(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The static progress summaries left in the outputs."""
    return [out["data"] for out in outputs(nb) if "dataferry-summary" in str(out.get("data", {}).get("text/html", ""))]


def emulator_credentials(tmp: Path) -> set[str]:
    """Every credential the vendors' emulators accept by default."""
    found: set[str] = set()
    for vendor in emulator.VENDORS:
        try:
            app = emulator.app_class(vendor)(data_dir=tmp / vendor)
        except ValueError:  # that vendor's emulator is not in this version yet
            continue
        found.update(v for v in app.credentials().values() if isinstance(v, str) and len(v) >= 8)
    return found


def test_the_notebooks_are_found() -> None:
    assert "quickstart.ipynb" in ids, f"no quickstart among {ids}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and any(c.cell_type == "markdown" for c in nb.cells)
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs stored"
    assert WIDGET_STATE not in json.dumps(nb.metadata), f"{path.name}: widget state stored"
    source = "".join(c.source for c in code)
    assert "emulator.start(" in source or "emulator.serve(" in source, f"{path.name}: starts no emulator"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_runs_top_to_bottom_without_errors(path: Path, executed: Callable[[Path], Any]) -> None:
    nb = executed(path)
    errors = [o for o in outputs(nb) if o.output_type == "error"]
    assert errors == []
    for out in outputs(nb):
        if out.output_type == "stream" and out.name == "stderr":
            assert not re.search(r"Traceback|Warning:", out.text), f"{path.name} stderr: {out.text[:500]}"
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_leaves_a_finished_summary_and_no_live_panel(path: Path, executed: Callable[[Path], Any]) -> None:
    nb = executed(path)
    found = summaries(nb)
    assert any("data-state='done'" in s["text/html"] for s in found), f"{path.name}: no finished summary"
    for s in found:
        assert s["text/plain"].split(":")[0].split()[0] in emulator.VENDORS  # "<vendor> <kind> <id>: <state> · ..."
        assert re.search(r": (done|failed|cancelled) · ", s["text/plain"])
    for out in outputs(nb):
        data = out.get("data", {})
        assert "dataferry-live" not in str(data.get("text/html", "")), f"{path.name}: a panel never finished"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_saved_widget_state_shows_each_bar_at_its_end(path: Path, executed: Callable[[Path], Any]) -> None:
    nb = executed(path)
    bars = dataferry_bars(nb)
    assert bars, f"{path.name}: no progress widget was drawn (is every job shorter than a second?)"
    for bar in bars:
        assert bar["bar_style"] in FINAL_STYLES, f"{path.name}: a bar was left {bar['bar_style']!r}"
        if bar["bar_style"] == "success":
            assert bar["value"] == bar["max"]
    assert any(b["bar_style"] == "success" for b in bars)
    panels = [m for m in widget_models(nb).values() if PANEL_CLASS in m["state"].get("_dom_classes", [])]
    assert len(panels) == len(bars)
    # a widget left in the outputs (keep_widget=True) must say how it ended in text as well
    for out in outputs(nb):
        if WIDGET_MIME in out.get("data", {}):
            assert re.search(r": (done|failed|cancelled) · ", out["data"].get("text/plain", ""))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_outputs_stay_small_and_free_of_credentials(
    path: Path, executed: Callable[[Path], Any], tmp_path: Path
) -> None:
    nb = executed(path)
    shown = json.dumps(outputs(nb))
    assert len(shown) <= OUTPUT_BUDGET, f"{path.name}: {len(shown):,} bytes of outputs"
    state = json.dumps(widget_models(nb))
    assert len(state) <= WIDGET_STATE_BUDGET, f"{path.name}: {len(state):,} bytes of widget state"
    for s in summaries(nb):
        assert len(s["text/html"]) + len(s["text/plain"]) <= SUMMARY_BUDGET
    everything = shown + state
    for secret in emulator_credentials(tmp_path):
        assert secret not in everything, f"{path.name}: a credential appears in the outputs"


OFF_CELLS = [
    """from dataferry import brightdata, emulator
emu = emulator.start("brightdata", start_after=0.5, ready_after=2.0, records_per_input=1000)
bd = brightdata.Client(**emu.client_kwargs())
inputs = [{"url": f"https://shop.example.com/product/{k}"} for k in range(3)]""",
    # progress="off" on the calls
    """snap = bd.trigger("gd_l1viktl72bvl7bjuj0", inputs, batch_size=1000)
snap.wait(progress="off")
df = snap.to_pandas(progress="off", cache=False)""",
    # DATAFERRY_PROGRESS=off in the kernel's environment
    """import os
os.environ["DATAFERRY_PROGRESS"] = "off"
snap2 = bd.trigger("gd_l1viktl72bvl7bjuj0", inputs, batch_size=1000)
df2 = snap2.to_pandas(cache=False)""",
    # control: the automatic choice in the same kernel does draw
    """del os.environ["DATAFERRY_PROGRESS"]
snap3 = bd.trigger("gd_l1viktl72bvl7bjuj0", inputs, batch_size=1000)
df3 = snap3.to_pandas(cache=False)""",
    """assert len(df) == len(emu.app.records(snap.id)) > 0 and len(df2) == len(df3) == len(df)
bd.close()
emu.stop()""",
]


def test_progress_off_emits_nothing(run_notebook: Callable[..., Any], tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in OFF_CELLS])
    run_notebook(nb, tmp_path)
    off_by_argument, off_by_environment, control = (nb.cells[i].outputs for i in (1, 2, 3))
    assert off_by_argument == [] and off_by_environment == []
    assert [o for o in control if "dataferry-summary" in str(o.get("data", {}))], "the control drew nothing"
    assert len(dataferry_bars(nb)) == 1  # the control's only
    assert nb.cells[4].outputs == []
