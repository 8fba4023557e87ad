"""The secrets sweep (issue #15, part 5.5): a recognisable credential is planted for every
vendor, the usual journey and its failures are run against the emulator, and the credential
must appear nowhere a user or a log could see it: exception messages and their cause chains,
tracebacks, ``repr`` / ``_repr_html_``, log records at any level, progress output (the log and
html renderers), CLI output. (Executed notebooks are swept by tests/notebooks.)"""

from __future__ import annotations

import contextlib
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dataferry.cli import main
from dataferry.emulator import Emulator
from dataferry.errors import DataferryError
from dataferry.wait import PollPolicy
from tests.conftest import ScaledClock
from tests.reliability.test_secrets import chain

POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.2, jitter=0.0)
PLANTED = "Sweep0Secret0Planted0Value0"


@dataclass
class Seen:
    """Everything shown during a journey, to be searched for the planted secret."""

    texts: list[str]

    def add_exception(self, exc: BaseException) -> None:
        self.texts.append("".join(traceback.format_exception(exc)))
        for e in chain(exc):
            self.texts += [str(e), repr(e), repr(e.args), repr(vars(e))]

    def add(self, *objects: Any) -> None:
        for o in objects:
            self.texts.append(repr(o))
            html = getattr(o, "_repr_html_", None)
            if html is not None:
                self.texts.append(html())

    def assert_clean(self, secret: str) -> None:
        forms = {secret, secret[:14], secret[-14:]}
        for text in self.texts:
            for form in forms:
                assert form not in text, text[:3000]


def failing(seen: Seen, call: Callable[[], Any]) -> None:
    """Run ``call``, which should fail with a dataferry error, and keep what it shows."""
    try:
        call()
    except (DataferryError, KeyboardInterrupt) as exc:
        seen.add_exception(exc)
    else:
        pytest.fail("the call was expected to fail")


@contextlib.contextmanager
def captured(caplog: pytest.LogCaptureFixture, seen: Seen) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield
    seen.texts += [out.getvalue(), err.getvalue()] + [r.getMessage() for r in caplog.records]
    seen.texts += [logging.Formatter().format(r) for r in caplog.records]


def brightdata_journey(emu: Emulator, seen: Seen) -> None:
    from dataferry import brightdata

    bd = brightdata.Client(poll=POLLS, progress="log", clock=ScaledClock(0.005), **emu.client_kwargs())
    snap = bd.trigger(
        "gd_l1viktl72bvl7bjuj0",
        [{"url": "https://e.com/1"}],
        endpoint="https://hooks.example.com/x",
        auth_header=f"Bearer {PLANTED}",
        notify=True,
    )
    seen.add(bd, bd.http, snap.wait(), snap.to_pandas().head())
    # a malformed part that quotes the secret: the decode error must not
    emu.faults.add(
        "body", path="/datasets/v3/snapshot/", times=1, text=f"a,b\n1,{PLANTED},3\n", content_type="text/csv"
    )
    failing(seen, lambda: bd.snapshot(snap.id, compress=False).to_arrow(cache=False))
    emu.faults.add(
        "status", path="/datasets/v3/progress/", times=None, status=500, message=f"upstream said token={PLANTED}"
    )
    failing(seen, lambda: bd.snapshot(snap.id).wait(timeout=0.5))
    emu.faults.clear()
    emu.faults.add("reset", path="/datasets/v3/trigger", times=1)
    failing(
        seen,
        lambda: bd.trigger(
            "gd_l1viktl72bvl7bjuj0",
            [{"url": "https://e.com/1"}],
            auth_header=f"Bearer {PLANTED}",
            endpoint="https://hooks.example.com/x",
        ),
    )
    bad = brightdata.Client(token="wrong-token-0000", base_url=emu.base_url)
    failing(seen, lambda: bad.snapshot(snap.id).status())


def mytracker_journey(emu: Emulator, seen: Seen) -> None:
    from dataferry import mytracker

    mt = mytracker.Client(poll=POLLS, progress="log", clock=ScaledClock(0.005), **emu.client_kwargs())
    export = mt.create_export(
        event="installs", selectors=["idApp", "tsEvent"], date_from="2026-11-01", date_to="2026-11-02"
    )
    seen.add(mt, mt.http, export.wait(), export.to_pandas().head())
    emu.faults.add("expire", path="/storage/download/raw/", times=None)
    failing(seen, lambda: export.to_arrow(cache=False))
    emu.faults.clear()
    bad = mytracker.Client(api_user_id=emu.credentials["api_user_id"], secret_key="x" * 24, base_url=emu.base_url)
    failing(seen, lambda: bad.export(export.id).status())


def woosmap_journey(emu: Emulator, seen: Seen) -> None:
    from dataferry import woosmap

    for key_in in ("header", "query"):
        wm = woosmap.Client(
            poll=POLLS,
            progress="log",
            key_in=key_in,
            rate_limits=0.001,
            clock=ScaledClock(0.005),
            **emu.client_kwargs(),
        )
        ds = wm.create_dataset(name="stores", url="https://example.com/stores.json")
        seen.add(wm, wm.http, ds, wm.datasets().to_pandas())
        emu.faults.add("reset", path="/datasets", times=None)
        failing(seen, lambda wm=wm: wm.datasets().to_pandas())
        emu.faults.clear()


def algolia_journey(emu: Emulator, seen: Seen) -> None:
    from dataferry.providers.algolia import Client as Algolia

    ing = Algolia(poll=POLLS, progress="log", clock=ScaledClock(0.005), **emu.client_kwargs())
    seen.add(ing, ing.http, ing.tasks().to_pandas())
    emu.faults.add("status", path="/1/", times=None, status=503, message=f"x-algolia-api-key: {PLANTED}")
    failing(seen, lambda: ing.tasks().to_pandas())


JOURNEYS = {
    "brightdata": ({"token": PLANTED}, brightdata_journey),
    "mytracker": ({"secret_key": PLANTED}, mytracker_journey),
    "woosmap": ({"private_key": PLANTED}, woosmap_journey),
    "algolia": ({"api_key": PLANTED}, algolia_journey),
}


@pytest.mark.parametrize("vendor", sorted(JOURNEYS))
def test_the_planted_secret_shows_nowhere(
    vendor: str,
    start_emulator: Callable[..., Emulator],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials, journey = JOURNEYS[vendor]
    options: dict[str, Any] = {"rate_limits": False}
    if vendor == "brightdata":
        options.update(start_after=0.05, ready_after=0.15)
    if vendor == "mytracker":
        options.update(step_seconds=0.05, steps=3)
    emu = start_emulator(vendor, **credentials, **options)
    seen = Seen([])
    with captured(caplog, seen):
        journey(emu, seen)
    assert len(seen.texts) > 10
    seen.assert_clean(PLANTED)


def test_cli_output_never_shows_the_token(
    start_emulator: Callable[..., Emulator],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Any,
) -> None:
    emu = start_emulator("brightdata", token=PLANTED, start_after=0.05, ready_after=0.15)
    monkeypatch.setenv("BRIGHTDATA_API_TOKEN", PLANTED)
    inputs = tmp_path / "inputs.json"
    inputs.write_text('[{"url": "https://e.com/1"}]')
    caplog.set_level(logging.DEBUG)
    assert (
        main(
            [
                "brightdata",
                "trigger",
                "gd_l1viktl72bvl7bjuj0",
                str(inputs),
                "-o",
                str(tmp_path / "o.parquet"),
                "--base-url",
                emu.base_url,
                "--progress",
                "log",
            ]
        )
        == 0
    )
    emu.faults.add("status", path="/datasets/v3/", times=None, status=404, message=f"echo {PLANTED}")
    assert main(["brightdata", "status", "s_missing", "--base-url", emu.base_url]) != 0
    out, err = capsys.readouterr()
    assert "snapshot s_" in out
    for text in [out, err] + [r.getMessage() for r in caplog.records]:
        assert PLANTED not in text and PLANTED[:14] not in text, text[:2000]
