"""Seeded random faults ("chaos") for soaks: a fraction of the matching requests gets a fault
that a robust client must survive, the same faults for the same seed and requests.

Arm it on a running emulator, or when starting one::

    emu.faults.chaos(seed=7, rate=0.1)  # every kind of the default set
    emu.faults.chaos(seed=7, rate=0.3, kinds=("reset", "drop"), paths=r"/snapshot/")
    emulator.start("brightdata", chaos=0.1, fault_seed=7)  # the same, per server

How a request is drawn: its key is ``METHOD path?query``; the ``n``-th request with a given key
is faulted when ``hash(seed, key, n)`` falls below ``rate``, and the same hash chooses the kind
and its parameters (offsets, delays, statuses). So the draws do not depend on how parallel
requests interleave, only on the seed and on each key's own sequence. A drawn ``status`` fault
repeats for a burst of 1 to ``streak`` requests of that key (a 429 storm, a 5xx burst); after
``streak`` faulted requests in a row the next one of that key is always clean, so a client with
``streak + 1`` attempts per request always gets through.

A drawn fault that cannot act on the answer (``truncate`` on a JSON answer, ``ignore_range`` on a
request without ``Range``, ``expire`` on a status call) is not injected and not counted:
:attr:`~dataferry.emulator.faults.Faults.injected` counts what really happened.

The default set (:data:`DEFAULT_CHAOS_KINDS`) holds only faults a correct client survives: 429s
with and without ``Retry-After`` (seconds or an HTTP-date), 5xx bursts (some as HTML pages),
resets before the headers and mid-body, clean drops mid-body, ignored ``Range``, truncated and
corrupt bodies (gzip bodies only, where the damage is detectable), a ``Content-Length`` that
announces more than is sent, trickles and stalls of under a second, and short delays before the
headers. Only ``GET`` requests are drawn by default (a lost answer to a POST is never re-sent by
a careful client, by design). Vendors whose download links can be refreshed (myTracker) add
``expire``. Left out unless asked: ``range_416`` (a client may rightly give up) and ``body`` (it
needs an answer to give: arm it with ``faults.add``).
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CHAOS_KINDS = (
    "status",
    "reset",
    "drop",
    "ignore_range",
    "truncate",
    "corrupt",
    "lie_length",
    "trickle",
    "hang",
    "slow",
)
"""Kinds chaos draws from unless told otherwise (every one survivable by a robust client)."""

CHAOS_RATE = 0.1
"""Default fraction of the matching requests that draw a fault."""

CHAOS_METHODS = ("GET",)
"""Methods chaos draws by default: re-sending them is safe, so their faults are survivable."""

CHAOS_STREAK = 3
"""Most faulted requests in a row for one request key; the next one is always clean."""

CHAOS_STATUSES = (429, 429, 500, 502, 503, 504)
"""Statuses a drawn ``status`` fault picks from (429 twice as often)."""

CHAOS_DELAY = (0.05, 1.0)
"""Range of seconds of a drawn ``trickle``, ``hang`` or ``slow`` (short: a soak must finish)."""

CHAOS_UNDRAWABLE = frozenset({"body"})
"""Kinds chaos cannot draw: they need settings only a test can give."""


@dataclass
class _Key:
    """What chaos remembers about one request key."""

    seen: int = 0
    streak: int = 0
    burst: int = 0
    burst_params: dict[str, Any] = field(default_factory=dict)


class Chaos:
    """Seeded random draws of faults for the requests an emulator receives; thread-safe.

    Args:
        seed: the seed; equal seeds and equal requests give equal faults.
        rate: the fraction of matching requests that draw a fault (0 to 1).
        kinds: the kinds to draw from (see :data:`DEFAULT_CHAOS_KINDS`).
        paths: a regular expression (or several) searched in the path; ``""`` matches all.
        methods: only requests with these methods (``None``: any).
        streak: most faulted requests in a row per request key (see :data:`CHAOS_STREAK`).

    Example:
        >>> chaos = Chaos(seed=7, rate=1.0, kinds=("drop",))
        >>> chaos.draw("GET", "/datasets/v3/snapshot/s_1")
        ('drop', {'after_bytes': 0.845})
        >>> chaos.draw("POST", "/datasets/v3/trigger") is None
        True
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        rate: float = CHAOS_RATE,
        kinds: Sequence[str] = DEFAULT_CHAOS_KINDS,
        paths: str | Sequence[str] = "",
        methods: Sequence[str] | None = CHAOS_METHODS,
        streak: int = CHAOS_STREAK,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"chaos rate must be between 0 and 1, got {rate!r}")
        if streak < 1:
            raise ValueError(f"chaos streak must be at least 1, got {streak!r}")
        bad = CHAOS_UNDRAWABLE.intersection(kinds)
        if bad:
            raise ValueError(f"chaos cannot draw {', '.join(sorted(bad))}: arm it with faults.add(...)")
        if not kinds:
            raise ValueError("chaos needs at least one kind")
        self.seed = int(seed)
        self.rate = float(rate)
        self.kinds = tuple(kinds)
        self.paths = (paths,) if isinstance(paths, str) else tuple(paths)
        self._path = re.compile("|".join(f"(?:{p})" for p in self.paths) or "")
        self.methods = None if methods is None else tuple(m.upper() for m in methods)
        self.streak = int(streak)
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}

    def __repr__(self) -> str:
        return (
            f"Chaos(seed={self.seed}, rate={self.rate:g}, kinds={self.kinds}, paths={self.paths}, "
            f"methods={self.methods}, streak={self.streak})"
        )

    def draw(
        self, method: str, path: str, query: str = "", *, ranged: bool = False
    ) -> tuple[str, dict[str, Any]] | None:
        """The fault drawn for one request, as ``(kind, params)``, or ``None``.

        Args:
            method, path, query: the request (the query is part of the key: parts differ by it).
            ranged: the request carries a ``Range`` header (only then are the Range kinds drawn).
        """
        if self.methods is not None and method.upper() not in self.methods:
            return None
        if self._path.search(path) is None:
            return None
        key = f"{method.upper()} {path}?{query}"
        with self._lock:
            state = self._keys.setdefault(key, _Key())
            n = state.seen
            state.seen += 1
            if state.burst > 0:
                state.burst -= 1
                state.streak += 1
                return "status", dict(state.burst_params)
            if state.streak >= self.streak:
                state.streak = 0
                return None
            rng = random.Random(_digest(self.seed, key, n))
            if rng.random() >= self.rate:
                state.streak = 0
                return None
            eligible = [k for k in self.kinds if ranged or k not in ("ignore_range", "range_416")]
            if not eligible:
                state.streak = 0
                return None
            kind = rng.choice(eligible)
            params = _params(kind, rng)
            state.streak += 1
            if kind == "status":
                state.burst = min(rng.randint(1, self.streak), self.streak - state.streak + 1) - 1
                state.burst_params = dict(params)
            return kind, params


def _digest(seed: int, key: str, n: int) -> int:
    """A stable 64-bit number for ``(seed, key, n)`` (Python's ``hash`` varies between runs)."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{key}\x00{n}".encode(), digest_size=8).digest(), "big")


def _fraction(rng: random.Random, low: float = 0.05, high: float = 0.95) -> float:
    return round(rng.uniform(low, high), 3)


def _params(kind: str, rng: random.Random) -> dict[str, Any]:
    """Sensible parameters for a drawn fault of ``kind`` (offsets are fractions of the body)."""
    low, high = CHAOS_DELAY
    if kind == "status":
        status = rng.choice(CHAOS_STATUSES)
        params: dict[str, Any] = {"status": status}
        if status == 429:
            hint = rng.choice(("none", "seconds", "date"))
            if hint == "seconds":
                params["retry_after"] = rng.choice((0, 1))
            elif hint == "date":
                params["retry_after_date"] = 1
        elif status != 500 and rng.random() < 0.5:
            params["html"] = True
        return params
    if kind == "reset":
        return {} if rng.random() < 0.5 else {"after_bytes": _fraction(rng)}
    if kind == "drop":
        return {"after_bytes": _fraction(rng)}
    if kind == "truncate":
        return {"keep": _fraction(rng, 0.1, 0.9), "gzip_only": True}
    if kind == "corrupt":
        return {"at": _fraction(rng, 0.2, 0.8), "count": rng.randint(1, 16), "gzip_only": True}
    if kind == "lie_length":
        return {"extra": rng.randint(1, 4096)}
    if kind == "trickle":
        return {"seconds": round(rng.uniform(low, high), 3), "after_bytes": _fraction(rng, 0.0, 0.9)}
    if kind in ("hang", "slow"):
        return {"delay": round(rng.uniform(low, high / 2 if kind == "slow" else high), 3)}
    return {}  # ignore_range, range_416, expire
