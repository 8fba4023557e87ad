"""A part: one downloadable piece of a job's result."""

from __future__ import annotations

from dataclasses import dataclass, replace

FORMATS = ("csv", "json", "ndjson")
"""Formats the decoder reads (``jsonl`` is read as ``ndjson``)."""

EXPIRY_MARGIN = 30.0
"""Seconds before a link's stated expiry at which it is already treated as expired."""


def normalize_format(fmt: str) -> str:
    """``"jsonl"`` → ``"ndjson"``; other names lower-cased.

    Example:
        >>> normalize_format("JSONL")
        'ndjson'
    """
    fmt = fmt.strip().lower()
    return "ndjson" if fmt == "jsonl" else fmt


@dataclass(frozen=True)
class Part:
    """One piece of a job's result.

    Attributes:
        index: position among the job's parts (rows keep this order).
        url: an API path (relative to the client's base URL) or an absolute link.
        format: ``"csv"``, ``"json"`` or ``"ndjson"``.
        compression: ``"gzip"`` or ``None``; gzip is also recognised by its magic bytes.
        params: query parameters of the download request.
        size: the expected size in bytes, when the vendor says.
        expires_at: epoch seconds after which the link is dead, when the vendor says.
        name: the file name in the cache (stable across link refreshes).

    Example:
        >>> Part(0, "/x", "csv", "gzip").filename
        'part-00000.csv.gz'
    """

    index: int
    url: str
    format: str
    compression: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    size: int | None = None
    expires_at: float | None = None
    name: str = ""

    @property
    def filename(self) -> str:
        """The cache file name."""
        if self.name:
            return self.name
        suffix = ".gz" if self.compression == "gzip" else ""
        return f"part-{self.index:05d}.{self.format}{suffix}"

    def expired(self, now: float, margin: float = EXPIRY_MARGIN) -> bool:
        """Whether the link is (nearly) past its expiry at epoch time ``now``."""
        return self.expires_at is not None and now >= self.expires_at - margin

    def with_link(self, url: str, expires_at: float | None, params: tuple[tuple[str, str], ...] | None = None) -> Part:
        """The same part behind a fresh link."""
        return replace(self, url=url, expires_at=expires_at, params=self.params if params is None else params)
