"""Authentications: how Algolia connects to a source or a destination (``/1/authentications``)."""

from __future__ import annotations

from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.listing import Listing
from dataferry.providers.algolia.auth_inputs import AUTH_INPUTS
from dataferry.providers.algolia.base import IngestionBase
from dataferry.providers.algolia.enums import AUTH_SECRET_FIELDS, AUTHENTICATION_TYPES, PLATFORM_FILTERS, PLATFORMS
from dataferry.providers.algolia.inputs import fits_any, pick
from dataferry.providers.algolia.params import (
    PAGE_SIZE,
    array_filter,
    choice,
    id_list,
    list_query,
    non_empty,
    resource_id,
)
from dataferry.redact import MASK

SECRET_COLUMNS = tuple(f"input.{name}" for name in AUTH_SECRET_FIELDS)
"""DataFrame columns of an authentication list that hold secrets."""


def mask_authentication(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of an authentication with every non-null secret input field masked.

    Example:
        >>> mask_authentication({"type": "basic", "input": {"username": "u", "password": "p4ss"}})
        {'type': 'basic', 'input': {'username': 'u', 'password': '***'}}
    """
    out = dict(record)
    if isinstance(out.get("input"), dict):
        out["input"] = {k: (MASK if k in AUTH_SECRET_FIELDS and v is not None else v) for k, v in out["input"].items()}
    return out


class Authentications(IngestionBase):
    """``/1/authentications``: list, create, get, update, delete, search."""

    def authentications(
        self,
        *,
        type: Any = None,
        platform: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """Every authentication, all pages (``GET /1/authentications``).

        Args:
            type: an authentication type or a list of them (``basic``, ``algolia``...).
            platform: ``bigcommerce``, ``commercetools``, ``shopify``, ``none`` or a list.
            sort: ``name``, ``auth_type``, ``platform``, ``updatedAt`` or ``createdAt``.
            order: ``asc`` or ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing` (secrets masked).

        Raises:
            InvalidArgument: an unknown filter value, before anything is sent.

        Example::

            ing.authentications(type=["algolia", "basic"]).to_pandas()
        """
        query = list_query(
            "authentications",
            sort=sort,
            order=order,
            type=None if type is None else array_filter(type, "type", AUTHENTICATION_TYPES),
            platform=None if platform is None else array_filter(platform, "platform", PLATFORM_FILTERS),
        )
        return self._list(
            "/1/authentications",
            "authentications",
            query=query,
            title="authentications",
            page_size=page_size,
            transform=mask_authentication,
            secret_columns=SECRET_COLUMNS,
        )

    def create_authentication(
        self,
        *,
        name: str,
        input: Any,
        type: str | None = None,
        platform: str | None = None,
    ) -> dict[str, Any]:
        """Create an authentication (``POST /1/authentications``).

        Args:
            name: a descriptive name.
            input: a typed input (:class:`AuthAlgolia`, :class:`AuthBasic`...) or a dict with
                the API's field names for ``type``.
            type: the authentication type; taken from a typed ``input`` when left out.
            platform: ``bigcommerce``, ``commercetools`` or ``shopify``.

        Returns:
            ``{"authenticationID", "name", "createdAt"}``.

        Raises:
            InvalidArgument: a missing or wrong field (named), before anything is sent.

        Example::

            ing.create_authentication(name="shop", input=AuthAlgolia(app_id="APP", api_key="…"))
        """
        kind, body_input, secrets = pick(AUTH_INPUTS, type, input, family="authentication")
        body: dict[str, Any] = {"type": kind, "name": non_empty(name, "name"), "input": body_input}
        if platform is not None:
            body["platform"] = choice(platform, PLATFORMS, "platform")
        self._register(secrets)
        return self._object("POST", "/1/authentications", body=body, idempotent=False)

    def get_authentication(self, authentication_id: str) -> dict[str, Any]:
        """One authentication (``GET /1/authentications/{id}``), secrets masked."""
        aid = resource_id(authentication_id, "authentication_id")
        return mask_authentication(self._object("GET", f"/1/authentications/{aid}"))

    def update_authentication(
        self,
        authentication_id: str,
        *,
        name: str | None = None,
        type: str | None = None,
        platform: str | None = None,
        input: Any = None,
    ) -> dict[str, Any]:
        """Change an authentication (``PATCH /1/authentications/{id}``); only what is given.

        Args:
            authentication_id: the authentication.
            name, type, platform: new values.
            input: some or all input fields (a dict, or a typed input).

        Returns:
            ``{"authenticationID", "name", "updatedAt"}``.
        """
        aid = resource_id(authentication_id, "authentication_id")
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = non_empty(name, "name")
        if type is not None:
            body["type"] = choice(type, AUTHENTICATION_TYPES, "type")
        if platform is not None:
            body["platform"] = choice(platform, PLATFORMS, "platform")
        if input is not None:
            if type is not None:
                _, body["input"], secrets = pick(AUTH_INPUTS, type, input, family="authentication", partial=True)
            else:
                body["input"] = fits_any(AUTH_INPUTS, input, family="authentication")
                secrets = [str(v) for k, v in body["input"].items() if k in AUTH_SECRET_FIELDS]
            self._register(secrets)
        if not body:
            raise InvalidArgument("nothing to update: give name=, type=, platform= or input=")
        return self._object("PATCH", f"/1/authentications/{aid}", body=body, idempotent=True)

    def delete_authentication(self, authentication_id: str) -> dict[str, Any]:
        """Delete an authentication (``DELETE /1/authentications/{id}``) → ``{"deletedAt"}``.

        Algolia refuses while a source or a destination uses it.
        """
        aid = resource_id(authentication_id, "authentication_id")
        return self._object("DELETE", f"/1/authentications/{aid}")

    def search_authentications(self, authentication_ids: Any) -> Listing:
        """The authentications with these ids (``POST /1/authentications/search``)."""
        ids = id_list(authentication_ids, "authentication_ids")
        return self._search(
            "/1/authentications/search",
            "authenticationIDs",
            ids,
            title="authentications found",
            transform=mask_authentication,
            secret_columns=SECRET_COLUMNS,
        )
