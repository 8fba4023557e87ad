"""Secrets never show: not in an error, its cause chain, a traceback, a log record or a repr
(issue #15, class 2)."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator

import pytest
import responses

from dataferry import brightdata, woosmap
from dataferry.clock import FakeClock
from dataferry.errors import ApiError, ConfigurationError, DataferryError, TransportError

TOKEN = "planted-token-7f3a9c1e5d"
"""A recognisable secret: if any part of it shows, the test fails."""


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception reachable through ``__cause__`` / ``__context__``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]


def assert_hidden(exc: BaseException, secret: str = TOKEN) -> None:
    """No trace of ``secret`` in ``exc``: texts, reprs, args of the whole chain, the traceback."""
    shown = ["".join(traceback.format_exception(exc))]
    for e in chain(exc):
        shown += [str(e), repr(e), repr(e.args)]
        shown += [repr(v) for k, v in vars(e).items() if not k.startswith("_")]
    for text in shown:
        for form in (secret, secret.replace("-", "%2D"), secret[:12]):
            assert form not in text, text[:2000]


def closed_port() -> int:
    """A loopback port nobody listens on (a connection to it is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@responses.activate
def test_a_trigger_answer_without_an_id_that_echoes_the_token_shows_no_token() -> None:
    url = "https://api.brightdata.com/datasets/v3/trigger"
    responses.add(responses.POST, url, json={"ok": True, "echo": f"Bearer {TOKEN}", "token": TOKEN}, status=200)
    bd = brightdata.Client(token=TOKEN)
    with pytest.raises(ApiError, match="no snapshot_id") as caught:
        bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://example.com/p/1"}])
    assert_hidden(caught.value)
    assert len(responses.calls) == 1  # a trigger is never sent twice


def test_a_failed_connection_with_a_secret_in_the_url_shows_it_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    bd = brightdata.Client(token=TOKEN, base_url=f"http://127.0.0.1:{closed_port()}", clock=FakeClock(), max_attempts=2)
    with pytest.raises(TransportError) as caught:
        bd.trigger(
            "gd_l1viktl72bvl7bjuj0",
            [{"url": "https://example.com/p/1"}],
            endpoint="https://hooks.example.com/in",
            auth_header=f"Bearer {TOKEN}",
        )
    assert_hidden(caught.value)
    assert "auth_header=***" in str(caught.value)
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and TOKEN[:12] not in record.getMessage()


def test_a_key_sent_as_a_query_parameter_never_shows_when_the_connection_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wm = woosmap.Client(
        private_key=TOKEN,
        key_in="query",
        base_url=f"http://127.0.0.1:{closed_port()}",
        clock=FakeClock(),
        max_attempts=2,
    )
    with pytest.raises(TransportError) as caught:
        wm.datasets().to_pandas()
    assert_hidden(caught.value)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("base_url", ["http://api.brightdata.com", "http://10.1.2.3:8080"])
def test_credentials_are_not_sent_over_plain_http_to_another_machine(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain http://") as caught:
        brightdata.Client(token=TOKEN, base_url=base_url)
    assert "allow_insecure_http=True" in str(caught.value)
    assert_hidden(caught.value)
    brightdata.Client(token=TOKEN, base_url=base_url, allow_insecure_http=True)  # an explicit opt-in


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9", "http://localhost:9", "https://api.brightdata.com"])
def test_loopback_and_https_need_no_opt_in(base_url: str) -> None:
    brightdata.Client(token=TOKEN, base_url=base_url)


@responses.activate
def test_a_download_link_on_another_host_gets_no_token() -> None:
    from dataferry.parts import Part

    responses.add(responses.GET, "https://cdn.example.net/part-1.csv", body="id\n1\n")
    bd = brightdata.Client(token=TOKEN)
    bd.http.request("GET", Part(0, "https://cdn.example.net/part-1.csv", "csv").url)
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_a_redirect_to_another_host_drops_every_credential_header() -> None:
    from dataferry.providers.algolia import Client as Algolia

    base = "https://data.us.algolia.com"
    responses.add(responses.GET, f"{base}/1/runs/r1", status=302, headers={"Location": "https://elsewhere.example/x"})
    responses.add(responses.GET, "https://elsewhere.example/x", json={"runID": "r1"})
    ing = Algolia(app_id="APPID", api_key=TOKEN, base_url=base)
    ing.http.request("GET", "/1/runs/r1")
    assert responses.calls[0].request.headers["x-algolia-api-key"] == TOKEN  # the API host gets it
    assert all(TOKEN not in v for v in responses.calls[1].request.headers.values())


def test_every_dataferry_error_masks_the_secrets_of_live_clients() -> None:
    bd = brightdata.Client(token=TOKEN)
    error = DataferryError(f"something quoted the token {TOKEN} and ?private_key=abc123&x=1")
    assert TOKEN not in str(error) and "abc123" not in str(error)
    bd.close()
