"""Where downloaded parts are spooled: a per-user cache directory, or a throwaway one.

A file under its final name is complete and verified; anything still being written carries a
``.partial`` suffix and is never read as data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # no fcntl module on Windows: locking is skipped there

from dataferry.parts import Part

CACHE_ENV = "DATAFERRY_CACHE_DIR"
"""Environment variable that moves the cache (default: the platform's user cache dir)."""

PARTIAL_SUFFIX = ".partial"
"""Suffix of a part file that is still being written."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
_SAFE = re.compile(r"[A-Za-z0-9_=-][A-Za-z0-9._=-]{0,119}")


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def default_cache_dir() -> Path:
    """``$DATAFERRY_CACHE_DIR``, else the platform cache dir (``~/.cache/dataferry`` on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("dataferry", appauthor=False))


def safe_name(name: str) -> str:
    """``name`` (a job id, a part name: often chosen by the server) as one file name that stays
    inside its directory. A name that is already safe is kept; any other (``..``, ``a/b``, a
    leading dot, over 120 characters) is cleaned and given a short hash of the original, so
    two different names never share a file.

    Example:
        >>> safe_name("s_m4x7enmven8djfqak"), safe_name("..")[:2]
        ('s_m4x7enmven8djfqak', '_-')
    """
    if _SAFE.fullmatch(name):
        return name
    cleaned = _UNSAFE.sub("_", name).strip(".")[:100] or "_"
    return f"{cleaned}-{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


class PartCache:
    """Part files of one job.

    Args:
        vendor, job_id: whose parts.
        root: the cache root; ``None`` for the default. With ``persistent=False`` a temporary
            directory is used and removed by :meth:`cleanup`.
        persistent: keep verified parts for the next run (``cache=True``).

    Example:
        >>> c = PartCache("brightdata", "s_1", persistent=False)
        >>> c.path(Part(0, "/x", "csv")).name
        'part-00000.csv'
        >>> c.cleanup()
    """

    def __init__(self, vendor: str, job_id: str, *, root: Path | str | None = None, persistent: bool = True) -> None:
        self.persistent = persistent
        if persistent:
            base = Path(root).expanduser() if root is not None else default_cache_dir()
            self.dir = base / safe_name(vendor) / safe_name(job_id)
        else:
            if root is not None:
                Path(root).expanduser().mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix=f"dataferry-{safe_name(job_id)}-", dir=root))
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, part: Part) -> Path:
        """Where ``part`` lives once complete."""
        return self.dir / safe_name(part.filename)

    def partial(self, part: Part) -> Path:
        """Where ``part`` is written while incomplete."""
        return self.dir / (safe_name(part.filename) + PARTIAL_SUFFIX)

    def complete(self, part: Part) -> Path | None:
        """The verified file for ``part`` when a previous run completed it."""
        p = self.path(part)
        if not self.persistent or not p.is_file():
            return None
        if part.size is not None and p.stat().st_size != part.size:
            return None
        return p

    @contextlib.contextmanager
    def locked(self, part: Part) -> Iterator[None]:
        """Hold ``part`` exclusively (across threads and processes) while it is downloaded,
        so that two runs of the same job never write the same file at once."""
        lock_path = self.dir / (safe_name(part.filename) + ".lock")
        with _THREAD_LOCKS_GUARD:
            local = _THREAD_LOCKS.setdefault(str(lock_path), threading.Lock())
        with local:
            if fcntl is None:  # pragma: no cover
                yield
                return
            with open(lock_path, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def discard(self, part: Part) -> None:
        """Forget ``part`` (complete or not), e.g. after it failed to decode."""
        for p in (self.path(part), self.partial(part)):
            p.unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Remove a throwaway cache directory (a persistent one is kept)."""
        if not self.persistent:
            shutil.rmtree(self.dir, ignore_errors=True)
