"""The Bright Data client: Datasets API v3 (trigger, snapshots, delivery, the snapshot list)
and collectors (DCA)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from dataferry.client import VendorClient, check_keywords, credential, forward, request_keywords
from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import CONNECT_TIMEOUT, READ_TIMEOUT
from dataferry.errors import InvalidArgument, NotFound, UnprocessableEntity
from dataferry.http import BearerAuth, ErrorMap, RateLimits, Rule
from dataferry.listing import Listing, skip_limit_pages
from dataferry.providers.brightdata.collection import Collection
from dataferry.providers.brightdata.delivery import Delivery
from dataferry.providers.brightdata.errors import SnapshotEmpty, SnapshotExpired, SnapshotNotReady, SnapshotTooBig
from dataferry.providers.brightdata.params import (
    CREATED_HINT,
    TRIGGER_PATH,
    collect_params,
    deadline_param,
    inputs_body,
    trigger_body,
    trigger_params,
)
from dataferry.providers.brightdata.snapshot import Snapshot, TriggerRequest, check_outcome_options
from dataferry.wait import PollPolicy

DEFAULT_BASE_URL = "https://api.brightdata.com"
"""Bright Data's API root."""

TOKEN_ENV = "BRIGHTDATA_API_TOKEN"
"""Environment variable read when no ``token=`` is given."""

BUSY_WAIT = 900.0
"""Seconds a trigger keeps retrying while Bright Data answers 429 "too many running jobs"."""

LIST_PAGE = 1000
"""Snapshots asked for per page of the snapshot list (the API allows up to 5000)."""

FAMILIES = ("trigger", "status", "list", "control", "download")
"""The endpoint families of this client; Bright Data documents no request rate, so none is
limited unless ``rate_limits=`` names it."""

ERRORS = ErrorMap(
    "brightdata",
    rules=(
        Rule(SnapshotExpired, 400, r"snapshot is expired"),
        Rule(SnapshotEmpty, 400, r"snapshot is empty"),
        Rule(SnapshotNotReady, 400, r"snapshot is not ready"),
        Rule(SnapshotTooBig, 400, r"too big for single file delivery"),
    ),
    hints={
        401: "check the API token (BRIGHTDATA_API_TOKEN); it is sent as 'Authorization: Bearer …'",
        404: "check the id; Bright Data keeps snapshots and collections for 16 days",
        429: "too many running jobs for this dataset: wait for some to finish, or combine inputs into one trigger",
    },
)
"""How Bright Data's error answers become exceptions."""


class Client(VendorClient):
    """Bright Data Datasets API v3.

    Args:
        token: the API token; defaults to ``$BRIGHTDATA_API_TOKEN``.
        base_url: the API root (an emulator, a proxy).
        progress: default progress display for this client's calls.
        cache_dir: where downloaded parts are cached.
        timeout: ``(connect, read)`` seconds.
        clock: time source (tests inject a fake one).
        poll: how often to poll (:class:`~dataferry.wait.PollPolicy`); the default suits real jobs.
        rate_limits: client-side pacing (:func:`~dataferry.http.ratelimit.limits_from`); Bright
            Data documents no request rate, so by default nothing is paced; a mapping may pace
            any of :data:`FAMILIES`.
        **http: more :class:`~dataferry.http.session.HttpClient` settings (``max_attempts``...).

    Raises:
        ConfigurationError: no token given and none in the environment.

    Example:
        >>> from dataferry import brightdata
        >>> bd = brightdata.Client(token="…")  # doctest: +SKIP
        >>> snap = bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://example.com/p/1"}])  # doctest: +SKIP
        >>> df = snap.wait().to_pandas()  # doctest: +SKIP
    """

    vendor = "brightdata"
    default_base_url = DEFAULT_BASE_URL
    rate_families = FAMILIES

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        progress: Any = None,
        cache_dir: str | Path | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        clock: Clock = SYSTEM_CLOCK,
        poll: PollPolicy | None = None,
        rate_limits: RateLimits = None,
        **http: Any,
    ) -> None:
        token = credential(token, TOKEN_ENV, "API token", vendor=self.vendor)
        session = self.session(
            BearerAuth(token), ERRORS, base_url=base_url, timeout=timeout, clock=clock, rate_limits=rate_limits, **http
        )
        super().__init__(session, progress=progress, cache_dir=cache_dir, clock=clock, poll=poll)

    # -- trigger ------------------------------------------------------------------------------
    def trigger(
        self,
        dataset_id: str,
        inputs: Any,
        *,
        busy_wait: float = BUSY_WAIT,
        compress: bool = True,
        on_empty: str = "raise",
        retrigger: int = 0,
        **options: Any,
    ) -> Snapshot:
        """Trigger a collection (``POST /datasets/v3/trigger``).

        Args:
            dataset_id: ``gd_…``.
            inputs: a list of dicts, a pandas DataFrame, or the path of a CSV file (uploaded
                as multipart field ``data``).
            include_errors: include an error report in the results.
            type: ``"discover_new"`` for a discovery collection (needs ``discover_by``).
            discover_by: ``keyword``, ``best_sellers_url``, ``category_url``, ``location``...
            limit_per_input, limit_multiple_results: result limits (≥ 1).
            custom_output_fields: fields to keep, a list or ``"url|about.updated_on"``.
            notify: send a notification (``True`` or a URL) on completion.
            endpoint: webhook URL for delivery; ``auth_header`` its Authorization header;
                ``format`` its format (json/ndjson/jsonl/csv); ``uncompressed_webhook``.
            busy_wait: seconds to keep retrying on 429 "too many running jobs" (a 429 created
                nothing, so retrying cannot double a paid collection).
            download_format, compress, batch_size: how the returned :class:`Snapshot` downloads.
            on_empty: ``"raise"`` (the default: "Snapshot is empty" / "No data found in
                discovery" raise) or ``"empty"`` (they give an empty result, see :class:`Snapshot`).
            retrigger: times to trigger the collection again when it fails with a transient
                message (:mod:`~dataferry.providers.brightdata.failures`); ``0``, the default,
                never does: every trigger is a paid collection.

        The keywords but ``busy_wait`` and ``compress`` are declared once, in
        :func:`~dataferry.providers.brightdata.params.trigger_params` (``help()`` and
        ``inspect`` list them all).

        Returns:
            The :class:`Snapshot` (not yet waited for).

        Raises:
            InvalidArgument: bad inputs or options, before anything is sent.
            BadRequest: Bright Data refused (validation errors listed, "dataset missing",
                "This dataset is not allowed for API", "Should be at least N inputs"...).
            NotFound: "dataset does not exist".
            RateLimited: still too many running jobs after ``busy_wait`` seconds.
            RequestMayHaveReached: the connection failed after sending; not re-sent.
            ApiError: the trigger was accepted but its answer has no ``snapshot_id``.
        """
        check_keywords("trigger", options, _TRIGGER_KEYWORDS)
        params = trigger_params(dataset_id, **options)
        auth_header = options.get("auth_header")
        if auth_header:
            self.http.redactor.add(auth_header)
        check_outcome_options(on_empty, retrigger)  # checked now: once sent, the collection is paid for
        request = TriggerRequest(dataset_id, tuple(params), inputs_body(inputs), busy_wait)
        return Snapshot(
            self,
            self.send_trigger(request),
            format=options.get("download_format", "csv"),
            compress=compress,
            batch_size=options.get("batch_size"),
            triggered=True,
            dataset_id=dataset_id,
            on_empty=on_empty,
            retrigger=retrigger,
            request=request,
        )

    def send_trigger(self, request: TriggerRequest) -> str:
        """Send one Datasets v3 trigger (never re-sent after it may have reached Bright Data).

        Returns:
            The new snapshot's id.

        Raises:
            See :meth:`trigger`.
        """
        look = f"look for the new snapshot with bd.snapshots(dataset_id={request.dataset_id!r}) before triggering again"
        response = self.http.request(
            "POST",
            "/datasets/v3/trigger",
            params=list(request.params),
            idempotent=False,
            family="trigger",
            busy_wait=request.busy_wait,
            created_hint=look,
            **request.body,
        )
        answer = self.http.json_of(response)
        snapshot_id = answer.get("snapshot_id") if isinstance(answer, dict) else None
        if not snapshot_id:
            raise self.http.missing(answer, "snapshot_id", what="the trigger", response=response, hint=look)
        return str(snapshot_id)

    # -- handles ------------------------------------------------------------------------------
    def snapshot(
        self,
        snapshot_id: str,
        *,
        format: str = "csv",
        compress: bool = True,
        batch_size: int | None = None,
        on_empty: str = "raise",
    ) -> Snapshot:
        """Re-attach to a snapshot by id (e.g. after a kernel restart); nothing is sent yet.

        Args:
            snapshot_id: ``s_…``.
            format, compress, batch_size: how to download it (see :class:`Snapshot`).
            on_empty: ``"raise"`` or ``"empty"`` (see :class:`Snapshot`).
        """
        if not snapshot_id:
            raise InvalidArgument("snapshot_id is required")
        return Snapshot(self, snapshot_id, format=format, compress=compress, batch_size=batch_size, on_empty=on_empty)

    def get_snapshot(self, snapshot_id: str, **download: Any) -> Snapshot:
        """The snapshot with its status read now (``GET /datasets/v3/progress/{id}``).

        Args:
            snapshot_id: ``s_…``.
            **download: ``format``, ``compress``, ``batch_size`` as for :meth:`snapshot`.

        Raises:
            NotFound: no snapshot with this id.
        """
        snap = self.snapshot(snapshot_id, **download)
        snap.status()
        return snap

    def delivery(self, delivery_id: str) -> Delivery:
        """Re-attach to a delivery by id; nothing is sent yet."""
        if not delivery_id:
            raise InvalidArgument("delivery_id is required")
        return Delivery(self, delivery_id)

    def get_delivery(self, delivery_id: str) -> Delivery:
        """The delivery with its status read now (``GET /datasets/v3/delivery/{id}``).

        Raises:
            NotFound: no delivery with this id.
        """
        delivery = self.delivery(delivery_id)
        delivery.status()
        return delivery

    # -- collectors (DCA) -------------------------------------------------------------------------
    def collect(
        self,
        collector_id: str,
        inputs: Any,
        *,
        name: str | None = None,
        version: str | None = None,
        queue_next: bool | None = None,
        queue: str | None = None,
        confirm_cancel: bool = False,
        no_downloads: bool = False,
        deadline: str | timedelta | None = None,
        body_format: str | None = None,
        busy_wait: float = BUSY_WAIT,
    ) -> Collection:
        """Trigger a collector for a batch collection (``POST /dca/trigger``); sent once, never re-sent.

        Args:
            collector_id: ``c_…``.
            inputs: a list of dicts, a DataFrame, or a ``.csv`` / ``.json`` file path.
            name: a human-readable name for the batch.
            version: ``"dev"`` to run the collector's development version.
            queue_next: wait in the queue behind a running batch (the default behaviour).
            queue: start after the last queued batch (the string is sent as ``queue=``).
            confirm_cancel: cancel the running batch and run this one instead.
            no_downloads: do not download media files.
            deadline: terminate the batch after ``"1h"`` / ``"30m"`` / ``"45s"`` (or a timedelta).
            body_format: ``"json"``, ``"csv"`` or ``"multipart"`` (see
                :func:`~dataferry.providers.brightdata.params.trigger_body`).
            busy_wait: seconds to keep retrying a 429 (it created nothing).

        Returns:
            The :class:`Collection` (not yet waited for); its ``start_eta`` is Bright Data's.

        Raises:
            InvalidArgument: bad inputs, a malformed deadline or behaviours that cannot be
                combined (only one of queue_next / queue / confirm_cancel), before anything is sent.
            UnprocessableEntity: the inputs do not match the collector's input schema (422).
            NotFound: no such collector (404).
            AuthenticationError: the token was refused (401).

        Example:
            >>> bd = Client(token="example-token")
            >>> bd.collect("c_lq3x1ab2", [{"url": "https://example.com"}], deadline="1 day")
            Traceback (most recent call last):
            ...
            dataferry.errors.InvalidArgument: deadline='1 day' is not a deadline
              hint: give a whole number and a unit: '1h' (hours), '30m' (minutes), '45s' (seconds), or a timedelta
            >>> col = bd.collect("c_lq3x1ab2", [{"url": "https://example.com"}], deadline="1h")  # doctest: +SKIP
            >>> df = col.wait().to_pandas()  # doctest: +SKIP
        """
        params = collect_params(
            collector_id,
            name=name,
            version=version,
            queue_next=queue_next,
            queue=queue,
            confirm_cancel=confirm_cancel,
            no_downloads=no_downloads,
            deadline=deadline,
        )
        body = trigger_body(inputs, body_format)
        try:
            response = self.http.request(
                "POST",
                TRIGGER_PATH,
                params=params,
                idempotent=False,
                family="trigger",
                busy_wait=busy_wait,
                created_hint=CREATED_HINT,
                **body,
            )
        except NotFound as exc:
            exc.hint = f"check the collector id {collector_id!r} (Scraper Studio shows it on the collector's API page)"
            raise
        except UnprocessableEntity as exc:
            exc.hint = "the inputs do not match the collector's input schema: check the field names and values"
            raise
        answer = self.http.json_of(response)
        collection_id = answer.get("collection_id") if isinstance(answer, dict) else None
        if not collection_id:
            raise self.http.missing(answer, "collection_id", what="the trigger", response=response, hint=CREATED_HINT)
        return Collection(
            self,
            str(collection_id),
            collector_id=collector_id,
            name=name,
            start_eta=answer.get("start_eta"),
            deadline=deadline_param(deadline),
            triggered=True,
        )

    def collection(self, collection_id: str) -> Collection:
        """Re-attach to a collector batch by id (e.g. after a kernel restart); nothing is sent yet.

        Args:
            collection_id: ``j_…``, as :meth:`collect` returned it.
        """
        if not collection_id or not isinstance(collection_id, str):
            raise InvalidArgument("collection_id is required (e.g. 'j_lq3x9z0a1b2c3')")
        return Collection(self, collection_id)

    def snapshots(
        self,
        dataset_id: str,
        *,
        status: str | None = None,
        from_date: str | None = None,
        to_date: str | None = None,
        trigger_type: str | None = None,
        page_size: int = LIST_PAGE,
    ) -> Listing:
        """The snapshots of a dataset (``GET /datasets/v3/snapshots``), every page.

        Args:
            dataset_id: ``gd_…``.
            status: ``starting``, ``running``, ``ready`` or ``failed``.
            from_date, to_date: ``YYYY-MM-DD`` bounds on the creation date.
            trigger_type: ``ALL``, ``CP`` or ``API``.
            page_size: records per request (``limit``, 1–5000).

        Returns:
            A :class:`~dataferry.listing.Listing`; ``.to_pandas()`` gives a DataFrame.
        """
        if not dataset_id:
            raise InvalidArgument("dataset_id is required")
        if status is not None and status not in ("starting", "running", "ready", "failed"):
            raise InvalidArgument(f"status={status!r} is not one of starting, running, ready, failed")
        if trigger_type is not None and trigger_type not in ("ALL", "CP", "API"):
            raise InvalidArgument(f"trigger_type={trigger_type!r} is not one of ALL, CP, API")
        if not 1 <= page_size <= 5000:
            raise InvalidArgument(f"page_size must be 1–5000, got {page_size}")
        for name, value in (("from_date", from_date), ("to_date", to_date)):
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise InvalidArgument(f"{name}={value!r} is not a date in the form YYYY-MM-DD")
        base = {
            "dataset_id": dataset_id,
            "status": status,
            "from_date": from_date,
            "to_date": to_date,
            "trigger_type": trigger_type,
        }
        base = {k: v for k, v in base.items() if v is not None}

        def fetch(skip: int, limit: int) -> list[dict[str, Any]]:
            page = self.http.get_json(
                "/datasets/v3/snapshots", params={**base, "skip": skip, "limit": limit}, family="list"
            )
            if not isinstance(page, list):
                raise InvalidArgument(f"unexpected snapshot list answer: {str(page)[:200]}")
            return page

        return Listing(
            skip_limit_pages(fetch, limit=page_size), title=f"snapshots of {dataset_id}", timestamps=("created",)
        )


_TRIGGER_KEYWORDS = request_keywords(trigger_params)
"""The keywords of a Datasets v3 trigger (declared once, in :func:`trigger_params`)."""

forward(Client.trigger, trigger_params)
