"""Where every Woosmap request that creates a dataset or starts an import is built, with the
checks of its arguments, run before anything is sent (each failure names the argument)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from dataferry.errors import InvalidArgument

MAX_URL_LENGTH = 2083
"""Longest dataset URL Woosmap accepts (spec: ``maxLength: 2083``)."""

PER_PAGE_MAX = 20
"""Largest ``per_page`` of the list and feature endpoints."""

SCHEMA_KEYS = ("title",)
"""The schema keys a ``schema_mapping`` may map (spec: ``SchemaKeys``)."""


def check_uuid(value: Any, what: str) -> str:
    """``value`` as a canonical UUID string, or :class:`InvalidArgument`.

    Example:
        >>> check_uuid("8C4C51F1-F6F3-43BC-B65D-7415E8EF22C0", "dataset_id")
        '8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0'
    """
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(
            f"{what} must be a UUID such as '8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0', got {value!r}"
        ) from None


def check_name(value: Any) -> str:
    """A dataset name: a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"name must be a non-empty string, got {value!r}")
    return value


def check_url(value: Any) -> str:
    """The URL Woosmap fetches the data from: http(s), at most 2083 characters.

    Example:
        >>> check_url("ftp://example.com/x.geojson")
        Traceback (most recent call last):
        ...
        dataferry.errors.InvalidArgument: url must be an http:// or https:// URL, got 'ftp://example.com/x.geojson'
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"url must be a non-empty string, got {value!r}")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidArgument(f"url is {len(value)} characters long; Woosmap accepts at most {MAX_URL_LENGTH}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(f"url must be an http:// or https:// URL, got {value!r}")
    return value.strip()


def wire_schema_mapping(value: Mapping[str, str] | Sequence[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    """A ``schema_mapping`` on the wire from ``{"title": "store_name"}`` or the spec's own list.

    Example:
        >>> wire_schema_mapping({"title": "store_name"})
        [{'schema_key': 'title', 'data_key': 'store_name'}]
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        items = [{"schema_key": k, "data_key": v} for k, v in value.items()]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = [dict(item) if isinstance(item, Mapping) else item for item in value]
    else:
        raise InvalidArgument(
            "schema_mapping must be a dict such as {'title': 'store_name'} or a list of "
            "{'schema_key': ..., 'data_key': ...}"
        )
    for item in items:
        if not isinstance(item, dict) or set(item) != {"schema_key", "data_key"}:
            raise InvalidArgument(f"each schema_mapping entry needs exactly schema_key and data_key, got {item!r}")
        if item["schema_key"] not in SCHEMA_KEYS:
            raise InvalidArgument(
                f"schema_key {item['schema_key']!r} cannot be mapped; Woosmap maps only {', '.join(SCHEMA_KEYS)}"
            )
        if not isinstance(item["data_key"], str) or not item["data_key"]:
            raise InvalidArgument(f"data_key must be the name of a property in your data, got {item['data_key']!r}")
    return items


def check_page_size(value: Any) -> int:
    """``page_size`` (sent as ``per_page``): an integer from 1 to 20."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PER_PAGE_MAX:
        raise InvalidArgument(f"page_size must be an integer from 1 to {PER_PAGE_MAX}, got {value!r}")
    return value


def dataset_body(name: str, url: str, schema_mapping: Any = None) -> dict[str, Any]:
    """The JSON body of ``POST /datasets/`` (a dataset whose imports are the jobs), checked.

    Example:
        >>> dataset_body("stores", "https://example.com/stores.geojson")
        {'name': 'stores', 'url': 'https://example.com/stores.geojson'}
    """
    body: dict[str, Any] = {"name": check_name(name), "url": check_url(url)}
    mapping = wire_schema_mapping(schema_mapping)
    if mapping is not None:
        body["schema_mapping"] = mapping
    return body


def import_path(dataset_id: str) -> str:
    """The path of the call that starts an import (``POST``, no body)."""
    return f"/datasets/{check_uuid(dataset_id, 'dataset_id')}/import"


def reimport_path(reimport_key: str) -> str:
    """The path of the reimport hook (``POST``, no body, no authentication)."""
    return f"/datasets/hooks/reimport/{check_uuid(reimport_key, 'reimport_key')}"
