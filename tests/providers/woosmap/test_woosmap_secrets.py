"""The private key (and a dataset's reimport key) never show in errors, reprs, logs or progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from dataferry.errors import NotFound, PermissionDenied
from dataferry.providers.woosmap import Client, ImportFailed

UNKNOWN = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"


def test_the_key_never_shows_in_errors_reprs_logs_or_progress(
    start_emulator: Callable[..., Any], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # an import longer than the progress display's quiet second, so that progress lines are drawn
    emu = start_emulator("woosmap", queue_seconds=0.02, fetch_seconds=0.7, import_seconds=0.7, rate_scale=0.005)
    key = emu.credentials["private_key"]
    caplog.set_level(logging.DEBUG)
    wm = Client(**emu.client_kwargs(), rate_limits=0.005, progress="log")
    shown = [repr(wm), str(wm.http), repr(wm.http.limiter)]
    ds = wm.create_dataset(name="stores", url="https://example.com/fail-import.geojson")
    shown.append(repr(ds))
    run = ds.import_()
    shown.append(repr(run))
    with pytest.raises(ImportFailed) as failed:
        run.wait()
    shown += [
        str(failed.value),
        repr(failed.value),
        repr(run),
        run._repr_html_(),
        str(run.last_status.detail),
        run.to_pandas().to_string(),
    ]
    with pytest.raises(NotFound) as missing:
        wm.get_dataset(UNKNOWN)
    shown += [str(missing.value), repr(missing.value.body)]
    emu.faults.add("status", path="/status$", status=429, retry_after=0.01, times=1)
    wm.dataset(ds.id).last_import()
    progress = capsys.readouterr().err
    shown += [caplog.text, progress]
    assert "rate limited" in caplog.text  # the 429 notice was logged, without the key
    assert f"woosmap import {ds.id}: failed" in progress  # the progress lines were shown, without the key
    for text in shown:
        assert key not in text
    assert ds.reimport_key not in repr(ds)


def test_a_key_sent_in_the_query_is_masked_in_errors(
    start_emulator: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    emu = start_emulator("woosmap", rate_limits=False)
    caplog.set_level(logging.DEBUG, logger="dataferry")
    wrong = "a-wrong-private-key-0f9e8d7c"
    with pytest.raises(PermissionDenied) as caught:
        Client(private_key=wrong, base_url=emu.base_url, key_in="query").datasets().to_list()
    text = str(caught.value)
    assert "private_key=***" in text and wrong not in text and wrong not in repr(caught.value.url)
    client_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("dataferry.emulator"))
    assert wrong not in client_side


def test_the_reimport_key_is_masked_once_used(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("woosmap", rate_limits=False)
    wm = Client(**emu.client_kwargs())
    unknown_key = "0f3a1c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
    with pytest.raises(NotFound) as caught:
        wm.reimport(unknown_key)
    assert unknown_key not in str(caught.value) and "/datasets/hooks/reimport/***" in str(caught.value)
