"""Request shapes and answers on the wire (``responses``): create / get / cancel, the
``{code, message, data}`` envelope whether HTTP or only JSON carries the error, 429 waits and
the client-side quotas."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.errors import BadRequest, NotFound, PermissionDenied, RateLimited, ServerError
from dataferry.http import Rate
from dataferry.providers.mytracker import Client, ExportNotCancellable
from dataferry.providers.mytracker.auth import signature
from dataferry.providers.mytracker.client import QUOTAS

BASE = "https://tracker.my.com"
CREATE = f"{BASE}/api/raw/v1/export/create.json"
GET = f"{BASE}/api/raw/v1/export/get.json"
CANCEL = f"{BASE}/api/raw/v1/export/cancel.json"
SECRET = "unit-test-secret-key"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


def ok(data: object) -> dict[str, object]:
    return {"code": 200, "message": "Ok", "data": data}


def quota_body(reset: int) -> dict[str, object]:
    return {
        "code": 429,
        "message": "Too Many Requests",
        "data": {
            "error": {
                "info": {
                    "quotas": [
                        {
                            "name": "RequestsByUserPerMinute",
                            "count": 100,
                            "limit": 100,
                            "resetTime": 1793000000,
                            "resetInSecond": reset,
                            "exceeded": True,
                        }
                    ]
                }
            }
        },
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=NOW)


@pytest.fixture
def mt(clock: FakeClock) -> Client:
    return Client(api_user_id="77658", secret_key=SECRET, clock=clock)


@responses.activate
def test_create_posts_a_signed_form_body_and_returns_the_export(mt: Client) -> None:
    responses.post(CREATE, json=ok({"idRawExport": "42"}))
    export = mt.create_export(
        "payments",
        ["idApp", "tsEvent", "revenue"],
        date_from="2026-11-01",
        date_to="2026-11-07",
        id_app=[1, 2],
        timezone="UTC",
    )
    sent = responses.calls[0].request
    assert sent.method == "POST" and sent.url == CREATE
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(sent.body) == [
        ("event", "payments"),
        ("selectors", "idApp,tsEvent,revenue"),
        ("dateFrom", "2026-11-01"),
        ("dateTo", "2026-11-07"),
        ("timezone", "UTC"),
        ("idApp", "1,2"),
    ]
    assert sent.headers["Authorization"] == f"AuthHMAC 77658:{signature(SECRET, 'POST', CREATE, sent.body)}"
    assert export.id == "42" and export.attempts == ["42"]
    assert dict(export.params)["event"] == "payments"


@responses.activate
def test_create_is_not_resent_after_a_server_error(mt: Client) -> None:
    responses.post(CREATE, json={"code": 500, "message": "Internal Server Error", "data": None}, status=500)
    with pytest.raises(ServerError):
        mt.create_export("installs", ["idApp"], date_from="2026-11-01", date_to="2026-11-02")
    assert len(responses.calls) == 1


@responses.activate
def test_status_maps_in_progress_with_percentage_and_cancellable(mt: Client) -> None:
    responses.get(
        GET, json=ok({"idRawExport": "4", "status": "In progress", "progress": "64%", "isCancellable": False})
    )
    status = mt.export(4).status()
    assert responses.calls[0].request.url == f"{GET}?idRawExport=4"
    assert (status.state.value, status.raw, status.progress) == ("running", "In progress", 0.64)
    assert status.message == "can no longer be cancelled"


@pytest.mark.parametrize("http_status", [404, 200])
@responses.activate
def test_not_found_whether_http_or_only_json_code_says_so(mt: Client, http_status: int) -> None:
    body = {"code": 404, "message": "Not Found", "data": {"error": {"detail": "Raw export request not found"}}}
    responses.get(GET, json=body, status=http_status)
    with pytest.raises(NotFound) as info:
        mt.export(4).status()
    assert info.value.vendor_message == "Raw export request not found"
    assert info.value.status == 404 and "idRawExport=4" in info.value.url
    assert "check the export id" in str(info.value)


@pytest.mark.parametrize("http_status", [403, 200])
@responses.activate
def test_access_denied_whether_http_or_only_json_code_says_so(mt: Client, http_status: int) -> None:
    responses.get(GET, json={"code": 403, "message": "Access denied", "data": None}, status=http_status)
    with pytest.raises(PermissionDenied) as info:
        mt.export(4).status()
    assert info.value.vendor_message == "Access denied"
    assert "MYTRACKER_SECRET_KEY" in str(info.value) and SECRET not in str(info.value)


@responses.activate
def test_bad_request_detail_is_the_message(mt: Client) -> None:
    responses.post(
        CREATE,
        json={
            "code": 400,
            "message": "Bad Request",
            "data": {"error": {"detail": "Unknown selectors for event installs: foo"}},
        },
    )
    with pytest.raises(BadRequest, match="Unknown selectors for event installs: foo"):
        mt.create_export("installs", ["foo"], date_from="2026-11-01", date_to="2026-11-02")


@responses.activate
def test_cancel_sends_cancel_json_and_maps_the_refusal(mt: Client) -> None:
    responses.get(CANCEL, json=ok({"idRawExport": "4", "info": "Canceled"}))
    export = mt.export(4)
    export.cancel()
    assert responses.calls[0].request.url == f"{CANCEL}?idRawExport=4"
    assert export.last_status is not None and export.last_status.state.value == "cancelled"
    responses.replace(
        responses.GET,
        CANCEL,
        json={
            "code": 400,
            "message": "Bad Request",
            "data": {"error": {"detail": "This RawExport can not be cancel (it's completed)"}},
        },
        status=400,
    )
    with pytest.raises(ExportNotCancellable, match="can not be cancel"):
        export.cancel()


@pytest.mark.parametrize("http_status", [429, 200])
@responses.activate
def test_429_waits_for_reset_in_second_then_succeeds(mt: Client, clock: FakeClock, http_status: int) -> None:
    responses.get(GET, json=quota_body(7), status=http_status)
    responses.get(GET, json=ok({"idRawExport": "4", "status": "In progress", "progress": "10%"}))
    status = mt.export(4).status()
    assert status.progress == 0.1
    assert len(responses.calls) == 2
    waits = [s for s in clock.sleeps if s > 0]
    assert len(waits) == 1 and 7.0 <= waits[0] <= 7.7


@responses.activate
def test_429_that_persists_is_a_rate_limited_error_with_the_reset(clock: FakeClock) -> None:
    mt = Client(api_user_id="77658", secret_key=SECRET, clock=clock, max_attempts=2)
    responses.get(GET, json=quota_body(30), status=429)
    with pytest.raises(RateLimited) as info:
        mt.export(4).status()
    assert info.value.retry_after == 30.0
    assert "RequestsByUserPerMinute" in str(info.value) and "10 requests a second" in str(info.value)


def test_documented_quotas_are_the_client_rate_limits() -> None:
    assert QUOTAS["api"] == (Rate(10, 1.0), Rate(100, 60.0), Rate(1000, 3600.0))


@responses.activate
def test_client_keeps_to_the_quotas(clock: FakeClock) -> None:
    responses.get(GET, json=ok({"idRawExport": "4", "status": "In progress", "progress": "1%"}))
    mt = Client(api_user_id="77658", secret_key=SECRET, clock=clock)
    export = mt.export(4)
    for _ in range(10):
        export.status()
    assert sum(clock.sleeps) == 0  # a burst of 10 fits the per-second quota
    export.status()
    assert clock.sleeps[-1] == pytest.approx(0.1)  # the 11th waits for a token

    # the same limiter, without HTTP: 200 calls need a minute, 2000 need an hour
    start = clock.monotonic()
    for _ in range(189):
        mt.http.limiter.acquire("api")
    assert clock.monotonic() - start == pytest.approx(60 * (200 - 100) / 100, rel=0.02)
    for _ in range(1800):
        mt.http.limiter.acquire("api")
    assert clock.monotonic() - start == pytest.approx(3600 * (2000 - 1000) / 1000, rel=0.02)

    unlimited = Client(api_user_id="77658", secret_key=SECRET, clock=FakeClock(wall=NOW), rate_limits=False)
    for _ in range(20):
        unlimited.export(4).status()
    assert unlimited.clock.sleeps == []  # type: ignore[attr-defined]


@responses.activate
def test_expired_link_is_refreshed_with_one_more_get_before_downloading(mt: Client, clock: FakeClock) -> None:
    old = "https://rawdata.example.com/storage/download/raw/4.payments.aaa.0.csv.gz"
    new = "https://rawdata.example.com/storage/download/raw/4.payments.bbb.0.csv.gz"
    responses.get(
        GET,
        json=ok(
            {
                "idRawExport": "4",
                "status": "Success!",
                "files": [{"link": old, "timestampExpires": str(int(NOW + 600))}],
            }
        ),
    )
    export = mt.export(4)
    export.wait(progress="off")
    clock.advance(3600)  # the link is now dead by the client's clock
    responses.replace(
        responses.GET,
        GET,
        json=ok(
            {
                "idRawExport": "4",
                "status": "Success!",
                "files": [{"link": new, "timestampExpires": str(int(NOW + 7200))}],
            }
        ),
    )
    responses.get(new, body=gzip.compress(b"idApp,tsEvent\n1,1793491200\n2,1793491260\n"))
    df = export.to_pandas(progress="off")
    assert df.to_dict("list") == {"idApp": [1, 2], "tsEvent": [1793491200, 1793491260]}
    urls = [c.request.url for c in responses.calls]
    assert urls == [f"{GET}?idRawExport=4", f"{GET}?idRawExport=4", new]
    download = responses.calls[2].request
    assert download.headers["Authorization"] == f"AuthHMAC 77658:{signature(SECRET, 'GET', new)}"
