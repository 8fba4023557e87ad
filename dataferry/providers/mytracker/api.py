"""One myTracker API call: every answer is the envelope ``{"code", "message", "data"}``.

myTracker sets the HTTP status too, but its own clients only read ``code``; the session reads
both (the error map's ``status_of`` is :func:`envelope_code`), so an error answered as HTTP 200
with ``"code": 404`` is still a :class:`~dataferry.errors.NotFound`, and a ``code`` 429 is
waited out like an HTTP 429, on the one retry path every vendor uses.

Both the client and the export handle call through here, so neither reaches into the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dataferry.errors import ApiError
from dataferry.http import HttpClient

FAMILY = "api"
"""The rate-limit family of every API call (myTracker's quotas count all of a user's calls)."""

CREATE_PATH = "/api/raw/v1/export/create.json"
"""The endpoint that creates a raw export (POST, form body)."""

GET_PATH = "/api/raw/v1/export/get.json"
"""The status endpoint (``?idRawExport=N``)."""

CANCEL_PATH = "/api/raw/v1/export/cancel.json"
"""The cancel endpoint (``?idRawExport=N``)."""


def envelope_code(body: Any) -> int | None:
    """The ``code`` of an envelope, ``None`` when there is none.

    Example:
        >>> envelope_code({"code": 429, "message": "Too Many Requests"}), envelope_code([])
        (429, None)
    """
    if not isinstance(body, dict):
        return None
    try:
        return int(body["code"])
    except (KeyError, TypeError, ValueError):
        return None


def call(
    http: HttpClient,
    method: str,
    path: str,
    *,
    params: Any = None,
    data: Any = None,
    job_id: str | None = None,
    idempotent: bool | None = None,
) -> Any:
    """One API call; returns the envelope's ``data``.

    Raises:
        ApiError: an error answer (typed by the error map), or an answer without the envelope.
    """
    response = http.request(method, path, params=params, data=data, family=FAMILY, idempotent=idempotent, job_id=job_id)
    body = http.json_of(response)
    if not isinstance(body, dict):
        raise ApiError(
            f"answered without the {{code, message, data}} envelope: {str(body)[:200]}",
            vendor=http.vendor,
            status=response.status_code,
            method=method,
            url=http.redactor.url(response.url),
        )
    return body.get("data")


def create(http: HttpClient, params: Iterable[tuple[str, str]]) -> str:
    """POST create.json (never re-sent blindly) and return the new ``idRawExport``.

    Raises:
        ApiError: the export was accepted but the answer has no ``idRawExport``.
    """
    response = http.request("POST", CREATE_PATH, data=list(params), family=FAMILY, idempotent=False)
    body = http.json_of(response)
    data = body.get("data") if isinstance(body, dict) else None
    export_id = data.get("idRawExport") if isinstance(data, dict) else None
    if export_id in (None, ""):
        raise http.missing(data if data is not None else body, "idRawExport", what="create.json", response=response)
    return str(export_id)
