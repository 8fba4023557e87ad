"""A Woosmap dataset: the handle for one dataset's details, update, deletion, imports and
feature queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.listing import Listing
from dataferry.providers.woosmap.features import FEATURE_PAGE, get_feature, query_features
from dataferry.providers.woosmap.params import check_name, check_url, check_uuid, import_path
from dataferry.providers.woosmap.run import ImportRun, latest_run_id

FIELDS = ("name", "url", "created_at", "updated_at", "scheduled_for_deletion_after")
"""Details shown in a dataset's repr (the ``reimport_key`` is left out: it triggers imports)."""


class Dataset:
    """One Woosmap dataset.

    Created by :meth:`Client.create_dataset`, :meth:`Client.dataset` (no request) or
    :meth:`Client.get_dataset`. Details are read once, on first use, and kept in :attr:`info`.

    Attributes:
        id: the dataset's UUID.
        client: the :class:`~dataferry.providers.woosmap.client.Client`.
        info: the latest ``DatasetResponse`` read, or ``None``.

    Example::

        ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")
        ds.import_().wait().to_pandas()
    """

    def __init__(self, client: Any, dataset_id: str, info: dict[str, Any] | None = None) -> None:
        self.client = client
        self.id = check_uuid(dataset_id, "dataset_id")
        self.info = info

    # -- details --------------------------------------------------------------------------------
    def refresh(self) -> Dataset:
        """Read the dataset's details again (``GET /datasets/{id}``).

        Returns:
            ``self``.

        Raises:
            NotFound: no dataset with this id.
        """
        self.info = self.client.http.get_json(f"/datasets/{self.id}", family="get", job_id=self.id)
        return self

    def _detail(self, name: str) -> Any:
        if self.info is None:
            self.refresh()
        assert self.info is not None
        return self.info.get(name)

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self._detail("name")

    @property
    def url(self) -> str | None:
        """The URL Woosmap fetches the data from."""
        return self._detail("url")

    @property
    def reimport_key(self) -> str | None:
        """The key of the reimport hook (anyone holding it can trigger an import)."""
        return self._detail("reimport_key")

    @property
    def created_at(self) -> str:
        """When the dataset was created (ISO 8601)."""
        return self._detail("created_at")

    @property
    def updated_at(self) -> str | None:
        """When the dataset was last updated, or ``None``."""
        return self._detail("updated_at")

    @property
    def scheduled_for_deletion_after(self) -> str | None:
        """The date after which the dataset is removed, once its deletion is scheduled."""
        return self._detail("scheduled_for_deletion_after")

    # -- changes ----------------------------------------------------------------------------------
    def update(self, *, name: str | None = None, url: str | None = None) -> Dataset:
        """Change the name and/or the URL (``PUT /datasets/{id}``).

        Returns:
            ``self``, with the details Woosmap answered.

        Raises:
            InvalidArgument: neither given, or a bad value, before anything is sent.
            NotFound: no dataset with this id.
            UnprocessableEntity: Woosmap refused a value (each problem listed).
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = check_name(name)
        if url is not None:
            body["url"] = check_url(url)
        if not body:
            raise InvalidArgument("update() needs name= and/or url=")
        response = self.client.http.request(
            "PUT", f"/datasets/{self.id}", json=body, family="update", idempotent=True, job_id=self.id
        )
        self.info = self.client.http.json_of(response)
        return self

    def delete(self) -> None:
        """Schedule the dataset for deletion (Woosmap removes it 7 days later).

        Raises:
            Conflict: it is already scheduled for deletion.
            NotFound: no dataset with this id.
        """
        self.client.http.request("DELETE", f"/datasets/{self.id}", family="delete", job_id=self.id)
        self.info = None

    # -- imports ----------------------------------------------------------------------------------
    def import_(self) -> ImportRun:
        """Start an import: Woosmap fetches the URL again and loads it (``POST …/import``).

        Imports are limited to one per 90 s per key; dataferry waits for its turn rather than
        get the key throttled. The status is read once first, so that the run shown before
        this import is not taken for the new one.

        Returns:
            The :class:`~dataferry.providers.woosmap.run.ImportRun`; ``.wait()`` on it.

        Raises:
            NotFound: no dataset with this id.
            RequestMayHaveReached: the connection failed after sending; not re-sent.
        """
        previous = latest_run_id(self.client.http, self.id)
        self.client.http.request("POST", import_path(self.id), family="import", idempotent=False, job_id=self.id)
        return ImportRun(self.client, self.id, triggered=True, previous_run_id=previous)

    def reimport(self) -> ImportRun:
        """Start an import through the dataset's reimport hook (the private key is not sent).

        Returns:
            The :class:`~dataferry.providers.woosmap.run.ImportRun`.

        Raises:
            InvalidArgument: the dataset has no reimport key.
        """
        key = self.reimport_key
        if not key:
            raise InvalidArgument(f"dataset {self.id} has no reimport_key; use import_() instead")
        return self.client.reimport(key, dataset_id=self.id)

    def last_import(self) -> ImportRun:
        """The latest import run, with its status read now (one request).

        Returns:
            The :class:`~dataferry.providers.woosmap.run.ImportRun` (``.last_status``,
            ``.to_pandas()``, ``.wait()``).

        Raises:
            NoImportRun: the dataset was never imported.
            NotFound: no dataset with this id.
        """
        run = ImportRun(self.client, self.id)
        run.status()
        return run

    # -- features ---------------------------------------------------------------------------------
    def search(
        self,
        where: str,
        *,
        format: str = "geojson",
        page_size: int = FEATURE_PAGE,
        limit: int | None = None,
    ) -> Listing:
        """Features whose attributes match ``where`` (e.g. ``"cost:>32.3"``), every page.

        Args:
            where: the filter; page_size: features per request (1–20); limit: stop after this many.

        Returns:
            A :class:`~dataferry.listing.Listing` (JSON records; ``.to_pandas()``).
        """
        return query_features(
            self.client.http, self.id, "search", where=where, format=format, page_size=page_size, limit=limit
        )

    def nearby(
        self,
        geometry: Any,
        *,
        buffer: float | None = None,
        where: str | None = None,
        format: str = "geojson",
        page_size: int = FEATURE_PAGE,
        limit: int | None = None,
    ) -> Listing:
        """Features near ``geometry`` (within ``buffer`` metres), nearest first."""
        return query_features(
            self.client.http,
            self.id,
            "nearby",
            geometry=geometry,
            buffer=buffer,
            where=where,
            format=format,
            page_size=page_size,
            limit=limit,
        )

    def intersects(
        self,
        geometry: Any,
        *,
        buffer: float | None = None,
        where: str | None = None,
        format: str = "geojson",
        page_size: int = FEATURE_PAGE,
        limit: int | None = None,
    ) -> Listing:
        """Features intersecting ``geometry`` (grown by ``buffer`` metres)."""
        return query_features(
            self.client.http,
            self.id,
            "intersects",
            geometry=geometry,
            buffer=buffer,
            where=where,
            format=format,
            page_size=page_size,
            limit=limit,
        )

    def contains(
        self,
        geometry: Any,
        *,
        buffer: float | None = None,
        where: str | None = None,
        format: str = "geojson",
        page_size: int = FEATURE_PAGE,
        limit: int | None = None,
    ) -> Listing:
        """Features containing ``geometry``."""
        return query_features(
            self.client.http,
            self.id,
            "contains",
            geometry=geometry,
            buffer=buffer,
            where=where,
            format=format,
            page_size=page_size,
            limit=limit,
        )

    def within(
        self,
        polygon: Any,
        *,
        buffer: float | None = None,
        where: str | None = None,
        format: str = "geojson",
        page_size: int = FEATURE_PAGE,
        limit: int | None = None,
    ) -> Listing:
        """Features within ``polygon`` (GeoJSON Polygon or WKT ``POLYGON``)."""
        return query_features(
            self.client.http,
            self.id,
            "within",
            geometry=polygon,
            buffer=buffer,
            where=where,
            format=format,
            page_size=page_size,
            limit=limit,
        )

    def feature(
        self,
        feature_id: str,
        *,
        format: str = "geojson",
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One feature as JSON (``id``, ``geometry``, ``attributes``)."""
        return get_feature(self.client.http, self.id, feature_id, format=format, fields=fields)

    # -- display -----------------------------------------------------------------------------------
    def __repr__(self) -> str:
        if self.info is None:
            return f"<woosmap dataset {self.id}>"
        shown = ", ".join(f"{k}={self.info.get(k)!r}" for k in FIELDS if self.info.get(k) is not None)
        return f"<woosmap dataset {self.id}: {shown}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("woosmap-dataset", self.id))
