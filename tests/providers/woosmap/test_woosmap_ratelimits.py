"""The client paces itself to Woosmap's documented limits (fake clock: no real waiting)."""

from __future__ import annotations

import pytest

from dataferry.clock import FakeClock
from dataferry.errors import InvalidArgument
from dataferry.http import Rate, limits_from
from dataferry.providers.woosmap import Client
from dataferry.providers.woosmap.client import RATE_LIMITS

KEY = "test-woosmap-private-key-4f1c9a"
DID = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"


def _times(client: Client, clock: FakeClock, family: str, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        client.http.limiter.acquire(family)
        out.append(clock.monotonic())
    return out


def test_the_default_limits_are_exactly_the_documented_ones() -> None:
    assert dict(RATE_LIMITS) == {
        "list": (Rate(1, 1.0),),
        "create": (Rate(1, 1.0),),
        "get": (Rate(1, 1.0),),
        "update": (Rate(1, 1.0),),
        "delete": (Rate(1, 1.0),),
        "status": (Rate(1, 5.0),),
        "import": (Rate(1, 90.0),),
        "reimport": (Rate(1, 90.0),),
        "features": (Rate(20, 1.0),),
    }
    assert limits_from(RATE_LIMITS) == dict(RATE_LIMITS) == limits_from(RATE_LIMITS, True)
    assert limits_from(RATE_LIMITS, False) == {}


def test_status_calls_are_one_per_5_seconds(clock: FakeClock) -> None:
    wm = Client(private_key=KEY, clock=clock)
    assert _times(wm, clock, "status", 4) == [0.0, 5.0, 10.0, 15.0]


def test_imports_are_one_per_90_seconds_across_datasets(clock: FakeClock) -> None:
    wm = Client(private_key=KEY, clock=clock)
    assert _times(wm, clock, "import", 3) == [0.0, 90.0, 180.0]
    assert _times(wm, clock, "reimport", 2) == [180.0, 270.0]


def test_other_calls_are_one_per_second_and_feature_queries_twenty(clock: FakeClock) -> None:
    wm = Client(private_key=KEY, clock=clock)
    for family in ("list", "create", "get", "update", "delete"):
        start = clock.monotonic()
        assert [t - start for t in _times(wm, clock, family, 3)] == [0.0, 1.0, 2.0]
    start = clock.monotonic()
    times = [t - start for t in _times(wm, clock, "features", 22)]
    assert times[:20] == [0.0] * 20 and times[20] == pytest.approx(0.05) and times[21] == pytest.approx(0.10)


def test_the_status_limit_is_the_floor_of_every_wait(clock: FakeClock) -> None:
    from dataferry.wait import PollPolicy

    eager = Client(private_key=KEY, clock=clock, poll=PollPolicy(initial=0.01, maximum=0.1))
    policy = eager.import_run(DID)._policy()
    assert policy.floor == 5.0 and policy.initial == 5.0


def test_rate_limits_scale_for_emulators_and_tests(clock: FakeClock) -> None:
    wm = Client(private_key=KEY, clock=clock, rate_limits=0.01)
    assert _times(wm, clock, "status", 3) == pytest.approx([0.0, 0.05, 0.10])
    assert wm.import_run(DID)._policy().floor == pytest.approx(0.05)
    custom = limits_from(RATE_LIMITS, {"status": Rate(2, 1.0), "import": [Rate(1, 10.0), Rate(3, 60.0)]})
    assert custom["status"] == (Rate(2, 1.0),) and custom["import"] == (Rate(1, 10.0), Rate(3, 60.0))
    assert custom["list"] == RATE_LIMITS["list"]


@pytest.mark.parametrize(
    "value,message",
    [
        (0, "> 0"),
        (-1.0, "> 0"),
        ({"stat": Rate(1, 1.0)}, "unknown rate-limit family"),
        ({"status": 5}, "Rate"),
        ({"status": []}, "Rate"),
        ("fast", "scale factor"),
    ],
)
def test_bad_rate_limit_overrides_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Client(private_key=KEY, rate_limits=value)  # type: ignore[arg-type]
