"""The Woosmap client: the Datasets API (list, create, get, update, delete, import, status, the
reimport hook and feature queries), paced to Woosmap's documented rate limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union

from dataferry.client import VendorClient, credential
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import DataError, InvalidArgument
from dataferry.http import ErrorMap, HeaderAuth, HttpClient, NoAuth, QueryAuth, Rate, RateLimiter, Rule
from dataferry.http.errormap import find_message
from dataferry.listing import Listing
from dataferry.providers.woosmap.dataset import Dataset
from dataferry.providers.woosmap.pages import next_page_pages
from dataferry.providers.woosmap.run import ImportRun, NoImportRun, latest_run_id, server_time
from dataferry.providers.woosmap.validate import (
    PER_PAGE_MAX,
    check_name,
    check_per_page,
    check_url,
    check_uuid,
)
from dataferry.providers.woosmap.validate import schema_mapping as wire_schema_mapping
from dataferry.wait import PollPolicy

DEFAULT_BASE_URL = "https://api.woosmap.com"
"""Woosmap's API root."""

KEY_ENV = "WOOSMAP_PRIVATE_KEY"
"""Environment variable read when no ``private_key=`` is given."""

KEY_HEADER = "X-Api-Key"
"""Header that carries the private key (the default: it never appears in a URL)."""

KEY_QUERY = "private_key"
"""Query parameter that carries the private key with ``key_in="query"``."""

LIST_PAGE = PER_PAGE_MAX
"""Datasets asked for per request of the dataset list (the API's maximum)."""

RATE_LIMITS: Mapping[str, tuple[Rate, ...]] = MappingProxyType({
    "list": (Rate(1, 1.0),),
    "create": (Rate(1, 1.0),),
    "get": (Rate(1, 1.0),),
    "update": (Rate(1, 1.0),),
    "delete": (Rate(1, 1.0),),
    "status": (Rate(1, 5.0),),
    "import": (Rate(1, 90.0),),
    "reimport": (Rate(1, 90.0),),
    "features": (Rate(20, 1.0),),
})
"""Woosmap's documented limits (spec ``x-ratelimit-*``), one bucket per endpoint for the whole
client: status 1 per 5 s, import and reimport 1 per 90 s, feature queries 20 per second, every
other call 1 per second."""

RateLimits = Union[float, Mapping[str, Union[Rate, Sequence[Rate]]], None]
"""What ``rate_limits=`` takes: ``None``, a scale factor, or family → rate(s)."""


def _message(body: Any) -> str | None:
    """Woosmap's message: ``detail`` (401/402/403) or ``details`` (404/409/429); a 422's
    ``detail`` is the list of problems, summarised here and listed by the error itself."""
    if isinstance(body, dict) and isinstance(body.get("detail"), list):
        n = len(body["detail"])
        return f"Validation Error ({n} problem{'' if n == 1 else 's'})"
    return find_message(body)


ERRORS = ErrorMap(
    "woosmap",
    rules=(Rule(NoImportRun, 404, r"import run|no import|not been imported"),),
    message=_message,
    hints={
        401: f"no key reached Woosmap: pass private_key= or set {KEY_ENV}",
        402: "the Woosmap project is out of free quota: check its plan in the Woosmap console",
        403: "the key is unknown to Woosmap or lacks write permission: use a private key with write permission",
        404: "check the id; wm.datasets().to_pandas() lists the datasets",
        409: "the dataset is already scheduled for deletion; nothing more to do",
        422: "Woosmap refused these fields (each problem is listed above)",
        429: "Woosmap's rate limit was hit although dataferry paces its calls: is another process using this key?",
    },
)
"""How Woosmap's error answers become exceptions."""


def build_rate_limits(rate_limits: RateLimits = None) -> dict[str, tuple[Rate, ...]]:
    """The client's rate limits: Woosmap's documented ones unless overridden.

    Args:
        rate_limits: ``None`` for :data:`RATE_LIMITS`; a factor ``> 0`` that scales every
            window (``0.01`` paces an emulator started with ``rate_scale=0.01``); or a mapping
            family → :class:`~dataferry.http.Rate` (or several) replacing those families.
            Overrides are for emulators and tests: against the real API keep the default.

    Raises:
        InvalidArgument: an unknown family, a factor ``<= 0``, something else.

    Example:
        >>> build_rate_limits()["status"]
        (Rate(calls=1, per=5.0),)
        >>> build_rate_limits(0.01)["import"]
        (Rate(calls=1, per=0.9),)
    """
    if rate_limits is None:
        return dict(RATE_LIMITS)
    if isinstance(rate_limits, bool):
        raise InvalidArgument("rate_limits must be None, a scale factor or a mapping of family → Rate, not a bool")
    if isinstance(rate_limits, (int, float)):
        if not rate_limits > 0:
            raise InvalidArgument(f"a rate_limits scale factor must be > 0, got {rate_limits}")
        return {f: tuple(Rate(r.calls, r.per * rate_limits) for r in rates) for f, rates in RATE_LIMITS.items()}
    if isinstance(rate_limits, Mapping):
        out = dict(RATE_LIMITS)
        for family, value in rate_limits.items():
            if family not in RATE_LIMITS:
                raise InvalidArgument(f"unknown rate-limit family {family!r}; choose from {', '.join(RATE_LIMITS)}")
            rates = (value,) if isinstance(value, Rate) else tuple(value) if isinstance(value, (list, tuple)) else ()
            if not rates or not all(isinstance(r, Rate) for r in rates):
                raise InvalidArgument(f"rate_limits[{family!r}] must be a Rate or a list of Rates")
            out[family] = rates
        return out
    raise InvalidArgument("rate_limits must be None, a scale factor or a mapping of family → Rate")


class Client(VendorClient):
    """Woosmap Datasets API.

    Args:
        private_key: a private key with write permission; defaults to ``$WOOSMAP_PRIVATE_KEY``.
        base_url: the API root (an emulator, a proxy).
        key_in: ``"header"`` (default: ``X-Api-Key``, never in a URL) or ``"query"``
            (``?private_key=``, which ends up in proxy and server logs).
        rate_limits: override the documented limits, for emulators and tests only (see
            :func:`build_rate_limits`).
        progress: default progress display for this client's waits.
        cache_dir: unused by Woosmap (kept for a uniform client signature).
        timeout: ``(connect, read)`` seconds.
        clock: time source (tests inject a fake one).
        poll: how often to poll (:class:`~dataferry.wait.PollPolicy`); never faster than the
            status limit.
        **http: more :class:`~dataferry.http.session.HttpClient` settings (``max_attempts``...).

    Raises:
        ConfigurationError: no key given and none in the environment.
        InvalidArgument: a bad ``key_in`` or ``rate_limits``.

    Example:
        >>> from dataferry import woosmap
        >>> wm = woosmap.Client(private_key="…")                                            # doctest: +SKIP
        >>> ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")  # doctest: +SKIP
        >>> run = ds.import_().wait()                                                          # doctest: +SKIP
        >>> run.entries_frame()                                                                # doctest: +SKIP
    """

    vendor = "woosmap"

    def __init__(self, private_key: str | None = None, *, base_url: str = DEFAULT_BASE_URL, key_in: str = "header",
                 rate_limits: RateLimits = None, progress: Any = None, cache_dir: str | Path | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT), clock: Clock = SYSTEM_CLOCK,
                 poll: PollPolicy | None = None, **http: Any) -> None:
        key = credential(private_key, KEY_ENV, "private key", vendor=self.vendor)
        if key_in == "header":
            auth: HeaderAuth | QueryAuth = HeaderAuth(secret={KEY_HEADER: key})
        elif key_in == "query":
            auth = QueryAuth(KEY_QUERY, key)
        else:
            raise InvalidArgument(f"key_in must be 'header' or 'query', got {key_in!r}")
        limiter = RateLimiter(build_rate_limits(rate_limits), clock=clock)
        session = HttpClient(self.vendor, base_url, auth, ERRORS, limiter=limiter, timeout=timeout, clock=clock, **http)
        super().__init__(session, progress=progress, cache_dir=cache_dir, clock=clock, poll=poll)

    @property
    def reattach_client(self) -> str:
        """Code that re-creates this client (shown in re-attach hints)."""
        if self.base_url == DEFAULT_BASE_URL:
            return "woosmap.Client()"
        return f"woosmap.Client(base_url={self.base_url!r})"

    # -- datasets ---------------------------------------------------------------------------------
    def datasets(self, *, per_page: int = LIST_PAGE) -> Listing:
        """Every dataset (``GET /datasets/``), page after page to the end.

        Args:
            per_page: datasets per request (1–20).

        Returns:
            A :class:`~dataferry.listing.Listing`; ``.to_pandas()`` gives a DataFrame.

        Example::

            wm.datasets().to_pandas()
        """
        check_per_page(per_page)

        def fetch_page(number: int) -> dict[str, Any]:
            return self.http.get_json("/datasets/", params={"page": number, "per_page": per_page}, family="list")

        return Listing(next_page_pages(fetch_page, "datasets"), title="woosmap datasets")

    def create_dataset(self, name: str, url: str, *,
                       schema_mapping: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None) -> Dataset:
        """Create a dataset (``POST /datasets/``); start its import with ``.import_()``.

        Args:
            name: a friendly name.
            url: where Woosmap fetches the data (http/https, at most 2083 characters).
            schema_mapping: which property of your data is the feature title, as
                ``{"title": "store_name"}`` or the spec's ``[{"schema_key": "title", "data_key": ...}]``.

        Returns:
            The new :class:`~dataferry.providers.woosmap.dataset.Dataset`.

        Raises:
            InvalidArgument: a bad argument, before anything is sent.
            UnprocessableEntity: Woosmap refused a field (each ``loc``/``msg`` listed).
            RequestMayHaveReached: the connection failed after sending; not re-sent (look at
                ``wm.datasets()`` before creating it again).
        """
        body: dict[str, Any] = {"name": check_name(name), "url": check_url(url)}
        mapping = wire_schema_mapping(schema_mapping)
        if mapping is not None:
            body["schema_mapping"] = mapping
        answer = self.http.json_of(self.http.request("POST", "/datasets/", json=body, family="create",
                                                     idempotent=False))
        if not isinstance(answer, dict) or not answer.get("id"):
            raise DataError(f"woosmap created the dataset but answered without its id: {str(answer)[:200]}")
        return Dataset(self, answer["id"], answer)

    def dataset(self, dataset_id: str) -> Dataset:
        """A handle on an existing dataset; nothing is sent yet.

        Raises:
            InvalidArgument: ``dataset_id`` is not a UUID.
        """
        return Dataset(self, dataset_id)

    def get_dataset(self, dataset_id: str) -> Dataset:
        """An existing dataset with its details read now (``GET /datasets/{id}``).

        Raises:
            InvalidArgument: ``dataset_id`` is not a UUID.
            NotFound: no dataset with this id.
        """
        return Dataset(self, dataset_id).refresh()

    # -- imports ----------------------------------------------------------------------------------
    def import_run(self, dataset_id: str) -> ImportRun:
        """A handle on a dataset's latest import run; nothing is sent until ``status()`` / ``wait()``."""
        return ImportRun(self, check_uuid(dataset_id, "dataset_id"))

    def reimport(self, reimport_key: str, *, dataset_id: str | None = None) -> ImportRun:
        """Start an import through the reimport hook (``POST /datasets/hooks/reimport/{key}``).

        The hook needs no authentication, so the private key is not sent; the reimport key
        itself is masked in every message.

        Args:
            reimport_key: the dataset's ``reimport_key``.
            dataset_id: the dataset, when known: its current run is read first so that it is
                not taken for the new one. Without it, a run that started before the hook
                answered (server time, whole seconds) counts as the previous one; a run started
                within that same second cannot be told apart, so pass ``dataset_id`` (or use
                ``ds.reimport()``) when one may just have run.

        Returns:
            The :class:`~dataferry.providers.woosmap.run.ImportRun`.

        Raises:
            InvalidArgument: the key is not a UUID.
            NotFound: no dataset has this reimport key.
        """
        key = check_uuid(reimport_key, "reimport_key")
        self.http.redactor.add(key)
        known = check_uuid(dataset_id, "dataset_id") if dataset_id is not None else None
        previous = latest_run_id(self.http, known) if known is not None else None
        response = self.http.request("POST", f"/datasets/hooks/reimport/{key}", family="reimport", idempotent=False,
                                     auth=NoAuth(), job_id=known)
        answer = self.http.json_of(response)
        target = answer.get("dataset_id") if isinstance(answer, dict) else None
        if not target:
            raise DataError(f"woosmap accepted the reimport but answered without a dataset_id: {str(answer)[:200]}")
        not_before = None if known is not None else server_time(response.headers.get("Date"))
        return ImportRun(self, target, triggered=True, previous_run_id=previous, not_before=not_before)
