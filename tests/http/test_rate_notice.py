"""A long client-side rate-limit wait is announced, not silent."""

from __future__ import annotations

import responses

from dataferry.clock import FakeClock
from dataferry.events import listening
from dataferry.http import ErrorMap, HttpClient, NoAuth, Rate, RateLimiter


@responses.activate
def test_waiting_for_the_rate_limit_is_announced(clock: FakeClock) -> None:
    responses.post("https://api.example.com/import", status=202, json={})
    http = HttpClient(
        "woosmap",
        "https://api.example.com",
        NoAuth(),
        ErrorMap("woosmap"),
        clock=clock,
        limiter=RateLimiter({"import": [Rate(1, 90.0)]}, clock=clock),
    )
    heard: list[str] = []
    with listening(heard.append):
        http.request("POST", "/import", family="import")
        http.request("POST", "/import", family="import")
    assert heard == ["woosmap: waiting 90 s to stay within the 'import' rate limit"]
    assert clock.monotonic() == 90.0
