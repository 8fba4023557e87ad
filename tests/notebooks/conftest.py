"""Running the teaching notebooks in a real Jupyter kernel, once per test session.

Every ``notebooks/*.ipynb`` is picked up (new notebooks need no change here). Each runs top
to bottom with nbclient in a fresh ``python3`` ipykernel, in a temporary working directory,
with a temporary dataferry cache, the automatic progress choice (``DATAFERRY_PROGRESS`` is
removed from the kernel's environment) and the widget state stored, as JupyterLab would save
it. The executed copy is cached so that several tests (and the browser check) share one run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

CELL_TIMEOUT = 300
"""Seconds one cell may run before the notebook counts as hung."""


def kernel_env(cache: Path, **overrides: str) -> dict[str, str]:
    """The kernel's environment: this one, less the test suite's ``DATAFERRY_PROGRESS=off``."""
    env = {k: v for k, v in os.environ.items() if k != "DATAFERRY_PROGRESS"}
    env["DATAFERRY_CACHE_DIR"] = str(cache)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.update(overrides)
    return env


def execute(nb: nbformat.NotebookNode, workdir: Path, **env: str) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh ``python3`` kernel in ``workdir``; returns the executed notebook."""
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=kernel_env(workdir / ".dataferry-cache", **env))
    return nb


@pytest.fixture(scope="session")
def run_notebook() -> Callable[..., nbformat.NotebookNode]:
    """``run_notebook(nb, workdir, **env)`` → ``nb`` executed in a fresh kernel (see :func:`execute`)."""
    return execute


@pytest.fixture(scope="session")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], nbformat.NotebookNode]:
    """``executed(path)`` → that notebook after a full run (run once per session)."""
    runs: dict[Path, nbformat.NotebookNode | Exception] = {}

    def run(path: Path) -> nbformat.NotebookNode:
        if path not in runs:
            nb = nbformat.read(path, as_version=4)
            try:
                runs[path] = execute(nb, tmp_path_factory.mktemp(path.stem))
            except Exception as exc:  # every test of a broken notebook reports the same failure
                runs[path] = exc
        result = runs[path]
        if isinstance(result, Exception):
            raise result
        return result

    return run
