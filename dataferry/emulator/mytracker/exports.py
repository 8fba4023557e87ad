"""The myTracker export handlers: ``create.json`` (the outcome chosen by the request's
``idApp``), ``get.json`` (progress, then the file links, issued again when they run out),
``cancel.json``, and the gzip CSV files behind the links (a dead link answers 404)."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import pyarrow as pa
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Request, Response

from dataferry.emulator.data import encode, gzip_bytes
from dataferry.emulator.mytracker.data import generate
from dataferry.emulator.mytracker.params import ParamError, parse
from dataferry.emulator.mytracker.state import MyTrackerState, RawExport

ERROR_APPS = range(9001, 9010)
"""``idApp`` 9001–9008: the first N exports with these parameters end "Error occurred"; 9009: all do."""

ALWAYS_ERROR_APP = 9009
"""``idApp`` whose exports always end "Error occurred"."""

USER_ERROR_APPS = {9100: "Too many lines in one export", 9101: "Too much export data"}
"""``idApp`` values whose exports end "User error occurred" with this ``errorMessage``."""

CANCEL_APP = 9200
"""``idApp`` whose exports end "Canceled by user"."""

REISSUE_MARGIN = 60.0
"""A finished export's get.json issues new links when the current ones have less time left."""

GENERATE_LIMIT = 5_000_000
"""Rows above which an export is refused as "Too much export data" without generating it."""

_NAME = re.compile(r"^(\d+)\.([A-Za-z]+)\.([0-9a-f]{32})\.(\d+)\.csv\.gz$")


class ExportHandlers(MyTrackerState):
    """``/api/raw/v1/export/create.json``, ``get.json``, ``cancel.json`` and ``/storage/download/raw``."""

    def create(self, request: Request) -> Response:
        q = CombinedMultiDict([request.args, request.form])
        try:
            spec = parse(q, self.now())
        except ParamError as exc:
            return self.error(400, str(exc))
        apps = spec["idApp"]
        fingerprint = tuple(sorted(f"{k}={','.join(v)}" for k, v in spec["wire"].items()))
        with self.lock:
            attempt = self._attempts[fingerprint] = self._attempts.get(fingerprint, 0) + 1
            outcome, message, table = self._outcome(spec, apps, attempt)
            export_id = str(next(self._ids))
            files = max(1, math.ceil(table.num_rows / self.rows_per_file)) if table is not None else 1
            self.exports[export_id] = RawExport(
                export_id,
                self.api_user_id,
                spec["event"],
                spec["selectors"],
                table,
                self.now(),
                outcome,
                message,
                files=files,
                params=spec["wire"],
            )
        return self.ok({"idRawExport": export_id})

    def _outcome(self, spec: dict[str, Any], apps: list[int], attempt: int) -> tuple[str, str | None, pa.Table | None]:
        for app in apps:
            if app == ALWAYS_ERROR_APP or (app in ERROR_APPS and attempt <= app - 9000):
                return "error", None, None
            if app in USER_ERROR_APPS:
                return "user_error", USER_ERROR_APPS[app], None
            if app == CANCEL_APP:
                return "cancelled", None, None
        days = (spec["end"] - spec["start"]) / 86400 + 1
        if days * self.rows_per_day > GENERATE_LIMIT:
            return "user_error", "Too much export data", None
        table = generate(spec, seed=self.seed, rows_per_day=self.rows_per_day)
        if table.num_rows > self.max_rows:
            return "user_error", "Too many lines in one export", None
        return "success", None, table

    # -- get / cancel ------------------------------------------------------------------------------
    def _find(self, request: Request) -> tuple[RawExport | None, Response | None]:
        value = (request.args.get("idRawExport") or request.form.get("idRawExport") or "").strip()
        if not value.isdigit():
            return None, self.error(400, "The idRawExport parameter is required and must be an integer")
        exp = self.exports.get(str(int(value)))
        if exp is None or exp.user != self.api_user_id:
            return None, self.error(404, "Raw export request not found")
        return exp, None

    def status_of(self, exp: RawExport, now: float) -> tuple[str, float]:
        """``(status, progress fraction)`` of an export at ``now``."""
        if exp.cancelled_at is not None:
            return "Canceled by user", 1.0
        age = now - exp.created
        step = self.steps if self.step_seconds <= 0 else int(age // self.step_seconds)
        if step < self.steps:
            return "In progress", step / self.steps
        return {
            "success": "Success!",
            "error": "Error occurred",
            "user_error": "User error occurred",
            "cancelled": "Canceled by user",
        }[exp.outcome], 1.0

    def get(self, request: Request) -> Response:
        exp, refusal = self._find(request)
        if refusal is not None:
            return refusal
        assert exp is not None
        now = self.now()
        status, fraction = self.status_of(exp, now)
        data: dict[str, Any] = {"idRawExport": exp.id, "status": status}
        if status == "In progress":
            data["progress"] = f"{round(fraction * 100)}%"
            data["isCancellable"] = fraction < self.cancellable_below
        elif status == "User error occurred":
            data["errorMessage"] = exp.error_message
        elif status == "Success!":
            data["files"] = self._links(exp, now)
        return self.ok(data)

    def _links(self, exp: RawExport, now: float) -> list[dict[str, str]]:
        with self.lock:
            if not exp.token or exp.links_expire - now < REISSUE_MARGIN:
                exp.issued += 1
                exp.token = hashlib.md5(f"{self.seed}:{exp.id}:{exp.issued}".encode()).hexdigest()
                exp.links_expire = now + self.link_ttl
                self.tokens[exp.token] = (exp.id, exp.links_expire)
            root = (self.storage_url or self.base_url).rstrip("/")
            return [
                {
                    "link": f"{root}/storage/download/raw/{exp.id}.{exp.event}.{exp.token}.{k}.csv.gz",
                    "timestampExpires": str(int(exp.links_expire)),
                }
                for k in range(exp.files)
            ]

    def cancel(self, request: Request) -> Response:
        exp, refusal = self._find(request)
        if refusal is not None:
            return refusal
        assert exp is not None
        with self.lock:
            status, fraction = self.status_of(exp, self.now())
            if status != "In progress":
                return self.error(400, "This RawExport can not be cancel (it's completed)")
            if fraction >= self.cancellable_below:
                return self.error(400, "This RawExport can not be cancel")
            exp.cancelled_at = self.now()
        return self.ok({"idRawExport": exp.id, "info": "Canceled"})

    # -- files -----------------------------------------------------------------------------------
    def download(self, request: Request, name: str) -> Response:
        m = _NAME.match(name)
        known = self.tokens.get(m.group(3)) if m else None
        if m is None or known is None or known[0] != m.group(1):
            return self.error(404, "File not found")
        exp = self.exports[known[0]]
        k = int(m.group(4))
        if self.now() >= known[1] or k >= exp.files or self.fault(request, "expire") is not None:
            return self.error(404, "File not found or the link has expired")
        start = k * self.rows_per_file

        def build() -> bytes:
            assert exp.table is not None
            return gzip_bytes(encode(exp.table.slice(start, self.rows_per_file), "csv"))

        path = self.files.get(f"{exp.id}/part-{k:05d}.csv.gz", build)
        return self.send_file(request, path, "application/gzip")
