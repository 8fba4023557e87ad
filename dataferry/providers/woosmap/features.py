"""Woosmap feature queries: thin calls that return JSON records (or a DataFrame via the listing).

Feature search (``where``), ``nearby``, ``intersects``, ``contains`` and ``within`` page through
every result; :func:`get_feature` reads one feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.http import HttpClient
from dataferry.listing import Listing, next_page_pages
from dataferry.providers.woosmap.params import check_page_size, check_uuid

QUERIES = ("search", "nearby", "intersects", "contains", "within")
"""The feature query endpoints (``POST /datasets/{id}/features/<query>/``)."""

FORMATS = ("geojson", "wkb")
"""Geometry formats: GeoJSON objects, or WKB base64-encoded strings."""

FEATURE_PAGE = 20
"""Features asked for per request (the API's maximum)."""

GEOJSON_TYPES = ("Point", "LineString", "Polygon")
"""GeoJSON geometry types the queries accept (``within``: Polygon only)."""


def geometry_wire(value: Any, *, polygon_only: bool = False) -> Any:
    """The ``geometry`` of a query as Woosmap takes it.

    Accepts a GeoJSON mapping (``{"type": "Point", "coordinates": [lng, lat]}``), any object
    with ``__geo_interface__`` (shapely), a string (WKT, an encoded polyline, ``"lat,lng"``),
    or a ``(lat, lng)`` pair.

    Raises:
        InvalidArgument: anything else, or not a polygon where one is required.

    Example:
        >>> geometry_wire((43.6, 3.883))
        '43.6,3.883'
    """
    if hasattr(value, "__geo_interface__"):
        value = dict(value.__geo_interface__)
    if isinstance(value, Mapping):
        kind = value.get("type")
        allowed = ("Polygon",) if polygon_only else GEOJSON_TYPES
        if kind not in allowed or "coordinates" not in value:
            raise InvalidArgument(
                f"geometry must be a GeoJSON {' / '.join(allowed)} with coordinates, got type {kind!r}"
            )
        return {"type": kind, "coordinates": _plain(value["coordinates"])}
    if isinstance(value, str):
        if not value.strip():
            raise InvalidArgument("geometry is an empty string")
        if polygon_only and not value.strip().upper().startswith("POLYGON"):
            raise InvalidArgument("within() needs a polygon: a GeoJSON Polygon or a WKT 'POLYGON((...))'")
        return value
    is_pair = (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )
    if polygon_only:
        raise InvalidArgument("within() needs a polygon: a GeoJSON Polygon or a WKT 'POLYGON((...))'")
    if is_pair:
        lat, lng = value
        return f"{lat:g},{lng:g}"
    raise InvalidArgument("geometry must be GeoJSON, a WKT or polyline string, or a (lat, lng) pair")


def _plain(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)):
        return [_plain(c) for c in coords]
    return float(coords)


def query_features(
    http: HttpClient,
    dataset_id: str,
    query: str,
    *,
    geometry: Any = None,
    buffer: float | None = None,
    where: str | None = None,
    format: str = "geojson",
    page_size: int = FEATURE_PAGE,
    limit: int | None = None,
) -> Listing:
    """One of the feature queries, every page.

    Args:
        http: the client's session.
        dataset_id: the dataset.
        query: one of :data:`QUERIES`.
        geometry: see :func:`geometry_wire` (not for ``search``).
        buffer: metres added around ``geometry``.
        where: a Woosmap filter on attributes, e.g. ``"cost:>32.3"`` (required for ``search``).
        format: ``"geojson"`` or ``"wkb"``.
        page_size: features per request (1–20; sent as ``per_page``).
        limit: stop after this many features.

    Returns:
        A :class:`~dataferry.listing.Listing`: iterate for JSON records, ``.to_pandas()`` for
        a DataFrame (``geometry.*`` and ``attributes.*`` columns).

    Raises:
        InvalidArgument: a bad argument, before anything is sent.
    """
    dataset_id = check_uuid(dataset_id, "dataset_id")
    if query not in QUERIES:
        raise InvalidArgument(f"query must be one of {', '.join(QUERIES)}, got {query!r}")
    if format not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    check_page_size(page_size)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
    body: dict[str, Any] = {}
    if query == "search":
        if geometry is not None or buffer is not None:
            raise InvalidArgument(
                "search() filters on attributes only; use nearby(), intersects(), contains() or within() for a geometry"
            )
        if not isinstance(where, str) or not where.strip():
            raise InvalidArgument("search() needs where=, e.g. where='cost:>32.3'")
    else:
        if geometry is None:
            raise InvalidArgument(f"{query}() needs a geometry")
        body["geometry"] = geometry_wire(geometry, polygon_only=query == "within")
        if buffer is not None:
            if isinstance(buffer, bool) or not isinstance(buffer, (int, float)) or buffer < 0:
                raise InvalidArgument(f"buffer must be a number of metres >= 0, got {buffer!r}")
            body["buffer"] = float(buffer)
    if where is not None:
        if not isinstance(where, str) or not where.strip():
            raise InvalidArgument(f"where must be a non-empty filter string, got {where!r}")
        body["where"] = where

    def fetch_page(number: int) -> dict[str, Any]:
        return http.json_of(
            http.request(
                "POST",
                f"/datasets/{dataset_id}/features/{query}/",
                json=body,
                params={"format": format, "page": number, "per_page": page_size},
                family="features",
                idempotent=True,
            )
        )

    return Listing(
        next_page_pages(fetch_page, "features", vendor="woosmap", limit=limit), title=f"woosmap {query} in {dataset_id}"
    )


def get_feature(
    http: HttpClient,
    dataset_id: str,
    feature_id: str,
    *,
    format: str = "geojson",
    fields: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One feature (``GET /datasets/{id}/features/{feature_id}``) as JSON.

    Args:
        http: the client's session.
        dataset_id, feature_id: UUIDs.
        format: ``"geojson"`` or ``"wkb"``.
        fields: sent as the ``X-Field-Mask`` header (comma-joined), to ask for fewer fields.

    Raises:
        InvalidArgument: a bad argument, before anything is sent.
        NotFound: no such feature or dataset.
    """
    dataset_id = check_uuid(dataset_id, "dataset_id")
    feature_id = check_uuid(feature_id, "feature_id")
    if format not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    headers = None
    if fields is not None:
        if isinstance(fields, str) or not all(isinstance(f, str) and f for f in fields):
            raise InvalidArgument("fields must be a list of field names, e.g. ['name', 'cost']")
        headers = {"X-Field-Mask": ",".join(fields)}
    return http.get_json(
        f"/datasets/{dataset_id}/features/{feature_id}",
        params={"format": format},
        headers=headers,
        family="features",
        job_id=dataset_id,
    )
