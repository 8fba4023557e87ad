"""Masking secrets in anything that may be shown: messages, URLs, bodies, headers, reprs."""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
"""What a secret is replaced with."""

SECRET_NAMES = frozenset(
    {
        "authorization",
        "token",
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "x-algolia-api-key",
        "private_key",
        "privatekey",
        "key",
        "secret",
        "secret_key",
        "password",
        "client_secret",
        "auth_header",
        "aws-secret-key",
        "secret-key",
        "sas_token",
        "ssh_key",
        "passphrase",
    }
)
"""Header, query and JSON field names whose values are always masked (compared lowercased)."""

_MIN_SECRET_LEN = 4


class Redactor:
    """Masks known secret values and secret-named fields.

    Args:
        secrets: literal secret values (tokens, keys) to mask wherever they appear.

    Example:
        >>> Redactor(["s3cr3t"]).text("token s3cr3t rejected")
        'token *** rejected'
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        for s in secrets:
            self.add(s)
        LIBRARY_LOG_MASK.watch(self)

    def add(self, secret: str | None) -> None:
        """Also mask ``secret`` from now on (ignored when empty or very short)."""
        if secret and len(secret) >= _MIN_SECRET_LEN and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every known secret replaced by ``***``."""
        for s in self._secrets:
            if s in value:
                value = value.replace(s, MASK)
        return value

    def url(self, url: str) -> str:
        """``url`` with secret query parameters and user info masked."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if k.lower() in SECRET_NAMES else v) for k, v in pairs], safe="*,|[]")
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def data(self, value: Any) -> Any:
        """A copy of a JSON-like structure with secret-named fields and secret values masked."""
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and k.lower() in SECRET_NAMES and v is not None else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with secret headers masked."""
        return {k: (MASK if k.lower() in SECRET_NAMES else self.text(v)) for k, v in headers.items()}

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


_BEARER = re.compile(r"(Bearer|AuthHMAC)\s+\S+", re.IGNORECASE)


def scrub_auth_text(text: str) -> str:
    """Mask ``Bearer …`` / ``AuthHMAC …`` credentials that appear in free text."""
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


class LibraryLogMask(logging.Filter):
    """Masks secrets in the request lines urllib3 logs at DEBUG (they carry the query string,
    e.g. Bright Data's ``auth_header`` or a key sent as a query parameter).

    Secret-named query parameters are always masked, and so is every secret known to a live
    :class:`Redactor` (as is and URL-encoded).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()

    def watch(self, redactor: Redactor) -> None:
        """Also mask ``redactor``'s secrets (for as long as it lives)."""
        with self._lock:
            self._redactors.add(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self._mask(a) if isinstance(a, str) else a for a in record.args)
        return True

    def _mask(self, text: str) -> str:
        if "?" in text:
            text = _NAMES_ONLY.url(text)
        with self._lock:
            secrets = [s for r in self._redactors for s in r._secrets]
        for s in secrets:
            for form in (s, quote_plus(s), quote(s, safe="")):
                text = text.replace(form, MASK)
        return text


LIBRARY_LOG_MASK = LibraryLogMask()
"""The filter on ``urllib3.connectionpool``'s logger."""

_NAMES_ONLY = Redactor()
logging.getLogger("urllib3.connectionpool").addFilter(LIBRARY_LOG_MASK)
