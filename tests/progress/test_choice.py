"""Which renderer a call gets: the whole matrix of kernel × ipywidgets × TTY × env var × argument.

Nothing here depends on the machine the tests run on: kernel, ipywidgets, TTY and the
environment are injected.
"""

from __future__ import annotations

import itertools

import pytest

from dataferry.errors import ConfigurationError, InvalidArgument
from dataferry.progress import MODES, Progress, make_renderer, resolve_mode
from dataferry.progress.html import HtmlRenderer
from dataferry.progress.renderers import LogRenderer, NullRenderer, TqdmRenderer
from dataferry.progress.widget import WidgetRenderer

AUTOMATIC = {
    # (kernel, ipywidgets >= 8, TTY): renderer
    (True, True, True): "widget",
    (True, True, False): "widget",
    (True, False, True): "html",
    (True, False, False): "html",
    (False, True, True): "tqdm",
    (False, False, True): "tqdm",
    (False, True, False): "log",
    (False, False, False): "log",
}
"""What the automatic choice must give in each environment (the issue's rule, written out)."""

ENVIRONMENTS = list(itertools.product([True, False], repeat=3))
EXPLICIT = ("widget", "html", "tqdm", "log", "off")


def drawable(mode: str, kernel: bool, widgets: bool) -> bool:
    """Whether an explicitly asked-for mode can draw in this environment."""
    if mode in ("widget", "html") and not kernel:
        return False
    return not (mode == "widget" and not widgets)


@pytest.mark.parametrize("kernel,widgets,tty", ENVIRONMENTS)
@pytest.mark.parametrize(
    "env",
    [{}, {"DATAFERRY_PROGRESS": ""}, {"DATAFERRY_PROGRESS": "auto"}, {"DATAFERRY_PROGRESS": "  "}, {"OTHER": "x"}],
)
def test_automatic_choice(kernel: bool, widgets: bool, tty: bool, env: dict[str, str]) -> None:
    got = resolve_mode(None, env=env, kernel=kernel, widgets=widgets, tty=tty)
    assert got == AUTOMATIC[(kernel, widgets, tty)]


@pytest.mark.parametrize("kernel,widgets,tty", ENVIRONMENTS)
@pytest.mark.parametrize("arg", [True, "auto", Progress(), Progress("auto", keep_widget=True)])
def test_asking_for_automatic_on_the_call_is_the_automatic_choice(
    kernel: bool, widgets: bool, tty: bool, arg: object
) -> None:
    env = {"DATAFERRY_PROGRESS": "off"}  # the call wins over the environment
    assert resolve_mode(arg, env=env, kernel=kernel, widgets=widgets, tty=tty) == AUTOMATIC[(kernel, widgets, tty)]


@pytest.mark.parametrize("kernel,widgets,tty", ENVIRONMENTS)
@pytest.mark.parametrize("mode", EXPLICIT)
def test_environment_variable_wins_over_the_automatic_choice(kernel: bool, widgets: bool, tty: bool, mode: str) -> None:
    env = {"DATAFERRY_PROGRESS": mode}
    if drawable(mode, kernel, widgets):
        assert resolve_mode(None, env=env, kernel=kernel, widgets=widgets, tty=tty) == mode
    else:
        with pytest.raises(ConfigurationError) as info:
            resolve_mode(None, env=env, kernel=kernel, widgets=widgets, tty=tty)
        assert "DATAFERRY_PROGRESS" in str(info.value)
        assert ("ipywidgets" if kernel else "Jupyter kernel") in str(info.value)


@pytest.mark.parametrize("kernel,widgets,tty", ENVIRONMENTS)
@pytest.mark.parametrize("env_mode", [None, *EXPLICIT])
@pytest.mark.parametrize("mode", EXPLICIT)
def test_the_call_wins_over_the_environment_variable(
    kernel: bool, widgets: bool, tty: bool, env_mode: str | None, mode: str
) -> None:
    env = {} if env_mode is None else {"DATAFERRY_PROGRESS": env_mode}
    for arg in (mode, Progress(mode)):
        if drawable(mode, kernel, widgets):
            assert resolve_mode(arg, env=env, kernel=kernel, widgets=widgets, tty=tty) == mode
        else:
            with pytest.raises(ConfigurationError) as info:
                resolve_mode(arg, env=env, kernel=kernel, widgets=widgets, tty=tty)
            assert f"progress='{mode}'" in str(info.value) and info.value.hint


@pytest.mark.parametrize("kernel,widgets,tty", ENVIRONMENTS)
def test_false_is_off_everywhere(kernel: bool, widgets: bool, tty: bool) -> None:
    assert resolve_mode(False, env={"DATAFERRY_PROGRESS": "widget"}, kernel=kernel, widgets=widgets, tty=tty) == "off"


@pytest.mark.parametrize("value", ["Widget", "LOG", "bar", "tqdm_notebook", "1", "true", "notebook"])
def test_an_unknown_environment_value_is_an_error_naming_the_valid_ones(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_mode(None, env={"DATAFERRY_PROGRESS": value}, kernel=True, widgets=True, tty=True)
    message = str(info.value)
    assert repr(value) in message
    for mode in MODES:
        assert mode in message


@pytest.mark.parametrize("value", ["bars", "Widget", 3, 0.5, ["log"]])
def test_an_unknown_argument_is_an_invalid_argument(value: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        resolve_mode(value, env={}, kernel=False, widgets=False, tty=False)
    for mode in MODES:
        assert mode in str(info.value)


def test_progress_options_check_their_mode() -> None:
    with pytest.raises(InvalidArgument, match="widget"):
        Progress("widgets")


def test_the_environment_is_read_when_not_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAFERRY_PROGRESS", "log")
    assert resolve_mode(None, kernel=True, widgets=True, tty=True) == "log"
    monkeypatch.setenv("DATAFERRY_PROGRESS", "nope")
    with pytest.raises(ConfigurationError):
        resolve_mode(None, kernel=True, widgets=True, tty=True)


@pytest.mark.parametrize(
    "kernel,widgets,tty,expected",
    [
        (k, w, t, {"widget": WidgetRenderer, "html": HtmlRenderer, "tqdm": TqdmRenderer, "log": LogRenderer}[m])
        for (k, w, t), m in AUTOMATIC.items()
    ],
)
def test_make_renderer_builds_the_chosen_renderer(kernel: bool, widgets: bool, tty: bool, expected: type) -> None:
    renderer = make_renderer(None, env={}, kernel=kernel, widgets=widgets, tty=tty)
    assert type(renderer) is expected
    assert type(make_renderer("off", env={}, kernel=kernel, widgets=widgets, tty=tty)) is NullRenderer


def test_keep_widget_reaches_the_widget_renderer() -> None:
    kept = make_renderer(Progress("widget", keep_widget=True), env={}, kernel=True, widgets=True, tty=False)
    assert isinstance(kept, WidgetRenderer) and kept.keep_widget is True
    swapped = make_renderer("widget", env={}, kernel=True, widgets=True, tty=False)
    assert isinstance(swapped, WidgetRenderer) and swapped.keep_widget is False
    forced = make_renderer("widget", keep_widget=True, env={}, kernel=True, widgets=True, tty=False)
    assert forced.keep_widget is True


def test_a_renderer_object_is_used_as_given() -> None:
    mine = LogRenderer()
    assert make_renderer(mine, env={"DATAFERRY_PROGRESS": "nope"}) is mine


def test_outside_a_kernel_the_real_environment_never_picks_a_notebook_renderer() -> None:
    # pytest is not a Jupyter kernel: whatever the terminal, the automatic choice is tqdm or log
    assert resolve_mode(None, env={}) in ("tqdm", "log")
