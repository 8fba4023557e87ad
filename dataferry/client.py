"""What every vendor client shares: its HTTP session, progress choice, cache and clock."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.errors import ConfigurationError
from dataferry.http.session import HttpClient
from dataferry.wait import PollPolicy


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

    def __init__(self, http: HttpClient, *, progress: Any = None, cache_dir: str | Path | None = None,
                 clock: Clock = SYSTEM_CLOCK, poll: PollPolicy | None = None) -> None:
        self.http = http
        self.poll = poll
        self.progress = progress
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.clock = clock

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
