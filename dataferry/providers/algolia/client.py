"""The Algolia Ingestion client: hosts, credentials, rate limits and the error table, with
every resource group of the v1 API."""

from __future__ import annotations

import os
from typing import Any

from dataferry.client import VendorClient, credential
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import AuthenticationError, InvalidArgument
from dataferry.http import ErrorMap, HeaderAuth, Rate, RateLimits, Rule
from dataferry.providers.algolia.authentications import Authentications
from dataferry.providers.algolia.destinations import Destinations
from dataferry.providers.algolia.enums import REGIONS
from dataferry.providers.algolia.observability import OBSERVABILITY, Observability
from dataferry.providers.algolia.sources import Sources
from dataferry.providers.algolia.tasks import Tasks
from dataferry.wait import PollPolicy

HOST_TEMPLATE = "https://data.{region}.algolia.com"
"""The API root of a region."""

DEFAULT_REGION = "us"
"""Region used when neither ``region=`` nor ``$ALGOLIA_REGION`` says otherwise (the spec's default)."""

APP_ID_ENV = "ALGOLIA_APP_ID"
"""Environment variable read when no ``app_id=`` is given."""

API_KEY_ENV = "ALGOLIA_API_KEY"
"""Environment variable read when no ``api_key=`` is given."""

REGION_ENV = "ALGOLIA_REGION"
"""Environment variable read when no ``region=`` is given."""

APP_ID_HEADER = "X-Algolia-Application-Id"
"""Header carrying the application id (not secret)."""

API_KEY_HEADER = "X-Algolia-API-Key"
"""Header carrying the API key (secret)."""

RATE_LIMITS = {
    "default": [Rate(200, 60.0)],
    OBSERVABILITY: [Rate(200, 30.0)],
}
"""Documented limits per IP: 200 requests per minute, observability (runs, events) 200 per 30 s."""

ERRORS = ErrorMap(
    "algolia",
    rules=(Rule(AuthenticationError, 403, r"invalid application-id or api-key"),),
    hints={
        401: f"check the application id and API key (${APP_ID_ENV}, ${API_KEY_ENV}) and the region",
        403: "check that the API key has the ACL addObject, deleteIndex and editSettings, and the region",
        404: "check the id; the us and eu regions hold different resources",
        429: "Algolia allows 200 requests per minute (runs and events: 200 per 30 s); wait a moment",
    },
)
"""How Algolia's error answers (``{"message": ...}``, or HTML from the edge) become exceptions."""


def region_url(region: str) -> str:
    """The API root of ``region``.

    Example:
        >>> region_url("eu")
        'https://data.eu.algolia.com'
    """
    if region not in REGIONS:
        raise InvalidArgument(
            f"region={region!r} is not one of {', '.join(REGIONS)} (use the analytics region "
            "of your Algolia application)"
        )
    return HOST_TEMPLATE.format(region=region)


DEFAULT_BASE_URL = region_url(DEFAULT_REGION)
"""The API root of the default region."""


class Client(Authentications, Destinations, Sources, Tasks, Observability):
    """Algolia Ingestion API v1: authentications, destinations, sources, tasks, runs, events.

    Args:
        app_id: the Algolia application id; defaults to ``$ALGOLIA_APP_ID``.
        api_key: an API key (ACL ``addObject, deleteIndex, editSettings``); defaults to
            ``$ALGOLIA_API_KEY``. It is masked in every repr, log line and error.
        region: ``"us"`` or ``"eu"`` (the application's analytics region); defaults to
            ``$ALGOLIA_REGION``, else ``"us"``.
        base_url: another API root (an emulator, a proxy); overrides ``region``.
        progress: default progress display for waits.
        timeout: ``(connect, read)`` seconds.
        clock: time source (tests inject a fake one).
        poll: how often runs are polled (:class:`~dataferry.wait.PollPolicy`).
        rate_limits: client-side pacing (:func:`~dataferry.http.ratelimit.limits_from`): by
            default Algolia's documented limits (:data:`RATE_LIMITS`); ``False`` for none.
        **http: more :class:`~dataferry.http.session.HttpClient` settings (``limiter``,
            ``max_attempts``...).

    Raises:
        ConfigurationError: no application id or API key given and none in the environment.
        InvalidArgument: an unknown region.

    Example:
        >>> from dataferry import algolia
        >>> ing = algolia.Client(app_id="APP", api_key="secret-key", region="eu")
        >>> ing  # doctest: +ELLIPSIS
        algolia.Client(base_url='https://data.eu.algolia.com', auth=HeaderAuth(...X-Algolia-API-Key=***))
        >>> ing.tasks(enabled=True).to_pandas()  # doctest: +SKIP
    """

    default_base_url = DEFAULT_BASE_URL
    documented_limits = RATE_LIMITS

    def __init__(
        self,
        app_id: str | None = None,
        api_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        progress: Any = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        clock: Clock = SYSTEM_CLOCK,
        poll: PollPolicy | None = None,
        rate_limits: RateLimits = None,
        **http: Any,
    ) -> None:
        app_id = credential(app_id, APP_ID_ENV, "application id", vendor=self.vendor)
        api_key = credential(api_key, API_KEY_ENV, "API key", vendor=self.vendor)
        self.region = region or os.environ.get(REGION_ENV) or DEFAULT_REGION
        root = region_url(self.region)  # checks the region even when base_url replaces its host
        if base_url is not None:
            root = base_url
        self.app_id = app_id
        auth = HeaderAuth(secret={API_KEY_HEADER: api_key}, public={APP_ID_HEADER: app_id})
        session = self.session(
            auth, ERRORS, base_url=root, timeout=timeout, clock=clock, rate_limits=rate_limits, **http
        )
        VendorClient.__init__(self, session, progress=progress, clock=clock, poll=poll)
        self._custom_root = base_url is not None

    def _reattach_args(self) -> dict[str, Any]:
        if self._custom_root:
            return {"base_url": self.base_url}
        if self.region != DEFAULT_REGION:
            return {"region": self.region}
        return {}


Ingestion = Client
"""The former name of :class:`Client` (Algolia calls this API "Ingestion"); the same class."""
