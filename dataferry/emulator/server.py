"""Running an emulator app over real HTTP on 127.0.0.1, in a background thread."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import threading
import time
from socketserver import ThreadingMixIn
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from dataferry.emulator.wire import ResetConnection

RESET_DRAIN = 1.0
"""Seconds a reset mid-body waits for the bytes already written to reach the client first."""

_OUTQ: int | None
try:
    import fcntl
    from termios import TIOCOUTQ

    _OUTQ = TIOCOUTQ
except ImportError:  # pragma: no cover - not Linux / macOS: a reset mid-body does not wait
    _OUTQ = None


_SECRET_QUERY = re.compile(r"(?i)((?:auth_header|private_key|api_?key|token|key|secret)=)[^&\s]+")


def _masked(line: str) -> str:
    """A request line with secret query values hidden (the log may be shared)."""
    return _SECRET_QUERY.sub(r"\1***", line)


class _QuietHandler(WSGIRequestHandler):
    """Request handler that logs to the ``dataferry.emulator`` logger at DEBUG only."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        logging.getLogger("dataferry.emulator").debug("%s %s", _masked(self.requestline), code)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        logging.getLogger("dataferry.emulator").debug(format, *args)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        logging.getLogger("dataferry.emulator").debug(message, *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """A dropped connection (a fault, or the client gone) is only worth a DEBUG line; a
        :class:`~dataferry.emulator.wire.ResetConnection` asks for a reset when done."""
        logging.getLogger("dataferry.emulator").debug("connection dropped: %s", error)
        if isinstance(error, ResetConnection):
            self.reset_wanted = True
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        if getattr(self, "reset_wanted", False):
            _reset(self.connection)


def _unsent(sock: socket.socket) -> int:
    """Bytes written to ``sock`` that the peer has not acknowledged yet (0 when unknown)."""
    if _OUTQ is None:
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), _OUTQ, struct.pack("i", 0)))[0]
    except OSError:
        return 0


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP RST (``SO_LINGER`` 0), once what was written has arrived.

    The socket is closed here so that the server's own shutdown (a FIN) never goes out first.
    """
    deadline = time.monotonic() + RESET_DRAIN
    while _unsent(sock) > 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class ServerThread:
    """A threaded WSGI server on a loopback port.

    Args:
        app: the WSGI application.
        host: the interface (loopback by default).
        port: ``0`` picks a free port.

    Example::

        s = ServerThread(lambda env, start: []).start()
        s.url
        "http://127.0.0.1:54321"
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        try:
            self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        except SystemExit as exc:  # werkzeug exits when the port is taken; say so instead
            raise OSError(f"cannot listen on {host}:{port}: the port is in use (pass port=0 for a free one)") from exc
        if isinstance(self._server, ThreadingMixIn):
            self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"emulator-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
