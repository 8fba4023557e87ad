"""The retry policy's pure functions."""

from __future__ import annotations

import random

import pytest

from dataferry.http.retry import Failure, backoff_delay, parse_retry_after, parse_try_again, should_retry


@pytest.mark.parametrize(
    ("idempotent", "status", "failure", "expected"),
    [
        (False, 429, None, True),  # nothing was created: always safe
        (True, 429, None, True),
        (False, 500, None, False),  # a trigger may have run: never re-sent
        (False, 503, None, False),
        (True, 503, None, True),
        (True, 502, None, True),
        (True, 400, None, False),
        (True, 404, None, False),
        (False, None, Failure.NOT_SENT, True),  # connection refused: never reached the server
        (False, None, Failure.MAYBE_SENT, False),  # read timeout after sending
        (True, None, Failure.MAYBE_SENT, True),
    ],
)
def test_should_retry_matrix(idempotent: bool, status: int | None, failure: Failure | None, expected: bool) -> None:
    assert should_retry(idempotent=idempotent, status=status, failure=failure) is expected


def test_backoff_grows_and_stays_within_equal_jitter_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 8):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        for _ in range(50):
            d = backoff_delay(attempt, rng=rng)
            assert ceiling / 2 <= d <= ceiling


def test_backoff_honours_server_hint_up_to_the_cap() -> None:
    rng = random.Random(2)
    assert 12.0 <= backoff_delay(1, hint=12.0, rng=rng) <= 13.2
    assert 60.0 <= backoff_delay(1, hint=3600.0, rng=rng) <= 61.0


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7", now=0) == 7.0
    assert parse_retry_after(" 2.5 ", now=0) == 2.5
    # Wed, 21 Oct 2015 07:28:00 GMT is 1445412480
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490) == 0.0
    assert parse_retry_after(None, now=0) is None
    assert parse_retry_after("soon", now=0) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Snapshot is not ready yet, try again in 10s", 10.0),
        ("Snapshot is building, try again in 10s", 10.0),
        ("Dataset is not ready yet, try again in 30s", 30.0),
        ("try again in 2 minutes", 120.0),
        ("Try again in 1.5 seconds", 1.5),
        ("try again in 500ms", 0.5),
        ("Dataset is not ready yet, try again in XXs", None),
        ("nothing to see", None),
        (None, None),
    ],
)
def test_parse_try_again(text: str | None, seconds: float | None) -> None:
    assert parse_try_again(text) == seconds
