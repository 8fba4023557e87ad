"""How an answer's body goes on the wire, and how the body faults bend it: ``Range``, drops and
resets mid-body, truncated, corrupt and mislabelled bodies, trickles and stalls.

:meth:`~dataferry.emulator.app.EmulatorApp.send_file` and every 2xx JSON answer of
:class:`~dataferry.emulator.app.EmulatorApp` pass through :func:`shape`, so a fault kind works
the same on a file download and on a status answer. A reset is asked of the server by raising
:class:`ResetConnection`; :mod:`dataferry.emulator.server` turns it into a TCP RST.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from dataferry.emulator.faults import CORRUPT_BYTES, HANG_DELAY, TRICKLE_RATE, TRUNCATE_KEEP, Fault

SEND_CHUNK = 256 * 1024
"""Bytes written per chunk when serving a body."""

TRICKLE_WRITES = 20
"""Writes per second of a trickled body (each one ``rate / TRICKLE_WRITES`` bytes, at least 1)."""

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of a gzip file."""

BODY_KINDS = ("drop", "reset", "truncate", "corrupt", "lie_length", "trickle", "hang")
"""Fault kinds that act on the body of a 2xx answer."""

LEGACY_KINDS = ("drop", "truncate")
"""Body kinds that an armed fault spends on the next file download it matches, whether or not
it has anything to do there (their behaviour before every answer could take body faults)."""

Take = Callable[..., "Fault | None"]
"""``take(*kinds, applies=None)``: the fault of ``kinds`` to inject into this answer, if any."""


class ResetConnection(ConnectionAbortedError):
    """Raised by the app to have the server reset the connection (RST) instead of closing it."""


class ResetAnswer(Response):
    """An answer that resets the connection before any header is sent."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raise ResetConnection("emulator fault: connection reset before the headers")


@dataclass
class Payload:
    """An answer's body: its size and its bytes, from a file or from memory."""

    size: int
    path: Path | None = None
    data: bytes = b""

    @classmethod
    def of_file(cls, path: Path) -> Payload:
        return cls(path.stat().st_size, path=path)

    @classmethod
    def of_bytes(cls, data: bytes) -> Payload:
        return cls(len(data), data=data)

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes."""
        if self.path is None:
            return self.data[:n]
        with open(self.path, "rb") as f:
            return f.read(n)

    def chunks(self, start: int, length: int) -> Iterator[bytes]:
        """``length`` bytes from ``start``, in chunks of at most :data:`SEND_CHUNK`."""
        if self.path is None:
            for at in range(start, start + length, SEND_CHUNK):
                yield self.data[at : min(at + SEND_CHUNK, start + length)]
            return
        with open(self.path, "rb") as f:
            f.seek(start)
            left = length
            while left > 0:
                chunk = f.read(min(SEND_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


def offset(value: Any, size: int) -> int:
    """A fault's offset in a body of ``size`` bytes: a float from 0 to 1 is a fraction of it.

    Example:
        >>> offset(0.25, 1000), offset(300, 1000), offset(1, 1000)
        (250, 300, 1)
    """
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return int(size * value)
    return int(value)


def shape(
    take: Take,
    payload: Payload,
    *,
    status: int,
    headers: Headers,
    content_type: str | None,
    range_header: str | None = None,
    ranged: bool = False,
) -> Response | None:
    """The answer for ``payload`` with the body faults ``take`` hands out.

    Args:
        take: hands out this request's faults (armed or drawn by chaos).
        payload: the body.
        status, headers, content_type: the answer as the handler made it.
        range_header: the request's ``Range``.
        ranged: serve ``Range`` (file downloads); only then are the Range kinds taken.

    Returns:
        The answer to send; ``None`` when nothing changes an answer that is not ``ranged``.
    """
    size = payload.size
    gzip = payload.head(2) == GZIP_MAGIC

    def fits(fault: Fault) -> bool:
        return not fault.params.get("gzip_only") or gzip

    def as_before(fault: Fault) -> bool:
        """An armed drop or truncate is used up by the next download it matches, even when it
        has nothing to cut (as these two kinds always were)."""
        return ranged and fault.origin == "armed" and fault.kind in LEGACY_KINDS

    truncate = take("truncate", applies=lambda f: fits(f) and (as_before(f) or _kept(f, size) < size))
    if truncate is not None:
        size = _kept(truncate, size)
    start, end, code = 0, size - 1, status
    headers = Headers(headers)
    headers.pop("Content-Length", None)
    if ranged:
        headers["Accept-Ranges"] = "bytes"
        if range_header and take("range_416") is not None:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        if range_header and take("ignore_range") is None:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header.strip())
            if m:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                if start >= size:
                    return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
                code = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(0, end - start + 1)

    def flips(fault: Fault) -> range:
        at = min(offset(fault.params.get("at", 0.5), size), max(0, size - 1))
        return range(at, min(size, at + int(fault.params.get("count", CORRUPT_BYTES))))

    corrupt = take("corrupt", applies=lambda f: fits(f) and _overlaps(flips(f), start, start + length))
    lie = take(
        "lie_length", applies=lambda f: fits(f) and (length > int(f.params.get("less", 0)) or "extra" in f.params)
    )
    announced = length
    if lie is not None and "extra" in lie.params:
        announced = length + int(lie.params["extra"])
    elif lie is not None:
        announced = length = length - int(lie.params["less"])

    def cuts(fault: Fault) -> bool:  # a reset without after_bytes acts before the headers, not here
        midway = fault.kind == "drop" or "after_bytes" in fault.params
        return midway and (as_before(fault) or offset(fault.params.get("after_bytes", 0), length) < length)

    cut = take("drop", "reset", applies=cuts)
    pace = take(
        "trickle", "hang", applies=lambda f: f.kind == "hang" or offset(f.params.get("after_bytes", 0), length) < length
    )
    if not ranged and truncate is corrupt is lie is cut is pace is None:
        return None

    body = payload.chunks(start, length)
    if corrupt is not None:
        body = _flipped(body, start, flips(corrupt))
    if cut is not None:
        body = _cut(body, offset(cut.params.get("after_bytes", 0), length), reset=cut.kind == "reset")
    if pace is not None and pace.kind == "hang":
        body = _stalled(body, float(pace.params.get("delay", HANG_DELAY)))
    elif pace is not None:
        after = offset(pace.params.get("after_bytes", 0), length)
        seconds = pace.params.get("seconds")
        rate = (
            (max(1, length - after) / max(float(seconds), 1e-3))
            if seconds is not None
            else float(pace.params.get("rate", TRICKLE_RATE))
        )
        body = _trickled(body, rate, after)
    headers["Content-Length"] = str(announced)
    return Response(body, status=code, headers=headers, content_type=content_type, direct_passthrough=True)


def _kept(fault: Fault, size: int) -> int:
    keep = float(fault.params.get("keep", TRUNCATE_KEEP))
    return int(size * keep) if keep <= 1 else min(size, int(keep))


def _overlaps(where: range, start: int, stop: int) -> bool:
    return len(where) > 0 and where.start < stop and where.stop > start


def _flipped(chunks: Iterator[bytes], start: int, where: range) -> Iterator[bytes]:
    """The chunks (the body from ``start``) with the bytes at ``where`` inverted."""
    at = start
    for chunk in chunks:
        lo, hi = max(where.start, at), min(where.stop, at + len(chunk))
        if lo < hi:
            damaged = bytearray(chunk)
            for i in range(lo - at, hi - at):
                damaged[i] ^= 0xFF
            chunk = bytes(damaged)
        at += len(chunk)
        yield chunk


def _cut(chunks: Iterator[bytes], after: int, *, reset: bool) -> Iterator[bytes]:
    """The first ``after`` bytes, then the connection dropped (or reset)."""
    sent = 0
    for chunk in chunks:
        if sent + len(chunk) > after:
            if after > sent:
                yield chunk[: after - sent]
            break
        sent += len(chunk)
        yield chunk
    else:
        return
    if reset:
        raise ResetConnection(f"emulator fault: connection reset after {after} bytes of the body")
    raise ConnectionAbortedError(f"emulator fault: connection dropped after {after} bytes of the body")


def _stalled(chunks: Iterator[bytes], delay: float) -> Iterator[bytes]:
    """The headers at once (an empty write sends them), then nothing for ``delay`` seconds."""
    yield b""
    time.sleep(delay)
    yield from chunks


def _trickled(chunks: Iterator[bytes], rate: float, after: int) -> Iterator[bytes]:
    """The first ``after`` bytes at once, the rest at ``rate`` bytes per second."""
    step = max(1, int(rate / TRICKLE_WRITES))
    sent = 0
    began: float | None = None
    paced = 0
    for chunk in chunks:
        if sent + len(chunk) <= after:
            sent += len(chunk)
            yield chunk
            continue
        if sent < after:
            yield chunk[: after - sent]
            chunk = chunk[after - sent :]
            sent = after
        for i in range(0, len(chunk), step):
            piece = chunk[i : i + step]
            if began is None:
                began = time.monotonic()
            else:
                wait = began + paced / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            paced += len(piece)
            sent += len(piece)
            yield piece
