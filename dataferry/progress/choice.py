"""Which renderer to use: ``progress=`` on the call, then ``DATAFERRY_PROGRESS``, then a guess."""

from __future__ import annotations

import os
import sys
from typing import Any

from dataferry.errors import ConfigurationError, InvalidArgument
from dataferry.progress.renderers import LogRenderer, NullRenderer, TqdmRenderer
from dataferry.progress.reporter import Renderer

ENV_VAR = "DATAFERRY_PROGRESS"
"""Environment variable that picks the renderer when a call does not."""

MODES = ("auto", "tqdm", "log", "off")
"""The renderer names accepted by ``progress=`` and ``DATAFERRY_PROGRESS``."""


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter kernel."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel implies IPython
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def is_tty() -> bool:
    """Whether standard error is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def resolve_mode(progress: Any = None, *, env: dict[str, str] | None = None) -> str:
    """The mode name for a ``progress=`` argument.

    Args:
        progress: ``None`` (ask the environment), ``True`` / ``False``, or a mode name.
        env: environment to read (``os.environ`` by default).

    Raises:
        InvalidArgument: an unknown ``progress=`` value.
        ConfigurationError: an unknown ``DATAFERRY_PROGRESS`` value.

    Example:
        >>> resolve_mode(False)
        'off'
    """
    if progress is True:
        progress = "auto"
    elif progress is False:
        progress = "off"
    if progress is not None:
        if not isinstance(progress, str) or progress.strip().lower() not in MODES:
            raise InvalidArgument(f"progress={progress!r} is not one of {', '.join(MODES)}")
        mode = progress.strip().lower()
    else:
        raw = (env if env is not None else os.environ).get(ENV_VAR)
        if raw is None or raw.strip() == "":
            mode = "auto"
        elif raw.strip().lower() in MODES:
            mode = raw.strip().lower()
        else:
            raise ConfigurationError(f"{ENV_VAR}={raw!r} is not one of {', '.join(MODES)}")
    if mode == "auto":
        if in_kernel():
            return "tqdm_notebook"
        return "tqdm" if is_tty() else "log"
    return mode


def make_renderer(progress: Any = None) -> Renderer:
    """A renderer for ``progress=`` (a mode name, a bool, ``None`` or a renderer object)."""
    if hasattr(progress, "draw") and hasattr(progress, "close"):
        return progress
    mode = resolve_mode(progress)
    if mode == "off":
        return NullRenderer()
    if mode == "log":
        return LogRenderer()
    return TqdmRenderer(notebook=(mode == "tqdm_notebook"))
