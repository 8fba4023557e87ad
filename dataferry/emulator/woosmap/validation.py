"""Woosmap's request checks, answered as FastAPI does (422 ``{"detail": [{loc, msg, type}]}``):
the JSON body, paging and format, URLs, UUIDs and the dataset create body. Each returns the
list of problems (empty when the request is fine), so an answer can list them all.

Example:
    >>> len(uuid_problems("not-a-uuid", "dataset_id")), len(uuid_problems(str(uuid.uuid4()), "dataset_id"))
    (1, 0)
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

MAX_URL_LENGTH = 2083
"""Longest dataset URL the API accepts."""

PER_PAGE_MAX = 20
"""Largest ``per_page``."""

PER_PAGE_DEFAULT = 10
"""``per_page`` when none is given."""

FORMATS = ("geojson", "wkb")
"""Geometry formats of the feature endpoints."""

Problems = list[dict[str, Any]]
"""FastAPI's validation problems, each ``{"loc": …, "msg": …, "type": …}``."""


def problem(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    """One problem: where, what, and its pydantic error type."""
    return {"loc": loc, "msg": msg, "type": kind}


def missing(loc: list[Any]) -> dict[str, Any]:
    """A required field that is not there."""
    return problem(loc, "Field required", "missing")


def url_problems(value: Any, loc: list[Any]) -> Problems:
    """The problems of a dataset URL (a string, http or https, at most :data:`MAX_URL_LENGTH` long)."""
    if not isinstance(value, str):
        return [problem(loc, "Input should be a valid string", "string_type")]
    if len(value) > MAX_URL_LENGTH:
        return [problem(loc, f"URL should have at most {MAX_URL_LENGTH} characters", "url_too_long")]
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return [problem(loc, "Input should be a valid URL, relative URL without a base", "url_parsing")]
    if parts.scheme not in ("http", "https"):
        return [problem(loc, "URL scheme should be 'http' or 'https'", "url_scheme")]
    return []


def uuid_problems(value: str, name: str) -> Problems:
    """The problem of a path parameter that is not a UUID."""
    try:
        uuid.UUID(value)
    except ValueError:
        return [problem(["path", name], "Input should be a valid UUID, invalid character or length", "uuid_parsing")]
    return []


def body(request: Request) -> tuple[Any, Problems]:
    """The JSON object of a request's body, or ``None`` and its problems."""
    raw = request.get_data()
    if not raw.strip():
        return None, [missing(["body"])]
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return None, [problem(["body", getattr(exc, "pos", 0)], "JSON decode error", "json_invalid")]
    if not isinstance(value, dict):
        return None, [
            problem(
                ["body"], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type"
            )
        ]
    return value, []


def paging(request: Request, *, with_format: bool = False) -> tuple[dict[str, Any], Problems]:
    """``page``, ``per_page`` (and ``format``) from the query, defaults filled in."""
    q = request.args
    out: dict[str, Any] = {"page": 1, "per_page": PER_PAGE_DEFAULT, "format": "geojson"}
    problems = []
    for name, low, high in (("page", 1, None), ("per_page", 1, PER_PAGE_MAX)):
        if name not in q:
            continue
        try:
            value = int(q[name])
        except ValueError:
            problems.append(
                problem(
                    ["query", name],
                    "Input should be a valid integer, unable to parse string as an integer",
                    "int_parsing",
                )
            )
            continue
        if value < low:
            problems.append(
                problem(["query", name], f"Input should be greater than or equal to {low}", "greater_than_equal")
            )
        elif high is not None and value > high:
            problems.append(
                problem(["query", name], f"Input should be less than or equal to {high}", "less_than_equal")
            )
        else:
            out[name] = value
    if with_format and "format" in q:
        if q["format"] not in FORMATS:
            problems.append(problem(["query", "format"], "Input should be 'geojson' or 'wkb'", "enum"))
        else:
            out["format"] = q["format"]
    return out, problems


def page(items: list[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``items`` and its ``pagination`` (``prev`` / ``next``)."""
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    more = start + per_page < len(items)
    return chunk, {"page": page, "prev": page - 1 if page > 1 else None, "next": page + 1 if more else None}


def create_problems(body: dict[str, Any]) -> Problems:
    """The problems of a dataset create body."""
    problems = []
    if "name" not in body:
        problems.append(missing(["body", "name"]))
    elif not isinstance(body["name"], str):
        problems.append(problem(["body", "name"], "Input should be a valid string", "string_type"))
    if "url" not in body:
        problems.append(missing(["body", "url"]))
    else:
        problems += url_problems(body["url"], ["body", "url"])
    mapping = body.get("schema_mapping")
    if mapping is not None:
        if not isinstance(mapping, list):
            problems.append(problem(["body", "schema_mapping"], "Input should be a valid list", "list_type"))
        else:
            for n, item in enumerate(mapping):
                loc = ["body", "schema_mapping", n]
                if not isinstance(item, dict):
                    problems.append(
                        problem(
                            loc,
                            "Input should be a valid dictionary or object to extract fields from",
                            "model_attributes_type",
                        )
                    )
                    continue
                if "schema_key" not in item:
                    problems.append(missing([*loc, "schema_key"]))
                elif item["schema_key"] != "title":
                    problems.append(problem([*loc, "schema_key"], "Input should be 'title'", "enum"))
                if "data_key" not in item:
                    problems.append(missing([*loc, "data_key"]))
                elif not isinstance(item["data_key"], str):
                    problems.append(problem([*loc, "data_key"], "Input should be a valid string", "string_type"))
    return problems
