"""``dataferry woosmap …`` against the emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from dataferry.cli import main


@pytest.fixture
def served(start_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    emu = start_emulator("woosmap", rate_limits=False, existing_datasets=2)
    monkeypatch.setenv("WOOSMAP_PRIVATE_KEY", emu.credentials["private_key"])
    return emu


def _run(capsys: pytest.CaptureFixture[str], served: Any, *args: str) -> tuple[int, str, str]:
    code = main(["woosmap", *args, "--base-url", served.base_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_create_get_update_delete(served: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, served, "datasets")
    assert code == 0 and "Stores — France" in out and "Parking lots" in out
    code, out, _ = _run(capsys, served, "create", "shops", "https://example.com/shops.geojson", "--title-key", "name")
    created = json.loads(out)
    assert code == 0 and created["name"] == "shops" and "reimport_key" not in created
    assert served.app.datasets[created["id"]].schema_mapping == [{"schema_key": "title", "data_key": "name"}]
    code, out, _ = _run(capsys, served, "update", created["id"], "--name", "boutiques")
    assert code == 0 and json.loads(out)["name"] == "boutiques"
    code, out, _ = _run(capsys, served, "get", created["id"])
    assert json.loads(out)["name"] == "boutiques"
    code, out, _ = _run(capsys, served, "delete", created["id"])
    assert code == 0 and re.search(r"scheduled for deletion after \d{4}-\d\d-\d\d", out)
    code, _, err = _run(capsys, served, "delete", created["id"])
    assert code == 4 and "HTTP 409" in err and "already scheduled" in err
    assert served.credentials["private_key"] not in out + err


def test_import_status_wait_and_log(served: Any, capsys: pytest.CaptureFixture[str]) -> None:
    did = next(iter(served.app.datasets))
    code, out, _ = _run(capsys, served, "status", did)
    status = json.loads(out)
    assert code == 0 and (status["state"], status["status"], status["progress"]) == ("done", "success", 1.0)
    assert status["message"].startswith("import: Successfully imported")
    code, out, _ = _run(capsys, served, "wait", did)
    assert code == 0 and "success 100%" in out
    code, out, _ = _run(capsys, served, "log", did)
    assert code == 0 and "fetch" in out and "Dataset loaded" in out and "Successfully imported" in out
    code, out, _ = _run(capsys, served, "import", did, "--no-wait")
    assert code == 0 and f"import of {did} requested" in out and len(served.app.datasets[did].runs) == 2


def test_errors_are_reported_not_raised(
    served: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(capsys, served, "get", "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0")
    assert code == 7 and "HTTP 404: Dataset was not found" in err
    for never_works in ("cancel", "fetch"):  # Woosmap has no such endpoint: not offered at all
        with pytest.raises(SystemExit) as exit_:
            _run(capsys, served, never_works, next(iter(served.app.datasets)))
        assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err
    monkeypatch.delenv("WOOSMAP_PRIVATE_KEY")
    code, _, err = _run(capsys, served, "datasets")
    assert code == 2 and "WOOSMAP_PRIVATE_KEY" in err
