"""Authentication hooks for ``requests``; each one knows which of its values are secret."""

from __future__ import annotations

from collections.abc import Mapping

import requests
from requests.auth import AuthBase

from dataferry.redact import MASK


class Auth(AuthBase):
    """Base of dataferry's auth hooks.

    Attributes:
        secrets: the literal secret values, so that they can be masked everywhere.
    """

    secrets: tuple[str, ...] = ()
    any_host: bool = False
    """Whether the hook may sign requests to other hosts than the API's (a per-request
    signature that reveals no secret, like myTracker's HMAC); tokens and keys may not."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}({MASK})"


class NoAuth(Auth):
    """Sends nothing (emulator hooks, public endpoints)."""

    def __repr__(self) -> str:
        return "NoAuth()"


class BearerAuth(Auth):
    """``Authorization: Bearer <token>``.

    Example:
        >>> BearerAuth("abc123")
        BearerAuth(***)
    """

    def __init__(self, token: str) -> None:
        self._token = token
        self.secrets = (token,)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class HeaderAuth(Auth):
    """Fixed headers, some of them secret (e.g. ``X-Api-Key``).

    Args:
        public: headers whose values may be shown (an application id).
        secret: headers whose values are masked everywhere.
    """

    def __init__(self, secret: Mapping[str, str], public: Mapping[str, str] | None = None) -> None:
        self._public = dict(public or {})
        self._secret = dict(secret)
        self.secrets = tuple(v for v in self._secret.values() if v)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self._public)
        request.headers.update(self._secret)
        return request

    def __repr__(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self._public.items()] + [f"{k}={MASK}" for k in self._secret]
        return f"HeaderAuth({', '.join(shown)})"


class QueryAuth(Auth):
    """A secret sent as a query parameter (only where a vendor requires it)."""

    def __init__(self, name: str, value: str) -> None:
        self._name = name
        self._value = value
        self.secrets = (value,)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.prepare_url(request.url, {self._name: self._value})
        return request

    def __repr__(self) -> str:
        return f"QueryAuth({self._name}={MASK})"
