"""Bright Data, emulated: the Datasets API v3 (trigger, progress, snapshot download in parts,
input, cancel, deliver + delivery status, the snapshot list and the run log) and the collectors
(DCA: trigger a batch, fetch its dataset).

Behaviour follows ../shared/seeds/brightdata-datasets-v3-errors.txt and the endpoint specs:
the same paths, query parameters, status values and error messages (verbatim). Snapshots
move ``starting`` → ``running`` → ``ready`` over configurable seconds.

Emulator-only controls (never sent by dataferry itself):

* an input object may carry ``emulator_fail: "<message>"`` (the snapshot fails with that
  ``error_message``; with ``emulator_fail_first: N`` as well, only the first N snapshots triggered
  with that message fail, as after a passing trouble) or ``emulator_records: N`` (records per input);
* a delivery whose target (bucket, container, endpoint, path, topic or database) contains
  ``fail`` ends ``failed``;
* tests reach the state directly: ``app.snapshots``, ``app.expire(id)``, ``app.faults`` (an
  ``expire`` fault answers one snapshot download "Snapshot is expired", as after 16 days).

The collectors (DCA) are described in :mod:`~dataferry.emulator.brightdata.dca`.

The package: :mod:`~.app` (the emulator: settings, token, what ``dataferry emulate`` prints),
:mod:`~.routes` (the URL map), :mod:`~.state` (snapshots, deliveries, collector batches and
their stores), :mod:`~.data` (the datasets and collectors), and the handlers:
:mod:`~.snapshots`, :mod:`~.delivery` and :mod:`~.dca`.
"""

from __future__ import annotations

from dataferry.emulator.brightdata.app import TOKEN, BrightDataEmulator
from dataferry.emulator.brightdata.data import COLLECTORS, DATASETS, CollectorInfo, DatasetInfo

__all__ = ["COLLECTORS", "DATASETS", "TOKEN", "BrightDataEmulator", "CollectorInfo", "DatasetInfo"]
