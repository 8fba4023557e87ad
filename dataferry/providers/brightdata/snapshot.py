"""A Bright Data snapshot: the handle returned by a trigger or re-attached by id."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from dataferry.datajob import DataJob
from dataferry.errors import InvalidArgument, JobFailed
from dataferry.parts import Part, normalize_format
from dataferry.providers.brightdata.delivery import Delivery, Target
from dataferry.providers.brightdata.errors import SnapshotEmpty
from dataferry.providers.brightdata.failures import Kind, classify
from dataferry.providers.brightdata.params import DOWNLOAD_FORMATS, MIN_BATCH_SIZE, deliver_body
from dataferry.status import JobState, JobStatus, state_from

if TYPE_CHECKING:
    from dataferry.providers.brightdata.client import Client

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

ON_EMPTY = ("raise", "empty")
"""The values of ``on_empty=``."""


@dataclass(frozen=True)
class TriggerRequest:
    """A Datasets v3 trigger as it was sent, kept to send it again (``retrigger=``).

    Attributes:
        dataset_id: ``gd_…``.
        params: the query (from :func:`~dataferry.providers.brightdata.params.trigger_params`).
        body: the body as ``requests`` keywords (from ``inputs_body``).
        busy_wait: seconds a 429 "too many running jobs" is waited out.
    """

    dataset_id: str
    params: tuple[tuple[str, str], ...]
    body: dict[str, Any] = field(repr=False)
    busy_wait: float


def check_outcome_options(on_empty: str, retrigger: int) -> None:
    """Refuse a bad ``on_empty=`` or ``retrigger=`` before anything is sent.

    Raises:
        InvalidArgument: ``on_empty`` is not ``"raise"`` / ``"empty"``, or ``retrigger`` is not an int ≥ 0.
    """
    if on_empty not in ON_EMPTY:
        raise InvalidArgument(f"on_empty={on_empty!r} is not one of {', '.join(map(repr, ON_EMPTY))}")
    if not isinstance(retrigger, int) or isinstance(retrigger, bool) or retrigger < 0:
        raise InvalidArgument(f"retrigger must be an int >= 0, got {retrigger!r}")


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
        on_empty: ``"raise"`` (the default): "Snapshot is empty" and "No data found in
            discovery" raise (:class:`~dataferry.errors.JobFailed`, or ``SnapshotEmpty`` from a
            download); ``"empty"``: they are a result with no rows (an empty DataFrame, an empty
            Parquet file with the columns of ``custom_output_fields`` where they were given),
            and :attr:`empty_message` says which.
        retrigger: times to trigger the collection again when it fails with a transient message
            (:func:`~dataferry.providers.brightdata.failures.classify`); needs ``request``.
        request: the trigger as sent (``Client.trigger`` keeps it).

    Attributes:
        empty_message: Bright Data's message when the result is empty (``on_empty="empty"``).
        attempts: the snapshot ids triggered for this request, oldest first.

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
        on_empty: str = "raise",
        retrigger: int = 0,
        request: TriggerRequest | None = None,
    ) -> None:
        check_outcome_options(on_empty, retrigger)
        super().__init__(client, snapshot_id, triggered=triggered)
        self.on_empty = on_empty
        self.retrigger = retrigger
        self.request = request
        self.empty_message: str | None = None
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
        if state is JobState.FAILED:
            found = classify(message)
            if found.kind is Kind.EMPTY and self.on_empty == "empty":
                self.empty_message = str(message)
                return JobStatus(JobState.DONE, raw, f"empty: {message}", 1.0, detail=body)
            if found.kind is Kind.TRANSIENT and self.request is not None and len(self.attempts) <= self.retrigger:
                return self._trigger_again(raw, str(message))
        return JobStatus(state, raw, message, detail=body)

    def _failure(
        self, message: str, *, vendor: str, job_id: str, status: JobStatus, kind: str = "snapshot"
    ) -> JobFailed:
        """:class:`~dataferry.errors.JobFailed` with ``transient`` and a hint from the message's kind."""
        found = classify(status.message)
        hint = found.hint
        if len(self.attempts) > 1:
            hint = f"triggered {len(self.attempts)} times ({', '.join(self.attempts)}), failed each time; {hint}"
        return JobFailed(
            message,
            vendor=vendor,
            kind=kind,
            job_id=self.id,
            status=status,
            transient=found.kind is Kind.TRANSIENT,
            hint=hint,
        )

    def _trigger_again(self, raw: str, message: str) -> JobStatus:
        assert self.request is not None
        old = self.id
        new = cast("Client", self.client).send_trigger(self.request)
        done = len(self.attempts)
        text = f"snapshot {old} failed ({message}); triggered again as {new} (retrigger {done} of {self.retrigger})"
        return self._recreated(new, raw, text)

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
        if self.empty_message is not None:
            return []
        if self.on_empty == "empty":
            try:
                self.part_count()  # a ready snapshot with no records answers "Snapshot is empty"
            except SnapshotEmpty as exc:
                self.empty_message = exc.vendor_message
                return []
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

    def _empty_schema(self) -> pa.Schema | None:
        """The columns asked for with ``custom_output_fields`` (text), for an empty result."""
        fields = dict(self.request.params).get("custom_output_fields") if self.request is not None else None
        names = list(dict.fromkeys(f.split(".")[0] for f in (fields or "").split("|") if f))
        return pa.schema([(n, pa.string()) for n in names]) if names else None

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
