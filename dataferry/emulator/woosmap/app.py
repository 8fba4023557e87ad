"""The Woosmap emulator itself: its settings, the four keys it knows and what each may do,
and what ``dataferry emulate`` prints. The handlers are mixed in from
:mod:`~dataferry.emulator.woosmap.datasets` and :mod:`~dataferry.emulator.woosmap.features`."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import Route
from dataferry.emulator.woosmap.datasets import DatasetHandlers
from dataferry.emulator.woosmap.features import FeatureHandlers
from dataferry.emulator.woosmap.routes import ENDPOINT_GROUP, FEATURE_ENDPOINTS, ROUTES
from dataferry.emulator.woosmap.state import MESSAGES, RATE_LIMITS

PRIVATE_KEY = "emulator-woosmap-private-key-0001"
"""The private key with write permission the emulator accepts by default."""

READ_ONLY_KEY = "emulator-woosmap-read-only-key-0001"
"""A private key without write permission (feature queries only)."""

NO_QUOTA_KEY = "emulator-woosmap-no-quota-key-0001"
"""A key whose project is out of free quota (every call answers 402)."""

PUBLIC_KEY = "woos-emulator-public-key-0001"
"""A public key (query ``key=``), accepted by the feature queries only."""


class WoosmapEmulator(DatasetHandlers, FeatureHandlers):
    """The Woosmap Datasets API on 127.0.0.1.

    Args:
        private_key: the private key with write permission.
        read_only_key, no_quota_key, public_key: the other keys it knows (see the module
            docstring).
        queue_seconds: seconds between an import request and its run appearing in the status
            (until then the status shows the previous run, or 404 when there is none).
        fetch_seconds: seconds the ``fetch`` step takes.
        import_seconds: seconds the ``import`` step takes.
        features: features each successful import loads (default: 20–59, fixed per URL).
        existing_datasets: datasets that exist from the start, each with a finished import.
        rate_scale: factor applied to every rate-limit window (0.01 makes status 1 per 0.05 s);
            pair it with the client's ``rate_limits=`` of the same value.
        **kw: see :class:`~dataferry.emulator.app.EmulatorApp` (``rate_limits=False`` switches
            the limits off, for fuzzing).

    Example:
        >>> from dataferry import emulator
        >>> with emulator.serve("woosmap", fetch_seconds=0.1) as emu:  # doctest: +SKIP
        ...     print(emu.credentials)
        {'private_key': 'emulator-woosmap-private-key-0001'}
    """

    public_endpoints = frozenset({"reimport_hook"})

    def __init__(
        self,
        *,
        private_key: str = PRIVATE_KEY,
        read_only_key: str = READ_ONLY_KEY,
        no_quota_key: str = NO_QUOTA_KEY,
        public_key: str = PUBLIC_KEY,
        queue_seconds: float = 1.0,
        fetch_seconds: float = 3.0,
        import_seconds: float = 5.0,
        features: int | None = None,
        existing_datasets: int = 3,
        rate_scale: float = 1.0,
        **kw: Any,
    ) -> None:
        if rate_scale <= 0:
            raise ValueError(f"rate_scale must be > 0, got {rate_scale}")
        super().__init__(**kw)  # after the check: a refused setting makes no directory
        self.private_key = private_key
        self.read_only_key = read_only_key
        self.no_quota_key = no_quota_key
        self.public_key = public_key
        self.queue_seconds = float(queue_seconds)
        self.fetch_seconds = float(fetch_seconds)
        self.import_seconds = float(import_seconds)
        self.features = features
        self.rate_scale = float(rate_scale)
        for k in range(existing_datasets):
            self.preload(k)

    # -- identity -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return ROUTES

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        """Check the key (401/402/403 as the spec says), then the endpoint's rate limit (429)."""
        key = request.headers.get("X-Api-Key") or request.args.get("private_key")
        public = request.args.get("key") if endpoint in FEATURE_ENDPOINTS else None
        if not key and not public:
            return self.error(401, MESSAGES[401])
        if key == self.no_quota_key:
            return self.error(402, MESSAGES[402])
        if key:
            allowed = {self.private_key, self.read_only_key} if endpoint in FEATURE_ENDPOINTS else {self.private_key}
            if key not in allowed:
                return self.error(403, MESSAGES[403])
        elif public != self.public_key:
            return self.error(403, MESSAGES[403])
        return self.throttle(ENDPOINT_GROUP[endpoint], key or public or "", request)

    def credentials(self) -> dict[str, str]:
        return {"private_key": self.private_key}

    def describe(self) -> dict[str, Any]:
        return {
            "other keys": {
                "read_only_key": f"{self.read_only_key}  (feature queries only)",
                "no_quota_key": f"{self.no_quota_key}  (answers 402 Out of free quota)",
                "public_key": f"{self.public_key}  (query key=, feature queries only)",
            },
            "imports": f"queued {self.queue_seconds:g} s, fetch {self.fetch_seconds:g} s, import "
            f"{self.import_seconds:g} s; URLs containing 'fail-fetch' or 'fail-import' fail in that step",
            "rate limits": (
                "off"
                if not self.rate_limits
                else ", ".join(f"{g} {n}/{w * self.rate_scale:g}s" for g, (n, w) in RATE_LIMITS.items())
            ),
            "datasets": {d.id: d.name for d in self.datasets.values()},
        }
