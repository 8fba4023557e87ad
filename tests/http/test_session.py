"""The session wrapper: request shapes, retries, never re-sending a POST that may have landed."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from dataferry.clock import FakeClock
from dataferry.errors import NotFound, RateLimited, RequestMayHaveReached, ServerError, TransportError
from dataferry.http import BearerAuth, ErrorMap, HeaderAuth, HttpClient, QueryAuth, Rate, RateLimiter

BASE = "https://api.example.com"
TOKEN = "tok-SECRET-abcdef"


def client(clock: FakeClock, **kw: object) -> HttpClient:
    return HttpClient("acme", BASE, BearerAuth(TOKEN), ErrorMap("acme"), clock=clock, **kw)


@responses.activate
def test_auth_header_user_agent_and_base_url(clock: FakeClock) -> None:
    responses.get(f"{BASE}/v1/things", json={"ok": True})
    http = client(clock)
    assert http.get_json("/v1/things", params={"a": 1}) == {"ok": True}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"].startswith("dataferry/")
    assert sent.url == f"{BASE}/v1/things?a=1"


@responses.activate
def test_429_is_waited_out_even_for_a_post(clock: FakeClock) -> None:
    responses.post(f"{BASE}/trigger", status=429, json={"error": "busy"}, headers={"Retry-After": "7"})
    responses.post(f"{BASE}/trigger", status=429, json={"error": "busy"}, headers={"Retry-After": "7"})
    responses.post(f"{BASE}/trigger", json={"id": "j1"})
    r = client(clock).request("POST", "/trigger", json=[{"url": "x"}])
    assert r.json() == {"id": "j1"}
    assert len(responses.calls) == 3
    assert all(7.0 <= s <= 7.8 for s in clock.sleeps)


@responses.activate
def test_post_is_never_resent_after_a_5xx(clock: FakeClock) -> None:
    responses.post(f"{BASE}/trigger", status=500, json={"error": "Internal server error"})
    with pytest.raises(ServerError) as info:
        client(clock).request("POST", "/trigger", json=[])
    assert len(responses.calls) == 1
    assert info.value.vendor_message == "Internal server error"


@responses.activate
def test_get_is_retried_after_5xx(clock: FakeClock) -> None:
    responses.get(f"{BASE}/status", status=503, json={"error": "unavailable"})
    responses.get(f"{BASE}/status", status=502, body="bad gateway")
    responses.get(f"{BASE}/status", json={"status": "ready"})
    assert client(clock).get_json("/status") == {"status": "ready"}
    assert len(responses.calls) == 3 and len(clock.sleeps) == 2


@responses.activate
def test_post_after_a_read_timeout_is_not_resent(clock: FakeClock) -> None:
    responses.post(f"{BASE}/trigger", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(RequestMayHaveReached) as info:
        client(clock).request("POST", "/trigger", json=[])
    assert len(responses.calls) == 1
    assert "not re-sent" in str(info.value) and info.value.hint


@responses.activate
def test_connection_refused_is_retried_even_for_a_post(clock: FakeClock) -> None:
    import urllib3.exceptions

    refused = requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "Connection refused"))  # type: ignore[arg-type]
    responses.post(f"{BASE}/trigger", body=refused)
    responses.post(f"{BASE}/trigger", json={"id": "j2"})
    assert client(clock).request("POST", "/trigger", json=[]).json() == {"id": "j2"}
    assert len(responses.calls) == 2


@responses.activate
def test_attempts_are_bounded(clock: FakeClock) -> None:
    responses.get(f"{BASE}/status", status=503, json={"error": "down"})
    with pytest.raises(ServerError):
        client(clock, max_attempts=4).get_json("/status")
    assert len(responses.calls) == 4


@responses.activate
def test_429_gives_up_with_rate_limited_after_the_budget(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, json={"error": "slow"}, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as info:
        client(clock, retry_budget=60).get_json("/x")
    assert info.value.retry_after == 30.0
    assert len(responses.calls) == 3  # 30 s + 30 s of waiting spends the 60 s budget


@responses.activate
def test_allowed_statuses_are_returned(clock: FakeClock) -> None:
    responses.get(f"{BASE}/snap", status=202, json={"status": "building"})
    r = client(clock).request("GET", "/snap", allow=(202,))
    assert r.status_code == 202 and clock.sleeps == []


@responses.activate
def test_errors_never_show_the_secret(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/x", status=404, json={"error": f"no such thing for {TOKEN}"})
    responses.get(f"{BASE}/y", status=503, json={"error": "down"})
    responses.get(f"{BASE}/y", json={})
    http = HttpClient("acme", BASE, QueryAuth("private_key", TOKEN), ErrorMap("acme"), clock=clock)
    with pytest.raises(NotFound) as info:
        http.get_json("/x")
    http.get_json("/y")  # the retry notice is logged
    text = str(info.value) + repr(info.value.body) + info.value.url + repr(http) + caplog.text
    assert TOKEN not in text
    assert "private_key=%2A%2A%2A" in info.value.url or "private_key=***" in info.value.url


@responses.activate
def test_header_auth_repr_shows_public_and_masks_secret(clock: FakeClock) -> None:
    auth = HeaderAuth(secret={"X-Api-Key": TOKEN}, public={"X-App": "APP1"})
    assert TOKEN not in repr(auth) and "APP1" in repr(auth)
    responses.get(f"{BASE}/z", json={})
    HttpClient("acme", BASE, auth, clock=clock).get_json("/z")
    assert responses.calls[0].request.headers["X-Api-Key"] == TOKEN


@responses.activate
def test_rate_limits_apply_per_family(clock: FakeClock) -> None:
    responses.get(f"{BASE}/status", json={})
    http = client(clock, limiter=RateLimiter({"status": [Rate(1, 5.0)]}, clock=clock))
    for _ in range(3):
        http.get_json("/status", family="status")
    assert clock.monotonic() == 10.0


@responses.activate
def test_non_json_body_is_a_clear_error(clock: FakeClock) -> None:
    responses.get(f"{BASE}/j", body="<html>oops</html>")
    with pytest.raises(TransportError, match="not JSON"):
        client(clock).get_json("/j")
