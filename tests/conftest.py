"""Shared fixtures: a fake clock, a throwaway cache, quiet progress, running emulators, and the
check that the suite leaves no emulator data directory behind."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dataferry import emulator as emulator_mod
from dataferry.clock import FakeClock
from dataferry.emulator.app import EmulatorApp
from dataferry.wait import PollPolicy

EMULATOR_DIR_PREFIX = "dataferry-emulator-"
"""How the temporary data directory an emulator makes for itself is named."""


@pytest.fixture(scope="session", autouse=True)
def _emulators_leave_no_data_dir() -> Iterator[None]:
    """No temporary data directory an emulator made during the run is left after it.

    In this process, ``Emulator.stop()`` must remove its app's at once (checked at every stop,
    not later by the garbage collector), and every other app's must be gone by the end.
    Subprocesses (``dataferry emulate``, scripts, notebook kernels) get a temporary directory of
    this run's own (``TMPDIR``), which must hold no emulator directory at the end.
    """
    made: list[Path] = []
    kept_by_stop: list[str] = []
    real_init, real_stop = EmulatorApp.__init__, emulator_mod.Emulator.stop

    def init(self: EmulatorApp, *args: Any, **kw: Any) -> None:
        real_init(self, *args, **kw)
        if self.data_dir.name.startswith(EMULATOR_DIR_PREFIX):  # by its name: a data_dir= given stays
            made.append(self.data_dir)

    def stop(self: emulator_mod.Emulator) -> None:
        real_stop(self)
        if self.app.data_dir.name.startswith(EMULATOR_DIR_PREFIX) and self.app.data_dir.exists():
            kept_by_stop.append(f"{self.vendor}: {self.app.data_dir}")

    tempfile.gettempdir()  # this process keeps the temporary directory it has...
    children = Path(tempfile.mkdtemp(prefix="dataferry-tests-"))  # ...subprocesses get this run's own
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmulatorApp, "__init__", init)
        patch.setattr(emulator_mod.Emulator, "stop", stop)
        patch.setenv("TMPDIR", str(children))
        yield
    gc.collect()  # apps that were never started, or never stopped, remove theirs when collected
    left = [str(d) for d in made if d.exists()]
    # a subprocess killed on purpose (SIGKILL / SIGINT tests of the CLI and kernels) cannot clean up;
    # its directory is inside this run's own TMPDIR, removed here, so nothing stays on the machine
    orphans = [str(d) for d in children.glob(f"{EMULATOR_DIR_PREFIX}*")]
    shutil.rmtree(children, ignore_errors=True)
    if orphans:
        warnings.warn(f"emulator data directories of killed subprocesses, removed: {orphans}", stacklevel=1)
    assert not kept_by_stop, f"Emulator.stop() left its data directory: {kept_by_stop}"
    assert not left, f"emulator data directories left after the suite: {left}"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache directory and no progress output unless it asks."""
    monkeypatch.setenv("DATAFERRY_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("DATAFERRY_PROGRESS", "off")
    for name in (
        "BRIGHTDATA_API_TOKEN",
        "MYTRACKER_API_USER_ID",
        "MYTRACKER_SECRET_KEY",
        "WOOSMAP_PRIVATE_KEY",
        "ALGOLIA_APP_ID",
        "ALGOLIA_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


class ScaledClock:
    """Real time, fast-forwarded: every second the code waits takes ``factor`` real seconds.

    For tests against a live emulator where the client must honour long server hints
    ("try again in 10s") without the test waiting that long.
    """

    def __init__(self, factor: float = 0.02) -> None:
        import time

        self._time = time
        self.factor = factor
        self._real0 = time.monotonic()
        self._wall0 = time.time()
        self.slept = 0.0

    def monotonic(self) -> float:
        return self._real0 + (self._time.monotonic() - self._real0) / self.factor

    def time(self) -> float:
        return self._wall0 + (self._time.monotonic() - self._real0) / self.factor

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self._time.sleep(max(0.0, seconds) * self.factor)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that only moves when something sleeps on it."""
    return FakeClock()


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., emulator_mod.Emulator]]:
    """``start_emulator(vendor, **options)`` → a running emulator, stopped after the test."""
    running: list[emulator_mod.Emulator] = []

    def start(vendor: str, **options: Any) -> emulator_mod.Emulator:
        emu = emulator_mod.start(vendor, **options)
        running.append(emu)
        return emu

    yield start
    for emu in running:
        emu.stop()


QUICK_POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.25, jitter=0.0)
"""Poll delays for integration tests against fast emulators."""

FAST = {"start_after": 0.05, "ready_after": 0.2, "delivery_after": 0.2}
"""Bright Data emulator timings that keep integration tests quick."""


@pytest.fixture
def bd_emu(start_emulator: Callable[..., emulator_mod.Emulator]) -> emulator_mod.Emulator:
    """A Bright Data emulator with fast snapshots."""
    return start_emulator("brightdata", **FAST)


@pytest.fixture
def bd(bd_emu: emulator_mod.Emulator) -> Any:
    """A Bright Data client talking to :func:`bd_emu`, with short poll delays."""
    from dataferry.providers.brightdata import Client

    client = Client(base_url=bd_emu.base_url, poll=QUICK_POLLS, **bd_emu.credentials)
    yield client
    client.close()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DATAFERRY_PROGRESS", "off")
