"""The house rules, run as tests: lint, format, types and import layers (docs/internals.md, "House rules").

Each check runs the tool of this environment over the working tree, exactly as a developer runs it by hand,
with the settings of ``pyproject.toml``; a failure prints the tool's own report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TOOL_SECONDS = 300

MAX_MODULE_LINES = 500
"""A module longer than this states why in ``LONG_MODULES``."""

LONG_MODULES = {
    "dataferry/decode.py": "one streaming decoder: its read plans, the restart protocol and the CSV, NDJSON "
    "and JSON-array readers share the bounded-reading and typing helpers (548 lines after ruff format)",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m <tool> ...`` from the repository root, importing this tree's ``dataferry``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TOOL_SECONDS, check=False
    )


def report(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(result.args[1:])
    return f"`{command}` exited {result.returncode}:\n{result.stdout}{result.stderr}"


def test_ruff_check_is_clean() -> None:
    result = run("-m", "ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, report(result)


def test_ruff_format_leaves_the_tree_as_it_is() -> None:
    result = run("-m", "ruff", "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, report(result)


def test_mypy_is_clean_on_the_package(tmp_path: Path) -> None:
    result = run("-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, report(result)
    assert "Success: no issues found" in result.stdout, report(result)


LINT_IMPORTS = (
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
    "--no-cache",
    "--no-logo",
)


def test_every_import_contract_is_kept() -> None:
    """The layers of docs/internals.md, Job free of pyarrow, vendors independent, the emulator apart."""
    result = run(*LINT_IMPORTS)
    assert result.returncode == 0, report(result)
    assert "4 kept, 0 broken" in result.stdout, report(result)


def test_no_module_is_long_without_a_reason() -> None:
    lengths = {
        str(p.relative_to(ROOT)).replace(os.sep, "/"): len(p.read_text(encoding="utf-8").splitlines())
        for p in (ROOT / "dataferry").rglob("*.py")
    }
    long = {path: n for path, n in lengths.items() if n > MAX_MODULE_LINES and path not in LONG_MODULES}
    assert not long, f"split these by what they hold, or say why in LONG_MODULES: {long}"
    assert set(LONG_MODULES) <= set(lengths), "LONG_MODULES names a module that is gone"
