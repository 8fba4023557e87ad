"""The base every vendor emulator builds on: routing, JSON answers, auth hook, request log,
rate windows, fault injection and file serving with ``Range``.

A vendor emulator subclasses :class:`EmulatorApp`, lists its routes and writes handlers that
return ``werkzeug`` responses. Every request passes through :meth:`EmulatorApp.dispatch`, which
draws its chaos fault, answers the answer faults (``slow``, ``status``, ``body``, ``reset``
before the headers) and shapes the body of every 2xx answer (:func:`~dataferry.emulator.wire.shape`,
which :meth:`EmulatorApp.send_file` uses too), so every vendor gets every fault kind.
Nothing here imports the client side of dataferry.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any, NamedTuple

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from dataferry.emulator import wire
from dataferry.emulator.chaos import DEFAULT_CHAOS_KINDS
from dataferry.emulator.faults import SLOW_DELAY, Fault, Faults, html_page

DRAW_KEY = "dataferry.emulator.draw"
"""Where a request's chaos fault (or ``None``) is kept in its WSGI environ."""

SHAPED_KEY = "dataferry.emulator.shaped"
"""Set in a request's WSGI environ once its body has been shaped (a file sent)."""

FAULT_STATUS_MESSAGES = {429: "Too many requests", 503: "Service unavailable"}
"""The message of a ``status`` fault without one (others: "Internal server error")."""


class Route(NamedTuple):
    """One endpoint: a werkzeug rule, its methods, the handler method's name, and the keyword
    arguments the handler gets besides the rule's own (for a handler that serves several paths).

    Example:
        >>> Route("/1/tasks/<rid>", ["GET"], "get_resource", {"kind": "tasks"}).endpoint
        'get_resource'
    """

    path: str
    methods: list[str]
    endpoint: str
    defaults: dict[str, Any] | None = None


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
        faults: armed faults, chaos and counters (see :mod:`dataferry.emulator.faults`).
        requests: every request received, in order.
        lock: guards the emulator's state.
    """

    vendor = ""
    public_endpoints: frozenset[str] = frozenset()
    chaos_kinds: tuple[str, ...] = DEFAULT_CHAOS_KINDS
    """The kinds chaos draws here unless told (a vendor whose links can be refreshed adds ``expire``)."""

    def __init__(self, *, rate_limits: bool = True, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.faults = Faults(chaos_kinds=self.chaos_kinds)
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self.rate_limits = rate_limits
        self.windows = Windows()
        self._remove_data_dir: weakref.finalize[..., Any] | None = None
        if data_dir is None:
            data_dir = tempfile.mkdtemp(prefix=f"dataferry-emulator-{self.vendor}-")
            self._remove_data_dir = weakref.finalize(self, shutil.rmtree, data_dir, ignore_errors=True)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = ""  # set by the server once it knows its port
        self.url_map = Map(
            [
                Rule(
                    route.path,
                    endpoint=route.endpoint,
                    methods=route.methods,
                    defaults=route.defaults,
                    strict_slashes=False,
                )
                for route in (Route(*r) for r in self.routes())
            ]
        )

    # -- to override ------------------------------------------------------------------------
    def routes(self) -> Sequence[tuple[Any, ...]]:
        """Every endpoint, as a :class:`Route` or a plain ``(rule, methods, handler name[, defaults])``."""
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
        return Response(
            json.dumps(value, ensure_ascii=False),
            status=status,
            headers=headers,
            content_type="application/json; charset=utf-8",
        )

    @staticmethod
    def text(value: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
        return Response(value, status=status, content_type=content_type)

    def limited(self, key: tuple[str, ...], limit: int, seconds: float) -> float | None:
        """Count a request against a window; the seconds to wait when over the limit."""
        if not self.rate_limits:
            return None
        return self.windows.hit(key, limit, seconds, time.monotonic())

    def close(self) -> None:
        """Remove the temporary data directory this emulator made for itself (a ``data_dir``
        it was given is never touched); also done when the app is garbage-collected or at exit."""
        if self._remove_data_dir is not None:
            self._remove_data_dir()

    def fault(
        self, request: Request, *kinds: str, applies: Callable[[Fault], bool] | None = None, where: str | None = None
    ) -> Fault | None:
        """The fault of ``kinds`` to inject into this request's answer, armed or drawn by chaos
        (vendor code takes ``expire`` so); ``where`` matches faults against another path."""
        return self.faults.take(
            request.method, where or request.path, kinds, applies=applies, draw=request.environ.get(DRAW_KEY)
        )

    def send_file(self, request: Request, path: Path, content_type: str, *, fault_path: str | None = None) -> Response:
        """Serve a file with ``Range`` support and every body and Range fault armed for this
        request (``fault_path``: match them against that path instead)."""
        request.environ[SHAPED_KEY] = True
        response = wire.shape(
            self._taker(request, fault_path),
            wire.Payload.of_file(path),
            status=200,
            headers=Headers(),
            content_type=content_type,
            range_header=request.headers.get("Range"),
            ranged=True,
        )
        assert response is not None
        return response

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Record the request, inject its faults and answer it."""
        body = request.get_data(cache=True)
        with self.lock:
            self.requests.append(
                Recorded(request.method, request.path, request.query_string.decode(), dict(request.headers), body)
            )
        request.environ[DRAW_KEY] = self.faults.draw(
            request.method, request.path, request.query_string.decode(), ranged="Range" in request.headers
        )
        slow = self.fault(request, "slow")
        if slow is not None:
            time.sleep(float(slow.params.get("delay", SLOW_DELAY)))
        early = self.fault(request, "status", "body", "reset", applies=lambda f: "after_bytes" not in f.params)
        if early is not None and early.kind == "reset":
            return wire.ResetAnswer()
        response = self._fault_answer(early) if early is not None else self._route(request)
        return self._with_body_faults(request, response)

    def _route(self, request: Request) -> Response:
        """The vendor handler's answer (or the routing / auth refusal)."""
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

    def _taker(self, request: Request, where: str | None = None) -> wire.Take:
        return lambda *kinds, applies=None: self.fault(request, *kinds, applies=applies, where=where)

    def _with_body_faults(self, request: Request, response: Response) -> Response:
        """A 2xx answer with the body faults armed for it (files are shaped by ``send_file``)."""
        if request.environ.get(SHAPED_KEY) or not 200 <= response.status_code < 300 or response.is_streamed:
            return response
        if not self.faults.active and request.environ.get(DRAW_KEY) is None:
            return response
        shaped = wire.shape(
            self._taker(request),
            wire.Payload.of_bytes(response.get_data()),
            status=response.status_code,
            headers=response.headers,
            content_type=None,
        )
        return response if shaped is None else shaped

    def unreadable_body(self, problem: str) -> Response:
        """The vendor's answer to a JSON body that is not Unicode text (400 by default)."""
        return self.error(400, problem)

    def _fault_answer(self, fault: Fault) -> Response:
        """The answer of a ``status`` or ``body`` fault."""
        params = fault.params
        if fault.kind == "body":
            response = _body_answer(params)
        else:
            status = int(params.get("status", 500))
            message = params.get("message") or FAULT_STATUS_MESSAGES.get(status, "Internal server error")
            response = self.error(status, message)
            if params.get("html"):
                response = Response(
                    html_page(f"{status} {message}", message), status=status, content_type="text/html; charset=utf-8"
                )
        if params.get("retry_after") is not None:
            response.headers["Retry-After"] = str(params["retry_after"])
        if params.get("retry_after_date") is not None:
            response.headers["Retry-After"] = formatdate(time.time() + float(params["retry_after_date"]), usegmt=True)
        return response


def _body_answer(params: dict[str, Any]) -> Response:
    """A ``body`` fault's answer: ``json=``, ``text=``, ``html=`` or ``data=`` as given."""
    if "json" in params:
        content, ctype = json.dumps(params["json"], ensure_ascii=False).encode(), "application/json; charset=utf-8"
    elif "html" in params:
        page = str(params["html"])
        content, ctype = (page if "<" in page else html_page(page)).encode(), "text/html; charset=utf-8"
    elif "text" in params:
        content, ctype = str(params["text"]).encode(), "text/plain; charset=utf-8"
    else:
        content, ctype = bytes(params["data"]), "application/octet-stream"
    return Response(
        content,
        status=int(params.get("status", 200)),
        headers=params.get("headers"),
        content_type=params.get("content_type") or ctype,
    )


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
