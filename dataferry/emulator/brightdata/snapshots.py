"""The Bright Data Datasets API v3 handlers: trigger, progress, snapshot download in parts
(``format``, ``compress``, ``batch_size``, ``part``, ``/parts``), input, cancel, the run log and
the snapshot list, with the API's validation errors verbatim."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.brightdata.data import DatasetInfo
from dataferry.emulator.brightdata.state import BrightDataState, Snapshot, echoed, flag, iso, seed_of
from dataferry.emulator.data import RecordSource, encode, gzip_bytes

MIN_BATCH_SIZE = 1000
"""Smallest ``batch_size`` the API accepts."""

FORMATS = ("json", "ndjson", "jsonl", "csv")
"""The download formats."""

RUNNING_JOBS_MESSAGE = (
    "You have too many running jobs for this dataset. Please wait until some of them finish or "
    "consider combining multiple inputs into a single request. Running jobs: {running}>={limit}"
)


class SnapshotHandlers(BrightDataState):
    """``/datasets/v3/trigger``, ``/progress``, ``/snapshot``, ``/snapshots`` and ``/log``."""

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, request: Request) -> Response:
        q = request.args
        dataset_id = q.get("dataset_id")
        if not dataset_id:
            return self.error(400, "dataset missing")
        dataset = self.datasets.get(dataset_id)
        if dataset is None:
            return self.error(404, "dataset does not exist")
        if not dataset.allowed:
            return self.error(400, "This dataset is not allowed for API")
        if not dataset.ready:
            return self.error(400, "This dataset is not ready yet")
        problems = self._validate_trigger_query(q)
        if problems:
            return self.json({"validation_errors": problems}, 400)
        inputs, refusal = self._read_inputs(request)
        if refusal is not None:
            return refusal
        assert inputs is not None
        if not inputs:
            return self.error(400, "No data to trigger")
        if len(inputs) < dataset.min_inputs:
            return self.error(400, f"Should be at least {dataset.min_inputs} inputs")
        problems = self._validate_inputs(inputs, q)
        if problems:
            return self.json({"validation_errors": problems}, 400)
        now = self.now()
        with self.lock:
            running = self._running(dataset_id, now)
            if running >= self.jobs_limit:
                return self.error(429, RUNNING_JOBS_MESSAGE.format(running=running, limit=self.jobs_limit))
            sid = self.new_id("s_")
            snap = Snapshot(
                sid,
                dataset_id,
                now,
                inputs,
                dict(q.items()),
                self._source(dataset, sid, inputs, q),
                self.start_after,
                self.ready_after,
                fail_message=self._fail_message(inputs),
                output_fields=[f for f in q.get("custom_output_fields", "").split("|") if f] or None,
            )
            self.snapshots[sid] = snap
        return self.json({"snapshot_id": sid})

    def _fail_message(self, inputs: list[dict[str, Any]]) -> str | None:
        """The ``emulator_fail`` of the inputs; with ``emulator_fail_first: N``, only the first N
        snapshots triggered with that message fail (a passing trouble that a new trigger clears)."""
        message = next((str(i["emulator_fail"]) for i in inputs if i.get("emulator_fail")), None)
        first = next((int(i["emulator_fail_first"]) for i in inputs if i.get("emulator_fail_first")), None)
        if message is None or first is None:
            return message
        seen = self.failed_so_far.get(message, 0)
        self.failed_so_far[message] = seen + 1
        return message if seen < first else None

    def _validate_trigger_query(self, q: Any) -> list[str]:
        problems = []
        for name in ("limit_per_input", "limit_multiple_results"):
            if name in q:
                try:
                    if float(q[name]) < 1:
                        raise ValueError
                except ValueError:
                    problems.append(f"{name} must be a number greater than or equal to 1")
        if "type" in q and q["type"] != "discover_new":
            problems.append("type must be equal to one of the allowed values: discover_new")
        if q.get("type") == "discover_new" and not q.get("discover_by"):
            problems.append("discover_by is required when type=discover_new")
        if "format" in q and q["format"] not in FORMATS:
            problems.append(f"format must be equal to one of the allowed values: {', '.join(FORMATS)}")
        for name in ("include_errors", "uncompressed_webhook"):
            if name in q and q[name].lower() not in ("true", "false", "1", "0"):
                problems.append(f"{name} must be boolean")
        if q.get("endpoint") and not q["endpoint"].startswith(("http://", "https://")):
            problems.append("endpoint must be a valid URL")
        return problems

    def _read_inputs(self, request: Request) -> tuple[list[dict[str, Any]] | None, Response | None]:
        ctype = request.mimetype
        if ctype == "multipart/form-data":
            upload = request.files.get("data")
            if upload is None:
                return None, self.error(400, "Invalid attachments")
            text = upload.read().decode("utf-8-sig")
            return [dict(row) for row in csv.DictReader(io.StringIO(text))], None
        if ctype == "text/csv":
            text = request.get_data(as_text=True)
            return [dict(row) for row in csv.DictReader(io.StringIO(text))], None
        try:
            value = json.loads(request.get_data() or b"null")
        except ValueError:
            return None, self.json({"validation_errors": ["Request body must be a valid JSON array"]}, 400)
        if value is None:
            return [], None
        if isinstance(value, dict) and isinstance(value.get("input"), list):
            value = value["input"]
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            return None, self.json({"validation_errors": ["Input must be an array of objects"]}, 400)
        return value, None

    @staticmethod
    def _validate_inputs(inputs: list[dict[str, Any]], q: Any) -> list[str]:
        key = q.get("discover_by") if q.get("type") == "discover_new" else "url"
        problems = []
        for n, item in enumerate(inputs, 1):
            value = item.get(key)
            if value in (None, ""):
                problems.append(f"Input {n}: {key} is required")
            elif key == "url" and not str(value).startswith(("http://", "https://")):
                problems.append(f"Input {n}: url must be a valid URL")
        return problems[:20]

    def _source(self, dataset: DatasetInfo, sid: str, inputs: list[dict[str, Any]], q: Any) -> RecordSource:
        per_input = self._per_input(inputs)
        if "limit_per_input" in q:
            per_input = min(per_input, int(float(q["limit_per_input"])))
        slots = per_input * len(inputs)
        if "limit_multiple_results" in q:
            slots = min(slots, int(float(q["limit_multiple_results"])))
        if self.total_records is not None:
            slots = self.total_records
        seed = seed_of(sid) if self.fixed_seed is None else self.fixed_seed
        return RecordSource(dataset.kind, seed, slots, echoed(inputs), include_errors=flag(q.get("include_errors")))

    # -- progress / download ---------------------------------------------------------------------
    def progress(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        status = snap.status(self.now())
        body: dict[str, Any] = {"snapshot_id": sid, "dataset_id": snap.dataset_id, "status": status}
        if status == "failed":
            body["error_message"] = snap.fail_message
        return self.json(body)

    def _download_params(
        self, request: Request, snap: Snapshot, *, with_part: bool
    ) -> tuple[dict[str, Any] | None, list[str]]:
        q = request.args
        problems = []
        fmt = q.get("format", "json")
        if fmt not in FORMATS:
            problems.append(f"format must be equal to one of the allowed values: {', '.join(FORMATS)}")
        batch = None
        if "batch_size" in q:
            try:
                batch = int(q["batch_size"])
                if batch < MIN_BATCH_SIZE:
                    problems.append(f"batch_size must be greater than or equal to {MIN_BATCH_SIZE}")
            except ValueError:
                problems.append("batch_size must be an integer")
        part = None
        if with_part and "part" in q:
            if batch is None:
                problems.append("part requires batch_size")
            else:
                try:
                    part = int(q["part"])
                except ValueError:
                    problems.append("part must be an integer")
        if problems:
            return None, problems
        total = len(snap.source)
        count = 1 if batch is None else max(1, math.ceil(total / batch))
        if part is not None and not 1 <= part <= count:
            return None, [f"part must be between 1 and {count}"]
        return {
            "format": fmt,
            "compress": flag(q.get("compress")),
            "batch": batch,
            "part": part or 1,
            "parts": count,
        }, []

    def _not_downloadable(self, snap: Snapshot, *, for_download: bool) -> Response | None:
        now = self.now()
        status = snap.status(now)
        if status in ("starting", "running"):
            if for_download:
                return self.json({"status": status, "message": "Snapshot is not ready yet, try again in 10s"}, 202)
            return self.error(400, "Snapshot is not ready")
        if status == "failed":
            if snap.fail_message == "Snapshot is empty":
                return self.error(400, "Snapshot is empty")
            return self.error(400, "Snapshot is not ready")
        if status == "canceled":
            return self.error(400, "Snapshot is not ready")
        if for_download and now - snap.ready_at() < self.building_after_ready:
            return self.json({"status": "building", "message": "Snapshot is building, try again in 10s"}, 202)
        if snap.expired:
            return self.error(400, "Snapshot is expired")
        if len(snap.source) == 0:
            return self.error(400, "Snapshot is empty")
        return None

    def download(self, request: Request, sid: str) -> Response:
        snap, params, refusal = self._downloadable(request, sid, for_download=True)
        if refusal is not None:
            return refusal
        assert snap is not None and params is not None
        if self.fault(request, "expire") is not None:
            return self.error(400, "Snapshot is expired")
        fmt, compress, batch, part = params["format"], params["compress"], params["batch"], params["part"]
        start = 0 if batch is None else (part - 1) * batch
        count = None if batch is None else batch
        name = f"{_content_key(snap)}/{fmt}-b{batch or 0}-p{part}{'.gz' if compress else ''}"

        def build() -> bytes:
            data = encode([self._select(snap, piece) for piece in snap.source.pieces(start, count)], fmt)
            return gzip_bytes(data) if compress else data

        path = self.files.get(name, build)
        ctype = (
            "application/gzip"
            if compress
            else {
                "csv": "text/csv; charset=utf-8",
                "json": "application/json; charset=utf-8",
            }.get(fmt, "application/x-ndjson; charset=utf-8")
        )
        return self.send_file(request, path, ctype)

    def parts(self, request: Request, sid: str) -> Response:
        _, params, refusal = self._downloadable(request, sid, for_download=False)
        if refusal is not None:
            return refusal
        assert params is not None
        return self.json({"parts": params["parts"]})

    def _downloadable(
        self, request: Request, sid: str, *, for_download: bool
    ) -> tuple[Snapshot | None, dict[str, Any] | None, Response | None]:
        """The snapshot and the download parameters (``part`` too ``for_download``), or the refusal."""
        snap = self._get(sid)
        if snap is None:
            return None, None, self.error(404, "Snapshot does not exist")
        params, problems = self._download_params(request, snap, with_part=for_download)
        if problems:
            return None, None, self.json({"validation_errors": problems}, 400)
        return snap, params, self._not_downloadable(snap, for_download=for_download)

    def input(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        if not snap.inputs:
            return self.error(400, "Snapshot input does not exist")
        names: dict[str, None] = {}
        for row in snap.inputs:
            names.update(dict.fromkeys(row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(names), lineterminator="\n")
        writer.writeheader()
        for row in snap.inputs:
            writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()})
        return self.text(out.getvalue(), content_type="text/csv; charset=utf-8")

    def cancel(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        with self.lock:
            if snap.status(self.now()) not in ("starting", "running"):
                return self.error(400, "Snapshot is not running")
            snap.cancelled = True
        return self.text("OK")

    def log(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        now = self.now()
        params = {k: ("***" if k == "auth_header" else v) for k, v in snap.params.items()}
        return self.json(
            {
                "id": snap.id,
                "created": iso(snap.created),
                "status": snap.status(now),
                "dataset_id": snap.dataset_id,
                "dataset_name": self.datasets.get(snap.dataset_id, DatasetInfo("", "")).name,
                "dataset_size": len(snap.source),
                "inputs_count": len(snap.inputs or []),
                "trigger": {"type": snap.trigger_type, "params": params},
                "duration": round(min(now - snap.created, snap.ready_after), 1),
            }
        )

    # -- list -------------------------------------------------------------------------------------
    def snapshot_list(self, request: Request) -> Response:
        q = request.args
        problems = []
        if not q.get("dataset_id"):
            problems.append("dataset_id is required")
        try:
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", 1000))
            if skip < 0:
                problems.append("skip must be greater than or equal to 0")
            if not 1 <= limit <= 5000:
                problems.append("limit must be between 1 and 5000")
        except ValueError:
            problems.append("skip and limit must be integers")
            skip, limit = 0, 0
        status = q.get("status")
        if status and status not in ("starting", "running", "ready", "failed"):
            problems.append("status must be equal to one of the allowed values: starting, running, ready, failed")
        trigger_type = q.get("trigger_type", "ALL")
        if trigger_type not in ("ALL", "CP", "API"):
            problems.append("trigger_type must be equal to one of the allowed values: ALL, CP, API")
        dates = {}
        for name in ("from_date", "to_date"):
            if q.get(name):
                try:
                    dates[name] = datetime.strptime(q[name][:10], "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
                except ValueError:
                    problems.append(f"{name} must be a date (YYYY-MM-DD)")
        if problems:
            return self.json({"validation_errors": problems}, 400)
        now = self.now()
        rows = []
        for s in sorted(self.snapshots.values(), key=lambda s: s.created, reverse=True):
            st = s.status(now)
            if s.dataset_id != q["dataset_id"] or (status and st != status):
                continue
            if trigger_type != "ALL" and s.trigger_type != trigger_type:
                continue
            if "from_date" in dates and s.created < dates["from_date"]:
                continue
            if "to_date" in dates and s.created >= dates["to_date"] + 86400:
                continue
            rows.append(
                {
                    "id": s.id,
                    "created": iso(s.created),
                    "status": st,
                    "dataset_id": s.dataset_id,
                    "dataset_size": len(s.source) if st == "ready" else 0,
                    "trigger": {"type": s.trigger_type},
                }
            )
        return self.json(rows[skip : skip + limit])


def _content_key(snap: Snapshot) -> str:
    """A name for the snapshot's data: equal data, equal name (files are shared)."""
    src = snap.source
    ident = json.dumps(
        [src.kind, src.seed, src.slots, src.inputs, src.include_errors, snap.output_fields], sort_keys=True, default=str
    )
    return hashlib.sha256(ident.encode()).hexdigest()[:24]
