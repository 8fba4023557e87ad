"""myTracker's request signing and quotas: ``Authorization: AuthHMAC <id>:<signature>`` over
``METHOD & pct(full URL) & pct(body)`` (403 "Access denied" otherwise), the per-user and per-IP
request quotas, the error quota and the unauthorised one, each answered 429 with the
documented quota list (``resetInSecond``).

Example:
    >>> sign("secret", "GET", "http://127.0.0.1/api/raw/v1/export/get.json?idRawExport=1")
    'qsUw/4EOOPMBCPtOsI3cKMah8lw='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from collections import deque
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from dataferry.emulator.mytracker.state import REASONS, MyTrackerState

DEFAULT_QUOTAS = {
    "user_per_second": 10,
    "user_per_minute": 100,
    "user_per_hour": 1000,
    "ip_per_second": 100,
    "ip_per_minute": 1000,
    "errors_per_minute": 60,
    "unauthorized_per_second": 10,
}
"""myTracker's documented quotas; ``quotas={...}`` overrides some of them."""

_QUOTA_WINDOWS = (
    ("user_per_second", "RequestsByUserPerSecond", 1.0),
    ("user_per_minute", "RequestsByUserPerMinute", 60.0),
    ("user_per_hour", "RequestsByUserPerHour", 3600.0),
)
_IP_WINDOWS = (("ip_per_second", "RequestsByIpPerSecond", 1.0), ("ip_per_minute", "RequestsByIpPerMinute", 60.0))


def sign(secret: str, method: str, url: str, body: bytes | str = b"") -> str:
    """myTracker's signature: base64(HMAC-SHA1(secret, METHOD & pct(url) & pct(body)))."""
    line = f"{method.upper()}&{quote(url, safe='~')}&{quote(body or b'', safe='~')}"
    return base64.b64encode(hmac.new(secret.encode(), line.encode(), hashlib.sha1).digest()).decode()


class AuthHandlers(MyTrackerState):
    """The signature check and the quotas, before every handler."""

    def full_url(self, request: Request) -> str:
        """The URL as the client sent it (what the signature covers)."""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if raw and raw.startswith(("http://", "https://")):
            return raw
        if not raw:
            raw = quote(request.path) + (f"?{request.query_string.decode()}" if request.query_string else "")
        return f"{request.scheme}://{request.host}{raw}"

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        ip = request.remote_addr or "-"
        refused = self._window_quotas(("ip", ip), _IP_WINDOWS)
        if refused is not None:
            return refused
        blocked = self._error_block(ip)
        if blocked is not None:
            return blocked
        m = re.fullmatch(r"AuthHMAC\s+([^:\s]+):(\S+)", request.headers.get("Authorization", "").strip())
        good = False
        if m and m.group(1) == self.api_user_id:
            expected = sign(self.secret_key, request.method, self.full_url(request), request.get_data(cache=True))
            good = hmac.compare_digest(m.group(2), expected)
        if not good:
            wait = self.limited(("unauthorized", ip), self.quotas["unauthorized_per_second"], 1.0)
            if wait is not None:
                return self._quota_answer("RequestsUnauthorizedPerSecond", self.quotas["unauthorized_per_second"], wait)
            return self.error(403, "Access denied")
        if endpoint == "download":
            return None  # files are not API calls; the API quotas do not count them
        return self._window_quotas(("user", self.api_user_id), _QUOTA_WINDOWS)

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        if 400 <= response.status_code < 500 and response.status_code != 429 and self.rate_limits:
            with self._errors_lock:
                self._errors.setdefault(request.remote_addr or "-", deque()).append(time.monotonic())
        return response

    def _window_quotas(self, who: tuple[str, str], windows: tuple[tuple[str, str, float], ...]) -> Response | None:
        for key, name, seconds in windows:
            wait = self.limited((*who, key), self.quotas[key], seconds)
            if wait is not None:
                return self._quota_answer(name, self.quotas[key], wait)
        return None

    def _error_block(self, who: str) -> Response | None:
        if not self.rate_limits:
            return None
        limit = self.quotas["errors_per_minute"]
        now = time.monotonic()
        with self._errors_lock:
            q = self._errors.setdefault(who, deque())
            while q and now - q[0] >= 60.0:
                q.popleft()
            if len(q) < limit:
                return None
            wait = 60.0 - (now - q[0])
        return self._quota_answer("ErrorsByUserPerMinute", limit, wait)

    def _quota_answer(self, name: str, limit: int, wait: float) -> Response:
        reset = max(1, math.ceil(wait))
        quota = {
            "name": name,
            "count": limit,
            "limit": limit,
            "resetTime": int(self.now() + reset),
            "resetInSecond": reset,
            "exceeded": True,
        }
        body = {"code": 429, "message": REASONS[429], "data": {"error": {"info": {"quotas": [quota]}}}}
        return self.json(body, 429)
