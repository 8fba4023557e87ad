"""Fault injection for the emulators: what can go wrong on the wire, on request.

One mechanism for every emulator: :class:`~dataferry.emulator.app.EmulatorApp` consults it for
every request (answers, JSON bodies and file downloads alike), so each kind works on every
vendor. A test (or a teacher) arms faults on a running emulator::

    emu.faults.add("status", path="/progress/", status=429, times=3, retry_after=1)
    emu.faults.add("drop", path="/snapshot/", after_bytes=100_000, times=1)
    emu.faults.add("body", path="/progress/", json={"status": "building"})  # ready → building
    emu.faults.chaos(seed=7, rate=0.1)  # random faults (see dataferry.emulator.chaos)
    emu.faults.injected  # {"status": 3, "drop": 1, ...}
    emu.faults.clear()  # disarm everything, chaos included

or when starting one: ``emulator.start(vendor, faults=[{"kind": "reset", "path": "/x"}],
chaos=0.1, fault_seed=7)`` (and ``dataferry emulate --chaos 0.1 --seed 7``).

Every fault has ``path`` (a regular expression searched in the request path; ``""`` matches
all), ``method`` (``None``: any) and ``times`` (requests it hits, ``None``: until cleared). A
fault is used up only by a request it can act on: a ``drop`` after 300 bytes leaves a 100-byte
answer alone and waits for a longer one (except that an armed ``drop`` or ``truncate`` is used up
by the next file download it matches, as they always were, even one too short to cut). Offsets (``after_bytes``, ``at``) are bytes when
whole numbers and a fraction of the body when floats between 0 and 1.

The kinds, by when they act:

| kind | parameters (defaults) | what the client sees |
|---|---|---|
| **answers**, before the vendor's handler runs (nothing happens on the server) | | |
| `status` | `status` (500), `message`, `retry_after` (seconds), `retry_after_date` (seconds from now, sent as an HTTP-date), `html` | the vendor's error body (or an HTML error page) with that status and `Retry-After` |
| `body` | one of `json`, `text`, `html` (a message in an HTML page, see `html_page`), `data` (bytes); `status` (200), `content_type`, `headers`, `retry_after`, `retry_after_date` | any answer instead of the real one: an HTML page where CSV was expected, an error object where a JSON array was, NUL bytes, a status answer flipping a ready job back to building |
| `reset` | no `after_bytes` | the connection reset (TCP RST) before any header |
| `slow` | `delay` (1 s) | nothing for `delay` seconds, then the answer (a read timeout before the headers) |
| **bodies**, of any 2xx answer: file downloads and JSON answers | | |
| `drop` | `after_bytes` (0) | the headers and `after_bytes` of the body, then a clean close (FIN) |
| `reset` | `after_bytes` | the headers and `after_bytes` of the body, then a reset (RST) |
| `truncate` | `keep` (0.5: a fraction, or bytes when > 1), `gzip_only` | the body cut short, honestly labelled (`Content-Length`, `Content-Range`) |
| `corrupt` | `at` (0.5: the middle), `count` (8), `gzip_only` | `count` bytes flipped at `at`: same length, only a checksum (gzip's CRC) or the decoder notices |
| `lie_length` | `extra=N` or `less=N`, `gzip_only` | `Content-Length` N more than is sent, then a close; or N less than the body, and only that much sent |
| `trickle` | `rate` (16384 bytes/s) or `seconds` (spread the body over them), `after_bytes` (0) | the body in small writes at that pace, after the first `after_bytes` at full speed |
| `hang` | `delay` (5 s) | the headers, then nothing for `delay` seconds, then the body (a read timeout on the body) |
| **ranges**, of a file download asked with `Range` | | |
| `ignore_range` | | the whole body with 200 |
| `range_416` | | 416 with `Content-Range: bytes */<size>`, even for a satisfiable range |
| **vendors**, where a vendor's links expire | | |
| `expire` | | the vendor's expired-link answer to a download: myTracker 404 "File not found or the link has expired" (`get.json` hands the link out again, or new ones near its end), Bright Data 400 "Snapshot is expired" (snapshot downloads), Bright Data DCA 404 "Dataset not found" |

`gzip_only=True` makes `truncate`, `corrupt` and `lie_length` act on gzip bodies only, where
the damage is detectable (chaos sets it).

Counting: each injected fault adds one to :attr:`Faults.injected` (``{kind: n}``) and one to its
:attr:`Fault.hits`; :attr:`Faults.injections` lists them in order. Counts survive
:meth:`Faults.clear`; :meth:`Faults.reset_counts` zeroes them.
"""

from __future__ import annotations

import html
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dataferry.emulator.chaos import CHAOS_METHODS, CHAOS_RATE, CHAOS_STREAK, DEFAULT_CHAOS_KINDS, Chaos

KINDS = (
    "status",
    "slow",
    "drop",
    "ignore_range",
    "truncate",
    "expire",
    "reset",
    "range_416",
    "corrupt",
    "lie_length",
    "trickle",
    "hang",
    "body",
)
"""Fault kinds the emulators understand."""

PARAMS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "message", "retry_after", "retry_after_date", "html"}),
    "body": frozenset(
        {"status", "json", "text", "html", "data", "content_type", "headers", "retry_after", "retry_after_date"}
    ),
    "reset": frozenset({"after_bytes"}),
    "slow": frozenset({"delay"}),
    "drop": frozenset({"after_bytes"}),
    "truncate": frozenset({"keep", "gzip_only"}),
    "corrupt": frozenset({"at", "count", "gzip_only"}),
    "lie_length": frozenset({"extra", "less", "gzip_only"}),
    "trickle": frozenset({"rate", "seconds", "after_bytes"}),
    "hang": frozenset({"delay"}),
    "ignore_range": frozenset(),
    "range_416": frozenset(),
    "expire": frozenset(),
}
"""The parameters each kind takes (anything else is refused, so a typo cannot pass silently)."""

BODY_ARGUMENTS = ("json", "text", "html", "data")
"""The ways to give a ``body`` fault its answer (exactly one)."""

SLOW_DELAY = 1.0
"""Seconds a ``slow`` fault waits before answering, by default."""

HANG_DELAY = 5.0
"""Seconds a ``hang`` fault stays silent after the headers, by default."""

TRICKLE_RATE = 16384.0
"""Bytes per second of a ``trickle`` fault, by default."""

CORRUPT_BYTES = 8
"""Bytes a ``corrupt`` fault flips, by default."""

TRUNCATE_KEEP = 0.5
"""Part of the body a ``truncate`` fault keeps, by default."""

INJECTION_LOG = 10_000
"""Most recent injections :attr:`Faults.injections` keeps."""


@dataclass
class Fault:
    """One armed fault.

    Attributes:
        kind: one of :data:`KINDS`.
        path: a regular expression searched in the request path (``""`` matches all).
        method: only requests with this method (``None``: any).
        times: how many requests it hits (``None``: until cleared).
        params: kind-specific settings (see the module docstring).
        hits: how many requests it has hit so far.
        origin: ``"armed"`` (by :meth:`Faults.add`) or ``"chaos"`` (drawn for one request).
    """

    kind: str
    path: str = ""
    method: str | None = None
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    origin: str = "armed"

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


@dataclass(frozen=True)
class Injection:
    """One fault that acted on a request (what :attr:`Faults.injections` lists)."""

    kind: str
    method: str
    path: str
    origin: str
    params: Mapping[str, Any]


def html_page(title: str, message: str | None = None) -> str:
    """A small HTML error page, as a proxy or a load balancer answers.

    Example:
        >>> html_page("502 Bad Gateway")[:46]
        '<html><head><title>502 Bad Gateway</title></he'
    """
    text = html.escape(message if message is not None else title)
    return (
        f"<html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{text}</p></body></html>"
    )


def _check(kind: str, params: Mapping[str, Any]) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(KINDS)}")
    unknown = set(params) - PARAMS[kind]
    if unknown:
        allowed = ", ".join(sorted(PARAMS[kind])) or "none"
        raise ValueError(f"the {kind} fault takes no {', '.join(sorted(unknown))} (it takes: {allowed})")
    if kind == "body" and sum(name in params for name in BODY_ARGUMENTS) != 1:
        raise ValueError(f"a body fault needs exactly one of {', '.join(f'{n}=' for n in BODY_ARGUMENTS)}")
    if kind == "lie_length" and ("extra" in params) == ("less" in params):
        raise ValueError("a lie_length fault needs exactly one of extra=, less=")
    if kind == "trickle" and "rate" in params and "seconds" in params:
        raise ValueError("a trickle fault takes rate= or seconds=, not both")


class Faults:
    """The faults armed on one emulator, its chaos and its counters; thread-safe.

    Args:
        chaos_kinds: the kinds :meth:`chaos` draws from when not told (the emulator's
            survivable set, see :data:`~dataferry.emulator.chaos.DEFAULT_CHAOS_KINDS`).
    """

    def __init__(self, *, chaos_kinds: Sequence[str] = DEFAULT_CHAOS_KINDS) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._chaos: Chaos | None = None
        self._counts: Counter[str] = Counter()
        self._log: deque[Injection] = deque(maxlen=INJECTION_LOG)
        self.chaos_kinds = tuple(chaos_kinds)

    def add(
        self, kind: str, *, path: str = "", method: str | None = None, times: int | None = 1, **params: Any
    ) -> Fault:
        """Arm a fault (see the module docstring for kinds and parameters).

        Raises:
            ValueError: an unknown kind, or a parameter that kind does not take.
        """
        _check(kind, params)
        re.compile(path)
        fault = Fault(kind, path, method, times, dict(params))
        with self._lock:
            self._faults.append(fault)
        return fault

    def arm(self, specs: Iterable[Mapping[str, Any]]) -> list[Fault]:
        """Arm several faults given as mappings, e.g. ``[{"kind": "status", "status": 503}]``."""
        armed = []
        for spec in specs:
            spec = dict(spec)
            try:
                kind = spec.pop("kind")
            except KeyError:
                raise ValueError(f"a fault needs a kind: {spec!r}") from None
            armed.append(self.add(kind, **spec))
        return armed

    def chaos(
        self,
        *,
        seed: int = 0,
        rate: float = CHAOS_RATE,
        kinds: Sequence[str] | None = None,
        paths: str | Sequence[str] = "",
        methods: Sequence[str] | None = CHAOS_METHODS,
        streak: int = CHAOS_STREAK,
    ) -> Chaos:
        """Inject random faults into ``rate`` of the matching requests, deterministically for
        ``seed`` (see :mod:`dataferry.emulator.chaos`); replaces any chaos armed before.

        Args:
            seed, rate, paths, methods, streak: see :class:`~dataferry.emulator.chaos.Chaos`.
            kinds: the kinds to draw (default: this emulator's survivable set).
        """
        kinds = self.chaos_kinds if kinds is None else tuple(kinds)
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind {unknown[0]!r}; choose from {', '.join(KINDS)}")
        chaos = Chaos(seed=seed, rate=rate, kinds=kinds, paths=paths, methods=methods, streak=streak)
        with self._lock:
            self._chaos = chaos
        return chaos

    @property
    def active(self) -> bool:
        """Whether any fault is armed or chaos is on."""
        with self._lock:
            return bool(self._faults) or self._chaos is not None

    def draw(self, method: str, path: str, query: str = "", *, ranged: bool = False) -> Fault | None:
        """The chaos fault drawn for one request (``None`` without chaos or when not drawn);
        pass it to :meth:`take` as ``draw=`` for every take of that request."""
        with self._lock:
            chaos = self._chaos
        drawn = None if chaos is None else chaos.draw(method, path, query, ranged=ranged)
        if drawn is None:
            return None
        return Fault(drawn[0], re.escape(path), method, 1, drawn[1], origin="chaos")

    def take(
        self,
        method: str,
        path: str,
        kinds: tuple[str, ...] = KINDS,
        *,
        applies: Callable[[Fault], bool] | None = None,
        draw: Fault | None = None,
    ) -> Fault | None:
        """The first armed fault of ``kinds`` matching this request (else the request's chaos
        ``draw`` when it is of ``kinds``), counting the hit.

        Args:
            method, path: the request.
            kinds: the kinds this step of the answer can inject.
            applies: whether a candidate can act on this answer; faults it refuses stay armed.
            draw: the request's chaos fault (from :meth:`draw`).
        """
        with self._lock:
            chosen = None
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path) and (applies is None or applies(fault)):
                    chosen = fault
                    break
            if (
                chosen is None
                and draw is not None
                and draw.times
                and draw.kind in kinds
                and (applies is None or applies(draw))
            ):
                chosen = draw
            if chosen is None:
                return None
            chosen.hits += 1
            if chosen.times is not None:
                chosen.times -= 1
                if chosen.times <= 0 and chosen in self._faults:
                    self._faults.remove(chosen)
            self._counts[chosen.kind] += 1
            self._log.append(Injection(chosen.kind, method.upper(), path, chosen.origin, dict(chosen.params)))
            return chosen

    @property
    def injected(self) -> dict[str, int]:
        """Faults injected so far, by kind (armed and chaos alike)."""
        with self._lock:
            return dict(self._counts)

    @property
    def injections(self) -> list[Injection]:
        """The faults injected so far, oldest first (the last :data:`INJECTION_LOG`)."""
        with self._lock:
            return list(self._log)

    def reset_counts(self) -> None:
        """Zero :attr:`injected` and empty :attr:`injections`."""
        with self._lock:
            self._counts.clear()
            self._log.clear()

    def clear(self) -> None:
        """Disarm every fault and switch chaos off (the counts stay)."""
        with self._lock:
            self._faults.clear()
            self._chaos = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def __repr__(self) -> str:
        with self._lock:
            armed = ", ".join(f"{f.kind}@{f.path or '*'}" for f in self._faults)
            return f"Faults([{armed}], chaos={self._chaos!r}, injected={dict(self._counts)})"
