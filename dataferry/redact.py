"""Masking secrets in anything that may be shown: messages, URLs, bodies, headers, reprs."""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

_E = TypeVar("_E", bound=BaseException)

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
        """``value`` with every known secret replaced by ``***`` (as is and URL-encoded), and
        the values of secret-named query parameters in URLs inside it masked too."""
        for s in self._secrets:
            for form in _forms(s):
                if form in value:
                    value = value.replace(form, MASK)
        if "=" in value:
            value = _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, value)
        return value

    def leaks(self, value: str) -> bool:
        """Whether ``value`` shows a secret (a known value or a secret-named query parameter)."""
        return self.text(value) != value

    def scrub(self, exc: _E) -> _E:
        """Mask secrets in ``exc`` and everything in its cause / context chain, in place.

        dataferry's own errors get their texts masked; a foreign exception (requests,
        urllib3, pyarrow...) whose text shows a secret is replaced in the chain by a
        :class:`~dataferry.errors.ForeignError` holding its masked text.

        Returns:
            ``exc``, for ``raise redactor.scrub(exc)``.
        """
        _scrub(exc, self, set())
        return exc

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

_SECRET_PARAM = re.compile(
    r"(?i)((?<![A-Za-z0-9_-])(?:"
    + "|".join(re.escape(n) for n in sorted(SECRET_NAMES, key=len, reverse=True))
    + r")=)(?!\*\*\*)[^&\s'\"<>)]+"
)


def _forms(secret: str) -> tuple[str, ...]:
    """A secret as it may appear: as is, and URL-encoded both ways."""
    return tuple(dict.fromkeys((secret, quote_plus(secret), quote(secret, safe=""))))


def _scrub(exc: BaseException, redactor: Redactor, seen: set[int]) -> None:
    from dataferry.errors import ApiError, DataferryError, ForeignError, Interrupted

    if id(exc) in seen:
        return
    seen.add(id(exc))
    if isinstance(exc, (DataferryError, Interrupted)):
        exc.args = tuple(redactor.text(a) if isinstance(a, str) else a for a in exc.args)
        for name in ("message", "hint", "vendor_message", "url", "reattach"):
            value = getattr(exc, name, None)
            if isinstance(value, str):
                setattr(exc, name, redactor.text(value))
        if isinstance(exc, ApiError) and exc.body is not None:
            exc.body = redactor.data(exc.body)
    for link in ("__cause__", "__context__"):
        nxt = getattr(exc, link)
        if nxt is None:
            continue
        if not isinstance(nxt, (DataferryError, Interrupted, ForeignError)) and (
            redactor.leaks(str(nxt)) or redactor.leaks(repr(nxt))
        ):
            masked = ForeignError(f"{type(nxt).__name__}: {redactor.text(str(nxt))}", type_name=type(nxt).__name__)
            masked.__cause__ = nxt.__cause__
            masked.__context__ = nxt.__context__
            masked.__suppress_context__ = nxt.__suppress_context__
            setattr(exc, link, masked)
            nxt = masked
        _scrub(nxt, redactor, seen)


def scrub_auth_text(text: str) -> str:
    """Mask ``Bearer …`` / ``AuthHMAC …`` credentials that appear in free text."""
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


class LibraryLogMask(logging.Filter):
    """Masks secrets in every record of dataferry's loggers and of the HTTP libraries under it
    (urllib3 logs request lines with their query string at DEBUG: Bright Data's
    ``auth_header``, a key sent as a query parameter).

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
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a record that cannot be formatted: leave it to logging
            return True
        masked = self._mask(text)
        if record.exc_info and record.exc_info[1] is not None:
            with self._lock:
                redactors = list(self._redactors)
            for redactor in redactors or [_NAMES_ONLY]:
                redactor.scrub(record.exc_info[1])
            record.exc_text = None
        if masked != text:
            record.msg, record.args = masked, None
        return True

    def _mask(self, text: str) -> str:
        text = _NAMES_ONLY.text(text)
        with self._lock:
            secrets = [s for r in self._redactors for s in r._secrets]
        for s in secrets:
            for form in _forms(s):
                text = text.replace(form, MASK)
        return text


LIBRARY_LOG_MASK = LibraryLogMask()
"""The filter on dataferry's loggers and those of the HTTP libraries (:data:`MASKED_LOGGERS`)."""

MASKED_LOGGERS = (
    "dataferry",
    "dataferry.emulator",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.poolmanager",
    "requests",
)
"""Loggers whose records are masked (a filter sees only its own logger's records)."""

_NAMES_ONLY = Redactor()


def mask_known(text: str) -> str:
    """``text`` with every secret of every live client masked, and secret-named query
    parameters too (the safety net under every error message dataferry builds)."""
    return LIBRARY_LOG_MASK._mask(text)


for _name in MASKED_LOGGERS:
    logging.getLogger(_name).addFilter(LIBRARY_LOG_MASK)
