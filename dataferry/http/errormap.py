"""One table from an HTTP error answer (status + body) to a typed exception.

Vendors add rules (status, message pattern → a more specific class) and, where their bodies
are unusual, their own way of reading the message; the rest is shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from dataferry.errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnprocessableEntity,
)
from dataferry.redact import Redactor

STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    402: PaymentRequired,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: UnprocessableEntity,
    429: RateLimited,
}
"""The exception class for each HTTP error status; any other 5xx is ServerError."""

MESSAGE_KEYS = ("error_message", "message", "error", "detail", "details", "msg", "info", "title")
"""Keys read, in order, to find a vendor's human message in a JSON error body."""

ERROR_LIST_KEYS = ("validation_errors", "errors", "detail")
"""Keys that may hold a list of validation errors."""

_MAX_TEXT = 300


def decode_body(response: requests.Response) -> Any:
    """The response body as JSON when it parses, else as (shortened) text."""
    try:
        text = response.text
    except (requests.RequestException, RuntimeError):
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def find_message(body: Any) -> str | None:
    """The vendor's message in a decoded body: a string, or the first message-like field.

    Nested envelopes (``{"data": {"error": {"detail": ...}}}``) are searched too.
    """
    if isinstance(body, str):
        text = body.strip()
        if text.lower().startswith(("<!doctype", "<html")):
            m = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            return m.group(1).strip() if m else None
        return text[:_MAX_TEXT] or None
    if isinstance(body, dict):
        for key in MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, dict):
                nested = find_message(value)
                if nested:
                    return nested
        data = body.get("data")
        if isinstance(data, dict):
            return find_message(data)
    return None


def find_errors(body: Any) -> list[Any]:
    """A list of validation errors in a decoded body, or ``[]``."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ERROR_LIST_KEYS:
            value = body.get(key)
            if isinstance(value, list):
                return value
        data = body.get("data")
        if isinstance(data, dict):
            return find_errors(data.get("error") if isinstance(data.get("error"), dict) else data)
    return []


@dataclass(frozen=True)
class Rule:
    """Map an error answer to a more specific class.

    Args:
        error: the class to raise.
        status: the HTTP status it applies to (``None``: any).
        pattern: a regular expression searched in the vendor's message (``None``: any).
    """

    error: type[ApiError]
    status: int | None = None
    pattern: str | None = None

    def matches(self, status: int, message: str) -> bool:
        if self.status is not None and self.status != status:
            return False
        return self.pattern is None or re.search(self.pattern, message, re.IGNORECASE) is not None


@dataclass
class ErrorMap:
    """How one vendor's error answers become exceptions.

    Args:
        vendor: the vendor's name, shown in messages.
        rules: specific rules, tried in order before the status table.
        message: reads the vendor message from a decoded body (default :func:`find_message`).
        retry_after: reads a wait hint in seconds from a decoded body (e.g. myTracker's
            ``resetInSecond``); the ``Retry-After`` header is read by the session itself.
        status_of: reads the effective status from a body whose JSON ``code`` carries the
            error while HTTP says 200 (myTracker); ``None`` to use the HTTP status.
    """

    vendor: str
    rules: Sequence[Rule] = ()
    message: Callable[[Any], str | None] = find_message
    retry_after: Callable[[Any], float | None] = lambda body: None
    status_of: Callable[[Any], int | None] | None = None
    hints: dict[int, str] = field(default_factory=dict)

    def exception(
        self,
        status: int,
        body: Any,
        *,
        method: str,
        url: str,
        redactor: Redactor,
        job_id: str | None = None,
        retry_after: float | None = None,
        reason: str = "",
    ) -> ApiError:
        """Build the exception for an error answer (URL and body already safe to show)."""
        safe_body = redactor.data(body)
        message = self.message(safe_body) or reason or f"HTTP {status}"
        errors = find_errors(safe_body) if status in (400, 422) else []
        cls = next((r.error for r in self.rules if r.matches(status, message)), None)
        from_rule = cls is not None
        if cls is None:
            cls = STATUS_ERRORS.get(status) or (ServerError if status >= 500 else ApiError)
        kwargs: dict[str, Any] = dict(
            vendor=self.vendor,
            status=status,
            method=method,
            url=url,
            body=safe_body,
            job_id=job_id,
            errors=[e for e in errors if _one_str(e) != message],
        )
        # a vendor's own hint for a status beats the generic one of its class; a class picked
        # by a specific rule (SnapshotExpired...) keeps its own, more precise hint
        if status in self.hints and (not from_rule or cls.hint is None):
            kwargs["hint"] = self.hints[status]
        if issubclass(cls, RateLimited):
            kwargs["retry_after"] = retry_after if retry_after is not None else self.retry_after(body)
        return cls(redactor.text(message), **kwargs)


def _one_str(error: Any) -> str:
    return error if isinstance(error, str) else ""
