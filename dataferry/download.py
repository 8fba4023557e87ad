"""Spooling parts to disk: parallel, resumable, checked, atomic, reused on the next run."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3.exceptions

from dataferry import constants
from dataferry.cache import PartCache
from dataferry.clock import Clock, sleep_unless
from dataferry.constants import CHUNK_SIZE, DOWNLOAD_RESUMES, DOWNLOAD_WORKERS
from dataferry.errors import ApiError, LinkExpired, NotFound, PartCorrupt, PartIncomplete, PermissionDenied, Stopped
from dataferry.events import notice
from dataferry.http.retry import backoff_delay, parse_retry_after, parse_try_again
from dataferry.http.session import HttpClient
from dataferry.parts import Part
from dataferry.pool import ordered_map
from dataferry.reads import GZIP_MAGIC

NOT_READY_WAIT = 900.0
"""Seconds a download keeps asking while the vendor answers 202 "not ready yet"."""

EXPIRED_STATUSES = (401, 403, 404, 410)
"""Statuses a dead signed link answers with; the link is refreshed before giving up."""

LINK_REFRESHES = 3
"""Fresh links asked for one part in a row when each one is refused as expired."""


class _Stalled(Exception):
    """Too few bytes arrived within the stall window: the download is resumed."""


_DROPPED = (
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
    ConnectionError,
    TimeoutError,
    _Stalled,
)

Refresh = Callable[[Part], Part]
"""Returns the same part behind a fresh link (for links that expire)."""


@dataclass
class Fetched:
    """A part on disk.

    Attributes:
        part: the part (with the link finally used).
        path: the complete, verified file.
        cached: whether it came from a previous run's cache.
    """

    part: Part
    path: Path
    cached: bool


class Downloader:
    """Downloads parts into a :class:`PartCache`.

    Args:
        http: the vendor's session (auth, retries, rate limits).
        cache: where parts go.
        clock: time source.
        job_id: for error messages.
        refresh: renews an expired link; ``None`` when links do not expire.
        on_bytes: called with each chunk's size (progress).
        resumes: how many times one part may be resumed after a dropped connection (or a
            stalled one, or an answer that left its length unproven).
        chunk_size: bytes per read.
        stall_window, stall_bytes: a body that delivers fewer than ``stall_bytes`` within
            ``stall_window`` seconds is dropped and resumed from the byte reached (default
            :data:`~dataferry.constants.STALL_WINDOW`, :data:`~dataferry.constants.STALL_BYTES`).
        deadline: seconds one part may take in all before it fails (default
            :data:`~dataferry.constants.PART_DEADLINE`).

    :meth:`stop` ends every download of this downloader within about a second (blocked
    reads are cut); the partial files stay for the next run to resume.
    """

    def __init__(
        self,
        http: HttpClient,
        cache: PartCache,
        *,
        clock: Clock,
        job_id: str = "",
        refresh: Refresh | None = None,
        on_bytes: Callable[[int], None] | None = None,
        resumes: int = DOWNLOAD_RESUMES,
        chunk_size: int = CHUNK_SIZE,
        stall_window: float | None = None,
        stall_bytes: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self.http = http
        self.cache = cache
        self.clock = clock
        self.job_id = job_id
        self.refresh = refresh
        self.on_bytes = on_bytes or (lambda n: None)
        self.resumes = resumes
        self.chunk_size = chunk_size
        # the defaults are read now, so that a setting changed at run time takes effect
        self.stall_window = constants.STALL_WINDOW if stall_window is None else stall_window
        self.stall_bytes = constants.STALL_BYTES if stall_bytes is None else stall_bytes
        self.deadline = constants.PART_DEADLINE if deadline is None else deadline
        self.stopped = threading.Event()
        self._open: set[requests.Response] = set()
        self._open_lock = threading.Lock()

    def stop(self) -> None:
        """Stop every download now: waiting ones end at once, reading ones within a second."""
        self.stopped.set()
        with self._open_lock:
            responses = list(self._open)
        for response in responses:
            _cut(response)

    def fetch(self, part: Part) -> Fetched:
        """Download one part (or find it in the cache).

        Raises:
            PartIncomplete: the connection kept dropping, or 202 never ended.
            PartCorrupt: the body is longer than announced, or not gzip when it should be.
            LinkExpired: the link is dead and no fresh one could be had.
            ApiError: the vendor refused the download.
        """
        with self.cache.locked(part):
            done = self.cache.complete(part)
            if done is not None:
                self.on_bytes(done.stat().st_size)
                return Fetched(part, done, cached=True)
            return self._download(part)

    def _download(self, part: Part) -> Fetched:
        tmp = self.cache.partial(part)
        have = tmp.stat().st_size if tmp.exists() else 0
        drops = 0
        refusals = 0  # fresh links refused as expired, in a row
        not_ready_since: float | None = None
        attempt = 0
        started = self.clock.monotonic()
        while True:
            self._check_stop()
            if self.clock.monotonic() - started > self.deadline:
                raise PartIncomplete(
                    f"part {part.index} of {self.job_id}: not complete after {self.deadline:g} s ({have:,} bytes kept)",
                    hint="the server sends too slowly; run the same call again later to resume where it stopped",
                )
            if self.refresh is not None and part.expired(self.clock.time()):
                part = self._refresh(part, why="its link expired")
            headers = {"Accept-Encoding": "identity"}
            if have:
                headers["Range"] = f"bytes={have}-"
            try:
                response = self.http.request(
                    "GET",
                    part.url,
                    params=list(part.params) or None,
                    headers=headers,
                    stream=True,
                    allow=(202, 206, 416),
                    family="download",
                    job_id=self.job_id,
                    stop=self.stopped,
                )
            except (PermissionDenied, NotFound, ApiError) as exc:
                status = getattr(exc, "status", None)
                if self.refresh is not None and refusals < LINK_REFRESHES and status in EXPIRED_STATUSES:
                    refusals += 1
                    part = self._refresh(part, why=f"its link answered HTTP {status}")
                    continue
                if status in EXPIRED_STATUSES and part.expires_at is not None:
                    raise LinkExpired(
                        f"part {part.index} of {self.job_id}: the download link is no longer valid",
                        hint="fetch the job again to get fresh links",
                    ) from exc
                raise

            if response.status_code == 202:
                try:  # a short note ("… try again in 10s"): read it before the connection is released
                    note = response.text
                except _DROPPED:
                    note = ""
                response.close()
                now = self.clock.monotonic()
                not_ready_since = now if not_ready_since is None else not_ready_since
                if now - not_ready_since > NOT_READY_WAIT:
                    raise PartIncomplete(
                        f"part {part.index} of {self.job_id} stayed 'not ready' for {NOT_READY_WAIT:g} s"
                    )
                attempt += 1
                hint = parse_retry_after(response.headers.get("Retry-After"), self.clock.time())
                if hint is None:
                    hint = parse_try_again(note)
                delay = backoff_delay(attempt, hint=hint, cap=30.0, rng=self.http.rng)
                notice(f"part {part.index}: not ready yet, asking again in {delay:.0f} s")
                self._sleep(delay)
                continue
            if response.status_code == 416:
                response.close()
                total = _unsatisfied_total(response)
                if have and (total == have or (total is None and part.size == have)):
                    # we already hold every byte (a previous run stopped right before the rename)
                    self._finish(part, tmp, have, expected=have)
                    return Fetched(part, self.cache.path(part), cached=False)
                # the server will not say the file is complete: start it again from its first byte
                drops += 1
                if drops > self.resumes:
                    raise PartIncomplete(
                        f"part {part.index} of {self.job_id}: the server refused to resume at byte {have:,} "
                        f"(HTTP 416, its size {'unknown' if total is None else f'{total:,} bytes'})",
                        hint="run the same call again to download it anew",
                    )
                notice(f"part {part.index}: the server refused to resume at byte {have:,}; downloading it again")
                tmp.unlink(missing_ok=True)
                self.on_bytes(-have)
                have = 0
                continue
            page = _markup(response, part)
            if page is not None:
                response.close()
                raise PartCorrupt(
                    f"part {part.index} of {self.job_id}: the server answered HTTP {response.status_code} with a web "
                    f"page{page} instead of the {part.format} data",
                    hint="the link led to an error or login page; run the same call again later",
                )

            expected = _expected_total(response, have)
            if have and response.status_code == 200:
                notice(f"part {part.index}: the server ignored Range; downloading it again from the start")
                self.on_bytes(-have)
                have = 0
            try:
                have = self._spool(response, tmp, have, started)
            except _DROPPED as exc:
                have = tmp.stat().st_size if tmp.exists() else 0  # every byte that reached the disk
                self._check_stop()
                drops += 1
                what = "stalled" if isinstance(exc, _Stalled) else "dropped"
                if drops > self.resumes:
                    raise PartIncomplete(
                        f"part {part.index} of {self.job_id}: the connection {what} {drops} times "
                        f"({have:,} bytes kept in {tmp.name})",
                        hint="run the same call again to resume where it stopped",
                    ) from None
                notice(f"part {part.index}: connection {what} at {have:,} bytes; resuming")
                self._sleep(backoff_delay(drops, base=0.5, cap=10.0, rng=self.http.rng))
                continue
            finally:
                self._forget(response)
                response.close()
            if expected is not None and have < expected:
                drops += 1
                if drops > self.resumes:
                    raise PartIncomplete(f"part {part.index} of {self.job_id}: got {have} of {expected} bytes")
                notice(f"part {part.index}: body ended at {have:,} of {expected:,} bytes; resuming")
                continue
            self._finish(part, tmp, have, expected)
            return Fetched(part, self.cache.path(part), cached=False)

    def fetch_all(self, parts: Iterable[Part], *, workers: int = DOWNLOAD_WORKERS) -> Iterator[Fetched]:
        """Download parts ``workers`` at a time; yield them in index order as each is ready.
        Leaving early (an error, Ctrl-C) stops the downloads still running."""
        try:
            yield from ordered_map(self.fetch, parts, workers=workers, name="dataferry-dl", on_exit=self.stop)
        finally:
            self.stop()

    # -- internals ----------------------------------------------------------------------
    def _refresh(self, part: Part, *, why: str) -> Part:
        assert self.refresh is not None
        notice(f"part {part.index}: {why}; asking for a fresh link")
        fresh = self.refresh(part)
        if fresh.expired(self.clock.time()):
            raise LinkExpired(
                f"part {part.index} of {self.job_id}: the vendor only offers an expired link",
                hint="the export may be too old; create it again",
            )
        return fresh

    def _spool(self, response: requests.Response, tmp: Path, have: int, started: float) -> int:
        mode = "ab" if have else "wb"
        # read1 hands over whatever has arrived (up to a chunk), so when the connection drops
        # every byte received before it is on disk and the resume starts right after it
        read = getattr(response.raw, "read1", None) or response.raw.read
        with self._open_lock:
            self._open.add(response)
        self._check_stop()
        window_start, window_bytes = self.clock.monotonic(), 0
        with open(tmp, mode) as f:
            while True:
                try:
                    chunk = read(self.chunk_size, decode_content=False)
                except _DROPPED:
                    self._check_stop()  # a read cut by stop() is a stop, not a drop
                    raise
                self._check_stop()
                if not chunk:
                    break
                f.write(chunk)
                have += len(chunk)
                self.on_bytes(len(chunk))
                now = self.clock.monotonic()
                window_bytes += len(chunk)
                if now - window_start >= self.stall_window:
                    if window_bytes < self.stall_bytes:
                        raise _Stalled(f"{window_bytes} bytes in {now - window_start:.0f} s")
                    window_start, window_bytes = now, 0
                if now - started > self.deadline:
                    raise _Stalled(f"past the deadline of {self.deadline:g} s")
        return have

    def _forget(self, response: requests.Response) -> None:
        with self._open_lock:
            self._open.discard(response)

    def _check_stop(self) -> None:
        if self.stopped.is_set():
            raise Stopped(f"the download of {self.job_id} was stopped")

    def _sleep(self, seconds: float) -> None:
        """Sleep on the clock, waking up for :meth:`stop`."""
        sleep_unless(self.clock, seconds, self.stopped)
        self._check_stop()

    def _finish(self, part: Part, tmp: Path, have: int, expected: int | None) -> None:
        problem = None
        if expected is not None and have != expected:
            problem = f"{have} bytes where {expected} were announced"
        elif part.size is not None and have != part.size:
            problem = f"{have} bytes where the vendor listed {part.size}"
        elif part.compression == "gzip":
            with open(tmp, "rb") as f:
                if f.read(2) != GZIP_MAGIC:
                    problem = "not a gzip file"
        if problem:
            tmp.unlink(missing_ok=True)
            raise PartCorrupt(
                f"part {part.index} of {self.job_id}: {problem}; the file was discarded",
                hint="run the same call again to download it anew",
            )
        os.replace(tmp, self.cache.path(part))


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED = re.compile(r"bytes\s+\*/(\d+)")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _unsatisfied_total(response: requests.Response) -> int | None:
    """The file size a 416 answer states (``Content-Range: bytes */N``), if it does."""
    m = _UNSATISFIED.match(response.headers.get("Content-Range", ""))
    return int(m.group(1)) if m else None


def _markup(response: requests.Response, part: Part) -> str | None:
    """``" ('title')"`` (or ``""``) when the answer is an HTML page rather than data; else ``None``."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml"):
        return None
    try:
        head = response.raw.read(4096, decode_content=True).decode("utf-8", "replace")
    except (*_DROPPED, ValueError):
        head = ""
    m = _TITLE.search(head)
    return f" ({m.group(1).strip()[:120]!r})" if m else ""


def _cut(response: requests.Response) -> None:
    """Cut a response's connection so that a read blocked on it returns at once."""
    raw = getattr(response, "raw", None)
    candidates = (
        getattr(getattr(raw, "_connection", None), "sock", None),
        getattr(getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None),
    )
    for sock in candidates:
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _expected_total(response: requests.Response, have: int) -> int | None:
    if response.status_code == 206:
        m = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if m and m.group(3) != "*":
            return int(m.group(3))
        length = response.headers.get("Content-Length")
        return have + int(length) if length and length.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None
