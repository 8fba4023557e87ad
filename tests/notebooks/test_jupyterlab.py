"""What an analyst sees in a real JupyterLab (issue #17): the live panel while a job waits and
while its parts download, the static summary left at the end, and what "interrupt kernel" leaves
behind, read from the DOM of JupyterLab 4 in headless Chromium, in the light and the dark theme.

The harness: one JupyterLab server for the session (127.0.0.1, a free port, a random token, its
config, settings, workspaces, runtime files and the notebooks in one temporary directory; the
news prompt switched off, notebook windowing off so every cell stays in the DOM), stopped and
removed at the end whatever happens; one Playwright browser for the module: Debian's
``chromium`` launched through ``executable_path`` (Playwright cannot download browsers here).
The kernel inherits the server's environment, so ``PYTHONPATH`` decides which dataferry it
imports and ``DATAFERRY_PROGRESS`` is removed (the automatic choice: the ipywidgets panel).

Each notebook is written with nbformat; its first cell starts the embedded Bright Data emulator.
A cell is run as a user runs it (select it, Shift+Enter); while it runs, a probe reads the cell's
output area every :data:`POLL` seconds (state, state word, detail line, bar geometry and colours)
into a history the tests assert on; "interrupt" is the notebook toolbar's button. Every wait has
a deadline; no test sleeps and hopes.

The DOM read here: the live panel ``.dataferry-live`` (its state in ``data-state`` or, for the
ipywidgets panel, which cannot carry attributes, in a ``dataferry-stage-<state>`` class), the
summary ``.dataferry-summary[data-state]``, a status card ``.dataferry-job[data-state]``, and in
each the state word ``.dataferry-state``, the bar ``.dataferry-bar`` and the detail line
``.dataferry-detail``; the re-attach line ``.dataferry-reattach``; the error output
``.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]``; a DataFrame's
``table.dataframe`` (row heights, and the lines each cell's text is laid out on).

Needs ``jupyterlab`` and ``playwright`` (the ``test`` extra) and Debian's ``chromium``;
``DATAFERRY_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns a missing one into a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]

REQUIRE_ENV = "DATAFERRY_REQUIRE_BROWSER"
"""Set to ``1`` to fail (not skip) when JupyterLab, Playwright or Chromium is missing."""

TRACE_ENV = "DATAFERRY_LAB_TRACE"
"""A directory: each scenario's DOM history (``<name>.json``) and last screenshot (``<name>.png``)
are written there, for a person to see what the page showed."""

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executable names tried, in order."""

SERVER_START = 60.0
"""Seconds JupyterLab may take to answer ``/api/status``."""

SERVER_STOP = 10.0
"""Seconds JupyterLab may take to shut down (and its kernels) after SIGTERM before SIGKILL."""

PAGE_LOAD = 45.0
"""Seconds a notebook page may take to show its cells with the kernel idle."""

CELL_RUN = 45.0
"""Seconds one scenario cell may run."""

POLL = 0.2
"""Seconds between two reads of a cell's output."""

INTERRUPT_AFTER = 6.0
"""Seconds after which a scenario presses Interrupt even if the live panel it waits for never
showed (the assertions then say what was shown instead)."""

INTERRUPT_GRACE = 15.0
"""Seconds an overrunning cell is given to stop after Interrupt before the next scenario runs."""

LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
THEMES_PLUGIN = "@jupyterlab/apputils-extension:themes"

WCAG_AA = 4.5
"""Smallest contrast ratio of normal text against its background (WCAG 2 AA)."""

STDERR = "application/vnd.jupyter.stderr"

INTERNALS = ("job.py", "wait.py", "pool.py", "queue.py", "threading.py", "datajob.py", "pipeline.py")
"""File names that must not appear in the error a user sees after an interrupt."""

REATTACH = re.compile(r"\s*re-attach: brightdata\.Client\([^)]*\)\.snapshot\('s_\w+'\)\s*")
"""The re-attach code, on a line of its own."""

ELAPSED = re.compile(r"\b(?:(\d+)h)?(?:(\d+)m)?(\d+)s\b")
PARTS = re.compile(r"parts (\d+)/(\d+|\?)")
BYTES = re.compile(r"\b(\d+(?:\.\d+)?) (B|KiB|MiB|GiB)\b")


# -- what is needed, or a skip that says how to get it ----------------------------------------------------
def missing(what: str, how: str) -> None:
    message = f"{what} is not available: {how} (.ci/run does, and sets {REQUIRE_ENV}=1 so that this fails)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message)
    pytest.skip(message)


def find_browser() -> str | None:
    """The first Chromium-like browser on ``PATH``."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


# -- the JupyterLab server ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAB_SETTINGS = {
    # no "Would you like to get notified about official Jupyter news?" toast, no update check
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    # every cell stays in the DOM (windowing would drop the outputs of cells scrolled away)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # nothing writes the notebooks behind the test's back
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": LIGHT},
}
"""User settings of the test's JupyterLab (files in its own settings directory)."""


@dataclass
class Lab:
    """A running JupyterLab: where it listens, its token, the directory it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def page_url(self, notebook: str) -> str:
        # ``reset``: a fresh workspace, so no tab of an earlier page is restored next to this one
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def set_theme(self, theme: str) -> None:
        """Set the theme through the settings API (a page loaded afterwards shows it)."""
        self.api("PUT", f"/lab/api/settings/{THEMES_PLUGIN}", {"raw": json.dumps({"theme": theme})})

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
        nbformat.write(nb, self.root / name)
        return name

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def _lab_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "DATAFERRY_PROGRESS"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "HOME": str(base / "home"),
            "IPYTHONDIR": str(base / "home" / ".ipython"),
            "JUPYTER_CONFIG_DIR": str(base / "config"),
            "JUPYTER_DATA_DIR": str(base / "data"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            "DATAFERRY_CACHE_DIR": str(base / "cache"),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    return env


def _stop(process: subprocess.Popen[bytes], runtime: Path) -> None:
    """SIGTERM (the server shuts its kernels down), SIGKILL after :data:`SERVER_STOP`; then any
    kernel of this server still alive (found by its connection file in our runtime dir) is killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP)
    marker = str(runtime).encode()
    deadline = time.monotonic() + SERVER_STOP
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "cmdline").read_bytes():
                pid = int(proc.name)
                os.kill(pid, signal.SIGTERM)
                while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                    time.sleep(0.1)
                if Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            continue


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 with a token, serving a temporary directory; always stopped and removed."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing("JupyterLab", "pip install -e '.[test]'")
    base = Path(tempfile.mkdtemp(prefix="dataferry-lab-"))
    process: subprocess.Popen[bytes] | None = None
    server: Lab | None = None
    try:
        for sub in ("root", "home", "config", "data", "runtime", "settings", "workspaces", "cache"):
            (base / sub).mkdir()
        for name, values in LAB_SETTINGS.items():
            path = base / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        # no terminals, no language server: nothing the test does not need
        (base / "config" / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"terminals_enabled": False, "jpserver_extensions": {"jupyter_lsp": False}}})
        )
        port, token = free_port(), secrets.token_hex(16)
        log = base / "lab.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyter",
                    "lab",
                    "--no-browser",
                    "--allow-root",
                    "--ServerApp.ip=127.0.0.1",
                    f"--ServerApp.port={port}",
                    "--ServerApp.port_retries=0",
                    f"--IdentityProvider.token={token}",
                    f"--ServerApp.root_dir={base / 'root'}",
                    f"--LabApp.user_settings_dir={base / 'settings'}",
                    f"--LabApp.workspaces_dir={base / 'workspaces'}",
                ],
                cwd=base / "root",
                env=_lab_env(base),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Lab(f"http://127.0.0.1:{port}", token, base / "root", process, log)
        deadline = time.monotonic() + SERVER_START
        while True:
            assert process.poll() is None, f"JupyterLab exited with {process.returncode}:\n{server.tail()}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer within {SERVER_START} s:\n{server.tail()}"
            with contextlib.suppress(OSError, ValueError):
                if "started" in server.api("GET", "/api/status", timeout=2):
                    break
            time.sleep(0.2)
        yield server
    finally:
        if process is not None:
            if server is not None:  # shut the kernels down first (the emulators run inside them)
                with contextlib.suppress(OSError, ValueError):
                    for kernel in server.api("GET", "/api/kernels"):
                        server.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=SERVER_STOP)
            _stop(process, base / "runtime")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's, through ``executable_path``) for the module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright", "pip install -e '.[test]'")
    path = find_browser()
    if path is None:
        missing("headless Chromium", "run `apt-get install -y chromium`")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


# -- reading the page ----------------------------------------------------------------------------------------
PROBE = r"""
(index) => {
  const cells = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  const cell = cells[index];
  if (!cell) return null;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (colour) => {              // any CSS colour (rgb(), color(srgb ...), color-mix) → [r, g, b, a]
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3])).concat([1]);
  const background = (el) => {            // the opaque colour behind el: its and its ancestors' backgrounds
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (el) => {              // el's text colour (with its opacity) against what is behind it
    if (!el) return null;
    const bg = background(el);
    let fg = rgba(getComputedStyle(el).color), alpha = fg[3];
    for (let e = el; e && e !== cell; e = e.parentElement) alpha *= parseFloat(getComputedStyle(e).opacity);
    fg = over([fg[0], fg[1], fg[2], alpha], bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return {ratio: (a + 0.05) / (b + 0.05), fg: fg.slice(0, 3), bg: bg.slice(0, 3), colour: getComputedStyle(el).color};
  };
  const stateOf = (el) => {
    const attr = el.getAttribute('data-state');
    if (attr) return attr;
    const m = [...el.classList].map(c => c.match(/^dataferry-stage-(\w+)$/)).find(Boolean);
    return m ? m[1] : null;
  };
  const visible = (el) => { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
  const bar = (panel) => {
    const bars = [...panel.querySelectorAll('.dataferry-bar')].filter(visible);
    if (!bars.length) return null;
    const el = bars[0];
    const track = el.querySelector('.progress') || el;           // ipywidgets' FloatProgress, or the HTML bar
    const fill = el.querySelector('.progress-bar') || el.firstElementChild;
    if (!fill) return {track: track.getBoundingClientRect().width, fill: 0};
    const css = getComputedStyle(fill);
    return {track: track.getBoundingClientRect().width, fill: fill.getBoundingClientRect().width,
            image: css.backgroundImage, colour: css.backgroundColor, animation: css.animationName,
            widget: !!el.querySelector('.progress-bar')};
  };
  const panel = (el) => {
    const word = el.querySelector('.dataferry-state'), detail = el.querySelector('.dataferry-detail');
    const again = el.querySelector('.dataferry-reattach');
    return {state: stateOf(el), word: word ? word.innerText.trim() : null,
            detail: detail ? detail.innerText.trim() : null, text: el.innerText,
            reattach: again ? again.innerText.trim() : null, bar: bar(el),
            border: getComputedStyle(el).borderLeftColor,
            contrast: {state: contrast(word), detail: contrast(detail)}};
  };
  const all = (sel) => [...cell.querySelectorAll('.jp-OutputArea ' + sel)].map(panel);
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  return {
    prompt: prompt ? prompt.innerText.trim() : '',
    live: all('.dataferry-live'),
    summaries: all('.dataferry-summary'),
    jobs: all('.dataferry-job'),
    cards: cell.querySelectorAll('.jp-OutputArea .dataferry-summary, .jp-OutputArea .dataferry-job').length,
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="STDERR"]')].map(
      e => ({text: e.innerText, height: e.getBoundingClientRect().height})),
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText.slice(0, 300)),
    t: performance.now() / 1000,
  };
}
""".replace("STDERR", STDERR)
"""Everything the tests read from one cell's output, as JSON."""


@dataclass
class Run:
    """One cell's run as the page showed it: a snapshot every :data:`POLL` seconds, and the end."""

    history: list[dict[str, Any]] = field(default_factory=list)
    interrupted_at: dict[str, Any] | None = None

    @property
    def end(self) -> dict[str, Any]:
        return self.history[-1]

    def live(self, *states: str) -> list[dict[str, Any]]:
        """Every live panel seen (in a snapshot), optionally only in ``states``; with the time seen."""
        return [
            {**p, "t": snap["t"]} for snap in self.history for p in snap["live"] if not states or p["state"] in states
        ]

    def shown(self) -> list[str]:
        """The distinct output texts the cell showed (for messages when no panel was found)."""
        seen: list[str] = []
        for snap in self.history:
            for text in snap["outputs"]:
                if text not in seen:
                    seen.append(text)
        return seen

    def states(self) -> list[str]:
        seen: list[str] = []
        for p in self.live():
            if not seen or seen[-1] != p["state"]:
                seen.append(p["state"])
        return seen

    def summary(self) -> dict[str, Any]:
        assert len(self.end["summaries"]) == 1, f"expected one summary: {self.end['outputs']}"
        return self.end["summaries"][0]

    def error(self) -> dict[str, Any]:
        errors = [e for e in self.end["stderr"] if "Interrupt" in e["text"]] or self.end["stderr"]
        assert errors, f"no error output after the interrupt: {self.end['outputs']}"
        return errors[-1]


class Notebook:
    """A notebook open in a page of the browser, with its kernel idle."""

    def __init__(self, page: Any, cells: int) -> None:
        self.page = page
        self.cells = cells

    @classmethod
    def open(cls, browser: Any, lab: Lab, name: str, cells: int) -> Notebook:
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.set_default_timeout(PAGE_LOAD * 1000)
        page.goto(lab.page_url(name))
        nb = cls(page, cells)
        deadline = time.monotonic() + PAGE_LOAD
        while True:
            status = page.evaluate(
                """(n) => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                if (!panel) return null;
                const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                const kernel = panel.querySelector('.jp-KernelName');
                return {cells: panel.querySelectorAll('.jp-Notebook .jp-Cell').length,
                        status: ind && ind.getAttribute('data-status'), kernel: kernel && kernel.innerText,
                        dialog: document.querySelectorAll('.jp-Dialog').length};
            }""",
                cells,
            )
            ready = status and status["cells"] == cells and status["status"] == "idle"
            if ready and "Python" in (status["kernel"] or ""):
                break
            assert time.monotonic() < deadline, f"the notebook did not load with an idle kernel: {status}"
            time.sleep(POLL)
        return nb

    def probe(self, index: int) -> dict[str, Any]:
        snap = self.page.evaluate(PROBE, index)
        assert snap is not None, f"cell {index} is not in the page"
        return snap

    def prompt(self, index: int) -> str:
        return self.probe(index)["prompt"]

    def run(
        self,
        index: int,
        *,
        interrupt_when: Callable[[dict[str, Any], float], bool] | None = None,
        timeout: float = CELL_RUN,
        name: str = "",
    ) -> Run:
        """Select cell ``index``, press Shift+Enter, read its output until it ends.

        ``interrupt_when(snapshot, seconds since the start)`` → click the toolbar's interrupt
        button (once) when it first holds.
        """
        before = self.prompt(index)
        cell = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)
        cell.locator(".jp-InputArea-prompt").click()  # select the cell (command mode)
        self.page.keyboard.press("Shift+Enter")
        run = Run()
        start = time.monotonic()
        deadline = start + timeout
        started = False
        while True:
            snap = self.probe(index)
            run.history.append(snap)
            prompt = snap["prompt"]
            if prompt == "[*]:":
                started = True
            elif (started or prompt != before) and re.fullmatch(r"\[\d+\]:", prompt):
                self.trace(name, run, cell)  # ran and ended (a short cell may never be seen as [*])
                return run
            if not started and time.monotonic() - start > 5 and prompt == before:
                # the key press did not reach the notebook (focus elsewhere): once more
                cell.locator(".jp-InputArea-prompt").click()
                self.page.keyboard.press("Shift+Enter")
                start = time.monotonic()
            due = interrupt_when is not None and run.interrupted_at is None
            if due and interrupt_when(snap, time.monotonic() - start):
                run.interrupted_at = snap
                self.interrupt()
            if time.monotonic() > deadline:
                self.recover(index)
                pytest.fail(f"cell {index} did not finish within {timeout} s: {snap}")
            time.sleep(POLL)

    def recover(self, index: int) -> None:
        """After a cell overran: interrupt it and wait (with a deadline) for the kernel to be free,
        so that the next scenario does not queue behind it."""
        deadline = time.monotonic() + INTERRUPT_GRACE
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                self.interrupt()
                if re.fullmatch(r"\[\d+\]:", self.prompt(index)):
                    return
            time.sleep(1.0)

    def trace(self, name: str, run: Run, cell: Any) -> None:
        """With :data:`TRACE_ENV` set: the frames that differ, and a screenshot of the cell."""
        where = os.environ.get(TRACE_ENV)
        if not where or not name:
            return
        Path(where).mkdir(parents=True, exist_ok=True)
        frames, last = [], None
        for snap in run.history:
            key = json.dumps({k: v for k, v in snap.items() if k != "t"}, sort_keys=True)
            if key != last:
                frames.append(snap)
                last = key
        Path(where, f"{name}.json").write_text(json.dumps(frames, indent=1), encoding="utf-8")
        with contextlib.suppress(Exception):
            cell.screenshot(path=str(Path(where, f"{name}.png")))

    def ok(self, index: int, timeout: float = CELL_RUN) -> Run:
        run = self.run(index, timeout=timeout)
        assert not run.end["stderr"] or all("Error" not in e["text"] for e in run.end["stderr"]), run.end["stderr"]
        return run

    def interrupt(self) -> None:
        """The notebook toolbar's "Interrupt the kernel" button."""
        self.page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']"
        ).click()

    def theme(self) -> dict[str, str]:
        return self.page.evaluate(
            "() => ({name: document.body.dataset.jpThemeName, light: document.body.dataset.jpThemeLight})"
        )

    def close(self) -> None:
        self.page.close()


# -- the notebooks -----------------------------------------------------------------------------------------
SETUP = """
    from dataferry import brightdata, emulator
    from dataferry.wait import PollPolicy
    emu = emulator.start("brightdata", start_after=0.3, ready_after=0.2)
    bd = brightdata.Client(poll=PollPolicy(initial=0.3, maximum=0.3, jitter=0), **emu.client_kwargs())
    DATASET = "gd_l1viktl72bvl7bjuj0"
    def inputs(n=1, records=1000):
        return [{"url": f"https://example.com/p/{k}", "emulator_records": records} for k in range(n)]
    def building(seconds):
        \"\"\"Snapshots triggered now take ``seconds`` to build.\"\"\"
        emu.app.ready_after = seconds
    import dataferry
    print(dataferry.__file__)
"""
"""Cell 0 of every notebook: the embedded emulator and a client that polls every 0.3 s."""

SLOW_PARTS = "emu.faults.add('slow', path='/datasets/v3/snapshot/', times=None, delay=1.5)"
"""Every download request (the part list and each part) answers 1.5 s late."""

SCENARIOS = [
    SETUP,
    # 1: waiting, then the end (a snapshot that takes 5 s to build; ``wait()`` as the last expression)
    "building(5)\nsnap_a = bd.trigger(DATASET, inputs())\nbuilding(0.2)\nsnap_a.wait()",
    # 2, 3: downloading four parts, each answering 1.5 s late, one at a time
    "snap_b = bd.trigger(DATASET, inputs(4), batch_size=1000, compress=False).wait(progress=False)\n" + SLOW_PARTS,
    "df_b = snap_b.to_pandas(cache=False, workers=1)\nemu.faults.clear()\nlen(df_b)",
    # 4: interrupting a wait (the snapshot takes ten minutes)
    "building(600)\nsnap_d = bd.trigger(DATASET, inputs())\nbuilding(0.2)\nsnap_d.wait()",
    # 5: the same with cancel_on_interrupt=True
    "building(600)\nsnap_d2 = bd.trigger(DATASET, inputs())\nbuilding(0.2)\nsnap_d2.wait(cancel_on_interrupt=True)",
    # 6, 7, 8: interrupting a download of eight slow parts
    "snap_e = bd.trigger(DATASET, inputs(8), batch_size=1000, compress=False).wait(progress=False)\n" + SLOW_PARTS,
    "df_e = snap_e.to_pandas(cache=False, workers=1)",
    "emu.faults.clear()",
]

DARK_CELLS = [
    SETUP,
    "building(3)\nsnap_f = bd.trigger(DATASET, inputs())\nbuilding(0.2)\nsnap_f.wait()",
]


ONE_LINE = (
    'from IPython.display import HTML\nHTML("<style>.dataframe td, .dataframe th { white-space: nowrap }</style>")'
)
"""The tip of docs/concepts/parts.md ("Tall rows in ``df.head()``"), run in the notebook as the docs give it."""

FRAME_CELLS = [
    SETUP,
    "snap_h = bd.trigger(DATASET, inputs(1, records=200)).wait(progress=False)",
    # the snapshot as CSV (the default format): categories, seller and input are JSON text in its cells
    "df_csv = snap_h.to_pandas(cache=False, progress=False)\ndf_csv.head()",
    # the same snapshot as NDJSON: those columns are JSON arrays and objects
    "df_nd = bd.snapshot(snap_h.id, format='ndjson').to_pandas(cache=False, progress=False)\ndf_nd.head()",
    ONE_LINE,
    "df_csv.head()",
    "df_nd.head()",
]
"""A snapshot's ``df.head()`` as CSV and as NDJSON, then the same after the tip :data:`ONE_LINE`."""

FRAMES = {2: "csv", 3: "ndjson", 5: "csv, tip", 6: "ndjson, tip"}
"""The cells of :data:`FRAME_CELLS` that draw a DataFrame, by what they draw."""

FRAME_PROBE = r"""
(index) => {
  const cell = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[index];
  const table = cell && cell.querySelector('.jp-OutputArea table.dataframe');
  if (!table) return null;
  const lines = (el) => {                 // the text lines el's content is laid out on
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(r => r.height > 0).map(r => Math.round(r.top)));
    return Math.max(1, tops.size);
  };
  const line = (() => {                   // the height of one line of the table's text
    const range = document.createRange();
    range.selectNodeContents(table.querySelector('tbody tr th'));
    return range.getBoundingClientRect().height;
  })();
  const td = getComputedStyle(table.querySelector('tbody td'));
  return {
    line, padding: parseFloat(td.paddingTop) + parseFloat(td.paddingBottom),
    width: table.getBoundingClientRect().width, area: table.closest('.jp-OutputArea-output').clientWidth,
    header: [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()),
    rows: [...table.querySelectorAll('tbody tr')].map(tr => ({
      height: tr.getBoundingClientRect().height,
      cells: [...tr.children].map(c => ({text: c.innerText.trim(), lines: lines(c)})),
    })),
  };
}
"""
"""The rendered ``df.head()`` of one cell: the table's and the output's width, each row's height, each cell's
text and line count."""


@pytest.fixture(scope="module")
def frames(lab: Lab, browser: Any) -> Iterator[dict[str, dict[str, Any]]]:
    """``df.head()`` of one Bright Data snapshot fetched as CSV and as NDJSON, as JupyterLab draws them, by default
    and after the tip of the docs (each read before the next cell runs: the tip's style holds for the whole page)."""
    lab.set_theme(LIGHT)
    nb = Notebook.open(browser, lab, lab.write_notebook("frames.ipynb", FRAME_CELLS), len(FRAME_CELLS))
    try:
        setup = nb.ok(0)
        assert str(ROOT / "dataferry") in " ".join(setup.end["outputs"]), setup.end["outputs"]
        shown = {}
        for index in range(1, len(FRAME_CELLS)):
            run = nb.ok(index)
            if index in FRAMES:
                shown[FRAMES[index]] = nb.page.evaluate(FRAME_PROBE, index)
                assert shown[FRAMES[index]] is not None, f"no DataFrame table in the output: {run.end['outputs']}"
        trace = os.environ.get(TRACE_ENV)
        if trace:
            Path(trace).mkdir(parents=True, exist_ok=True)
            Path(trace, "frames.json").write_text(json.dumps(shown, indent=1), encoding="utf-8")
            with contextlib.suppress(Exception):
                nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(2).screenshot(
                    path=str(Path(trace, "frame-csv.png"))
                )
        yield shown
    finally:
        nb.close()


@pytest.fixture(scope="module")
def scenarios(lab: Lab, browser: Any) -> Iterator[Notebook]:
    """The scenario notebook open in the light theme, its setup cell run."""
    lab.set_theme(LIGHT)
    nb = Notebook.open(browser, lab, lab.write_notebook("scenarios.ipynb", SCENARIOS), len(SCENARIOS))
    try:
        setup = nb.ok(0)
        assert str(ROOT / "dataferry") in " ".join(setup.end["outputs"]), setup.end["outputs"]
        yield nb
    finally:
        nb.close()


@pytest.fixture(scope="module")
def waited(scenarios: Notebook) -> Run:
    return scenarios.run(1, name="waited")


@pytest.fixture(scope="module")
def downloaded(scenarios: Notebook) -> Run:
    scenarios.ok(2)
    return scenarios.run(3, name="downloaded")


def showing(*states: str) -> Callable[[dict[str, Any], float], bool]:
    """Interrupt when a live panel shows one of ``states`` (or after :data:`INTERRUPT_AFTER`)."""
    return lambda snap, seconds: any(p["state"] in states for p in snap["live"]) or seconds > INTERRUPT_AFTER


@pytest.fixture(scope="module")
def stopped_wait(scenarios: Notebook) -> Run:
    return scenarios.run(4, interrupt_when=showing("running"), name="stopped_wait")


@pytest.fixture(scope="module")
def cancelled_wait(scenarios: Notebook) -> Run:
    return scenarios.run(5, interrupt_when=showing("running"), name="cancelled_wait")


@pytest.fixture(scope="module")
def stopped_download(scenarios: Notebook) -> Run:
    scenarios.ok(6)

    def two_parts_in(snap: dict[str, Any], seconds: float) -> bool:
        # interrupt once two parts are shown done, or after INTERRUPT_AFTER if the count never moves
        shown = [p for p in snap["live"] if p["state"] == "downloading"]
        return any(parts_done(p) >= 2 for p in shown) or seconds > INTERRUPT_AFTER

    try:
        return scenarios.run(7, interrupt_when=two_parts_in, name="stopped_download")
    finally:
        scenarios.ok(8)


@pytest.fixture(scope="module")
def dark(lab: Lab, browser: Any, scenarios: Notebook) -> Iterator[tuple[Notebook, Run]]:
    """A notebook opened after the theme was set to JupyterLab Dark through the settings API."""
    lab.set_theme(DARK)
    try:
        nb = Notebook.open(browser, lab, lab.write_notebook("dark.ipynb", DARK_CELLS), len(DARK_CELLS))
        try:
            nb.ok(0)
            yield nb, nb.run(1, name="dark")
        finally:
            nb.close()
    finally:
        lab.set_theme(LIGHT)


# -- figures in the detail line ----------------------------------------------------------------------------
def elapsed(detail: str | None) -> int | None:
    """The elapsed seconds in a detail line (its last duration)."""
    found = list(ELAPSED.finditer(detail or ""))
    if not found:
        return None
    h, m, s = (int(x or 0) for x in found[-1].groups())
    return 3600 * h + 60 * m + s


def parts_done(panel: dict[str, Any]) -> int:
    found = PARTS.search(panel.get("detail") or "") or PARTS.search(panel.get("text") or "")
    return int(found.group(1)) if found else -1


def bytes_shown(panel: dict[str, Any]) -> str | None:
    found = BYTES.search(panel.get("detail") or "")
    return found.group(0) if found else None


def solid_full(bar: dict[str, Any]) -> bool:
    """Whether a bar is drawn as one solid colour across its whole track (what reads as 100 %)."""
    return bar["fill"] >= 0.98 * bar["track"] and bar.get("image", "none") == "none"


def greenish(colour: str) -> bool:
    r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
    return g > r + 30 and g > b + 30


def assert_readable(panel: dict[str, Any], where: str) -> None:
    for role in ("state", "detail"):
        c = panel["contrast"][role]
        assert c is not None, f"{where}: no .dataferry-{role} in {panel['text']!r}"
        assert c["ratio"] >= WCAG_AA, (
            f"{where}: .dataferry-{role} contrast {c['ratio']:.2f} < {WCAG_AA} "
            f"(text {c['fg']} on {c['bg']}, CSS colour {c['colour']})"
        )


def assert_short_interrupt(run: Run, names: tuple[str, ...], *, reattach: bool) -> list[str]:
    error = run.error()
    lines = [line for line in error["text"].splitlines() if line.strip()]
    shown = "\n".join(lines)
    assert not [n for n in INTERNALS if n in shown], f"dataferry's internals in the error:\n{shown}"
    assert any(n in shown for n in names), f"{' or '.join(names)} not named in the error:\n{shown}"
    assert len(lines) <= 4, f"the error is {len(lines)} lines ({error['height']:.0f} px) long:\n{shown}"
    if reattach:
        assert any(REATTACH.fullmatch(line) for line in lines), f"no re-attach line of its own:\n{shown}"
    else:
        assert "re-attach" not in shown, f"a cancelled job offered for re-attach:\n{shown}"
    return lines


# -- a. waiting ---------------------------------------------------------------------------------------------
def test_waiting_shows_running_while_the_snapshot_builds(waited: Run) -> None:
    states = waited.states()
    assert "running" in states, f"the live panel never showed running: {states}; outputs: {waited.shown()[:6]}"
    before = states[: states.index("running")]
    assert set(before) <= {"submitted", "queued"}, f"states before running: {states}"
    for p in waited.live():
        assert p["word"] == p["state"], f"the state word {p['word']!r} is not the panel's state {p['state']!r}"


def test_waiting_the_elapsed_time_moves(waited: Run) -> None:
    running = [(p["t"], elapsed(p["detail"]), p["detail"]) for p in waited.live("running", "submitted", "queued")]
    seen = [(t, e) for t, e, _ in running if e is not None]
    assert seen, f"no elapsed time in the detail line: {[d for _, _, d in running]}"
    moved = [(t1, e1, t2, e2) for t1, e1 in seen for t2, e2 in seen if t2 - t1 >= 1.0 and e2 > e1]
    assert moved, f"the elapsed time did not move: {sorted({d for _, _, d in running})}"


def test_waiting_with_no_figure_the_bar_does_not_look_full(waited: Run) -> None:
    bars = [(p["bar"], p["detail"]) for p in waited.live("running", "submitted", "queued") if p["bar"]]
    assert bars, "no bar in the live panel while waiting"
    for bar, detail in bars:
        assert bar["track"] > 100, bar
        assert not solid_full(bar), f"with no figure yet the bar is a solid full fill ({bar}) beside {detail!r}"


# -- c. the end ---------------------------------------------------------------------------------------------
def test_the_end_is_one_green_done_summary(waited: Run) -> None:
    end = waited.end
    assert not end["live"], f"the live panel is still there: {end['live']}"
    summary = waited.summary()
    assert summary["state"] == "done" and summary["word"] == "done", summary["text"]
    assert greenish(summary["border"]), f"the summary frame is not green: {summary['border']}"
    bar = summary["bar"]
    assert bar and bar["fill"] == pytest.approx(bar["track"], abs=1) and greenish(bar["colour"]), bar
    assert end["cards"] == 1, (
        f"snap.wait() as the last expression shows {end['cards']} cards: "
        f"{[p['text'] for p in end['summaries'] + end['jobs']]}"
    )


def test_the_summary_is_readable_in_the_light_theme(scenarios: Notebook, waited: Run) -> None:
    assert scenarios.theme()["name"] == LIGHT
    assert_readable(waited.summary(), "light theme, summary")
    for p in waited.live()[-1:]:
        assert_readable(p, "light theme, live panel")


# -- b. downloading -----------------------------------------------------------------------------------------
def test_downloading_shows_the_stage(downloaded: Run) -> None:
    assert "downloading" in downloaded.states(), (
        f"never showed downloading: {downloaded.states()}; outputs: {downloaded.shown()[:8]}"
    )
    assert downloaded.summary()["state"] == "done"


def test_downloading_the_part_count_moves(downloaded: Run) -> None:
    shown = downloaded.live("downloading")
    counts = sorted({parts_done(p) for p in shown})
    details = sorted({p["detail"] for p in shown})
    assert len([c for c in counts if c >= 0]) >= 2, f"the part count did not move while downloading: {details}"


def test_downloading_the_bytes_move(downloaded: Run) -> None:
    shown = downloaded.live("downloading")
    values = {bytes_shown(p) for p in shown} - {None}
    details = sorted({p["detail"] for p in shown})
    assert len(values) >= 2, f"the bytes did not move while downloading: {details}"


def test_downloading_the_bar_grows(downloaded: Run) -> None:
    widths = [p["bar"]["fill"] / p["bar"]["track"] for p in downloaded.live("downloading") if p["bar"]]
    assert widths, "no bar while downloading"
    assert max(widths) > 0.05, f"the bar stayed empty while downloading: {sorted({round(w, 2) for w in widths})}"
    assert len({round(w, 2) for w in widths}) >= 2, f"the bar did not move: {sorted(set(widths))}"


# -- d. interrupting a wait ---------------------------------------------------------------------------------
def test_interrupting_a_wait_says_stopped_with_the_re_attach_line(stopped_wait: Run) -> None:
    summary = stopped_wait.summary()
    assert summary["state"] == "stopped" and summary["word"] == "stopped", summary["text"]
    assert summary["reattach"] and REATTACH.search(summary["reattach"]), f"no re-attach line: {summary['text']!r}"
    assert "failed" not in summary["text"], summary["text"]


def test_interrupting_a_wait_gives_a_short_error(stopped_wait: Run) -> None:
    assert_short_interrupt(stopped_wait, ("WaitInterrupted",), reattach=True)


def test_cancel_on_interrupt_says_cancelled_without_re_attach(cancelled_wait: Run) -> None:
    summary = cancelled_wait.summary()
    assert summary["state"] == "cancelled" and summary["word"] == "cancelled", summary["text"]
    assert summary["reattach"] is None and "re-attach" not in summary["text"], summary["text"]
    assert_short_interrupt(cancelled_wait, ("WaitInterrupted",), reattach=False)


def test_a_stopped_or_cancelled_wait_with_no_figure_shows_no_full_bar(stopped_wait: Run, cancelled_wait: Run) -> None:
    # the vendor never gave a percentage: a full bar (grey or orange) would read as 100 % done
    for run in (stopped_wait, cancelled_wait):
        summary = run.summary()
        assert summary["bar"] is None or not solid_full(summary["bar"]), (
            f"the {summary['state']} summary of a job with no figure shows a full bar: {summary['bar']}, "
            f"text {summary['text']!r}"
        )


# -- e. interrupting a download -----------------------------------------------------------------------------
def test_interrupting_a_download_says_stopped_with_the_re_attach_line(stopped_download: Run) -> None:
    summary = stopped_download.summary()
    assert summary["state"] == "stopped" and summary["word"] == "stopped", summary["text"]
    assert summary["reattach"] and REATTACH.search(summary["reattach"]), f"no re-attach line: {summary['text']!r}"
    assert "failed" not in summary["text"] and "KeyboardInterrupt" not in summary["text"], summary["text"]
    assert "done" in summary["detail"], f"the summary does not say the snapshot itself is done: {summary['detail']!r}"
    before = max((parts_done(p) for p in stopped_download.interrupted_at["live"]), default=-1)
    assert parts_done(summary) >= max(before, 0), (
        f"the summary counts fewer parts than were shown done ({before}): {summary['detail']!r}"
    )


def test_interrupting_a_download_gives_a_short_error(stopped_download: Run) -> None:
    # the library names it DownloadInterrupted (a WaitInterrupted sibling under Interrupted)
    assert_short_interrupt(stopped_download, ("DownloadInterrupted", "WaitInterrupted"), reattach=True)


# -- f. the dark theme --------------------------------------------------------------------------------------
def test_the_summary_is_readable_in_the_dark_theme(dark: tuple[Notebook, Run]) -> None:
    nb, run = dark
    assert nb.theme() == {"name": DARK, "light": "false"}, nb.theme()
    summary = run.summary()
    assert summary["state"] == "done", summary["text"]
    assert_readable(summary, "dark theme, summary")
    assert run.end["cards"] == 1, run.end["outputs"]


def test_the_live_panel_is_readable_in_the_dark_theme(dark: tuple[Notebook, Run]) -> None:
    _, run = dark
    shown = run.live()
    assert shown, "no live panel while waiting"
    assert_readable(shown[-1], "dark theme, live panel")


# -- g. a DataFrame of a snapshot ---------------------------------------------------------------------------
def heights(frame: dict[str, Any]) -> list[int]:
    return [round(row["height"]) for row in frame["rows"]]


def test_df_head_rows_of_a_csv_snapshot_are_no_taller_than_of_ndjson(frames: dict[str, dict[str, Any]]) -> None:
    # a guard: JSON text in CSV cells draws no taller than the same values decoded from NDJSON (by default both
    # wrap, 88-118 px, see the next test); one line of slack, as a CSV cell shows the JSON text's double quotes,
    # wider than the single quotes of the Python value an NDJSON cell shows, so a seller may break one line later
    csv, nd = frames["csv"], frames["ndjson"]
    assert len(csv["rows"]) == len(nd["rows"]) == 5, (csv["rows"], nd["rows"])
    one = csv["line"]
    for k, (a, b) in enumerate(zip(heights(csv), heights(nd), strict=True)):
        assert a <= b + one + 1, (
            f"row {k} of df.head() is {a} px tall from CSV, {b} px from NDJSON (a line is {one:.0f} px)"
        )


def test_df_head_rows_are_one_line_tall_with_the_tip_of_the_docs(frames: dict[str, dict[str, Any]]) -> None:
    # without the tip the 13 columns are wider than the output, so the browser squeezes each to its narrowest
    # and breaks every value at each space and hyphen; with it, each row is one line and the table scrolls
    assert ONE_LINE in (ROOT / "docs" / "concepts" / "parts.md").read_text(encoding="utf-8"), (
        "the tip is not in the docs"
    )
    for fmt in ("csv", "ndjson"):
        frame = frames[f"{fmt}, tip"]
        one = round(frame["line"] + frame["padding"])
        most = {name: max(row["cells"][i]["lines"] for row in frame["rows"]) for i, name in enumerate(frame["header"])}
        wrapped = {name or "index": n for name, n in most.items() if n > 1}
        assert max(heights(frame)) <= one + 1 and not wrapped, (
            f"{fmt}: rows {heights(frame)} px tall (one line is {one} px), lines of the columns that wrap {wrapped}; "
            f"the table is {frame['width']:.0f} px wide in a {frame['area']} px output"
        )
