"""The myTracker client: raw data exports (create, get, cancel) signed with HMAC-SHA1.

Every answer is the envelope ``{"code", "message", "data"}`` (see
:mod:`dataferry.providers.mytracker.api`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataferry.client import VendorClient, check_keywords, credential, forward, request_keywords
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import InvalidArgument
from dataferry.http import ErrorMap, Rate, RateLimits, Rule
from dataferry.http.errormap import find_message
from dataferry.providers.mytracker import api
from dataferry.providers.mytracker.api import FAMILY, envelope_code
from dataferry.providers.mytracker.auth import HmacAuth
from dataferry.providers.mytracker.errors import ExportNotCancellable
from dataferry.providers.mytracker.export import RECREATE_ATTEMPTS, Export
from dataferry.providers.mytracker.params import create_params
from dataferry.wait import PollPolicy

DEFAULT_BASE_URL = "https://tracker.my.com"
"""myTracker's API root."""

API_USER_ID_ENV = "MYTRACKER_API_USER_ID"
"""Environment variable read when no ``api_user_id=`` is given."""

SECRET_KEY_ENV = "MYTRACKER_SECRET_KEY"
"""Environment variable read when no ``secret_key=`` is given."""

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
        >>> vendor_message(
        ...     {"code": 404, "message": "Not Found", "data": {"error": {"detail": "Raw export request not found"}}}
        ... )
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
            return (
                f"{body.get('message') or 'Too Many Requests'}: quota {q.get('name')} "
                f"({q.get('count')} of {q.get('limit')}) resets in {q.get('resetInSecond')} s"
            )
    elif isinstance(error, str) and error.strip():
        return error.strip()
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"].strip():
        return body["message"].strip()
    return find_message(body)


def reset_in(body: Any) -> float | None:
    """Seconds until the exceeded quota of a 429 envelope resets (``resetInSecond``).

    Example:
        >>> reset_in(
        ...     {
        ...         "code": 429,
        ...         "data": {
        ...             "error": {
        ...                 "info": {
        ...                     "quotas": [{"name": "RequestsByUserPerMinute", "resetInSecond": 12, "exceeded": True}]
        ...                 }
        ...             }
        ...         },
        ...     }
        ... )
        12.0
    """
    quotas = _quotas(body)
    exceeded = [q for q in quotas if q.get("exceeded")] or quotas
    waits = []
    for q in exceeded:
        try:
            waits.append(float(q.get("resetInSecond", "")))
        except (TypeError, ValueError):
            continue
    return max(waits) if waits else None


ERRORS = ErrorMap(
    "mytracker",
    rules=(Rule(ExportNotCancellable, 400, r"can\s*not be cancel"),),
    message=vendor_message,
    retry_after=reset_in,
    status_of=envelope_code,
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
        rate_limits: client-side pacing (:func:`~dataferry.http.ratelimit.limits_from`): by
            default myTracker's quotas (:data:`QUOTAS`); ``False`` for none.
        recreate_attempts: times an export that ends "Error occurred" is created again.
        **http: more :class:`~dataferry.http.session.HttpClient` settings (``max_attempts``...).

    Raises:
        ConfigurationError: a credential is missing and not in the environment.

    Example::

        from dataferry import mytracker

        mt = mytracker.Client(api_user_id="77658", secret_key="…")
        export = mt.create_export(
            event="payments", selectors=["idApp", "tsEvent", "revenue"], date_from="2026-11-01", date_to="2026-11-07"
        )
        df = export.wait().to_pandas()
    """

    vendor = "mytracker"
    default_base_url = DEFAULT_BASE_URL
    documented_limits = QUOTAS

    def __init__(
        self,
        api_user_id: str | int | None = None,
        secret_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        progress: Any = None,
        cache_dir: str | Path | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        clock: Clock = SYSTEM_CLOCK,
        poll: PollPolicy | None = None,
        rate_limits: RateLimits = None,
        recreate_attempts: int = RECREATE_ATTEMPTS,
        **http: Any,
    ) -> None:
        user = credential(
            None if api_user_id is None else str(api_user_id), API_USER_ID_ENV, "API user id", vendor=self.vendor
        )
        secret = credential(secret_key, SECRET_KEY_ENV, "secret key", vendor=self.vendor)
        if not isinstance(recreate_attempts, int) or isinstance(recreate_attempts, bool) or recreate_attempts < 0:
            raise InvalidArgument(f"recreate_attempts must be an int ≥ 0, got {recreate_attempts!r}")
        session = self.session(
            HmacAuth(user, secret),
            ERRORS,
            base_url=base_url,
            timeout=timeout,
            clock=clock,
            rate_limits=rate_limits,
            **http,
        )
        super().__init__(session, progress=progress, cache_dir=cache_dir, clock=clock, poll=poll)
        self.recreate_attempts = recreate_attempts

    @property
    def api_user_id(self) -> str:
        """The API user id requests are signed for."""
        return self.http.auth.api_user_id  # type: ignore[attr-defined]

    # -- exports ------------------------------------------------------------------------------
    def create_export(
        self, event: str, selectors: Any, *, recreate_attempts: int | None = None, **params: Any
    ) -> Export:
        """Create a raw data export (``POST /api/raw/v1/export/create.json``).

        Args:
            event: one of myTracker's Events dictionary (``installs``, ``payments``,
                ``customEvents``...; see :data:`~dataferry.providers.mytracker.params.EVENTS`).
            selectors: the columns, a list or ``"idApp,tsEvent"``.
            recreate_attempts: override the client's setting for this export.
            **params: the period and filters, declared once in
                :func:`~dataferry.providers.mytracker.params.create_params` (the table of
                :mod:`~dataferry.providers.mytracker.params`): ``date_from``/``date_to``,
                ``ts_from``/``ts_to``, ``availability_ts_from``/``availability_ts_to``,
                ``timezone``, ``id_app``, ``sdk_key``, ``id_account``... ``rooted``. The
                signature shown by ``help()`` and ``inspect`` lists them all.

        Returns:
            The :class:`Export` (not yet waited for).

        Raises:
            InvalidArgument: a parameter is wrong (an unknown one too); nothing was sent.
            BadRequest: myTracker refused the parameters (its ``detail`` verbatim).
            PermissionDenied: wrong credentials, or no export permission.
            RequestMayHaveReached: the connection failed after sending; not re-sent.
            ApiError: the export was accepted but the answer has no ``idRawExport``.

        Example::

            export = mt.create_export(
                "payments", ["idApp", "tsEvent", "revenue"], date_from="2026-11-01", date_to="2026-11-07", id_app=[1, 2]
            )
        """
        attempts = self.recreate_attempts if recreate_attempts is None else recreate_attempts
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
            raise InvalidArgument(f"recreate_attempts must be an int ≥ 0, got {attempts!r}")
        check_keywords("create_export", params, _CREATE_KEYWORDS)
        wire = create_params(event, selectors, now=self.clock.time(), **params)
        export_id = api.create(self.http, wire)
        return Export(self, export_id, params=wire, recreate_attempts=attempts, triggered=True)

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

    def get_export(self, export_id: str | int, *, recreate_attempts: int | None = None) -> Export:
        """The export with its status read now (``GET get.json``).

        Raises:
            InvalidArgument: the id is not a positive integer.
            NotFound: no export with this id.
        """
        export = self.export(export_id, recreate_attempts=recreate_attempts)
        export.status()
        return export


_CREATE_KEYWORDS = request_keywords(create_params, exclude=("now",))
"""The keywords of ``create.json`` (declared once, in :func:`create_params`)."""

forward(Client.create_export, create_params, exclude=("now",))
