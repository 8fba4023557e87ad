"""Sources: where records come from (``/1/sources``), with validation and stream discovery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.listing import Listing
from dataferry.providers.algolia.base import IngestionBase
from dataferry.providers.algolia.enums import SOURCE_TYPES
from dataferry.providers.algolia.inputs import Input, fits_any, pick
from dataferry.providers.algolia.params import (
    PAGE_SIZE,
    array_filter,
    choice,
    id_list,
    list_query,
    non_empty,
    resource_id,
)
from dataferry.providers.algolia.source_inputs import FIXED_ON_UPDATE, SOURCE_INPUTS

UNTYPED_SOURCES = ("sfcc",)
"""Source types the spec gives no input schema for; their input is sent as given."""


def source_input(kind: str | None, value: Any, *, partial: bool = False) -> tuple[str | None, dict[str, Any]]:
    """``(type, wire input)`` for a source, checked against the variant of its type.

    Raises:
        InvalidArgument: unknown type, type and variant disagree, or a field is wrong.

    Example:
        >>> source_input("json", {"url": "https://example.com/items.json"})
        ('json', {'url': 'https://example.com/items.json'})
    """
    if kind in UNTYPED_SOURCES:
        if isinstance(value, Input) or not isinstance(value, Mapping):
            raise InvalidArgument(f"input of a {kind!r} source must be a dict (the spec gives it no schema)")
        return kind, dict(value)
    if partial and kind is None:
        return None, fits_any(SOURCE_INPUTS, value, family="source")
    kind, body, _ = pick(SOURCE_INPUTS, kind, value, family="source", partial=partial)
    if partial:
        fixed = [f for f in FIXED_ON_UPDATE.get(kind or "", ()) if f in body]
        if fixed:
            raise InvalidArgument(f"input.{fixed[0]} cannot be changed on an existing {kind!r} source")
    return kind, body


class Sources(IngestionBase):
    """``/1/sources``: list, create, get, update, delete, search, validate, discover."""

    def sources(
        self,
        *,
        type: Any = None,
        authentication_id: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """Every source, all pages (``GET /1/sources``).

        Args:
            type: a source type (``csv``, ``json``, ``bigquery``...) or a list of them.
            authentication_id: one id or a list (``"none"``: sources without authentication).
            sort: ``name``, ``type``, ``updatedAt`` or ``createdAt``; order: ``asc`` / ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`.

        Example::

            ing.sources(type=["csv", "json"]).to_pandas()
        """
        query = list_query(
            "sources",
            sort=sort,
            order=order,
            type=None if type is None else array_filter(type, "type", SOURCE_TYPES),
            authenticationID=None
            if authentication_id is None
            else array_filter(authentication_id, "authentication_id"),
        )
        return self._list("/1/sources", "sources", query=query, title="sources", page_size=page_size)

    def create_source(
        self,
        *,
        name: str,
        input: Any,
        type: str | None = None,
        authentication_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a source (``POST /1/sources``).

        Args:
            name: a descriptive name.
            input: a typed input (:class:`SourceCSV`, :class:`SourceBigQuery`...) or a dict
                with the API's field names for ``type``.
            type: the source type; taken from a typed ``input`` when left out.
            authentication_id: the authentication the source needs, if any.

        Returns:
            ``{"sourceID", "name", "createdAt"}``.

        Raises:
            InvalidArgument: a missing or wrong field (named), before anything is sent.

        Example::

            ing.create_source(type="csv", name="products", input={"url": "https://…/products.csv"})
        """
        return self._object(
            "POST", "/1/sources", body=self._source_body(type, name, input, authentication_id), idempotent=False
        )

    def validate_source(
        self,
        *,
        name: str,
        input: Any,
        type: str | None = None,
        authentication_id: str | None = None,
    ) -> dict[str, Any]:
        """Check that a source could be created and reached (``POST /1/sources/validate``).

        Takes the arguments of :meth:`create_source`; nothing is created.

        Returns:
            ``{"message", "runID"?, "data"? (sample records), "events"? (on error)}``.
        """
        return self._object(
            "POST", "/1/sources/validate", body=self._source_body(type, name, input, authentication_id), idempotent=True
        )

    def get_source(self, source_id: str) -> dict[str, Any]:
        """One source (``GET /1/sources/{id}``)."""
        sid = resource_id(source_id, "source_id")
        return self._object("GET", f"/1/sources/{sid}")

    def update_source(
        self,
        source_id: str,
        *,
        name: str | None = None,
        input: Any = None,
        authentication_id: str | None = None,
        type: str | None = None,
    ) -> dict[str, Any]:
        """Change a source (``PATCH /1/sources/{id}``); only what is given.

        Args:
            source_id: the source.
            name: a new name.
            input: some or all input fields (checked against ``type`` when given, else
                against the variant its fields belong to).
            authentication_id: a new authentication.
            type: the source's type, to check ``input`` precisely (not sent: a source's type
                cannot change).

        Returns:
            ``{"sourceID", "name", "updatedAt"}``.
        """
        sid = resource_id(source_id, "source_id")
        return self._object(
            "PATCH", f"/1/sources/{sid}", body=self._update_body(name, input, authentication_id, type), idempotent=True
        )

    def validate_source_update(
        self,
        source_id: str,
        *,
        name: str | None = None,
        input: Any = None,
        authentication_id: str | None = None,
        type: str | None = None,
    ) -> dict[str, Any]:
        """Check an update before making it (``POST /1/sources/{id}/validate``).

        Takes the arguments of :meth:`update_source`; nothing is changed.
        """
        sid = resource_id(source_id, "source_id")
        return self._object(
            "POST",
            f"/1/sources/{sid}/validate",
            body=self._update_body(name, input, authentication_id, type),
            idempotent=True,
        )

    def delete_source(self, source_id: str) -> dict[str, Any]:
        """Delete a source (``DELETE /1/sources/{id}``) → ``{"deletedAt"}``.

        Algolia refuses while a task uses it.
        """
        sid = resource_id(source_id, "source_id")
        return self._object("DELETE", f"/1/sources/{sid}")

    def search_sources(self, source_ids: Any) -> Listing:
        """The sources with these ids (``POST /1/sources/search``)."""
        ids = id_list(source_ids, "source_ids")
        return self._search("/1/sources/search", "sourceIDs", ids, title="sources found")

    def discover_source(self, source_id: str) -> dict[str, Any]:
        """Ask a Docker (Singer) source to list its streams (``POST /1/sources/{id}/discover``).

        Returns:
            ``{"message", "runID"?, "data"?, "events"?}``; the listing is then read with
            :meth:`source_streams`.
        """
        sid = resource_id(source_id, "source_id")
        return self._object("POST", f"/1/sources/{sid}/discover", idempotent=False)

    def source_streams(self, source_id: str) -> dict[str, Any]:
        """The stream listing of a Docker (Singer) source (``GET /1/sources/{id}/discover``)."""
        sid = resource_id(source_id, "source_id")
        return self._object("GET", f"/1/sources/{sid}/discover")

    # -- bodies ----------------------------------------------------------------------------
    @staticmethod
    def _source_body(kind: str | None, name: str, value: Any, authentication_id: str | None) -> dict[str, Any]:
        if kind is not None:
            choice(kind, SOURCE_TYPES, "type")
        kind, wire = source_input(kind, value)
        body: dict[str, Any] = {"type": kind, "name": non_empty(name, "name"), "input": wire}
        if authentication_id is not None:
            body["authenticationID"] = resource_id(authentication_id, "authentication_id")
        return body

    @staticmethod
    def _update_body(name: str | None, value: Any, authentication_id: str | None, kind: str | None) -> dict[str, Any]:
        if kind is not None:
            choice(kind, SOURCE_TYPES, "type")
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = non_empty(name, "name")
        if value is not None:
            body["input"] = source_input(kind, value, partial=True)[1]
        if authentication_id is not None:
            body["authenticationID"] = resource_id(authentication_id, "authentication_id")
        if not body:
            raise InvalidArgument("nothing to update: give name=, input= or authentication_id=")
        return body
