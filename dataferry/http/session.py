"""The one HTTP session wrapper every vendor client uses.

It adds to ``requests``: a base URL, an auth hook, connect/read timeouts, client-side rate
limits, retries that never re-send a call which may already have created something, and the
translation of every error answer into a typed exception whose message is free of secrets.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from dataferry.clock import SYSTEM_CLOCK, Clock
from dataferry.constants import (
    CONNECT_TIMEOUT,
    MAX_ATTEMPTS,
    READ_TIMEOUT,
    RETRY_BUDGET,
    USER_AGENT,
)
from dataferry.errors import RequestMayHaveReached, TransportError
from dataferry.events import notice
from dataferry.http.auth import Auth, NoAuth
from dataferry.http.errormap import ErrorMap, decode_body
from dataferry.http.ratelimit import RateLimiter
from dataferry.http.retry import Failure, backoff_delay, parse_retry_after, parse_try_again, should_retry
from dataferry.redact import Redactor, scrub_auth_text
from dataferry.version import __version__

RATE_WAIT_NOTICE = 2.0
"""Client-side rate-limit waits at least this long are announced (progress display, log)."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that are safe to re-send unless a call says otherwise."""


def classify(exc: requests.RequestException) -> Failure:
    """Whether a failed attempt could have reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure.NOT_SENT
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)):
            return Failure.NOT_SENT
    return Failure.MAYBE_SENT


class HttpClient:
    """A vendor's HTTP session.

    Args:
        vendor: the vendor name used in messages.
        base_url: e.g. ``https://api.brightdata.com`` or an emulator's URL.
        auth: the auth hook.
        error_map: how this vendor's error answers become exceptions.
        limiter: client-side rate limits by endpoint family.
        timeout: ``(connect, read)`` seconds.
        clock: time source for back-off sleeps.
        max_attempts: attempts per request including the first.
        retry_budget: total seconds one request may spend backing off.
        rng: random source for jitter.
        session: a ``requests.Session`` to use (one is created otherwise).

    Example:
        >>> http = HttpClient("demo", "http://127.0.0.1:9", NoAuth(), ErrorMap("demo"))
        >>> http.url("/v1/things")
        'http://127.0.0.1:9/v1/things'
    """

    def __init__(
        self,
        vendor: str,
        base_url: str,
        auth: Auth | None = None,
        error_map: ErrorMap | None = None,
        *,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        clock: Clock = SYSTEM_CLOCK,
        max_attempts: int = MAX_ATTEMPTS,
        retry_budget: float = RETRY_BUDGET,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth or NoAuth()
        self.error_map = error_map or ErrorMap(vendor)
        self.limiter = limiter or RateLimiter(clock=clock)
        self.timeout = timeout
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_budget = retry_budget
        self.rng = rng or random.Random()
        self.redactor = Redactor(self.auth.secrets)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"{USER_AGENT}/{__version__}"

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs are kept as they are)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        family: str = "default",
        idempotent: bool | None = None,
        stream: bool = False,
        allow: Collection[int] = (),
        job_id: str | None = None,
        timeout: tuple[float, float] | None = None,
        auth: Auth | None = None,
        max_attempts: int | None = None,
        retry_budget: float | None = None,
    ) -> requests.Response:
        """Send a request with rate limiting and safe retries.

        Args:
            method, path: the call; ``path`` is relative to ``base_url`` or absolute.
            params, json, data, files, headers: as in ``requests``.
            family: the rate-limit family this call belongs to.
            idempotent: whether re-sending is safe; by default GET/PUT/DELETE are and POST is
                not. A non-idempotent call is retried only when nothing can have reached the
                server (connection refused, 429).
            stream: return before the body is read (downloads).
            allow: non-2xx statuses returned to the caller instead of raised (e.g. 202, 206).
            job_id: put into errors for context.
            timeout: override ``(connect, read)`` for this call.
            auth: override the client's auth hook for this call.
            max_attempts, retry_budget: override the client's retry limits for this call
                (a trigger that may meet "too many running jobs" waits longer).

        Returns:
            The response (2xx or a status in ``allow``).

        Raises:
            ApiError: a subclass chosen by the vendor's error map.
            TransportError: no answer after the retries allowed.
            RequestMayHaveReached: a non-idempotent call failed after it may have been sent.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        limits = (max_attempts or self.max_attempts, self.retry_budget if retry_budget is None else retry_budget)
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            self.limiter.acquire(family, on_wait=lambda s: self._say_waiting(s, family))
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    files=files,
                    headers=dict(headers or {}),
                    auth=auth or self.auth,
                    timeout=timeout or self.timeout,
                    stream=stream,
                    allow_redirects=True,
                )
            except requests.RequestException as exc:
                failure = classify(exc)
                shown = self._shown_url(url, params)
                if should_retry(idempotent=idempotent, failure=failure) and self._may_retry(attempt, waited, limits):
                    delay = min(backoff_delay(attempt, rng=self.rng), limits[1] - waited)  # never past the budget
                    waited += delay
                    notice(f"{self.vendor}: {_short(exc)}; retrying in {delay:.0f} s ({method} {shown})")
                    self.clock.sleep(delay)
                    continue
                raise self._transport_error(exc, failure, idempotent, method, shown) from exc

            status = response.status_code
            if 200 <= status < 300 or status in allow:
                return response
            retry = should_retry(idempotent=idempotent, status=status)
            body = decode_body(response)
            hint = self._hint(response, body)
            response.close()
            if retry and self._may_retry(attempt, waited, limits):
                delay = min(backoff_delay(attempt, hint=hint, rng=self.rng), limits[1] - waited)  # never past the budget
                waited += delay
                what = "rate limited" if status == 429 else f"HTTP {status}"
                notice(f"{self.vendor}: {what}; retrying in {delay:.0f} s ({method} {self._shown_url(url, params)})")
                self.clock.sleep(delay)
                continue
            raise self.error_map.exception(
                status,
                body,
                method=method,
                url=self.redactor.url(response.request.url or self._shown_url(url, params)),
                redactor=self.redactor,
                job_id=job_id,
                retry_after=hint,
                reason=response.reason or "",
            )

    def get_json(self, path: str, **kw: Any) -> Any:
        """GET ``path`` and decode the JSON answer."""
        return self.json_of(self.request("GET", path, **kw))

    def json_of(self, response: requests.Response) -> Any:
        """Decode a JSON answer, with a typed error when the body is not JSON."""
        try:
            return response.json()
        except ValueError as exc:
            raise TransportError(
                f"{self.vendor} answered HTTP {response.status_code} with a body that is not JSON",
                method=response.request.method or "",
                url=self.redactor.url(response.url),
            ) from exc

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def _say_waiting(self, seconds: float, family: str) -> None:
        if seconds >= RATE_WAIT_NOTICE:
            notice(f"{self.vendor}: waiting {seconds:.0f} s to stay within the {family!r} rate limit")

    @staticmethod
    def _may_retry(attempt: int, waited: float, limits: tuple[int, float]) -> bool:
        return attempt < limits[0] and waited < limits[1]

    def _hint(self, response: requests.Response, body: Any) -> float | None:
        hint = parse_retry_after(response.headers.get("Retry-After"), self.clock.time())
        if hint is None:
            hint = self.error_map.retry_after(body)
        if hint is None:
            hint = parse_try_again(self.error_map.message(body) if not isinstance(body, str) else body)
        return hint

    def _shown_url(self, url: str, params: Any) -> str:
        if params:
            prepared = requests.Request("GET", url, params=params).prepare()
            url = prepared.url or url
        return self.redactor.url(url)

    def _transport_error(
        self, exc: Exception, failure: Failure, idempotent: bool, method: str, url: str
    ) -> TransportError:
        detail = self.redactor.text(scrub_auth_text(_short(exc)))
        if failure is Failure.MAYBE_SENT and not idempotent:
            return RequestMayHaveReached(
                f"{self.vendor}: {method} failed after it may have reached the server ({detail}); "
                "it was not re-sent",
                method=method,
                url=url,
                hint="check the vendor's job list before triggering again: the job may exist",
            )
        return TransportError(
            f"{self.vendor}: no answer ({detail})",
            method=method,
            url=url,
            hint="check the network and the base URL; the request was retried with back-off",
        )

    def __repr__(self) -> str:
        return f"HttpClient({self.vendor!r}, {self.redactor.url(self.base_url)!r}, auth={self.auth!r})"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
