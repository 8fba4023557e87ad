"""myTracker Export API (raw data), emulated: create.json, get.json, cancel.json and the file
downloads, all signed with HMAC-SHA1, with myTracker's quotas and its ``{code, message, data}``
envelope (the HTTP status and the JSON ``code`` always agree here).

Behaviour follows ../shared/seeds/mytracker-raw-export-get.txt and the myTracker section of
../shared/api-notes.md:

* every request, downloads included, must carry ``Authorization: AuthHMAC <id>:<signature>``
  over ``METHOD & pct(full URL) & pct(body)``; anything else is answered 403 "Access denied";
* ``create.json`` takes its parameters in the query string (as the official Python client
  sends them) or in a form body (as the PHP client does), multi-value parameters as ``1,2``
  or ``idApp[]=1&idApp[]=2``; it answers ``{"idRawExport": "N"}``;
* an export is ``In progress`` for ``steps`` steps of ``step_seconds`` each, its percentage
  rising (0%, 25%, 50%, 75% by default) and ``isCancellable`` true below ``cancellable_below``,
  then ``Success!`` with one gzip CSV file per ``rows_per_file`` rows, each with a header row of
  exactly the requested selectors and unix-second timestamps;
* file links expire after ``link_ttl`` seconds; a ``get.json`` of a finished export issues new
  links when the current ones have less than :data:`REISSUE_MARGIN` seconds left; a dead link
  is answered 404 (the documentation does not say what myTracker answers);
* the per-user quotas (10/s, 100/min, 1000/h), the per-IP ones (100/s, 1000/min), the error
  quota (60 error answers a minute per client address, then blocked until the window ends) and
  the unauthorised one (10/s) answer 429
  with the documented quota list (``resetInSecond``); ``rate_limits=False`` switches them off.

Emulator-only controls (never sent by dataferry itself). The failure statuses are chosen by
the request, through these ``idApp`` values (mixed with real app ids as you like):

* ``9001`` … ``9008``: the first 1 … 8 exports created with exactly these parameters end
  ``Error occurred`` (so re-creating them eventually succeeds); ``9009``: every one does;
* ``9100``: ``User error occurred`` "Too many lines in one export"; ``9101``: "Too much export
  data" (an export with more than ``max_rows`` rows ends so anyway);
* ``9200``: the export ends ``Canceled by user`` (as if cancelled in the web interface).

Tests also reach the state directly: ``app.exports``, ``app.rows(id)`` (the rows an export
serves), ``app.expire_links(id)``, ``app.advance(seconds)`` (move the emulator's clock),
``app.faults`` (the ``expire`` fault makes a download answer the dead-link 404; chaos draws it
too, as the client survives it by asking ``get.json`` again).

The package: :mod:`~.app` (the emulator: settings, credentials), :mod:`~.routes` (the URL map),
:mod:`~.state` (exports, links, the clock, the envelope), :mod:`~.auth` (signing and quotas),
:mod:`~.params` (``create.json``'s parameters), :mod:`~.exports` (the handlers) and
:mod:`~.data` (the dictionaries and the synthetic rows).
"""

from __future__ import annotations

from dataferry.emulator.mytracker.app import API_USER_ID, SECRET_KEY, MyTrackerEmulator
from dataferry.emulator.mytracker.auth import DEFAULT_QUOTAS, sign
from dataferry.emulator.mytracker.data import EVENTS, SELECTORS
from dataferry.emulator.mytracker.params import ParamError

__all__ = [
    "API_USER_ID",
    "DEFAULT_QUOTAS",
    "EVENTS",
    "SECRET_KEY",
    "SELECTORS",
    "MyTrackerEmulator",
    "ParamError",
    "sign",
]
