"""What every vendor client shares: its HTTP session, progress choice, cache and clock."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Self

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.errors import ConfigurationError, InvalidArgument
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


def request_keywords(build: Callable[..., Any], *, exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """The keyword-only parameters of a request builder (``params.py``): where a vendor
    declares a request's keywords once, for the client method that forwards them.

    Example:
        >>> def build(event, *, now, date_from=None, rooted=None): ...
        >>> request_keywords(build, exclude=("now",))
        ('date_from', 'rooted')
    """
    return tuple(
        n
        for n, p in inspect.signature(build).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in exclude
    )


def forward(method: Callable[..., Any], build: Callable[..., Any], *, exclude: Sequence[str] = ()) -> None:
    """Give ``method(self, …, **options)`` the signature it forwards: its own parameters, with
    the keywords of ``build`` in place of ``**options`` (so ``help()``, ``inspect`` and IDEs list
    them, while they are declared once, in ``build``).

    A method set up this way checks its options with :func:`check_keywords`.
    """
    own = inspect.signature(method)
    wire = inspect.signature(build).parameters
    names = request_keywords(build, exclude=exclude)
    head = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in head}
    params = [
        *[p for p in head if p.kind is not inspect.Parameter.KEYWORD_ONLY],
        *[wire[n] for n in names if n not in taken],
        *[p for p in head if p.kind is inspect.Parameter.KEYWORD_ONLY],
    ]
    method.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]


def check_keywords(what: str, given: Mapping[str, Any], known: Sequence[str]) -> None:
    """Refuse a keyword a forwarded request does not know, naming the known ones.

    Raises:
        InvalidArgument: ``given`` holds a name not in ``known``.
    """
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidArgument(
            f"{what}() got an unknown parameter {unknown[0]!r}; the parameters are: {', '.join(known)}"
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

    def __init__(
        self,
        http: HttpClient,
        *,
        progress: Any = None,
        cache_dir: str | Path | None = None,
        clock: Clock = SYSTEM_CLOCK,
        poll: PollPolicy | None = None,
    ) -> None:
        self.http = http
        self.poll = poll
        self.progress = progress
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.clock = clock

    @classmethod
    def session(
        cls,
        auth: Auth,
        error_map: ErrorMap,
        *,
        base_url: str,
        timeout: tuple[float, float],
        clock: Clock,
        rate_limits: RateLimits = None,
        **http: Any,
    ) -> HttpClient:
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{self.vendor}.{type(self).__name__}(base_url={self.base_url!r}, auth={self.http.auth!r})"
