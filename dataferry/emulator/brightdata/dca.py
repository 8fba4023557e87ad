"""Bright Data collectors (DCA / Scraper Studio), emulated: ``POST /dca/trigger`` and
``GET /dca/dataset``, served by :class:`~dataferry.emulator.brightdata.BrightDataEmulator`.

Wire facts follow ../shared/seeds/brightdata-dca-trigger.txt and the two DCA specs
(``Trigger_a_scraper_for_batch_collection_method``, ``Receive_batch_data``): the query
parameters, ``{collection_id, start_eta}``, 202 ``{status: "building", message: "Dataset is
not ready yet, try again in Ns"}`` while a collection runs, then 200 with a JSON array of
records that each echo their ``input``; 401 / 404 (unknown collector or collection) / 422
(inputs that do not match the collector's input schema).

Where the documents are silent the emulator makes a choice, and says so:

* One batch runs per collector at a time. ``queue_next=1`` (the default) puts a new batch
  *next* in line, right after the running one; ``queue=<label>`` appends it *after the last*
  queued batch; ``confirm_cancel=1`` cancels the running batch and starts the new one now.
  Giving more than one of the three is refused (400).
* ``deadline=<N>h|m|s`` counts from the trigger. A batch still running (or still queued) at
  its deadline is terminated; its dataset holds what it collected by then (possibly ``[]``).
* A cancelled batch answers 200 ``{status: "canceled", message}`` instead of records.
* While queued the 202 body says ``status: "queued"``; while running, ``"building"``.
* ``no_downloads=1`` leaves each record's ``image_file`` (the downloaded media) null.
* Every attempted page is a record: one in fifty is a dead page whose ``error`` and
  ``error_code`` say so (the other fields null), so a batch has exactly
  ``inputs × records_per_input`` records.

Emulator-only controls: an input may carry ``emulator_records: N`` (records per input, ``0``
gives an empty dataset); tests reach the state through ``app.collections`` and
``app.expire_collection(id)``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

import pyarrow as pa
from werkzeug.wrappers import Request, Response

from dataferry.emulator.brightdata.data import CollectorInfo
from dataferry.emulator.brightdata.state import BrightDataState, CollectionRun, echoed, iso, seed_of
from dataferry.emulator.data import RecordSource, encode

COLLECT_AFTER = 3.0
"""Seconds one emulated batch takes to collect (the ``collect_after=`` setting)."""

DEADLINE_SCALE = 1.0
"""Emulator seconds per second of a ``deadline`` (the ``deadline_scale=`` setting); tests use
a small value so that ``deadline=2s`` ends a batch within a fraction of a second."""

DEADLINE_PATTERN = re.compile(r"\d+[hms]")
"""What ``deadline`` accepts: a whole number and a unit (``1h``, ``30m``, ``45s``)."""

NOT_READY_MESSAGE = "Dataset is not ready yet, try again in {wait}"
"""The 202 message (the spec's example reads ``try again in XXs``)."""

SCHEMA_MESSAGE = "Input does not match the collector's input schema"
"""The 422 message for inputs that do not fit the collector."""

BEHAVIOURS = ("queue_next", "queue", "confirm_cancel")
"""Trigger behaviours; a trigger uses exactly one (``queue_next`` when none is given)."""

_UNIT = {"h": 3600, "m": 60, "s": 1}


class DcaHandlers(BrightDataState):
    """``/dca/trigger`` and ``/dca/dataset``: one queue per collector, batches that run one at a
    time (``collect_after=`` seconds each) and end at their ``deadline`` (``deadline_scale=``).

    Example:
        >>> from dataferry import emulator
        >>> with emulator.serve("brightdata", collect_after=0.5) as emu:
        ...     print(sorted(emu.app.describe()["collectors"]))
        ['c_lq3x1ab2', 'c_lq3x5kw7', 'c_lq3x9dr4']
    """

    # -- identity ---------------------------------------------------------------------------
    def dca_describe(self) -> dict[str, Any]:
        """The collectors, for the host's ``describe()`` (``dataferry emulate`` prints them)."""
        return {
            "collectors": {
                c.id: f"{c.name}; input: {', '.join(c.fields + c.optional)}" for c in self.collectors.values()
            }
        }

    def expire_collection(self, collection_id: str) -> None:
        """Forget a collection's dataset, as Bright Data does after 16 days."""
        self.collections[collection_id].expired = True

    def collection_records(self, collection_id: str) -> list[dict[str, Any]]:
        """The records ``GET /dca/dataset`` serves for a finished collection (tests compare)."""
        with self.lock:
            run = self.collections[collection_id]
            self._advance(run.collector_id, self.now())
            return self._dca_table(run).to_pylist()

    # -- queue ------------------------------------------------------------------------------
    def _advance(self, collector_id: str, now: float) -> None:
        """Bring one collector's queue up to ``now``: finish batches, start the next ones."""
        pending = self._dca_pending.setdefault(collector_id, [])
        while True:
            rid = self._dca_running.get(collector_id)
            free_at: float | None = None
            if rid is not None:
                run = self.collections[rid]
                end, outcome = run.end_time()
                if end > now:
                    return
                run.ended, run.outcome = end, outcome
                self._dca_running[collector_id] = None
                free_at = end
            if not pending:
                return
            nxt = self.collections[pending.pop(0)]
            start = nxt.created if free_at is None else max(free_at, nxt.created)
            if nxt.deadline_at is not None and nxt.deadline_at <= start:
                nxt.ended, nxt.outcome = nxt.deadline_at, "deadline"  # its deadline passed in the queue
                continue
            nxt.started = start
            self._dca_running[collector_id] = nxt.id

    def _projected(self, run: CollectionRun) -> tuple[float, float]:
        """When ``run`` (queued or running) is expected to start and to end."""
        cid = run.collector_id
        rid = self._dca_running.get(cid)
        if rid == run.id:
            assert run.started is not None
            return run.started, run.end_time()[0]
        t = self.collections[rid].end_time()[0] if rid is not None else run.created
        for qid in self._dca_pending.get(cid, []):
            q = self.collections[qid]
            start = max(t, q.created)
            end = start + q.duration
            if q.deadline_at is not None:
                end = min(end, q.deadline_at)
            if qid == run.id:
                return start, max(start, end)
            t = max(t, end)
        return t, t + run.duration

    # -- POST /dca/trigger ------------------------------------------------------------------
    def dca_trigger(self, request: Request) -> Response:
        """``POST /dca/trigger?collector=…``: queue or start a batch."""
        q = request.args
        collector_id = q.get("collector", "")
        if not collector_id:
            return self.error(400, "collector is required")
        collector = self.collectors.get(collector_id)
        if collector is None:
            return self.error(404, "Collector not found")
        problems = self._trigger_problems(q)
        if problems:
            return self.json({"validation_errors": problems}, 400)
        inputs, refusal = self._dca_inputs(request)
        if refusal is not None:
            return refusal
        assert inputs is not None
        problems = _schema_problems(collector, inputs)
        if problems:
            return self.json({"error": SCHEMA_MESSAGE, "validation_errors": problems}, 422)

        now = self.now()
        behaviour = "confirm_cancel" if _on(q, "confirm_cancel") else "queue" if "queue" in q else "queue_next"
        deadline = q.get("deadline")
        with self.lock:
            self._advance(collector_id, now)
            jid = self.new_id("j_")
            run = CollectionRun(
                jid,
                collector_id,
                now,
                inputs,
                dict(q.items()),
                self._dca_source(collector, jid, inputs),
                self.collect_after,
                None if deadline is None else now + _seconds(deadline) * self.deadline_scale,
                _on(q, "no_downloads"),
                name=q.get("name"),
            )
            self.collections[jid] = run
            running = self._dca_running.get(collector_id)
            pending = self._dca_pending.setdefault(collector_id, [])
            if behaviour == "confirm_cancel" and running is not None:
                old = self.collections[running]
                old.ended, old.outcome, old.cancelled_by = now, "cancelled", jid
                self._dca_running[collector_id] = None
                running = None
            if running is None and (behaviour == "confirm_cancel" or not pending):
                run.started = now
                self._dca_running[collector_id] = jid
            elif behaviour == "queue_next":
                pending.insert(0, jid)
            else:
                pending.append(jid)
            start, _ = self._projected(run)
        return self.json({"collection_id": jid, "start_eta": iso(start)})

    @staticmethod
    def _trigger_problems(q: Any) -> list[str]:
        problems = []
        for name in ("queue_next", "confirm_cancel", "no_downloads"):
            if name in q and q[name].strip().lower() not in ("0", "1", "true", "false"):
                problems.append(f"{name} must be 0 or 1")
        if "queue" in q and not q["queue"].strip():
            problems.append("queue must be a non-empty string")
        chosen = [b for b in BEHAVIOURS if b in q and (b == "queue" or _on(q, b))]
        if len(chosen) > 1:
            problems.append(f"choose one trigger behaviour: {', '.join(chosen)} cannot be combined")
        if "deadline" in q and (not DEADLINE_PATTERN.fullmatch(q["deadline"]) or _seconds(q["deadline"]) <= 0):
            problems.append("deadline must be a positive number followed by h, m or s (e.g. 1h, 30m, 45s)")
        if "version" in q and q["version"] != "dev":
            problems.append("version must be equal to: dev")
        if "name" in q and not q["name"].strip():
            problems.append("name must be a non-empty string")
        return problems

    def _dca_inputs(self, request: Request) -> tuple[list[dict[str, Any]] | None, Response | None]:
        """The batch inputs from a JSON, CSV or multipart body."""
        ctype = request.mimetype
        name = ""
        if ctype == "multipart/form-data":
            upload = next(iter(request.files.values()), None)
            if upload is None:
                return None, self.error(400, "Invalid attachments")
            raw = upload.read()
            name = upload.filename or ""
            ctype = upload.mimetype or ""
        else:
            raw = request.get_data()
        is_csv = ctype in ("text/csv", "application/csv") or name.lower().endswith(".csv")
        if is_csv:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return None, self.error(400, "Input CSV must be UTF-8")
            rows = [{k: v for k, v in row.items() if k is not None} for row in csv.DictReader(io.StringIO(text))]
            return rows, None
        try:
            value = json.loads(raw or b"null")
        except ValueError:
            return None, self.error(400, "Request body must be a valid JSON array")
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            return None, self.json(
                {"error": SCHEMA_MESSAGE, "validation_errors": ["Input must be an array of objects"]}, 422
            )
        return value, None

    def _dca_source(self, collector: CollectorInfo, jid: str, inputs: list[dict[str, Any]]) -> RecordSource:
        return RecordSource(
            collector.kind, seed_of(jid), self._per_input(inputs) * len(inputs), echoed(inputs), include_errors=True
        )

    # -- GET /dca/dataset --------------------------------------------------------------------
    def dca_dataset(self, request: Request) -> Response:
        """``GET /dca/dataset?id=…``: 202 while building, then the records."""
        jid = request.args.get("id", "")
        if not jid:
            return self.error(400, "id is required")
        now = self.now()
        with self.lock:
            run = self.collections.get(jid)
            if run is None or run.expired:
                return self.error(404, "Dataset not found")
            self._advance(run.collector_id, now)
            state = run.state
            if state in ("queued", "running"):
                _, end = self._projected(run)
                status = "queued" if state == "queued" else "building"
                message = NOT_READY_MESSAGE.format(wait=_wait_text(end - now))
                return self.json({"status": status, "message": message}, 202)
            if state == "cancelled":
                return self.json(
                    {
                        "status": "canceled",
                        "message": f"Collection was cancelled: {run.cancelled_by} was triggered with confirm_cancel",
                    }
                )
        if self.fault(request, "expire") is not None:
            return self.error(404, "Dataset not found")
        path = self.files.get(f"dca/{jid}.json", lambda: encode(self._dca_table(run), "json"))
        return self.send_file(request, path, "application/json; charset=utf-8")

    def _dca_table(self, run: CollectionRun) -> pa.Table:
        """The records of a finished batch: generated rows plus the media fields."""
        kept = run.kept()
        table = run.source.table(0, kept)
        if kept == 0:
            return table.slice(0, 0)
        key = "product_id" if "product_id" in table.column_names else "id"
        ids = [str(v) for v in table.column(key).to_pylist()]
        table = table.append_column("image", pa.array([f"https://img.example.com/{i}.jpg" for i in ids]))
        files = [None if run.no_downloads else f"media/{run.id}/{i}.jpg" for i in ids]
        return table.append_column("image_file", pa.array(files, type=pa.string()))


def _on(q: Any, name: str) -> bool:
    return str(q.get(name, "")).strip().lower() in ("1", "true")


def _seconds(deadline: str) -> int:
    return int(deadline[:-1]) * _UNIT[deadline[-1]]


def _schema_problems(collector: CollectorInfo, inputs: list[dict[str, Any]]) -> list[str]:
    if not inputs:
        return ["Input must contain at least one object"]
    allowed = set(collector.fields) | set(collector.optional)
    problems = []
    for n, item in enumerate(inputs, 1):
        for name in collector.fields:
            if item.get(name) in (None, ""):
                problems.append(f"Input {n}: {name} is required")
        for name in item:
            if name not in allowed and not name.startswith("emulator_"):
                problems.append(f"Input {n}: {name} is not an input of this collector ({', '.join(sorted(allowed))})")
        records = item.get("emulator_records")
        if records is not None and not (str(records).isdigit()):
            problems.append(f"Input {n}: emulator_records must be a whole number >= 0")
        url = item.get("url")
        if "url" in collector.fields and url and not str(url).startswith(("http://", "https://")):
            problems.append(f"Input {n}: url must be a valid URL")
    return problems[:20]


def _wait_text(seconds: float) -> str:
    """``"12s"``, or ``"0.3s"`` for the emulator's sub-second timings."""
    if seconds >= 1:
        return f"{math.ceil(seconds)}s"
    return f"{max(0.1, seconds):.1f}s"
