"""Faithful local emulators of the vendor APIs, served over real HTTP on 127.0.0.1.

They let a user learn dataferry with no account, let the tests run offline, and power
``dataferry demo``. They never import the client side of dataferry, so they check the client's
wire format instead of mirroring it.

Example:
    >>> from dataferry import emulator, brightdata
    >>> with emulator.serve("brightdata") as emu:  # doctest: +SKIP
    ...     bd = brightdata.Client(base_url=emu.base_url, **emu.credentials)
    ...     snap = bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://example.com/p/1"}])
    ...     df = snap.to_pandas()
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.server import ServerThread

VENDORS: dict[str, str] = {
    "brightdata": "dataferry.emulator.brightdata.app:BrightDataEmulator",
    "mytracker": "dataferry.emulator.mytracker.app:MyTrackerEmulator",
    "woosmap": "dataferry.emulator.woosmap.app:WoosmapEmulator",
    "algolia": "dataferry.emulator.algolia.app:AlgoliaEmulator",
}
"""Vendor name → ``module:class`` of its emulator app (each vendor is a package of its own, the
app in its ``app`` module; the shared machinery is here: :mod:`~dataferry.emulator.app`,
:mod:`~dataferry.emulator.server`, :mod:`~dataferry.emulator.faults`...)."""


def app_class(vendor: str) -> type[EmulatorApp]:
    """The emulator app class for ``vendor``."""
    try:
        target = VENDORS[vendor]
    except KeyError:
        raise ValueError(f"no emulator for {vendor!r}; choose from {', '.join(VENDORS)}") from None
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"the {vendor} emulator is not available in this version ({exc.name})") from exc


@dataclass
class Emulator:
    """A running emulator.

    Attributes:
        vendor: the vendor it emulates.
        base_url: ``http://127.0.0.1:<port>``, to pass as ``base_url=`` to the client.
        credentials: keyword arguments for the vendor's client (``token=``, ``api_key=``...).
        app: the emulator app (state, ``faults``, recorded ``requests``) for tests.
    """

    vendor: str
    base_url: str
    credentials: dict[str, str]
    app: Any
    server: ServerThread

    @property
    def faults(self) -> Any:
        """The app's :class:`~dataferry.emulator.faults.Faults`."""
        return self.app.faults

    def client_kwargs(self) -> dict[str, Any]:
        """``base_url`` and credentials, ready for ``Client(**emu.client_kwargs())``."""
        return {"base_url": self.base_url, **self.credentials}

    def stop(self) -> None:
        """Stop serving, and remove the temporary data directory the emulator made (a
        ``data_dir=`` it was given stays), even when stopping the server fails."""
        try:
            self.server.stop()
        finally:
            self.app.close()


def start(
    vendor: str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    faults: Iterable[Mapping[str, Any]] = (),
    chaos: float | Mapping[str, Any] | None = None,
    fault_seed: int = 0,
    **options: Any,
) -> Emulator:
    """Start ``vendor``'s emulator in a background thread (stop it with ``.stop()``).

    Args:
        vendor: ``"brightdata"``, ``"mytracker"``, ``"woosmap"`` or ``"algolia"``.
        port: ``0`` for a free port.
        host: the interface to listen on.
        faults: faults armed from the start, e.g. ``[{"kind": "status", "path": "/progress/",
            "status": 503, "times": 2}]`` (see :mod:`dataferry.emulator.faults`).
        chaos: random faults from the start: the rate (``0.1``), or the settings of
            :meth:`~dataferry.emulator.faults.Faults.chaos` (``{"rate": 0.1, "kinds": [...]}``).
        fault_seed: the seed of ``chaos`` (unless its settings hold one).
        **options: the emulator's settings (timings, sizes, ``rate_limits=False``...).

    Example:
        >>> emu = start("brightdata", chaos=0.2, fault_seed=7)
        >>> emu.faults.injected
        {}
        >>> emu.stop()
    """
    app = app_class(vendor)(**options)
    try:
        app.faults.arm(faults)
        if chaos is not None:
            settings = {"rate": chaos} if isinstance(chaos, (int, float)) else dict(chaos)
            app.faults.chaos(**{"seed": fault_seed, **settings})
        server = ServerThread(app, host=host, port=port)
    except BaseException:
        app.close()  # nothing was served: the data directory goes at once
        raise
    app.base_url = server.url
    server.start()
    return Emulator(vendor, server.url, app.credentials(), app, server)


@contextlib.contextmanager
def serve(vendor: str, **options: Any) -> Iterator[Emulator]:
    """Run ``vendor``'s emulator for the duration of a ``with`` block (see :func:`start`)."""
    emu = start(vendor, **options)
    try:
        yield emu
    finally:
        emu.stop()
