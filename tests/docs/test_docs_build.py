"""The documentation site builds with ``mkdocs build --strict``: every page in the nav exists,
every link and anchor resolves, and the API reference renders from the docstrings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUILD_TIMEOUT = 300
"""Seconds the build may take."""


def test_docs_build_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]

    for page in (
        "index.html",
        "getting-started.html",
        "concepts/progress.html",
        "vendors/brightdata.html",
        "errors.html",
        "performance.html",
        "troubleshooting.html",
        "internals.html",
    ):
        assert (site / page).is_file(), page
    # the API reference is generated from the code's docstrings
    jobs = (site / "reference" / "jobs.html").read_text(encoding="utf-8")
    assert "to_parquet" in jobs and "Write every part to Parquet" in jobs
    progress = (site / "reference" / "progress.html").read_text(encoding="utf-8")
    assert "resolve_mode" in progress and "WidgetRenderer" in progress
    vendors = (site / "reference" / "vendors.html").read_text(encoding="utf-8")
    assert "dataferry.providers.brightdata" in vendors and "Trigger a collection" in vendors
    # the stage-by-stage description of the widget is part of the site
    concepts = (site / "concepts" / "progress.html").read_text(encoding="utf-8")
    for stage in ("submitted", "queued", "running", "downloading", "writing", "done", "failed", "cancelled"):
        assert f"<td>{stage}</td>" in concepts, stage
