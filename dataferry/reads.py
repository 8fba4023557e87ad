"""A part file as a byte stream for pyarrow's readers: gunzipped (ISA-L when installed),
counted, checked as it is read, and quiet once its reader is done.

pyarrow's CSV and JSON readers pull blocks from a Python stream on a thread of their own and
read ahead. :class:`ArrowReads` is what they pull from: every block is inflated straight into a
buffer of Arrow's memory pool, checked for NUL bytes and against the part's byte limit, and
counted. :meth:`ArrowReads.finish` is called on every path out of a reading (end, error, early
stop): it waits for a block being read to land, answers end-of-file to any later request,
and waits until pyarrow's threads have let go of every block they were given (each one holds
a Python reference, and letting go of it while Python shuts down aborts the process). So no
reader thread ever touches a closed stream, and none is left holding Python objects when
Python exits.
"""

from __future__ import annotations

import atexit
import gzip
import threading
import time
import weakref
import zlib
from pathlib import Path
from types import ModuleType
from typing import IO, cast

import numpy as np
import pyarrow as pa

from dataferry.content import too_large
from dataferry.errors import NotData

_igzip: ModuleType | None
IsalError: type[BaseException]
try:  # pragma: no cover - exercised when isal is installed (a dependency)
    from isal import igzip as _igzip
    from isal.igzip_lib import IsalError as _IsalError

    # isal's stub declares the error as an instance (`IsalError: Exception`); it is the class
    IsalError = cast("type[BaseException]", _IsalError)
except ImportError:  # pragma: no cover
    _igzip = None
    IsalError = OSError

CORRUPT_ERRORS: tuple[type[BaseException], ...] = (EOFError, zlib.error, gzip.BadGzipFile, IsalError, OSError)
"""What inflating a damaged or truncated gzip stream raises (zlib's and ISA-L's errors)."""

HAVE_ISAL = _igzip is not None
"""Whether gzip parts are inflated with ISA-L (several times faster than zlib, GIL released)."""

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip stream."""

SETTLE_SECONDS = 0.25
"""How long :meth:`ArrowReads.finish` waits for a reader's read-ahead thread to come back for
its end-of-file answer; a reader that does not ask within that time has stopped reading."""

BUSY_SECONDS = 5.0
"""The longest :meth:`ArrowReads.finish` waits for a block being read right now, and for
pyarrow's threads to let go of the blocks it was handed."""


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def has_text(path: Path, limit: int = 1 << 20) -> bool:
    """Whether the part holds anything but whitespace in its first ``limit`` decompressed bytes
    (a damaged gzip stream counts as content)."""
    try:
        with open_bytes(path) as stream:
            return bool(stream.read(limit).strip())
    except (OSError, EOFError):
        return True


def open_bytes(path: Path) -> IO[bytes]:
    """A binary stream of the part's content, gunzipped when it is gzip."""
    if is_gzip(path):
        if _igzip is not None:
            # inflating in the reading thread (ISA-L releases the GIL) beats handing blocks over
            # from a helper thread: parts are decoded two at a time anyway
            return _igzip.open(path, "rb")
        # a GzipFile is a BufferedIOBase, which typeshed does not count as an IO[bytes]
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return open(path, "rb")


_LIVE: weakref.WeakSet[ArrowReads] = weakref.WeakSet()
_LIVE_GUARD = threading.Lock()


class ArrowReads:
    """A binary stream as pyarrow's readers like it (see the module docstring).

    Args:
        stream: the (decompressed) byte stream; it stays its owner's to close, after
            :meth:`finish`.
        label: names the part in errors.
        limit: the most bytes the part may inflate to (``None``: no limit).
        offset: bytes of the stream already consumed before this reader started.

    Attributes:
        bytes: bytes handed to the reader so far (``offset`` included).
        eof: whether the end of the stream was reached.
        seen_text: whether anything but whitespace was read.
    """

    def __init__(self, stream: IO[bytes], *, label: str = "part", limit: int | None = None, offset: int = 0) -> None:
        self._stream = stream
        self._label = label
        self._limit = limit
        self._cond = threading.Condition()
        self._busy = 0
        self._out = 0  # blocks handed to pyarrow and not yet released by it
        self._ended = False
        self._eof_served = False
        self.bytes = offset
        self.eof = False
        self.seen_text = False
        self.closed = False
        with _LIVE_GUARD:
            _LIVE.add(self)

    # -- what pyarrow calls ---------------------------------------------------------------
    def read_buffer(self, nbytes: int) -> pa.Buffer:
        with self._cond:
            if self._ended:
                self._eof_served = True
                self._cond.notify_all()
                return pa.allocate_buffer(0)
            self._busy += 1
        got = 0
        try:
            buffer = pa.allocate_buffer(max(0, nbytes), resizable=True)
            # every stream open_bytes hands out is buffered and has readinto(); typing.IO does not declare it
            got = (self._stream.readinto(memoryview(buffer)) or 0) if nbytes > 0 else 0  # type: ignore[attr-defined]
            buffer.resize(got)
            if got:
                self._check(buffer, got)
                with self._cond:
                    self._out += 1
                weakref.finalize(buffer, self._released)
            return buffer
        except BaseException:
            with self._cond:
                self._ended = True
            raise
        finally:
            with self._cond:
                self._busy -= 1
                self.bytes += got
                if not got and nbytes > 0:
                    self.eof = True
                    self._eof_served = True
                self._cond.notify_all()

    def read(self, nbytes: int = -1) -> bytes:
        buffer = self.read_buffer(nbytes if nbytes >= 0 else 1 << 30)
        return buffer.to_pybytes()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.bytes

    def close(self) -> None:
        self.closed = True

    # -- what dataferry calls ----------------------------------------------------------------
    def finish(self, settle: float = SETTLE_SECONDS) -> None:
        """End this reading (call it once the reader object is gone): wait for a block in
        flight, answer end-of-file to every later request (waiting up to ``settle`` seconds for
        the reader to take that answer), then wait until pyarrow has let go of every block."""
        deadline_busy = time.monotonic() + BUSY_SECONDS
        with self._cond:
            self._ended = True
            while self._busy and time.monotonic() < deadline_busy:
                self._cond.wait(0.05)
            deadline = time.monotonic() + settle
            while not self._eof_served and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            while self._out and time.monotonic() < deadline_busy:
                self._cond.wait(0.02)
        with _LIVE_GUARD:
            _LIVE.discard(self)

    def _released(self) -> None:
        with self._cond:
            self._out -= 1
            self._cond.notify_all()

    def _check(self, buffer: pa.Buffer, got: int) -> None:
        view = np.frombuffer(buffer, dtype=np.uint8, count=got)
        if not self.seen_text:
            self.seen_text = bool(memoryview(buffer)[: min(got, 4096)].tobytes().strip()) or got > 4096
        if view.min() == 0:
            at = self.bytes + int(np.argmin(view))
            raise NotData(
                f"{self._label}: binary data (a NUL byte at byte {at:,}) where text was expected",
                hint="the file is damaged or not what the vendor announced; "
                "run the same call again to download it anew",
            )
        if self._limit is not None and self.bytes + got > self._limit:
            raise too_large(self._label, self._limit)


@atexit.register
def _finish_all() -> None:
    """Before Python shuts down, make every reader still running stop reading (a reader
    thread calling into Python during shutdown aborts the process)."""
    with _LIVE_GUARD:
        live = list(_LIVE)
    for reads in live:
        reads.finish()
