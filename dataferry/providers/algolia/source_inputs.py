"""Source inputs: one variant per source ``type`` (the spec has none for ``sfcc``).

Example:
    >>> SourceCSV(url="https://example.com/products.csv", unique_id_column="sku").to_wire()
    {'url': 'https://example.com/products.csv', 'uniqueIDColumn': 'sku'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataferry.providers.algolia.enums import (
    BIGQUERY_DATA_TYPES,
    CSV_MAPPING_TYPES,
    DOCKER_IMAGE_TYPES,
    DOCKER_REGISTRIES,
    METHODS,
)
from dataferry.providers.algolia.inputs import Input, each_matches, objects_with, strings, url, wire

LOCALE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"
"""A commercetools locale: a language code and an optional country (``fr`` or ``fr-FR``)."""

FORBIDDEN_DELIMITERS = ("\r", "\n", "\ufffd", " ")
"""Characters the API refuses as a CSV delimiter."""


def _delimiter(value: str) -> str | None:
    if len(value) != 1:
        return f"must be exactly one character, got {value!r}"
    if value in FORBIDDEN_DELIMITERS:
        return f"cannot be {value!r} (\\r, \\n, U+FFFD and space are not allowed)"
    return None


def _mapping(value: Mapping[str, Any]) -> str | None:
    for column, kind in value.items():
        if kind not in CSV_MAPPING_TYPES:
            return f"[{column!r}] must be one of {', '.join(CSV_MAPPING_TYPES)}, got {kind!r}"
    return None


def _custom_fields(value: Mapping[str, Any]) -> str | None:
    for key, fields in value.items():
        if key not in ("inventory", "price", "category"):
            return f"has no field {key!r}; allowed: inventory, price, category"
        if fields is not None and (not isinstance(fields, list) or strings(fields)):
            return f"[{key!r}] must be a list of strings or None"
    return None


def _channel(value: Mapping[str, Any]) -> str | None:
    if isinstance(value.get("id"), bool) or not isinstance(value.get("id"), int):
        return "needs an integer 'id'"
    extra = set(value) - {"id", "currencies"}
    if extra:
        return f"has unknown field(s) {', '.join(sorted(extra))}; allowed: id, currencies"
    currencies = value.get("currencies")
    if currencies is not None and (not isinstance(currencies, list) or strings(currencies)):
        return "currencies must be a list of strings"
    return None


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceInput(Input):
    """Base of the source inputs."""

    family = "source"


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceCommercetools(SourceInput):
    """A commercetools project.

    Args:
        url: the commercetools API URL.
        project_key: the project key.
        store_keys: stores to index.
        locales: locales such as ``"fr-FR"`` or ``"en"``.
        fallback_is_in_stock_value: in-stock value for products without inventory data.
        custom_fields: ``{"inventory": [...], "price": [...], "category": [...]}``.
    """

    kind = "commercetools"
    url: str = wire("url", str, required=True, check=url)
    project_key: str = wire("projectKey", str, required=True)
    store_keys: list[str] | None = wire("storeKeys", list, check=strings)
    locales: list[str] | None = wire("locales", list, check=each_matches(LOCALE_PATTERN, "fr-FR"))
    fallback_is_in_stock_value: bool | None = wire("fallbackIsInStockValue", bool)
    custom_fields: dict[str, Any] | None = wire("customFields", dict, check=_custom_fields)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceBigCommerce(SourceInput):
    """A BigCommerce store.

    Args:
        store_hash: the store hash.
        channel: ``{"id": 1, "currencies": ["usd"]}``.
        custom_fields: custom fields to index.
        product_metafields, variant_metafields: ``[{"namespace": ..., "key": ...}]``.
    """

    kind = "bigcommerce"
    store_hash: str = wire("storeHash", str, required=True)
    channel: dict[str, Any] | None = wire("channel", dict, check=_channel)
    custom_fields: list[str] | None = wire("customFields", list, check=strings)
    product_metafields: list[dict[str, str]] | None = wire(
        "productMetafields", list, check=objects_with("namespace", "key")
    )
    variant_metafields: list[dict[str, str]] | None = wire(
        "variantMetafields", list, check=objects_with("namespace", "key")
    )


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceJSON(SourceInput):
    """A JSON file at a URL.

    Args:
        url: where the file is.
        unique_id_column: the attribute used as ``objectID``.
        method: ``"GET"`` or ``"POST"``.
    """

    kind = "json"
    url: str = wire("url", str, required=True, check=url)
    unique_id_column: str | None = wire("uniqueIDColumn", str)
    method: str | None = wire("method", str, choices=METHODS)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceCSV(SourceInput):
    """A CSV file at a URL.

    Args:
        url: where the file is.
        unique_id_column: the column used as ``objectID``.
        mapping: column → ``string|integer|float|boolean|json``.
        method: ``"GET"`` or ``"POST"``.
        delimiter: one character (default ``,``).
    """

    kind = "csv"
    url: str = wire("url", str, required=True, check=url)
    unique_id_column: str | None = wire("uniqueIDColumn", str)
    mapping: dict[str, str] | None = wire("mapping", dict, check=_mapping)
    method: str | None = wire("method", str, choices=METHODS)
    delimiter: str | None = wire("delimiter", str, check=_delimiter)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceBigQuery(SourceInput):
    """A BigQuery table.

    Args:
        project_id, dataset_id: where the table is.
        data_type: ``"ga4"`` or ``"ga360"``.
        table, table_prefix: the table, or the prefix of a Google Analytics export.
        custom_sql_request: SQL to extract the data.
        unique_id_column: the column used as ``objectID``.
    """

    kind = "bigquery"
    project_id: str = wire("projectID", str, required=True)
    dataset_id: str = wire("datasetID", str, required=True)
    data_type: str | None = wire("dataType", str, choices=BIGQUERY_DATA_TYPES)
    table: str | None = wire("table", str)
    table_prefix: str | None = wire("tablePrefix", str)
    custom_sql_request: str | None = wire("customSQLRequest", str)
    unique_id_column: str | None = wire("uniqueIDColumn", str)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceGA4BigQueryExport(SourceInput):
    """A Google Analytics 4 export to BigQuery.

    Args:
        project_id, dataset_id: where the export writes.
        table_prefix: the prefix of its tables, e.g. ``"events_intraday_"``.
    """

    kind = "ga4BigqueryExport"
    project_id: str = wire("projectID", str, required=True)
    dataset_id: str = wire("datasetID", str, required=True)
    table_prefix: str = wire("tablePrefix", str, required=True)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceDocker(SourceInput):
    """A connector packaged as a Docker image.

    Args:
        image_type: ``"singer"``, ``"custom"`` or ``"airbyte"``.
        registry: ``"dockerhub"`` or ``"ghcr"``.
        image: the image name, e.g. ``"algolia/zendesk"``.
        configuration: the connector's configuration.
        version: the image version (``latest`` by default).
    """

    kind = "docker"
    image_type: str = wire("imageType", str, required=True, choices=DOCKER_IMAGE_TYPES)
    registry: str = wire("registry", str, required=True, choices=DOCKER_REGISTRIES)
    image: str = wire("image", str, required=True)
    configuration: dict[str, Any] = wire("configuration", dict, required=True)
    version: str | None = wire("version", str)


@dataclass(frozen=True, kw_only=True, repr=False)
class SourceShopify(SourceInput):
    """A Shopify store.

    Args:
        shop_url: the store's URL.
        feature_flags: Shopify feature flags.
    """

    kind = "shopify"
    shop_url: str = wire("shopURL", str, required=True, check=url)
    feature_flags: dict[str, Any] | None = wire("featureFlags", dict)


SOURCE_INPUTS: tuple[type[SourceInput], ...] = (
    SourceCommercetools,
    SourceBigCommerce,
    SourceJSON,
    SourceCSV,
    SourceBigQuery,
    SourceGA4BigQueryExport,
    SourceDocker,
    SourceShopify,
)
"""Every source variant with an input schema in the spec, one per ``type``."""

FIXED_ON_UPDATE = {"commercetools": ("projectKey",), "docker": ("imageType",), "shopify": ("shopURL",)}
"""Input fields a source update cannot change (they are absent from the spec's update variants)."""
