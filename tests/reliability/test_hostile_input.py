"""Property-based tests: the parsers that read what servers say ("try again in Ns",
``Retry-After``, progress percentages, deadlines, error bodies) never crash, never return
nonsense, and never hand back a wait that is negative, infinite or NaN (issue #15, part 5.6)."""

from __future__ import annotations

import math
from datetime import timedelta
from email.utils import formatdate
from typing import Any

from hypothesis import example, given, settings, strategies as st

from dataferry.errors import ApiError, InvalidArgument
from dataferry.http.errormap import ErrorMap, find_errors, find_message
from dataferry.http.retry import backoff_delay, parse_retry_after, parse_try_again
from dataferry.providers.brightdata.params import deadline_param
from dataferry.providers.mytracker.export import parse_progress
from dataferry.redact import Redactor
from dataferry.wait import PollPolicy, next_delay

NOW = 1_800_000_000.0
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def a_wait(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and value >= 0)


@given(st.text(max_size=200))
def test_try_again_in_never_gives_a_bad_wait(text: str) -> None:
    assert a_wait(parse_try_again(text))


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.sampled_from(["s", "sec", "seconds", "ms", "m", "min", "h"]),
)
def test_try_again_in_reads_every_unit(number: float, unit: str) -> None:
    shown = f"{number:.3f}".rstrip("0").rstrip(".")
    got = parse_try_again(f"Snapshot is building, try again in {shown}{unit}")
    factor = {"ms": 0.001, "m": 60, "min": 60, "h": 3600}.get(unit, 1)
    assert got is not None and math.isclose(got, float(shown) * factor, rel_tol=1e-9)


@given(st.text(max_size=80))
def test_retry_after_never_gives_a_bad_wait(value: str) -> None:
    assert a_wait(parse_retry_after(value, NOW))


@given(st.integers(min_value=-(10**6), max_value=10**9))
def test_retry_after_in_seconds_and_as_a_date(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == max(0, seconds)
    date = formatdate(NOW + seconds, usegmt=True) if -(10**6) < seconds < 10**8 else None
    if date is not None:
        got = parse_retry_after(date, NOW)
        assert got is not None and abs(got - max(0, seconds)) <= 1


@given(st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
@example("inf")
@example("-inf")
@example("nan")
@example("1e400")
def test_retry_after_of_odd_numbers(value: Any) -> None:
    assert a_wait(parse_retry_after(str(value), NOW))


@given(st.integers(min_value=1, max_value=50), st.none() | st.floats(allow_nan=True, allow_infinity=True))
def test_backoff_and_poll_delays_stay_bounded(attempt: int, hint: float | None) -> None:
    delay = backoff_delay(attempt, hint=hint)
    assert math.isfinite(delay) and 0 <= delay <= 61
    poll = next_delay(None, PollPolicy(floor=1.0), hint=hint)
    assert math.isfinite(poll) and poll >= 1.0


@given(json_values | st.text(max_size=30).map(lambda s: s + "%"))
@example("nan%")
@example("inf")
@example("-1e400%")
def test_progress_is_a_fraction_or_nothing(value: Any) -> None:
    got = parse_progress(value)
    assert got is None or (math.isfinite(got) and 0.0 <= got <= 1.0)
    if isinstance(value, str) and value.strip().lower().rstrip("%") in ("nan", "inf", "-1e400"):
        assert got is None  # no figure, rather than a made-up 100 %


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_progress_reads_percentages(percent: float) -> None:
    assert math.isclose(parse_progress(f"{percent}%") or 0.0, percent / 100, abs_tol=1e-12)


@given(
    st.text(max_size=12) | st.integers() | st.timedeltas(min_value=timedelta(seconds=-10), max_value=timedelta(days=3))
)
def test_deadlines_are_validated_or_refused(value: Any) -> None:
    try:
        wire = deadline_param(value)
    except InvalidArgument:
        return
    assert wire is not None and wire[:-1].isdigit() and int(wire[:-1]) > 0 and wire[-1] in "hms"


@settings(max_examples=300)
@given(json_values, st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503]))
def test_any_error_body_becomes_a_typed_error_with_a_one_line_message(body: Any, status: int) -> None:
    message = find_message(body)
    assert message is None or isinstance(message, str)
    assert isinstance(find_errors(body), list)
    error = ErrorMap("vendor").exception(status, body, method="GET", url="https://x/y", redactor=Redactor(["s3cr3t"]))
    assert isinstance(error, ApiError) and error.status == status
    assert str(error).splitlines()[0].startswith("vendor HTTP")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=6, max_size=30), json_values)
def test_a_secret_anywhere_in_an_error_body_is_masked(secret: str, body: Any) -> None:
    if not secret.strip() or len(secret.strip()) < 6:
        return
    secret = secret.strip()
    wrapped = {"error": f"bad token {secret}", "detail": [body, secret], "echo": {"key": secret}}
    error = ErrorMap("vendor").exception(400, wrapped, method="GET", url="https://x/y", redactor=Redactor([secret]))
    assert secret not in str(error) and secret not in repr(error.body)
