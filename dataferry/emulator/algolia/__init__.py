"""Algolia Ingestion API v1, emulated: authentications, destinations, sources (validate,
discover), tasks (run, enable, disable), runs and their events, with pagination, filters,
sorting, the documented rate limits and answers shaped like the official spec
(``specs/algolia-ingestion/pre-v2-2024-07/ingestion.yml``).

Runs unfold over time (``start_after``, ``event_interval``) and succeed or fail as their
source asks (see :mod:`dataferry.emulator.algolia.runs`): a source whose URL or name holds
``critical`` fails critically, ``errors=P`` fails P % of the record batches.

Emulator-only behaviour, documented where the API is silent:

* the credentials are ``app_id`` / ``api_key``; ``search_key`` is a valid key without the
  write ACL (every call answers 403 "Method not allowed with this API key");
* a run asked for while another run of the task is in progress is ``skipped``
  (``reasonCode: blocking``), and so is a run of a disabled task (``blocking`` too: the pre-v2
  ``discarded`` is gone from today's ``RunReasonCode``);
* a run in progress carries no ``outcome`` (today's ``RunOutcome`` has no ``processing``);
* after 5 consecutive critical runs a task is disabled (as Algolia documents);
* authentication secrets never come back: the spec types them as strings yet documents them
  as ``null``, so the emulator leaves them out;
* array filters are accepted comma-joined (``type=a,b``) and repeated (``type=a&type=b``);
* rate limits answer 429 ``{"message": "Too Many Requests"}`` with ``Retry-After`` (an HTML
  page with ``html_429=True``, as from a proxy); ``rate_limits=False`` switches them off;
* tests reach the state directly: ``app.store``, ``app.runs``, ``app.faults``.

The package: :mod:`~.app` (the emulator: settings, keys, rate limits), :mod:`~.routes` (the URL
map), :mod:`~.state` (the stores), :mod:`~.resources` (the four resources as a table) read by
the generic handlers of :mod:`~.crud`, :mod:`~.sources` and :mod:`~.tasks` (the other
handlers), :mod:`~.runs` (how a run unfolds), :mod:`~.rules` (what a body may hold),
:mod:`~.query` (reading filters and pages), :mod:`~.cron` and :mod:`~.data` (the seed).

Example::

    from dataferry import algolia, emulator

    emu = emulator.start("algolia", event_interval=0.01)
    ing = algolia.Ingestion(**emu.client_kwargs())
    ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f").wait()
"""

from __future__ import annotations

from dataferry.emulator.algolia.app import API_KEY, APP_ID, SEARCH_KEY, AlgoliaEmulator
from dataferry.emulator.algolia.data import EXAMPLE_TASK_ID
from dataferry.emulator.algolia.runs import Timing

__all__ = ["API_KEY", "APP_ID", "EXAMPLE_TASK_ID", "SEARCH_KEY", "AlgoliaEmulator", "Timing"]
