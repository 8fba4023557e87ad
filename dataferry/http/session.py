"""The one HTTP session wrapper every vendor client uses.

It adds to ``requests``: a base URL, an auth hook, connect/read timeouts, client-side rate
limits, retries that never re-send a call which may already have created something, and the
translation of every error answer into a typed exception whose message is free of secrets.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from dataferry.clock import SYSTEM_CLOCK, Clock, sleep_unless
from dataferry.constants import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, RETRY_BUDGET, USER_AGENT
from dataferry.errors import ApiError, ConfigurationError, DataError, RequestMayHaveReached, Stopped, TransportError
from dataferry.events import notice
from dataferry.http.auth import Auth, NoAuth
from dataferry.http.errormap import ErrorMap, decode_body
from dataferry.http.ratelimit import RateLimiter
from dataferry.http.retry import Failure, backoff_delay, parse_retry_after, parse_try_again, should_retry
from dataferry.redact import SECRET_NAMES, Redactor, scrub_auth_text
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


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
"""Hosts to which credentials may travel over plain ``http://`` (an emulator, a local proxy)."""

HTTP_SCHEMES = ("http", "https")
"""The only URL schemes a request (an API call, a download link) may use."""

CREATED_HINT = "check the vendor's job list before triggering again: the job may exist"
"""What to do after a create-type call failed in a way that may have created the job anyway."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.x.x.x``, ``::1``).

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("api.brightdata.com")
        (True, False)
    """
    host = (host or "").lower().strip("[]")
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


class HttpClient:
    """A vendor's HTTP session.

    Credentials are only ever sent to the API's own host (a download link elsewhere gets
    none, and a redirect to another host drops them), and never over plain ``http://`` to a
    host other than this machine unless ``allow_insecure_http=True``.

    Args:
        vendor: the vendor name used in messages.
        base_url: e.g. ``https://api.brightdata.com`` or an emulator's URL.
        auth: the auth hook.
        error_map: how this vendor's error answers become exceptions.
        limiter: client-side rate limits by endpoint family.
        timeout: ``(connect, read)`` seconds.
        clock: time source for back-off sleeps.
        max_attempts: attempts per request including the first, for every kind of failure but
            429 "too many requests" (whose waiting is bounded by ``retry_budget``).
        retry_budget: total seconds one request may spend backing off.
        rng: random source for jitter.
        session: a ``requests.Session`` to use (one is created otherwise).
        allow_insecure_http: allow sending credentials over plain ``http://`` to a host other
            than this machine.

    Raises:
        ConfigurationError: credentials would travel unencrypted (see ``allow_insecure_http``).

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
        allow_insecure_http: bool = False,
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
        self.allow_insecure_http = allow_insecure_http
        self._origin = _origin(self.base_url)
        if self._origin[0] not in HTTP_SCHEMES:
            raise ConfigurationError(f"{vendor}: base_url {self.redactor.url(base_url)!r} is not an http(s) URL")
        self._refuse_plain_http(self.base_url)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"{USER_AGENT}/{__version__}"
        # our hook replaces requests' own on this session only: a redirect to another host drops every credential
        self.session.rebuild_auth = self._rebuild_auth  # type: ignore[method-assign]
        self._session_rebuild_auth = requests.Session.rebuild_auth.__get__(self.session)

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs are kept as they are).

        Raises:
            DataError: ``path`` is an absolute URL whose scheme is not HTTP (``file://``...).
        """
        scheme = urlsplit(path).scheme.lower() if "://" in path else ""
        if scheme in HTTP_SCHEMES:
            return path
        if scheme:
            raise DataError(
                f"{self.vendor}: the link {self.redactor.url(path)!r} uses the {scheme}:// scheme, which cannot be "
                "downloaded over HTTP",
                hint="the vendor handed out a link dataferry cannot use; ask the vendor for an https link",
            )
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
        busy_wait: float | None = None,
        created_hint: str | None = None,
        stop: threading.Event | None = None,
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
            busy_wait: seconds this call may keep waiting through 429 answers, however many
                (a trigger that meets "too many running jobs"); by default a 429 counts as one
                of the ``max_attempts`` like every other failure, which stay bounded by it.
            created_hint: for a call that creates something, where to look for it when the call
                fails in a way that may have created it anyway.
            stop: set by another thread to end this call's retries (raises ``Stopped``).

        Returns:
            The response (2xx or a status in ``allow``).

        Raises:
            ApiError: a subclass chosen by the vendor's error map (``maybe_created`` is set on a
                5xx answer to a call that creates something).
            TransportError: no answer after the retries allowed.
            RequestMayHaveReached: a non-idempotent call failed after it may have been sent.
            DataError: the URL's scheme is not HTTP.
            ConfigurationError: credentials would travel over plain HTTP.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        hook = self._auth_for(url, auth)
        failures = busy = 0
        waited = waited_busy = 0.0
        while True:
            _check(stop)
            self.limiter.acquire(family, on_wait=lambda s: self._say_waiting(s, family))
            sent = self._send(
                method,
                url,
                params=params,
                json=json,
                data=data,
                files=files,
                headers=headers,
                auth=hook,
                timeout=timeout or self.timeout,
                stream=stream,
            )
            if isinstance(sent, _Failed):
                failures += 1
                shown = self._shown_url(url, params)
                if should_retry(idempotent=idempotent, failure=sent.failure) and self._may_retry(failures, waited):
                    delay = min(
                        backoff_delay(failures, rng=self.rng), self.retry_budget - waited
                    )  # never past the budget
                    waited += delay
                    notice(f"{self.vendor}: {sent.detail}; retrying in {delay:.0f} s ({method} {shown})")
                    self._sleep(delay, stop)
                    continue
                raise self._transport_error(sent, idempotent, method, shown, created_hint)

            response = sent
            status = response.status_code
            body = None
            if 200 <= status < 300 or status in allow:
                coded = None if stream else self._status_in_body(response)
                if coded is None:
                    return response
                status, body = coded  # an error carried by the body of a 2xx answer (myTracker's "code")
            retry = should_retry(idempotent=idempotent, status=status)
            body = decode_body(response) if body is None else body
            hint = self._hint(response, body)
            response.close()
            waiting_out = status == 429 and busy_wait is not None  # "too many running jobs": wait it out
            if waiting_out:
                busy += 1
                may = busy_wait is not None and waited_busy < busy_wait
            else:
                failures += 1
                may = self._may_retry(failures, waited)
            if retry and may:
                step = busy if waiting_out else failures
                left = (
                    (busy_wait - waited_busy) if waiting_out and busy_wait is not None else (self.retry_budget - waited)
                )
                delay = min(backoff_delay(step, hint=hint, rng=self.rng), left)  # never past the budget
                if waiting_out:
                    waited_busy += delay
                else:
                    waited += delay
                what = "rate limited" if status == 429 else f"HTTP {status}"
                notice(f"{self.vendor}: {what}; retrying in {delay:.0f} s ({method} {self._shown_url(url, params)})")
                self._sleep(delay, stop)
                continue
            error = self.error_map.exception(
                status,
                body,
                method=method,
                url=self.redactor.url(response.request.url or self._shown_url(url, params)),
                redactor=self.redactor,
                job_id=job_id,
                retry_after=hint,
                reason=response.reason or "",
            )
            if status >= 500 and not idempotent:
                error.maybe_created = True
                error.message += (
                    f"\n  the {self.vendor} server failed after receiving the call: it may have acted on it"
                )
                error.hint = created_hint or CREATED_HINT
                error.args = (error.message,)
            raise self.redactor.scrub(error)

    def get_json(self, path: str, **kw: Any) -> Any:
        """GET ``path`` and decode the JSON answer."""
        return self.json_of(self.request("GET", path, **kw))

    def json_of(self, response: requests.Response) -> Any:
        """Decode a JSON answer, with a typed error when the body is not JSON."""
        try:
            return response.json()
        except ValueError:
            pass
        raise TransportError(
            f"{self.vendor} answered HTTP {response.status_code} with a body that is not JSON",
            method=response.request.method or "",
            url=self.redactor.url(response.url),
        )

    def missing(
        self,
        answer: Any,
        field: str,
        *,
        what: str,
        response: requests.Response,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> ApiError:
        """The error for an answer that lacks ``field`` (a trigger answered without an id): the
        answer is shown shortened and with every secret masked."""
        shown = self.redactor.text(scrub_auth_text(str(self.redactor.data(answer))))[:200]
        return self.redactor.scrub(
            ApiError(
                f"{what} was accepted but the answer has no {field}: {shown}",
                vendor=self.vendor,
                status=response.status_code,
                method=response.request.method or "",
                url=self.redactor.url(response.url),
                job_id=job_id,
                hint=hint,
            )
        )

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    # -- internals ----------------------------------------------------------------------
    def _send(self, method: str, url: str, *, auth: Auth, **kw: Any) -> requests.Response | _Failed:
        """One attempt: the response, or what went wrong (masked; the original is dropped so
        that nothing carrying a secret stays in an exception chain)."""
        try:
            return self.session.request(
                method, url, headers=dict(kw.pop("headers") or {}), auth=auth, allow_redirects=True, **kw
            )
        except requests.RequestException as exc:
            if isinstance(
                exc,
                (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL, requests.exceptions.MissingSchema),
            ):
                failure = Failure.NOT_SENT
                permanent = True
            else:
                failure, permanent = classify(exc), False
            return _Failed(failure, self.redactor.text(scrub_auth_text(_short(exc))), type(exc).__name__, permanent)

    def _auth_for(self, url: str, auth: Auth | None) -> Auth:
        """The hook for ``url``: credentials go to the API's own host only."""
        hook = auth or self.auth
        if _origin(url)[1] != self._origin[1] and not hook.any_host:
            return NoAuth()
        if hook.secrets:
            self._refuse_plain_http(url)
        return hook

    def _refuse_plain_http(self, url: str) -> None:
        scheme, host, _ = _origin(url)
        if scheme == "http" and self.auth.secrets and not is_loopback(host) and not self.allow_insecure_http:
            raise ConfigurationError(
                f"{self.vendor}: refusing to send credentials over plain http:// to {host}",
                hint="use an https:// base_url, or pass allow_insecure_http=True if this network is trusted",
            )

    def _rebuild_auth(self, prepared: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect to another host, drop every credential header (requests itself only
        drops ``Authorization``)."""
        self._session_rebuild_auth(prepared, response)
        if _origin(prepared.url or "")[1] != _origin(response.request.url or "")[1]:
            for name in list(prepared.headers):
                if name.lower() in SECRET_NAMES or self.redactor.leaks(str(prepared.headers[name])):
                    del prepared.headers[name]

    def _sleep(self, seconds: float, stop: threading.Event | None) -> None:
        sleep_unless(self.clock, seconds, stop)
        _check(stop)

    def _say_waiting(self, seconds: float, family: str) -> None:
        if seconds >= RATE_WAIT_NOTICE:
            notice(f"{self.vendor}: waiting {seconds:.0f} s to stay within the {family!r} rate limit")

    def _status_in_body(self, response: requests.Response) -> tuple[int, Any] | None:
        """``(status, body)`` when the error map reads an error status from a 2xx body
        (:attr:`ErrorMap.status_of`), so that it goes through the same retry and error path as
        an HTTP error; ``None`` for a good answer."""
        if self.error_map.status_of is None:
            return None
        body = decode_body(response)
        coded = self.error_map.status_of(body)
        if coded is None or 200 <= coded < 300:
            return None
        return coded, body

    def _may_retry(self, failures: int, waited: float) -> bool:
        return failures < self.max_attempts and waited < self.retry_budget

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
        self, failed: _Failed, idempotent: bool, method: str, url: str, created_hint: str | None
    ) -> TransportError | DataError:
        if failed.permanent:
            return DataError(
                f"{self.vendor}: cannot send {method} {url} ({failed.detail})",
                hint="the URL is not one HTTP can reach; check the base URL or the link the vendor gave",
            )
        if failed.failure is Failure.MAYBE_SENT and not idempotent:
            return RequestMayHaveReached(
                f"{self.vendor}: {method} failed after it may have reached the server ({failed.detail}); "
                "it was not re-sent",
                method=method,
                url=url,
                hint=created_hint or CREATED_HINT,
            )
        return TransportError(
            f"{self.vendor}: no answer ({failed.detail})",
            method=method,
            url=url,
            hint="check the network and the base URL; the request was retried with back-off",
        )

    def __repr__(self) -> str:
        return f"HttpClient({self.vendor!r}, {self.redactor.url(self.base_url)!r}, auth={self.auth!r})"


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Stopped("the call was stopped")


@dataclass(frozen=True)
class _Failed:
    """An attempt that got no HTTP answer, already masked."""

    failure: Failure
    detail: str
    type_name: str
    permanent: bool = False


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
