"""Woosmap Datasets API, emulated: dataset CRUD, imports that move ``fetch`` → ``import`` over
time with log entries at each level, the import status, the reimport hook and feature queries.

Behaviour follows ../shared/specs/woosmap-datasets/datasets-only.extracted.openapi3.json and
../shared/seeds/woosmap-dataset-status.txt: the same paths (list and create with or without the
trailing slash), the spec's response shapes (every answer validates against it), its error
bodies (``{"detail": str}`` for 401/402/403, ``{"details": str}`` for 404/409/429, FastAPI's
``{"detail": [{loc, msg, type}]}`` for 422) and its rate limits per endpoint and key, answered
with 429 and a ``Retry-After`` header.

Keys (printed by ``dataferry emulate --vendor woosmap``):

* ``private_key`` — a private key with write permission, as query ``private_key=`` or header
  ``X-Api-Key``;
* ``read_only_key`` — a private key without write permission: feature queries only, 403 on
  every management endpoint;
* ``no_quota_key`` — a key whose project is out of free quota: 402 everywhere;
* ``public_key`` — a ``woos-`` public key (query ``key=``), feature queries only.

Emulator-only controls (never sent by dataferry itself): imports of a dataset whose URL
contains ``fail-fetch`` fail while fetching, those of one whose URL contains ``fail-import``
fail while importing, each with ``error`` entries. Tests reach the state directly:
``app.datasets``, ``app.throttled``, ``app.faults``.

The package: :mod:`~.app` (the emulator: settings, keys), :mod:`~.routes` (the URL map and
rate groups), :mod:`~.state` (datasets, import runs, rate windows, error bodies),
:mod:`~.validation` (FastAPI-style checks), the handlers :mod:`~.datasets` and
:mod:`~.features`, :mod:`~.filters` (the where language and geometry) and :mod:`~.data`.
"""

from __future__ import annotations

from dataferry.emulator.woosmap.app import NO_QUOTA_KEY, PRIVATE_KEY, PUBLIC_KEY, READ_ONLY_KEY, WoosmapEmulator
from dataferry.emulator.woosmap.filters import parse_geometry, parse_where, select
from dataferry.emulator.woosmap.state import RATE_LIMITS

__all__ = [
    "NO_QUOTA_KEY",
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "RATE_LIMITS",
    "READ_ONLY_KEY",
    "WoosmapEmulator",
    "parse_geometry",
    "parse_where",
    "select",
]
