"""What a Woosmap feature query keeps: the ``where`` language (a subset of Woosmap's) and the
geometry filters of ``nearby``, ``intersects``, ``contains`` and ``within``.

Example:
    >>> keep = parse_where('cost:>32.3 AND category:"bakery" OR accessible:true')
    >>> keep({"cost": 40, "category": "bakery"}), keep({"cost": 10, "accessible": False})
    (True, False)
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

_CLAUSE = re.compile(r'^\s*(\w+)\s*:\s*(>=|<=|>|<|=)?\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def parse_where(text: str) -> Any:
    """``cost:>32.3 AND category:"bakery" OR accessible:true`` → a predicate on attributes.

    Clauses are ``field:value`` (equality) or ``field:<op>number`` with ``>``, ``<``, ``>=``,
    ``<=``; ``AND`` binds tighter than ``OR``. Raises ``ValueError`` on anything else.
    """
    if not text.strip():
        raise ValueError("the where clause is empty")
    alternatives = []
    for part in re.split(r"\s+OR\s+", text.strip()):
        clauses = []
        for clause in re.split(r"\s+AND\s+", part):
            m = _CLAUSE.match(clause)
            if not m:
                raise ValueError(f"cannot parse the where clause near {clause.strip()!r}")
            name, op, raw = m.group(1), m.group(2) or "=", m.group(3)
            value: Any
            if raw.startswith('"'):
                value = json.loads(raw)
            elif raw in ("true", "false"):
                value = raw == "true"
            else:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
            if op != "=" and not isinstance(value, float):
                raise ValueError(f"{op} needs a number in {clause.strip()!r}")
            clauses.append((name, op, value))
        alternatives.append(clauses)

    def matches(attributes: dict[str, Any]) -> bool:
        return any(all(_compare(attributes.get(n), op, v) for n, op, v in clauses) for clauses in alternatives)

    return matches


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    if op == "=":
        if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
            return float(actual) == expected
        return actual == expected or str(actual) == str(expected)
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    return {">": actual > expected, "<": actual < expected, ">=": actual >= expected, "<=": actual <= expected}[op]


Geometry = tuple[str, Any]


def parse_geometry(value: Any, *, polygon_only: bool = False) -> Geometry:
    """A GeoJSON Point/LineString/Polygon, a WKT POINT/LINESTRING/POLYGON or a bare ``lat,lng``.

    Returns ``("point", (lng, lat))``, ``("line", [(lng, lat), ...])`` or
    ``("polygon", [ring, ...])``; raises ``ValueError`` on anything else.
    """
    kind, coords = _geometry(value)
    if polygon_only and kind != "polygon":
        raise ValueError("geometry must be a Polygon")
    return kind, coords


def _geometry(value: Any) -> Geometry:
    if isinstance(value, dict):
        kind = str(value.get("type", "")).lower()
        coords = value.get("coordinates") or ()
        try:
            if kind == "point":
                return "point", _pair(coords)
            if kind == "linestring":
                line = [_pair(p) for p in coords]
                if len(line) < 2:  # GeoJSON: a LineString has two positions or more
                    raise ValueError
                return "line", line
            if kind == "polygon":
                rings = [[_pair(p) for p in ring] for ring in coords]
                if not rings or any(len(r) < 4 for r in rings):
                    raise ValueError
                return "polygon", rings
        except (TypeError, ValueError):
            raise ValueError(f"invalid {value.get('type')} coordinates") from None
        raise ValueError("geometry type must be Point, LineString or Polygon")
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)", text)
        if m:
            return "point", (float(m.group(2)), float(m.group(1)))
        m = re.fullmatch(r"(POINT|LINESTRING|POLYGON)\s*\((.*)\)", text, re.IGNORECASE | re.DOTALL)
        if m:
            kind = m.group(1).upper()
            try:
                if kind == "POLYGON":
                    rings = [
                        [_wkt_pair(p) for p in ring.split(",")] for ring in re.findall(r"\(([^()]*)\)", m.group(2))
                    ]
                    if not rings or any(len(r) < 4 for r in rings):
                        raise ValueError
                    return "polygon", rings
                points = [_wkt_pair(p) for p in m.group(2).split(",")]
                if kind == "LINESTRING" and len(points) < 2:
                    raise ValueError
                return ("point", points[0]) if kind == "POINT" else ("line", points)
            except (ValueError, IndexError):
                raise ValueError(f"invalid WKT {kind}") from None
        raise ValueError("unable to parse the geometry (GeoJSON, WKT or 'lat,lng')")
    raise ValueError("geometry must be a GeoJSON object or a string")


def _pair(value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise ValueError  # GeoJSON positions are numbers (float() would take False and "3.5")
    lng, lat = (float(v) for v in value)
    return lng, lat


def _wkt_pair(text: str) -> tuple[float, float]:
    lng, lat = text.split()
    return float(lng), float(lat)


def _meters(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres between two lng/lat points (equirectangular; fine at city scale)."""
    mean = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111_320.0 * math.cos(mean)
    dy = (b[1] - a[1]) * 110_540.0
    return math.hypot(dx, dy)


def _to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    scale = math.cos(math.radians(p[1]))
    ax, ay, bx, by, px, py = a[0] * scale, a[1], b[0] * scale, b[1], p[0] * scale, p[1]
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    closest = ((ax + t * dx) / scale, ay + t * dy)
    return _meters(p, closest)


def _inside(p: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=False):
        if (y1 > p[1]) != (y2 > p[1]) and p[0] < (x2 - x1) * (p[1] - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _distance(p: tuple[float, float], geometry: Geometry) -> float:
    kind, coords = geometry
    if kind == "point":
        return _meters(p, coords)
    if kind == "line":
        if len(coords) < 2:
            return _meters(p, coords[0])
        return min(_to_segment(p, a, b) for a, b in itertools.pairwise(coords))
    outer, holes = coords[0], coords[1:]
    if _inside(p, outer) and not any(_inside(p, h) for h in holes):
        return 0.0
    return min(_to_segment(p, a, b) for ring in coords for a, b in itertools.pairwise(ring))


def select(features: list[dict[str, Any]], kind: str, geometry: Geometry, buffer: float | None) -> list[dict[str, Any]]:
    """The point features a ``nearby`` / ``intersects`` / ``within`` / ``contains`` query keeps."""
    reach = buffer or 0.0
    scored = [(_distance(tuple(f["geometry"]["coordinates"]), geometry), f) for f in features]
    if kind == "nearby":
        kept = [(d, f) for d, f in scored if buffer is None or d <= reach]
        return [f for _, f in sorted(kept, key=lambda x: x[0])]
    if kind == "contains":
        # a point feature contains only the very same point
        return [f for d, f in scored if geometry[0] == "point" and not buffer and d < 0.01]
    return [f for d, f in scored if d <= reach]
