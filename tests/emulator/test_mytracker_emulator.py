"""The myTracker emulator on its own, over raw HTTP with a signer written here (not the client's):
signatures, both parameter placements, the export lifecycle, the files, expiring links,
quotas, cancel and the outcomes a request can ask for."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import hmac
import io
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests

FAST = {"step_seconds": 0.05, "steps": 3, "rows_per_day": 40, "rows_per_file": 100, "rate_limits": False}
"""Fast exports, several files each, and no quotas (the quota tests start their own emulator)."""
WEEK = {"dateFrom": "2026-11-01", "dateTo": "2026-11-07"}
CREATE = "/api/raw/v1/export/create.json"
GET = "/api/raw/v1/export/get.json"
CANCEL = "/api/raw/v1/export/cancel.json"


def call(
    emu: Any,
    method: str,
    path_or_url: str,
    *,
    params: Any = None,
    data: Any = None,
    secret: str | None = None,
    user: str | None = None,
    headers: dict[str, str] | None = None,
    sign_url: str | None = None,
    signed: bool = True,
) -> requests.Response:
    """Send a request signed as myTracker documents it."""
    url = path_or_url if path_or_url.startswith("http") else emu.base_url + path_or_url
    prepared = requests.Request(method, url, params=params, data=data, headers=headers).prepare()
    if signed:
        body = prepared.body or ""
        line = f"{method}&{quote(sign_url or prepared.url, safe='~')}&{quote(body, safe='~')}"
        key = (secret or emu.credentials["secret_key"]).encode()
        sig = base64.b64encode(hmac.new(key, line.encode(), hashlib.sha1).digest()).decode()
        prepared.headers["Authorization"] = f"AuthHMAC {user or emu.credentials['api_user_id']}:{sig}"
    with requests.Session() as s:
        return s.send(prepared)


def create(emu: Any, **params: Any) -> str:
    answer = call(emu, "POST", CREATE, data={"event": "installs", "selectors": "idApp,tsEvent", **WEEK, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 200 and body["message"] == "Ok"
    return body["data"]["idRawExport"]


def status(emu: Any, export_id: str) -> dict[str, Any]:
    answer = call(emu, "GET", GET, params={"idRawExport": export_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def finish(emu: Any, export_id: str) -> dict[str, Any]:
    emu.app.advance(10)
    return status(emu, export_id)


def read_part(emu: Any, link: str) -> list[list[str]]:
    answer = call(emu, "GET", link)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/gzip"
    return list(csv.reader(io.StringIO(gzip.decompress(answer.content).decode())))


@pytest.fixture
def emu(start_emulator: Callable[..., Any]) -> Any:
    return start_emulator("mytracker", **FAST)


# -- auth -------------------------------------------------------------------------------------------
def test_access_denied_body_for_missing_or_wrong_signatures(emu: Any) -> None:
    denied = {"code": 403, "message": "Access denied", "data": None}
    cases = [
        call(emu, "GET", GET, params={"idRawExport": 1}, signed=False),
        call(emu, "GET", GET, params={"idRawExport": 1}, secret="not-the-secret"),
        call(emu, "GET", GET, params={"idRawExport": 1}, user="12345"),
        call(emu, "GET", GET, params={"idRawExport": 1}, sign_url=f"{emu.base_url}{GET}?idRawExport=2"),
        call(emu, "POST", CREATE, data={"event": "installs"}, headers={"Authorization": "Bearer abc"}, signed=False),
    ]
    for answer in cases:
        assert (answer.status_code, answer.json()) == (403, denied)


def test_form_body_is_covered_by_the_signature(emu: Any) -> None:
    url = emu.base_url + CREATE
    prepared = requests.Request("POST", url, data={"event": "installs", "selectors": "idApp", **WEEK}).prepare()
    line = f"POST&{quote(url, safe='~')}&"  # signed as if the body were empty
    sig = base64.b64encode(hmac.new(emu.credentials["secret_key"].encode(), line.encode(), hashlib.sha1).digest())
    prepared.headers["Authorization"] = f"AuthHMAC {emu.credentials['api_user_id']}:{sig.decode()}"
    with requests.Session() as s:
        assert s.send(prepared).status_code == 403


def test_credentials_and_description(emu: Any) -> None:
    assert emu.credentials == {"api_user_id": "77658", "secret_key": emu.app.secret_key}
    about = emu.app.describe()
    assert "payments" in about["events"] and "9100" in about["idApp values that choose an outcome"]


def test_the_emulator_imports_nothing_from_the_client_side() -> None:
    code = (
        "import sys, dataferry.emulator.mytracker; "
        "print(sorted(m for m in sys.modules if m.startswith('dataferry') and not m.startswith('dataferry.emulator')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(eval(out)) <= {"dataferry", "dataferry.errors", "dataferry.redact", "dataferry.version"}


# -- create -----------------------------------------------------------------------------------------
def test_parameters_in_query_or_form_body_give_the_same_export(emu: Any) -> None:
    params = {"event": "payments", "selectors": "idApp,tsEvent,revenue", **WEEK}
    by_query = call(emu, "POST", CREATE, params={**params, "idApp": "1,2"}).json()["data"]["idRawExport"]
    by_form = call(emu, "POST", CREATE, data=[*params.items(), ("idApp[]", "1"), ("idApp[]", "2")]).json()
    other = by_form["data"]["idRawExport"]
    assert by_query != other
    assert emu.app.rows(by_query).equals(emu.app.rows(other))
    assert set(emu.app.rows(other).column("idApp").to_pylist()) == {1, 2}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"event": ""}, "The event parameter is required"),
        ({"event": "purchases"}, "Unknown event: purchases"),
        ({"selectors": ""}, "The selectors parameter is required"),
        ({"selectors": "idApp,shoeSize"}, "Unknown selectors for event installs: shoeSize"),
        ({"dateFrom": "2026-11-07", "dateTo": "2026-11-01"}, "dateFrom must not be more than dateTo"),
        ({"dateTo": "2099-01-01"}, "dateTo cannot be more than the current date"),
        ({"dateFrom": "1969-12-31"}, "dateFrom cannot be less than 1970-01-01"),
        ({"dateFrom": "01/11/2026"}, "dateFrom must be a date in the format YYYY-MM-DD"),
        ({"dateFrom": "", "dateTo": ""}, "A period is required"),
        ({"dateTo": ""}, "dateFrom and dateTo must be given together"),
        ({"tsFrom": "1793491200", "tsTo": "1793500000"}, "Give either dateFrom and dateTo or tsFrom and tsTo"),
        ({"timezone": "Mars/Olympus"}, "Unknown timezone: Mars/Olympus"),
        ({"idApp": "1,x"}, "idApp must be a list of integers"),
        ({"isVerified": "1"}, "isVerified is only available for payments events"),
        ({"idSegment": "1", "event": "payments"}, "idSegment is only available for events hits and installs"),
        ({"eventName[]": "level_up"}, "eventName is only available for events customEvents and userCustomEvents"),
        ({"rooted": "2"}, "rooted must be 0 or 1"),
    ],
)
def test_bad_parameters_answer_400_with_a_detail(emu: Any, params: dict[str, str], detail: str) -> None:
    data = {"event": "installs", "selectors": "idApp,tsEvent", **WEEK, **params}
    answer = call(emu, "POST", CREATE, data={k: v for k, v in data.items() if v is not None})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 400 and body["message"] == "Bad Request"
    assert body["data"]["error"]["detail"].startswith(detail)


def test_future_timestamps_and_fresh_availability_windows_are_refused(emu: Any) -> None:
    now = int(time.time())
    late = call(
        emu, "POST", CREATE, data={"event": "installs", "selectors": "idApp", "tsFrom": now - 60, "tsTo": now + 3600}
    )
    fresh = call(
        emu,
        "POST",
        CREATE,
        data={
            "event": "installs",
            "selectors": "idApp",
            "availabilityTsFrom": now - 7200,
            "availabilityTsTo": now - 3600,
        },
    )
    assert late.json()["data"]["error"]["detail"] == "tsTo cannot be more than the current timestamp"
    assert fresh.json()["data"]["error"]["detail"].startswith("availabilityTsTo must be less than")


def test_create_is_post_only(emu: Any) -> None:
    answer = call(emu, "GET", CREATE, params={"event": "installs"})
    assert answer.status_code == 405 and answer.json()["code"] == 405


# -- lifecycle ------------------------------------------------------------------------------------
def test_export_rises_through_in_progress_to_success(emu: Any) -> None:
    export_id = create(emu)
    first = status(emu, export_id)
    assert first == {"idRawExport": export_id, "status": "In progress", "progress": "0%", "isCancellable": True}
    emu.app.advance(0.06)
    assert status(emu, export_id)["progress"] == "33%"
    emu.app.advance(0.05)
    second = status(emu, export_id)
    assert (second["progress"], second["isCancellable"]) == ("67%", False)
    done = finish(emu, export_id)
    assert done["status"] == "Success!" and set(done) == {"idRawExport", "status", "files"}
    for k, f in enumerate(done["files"]):
        assert f["link"].startswith(f"{emu.base_url}/storage/download/raw/{export_id}.installs.")
        assert f["link"].endswith(f".{k}.csv.gz")
        assert isinstance(f["timestampExpires"], str) and int(f["timestampExpires"]) > time.time() + 3000


def test_files_are_gzip_csv_with_the_selectors_as_header_and_unix_timestamps(emu: Any) -> None:
    export_id = create(emu, selectors="tsEvent,idApp,revenue,dtEvent", event="payments", timezone="UTC")
    files = finish(emu, export_id)["files"]
    assert len(files) == 3  # 40 rows a day for 7 days, 100 per file
    rows = []
    for f in files:
        part = read_part(emu, f["link"])
        assert part[0] == ["tsEvent", "idApp", "revenue", "dtEvent"]
        rows += part[1:]
    assert [int(r[0]) for r in rows] == emu.app.rows(export_id).column("tsEvent").to_pylist()
    assert all(r[0].isdigit() and 1793491200 <= int(r[0]) < 1794096000 for r in rows)
    assert [float(r[2]) for r in rows] == emu.app.rows(export_id).column("revenue").to_pylist()
    first = rows[0]
    assert first[3] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(first[0])))


def test_downloads_need_the_signature_and_support_range(emu: Any) -> None:
    link = finish(emu, create(emu))["files"][0]["link"]
    assert call(emu, "GET", link, signed=False).status_code == 403
    whole = call(emu, "GET", link).content
    tail = call(emu, "GET", link, headers={"Range": "bytes=10-"})
    assert tail.status_code == 206 and tail.content == whole[10:]


def test_links_expire_and_a_later_get_issues_new_ones(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", steps=0, rows_per_day=10, link_ttl=600)
    export_id = create(emu)
    old = status(emu, export_id)["files"][0]
    assert status(emu, export_id)["files"][0] == old  # still fresh: the same link
    emu.app.advance(601)
    dead = call(emu, "GET", old["link"])
    assert dead.status_code == 404 and "expired" in dead.json()["data"]["error"]["detail"]
    new = status(emu, export_id)["files"][0]
    assert new["link"] != old["link"] and int(new["timestampExpires"]) > int(old["timestampExpires"])
    assert read_part(emu, new["link"])[0] == ["idApp", "tsEvent"]


def test_expire_fault_and_expire_links_kill_links(emu: Any) -> None:
    export_id = create(emu)
    link = finish(emu, export_id)["files"][0]["link"]
    emu.faults.add("expire", path="/storage/", times=1)
    assert call(emu, "GET", link).status_code == 404
    assert call(emu, "GET", link).status_code == 200
    emu.app.expire_links(export_id)
    assert call(emu, "GET", link).status_code == 404
    assert status(emu, export_id)["files"][0]["link"] != link


def test_unknown_export_is_404_and_missing_id_400(emu: Any) -> None:
    missing = call(emu, "GET", GET, params={"idRawExport": 404404})
    assert missing.status_code == 404
    assert missing.json() == {
        "code": 404,
        "message": "Not Found",
        "data": {"error": {"detail": "Raw export request not found"}},
    }
    assert call(emu, "GET", GET).status_code == 400


# -- outcomes chosen by the request -----------------------------------------------------------------
def test_error_apps_fail_the_first_n_exports_with_the_same_parameters(emu: Any) -> None:
    outcomes = [finish(emu, create(emu, idApp="1,9002"))["status"] for _ in range(3)]
    assert outcomes == ["Error occurred", "Error occurred", "Success!"]
    assert finish(emu, create(emu, idApp="9001", selectors="idApp"))["status"] == "Error occurred"
    assert finish(emu, create(emu, idApp="9001", selectors="idApp"))["status"] == "Success!"
    assert {finish(emu, create(emu, idApp="9009"))["status"] for _ in range(3)} == {"Error occurred"}
    failed = finish(emu, create(emu, idApp="9009"))
    assert failed == {"idRawExport": failed["idRawExport"], "status": "Error occurred"}


@pytest.mark.parametrize(
    ("app", "message"), [("9100", "Too many lines in one export"), ("9101", "Too much export data")]
)
def test_user_error_apps(emu: Any, app: str, message: str) -> None:
    export_id = create(emu, idApp=app)
    assert finish(emu, export_id) == {
        "idRawExport": export_id,
        "status": "User error occurred",
        "errorMessage": message,
    }


def test_max_rows_is_a_user_error(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", steps=0, rows_per_day=40, max_rows=100)
    assert status(emu, create(emu))["errorMessage"] == "Too many lines in one export"


def test_cancel_app_and_cancel_json(emu: Any) -> None:
    assert finish(emu, create(emu, idApp="9200"))["status"] == "Canceled by user"
    export_id = create(emu)
    answer = call(emu, "GET", CANCEL, params={"idRawExport": export_id})
    assert answer.json() == {"code": 200, "message": "Ok", "data": {"idRawExport": export_id, "info": "Canceled"}}
    assert finish(emu, export_id)["status"] == "Canceled by user"
    again = call(emu, "GET", CANCEL, params={"idRawExport": export_id})
    assert again.status_code == 400 and "it's completed" in again.json()["data"]["error"]["detail"]
    late = create(emu)
    emu.app.advance(0.11)  # 67 %: past the cancellable point
    refused = call(emu, "POST", CANCEL, data={"idRawExport": late})
    assert refused.status_code == 400
    assert refused.json()["data"]["error"]["detail"] == "This RawExport can not be cancel"
    assert call(emu, "GET", CANCEL, params={"idRawExport": 999999}).status_code == 404


# -- filters ------------------------------------------------------------------------------------------
def test_filters_select_the_rows(emu: Any) -> None:
    rows = emu.app.rows
    by_country = create(emu, selectors="idCountry,idApp", idCountry="188,200")
    assert set(rows(by_country).column("idCountry").to_pylist()) == {188, 200}
    by_key = create(emu, selectors="idApp", idApp="1", SDKKey="00004399666566289443")  # OR-combined
    assert set(rows(by_key).column("idApp").to_pylist()) == {1, 3}
    named = create(emu, event="customEvents", selectors="eventName", **{"eventName[]": ["level_up", "share"]})
    inverted = create(
        emu, event="customEvents", selectors="eventName", eventNameInvert="1", **{"eventName[]": ["level_up", "share"]}
    )
    assert set(rows(named).column("eventName").to_pylist()) == {"level_up", "share"}
    assert set(rows(inverted).column("eventName").to_pylist()) == {"tutorial_done", "purchase_click"}
    verified = create(emu, event="payments", selectors="isVerified,revenue", isVerified="1")
    assert set(rows(verified).column("isVerified").to_pylist()) == {1}
    assert min(rows(verified).column("revenue").to_pylist()) > 0


def test_timestamp_and_availability_periods(emu: Any) -> None:
    stamps = create(emu, selectors="tsEvent", dateFrom="", dateTo="", tsFrom="1793500000", tsTo="1793600000")
    ts = emu.app.rows(stamps).column("tsEvent").to_pylist()
    assert ts and min(ts) >= 1793500000 and max(ts) <= 1793600000
    avail = create(
        emu, selectors="tsEvent", dateFrom="", dateTo="", availabilityTsFrom="1793500000", availabilityTsTo="1793600000"
    )
    ts = emu.app.rows(avail).column("tsEvent").to_pylist()
    assert ts and max(ts) <= 1793600000 and min(ts) >= 1793500000 - 7200


def test_dates_are_read_in_the_timezone(emu: Any) -> None:
    moscow = emu.app.rows(create(emu, selectors="tsEvent", dateFrom="2026-11-02", dateTo="2026-11-02"))
    utc = emu.app.rows(create(emu, selectors="tsEvent", dateFrom="2026-11-02", dateTo="2026-11-02", timezone="UTC"))
    assert min(moscow.column("tsEvent").to_pylist()) >= 1793566800  # 2026-11-02 00:00 Moscow
    assert max(moscow.column("tsEvent").to_pylist()) < 1793653200
    assert min(utc.column("tsEvent").to_pylist()) >= 1793577600  # 2026-11-02 00:00 UTC
    assert max(utc.column("tsEvent").to_pylist()) < 1793664000


# -- quotas ---------------------------------------------------------------------------------------------
def test_user_quota_answers_429_with_reset_in_second(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", quotas={"user_per_second": 2})
    answers = [call(emu, "GET", GET, params={"idRawExport": 1}) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [404, 404]
    body = answers[2].json()
    assert answers[2].status_code == 429 and body["code"] == 429 and body["message"] == "Too Many Requests"
    (quota,) = body["data"]["error"]["info"]["quotas"]
    assert quota["name"] == "RequestsByUserPerSecond" and quota["limit"] == 2 and quota["exceeded"] is True
    assert quota["resetInSecond"] == 1 and quota["resetTime"] >= int(time.time())


def test_error_quota_blocks_until_the_window_ends(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", quotas={"errors_per_minute": 3})
    assert [call(emu, "GET", GET, params={"idRawExport": 9}).status_code for _ in range(3)] == [404] * 3
    blocked = call(emu, "GET", GET, params={"idRawExport": 9})
    assert blocked.status_code == 429
    quota = blocked.json()["data"]["error"]["info"]["quotas"][0]
    assert quota["name"] == "ErrorsByUserPerMinute" and 55 <= quota["resetInSecond"] <= 60


def test_unauthorised_quota(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", quotas={"unauthorized_per_second": 2})
    codes = [call(emu, "GET", GET, params={"idRawExport": 1}, signed=False).status_code for _ in range(3)]
    assert codes == [403, 403, 429]


def test_rate_limits_can_be_switched_off(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", quotas={"user_per_second": 1, "errors_per_minute": 1}, rate_limits=False)
    assert {call(emu, "GET", GET, params={"idRawExport": 1}).status_code for _ in range(5)} == {404}


def test_downloads_do_not_count_against_the_api_quota(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("mytracker", steps=0, rows_per_day=10, quotas={"user_per_second": 2})
    export_id = create(emu)
    link = status(emu, export_id)["files"][0]["link"]
    assert {call(emu, "GET", link).status_code for _ in range(4)} == {200}
