"""Which renderer to use. The first that applies wins:

1. ``progress=`` on the call (or the client's ``progress=`` default);
2. the ``DATAFERRY_PROGRESS`` environment variable (``widget``, ``html``, ``tqdm``, ``log``,
   ``off`` or ``auto``; anything else is an error that names the valid values);
3. automatic: in a Jupyter kernel with ipywidgets ≥ 8 → ``widget``; in a kernel without
   ipywidgets → ``html``; in a terminal (standard error is a TTY) → ``tqdm``; otherwise → ``log``.

:func:`resolve_mode` and :func:`make_renderer` are the only places that decide. What they look
at (kernel, ipywidgets, TTY, environment) can be injected, so the whole matrix is testable
anywhere.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataferry.errors import ConfigurationError, InvalidArgument
from dataferry.progress.reporter import Renderer

ENV_VAR = "DATAFERRY_PROGRESS"
"""Environment variable that picks the renderer when a call does not."""

MODES = ("auto", "widget", "html", "tqdm", "log", "off")
"""The renderer names accepted by ``progress=`` and ``DATAFERRY_PROGRESS``."""

WIDGETS_MIN_MAJOR = 8
"""Oldest ipywidgets major version the widget renderer supports."""

KERNEL_MODES = ("widget", "html")
"""Modes that draw through a Jupyter kernel's display machinery."""


@dataclass(frozen=True)
class Progress:
    """Progress settings for one call or a client's default, where a mode name is not enough.

    Args:
        mode: one of :data:`MODES`.
        keep_widget: with the widget renderer, leave the live widget in the output when the
            operation ends instead of swapping it for the static HTML summary.

    Example:
        >>> from dataferry.progress import Progress
        >>> snap.to_parquet("out/", progress=Progress("widget", keep_widget=True))  # doctest: +SKIP
        >>> Progress(keep_widget=True).mode
        'auto'
    """

    mode: str = "auto"
    keep_widget: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidArgument(f"Progress(mode={self.mode!r}): the mode must be one of {', '.join(MODES)}")


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel implies IPython
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def widgets_available() -> bool:
    """Whether ipywidgets ≥ 8 is installed (checked without importing it)."""
    if importlib.util.find_spec("ipywidgets") is None:
        return False
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("ipywidgets").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return False
    return major >= WIDGETS_MIN_MAJOR


def is_tty() -> bool:
    """Whether standard error is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _named(value: str, where: str, error: type[Exception]) -> str:
    mode = value.strip()
    if mode not in MODES:
        raise error(f"{where}={value!r} is not a progress mode; use one of: {', '.join(MODES)}")
    return mode


def resolve_mode(
    progress: Any = None,
    *,
    env: Mapping[str, str] | None = None,
    kernel: bool | None = None,
    widgets: bool | None = None,
    tty: bool | None = None,
) -> str:
    """The renderer name for a ``progress=`` value: ``widget``, ``html``, ``tqdm``, ``log`` or ``off``.

    Args:
        progress: ``None`` (ask the environment), ``True`` (automatic) / ``False`` (off), a mode
            name, or a :class:`Progress`.
        env: environment to read (``os.environ`` by default).
        kernel: whether a Jupyter kernel runs this code (detected when ``None``).
        widgets: whether ipywidgets ≥ 8 is installed (detected when ``None``).
        tty: whether standard error is a terminal (detected when ``None``).

    Returns:
        The mode to draw with.

    Raises:
        InvalidArgument: ``progress=`` is not a mode (the message lists them).
        ConfigurationError: ``DATAFERRY_PROGRESS`` is not a mode, or the mode asked for cannot
            draw here (``widget`` without ipywidgets ≥ 8; ``widget``/``html`` outside a kernel).

    Example:
        >>> resolve_mode(False)
        'off'
        >>> resolve_mode(None, env={}, kernel=True, widgets=False, tty=False)
        'html'
        >>> resolve_mode(None, env={"DATAFERRY_PROGRESS": "log"}, kernel=True, widgets=True, tty=True)
        'log'
    """
    if isinstance(progress, Progress):
        progress = progress.mode
    if progress is True:
        progress = "auto"
    elif progress is False:
        progress = "off"
    if progress is not None:
        if not isinstance(progress, str):
            raise InvalidArgument(
                f"progress={progress!r} is not a progress mode; use one of: {', '.join(MODES)}, "
                "True, False or a Progress(...)"
            )
        mode = _named(progress, "progress", InvalidArgument)
        source = f"progress={mode!r}"
    else:
        raw = (env if env is not None else os.environ).get(ENV_VAR)
        mode = "auto" if raw is None or raw.strip() == "" else _named(raw, ENV_VAR, ConfigurationError)
        source = f"{ENV_VAR}={mode}"
    if mode == "off":
        return mode
    kernel = in_kernel() if kernel is None else kernel
    if mode == "auto":
        if kernel:
            has_widgets = widgets_available() if widgets is None else widgets
            return "widget" if has_widgets else "html"
        return "tqdm" if (is_tty() if tty is None else tty) else "log"
    if mode in KERNEL_MODES and not kernel:
        raise ConfigurationError(
            f"{source} draws in a Jupyter notebook, but this code does not run in a Jupyter kernel",
            hint="use progress='tqdm' in a terminal, 'log' in scripts and CI, or leave it automatic",
        )
    if mode == "widget" and not (widgets_available() if widgets is None else widgets):
        raise ConfigurationError(
            f"{source} needs ipywidgets {WIDGETS_MIN_MAJOR} or later",
            hint="pip install 'ipywidgets>=8' (then restart the kernel), or use progress='html'",
        )
    return mode


def make_renderer(
    progress: Any = None,
    *,
    keep_widget: bool | None = None,
    env: Mapping[str, str] | None = None,
    kernel: bool | None = None,
    widgets: bool | None = None,
    tty: bool | None = None,
) -> Renderer:
    """A renderer for ``progress=``.

    Args:
        progress: a mode name, ``True`` / ``False`` / ``None``, a :class:`Progress`, or a ready
            renderer (any object with ``draw`` and ``close``), which is returned as it is.
        keep_widget: overrides the :class:`Progress` setting (widget renderer only).
        env, kernel, widgets, tty: see :func:`resolve_mode`.

    Raises:
        InvalidArgument, ConfigurationError: see :func:`resolve_mode`.

    Example:
        >>> type(make_renderer("log")).__name__
        'LogRenderer'
    """
    if hasattr(progress, "draw") and hasattr(progress, "close"):
        return progress
    mode = resolve_mode(progress, env=env, kernel=kernel, widgets=widgets, tty=tty)
    if keep_widget is None:
        keep_widget = progress.keep_widget if isinstance(progress, Progress) else False
    from dataferry.progress import renderers

    if mode == "off":
        return renderers.NullRenderer()
    if mode == "log":
        in_notebook = in_kernel() if kernel is None else kernel
        return renderers.LogRenderer(sys.stdout if in_notebook else None)
    if mode == "tqdm":
        return renderers.TqdmRenderer()
    if mode == "html":
        from dataferry.progress.html import HtmlRenderer

        return HtmlRenderer()
    from dataferry.progress.widget import WidgetRenderer

    return WidgetRenderer(keep_widget=keep_widget)
