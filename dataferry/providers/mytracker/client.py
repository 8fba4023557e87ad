"""The myTracker client: raw data exports (create, get, cancel) signed with HMAC-SHA1.

Every answer is the envelope ``{"code", "message", "data"}``. myTracker sets the HTTP status
too, but its own clients only read ``code``; this client handles both, so an error answered
as HTTP 200 with ``"code": 404`` is still a :class:`~dataferry.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dataferry.client import VendorClient, credential
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import ApiError, InvalidArgument
from dataferry.events import notice
from dataferry.http import ErrorMap, HttpClient, Rate, RateLimiter, Rule
from dataferry.http.errormap import find_message
from dataferry.http.retry import backoff_delay
from dataferry.providers.mytracker.auth import HmacAuth
from dataferry.providers.mytracker.errors import ExportNotCancellable
from dataferry.providers.mytracker.export import FAMILY, RECREATE_ATTEMPTS, Export
from dataferry.providers.mytracker.params import create_params
from dataferry.wait import PollPolicy

DEFAULT_BASE_URL = "https://tracker.my.com"
"""myTracker's API root."""

API_USER_ID_ENV = "MYTRACKER_API_USER_ID"
"""Environment variable read when no ``api_user_id=`` is given."""

SECRET_KEY_ENV = "MYTRACKER_SECRET_KEY"
"""Environment variable read when no ``secret_key=`` is given."""

CREATE_PATH = "/api/raw/v1/export/create.json"
"""The endpoint that creates a raw export (POST, form body)."""

QUOTAS = {FAMILY: (Rate(10, 1.0), Rate(100, 60.0), Rate(1000, 3600.0))}
"""myTracker's documented per-API-user quotas: 10 requests a second, 100 a minute, 1000 an hour.

File downloads (``/storage/...``) are not API calls and are not counted.
"""


def _error_part(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"].get("error")
    return None


def _quotas(body: Any) -> list[dict[str, Any]]:
    error = _error_part(body)
    info = error.get("info") if isinstance(error, dict) else None
    quotas = info.get("quotas") if isinstance(info, dict) else None
    return [q for q in quotas if isinstance(q, dict)] if isinstance(quotas, list) else []


def vendor_message(body: Any) -> str | None:
    """myTracker's message in an error envelope: ``data.error.detail``, the exceeded quota, or
    ``message``.

    Example:
        >>> vendor_message({"code": 404, "message": "Not Found",
        ...                 "data": {"error": {"detail": "Raw export request not found"}}})
        'Raw export request not found'
    """
    error = _error_part(body)
    if isinstance(error, dict):
        detail = error.get("detail")
        if isinstance(detail, str) and detail.strip():
            return detail.strip()
        exceeded = [q for q in _quotas(body) if q.get("exceeded")] or _quotas(body)
        if exceeded:
            q = exceeded[0]
            return (f"{body.get('message') or 'Too Many Requests'}: quota {q.get('name')} "
                    f"({q.get('count')} of {q.get('limit')}) resets in {q.get('resetInSecond')} s")
    elif isinstance(error, str) and error.strip():
        return error.strip()
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"].strip():
        return body["message"].strip()
    return find_message(body)


def reset_in(body: Any) -> float | None:
    """Seconds until the exceeded quota of a 429 envelope resets (``resetInSecond``).

    Example:
        >>> reset_in({"code": 429, "data": {"error": {"info": {"quotas": [
        ...     {"name": "RequestsByUserPerMinute", "resetInSecond": 12, "exceeded": True}]}}}})
        12.0
    """
    quotas = _quotas(body)
    exceeded = [q for q in quotas if q.get("exceeded")] or quotas
    waits = []
    for q in exceeded:
        try:
            waits.append(float(q.get("resetInSecond")))
        except (TypeError, ValueError):
            continue
    return max(waits) if waits else None


ERRORS = ErrorMap(
    "mytracker",
    rules=(Rule(ExportNotCancellable, 400, r"can\s*not be cancel"),),
    message=vendor_message,
    retry_after=reset_in,
    hints={
        400: "myTracker refused the parameters (create_export checks most of them before sending)",
        403: "check the API user id and secret key (MYTRACKER_API_USER_ID / MYTRACKER_SECRET_KEY, from your "
             "myTracker profile) and that this user may export raw data (account owner or granted permission)",
        404: "check the export id (idRawExport); myTracker keeps exports and their files for a limited time",
        429: "myTracker allows 10 requests a second, 100 a minute and 1000 an hour per API user",
    },
)
"""How myTracker's error answers become exceptions."""


class Client(VendorClient):
    """myTracker Export API: raw data exports.

    Args:
        api_user_id: the API user id (profile page); defaults to ``$MYTRACKER_API_USER_ID``.
        secret_key: the secret key (profile page); defaults to ``$MYTRACKER_SECRET_KEY``.
        base_url: the API root (an emulator, a proxy).
        progress: default progress display for this client's calls.
        cache_dir: where downloaded parts are cached.
        timeout: ``(connect, read)`` seconds.
        clock: time source (tests inject a fake one); also "today" for date checks.
        poll: how often to poll (:class:`~dataferry.wait.PollPolicy`).
        rate_limits: keep to myTracker's quotas (:data:`QUOTAS`) on the client side.
        recreate_attempts: times an export that ends "Error occurred" is created again.
        **http: more :class:`~dataferry.http.session.HttpClient` settings (``max_attempts``...).

    Raises:
        ConfigurationError: a credential is missing and not in the environment.

    Example::

        from dataferry import mytracker
        mt = mytracker.Client(api_user_id="77658", secret_key="…")
        export = mt.create_export(event="payments", selectors=["idApp", "tsEvent", "revenue"],
                                  date_from="2026-11-01", date_to="2026-11-07")
        df = export.wait().to_pandas()
    """

    vendor = "mytracker"

    def __init__(self, api_user_id: str | int | None = None, secret_key: str | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, progress: Any = None, cache_dir: str | Path | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT), clock: Clock = SYSTEM_CLOCK,
                 poll: PollPolicy | None = None, rate_limits: bool = True,
                 recreate_attempts: int = RECREATE_ATTEMPTS, **http: Any) -> None:
        user = credential(None if api_user_id is None else str(api_user_id), API_USER_ID_ENV, "API user id",
                          vendor=self.vendor)
        secret = credential(secret_key, SECRET_KEY_ENV, "secret key", vendor=self.vendor)
        if not isinstance(recreate_attempts, int) or isinstance(recreate_attempts, bool) or recreate_attempts < 0:
            raise InvalidArgument(f"recreate_attempts must be an int ≥ 0, got {recreate_attempts!r}")
        limiter = RateLimiter(QUOTAS if rate_limits else {}, clock=clock)
        session = HttpClient(self.vendor, base_url, HmacAuth(user, secret), ERRORS, limiter=limiter,
                             timeout=timeout, clock=clock, **http)
        super().__init__(session, progress=progress, cache_dir=cache_dir, clock=clock, poll=poll)
        self.recreate_attempts = recreate_attempts

    @property
    def api_user_id(self) -> str:
        """The API user id requests are signed for."""
        return self.http.auth.api_user_id  # type: ignore[attr-defined]

    @property
    def reattach_client(self) -> str:
        """Code that re-creates this client (shown in re-attach hints)."""
        if self.base_url == DEFAULT_BASE_URL:
            return "mytracker.Client()"
        return f"mytracker.Client(base_url={self.base_url!r})"

    # -- exports ------------------------------------------------------------------------------
    def create_export(
        self,
        event: str,
        selectors: str | Iterable[str],
        *,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        ts_from: int | float | datetime | None = None,
        ts_to: int | float | datetime | None = None,
        availability_ts_from: int | float | datetime | None = None,
        availability_ts_to: int | float | datetime | None = None,
        timezone: str | None = None,
        id_app: Any = None,
        sdk_key: Any = None,
        id_account: Any = None,
        id_ad: Any = None,
        id_campaign: Any = None,
        id_country: Any = None,
        id_project: Any = None,
        id_partner: Any = None,
        is_verified: bool | int | None = None,
        id_purchase_type: int | None = None,
        event_name: str | Iterable[str] | None = None,
        event_name_invert: bool | int | None = None,
        id_ad_mediator: int | None = None,
        id_segment: int | None = None,
        rooted: bool | int | None = None,
        recreate_attempts: int | None = None,
    ) -> Export:
        """Create a raw data export (``POST /api/raw/v1/export/create.json``).

        Args:
            event: one of myTracker's Events dictionary (``installs``, ``payments``,
                ``customEvents``...; see :data:`~dataferry.providers.mytracker.params.EVENTS`).
            selectors: the columns, a list or ``"idApp,tsEvent"``.
            date_from, date_to: the period as dates (``"YYYY-MM-DD"`` or ``date``), read in ``timezone``.
            ts_from, ts_to: or the period as event times (unix seconds or aware datetimes).
            availability_ts_from, availability_ts_to: when events reached myTracker (≥ 3 h ago).
            timezone: IANA name for the dates (myTracker's default: Europe/Moscow).
            id_app, sdk_key: apps, by id or SDK key (myTracker OR-combines the two).
            id_account, id_ad, id_campaign, id_country, id_project, id_partner: id filters.
            is_verified, id_purchase_type: payments events only.
            event_name, event_name_invert: custom event names (excluded instead when inverted).
            id_ad_mediator: ad monetization events only. id_segment: hits / installs only.
            rooted: devices with jailbreak / root detected (True) or not (False).
            recreate_attempts: override the client's setting for this export.

        Returns:
            The :class:`Export` (not yet waited for).

        Raises:
            InvalidArgument: a parameter is wrong; nothing was sent.
            BadRequest: myTracker refused the parameters (its ``detail`` verbatim).
            PermissionDenied: wrong credentials, or no export permission.
            RequestMayHaveReached: the connection failed after sending; not re-sent.

        Example::

            export = mt.create_export("payments", ["idApp", "tsEvent", "revenue"],
                                      date_from="2026-11-01", date_to="2026-11-07", id_app=[1, 2])
        """
        attempts = self.recreate_attempts if recreate_attempts is None else recreate_attempts
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
            raise InvalidArgument(f"recreate_attempts must be an int ≥ 0, got {attempts!r}")
        params = create_params(
            event, selectors, now=self.clock.time(), date_from=date_from, date_to=date_to, ts_from=ts_from,
            ts_to=ts_to, availability_ts_from=availability_ts_from, availability_ts_to=availability_ts_to,
            timezone=timezone, id_app=id_app, sdk_key=sdk_key, id_account=id_account, id_ad=id_ad,
            id_campaign=id_campaign, id_country=id_country, id_project=id_project, id_partner=id_partner,
            is_verified=is_verified, id_purchase_type=id_purchase_type, event_name=event_name,
            event_name_invert=event_name_invert, id_ad_mediator=id_ad_mediator, id_segment=id_segment,
            rooted=rooted,
        )
        export_id = self._create(params)
        return Export(self, export_id, params=params, recreate_attempts=attempts, triggered=True)

    def export(self, export_id: str | int, *, recreate_attempts: int | None = None) -> Export:
        """Re-attach to an export by its ``idRawExport`` (e.g. after a kernel restart); nothing is sent yet.

        An export re-attached this way cannot be re-created after "Error occurred" (its
        parameters are not known here).

        Raises:
            InvalidArgument: the id is not a positive integer.

        Example::

            df = mt.export(4).to_pandas()
        """
        text = str(export_id).strip() if isinstance(export_id, (int, str)) and not isinstance(export_id, bool) else ""
        if not text.isdigit() or int(text) < 1:
            raise InvalidArgument(f"export_id must be a positive integer (idRawExport), got {export_id!r}")
        attempts = self.recreate_attempts if recreate_attempts is None else recreate_attempts
        return Export(self, text, recreate_attempts=attempts)

    # -- wire -----------------------------------------------------------------------------------
    def _create(self, params: Iterable[tuple[str, str]]) -> str:
        """POST create.json (never re-sent blindly) and return the new ``idRawExport``."""
        data = self._api("POST", CREATE_PATH, data=list(params), idempotent=False)
        export_id = data.get("idRawExport") if isinstance(data, dict) else None
        if export_id in (None, ""):
            raise ApiError(f"create.json answered without an idRawExport: {data!r}", vendor=self.vendor,
                           method="POST", url=self.http.redactor.url(self.http.url(CREATE_PATH)))
        return str(export_id)

    def _api(self, method: str, path: str, *, params: Any = None, data: Any = None, job_id: str | None = None,
             idempotent: bool | None = None) -> Any:
        """One API call; returns the envelope's ``data``.

        HTTP errors are raised by the session; an error carried only by the JSON ``code``
        (HTTP 200) is raised here through the same :data:`ERRORS` table, and a ``code`` 429
        waits for ``resetInSecond`` like an HTTP 429 (nothing was done, so a retry is safe).
        """
        attempt = 0
        while True:
            attempt += 1
            response = self.http.request(method, path, params=params, data=data, family=FAMILY,
                                         idempotent=idempotent, job_id=job_id)
            body = self.http.json_of(response)
            url = self.http.redactor.url(response.url)
            if not isinstance(body, dict):
                raise ApiError(f"answered without the {{code, message, data}} envelope: {str(body)[:200]}",
                               vendor=self.vendor, status=response.status_code, method=method, url=url)
            code = _code(body)
            if code is None or 200 <= code < 300:
                return body.get("data")
            if code == 429 and attempt < self.http.max_attempts:
                delay = backoff_delay(attempt, hint=reset_in(body), rng=self.http.rng)
                notice(f"mytracker: rate limited (code 429); retrying in {delay:.0f} s ({method} {url})")
                self.clock.sleep(delay)
                continue
            raise ERRORS.exception(code, body, method=method, url=url, redactor=self.http.redactor, job_id=job_id,
                                   reason=str(body.get("message") or ""))


def _code(body: dict[str, Any]) -> int | None:
    try:
        return int(body["code"])
    except (KeyError, TypeError, ValueError):
        return None
