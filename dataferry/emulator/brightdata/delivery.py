"""The Bright Data delivery handlers: deliver a snapshot to storage (S3, GCS, Azure, SFTP,
Snowflake, a webhook...) with the API's checks of each target, and the delivery status.

Emulator-only control: a delivery whose target (bucket, container, endpoint, path, topic or
database) contains ``fail`` ends ``failed``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.brightdata.snapshots import MIN_BATCH_SIZE
from dataferry.emulator.brightdata.state import BrightDataState, Delivery

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

TARGET_FIELDS = ("bucket", "container", "endpoint", "path", "topic_id", "database")
"""The fields that name where a delivery goes (one holding ``fail`` makes it fail)."""


class DeliveryHandlers(BrightDataState):
    """``/datasets/v3/deliver/{snapshot_id}`` and ``/datasets/v3/delivery/{delivery_id}``."""

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
        if status in ("starting", "running", "canceled") or (
            status == "failed" and snap.fail_message != "Snapshot is empty"
        ):
            return self.error(400, "Snapshot is not ready")
        if snap.expired:
            return self.error(400, "Snapshot is expired")
        if len(snap.source) == 0 or snap.fail_message == "Snapshot is empty":
            return self.error(400, "Snapshot is empty")
        if batch is None and len(snap.source) > self.single_file_limit:
            return self.error(400, "Snapshot is too big for single file delivery")
        target = " ".join(str(deliver.get(k, "")) for k in TARGET_FIELDS)
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
            keys = creds.keys()
            if not ({"aws-access-key", "aws-secret-key"} <= keys or {"role_arn", "external_id"} <= keys):
                problems.append("deliver.credentials must match exactly one schema in oneOf (access key or role ARN)")
        if (
            kind == "azure"
            and isinstance(creds, dict)
            and ("account" not in creds or ("key" in creds) == ("sas_token" in creds))
        ):
            problems.append("deliver.credentials must have account and exactly one of key, sas_token")
        if (
            kind in ("gcs", "gcs_pubsub")
            and isinstance(creds, dict)
            and not {"client_email", "private_key"} <= creds.keys()
        ):
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
        files = (
            [{"filename": f, "delivery_ts": int(d.created + d.done_after)} for f in d.files] if status == "done" else []
        )
        return self.json({"id": did, "status": status, "delivery_files": files})
