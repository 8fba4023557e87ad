"""The base every vendor emulator builds on: routing, JSON answers, auth hook, request log,
rate windows, fault injection and file serving with ``Range``.

A vendor emulator subclasses :class:`EmulatorApp`, lists its routes and writes handlers that
return ``werkzeug`` responses. Nothing here imports the client side of dataferry.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from dataferry.emulator.faults import Fault, Faults

SEND_CHUNK = 256 * 1024
"""Bytes written per chunk when serving a file."""


@dataclass
class Recorded:
    """A request as the emulator saw it (tests assert on these)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Windows:
    """Sliding-window request counters: at most ``limit`` requests per ``seconds`` per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, ...], deque[float]] = {}

    def hit(self, key: tuple[str, ...], limit: int, seconds: float, now: float) -> float | None:
        """Count a request; ``None`` when allowed, else the seconds until one is allowed."""
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] >= seconds:
                q.popleft()
            if len(q) >= limit:
                return max(0.0, seconds - (now - q[0]))
            q.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class EmulatorApp:
    """Base WSGI app of a vendor emulator.

    Args:
        rate_limits: enforce the vendor's documented rate limits (switch off for fuzzing).
        data_dir: where generated files are cached (a fresh temporary directory otherwise).

    Attributes:
        faults: armed faults (see :mod:`dataferry.emulator.faults`).
        requests: every request received, in order.
        lock: guards the emulator's state.
    """

    vendor = ""
    public_endpoints: frozenset[str] = frozenset()

    def __init__(self, *, rate_limits: bool = True, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.faults = Faults()
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self.rate_limits = rate_limits
        self.windows = Windows()
        if data_dir is None:
            import tempfile

            data_dir = tempfile.mkdtemp(prefix=f"dataferry-emulator-{self.vendor}-")
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = ""  # set by the server once it knows its port
        self.url_map = Map([Rule(path, endpoint=endpoint, methods=methods, strict_slashes=False)
                            for path, methods, endpoint in self.routes()])

    # -- to override ------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, list[str], str]]:
        """``(werkzeug rule, methods, handler method name)`` for every endpoint."""
        return []

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        """``None`` when the request's credentials are good, else the vendor's error answer."""
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        """The vendor's error answer for ``status`` (vendor-shaped body)."""
        return self.json({"error": message, **extra}, status)

    def credentials(self) -> dict[str, str]:
        """The credentials this emulator accepts (printed by ``dataferry emulate``)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What ``dataferry emulate`` prints besides the URL and credentials."""
        return {}

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def now() -> float:
        """Wall-clock seconds (the emulator's jobs progress in real time)."""
        return time.time()

    @staticmethod
    def json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(value, ensure_ascii=False), status=status, headers=headers,
                        content_type="application/json; charset=utf-8")

    @staticmethod
    def text(value: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
        return Response(value, status=status, content_type=content_type)

    def limited(self, key: tuple[str, ...], limit: int, seconds: float) -> float | None:
        """Count a request against a window; the seconds to wait when over the limit."""
        if not self.rate_limits:
            return None
        return self.windows.hit(key, limit, seconds, time.monotonic())

    def send_file(self, request: Request, path: Path, content_type: str, *, fault_path: str | None = None) -> Response:
        """Serve a file with ``Range`` support, honouring ``drop`` / ``ignore_range`` /
        ``truncate`` faults armed for this request."""
        where = fault_path or request.path
        size = path.stat().st_size
        truncate = self.faults.take(request.method, where, ("truncate",))
        if truncate is not None:
            keep = float(truncate.params.get("keep", 0.5))
            size = int(size * keep) if keep <= 1 else min(size, int(keep))
        start, end = 0, size - 1
        status = 200
        headers = {"Accept-Ranges": "bytes"}
        rng = request.headers.get("Range")
        if rng and self.faults.take(request.method, where, ("ignore_range",)) is None:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if m:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                if start >= size:
                    return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        drop = self.faults.take(request.method, where, ("drop",))
        cut = None if drop is None else int(drop.params.get("after_bytes", 0))
        return Response(_file_body(path, start, length, cut), status=status, headers=headers,
                        content_type=content_type, direct_passthrough=True)

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        body = request.get_data(cache=True)
        with self.lock:
            self.requests.append(Recorded(request.method, request.path, request.query_string.decode(),
                                          dict(request.headers), body))
        slow = self.faults.take(request.method, request.path, ("slow",))
        if slow is not None:
            time.sleep(float(slow.params.get("delay", 1.0)))
        fault = self.faults.take(request.method, request.path, ("status",))
        if fault is not None:
            return self._fault_answer(fault)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            return self.error(405, "Method not allowed")
        except NotFound:
            return self.error(404, "Not found")
        except HTTPException as exc:  # pragma: no cover - werkzeug redirect etc.
            return self.error(exc.code or 400, exc.description or "Bad request")
        if endpoint not in self.public_endpoints:
            refused = self.authenticate(request, endpoint)
            if refused is not None:
                return refused
        unreadable = unreadable_json(request)
        if unreadable is not None:
            return self.unreadable_body(unreadable)
        return getattr(self, endpoint)(request, **args)

    def unreadable_body(self, problem: str) -> Response:
        """The vendor's answer to a JSON body that is not Unicode text (400 by default)."""
        return self.error(400, problem)

    def _fault_answer(self, fault: Fault) -> Response:
        status = int(fault.params.get("status", 500))
        message = fault.params.get("message") or {429: "Too many requests", 503: "Service unavailable"}.get(
            status, "Internal server error")
        response = self.error(status, message)
        if fault.params.get("html"):
            response = Response(f"<html><head><title>{status} {message}</title></head><body>{message}</body></html>",
                                status=status, content_type="text/html")
        if "retry_after" in fault.params:
            response.headers["Retry-After"] = str(fault.params["retry_after"])
        return response


def unreadable_json(request: Request) -> str | None:
    """Why a JSON request body can be neither stored nor echoed, else ``None``: bytes that are
    not UTF-8, or a lone surrogate escape (``"\\udb33"``), which ``json.loads`` accepts but no
    answer can encode. Syntax errors are left to the vendor's handler."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        return None
    try:
        value = json.loads(request.get_data(cache=True) or b"null")
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    except ValueError:
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "the body holds a string that is not Unicode text (a lone surrogate escape)"
    return None


def _file_body(path: Path, start: int, length: int, cut: int | None) -> Iterator[bytes]:
    sent = 0
    with open(path, "rb") as f:
        f.seek(start)
        while sent < length:
            n = min(SEND_CHUNK, length - sent)
            if cut is not None:
                n = min(n, cut - sent)
                if n <= 0:
                    raise ConnectionAbortedError("emulator fault: connection dropped mid-body")
            chunk = f.read(n)
            if not chunk:
                break
            sent += len(chunk)
            yield chunk
    if cut is not None and sent < length:
        raise ConnectionAbortedError("emulator fault: connection dropped mid-body")
