"""Destination inputs: an index name, or an index prefix.

Example:
    >>> DestinationIndexName(index_name="products", record_type="product").to_wire()
    {'indexName': 'products', 'recordType': 'product'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.providers.algolia.enums import RECORD_TYPES
from dataferry.providers.algolia.inputs import Input, strings, wire


@dataclass(frozen=True, kw_only=True, repr=False)
class DestinationInput(Input):
    """Base of the destination inputs."""

    family = "destination"


@dataclass(frozen=True, kw_only=True, repr=False)
class DestinationIndexName(DestinationInput):
    """Records go to one index.

    Args:
        index_name: the index (case-sensitive).
        record_type: ``"product"`` or ``"variant"`` for e-commerce sources.
        attributes_to_exclude: attributes left out of the records (``"foo.bar"``,
            ``"foo.[0].bar"``, ``"foo.[*].bar"``).
    """

    index_name: str = wire("indexName", str, required=True)
    record_type: str | None = wire("recordType", str, choices=RECORD_TYPES)
    attributes_to_exclude: list[str] | None = wire("attributesToExclude", list, check=strings)


@dataclass(frozen=True, kw_only=True, repr=False)
class DestinationIndexPrefix(DestinationInput):
    """Records go to indices whose names start with a prefix.

    Args:
        index_prefix: the prefix added to every index this destination creates.
    """

    index_prefix: str = wire("indexPrefix", str, required=True)


DESTINATION_INPUTS: tuple[type[DestinationInput], ...] = (DestinationIndexName, DestinationIndexPrefix)
"""The destination input variants."""


def destination_input(value: Any, *, partial: bool = False) -> dict[str, Any]:
    """The wire form of a destination input: a variant, or a dict with ``indexName`` or
    ``indexPrefix``.

    Raises:
        InvalidArgument: neither variant fits, naming the field.

    Example:
        >>> destination_input({"indexPrefix": "shop_"})
        {'indexPrefix': 'shop_'}
    """
    if isinstance(value, DestinationInput):
        return value.to_wire()
    if isinstance(value, Input):
        raise InvalidArgument(
            f"input is {type(value).__name__}, not a destination input; use DestinationIndexName "
            "or DestinationIndexPrefix"
        )
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"input must be DestinationIndexName(...), DestinationIndexPrefix(...) or a dict, "
            f"got {type(value).__name__}"
        )
    variant = DestinationIndexPrefix if "indexPrefix" in value else DestinationIndexName
    return variant.validate(value, partial=partial)
