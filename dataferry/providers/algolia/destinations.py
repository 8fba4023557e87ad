"""Destinations: the Algolia index (or Insights) records go to (``/1/destinations``)."""

from __future__ import annotations

from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.listing import Listing
from dataferry.providers.algolia.base import IngestionBase
from dataferry.providers.algolia.destination_inputs import destination_input
from dataferry.providers.algolia.enums import DESTINATION_TYPES
from dataferry.providers.algolia.params import (
    PAGE_SIZE,
    array_filter,
    choice,
    id_list,
    list_query,
    non_empty,
    resource_id,
)


class Destinations(IngestionBase):
    """``/1/destinations``: list, create, get, update, delete, search."""

    def destinations(
        self,
        *,
        type: Any = None,
        authentication_id: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """Every destination, all pages (``GET /1/destinations``).

        Args:
            type: ``search``, ``insights`` or a list of them.
            authentication_id: one id or a list: destinations using these authentications.
            sort: ``name``, ``type``, ``updatedAt`` or ``createdAt``; order: ``asc`` / ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`.

        Example::

            ing.destinations(type="search").to_pandas()
        """
        query = list_query(
            "destinations",
            sort=sort,
            order=order,
            type=None if type is None else array_filter(type, "type", DESTINATION_TYPES),
            authenticationID=None
            if authentication_id is None
            else array_filter(authentication_id, "authentication_id"),
        )
        return self._list("/1/destinations", "destinations", query=query, title="destinations", page_size=page_size)

    def create_destination(
        self,
        *,
        type: str,
        name: str,
        input: Any,
        authentication_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a destination (``POST /1/destinations``).

        Args:
            type: ``search`` (an index) or ``insights``.
            name: a descriptive name.
            input: :class:`DestinationIndexName`, :class:`DestinationIndexPrefix`, or a dict
                ``{"indexName": ...}`` / ``{"indexPrefix": ...}``.
            authentication_id: an ``algolia`` (search) or ``algoliaInsights`` authentication.

        Returns:
            ``{"destinationID", "name", "createdAt"}``.

        Raises:
            InvalidArgument: a missing or wrong field (named), before anything is sent.

        Example::

            ing.create_destination(
                type="search",
                name="products",
                input={"indexName": "products"},
                authentication_id=auth["authenticationID"],
            )
        """
        body: dict[str, Any] = {
            "type": choice(type, DESTINATION_TYPES, "type"),
            "name": non_empty(name, "name"),
            "input": destination_input(input),
        }
        if authentication_id is not None:
            body["authenticationID"] = resource_id(authentication_id, "authentication_id")
        return self._object("POST", "/1/destinations", body=body, idempotent=False)

    def get_destination(self, destination_id: str) -> dict[str, Any]:
        """One destination (``GET /1/destinations/{id}``)."""
        did = resource_id(destination_id, "destination_id")
        return self._object("GET", f"/1/destinations/{did}")

    def update_destination(
        self,
        destination_id: str,
        *,
        type: str | None = None,
        name: str | None = None,
        input: Any = None,
        authentication_id: str | None = None,
    ) -> dict[str, Any]:
        """Change a destination (``PATCH /1/destinations/{id}``); only what is given.

        Returns:
            ``{"destinationID", "name", "updatedAt"}``.
        """
        did = resource_id(destination_id, "destination_id")
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = choice(type, DESTINATION_TYPES, "type")
        if name is not None:
            body["name"] = non_empty(name, "name")
        if input is not None:
            body["input"] = destination_input(input)
        if authentication_id is not None:
            body["authenticationID"] = resource_id(authentication_id, "authentication_id")
        if not body:
            raise InvalidArgument("nothing to update: give type=, name=, input= or authentication_id=")
        return self._object("PATCH", f"/1/destinations/{did}", body=body, idempotent=True)

    def delete_destination(self, destination_id: str) -> dict[str, Any]:
        """Delete a destination (``DELETE /1/destinations/{id}``) → ``{"deletedAt"}``.

        Algolia refuses while a task uses it.
        """
        did = resource_id(destination_id, "destination_id")
        return self._object("DELETE", f"/1/destinations/{did}")

    def search_destinations(self, destination_ids: Any) -> Listing:
        """The destinations with these ids (``POST /1/destinations/search``)."""
        ids = id_list(destination_ids, "destination_ids")
        return self._search("/1/destinations/search", "destinationIDs", ids, title="destinations found")
