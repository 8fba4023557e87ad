"""The Woosmap client: the Datasets API (list, create, get, update, delete, import, status, the
reimport hook and feature queries), paced to Woosmap's documented rate limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from dataferry.client import VendorClient, credential
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import InvalidArgument
from dataferry.http import ErrorMap, HeaderAuth, NoAuth, QueryAuth, Rate, RateLimits, Rule
from dataferry.http.errormap import find_message
from dataferry.listing import Listing, next_page_pages
from dataferry.providers.woosmap.dataset import Dataset
from dataferry.providers.woosmap.errors import NoImportRun
from dataferry.providers.woosmap.params import (
    PER_PAGE_MAX,
    check_page_size,
    check_uuid,
    dataset_body,
    reimport_path,
)
from dataferry.providers.woosmap.run import ImportRun, latest_run_id, server_time
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

RATE_LIMITS: Mapping[str, tuple[Rate, ...]] = MappingProxyType(
    {
        "list": (Rate(1, 1.0),),
        "create": (Rate(1, 1.0),),
        "get": (Rate(1, 1.0),),
        "update": (Rate(1, 1.0),),
        "delete": (Rate(1, 1.0),),
        "status": (Rate(1, 5.0),),
        "import": (Rate(1, 90.0),),
        "reimport": (Rate(1, 90.0),),
        "features": (Rate(20, 1.0),),
    }
)
"""Woosmap's documented limits (spec ``x-ratelimit-*``), one bucket per endpoint for the whole
client: status 1 per 5 s, import and reimport 1 per 90 s, feature queries 20 per second, every
other call 1 per second."""


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


class Client(VendorClient):
    """Woosmap Datasets API.

    Args:
        private_key: a private key with write permission; defaults to ``$WOOSMAP_PRIVATE_KEY``.
        base_url: the API root (an emulator, a proxy).
        key_in: ``"header"`` (default: ``X-Api-Key``, never in a URL) or ``"query"``
            (``?private_key=``, which ends up in proxy and server logs).
        rate_limits: client-side pacing (:func:`~dataferry.http.ratelimit.limits_from`): by
            default Woosmap's documented limits (:data:`RATE_LIMITS`); a factor or a mapping
            for emulators and tests; against the real API keep the default.
        progress: default progress display for this client's waits.
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
        >>> wm = woosmap.Client(private_key="…")  # doctest: +SKIP
        >>> ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")  # doctest: +SKIP
        >>> run = ds.import_().wait()  # doctest: +SKIP
        >>> run.to_pandas()  # doctest: +SKIP
    """

    vendor = "woosmap"
    default_base_url = DEFAULT_BASE_URL
    documented_limits = RATE_LIMITS

    def __init__(
        self,
        private_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        key_in: str = "header",
        rate_limits: RateLimits = None,
        progress: Any = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        clock: Clock = SYSTEM_CLOCK,
        poll: PollPolicy | None = None,
        **http: Any,
    ) -> None:
        key = credential(private_key, KEY_ENV, "private key", vendor=self.vendor)
        if key_in == "header":
            auth: HeaderAuth | QueryAuth = HeaderAuth(secret={KEY_HEADER: key})
        elif key_in == "query":
            auth = QueryAuth(KEY_QUERY, key)
        else:
            raise InvalidArgument(f"key_in must be 'header' or 'query', got {key_in!r}")
        session = self.session(
            auth, ERRORS, base_url=base_url, timeout=timeout, clock=clock, rate_limits=rate_limits, **http
        )
        super().__init__(session, progress=progress, clock=clock, poll=poll)

    # -- datasets ---------------------------------------------------------------------------------
    def datasets(self, *, page_size: int = LIST_PAGE) -> Listing:
        """Every dataset (``GET /datasets/``), page after page to the end.

        Args:
            page_size: datasets per request (1–20; sent as ``per_page``).

        Returns:
            A :class:`~dataferry.listing.Listing`; ``.to_pandas()`` gives a DataFrame.

        Example::

            wm.datasets().to_pandas()
        """
        check_page_size(page_size)

        def fetch_page(number: int) -> dict[str, Any]:
            return self.http.get_json("/datasets/", params={"page": number, "per_page": page_size}, family="list")

        return Listing(
            next_page_pages(fetch_page, "datasets", vendor=self.vendor),
            title="woosmap datasets",
            timestamps=("created_at", "updated_at", "scheduled_for_deletion_after"),
        )

    def create_dataset(
        self, name: str, url: str, *, schema_mapping: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None
    ) -> Dataset:
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
            ApiError: Woosmap accepted it but its answer has no ``id``.
        """
        body = dataset_body(name, url, schema_mapping)
        response = self.http.request("POST", "/datasets/", json=body, family="create", idempotent=False)
        answer = self.http.json_of(response)
        if not isinstance(answer, dict) or not answer.get("id"):
            raise self.http.missing(
                answer,
                "id",
                what="the new dataset",
                response=response,
                hint="look for it with wm.datasets() before creating it again",
            )
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

    def get_import_run(self, dataset_id: str) -> ImportRun:
        """A dataset's latest import run with its status read now (``GET /datasets/{id}/status``).

        Raises:
            NoImportRun: the dataset was never imported.
            NotFound: no dataset with this id.
        """
        run = self.import_run(dataset_id)
        run.status()
        return run

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
            ApiError: the reimport was accepted but its answer has no ``dataset_id``.
        """
        path = reimport_path(reimport_key)
        key = check_uuid(reimport_key, "reimport_key")
        self.http.redactor.add(key)
        known = check_uuid(dataset_id, "dataset_id") if dataset_id is not None else None
        previous = latest_run_id(self.http, known) if known is not None else None
        response = self.http.request("POST", path, family="reimport", idempotent=False, auth=NoAuth(), job_id=known)
        answer = self.http.json_of(response)
        target = answer.get("dataset_id") if isinstance(answer, dict) else None
        if not target:
            raise self.http.missing(answer, "dataset_id", what="the reimport", response=response)
        not_before = None if known is not None else server_time(response.headers.get("Date"))
        return ImportRun(self, target, triggered=True, previous_run_id=previous, not_before=not_before)
