"""Error answers → typed exceptions."""

from __future__ import annotations

import pytest

from dataferry.errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnprocessableEntity,
)
from dataferry.http.errormap import ErrorMap, Rule, find_errors, find_message
from dataferry.providers.brightdata.errors import SnapshotExpired
from dataferry.redact import Redactor

RED = Redactor(["tok-SECRET-123"])


def build(status: int, body: object, emap: ErrorMap | None = None, **kw: object) -> ApiError:
    emap = emap or ErrorMap("acme")
    return emap.exception(status, body, method="GET", url="https://api.example.com/x", redactor=RED, **kw)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (402, PaymentRequired),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (422, UnprocessableEntity),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, ApiError),
    ],
)
def test_status_table(status: int, cls: type[ApiError]) -> None:
    exc = build(status, {"error": "boom"})
    assert type(exc) is cls
    assert exc.status == status and exc.vendor_message == "boom"
    assert "acme HTTP" in str(exc) and "GET https://api.example.com/x" in str(exc)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "Snapshot does not exist"}, "Snapshot does not exist"),
        ({"detail": "Unable to locate credentials."}, "Unable to locate credentials."),
        ({"details": "Dataset not found"}, "Dataset not found"),
        ({"message": "Bad Request", "code": 400}, "Bad Request"),
        (
            {"code": 404, "message": "", "data": {"error": {"detail": "Raw export request not found"}}},
            "Raw export request not found",
        ),
        ("plain text failure", "plain text failure"),
        ("<html><head><title>429 Too Many Requests</title></head><body>x</body></html>", "429 Too Many Requests"),
    ],
)
def test_message_is_found_in_every_vendor_shape(body: object, message: str) -> None:
    assert find_message(body) == message


def test_validation_errors_are_listed_in_the_message() -> None:
    exc = build(400, {"validation_errors": ["limit_per_input must be >= 1", "format is invalid"]})
    assert exc.errors == ["limit_per_input must be >= 1", "format is invalid"]
    assert "  - format is invalid" in str(exc)


def test_fastapi_422_lists_each_loc_and_msg() -> None:
    body = {
        "detail": [
            {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["body", "url"], "msg": "invalid url", "type": "value_error"},
        ]
    }
    exc = build(422, body)
    assert isinstance(exc, UnprocessableEntity)
    assert "body.name: field required" in str(exc) and "body.url: invalid url" in str(exc)
    assert find_errors(body) == body["detail"]


def test_vendor_rules_pick_a_specific_class_first() -> None:
    emap = ErrorMap("brightdata", rules=(Rule(SnapshotExpired, 400, r"snapshot is expired"),))
    assert isinstance(build(400, {"error": "Snapshot is expired"}, emap), SnapshotExpired)
    assert type(build(400, {"error": "Snapshot is empty"}, emap)) is BadRequest


def test_rate_limited_carries_the_wait() -> None:
    exc = build(429, {"error": "slow down"}, retry_after=12.0)
    assert isinstance(exc, RateLimited) and exc.retry_after == 12.0
    emap = ErrorMap("mt", retry_after=lambda body: float(body["reset"]))
    assert build(429, {"error": "x", "reset": 7}, emap).retry_after == 7.0


def test_secrets_are_masked_in_message_and_body() -> None:
    exc = build(401, {"error": "token tok-SECRET-123 is invalid", "token": "tok-SECRET-123"})
    assert "tok-SECRET-123" not in str(exc)
    assert "tok-SECRET-123" not in repr(exc.body)
    assert exc.hint  # 401 always says what to check
