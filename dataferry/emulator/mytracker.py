"""myTracker Export API (raw data), emulated: create.json, get.json, cancel.json and the file
downloads, all signed with HMAC-SHA1, with myTracker's quotas and its ``{code, message, data}``
envelope (the HTTP status and the JSON ``code`` always agree here).

Behaviour follows ../shared/seeds/mytracker-raw-export-get.txt and the myTracker section of
../shared/api-notes.md:

* every request, downloads included, must carry ``Authorization: AuthHMAC <id>:<signature>``
  over ``METHOD & pct(full URL) & pct(body)``; anything else is answered 403 "Access denied";
* ``create.json`` takes its parameters in the query string (as the official Python client
  sends them) or in a form body (as the PHP client does), multi-value parameters as ``1,2``
  or ``idApp[]=1&idApp[]=2``; it answers ``{"idRawExport": "N"}``;
* an export is ``In progress`` for ``steps`` steps of ``step_seconds`` each, its percentage
  rising (0%, 25%, 50%, 75% by default) and ``isCancellable`` true below ``cancellable_below``,
  then ``Success!`` with one gzip CSV file per ``rows_per_file`` rows, each with a header row of
  exactly the requested selectors and unix-second timestamps;
* file links expire after ``link_ttl`` seconds; a ``get.json`` of a finished export issues new
  links when the current ones have less than :data:`REISSUE_MARGIN` seconds left; a dead link
  is answered 404 (the documentation does not say what myTracker answers);
* the per-user quotas (10/s, 100/min, 1000/h), the per-IP ones (100/s, 1000/min), the error
  quota (60 error answers a minute per client address, then blocked until the window ends) and
  the unauthorised one (10/s) answer 429
  with the documented quota list (``resetInSecond``); ``rate_limits=False`` switches them off.

Emulator-only controls (never sent by dataferry itself). The failure statuses are chosen by
the request, through these ``idApp`` values (mixed with real app ids as you like):

* ``9001`` … ``9008``: the first 1 … 8 exports created with exactly these parameters end
  ``Error occurred`` (so re-creating them eventually succeeds); ``9009``: every one does;
* ``9100``: ``User error occurred`` "Too many lines in one export"; ``9101``: "Too much export
  data" (an export with more than ``max_rows`` rows ends so anyway);
* ``9200``: the export ends ``Canceled by user`` (as if cancelled in the web interface).

Tests also reach the state directly: ``app.exports``, ``app.rows(id)`` (the rows an export
serves), ``app.expire_links(id)``, ``app.advance(seconds)`` (move the emulator's clock),
``app.faults`` (the ``expire`` fault makes a download answer the dead-link 404; chaos draws it
too, as the client survives it by asking ``get.json`` again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.chaos import DEFAULT_CHAOS_KINDS
from dataferry.emulator.data import FileCache, encode, gzip_bytes

API_USER_ID = "77658"
"""The API user id the emulator accepts by default."""

SECRET_KEY = "emulator-mytracker-secret-key-0001"
"""The secret key the emulator accepts by default."""

EVENTS = (
    "activities", "adMonetization", "appUpdates", "appleSKANpostbacks", "customEvents", "deeplinks",
    "deviceAuthorisations", "deviceRegistrations", "hits", "installs", "newDevices", "partnerSKANpostbacks",
    "payments", "reengagements", "reinstalls", "sessions", "testPayments", "trialPayments",
    "newUsers", "userActivities", "userAdMonetization", "userAuthorisations", "userCustomEvents", "userDeeplinks",
    "userHits", "userPayments", "userReengagements", "userRegistrations", "userSessions", "userTrialPayments",
)
"""The Events dictionary."""

PAYMENT_EVENTS = frozenset({"payments", "userPayments", "testPayments", "trialPayments", "userTrialPayments"})
"""Events that take ``isVerified`` and ``idPurchaseType`` (and carry revenue)."""

CUSTOM_EVENTS = frozenset({"customEvents", "userCustomEvents"})
"""Events that take ``eventName[]`` and ``eventNameInvert``."""

AD_MONETIZATION_EVENTS = frozenset({"adMonetization", "userAdMonetization"})
"""Events that take ``idAdMediator``."""

SEGMENT_EVENTS = frozenset({"hits", "installs"})
"""Events that take ``idSegment``."""

SELECTORS = {
    "idApp": "app id", "idAccount": "account id", "idProject": "project id", "idCampaign": "campaign id",
    "idAd": "tracking link id", "idPartner": "partner id", "idPartnerTitle": "partner name",
    "idCountry": "country id", "idAdEventTypeTitle": "click or view", "tsEvent": "event time (unix s)",
    "tsClick": "click time (unix s)", "tsView": "view time (unix s)", "dtEvent": "event time, local text",
    "advertisingId": "advertising id", "customUserId": "user id", "revenue": "revenue",
    "isVerified": "payment verified (0/1)", "idPurchaseType": "purchase type", "eventName": "custom event name",
    "idAdMediator": "ad mediator", "idSegment": "segment id", "rooted": "jailbreak / root (0/1)",
}
"""The selectors the emulator can serve, with what each column holds."""

APPS = (1, 2, 3)
"""App ids the synthetic events belong to."""

SDK_KEYS = {1: "00004399666566289441", 2: "00004399666566289442", 3: "00004399666566289443"}
"""The SDK key of each app (the ``SDKKey`` filter)."""

PARTNERS = {10000: "Organic", 10006: "VK Ads", 10008: "Partnér Ünïcode", 10012: "Mail, Inc."}
"""Partner ids and names (``idPartnerTitle``; one needs CSV quoting, one is not ASCII)."""

COUNTRIES = (188, 200, 215, 56, 43)
"""Country ids the synthetic events come from."""

CUSTOM_NAMES = ("level_up", "tutorial_done", "purchase_click", "share")
"""Custom event names (``eventName``)."""

ERROR_APPS = range(9001, 9010)
"""``idApp`` 9001–9008: the first N exports with these parameters end "Error occurred"; 9009: all do."""

ALWAYS_ERROR_APP = 9009
"""``idApp`` whose exports always end "Error occurred"."""

USER_ERROR_APPS = {9100: "Too many lines in one export", 9101: "Too much export data"}
"""``idApp`` values whose exports end "User error occurred" with this ``errorMessage``."""

CANCEL_APP = 9200
"""``idApp`` whose exports end "Canceled by user"."""

REISSUE_MARGIN = 60.0
"""A finished export's get.json issues new links when the current ones have less time left."""

GENERATE_LIMIT = 5_000_000
"""Rows above which an export is refused as "Too much export data" without generating it."""

AVAILABILITY_DELAY = 3 * 3600
"""availabilityTsTo must be this many seconds in the past."""

DEFAULT_QUOTAS = {
    "user_per_second": 10, "user_per_minute": 100, "user_per_hour": 1000,
    "ip_per_second": 100, "ip_per_minute": 1000,
    "errors_per_minute": 60, "unauthorized_per_second": 10,
}
"""myTracker's documented quotas; ``quotas={...}`` overrides some of them."""

_QUOTA_WINDOWS = (
    ("user_per_second", "RequestsByUserPerSecond", 1.0), ("user_per_minute", "RequestsByUserPerMinute", 60.0),
    ("user_per_hour", "RequestsByUserPerHour", 3600.0),
)
_IP_WINDOWS = (("ip_per_second", "RequestsByIpPerSecond", 1.0), ("ip_per_minute", "RequestsByIpPerMinute", 60.0))

REASONS: dict[int, str] = {200: "Ok", 400: "Bad Request", 403: "Access denied", 404: "Not Found", 405: "Method Not Allowed",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
"""The envelope's ``message`` for each code."""

_NAME = re.compile(r"^(\d+)\.([A-Za-z]+)\.([0-9a-f]{32})\.(\d+)\.csv\.gz$")


def sign(secret: str, method: str, url: str, body: bytes | str = b"") -> str:
    """myTracker's signature: base64(HMAC-SHA1(secret, METHOD & pct(url) & pct(body)))."""
    line = f"{method.upper()}&{quote(url, safe='~')}&{quote(body or b'', safe='~')}"
    return base64.b64encode(hmac.new(secret.encode(), line.encode(), hashlib.sha1).digest()).decode()


class ParamError(ValueError):
    """A create.json parameter is wrong (answered 400 with this detail)."""


@dataclass
class RawExport:
    """One export on the emulated server."""

    id: str
    user: str
    event: str
    selectors: list[str]
    table: pa.Table | None
    created: float
    outcome: str  # success | error | user_error | cancelled
    error_message: str | None = None
    cancelled_at: float | None = None
    token: str = ""
    links_expire: float = 0.0
    issued: int = 0
    files: int = 1
    params: dict[str, list[str]] = field(default_factory=dict)


class MyTrackerEmulator(EmulatorApp):
    """The myTracker Export API (raw data) on 127.0.0.1.

    Args:
        api_user_id, secret_key: the credentials accepted.
        step_seconds: seconds per progress step of an export.
        steps: progress steps before an export finishes (``0``: finished at once).
        cancellable_below: progress fraction below which ``isCancellable`` is true.
        rows_per_day: synthetic events per day (before filters).
        rows_per_file: rows per gzip CSV part.
        max_rows: an export with more rows ends "User error occurred" ("Too many lines in one export").
        link_ttl: seconds a file link stays valid.
        storage_url: the root file links point at (default: this server), e.g. ``http://localhost:<port>``
            to put them on "another host".
        quotas: overrides of :data:`DEFAULT_QUOTAS`.
        seed: the data seed.
        first_id: the first ``idRawExport`` handed out.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``rate_limits=False``...).
    """

    vendor = "mytracker"
    chaos_kinds = (*DEFAULT_CHAOS_KINDS, "expire")  # a dead link is survived: get.json hands out links again

    def __init__(self, *, api_user_id: str = API_USER_ID, secret_key: str = SECRET_KEY, step_seconds: float = 1.0,
                 steps: int = 4, cancellable_below: float = 0.5, rows_per_day: int = 240, rows_per_file: int = 5000,
                 max_rows: int = 1_000_000, link_ttl: float = 3600.0, storage_url: str | None = None,
                 quotas: dict[str, int] | None = None, seed: int = 11, first_id: int = 1, **kw: Any) -> None:
        super().__init__(**kw)
        unknown = set(quotas or {}) - set(DEFAULT_QUOTAS)
        if unknown:
            raise ValueError(f"unknown quota {', '.join(sorted(unknown))}; choose from {', '.join(DEFAULT_QUOTAS)}")
        if rows_per_file < 1 or rows_per_day < 0 or steps < 0 or step_seconds < 0:
            raise ValueError("rows_per_file must be ≥ 1; rows_per_day, steps and step_seconds ≥ 0")
        self.api_user_id = str(api_user_id)
        self.secret_key = secret_key
        self.step_seconds = float(step_seconds)
        self.steps = int(steps)
        self.cancellable_below = float(cancellable_below)
        self.rows_per_day = int(rows_per_day)
        self.rows_per_file = int(rows_per_file)
        self.max_rows = int(max_rows)
        self.link_ttl = float(link_ttl)
        self.storage_url = storage_url
        self.quotas = {**DEFAULT_QUOTAS, **(quotas or {})}
        self.seed = int(seed)
        self.exports: dict[str, RawExport] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.files = FileCache(self.data_dir)
        self._ids = itertools.count(int(first_id))
        self._attempts: dict[tuple[str, ...], int] = {}
        self._offset = 0.0
        self._errors: dict[str, deque[float]] = {}
        self._errors_lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, list[str], str]]:
        raw = "/api/raw/v1/export"
        return [
            (f"{raw}/create.json", ["POST"], "create"),
            (f"{raw}/get.json", ["GET"], "get"),
            (f"{raw}/cancel.json", ["GET", "POST"], "cancel"),
            ("/storage/download/raw/<name>", ["GET"], "download"),
        ]

    def credentials(self) -> dict[str, str]:
        return {"api_user_id": self.api_user_id, "secret_key": self.secret_key}

    def describe(self) -> dict[str, Any]:
        return {
            "events": ", ".join(EVENTS),
            "selectors": ", ".join(SELECTORS),
            "apps with data": ", ".join(f"{a} (SDKKey {SDK_KEYS[a]})" for a in APPS),
            "idApp values that choose an outcome": {
                "9001..9008": "the first 1..8 exports with the same parameters end 'Error occurred'",
                "9009": "every export ends 'Error occurred'",
                "9100": "'User error occurred': Too many lines in one export",
                "9101": "'User error occurred': Too much export data",
                "9200": "'Canceled by user'",
            },
            "timings": f"{self.steps} steps of {self.step_seconds:g} s; links valid {self.link_ttl:g} s",
        }

    def error(self, status: int, message: str, **extra: Any) -> Response:
        data = None if status == 403 else {"error": {"detail": message, **extra}}
        return self.json({"code": status, "message": REASONS.get(status, "Error"), "data": data}, status)

    def ok(self, data: Any) -> Response:
        """The success envelope."""
        return self.json({"code": 200, "message": "Ok", "data": data})

    # -- clock and test controls ----------------------------------------------------------------
    def now(self) -> float:  # type: ignore[override]
        """Wall-clock seconds, moved forward by :meth:`advance`."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (exports progress, links expire)."""
        self._offset += float(seconds)

    def rows(self, export_id: str | int) -> pa.Table:
        """The rows an export serves, every part together, exactly as the CSV files hold them."""
        table = self.exports[str(export_id)].table
        if table is None:
            raise ValueError(f"export {export_id} has no data ({self.exports[str(export_id)].outcome})")
        return table

    def expire_links(self, export_id: str | int) -> None:
        """Make the current file links of an export dead now (the next get.json issues new ones)."""
        with self.lock:
            exp = self.exports[str(export_id)]
            exp.links_expire = self.now() - 1
            self.tokens[exp.token] = (exp.id, exp.links_expire)

    # -- auth, quotas -------------------------------------------------------------------------------
    def full_url(self, request: Request) -> str:
        """The URL as the client sent it (what the signature covers)."""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if raw and raw.startswith(("http://", "https://")):
            return raw
        if not raw:
            raw = quote(request.path) + (f"?{request.query_string.decode()}" if request.query_string else "")
        return f"{request.scheme}://{request.host}{raw}"

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        ip = request.remote_addr or "-"
        refused = self._window_quotas(("ip", ip), _IP_WINDOWS)
        if refused is not None:
            return refused
        blocked = self._error_block(ip)
        if blocked is not None:
            return blocked
        m = re.fullmatch(r"AuthHMAC\s+([^:\s]+):(\S+)", request.headers.get("Authorization", "").strip())
        good = False
        if m and m.group(1) == self.api_user_id:
            expected = sign(self.secret_key, request.method, self.full_url(request), request.get_data(cache=True))
            good = hmac.compare_digest(m.group(2), expected)
        if not good:
            wait = self.limited(("unauthorized", ip), self.quotas["unauthorized_per_second"], 1.0)
            if wait is not None:
                return self._quota_answer("RequestsUnauthorizedPerSecond", self.quotas["unauthorized_per_second"],
                                          wait)
            return self.error(403, "Access denied")
        if endpoint == "download":
            return None  # files are not API calls; the API quotas do not count them
        return self._window_quotas(("user", self.api_user_id), _QUOTA_WINDOWS)

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        if 400 <= response.status_code < 500 and response.status_code != 429 and self.rate_limits:
            with self._errors_lock:
                self._errors.setdefault(request.remote_addr or "-", deque()).append(time.monotonic())
        return response

    def _window_quotas(self, who: tuple[str, str], windows: tuple[tuple[str, str, float], ...]) -> Response | None:
        for key, name, seconds in windows:
            wait = self.limited((*who, key), self.quotas[key], seconds)
            if wait is not None:
                return self._quota_answer(name, self.quotas[key], wait)
        return None

    def _error_block(self, who: str) -> Response | None:
        if not self.rate_limits:
            return None
        limit = self.quotas["errors_per_minute"]
        now = time.monotonic()
        with self._errors_lock:
            q = self._errors.setdefault(who, deque())
            while q and now - q[0] >= 60.0:
                q.popleft()
            if len(q) < limit:
                return None
            wait = 60.0 - (now - q[0])
        return self._quota_answer("ErrorsByUserPerMinute", limit, wait)

    def _quota_answer(self, name: str, limit: int, wait: float) -> Response:
        reset = max(1, math.ceil(wait))
        quota = {"name": name, "count": limit, "limit": limit, "resetTime": int(self.now() + reset),
                 "resetInSecond": reset, "exceeded": True}
        body = {"code": 429, "message": REASONS[429], "data": {"error": {"info": {"quotas": [quota]}}}}
        return self.json(body, 429)

    # -- create ---------------------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        q = CombinedMultiDict([request.args, request.form])
        try:
            spec = self._parse(q)
        except ParamError as exc:
            return self.error(400, str(exc))
        apps = spec["idApp"]
        fingerprint = tuple(sorted(f"{k}={','.join(v)}" for k, v in spec["wire"].items()))
        with self.lock:
            attempt = self._attempts[fingerprint] = self._attempts.get(fingerprint, 0) + 1
            outcome, message, table = self._outcome(spec, apps, attempt)
            export_id = str(next(self._ids))
            files = max(1, math.ceil(table.num_rows / self.rows_per_file)) if table is not None else 1
            self.exports[export_id] = RawExport(export_id, self.api_user_id, spec["event"], spec["selectors"], table,
                                                self.now(), outcome, message, files=files, params=spec["wire"])
        return self.ok({"idRawExport": export_id})

    def _outcome(self, spec: dict[str, Any], apps: list[int], attempt: int) -> tuple[str, str | None, pa.Table | None]:
        for app in apps:
            if app == ALWAYS_ERROR_APP or (app in ERROR_APPS and attempt <= app - 9000):
                return "error", None, None
            if app in USER_ERROR_APPS:
                return "user_error", USER_ERROR_APPS[app], None
            if app == CANCEL_APP:
                return "cancelled", None, None
        days = (spec["end"] - spec["start"]) / 86400 + 1
        if days * self.rows_per_day > GENERATE_LIMIT:
            return "user_error", "Too much export data", None
        table = self._generate(spec)
        if table.num_rows > self.max_rows:
            return "user_error", "Too many lines in one export", None
        return "success", None, table

    def _parse(self, q: Any) -> dict[str, Any]:
        wire: dict[str, list[str]] = {}
        event = (q.get("event") or "").strip()
        if not event:
            raise ParamError("The event parameter is required")
        if event not in EVENTS:
            raise ParamError(f"Unknown event: {event}")
        selectors = _multi(q, "selectors")
        if not selectors:
            raise ParamError("The selectors parameter is required")
        unknown = [s for s in selectors if s not in SELECTORS]
        if unknown:
            raise ParamError(f"Unknown selectors for event {event}: {', '.join(unknown)}")
        wire["event"], wire["selectors"] = [event], selectors
        now = self.now()
        tz_name = (q.get("timezone") or "Europe/Moscow").strip()
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParamError(f"Unknown timezone: {tz_name}") from None
        start, end = None, None
        has = {name: bool(q.get(name)) for name in ("dateFrom", "dateTo", "tsFrom", "tsTo", "availabilityTsFrom",
                                                    "availabilityTsTo")}
        for a, b in (("dateFrom", "dateTo"), ("tsFrom", "tsTo"), ("availabilityTsFrom", "availabilityTsTo")):
            if has[a] != has[b]:
                raise ParamError(f"{a} and {b} must be given together")
        if has["dateFrom"] and has["tsFrom"]:
            raise ParamError("Give either dateFrom and dateTo or tsFrom and tsTo")
        if not (has["dateFrom"] or has["tsFrom"] or has["availabilityTsFrom"]):
            raise ParamError("A period is required: dateFrom and dateTo, tsFrom and tsTo, "
                             "or availabilityTsFrom and availabilityTsTo")
        if has["dateFrom"]:
            first, last = _parse_date(q, "dateFrom"), _parse_date(q, "dateTo")
            if first < date(1970, 1, 1):
                raise ParamError("dateFrom cannot be less than 1970-01-01")
            if last > datetime.fromtimestamp(now, zone).date():
                raise ParamError("dateTo cannot be more than the current date")
            if first > last:
                raise ParamError("dateFrom must not be more than dateTo")
            start = int(datetime.combine(first, datetime.min.time(), zone).timestamp())
            end = int(datetime.combine(last + timedelta(days=1), datetime.min.time(), zone).timestamp()) - 1
            wire["dateFrom"], wire["dateTo"] = [first.isoformat()], [last.isoformat()]
            wire["timezone"] = [zone.key]
        if has["tsFrom"]:
            start, end = _parse_int(q, "tsFrom"), _parse_int(q, "tsTo")
            if end > now:
                raise ParamError("tsTo cannot be more than the current timestamp")
            if start > end:
                raise ParamError("tsFrom must not be more than tsTo")
            wire["tsFrom"], wire["tsTo"] = [str(start)], [str(end)]
        avail = None
        if has["availabilityTsFrom"]:
            a_from, a_to = _parse_int(q, "availabilityTsFrom"), _parse_int(q, "availabilityTsTo")
            if a_to >= now - AVAILABILITY_DELAY:
                raise ParamError("availabilityTsTo must be less than the current timestamp minus 3 hours")
            if a_from > a_to:
                raise ParamError("availabilityTsFrom must not be more than availabilityTsTo")
            avail = (a_from, a_to)
            wire["availabilityTsFrom"], wire["availabilityTsTo"] = [str(a_from)], [str(a_to)]
            if start is None:  # events reach myTracker after they happen: look back from the window
                start, end = max(0, a_from - 86400), a_to
        filters: dict[str, list[int]] = {}
        for name in ("idApp", "idAccount", "idAd", "idCampaign", "idCountry", "idProject", "idPartner"):
            filters[name] = _ids(q, name)
            if filters[name]:
                wire[name] = [str(v) for v in filters[name]]
        sdk_keys = _multi(q, "SDKKey")
        if any(not k.isdigit() for k in sdk_keys):
            raise ParamError("SDKKey must be a list of SDK keys (digits)")
        if sdk_keys:
            wire["SDKKey"] = sdk_keys
        singles: dict[str, int] = {}
        for name, allowed, what in (("isVerified", PAYMENT_EVENTS, "payments events"),
                                    ("idPurchaseType", PAYMENT_EVENTS, "payments events"),
                                    ("idAdMediator", AD_MONETIZATION_EVENTS, "ad monetization events"),
                                    ("idSegment", SEGMENT_EVENTS, "events hits and installs"),
                                    ("rooted", None, "")):
            if q.get(name) not in (None, ""):
                if allowed is not None and event not in allowed:
                    raise ParamError(f"{name} is only available for {what}")
                singles[name] = _parse_int(q, name)
                wire[name] = [str(singles[name])]
        for name in ("isVerified", "rooted"):
            if name in singles and singles[name] not in (0, 1):
                raise ParamError(f"{name} must be 0 or 1")
        names = [n for n in q.getlist("eventName[]") + q.getlist("eventName") if n != ""]
        invert = q.get("eventNameInvert")
        if (names or invert not in (None, "")) and event not in CUSTOM_EVENTS:
            raise ParamError("eventName is only available for events customEvents and userCustomEvents")
        if invert not in (None, "", "0", "1"):
            raise ParamError("eventNameInvert must be 0 or 1")
        if names:
            wire["eventName"] = names
        if invert not in (None, ""):
            wire["eventNameInvert"] = [invert]
        return {"event": event, "selectors": selectors, "start": start, "end": end, "avail": avail, "zone": zone,
                "filters": filters, "sdk_keys": sdk_keys, "singles": singles, "event_names": names,
                "invert": invert == "1", "idApp": filters["idApp"], "wire": wire}

    # -- data ----------------------------------------------------------------------------------
    def _generate(self, spec: dict[str, Any]) -> pa.Table:
        event_no = EVENTS.index(spec["event"])
        first_day, last_day = spec["start"] // 86400, spec["end"] // 86400
        blocks = [self._day(event_no, d) for d in range(first_day, last_day + 1)] if self.rows_per_day else []
        cols = {k: np.concatenate([b[k] for b in blocks]) if blocks else np.array([], dtype=_DTYPES[k])
                for k in _DTYPES}
        keep = (cols["tsEvent"] >= spec["start"]) & (cols["tsEvent"] <= spec["end"])
        if spec["avail"] is not None:
            keep &= (cols["tsAvailability"] >= spec["avail"][0]) & (cols["tsAvailability"] <= spec["avail"][1])
        f = spec["filters"]
        if f["idApp"] or spec["sdk_keys"]:
            by_key = [a for a, k in SDK_KEYS.items() if k in spec["sdk_keys"]]
            keep &= np.isin(cols["idApp"], f["idApp"] + by_key)  # myTracker ORs idApp and SDKKey
        for name in ("idAccount", "idAd", "idCampaign", "idCountry", "idProject", "idPartner"):
            if f[name]:
                keep &= np.isin(cols[name], f[name])
        for name, value in spec["singles"].items():
            keep &= cols[name] == value
        if spec["event_names"]:
            hit = np.isin(cols["eventName"], spec["event_names"])
            keep &= ~hit if spec["invert"] else hit
        picked = {k: v[keep] for k, v in cols.items()}
        out = {}
        for s in spec["selectors"]:
            if s == "dtEvent":
                out[s] = _local_text(picked["tsEvent"], spec["zone"])
            elif s == "idPartnerTitle":
                out[s] = pa.array([PARTNERS[int(p)] for p in picked["idPartner"]], type=pa.string())
            else:
                out[s] = pa.array(picked[s])
        return pa.table(out)

    def _day(self, event_no: int, day: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, event_no, day])
        n = self.rows_per_day
        ts = day * 86400 + np.sort(rng.integers(0, 86400, n))
        app = np.array(APPS)[rng.integers(0, len(APPS), n)]
        partners = np.array(list(PARTNERS))
        revenue = np.round(rng.gamma(2.0, 2.5, n), 2) if EVENTS[event_no] in PAYMENT_EVENTS else np.zeros(n)
        return {
            "tsEvent": ts.astype(np.int64),
            "idApp": app.astype(np.int64),
            "idAccount": np.where(app == 3, 11, 10).astype(np.int64),
            "idProject": (200 + app).astype(np.int64),
            "idCampaign": (300 + rng.integers(1, 6, n)).astype(np.int64),
            "idAd": (87000 + rng.integers(1, 20, n)).astype(np.int64),
            "idPartner": partners[rng.integers(0, len(partners), n)].astype(np.int64),
            "idCountry": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)].astype(np.int64),
            "idAdEventTypeTitle": np.array(["click", "view"])[rng.integers(0, 2, n)].astype(object),
            "tsClick": (ts - rng.integers(60, 3 * 86400, n)).astype(np.int64),
            "tsView": (ts - rng.integers(60, 3 * 86400, n)).astype(np.int64),
            "advertisingId": np.array([f"{a:016x}-{b:016x}" for a, b in zip(rng.integers(0, 2**63, n),
                                                                              rng.integers(0, 2**63, n))], dtype=object),
            "customUserId": np.array([f"user-{u}" for u in rng.integers(1, 5000, n)], dtype=object),
            "revenue": revenue.astype(np.float64),
            "isVerified": rng.integers(0, 2, n).astype(np.int64),
            "idPurchaseType": rng.integers(1, 4, n).astype(np.int64),
            "eventName": np.array(CUSTOM_NAMES)[rng.integers(0, len(CUSTOM_NAMES), n)].astype(object),
            "idAdMediator": rng.integers(1, 4, n).astype(np.int64),
            "idSegment": rng.integers(1, 4, n).astype(np.int64),
            "rooted": (rng.random(n) < 0.05).astype(np.int64),
            "tsAvailability": (ts + rng.integers(60, 7200, n)).astype(np.int64),
            "dtEvent": np.zeros(n, dtype=np.int64),  # formatted from tsEvent at selection time
            "idPartnerTitle": np.zeros(n, dtype=np.int64),  # looked up from idPartner at selection time
        }

    # -- get / cancel ------------------------------------------------------------------------------
    def _find(self, request: Request) -> tuple[RawExport | None, Response | None]:
        value = (request.args.get("idRawExport") or request.form.get("idRawExport") or "").strip()
        if not value.isdigit():
            return None, self.error(400, "The idRawExport parameter is required and must be an integer")
        exp = self.exports.get(str(int(value)))
        if exp is None or exp.user != self.api_user_id:
            return None, self.error(404, "Raw export request not found")
        return exp, None

    def status_of(self, exp: RawExport, now: float) -> tuple[str, float]:
        """``(status, progress fraction)`` of an export at ``now``."""
        if exp.cancelled_at is not None:
            return "Canceled by user", 1.0
        age = now - exp.created
        step = self.steps if self.step_seconds <= 0 else int(age // self.step_seconds)
        if step < self.steps:
            return "In progress", step / self.steps
        return {"success": "Success!", "error": "Error occurred", "user_error": "User error occurred",
                "cancelled": "Canceled by user"}[exp.outcome], 1.0

    def get(self, request: Request) -> Response:
        exp, refusal = self._find(request)
        if refusal is not None:
            return refusal
        assert exp is not None
        now = self.now()
        status, fraction = self.status_of(exp, now)
        data: dict[str, Any] = {"idRawExport": exp.id, "status": status}
        if status == "In progress":
            data["progress"] = f"{round(fraction * 100)}%"
            data["isCancellable"] = fraction < self.cancellable_below
        elif status == "User error occurred":
            data["errorMessage"] = exp.error_message
        elif status == "Success!":
            data["files"] = self._links(exp, now)
        return self.ok(data)

    def _links(self, exp: RawExport, now: float) -> list[dict[str, str]]:
        with self.lock:
            if not exp.token or exp.links_expire - now < REISSUE_MARGIN:
                exp.issued += 1
                exp.token = hashlib.md5(f"{self.seed}:{exp.id}:{exp.issued}".encode()).hexdigest()
                exp.links_expire = now + self.link_ttl
                self.tokens[exp.token] = (exp.id, exp.links_expire)
            root = (self.storage_url or self.base_url).rstrip("/")
            return [{"link": f"{root}/storage/download/raw/{exp.id}.{exp.event}.{exp.token}.{k}.csv.gz",
                     "timestampExpires": str(int(exp.links_expire))} for k in range(exp.files)]

    def cancel(self, request: Request) -> Response:
        exp, refusal = self._find(request)
        if refusal is not None:
            return refusal
        assert exp is not None
        with self.lock:
            status, fraction = self.status_of(exp, self.now())
            if status != "In progress":
                return self.error(400, "This RawExport can not be cancel (it's completed)")
            if fraction >= self.cancellable_below:
                return self.error(400, "This RawExport can not be cancel")
            exp.cancelled_at = self.now()
        return self.ok({"idRawExport": exp.id, "info": "Canceled"})

    # -- files -----------------------------------------------------------------------------------
    def download(self, request: Request, name: str) -> Response:
        m = _NAME.match(name)
        known = self.tokens.get(m.group(3)) if m else None
        if m is None or known is None or known[0] != m.group(1):
            return self.error(404, "File not found")
        exp = self.exports[known[0]]
        k = int(m.group(4))
        if self.now() >= known[1] or k >= exp.files or self.fault(request, "expire") is not None:
            return self.error(404, "File not found or the link has expired")
        start = k * self.rows_per_file

        def build() -> bytes:
            assert exp.table is not None
            return gzip_bytes(encode(exp.table.slice(start, self.rows_per_file), "csv"))

        path = self.files.get(f"{exp.id}/part-{k:05d}.csv.gz", build)
        return self.send_file(request, path, "application/gzip")


_DTYPES = {
    "tsEvent": np.int64, "idApp": np.int64, "idAccount": np.int64, "idProject": np.int64, "idCampaign": np.int64,
    "idAd": np.int64, "idPartner": np.int64, "idCountry": np.int64, "idAdEventTypeTitle": object,
    "tsClick": np.int64, "tsView": np.int64, "advertisingId": object, "customUserId": object,
    "revenue": np.float64, "isVerified": np.int64, "idPurchaseType": np.int64, "eventName": object,
    "idAdMediator": np.int64, "idSegment": np.int64, "rooted": np.int64, "tsAvailability": np.int64,
    "dtEvent": np.int64, "idPartnerTitle": np.int64,
}


def _multi(q: Any, name: str) -> list[str]:
    values = list(q.getlist(name)) + list(q.getlist(f"{name}[]"))
    return [v.strip() for item in values for v in str(item).split(",") if v.strip()]


def _ids(q: Any, name: str) -> list[int]:
    values = _multi(q, name)
    if any(not v.isdigit() for v in values):
        raise ParamError(f"{name} must be a list of integers")
    return [int(v) for v in values]


def _parse_int(q: Any, name: str) -> int:
    value = (q.get(name) or "").strip()
    if not value.isdigit():
        raise ParamError(f"{name} must be an integer")
    return int(value)


def _parse_date(q: Any, name: str) -> date:
    value = (q.get(name) or "").strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name} must be a date in the format YYYY-MM-DD") from None


def _local_text(ts: np.ndarray, zone: ZoneInfo) -> pa.Array:
    stamps = pa.array(ts.astype("datetime64[s]"), type=pa.timestamp("s", tz="UTC"))
    try:
        return pc.strftime(pc.cast(stamps, pa.timestamp("s", tz=zone.key)), format="%Y-%m-%d %H:%M:%S")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # pragma: no cover - no tz database for Arrow
        return pa.array([datetime.fromtimestamp(int(t), zone).strftime("%Y-%m-%d %H:%M:%S") for t in ts])

