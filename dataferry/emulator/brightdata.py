"""Bright Data Datasets API v3, emulated: trigger, progress, snapshot download in parts, input,
cancel, deliver + delivery status, the snapshot list and the run log.

Behaviour follows ../shared/seeds/brightdata-datasets-v3-errors.txt and the endpoint specs:
the same paths, query parameters, status values and error messages (verbatim). Snapshots
move ``starting`` → ``running`` → ``ready`` over configurable seconds.

Emulator-only controls (never sent by dataferry itself):

* an input object may carry ``emulator_fail: "<message>"`` (the snapshot fails with that
  ``error_message``) or ``emulator_records: N`` (records per input);
* a delivery whose target (bucket, container, endpoint, path, topic or database) contains
  ``fail`` ends ``failed``;
* tests reach the state directly: ``app.snapshots``, ``app.expire(id)``, ``app.faults`` (an
  ``expire`` fault answers one snapshot download "Snapshot is expired", as after 16 days).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import random
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.app import EmulatorApp
from dataferry.emulator.brightdata_dca import DcaEmulatorMixin
from dataferry.emulator.data import FileCache, RecordSource, encode, gzip_bytes

TOKEN = "emulator-brightdata-token-0001"
"""The API token the Bright Data emulator accepts by default."""

MIN_BATCH_SIZE = 1000
"""Smallest ``batch_size`` the API accepts."""

FORMATS = ("json", "ndjson", "jsonl", "csv")

RUNNING_JOBS_MESSAGE = (
    "You have too many running jobs for this dataset. Please wait until some of them finish or "
    "consider combining multiple inputs into a single request. Running jobs: {running}>={limit}"
)

DELIVERY_TYPES: dict[str, tuple[str, ...]] = {
    "s3": ("bucket", "credentials"),
    "gcs": ("bucket", "credentials"),
    "gcs_pubsub": ("topic_id", "credentials"),
    "azure": ("container", "credentials"),
    "sftp": ("path", "credentials"),
    "snowflake": ("database", "schema", "stage", "role", "warehouse", "credentials"),
    "webhook": (),
    "email": (),
    "build": (),
    "ali_oss": ("bucket", "credentials", "region"),
}
"""Delivery types of the spec and their required fields (besides ``type`` and ``filename``)."""


@dataclass
class DatasetInfo:
    """A dataset the emulator knows."""

    id: str
    name: str
    kind: str = "products"
    allowed: bool = True
    ready: bool = True
    min_inputs: int = 1


DATASETS = (
    DatasetInfo("gd_l1viktl72bvl7bjuj0", "Amazon products (emulated)"),
    DatasetInfo("gd_l1vikfnt1wgvvqz95w", "LinkedIn companies (emulated)"),
    DatasetInfo("gd_drift0schema0parts", "Products with schema drift across parts (emulated)", kind="drift"),
    DatasetInfo("gd_lnotallowed0000000", "A dataset that is not offered through the API", allowed=False),
    DatasetInfo("gd_lnotready000000000", "A dataset still being prepared", ready=False),
    DatasetInfo("gd_lmininputs00000000", "A dataset that needs at least 2 inputs", min_inputs=2),
)


@dataclass
class Snapshot:
    id: str
    dataset_id: str
    created: float
    inputs: list[dict[str, Any]] | None
    params: dict[str, str]
    source: RecordSource
    start_after: float
    ready_after: float
    fail_message: str | None = None
    cancelled: bool = False
    expired: bool = False
    trigger_type: str = "API"
    output_fields: list[str] | None = None

    def status(self, now: float) -> str:
        age = now - self.created
        if self.cancelled:
            return "canceled"
        if age < self.start_after:
            return "starting"
        if age < self.ready_after:
            return "running"
        return "failed" if self.fail_message else "ready"

    def ready_at(self) -> float:
        return self.created + self.ready_after


@dataclass
class Delivery:
    id: str
    snapshot_id: str
    created: float
    done_after: float
    fail: bool
    files: list[str] = field(default_factory=list)

    def status(self, now: float) -> str:
        if now - self.created < self.done_after:
            return "in_progress"
        return "failed" if self.fail else "done"


def _b36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _flag(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class BrightDataEmulator(DcaEmulatorMixin, EmulatorApp):
    """The Bright Data API on 127.0.0.1 (Datasets v3, and the DCA collectors from
    :class:`~dataferry.emulator.brightdata_dca.DcaEmulatorMixin`).

    Args:
        token: the accepted Bearer token.
        start_after: seconds a new snapshot stays ``starting``.
        ready_after: seconds until a snapshot is ``ready``.
        building_after_ready: seconds during which a ``ready`` snapshot still answers 202
            "building" to a download (the race real clients meet).
        records_per_input: records each input yields unless limited.
        total_records: a fixed record count for every new snapshot (big benchmark snapshots).
        jobs_limit: running snapshots allowed per dataset before a trigger gets 429.
        single_file_limit: records above which a single-file delivery is refused.
        delivery_after: seconds a delivery takes.
        history: pre-existing snapshots per dataset (for the snapshot list).
        fixed_seed: give every new snapshot the same data seed, so that generated files are
            reused across runs with a persistent ``data_dir`` (benchmarks).
        **kw: the DCA settings (``collect_after``, ``deadline_scale``: see
            :class:`~dataferry.emulator.brightdata_dca.DcaEmulatorMixin`) and
            :class:`~dataferry.emulator.app.EmulatorApp`'s.
    """

    vendor = "brightdata"

    def __init__(self, *, token: str = TOKEN, start_after: float = 0.3, ready_after: float = 1.5,
                 building_after_ready: float = 0.0, records_per_input: int = 25, total_records: int | None = None,
                 jobs_limit: int = 100, single_file_limit: int = 1_000_000, delivery_after: float = 1.0,
                 history: int = 2, seed: int = 7, fixed_seed: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.token = token
        self.start_after = start_after
        self.ready_after = ready_after
        self.building_after_ready = building_after_ready
        self.records_per_input = records_per_input
        self.total_records = total_records
        self.jobs_limit = jobs_limit
        self.single_file_limit = single_file_limit
        self.delivery_after = delivery_after
        self.fixed_seed = fixed_seed
        self.datasets = {d.id: d for d in DATASETS}
        self.snapshots: dict[str, Snapshot] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.files = FileCache(self.data_dir)
        self._rng = random.Random(seed)
        self._counter = itertools.count(1)
        for d in DATASETS[:2]:
            for k in range(history):
                self._seed_history(d, k)

    # -- identity ---------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, list[str], str]]:
        v3 = "/datasets/v3"
        return [
            (f"{v3}/trigger", ["POST"], "trigger"),
            (f"{v3}/progress/<sid>", ["GET"], "progress"),
            (f"{v3}/snapshot/<sid>", ["GET"], "download"),
            (f"{v3}/snapshot/<sid>/parts", ["GET"], "parts"),
            (f"{v3}/snapshot/<sid>/input", ["GET"], "input"),
            (f"{v3}/snapshot/<sid>/cancel", ["POST"], "cancel"),
            (f"{v3}/deliver/<sid>", ["POST"], "deliver"),
            (f"{v3}/delivery/<did>", ["GET"], "delivery"),
            (f"{v3}/snapshots", ["GET"], "snapshot_list"),
            (f"{v3}/log/<sid>", ["GET"], "log"),
        ] + self.dca_routes()

    def authenticate(self, request: Request, endpoint: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return self.error(401, "User authentication is required")
        if header != f"Bearer {self.token}":
            return self.error(401, "Unauthorized")
        return None

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def describe(self) -> dict[str, Any]:
        return {"datasets": {d.id: d.name for d in self.datasets.values()}, **self.dca_describe()}

    # -- state helpers ------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        ms = int(time.time() * 1000)
        tail = "".join(self._rng.choice(string.ascii_lowercase + string.digits) for _ in range(9))
        return f"{prefix}{_b36(ms)}{tail}{_b36(next(self._counter))}"

    def expire(self, snapshot_id: str) -> None:
        """Make a snapshot's data expired (as after 16 days)."""
        self.snapshots[snapshot_id].expired = True

    def records(self, snapshot_id: str) -> list[dict[str, Any]]:
        """The snapshot's records exactly as the JSON formats serve them (tests compare)."""
        snap = self.snapshots[snapshot_id]
        return [r for piece in snap.source.pieces() for r in self._select(snap, piece).to_pylist()]

    def _seed_history(self, dataset: DatasetInfo, k: int) -> None:
        sid = f"s_hist{dataset.id[-6:]}{k:03d}"
        created = self.now() - 86400 * (k + 1)
        source = RecordSource(dataset.kind, _seed_of(sid), 40, [{"url": f"https://example.com/history/{k}"}])
        self.snapshots[sid] = Snapshot(sid, dataset.id, created, None, {}, source, 0, 0,
                                       fail_message="Failed to trigger collector" if k % 2 else None,
                                       trigger_type="CP")

    def _get(self, sid: str) -> Snapshot | None:
        return self.snapshots.get(sid)

    def _running(self, dataset_id: str, now: float) -> int:
        return sum(1 for s in self.snapshots.values()
                   if s.dataset_id == dataset_id and s.status(now) in ("starting", "running"))

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
            snap = Snapshot(sid, dataset_id, now, inputs, dict(q.items()),
                            self._source(dataset, sid, inputs, q), self.start_after, self.ready_after,
                            fail_message=next((str(i["emulator_fail"]) for i in inputs if i.get("emulator_fail")), None),
                            output_fields=[f for f in q.get("custom_output_fields", "").split("|") if f] or None)
            self.snapshots[sid] = snap
        return self.json({"snapshot_id": sid})

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
        per_input = self.records_per_input
        overrides = [int(i["emulator_records"]) for i in inputs if "emulator_records" in i]
        if overrides:
            per_input = overrides[0]
        if "limit_per_input" in q:
            per_input = min(per_input, int(float(q["limit_per_input"])))
        slots = per_input * len(inputs)
        if "limit_multiple_results" in q:
            slots = min(slots, int(float(q["limit_multiple_results"])))
        if self.total_records is not None:
            slots = self.total_records
        echo = [{k: v for k, v in i.items() if not k.startswith("emulator_")} for i in inputs]
        seed = _seed_of(sid) if self.fixed_seed is None else self.fixed_seed
        return RecordSource(dataset.kind, seed, slots, echo, include_errors=_flag(q.get("include_errors")))

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

    def _download_params(self, request: Request, snap: Snapshot, *, with_part: bool) -> tuple[dict[str, Any] | None, list[str]]:
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
        return {"format": fmt, "compress": _flag(q.get("compress")), "batch": batch, "part": part or 1,
                "parts": count}, []

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
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        params, problems = self._download_params(request, snap, with_part=True)
        if problems:
            return self.json({"validation_errors": problems}, 400)
        refusal = self._not_downloadable(snap, for_download=True)
        if refusal is not None:
            return refusal
        if self.fault(request, "expire") is not None:
            return self.error(400, "Snapshot is expired")
        assert params is not None
        fmt, compress, batch, part = params["format"], params["compress"], params["batch"], params["part"]
        start = 0 if batch is None else (part - 1) * batch
        count = None if batch is None else batch
        name = f"{_content_key(snap)}/{fmt}-b{batch or 0}-p{part}{'.gz' if compress else ''}"

        def build() -> bytes:
            data = encode([self._select(snap, piece) for piece in snap.source.pieces(start, count)], fmt)
            return gzip_bytes(data) if compress else data

        path = self.files.get(name, build)
        ctype = "application/gzip" if compress else {
            "csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8",
        }.get(fmt, "application/x-ndjson; charset=utf-8")
        return self.send_file(request, path, ctype)

    def _select(self, snap: Snapshot, table: Any) -> Any:
        if not snap.output_fields:
            return table
        keep = []
        for f in snap.output_fields:
            top = f.split(".", 1)[0]
            if top in table.column_names and top not in keep:
                keep.append(top)
        return table.select(keep)

    def parts(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        params, problems = self._download_params(request, snap, with_part=False)
        if problems:
            return self.json({"validation_errors": problems}, 400)
        refusal = self._not_downloadable(snap, for_download=False)
        if refusal is not None:
            return refusal
        assert params is not None
        return self.json({"parts": params["parts"]})

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
        return self.json({
            "id": snap.id,
            "created": _iso(snap.created),
            "status": snap.status(now),
            "dataset_id": snap.dataset_id,
            "dataset_name": self.datasets.get(snap.dataset_id, DatasetInfo("", "")).name,
            "dataset_size": len(snap.source),
            "inputs_count": len(snap.inputs or []),
            "trigger": {"type": snap.trigger_type, "params": params},
            "duration": round(min(now - snap.created, snap.ready_after), 1),
        })

    # -- delivery -------------------------------------------------------------------------------
    def deliver(self, request: Request, sid: str) -> Response:
        snap = self._get(sid)
        if snap is None:
            return self.error(404, "Snapshot does not exist")
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return self.json({"validation_errors": ["Request body must be valid JSON"]}, 400)
        if not isinstance(body, dict) or not isinstance(body.get("deliver"), dict):
            return self.error(400, "Deliver options are missing")
        deliver = body["deliver"]
        problems = self._validate_delivery(deliver)
        if "notify" in request.args and not request.args["notify"].startswith(("http://", "https://")):
            problems.append("notify must be a valid URL")
        if problems:
            return self.json({"validation_errors": problems}, 400)
        batch = body.get("batch_size")
        if batch is not None and (not isinstance(batch, int) or batch < MIN_BATCH_SIZE):
            return self.error(400, f"Batch size should be at least {MIN_BATCH_SIZE}")
        status = snap.status(self.now())
        if status in ("starting", "running", "canceled") or (status == "failed" and snap.fail_message != "Snapshot is empty"):
            return self.error(400, "Snapshot is not ready")
        if snap.expired:
            return self.error(400, "Snapshot is expired")
        if len(snap.source) == 0 or snap.fail_message == "Snapshot is empty":
            return self.error(400, "Snapshot is empty")
        if batch is None and len(snap.source) > self.single_file_limit:
            return self.error(400, "Snapshot is too big for single file delivery")
        target = " ".join(str(deliver.get(k, "")) for k in ("bucket", "container", "endpoint", "path", "topic_id", "database"))
        did = self.new_id("d_")
        n_files = 1 if batch is None else max(1, math.ceil(len(snap.source) / batch))
        template = deliver["filename"]["template"].replace("{{snapshot_id}}", sid).replace("{[snapshot_id]}", sid)
        ext = deliver["filename"]["extension"] + (".gz" if body.get("compress") else "")
        files = [f"{template}{'' if n_files == 1 else f'_{k}'}.{ext}" for k in range(n_files)]
        with self.lock:
            self.deliveries[did] = Delivery(did, sid, self.now(), self.delivery_after, "fail" in target, files)
        return self.json({"delivery_id": did, "id": did})

    @staticmethod
    def _validate_delivery(deliver: dict[str, Any]) -> list[str]:
        problems = []
        kind = deliver.get("type")
        if kind not in DELIVERY_TYPES:
            return [f"deliver.type must be equal to one of the allowed values: {', '.join(DELIVERY_TYPES)}"]
        filename = deliver.get("filename")
        if not isinstance(filename, dict) or not filename.get("template") or not filename.get("extension"):
            problems.append("deliver.filename must have required properties template, extension")
        elif filename["extension"] not in ("json", "jsonl", "csv"):
            problems.append("deliver.filename.extension must be equal to one of the allowed values: json, jsonl, csv")
        for name in DELIVERY_TYPES[kind]:
            if deliver.get(name) in (None, "", {}):
                problems.append(f"deliver must have required property {name}")
        if kind in ("webhook", "email", "build") and not str(deliver.get("endpoint", "")).strip():
            problems.append("deliver.endpoint is required")
        creds = deliver.get("credentials")
        if kind == "s3" and isinstance(creds, dict):
            if not ({"aws-access-key", "aws-secret-key"} <= creds.keys() or {"role_arn", "external_id"} <= creds.keys()):
                problems.append("deliver.credentials must match exactly one schema in oneOf (access key or role ARN)")
        if kind == "azure" and isinstance(creds, dict):
            if "account" not in creds or ("key" in creds) == ("sas_token" in creds):
                problems.append("deliver.credentials must have account and exactly one of key, sas_token")
        if kind in ("gcs", "gcs_pubsub") and isinstance(creds, dict):
            if not {"client_email", "private_key"} <= creds.keys():
                problems.append("deliver.credentials must have required properties client_email, private_key")
        if kind == "sftp" and isinstance(creds, dict) and "username" not in creds:
            problems.append("deliver.credentials must have required property username")
        if kind == "snowflake" and isinstance(creds, dict) and not {"account", "user", "password"} <= creds.keys():
            problems.append("deliver.credentials must have required properties account, user, password")
        if kind == "ali_oss" and isinstance(creds, dict) and not {"access-key", "secret-key"} <= creds.keys():
            problems.append("deliver.credentials must have required properties access-key, secret-key")
        return problems

    def delivery(self, request: Request, did: str) -> Response:
        d = self.deliveries.get(did)
        if d is None:
            return self.error(404, "Delivery does not exist")
        status = d.status(self.now())
        files = [{"filename": f, "delivery_ts": int(d.created + d.done_after)} for f in d.files] if status == "done" else []
        return self.json({"id": did, "status": status, "delivery_files": files})

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
                    dates[name] = datetime.strptime(q[name][:10], "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
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
            rows.append({"id": s.id, "created": _iso(s.created), "status": st, "dataset_id": s.dataset_id,
                         "dataset_size": len(s.source) if st == "ready" else 0,
                         "trigger": {"type": s.trigger_type}})
        return self.json(rows[skip:skip + limit])


def _content_key(snap: Snapshot) -> str:
    """A name for the snapshot's data: equal data, equal name (files are shared)."""
    src = snap.source
    ident = json.dumps([src.kind, src.seed, src.slots, src.inputs, src.include_errors, snap.output_fields],
                       sort_keys=True, default=str)
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
