"""What every vendor client shares: its HTTP session, progress choice, cache and clock."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.errors import ConfigurationError
from dataferry.http.auth import Auth
from dataferry.http.errormap import ErrorMap
from dataferry.http.ratelimit import Rate, RateLimiter, RateLimits, limits_from
from dataferry.http.session import HttpClient
from dataferry.wait import PollPolicy

SHARED_KEYWORDS = ("base_url", "progress", "timeout", "clock", "poll", "rate_limits")
"""The keywords every vendor's ``Client(...)`` takes, besides its credentials and ``**http``."""

DATA_KEYWORDS = ("cache_dir",)
"""The keywords only the clients of vendors that download data take (Bright Data, myTracker)."""


def credential(value: str | None, env: str, what: str, *, vendor: str) -> str:
    """``value``, else the environment variable ``env``; a clear error when neither is set.

    Example:
        >>> credential("abc", "NOPE_UNSET", "API token", vendor="x")
        'abc'
    """
    if value:
        return value
    found = os.environ.get(env)
    if found:
        return found
    raise ConfigurationError(
        f"{vendor}: no {what} given",
        hint=f"pass it to the client, or set the {env} environment variable",
    )


class VendorClient:
    """Base of the vendor clients.

    Attributes:
        http: the vendor's :class:`~dataferry.http.session.HttpClient`.
        progress: the default ``progress=`` for this client's calls (``None``: automatic).
        cache_dir: where parts are cached (``None``: the default cache directory).
        clock: time source.
        poll: the poll policy for this client's jobs (``None``: each job kind's default;
            the vendor's rate limit is always the floor).
    """

    vendor: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    """The vendor's API root; a client on another root says so in its re-attach code."""
    documented_limits: ClassVar[Mapping[str, Sequence[Rate]]] = MappingProxyType({})
    """The vendor's documented rate limits, endpoint family → rates (what ``rate_limits=None`` keeps to)."""
    rate_families: ClassVar[tuple[str, ...]] = ()
    """Endpoint families without a documented limit that a ``rate_limits`` mapping may still name."""

    def __init__(self, http: HttpClient, *, progress: Any = None, cache_dir: str | Path | None = None,
                 clock: Clock = SYSTEM_CLOCK, poll: PollPolicy | None = None) -> None:
        self.http = http
        self.poll = poll
        self.progress = progress
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.clock = clock

    @classmethod
    def session(cls, auth: Auth, error_map: ErrorMap, *, base_url: str, timeout: tuple[float, float], clock: Clock,
                rate_limits: RateLimits = None, **http: Any) -> HttpClient:
        """The vendor's :class:`~dataferry.http.session.HttpClient`, paced by ``rate_limits=``
        (:func:`~dataferry.http.ratelimit.limits_from`: one meaning for every vendor).

        Args:
            auth, error_map: the vendor's auth hook and error table.
            base_url, timeout, clock, rate_limits: as the client was given them.
            **http: more :class:`HttpClient` settings; an explicit ``limiter=`` wins over
                ``rate_limits`` (which is still checked).

        Raises:
            InvalidArgument: a bad ``rate_limits``.
        """
        limits = limits_from(cls.documented_limits, rate_limits, families=cls.rate_families, vendor=cls.vendor)
        limiter = http.pop("limiter", None) or RateLimiter(limits, clock=clock)
        return HttpClient(cls.vendor, base_url, auth, error_map, limiter=limiter, timeout=timeout, clock=clock, **http)

    @property
    def reattach_client(self) -> str:
        """Code that re-creates this client (shown in re-attach hints; credentials come from
        the environment)."""
        args = ", ".join(f"{k}={v!r}" for k, v in self._reattach_args().items())
        return f"{self.vendor}.Client({args})"

    def _reattach_args(self) -> dict[str, Any]:
        """The keywords :attr:`reattach_client` shows (``base_url`` when it is not the vendor's)."""
        if self.base_url == self.default_base_url.rstrip("/"):
            return {}
        return {"base_url": self.base_url}

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self.http.base_url.rstrip("/")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{self.vendor}.{type(self).__name__}(base_url={self.base_url!r}, auth={self.http.auth!r})"
