"""A Bright Data snapshot: the handle returned by a trigger or re-attached by id."""

from __future__ import annotations

import io
from typing import Any

from dataferry.datajob import DataJob
from dataferry.errors import InvalidArgument
from dataferry.parts import Part, normalize_format
from dataferry.providers.brightdata.delivery import Delivery, Target
from dataferry.providers.brightdata.params import DOWNLOAD_FORMATS, MIN_BATCH_SIZE, deliver_body
from dataferry.status import JobState, JobStatus, state_from

SNAPSHOT_STATES = {
    "starting": JobState.QUEUED,
    "running": JobState.RUNNING,
    "collecting": JobState.RUNNING,
    "digesting": JobState.RUNNING,
    "building": JobState.RUNNING,
    "ready": JobState.DONE,
    "failed": JobState.FAILED,
    "error": JobState.FAILED,
    "canceled": JobState.CANCELLED,
    "cancelled": JobState.CANCELLED,
}
"""Progress statuses; any other value counts as still running."""


class Snapshot(DataJob):
    """A Bright Data snapshot (a triggered collection and its data).

    Args:
        client: the :class:`~dataferry.providers.brightdata.client.Client`.
        snapshot_id: ``s_…``.
        format: download format: ``"csv"`` (default: fastest, nested values as JSON text),
            ``"ndjson"``/``"jsonl"`` (keeps nested objects) or ``"json"``.
        compress: download gzip-compressed parts.
        batch_size: records per part (≥ 1000); ``None`` for one part.
        triggered: created by this process (a 404 right after is forgiven briefly).

    Example::

        snap = bd.snapshot("s_m4x7enmven8djfqak")
        snap.wait().to_parquet("out/products.parquet")
    """

    kind = "snapshot"

    def __init__(
        self,
        client: Any,
        snapshot_id: str,
        *,
        format: str = "csv",
        compress: bool = True,
        batch_size: int | None = None,
        triggered: bool = False,
        dataset_id: str | None = None,
    ) -> None:
        super().__init__(client, snapshot_id, triggered=triggered)
        if format not in DOWNLOAD_FORMATS:
            raise InvalidArgument(f"format={format!r} is not one of {', '.join(DOWNLOAD_FORMATS)}")
        if batch_size is not None and int(batch_size) < MIN_BATCH_SIZE:
            raise InvalidArgument(f"batch_size must be at least {MIN_BATCH_SIZE}, got {batch_size}")
        self.format = format
        self.compress = compress
        self.batch_size = None if batch_size is None else int(batch_size)
        self.dataset_id = dataset_id

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.snapshot({self.id!r})"

    # -- engine hooks ----------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        body = self.client.http.get_json(f"/datasets/v3/progress/{self.id}", family="status", job_id=self.id)
        raw = str(body.get("status", ""))
        self.dataset_id = body.get("dataset_id") or self.dataset_id
        state = state_from(raw, SNAPSHOT_STATES)
        message = body.get("error_message") if state is JobState.FAILED else None
        return JobStatus(state, raw, message, detail=body)

    def _cancel_remote(self) -> None:
        self.client.http.request(
            "POST", f"/datasets/v3/snapshot/{self.id}/cancel", idempotent=False, family="control", job_id=self.id
        )

    def _query(self) -> list[tuple[str, str]]:
        q = [("format", self.format), ("compress", "true" if self.compress else "false")]
        if self.batch_size is not None:
            q.append(("batch_size", str(self.batch_size)))
        return q

    def part_count(self) -> int:
        """How many parts the download has for this format / compress / batch_size."""
        body = self.client.http.get_json(
            f"/datasets/v3/snapshot/{self.id}/parts", params=self._query(), family="status", job_id=self.id
        )
        return int(body.get("parts", 1))

    def _list_parts(self) -> list[Part]:
        fmt = normalize_format(self.format)
        gz = "gzip" if self.compress else None
        suffix = ".gz" if self.compress else ""
        query = tuple(self._query())
        if self.batch_size is None:
            return [Part(0, f"/datasets/v3/snapshot/{self.id}", fmt, gz, query, name=f"{fmt}-all.{fmt}{suffix}")]
        n = self.part_count()
        return [
            Part(
                k,
                f"/datasets/v3/snapshot/{self.id}",
                fmt,
                gz,
                (*query, ("part", str(k + 1))),
                name=f"{fmt}-b{self.batch_size}-part{k + 1:05d}.{fmt}{suffix}",
            )
            for k in range(n)
        ]

    # -- more endpoints ------------------------------------------------------------------------
    def input(self) -> Any:
        """The inputs the collection was triggered with, as a DataFrame."""
        import pandas as pd

        response = self.client.http.request(
            "GET", f"/datasets/v3/snapshot/{self.id}/input", family="control", job_id=self.id
        )
        # text/csv without a charset would be read as Latin-1 by requests; Bright Data sends UTF-8
        declared = "charset=" in response.headers.get("Content-Type", "").lower()
        text = response.text if declared else response.content.decode("utf-8-sig")
        return pd.read_csv(io.StringIO(text))

    def log(self) -> dict[str, Any]:
        """The run's metadata (``GET /datasets/v3/log/{id}``): size, duration, trigger..."""
        return self.client.http.get_json(f"/datasets/v3/log/{self.id}", family="control", job_id=self.id)

    def deliver(
        self,
        target: Target,
        *,
        filename: str = "{{snapshot_id}}",
        extension: str = "json",
        compress: bool = False,
        batch_size: int | None = None,
        notify: str | None = None,
    ) -> Delivery:
        """Deliver the snapshot to storage (S3, GCS, Azure, SFTP, Snowflake, webhook...).

        Args:
            target: one of the typed targets (:class:`S3`, :class:`GCS`, ...).
            filename: the file name template (``{{snapshot_id}}`` is filled in by Bright Data).
            extension: ``"json"``, ``"jsonl"`` or ``"csv"``.
            compress: gzip the files.
            batch_size: records per file (≥ 1000); needed for very large snapshots.
            notify: a URL Bright Data calls when the delivery is finished.

        Returns:
            A :class:`Delivery`; ``.wait()`` on it until the files are written.

        Raises:
            InvalidArgument: a bad option, before anything is sent.
            SnapshotNotReady, SnapshotExpired, SnapshotEmpty, SnapshotTooBig: as Bright Data says.
        """
        body = deliver_body(target, filename=filename, extension=extension, compress=compress, batch_size=batch_size)
        if notify is not None and not str(notify).startswith(("http://", "https://")):
            raise InvalidArgument(f"notify must be an http(s) URL, got {notify!r}")
        for secret in target.secrets():
            self.client.http.redactor.add(secret)
        params = {"notify": notify} if notify else None
        response = self.client.http.request(
            "POST",
            f"/datasets/v3/deliver/{self.id}",
            json=body,
            params=params,
            idempotent=False,
            family="control",
            job_id=self.id,
        )
        answer = self.client.http.json_of(response)
        delivery_id = (answer.get("delivery_id") or answer.get("id")) if isinstance(answer, dict) else None
        if not delivery_id:
            raise self.client.http.missing(
                answer, "delivery_id", what="the delivery", response=response, job_id=self.id
            )
        return Delivery(self.client, str(delivery_id), snapshot_id=self.id, target=target.where(), triggered=True)
