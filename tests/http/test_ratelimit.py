"""Client-side token buckets."""

from __future__ import annotations

import threading

import pytest

from dataferry.clock import FakeClock
from dataferry.errors import InvalidArgument
from dataferry.http.ratelimit import Rate, RateLimiter


def test_one_per_five_seconds_spaces_calls(clock: FakeClock) -> None:
    limiter = RateLimiter({"status": [Rate(1, 5.0)]}, clock=clock)
    waits = [limiter.acquire("status") for _ in range(4)]
    assert waits == [0.0, 5.0, 5.0, 5.0]
    assert clock.monotonic() == 15.0


def test_burst_then_sustained_rate(clock: FakeClock) -> None:
    limiter = RateLimiter({"api": [Rate(10, 1.0), Rate(100, 60.0)]}, clock=clock)
    for _ in range(10):
        assert limiter.acquire("api") == 0.0
    # the per-second bucket is empty: the 11th call waits a tenth of a second
    assert limiter.acquire("api") == pytest.approx(0.1)
    # once the per-minute bucket is drained too, calls settle at 100 per minute
    waits = [limiter.acquire("api") for _ in range(300)]
    assert waits[-1] == pytest.approx(0.6, abs=0.01)
    calls, elapsed = 311, clock.monotonic()
    assert calls <= 100 + elapsed * 100 / 60 + 1


def test_unlisted_family_is_unlimited_and_disabled_limiter_never_waits(clock: FakeClock) -> None:
    limiter = RateLimiter({"status": [Rate(1, 5.0)]}, clock=clock)
    assert all(limiter.acquire("other") == 0.0 for _ in range(100))
    limiter.enabled = False
    assert all(limiter.acquire("status") == 0.0 for _ in range(5))
    assert limiter.min_interval("status") == 0.0


def test_min_interval_is_the_strictest_rate() -> None:
    limiter = RateLimiter({"x": [Rate(10, 1.0), Rate(100, 60.0), Rate(1000, 3600.0)]})
    assert limiter.min_interval("x") == pytest.approx(3.6)
    assert limiter.min_interval("unknown") == 0.0


def test_threads_share_the_budget(clock: FakeClock) -> None:
    limiter = RateLimiter({"s": [Rate(2, 1.0)]}, clock=clock)
    threads = [threading.Thread(target=limiter.acquire, args=("s",)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 2 free calls, then 18 more at 2 per second: the last one goes out at t = 9 s
    assert clock.monotonic() == pytest.approx(9.0)
    assert len(clock.sleeps) == 20


def test_bad_rate_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        Rate(0, 1.0)
    with pytest.raises(InvalidArgument):
        Rate(1, 0)
