"""Reading an Algolia request: the JSON body, array filters (comma-joined or repeated), boolean
filters, date windows, and the sorting and paging of a list.

Each returns what it read and the problem, as the 400 ``message``, or ``None``.

Example:
    >>> from werkzeug.test import EnvironBuilder
    >>> multi(EnvironBuilder(query_string="type=csv,json").get_request(), "type", ("csv", "json"))
    (['csv', 'json'], None)
"""

from __future__ import annotations

import json
import math
from typing import Any

from werkzeug.wrappers import Request

from dataferry.emulator.algolia import rules


def body(request: Request) -> tuple[dict[str, Any], str | None]:
    """The JSON object of a request's body (``{}`` and the problem when it is not one)."""
    try:
        value = json.loads(request.get_data() or b"null")
    except ValueError:
        return {}, "Invalid JSON body"
    if not isinstance(value, dict):
        return {}, "body must be object"
    return value, None


def multi(request: Request, name: str, allowed: tuple[str, ...] | None) -> tuple[list[str] | None, str | None]:
    """An array filter, comma-joined or repeated; ``None`` when absent."""
    raw = request.args.getlist(name)
    if not raw:
        return None, None
    values = [v for item in raw for v in item.split(",")]
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            return None, f"{name} must be equal to one of the allowed values: {', '.join(allowed)} (got '{bad[0]}')"
    return values, None


def boolean(request: Request, name: str) -> tuple[list[bool] | None, str | None]:
    """A ``true`` / ``false`` filter, as the one value it keeps; ``None`` when absent."""
    text = request.args.get(name)
    if text is None:
        return None, None
    if text not in ("true", "false"):
        return None, f"{name} must be boolean"
    return [text == "true"], None


def window(request: Request, now: float, default: float) -> tuple[tuple[float, float], str | None]:
    """``startDate`` / ``endDate`` as epoch seconds (the last ``default`` seconds when absent)."""
    bounds = []
    for name, fallback in (("startDate", now - default), ("endDate", now)):
        text = request.args.get(name)
        value = fallback if text is None else rules.parse_date(text)
        if value is None:
            return (0.0, 0.0), f"{name} must be a date in RFC 3339 format"
        bounds.append(value)
    if bounds[0] > bounds[1]:
        return (0.0, 0.0), "startDate must be before endDate"
    return (bounds[0], bounds[1]), None


def page(
    request: Request, kind: str, views: list[dict[str, Any]], window: tuple[float, float] | None = None
) -> tuple[dict[str, Any], str | None]:
    """The answer of a list: ``views`` sorted and cut to the page the query asks for."""
    q = request.args
    sort = q.get("sort", "publishedAt" if kind == "events" else "createdAt")
    order = q.get("order", "desc")
    if sort not in rules.SORT_KEYS[kind]:
        return {}, f"sort must be equal to one of the allowed values: {', '.join(rules.SORT_KEYS[kind])}"
    if order not in rules.ORDERS:
        return {}, "order must be equal to one of the allowed values: asc, desc"
    try:
        number = int(q.get("page", 1))
        per_page = int(q.get("itemsPerPage", 10))
    except ValueError:
        return {}, "page and itemsPerPage must be integers"
    if number < 1:
        return {}, "page must be >= 1"
    if not 1 <= per_page <= 100:
        return {}, "itemsPerPage must be <= 100 and >= 1"
    views.sort(key=lambda v: _sort_value(kind, sort, v), reverse=order == "desc")
    nb_pages = max(1, math.ceil(len(views) / per_page))
    answer: dict[str, Any] = {
        kind: views[(number - 1) * per_page : number * per_page],
        "pagination": {"nbPages": nb_pages, "page": number, "nbItems": len(views), "itemsPerPage": per_page},
    }
    if window is not None:
        answer["window"] = {"startDate": rules.iso(window[0]), "endDate": rules.iso(window[1])}
    return answer, None


def _sort_value(kind: str, sort: str, view: dict[str, Any]) -> Any:
    if sort == "auth_type":
        return view.get("type") or ""
    if sort == "triggerType":
        return view["trigger"]["type"]
    if sort == "updatedAt" and kind == "runs":
        return view.get("finishedAt") or view.get("startedAt") or view["createdAt"]
    value = view.get(sort)
    return (0, "") if value is None else (1, value)
