"""Bright Data collectors (DCA / Scraper Studio): trigger a batch collection, wait for its
dataset, load it.

``POST /dca/trigger?collector=c_…`` starts a batch and answers ``{collection_id, start_eta}``;
``GET /dca/dataset?id=j_…`` answers 202 ``{status: "building", message: "… try again in
10s"}`` until the batch is done, then 200 with the records as a JSON array. That poll *is* the
status check, so the records arrive with the last poll: :class:`Collection` spools that body
straight into the part cache, and ``to_pandas()`` / ``to_parquet()`` read it from there
instead of downloading it a second time.

The trigger request and its behaviours are built in
:mod:`dataferry.providers.brightdata.params`.

Example:
    >>> from dataferry import brightdata
    >>> bd = brightdata.Client(token="...")  # doctest: +SKIP
    >>> col = bd.collect("c_lq3x1ab2", [{"url": "https://example.com"}], deadline="1h")  # doctest: +SKIP
    >>> df = col.wait().to_pandas()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import urllib3.exceptions

from dataferry.cache import PartCache
from dataferry.constants import CHUNK_SIZE
from dataferry.datajob import DataJob
from dataferry.errors import DataferryError, DecodeError, TransportError
from dataferry.http.retry import parse_retry_after, parse_try_again
from dataferry.parts import Part
from dataferry.reads import open_bytes
from dataferry.status import JobState, JobStatus, state_from

DATASET_PATH = "/dca/dataset"
"""The DCA dataset endpoint (the status check and the data in one)."""

DATASET_FILE = "dataset.json"
"""The cache file name of a collection's records."""

COLLECTION_STATES = {
    "queued": JobState.QUEUED,
    "pending": JobState.QUEUED,
    "building": JobState.RUNNING,
    "collecting": JobState.RUNNING,
    "running": JobState.RUNNING,
    "failed": JobState.FAILED,
    "error": JobState.FAILED,
    "canceled": JobState.CANCELLED,
    "cancelled": JobState.CANCELLED,
}
"""``status`` values of a dataset answer that holds no records. Anything else (including a
premature ``ready``) counts as still running: only a JSON array of records means done."""

_DROPPED = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


class Collection(DataJob):
    """A Bright Data collector batch (DCA): the handle :meth:`Client.collect` returns.

    ``wait()`` polls ``GET /dca/dataset`` (a 202 means still building, honouring its "try
    again in Ns"); the answer that finally holds the records is kept in the part cache, so
    ``to_pandas()``, ``to_parquet()`` and ``iter_batches()`` read it without a second
    download. A batch that produced nothing (``[]``) gives an empty DataFrame.

    Args:
        client: the :class:`~dataferry.providers.brightdata.client.Client`.
        collection_id: ``j_…``.
        collector_id: the collector (``c_…``) when known.
        name: the batch's human name when known.
        start_eta: when Bright Data expects the batch to start (ISO 8601), when known.
        deadline: the batch's deadline (``"1h"``) when known.
        triggered: created by this process (a 404 right after is forgiven briefly).

    Example:
        >>> from dataferry import brightdata
        >>> col = brightdata.Client(token="example-token").collection("j_lq3x9z0a1b2c3")
        >>> col.reattach
        "brightdata.Client().collection('j_lq3x9z0a1b2c3')"
        >>> col.wait().to_parquet("out/batch.parquet")  # doctest: +SKIP
    """

    kind = "collection"

    def __init__(
        self,
        client: Any,
        collection_id: str,
        *,
        collector_id: str | None = None,
        name: str | None = None,
        start_eta: str | None = None,
        deadline: str | None = None,
        triggered: bool = False,
    ) -> None:
        super().__init__(client, collection_id, triggered=triggered)
        self.collector_id = collector_id
        self.name = name
        self.start_eta = start_eta
        self.deadline = deadline
        self._size: int | None = None

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.collection({self.id!r})"

    # -- engine hooks ----------------------------------------------------------------------
    def _part(self) -> Part:
        return Part(0, DATASET_PATH, "json", None, (("id", self.id),), size=self._size, name=DATASET_FILE)

    def _store(self) -> PartCache:
        return PartCache(self.vendor, self.id, root=self.client.cache_dir, persistent=True)

    def _fetch_status(self) -> JobStatus:
        http = self.client.http
        response = http.request(
            "GET",
            DATASET_PATH,
            params={"id": self.id},
            family="status",
            allow=(202,),
            stream=True,
            headers={"Accept-Encoding": "identity"},
            job_id=self.id,
        )
        try:
            if response.status_code == 202:
                body = _small_json(response)
                hint = parse_retry_after(response.headers.get("Retry-After"), self.client.clock.time())
                return self._not_ready(body, hint)
            part = self._part()
            store = self._store()
            size = self._spool(response, store.partial(part))
        finally:
            response.close()
        partial = store.partial(part)
        with open_bytes(partial) as stream:
            head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if head == b"[":
            os.replace(partial, store.path(part))
            self._size = size
            return JobStatus(JobState.DONE, "ready", f"dataset received ({size:,} bytes)")
        try:
            with open_bytes(partial) as stream:
                text = stream.read(1 << 20).decode("utf-8", "replace")
        finally:
            partial.unlink(missing_ok=True)
        body = _loads(text)
        if isinstance(body, dict) and body.get("status"):
            return self._not_ready(http.redactor.data(body), None)
        raise DecodeError(
            f"{self.vendor} collection {self.id}: the dataset answer is not a JSON array of records: "
            f"{http.redactor.text(text.strip()[:200])!r}",
            hint=f"ask again later with {self.reattach}.wait()",
        )

    def _not_ready(self, body: dict[str, Any], hint: float | None) -> JobStatus:
        raw = str(body.get("status") or "building")
        state = state_from(raw, COLLECTION_STATES)
        message = body.get("message") or body.get("error_message") or body.get("error")
        message = str(message) if message else None
        if hint is None and message:
            hint = parse_try_again(message)
        eta = _eta_text(self.start_eta, self.client.clock.time())
        if eta and state in (JobState.QUEUED, JobState.RUNNING):
            message = f"{message} · start ETA {eta}" if message else f"start ETA {eta}"
        return JobStatus(state, raw, message, retry_after=hint, detail=body)

    def _spool(self, response: requests.Response, target: Path) -> int:
        """Write a 200 body to ``target`` as it arrives; a short body is a TransportError."""
        have = 0
        try:
            with open(target, "wb") as f:
                while True:
                    chunk = response.raw.read(CHUNK_SIZE, decode_content=False)
                    if not chunk:
                        break
                    f.write(chunk)
                    have += len(chunk)
        except _DROPPED as exc:
            target.unlink(missing_ok=True)
            raise TransportError(
                f"{self.vendor}: the dataset of collection {self.id} was cut off after {have:,} bytes",
                method="GET",
                url=DATASET_PATH,
            ) from exc
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) != have:
            target.unlink(missing_ok=True)
            raise TransportError(
                f"{self.vendor}: the dataset of collection {self.id} ended at {have:,} of {int(length):,} bytes",
                method="GET",
                url=DATASET_PATH,
            )
        return have

    def _list_parts(self) -> list[Part]:
        return [self._part()]

    def _cache(self, persistent: bool) -> PartCache:
        if not persistent:
            # cache=False: the copy the last poll kept is not kept either; the data is fetched anew
            self._store().discard(self._part())
        return super()._cache(persistent)

    def _cancel_remote(self) -> None:
        raise DataferryError(
            "Bright Data collector batches cannot be cancelled through the API",
            hint="trigger the next batch with confirm_cancel=True to cancel the running one, or use Scraper Studio",
        )


def _small_json(response: requests.Response) -> dict[str, Any]:
    """A short JSON answer (a 202 "building" note); a body cut off on the way is a TransportError."""
    try:
        content = response.content
    except _DROPPED:
        raise TransportError(
            "brightdata: the answer was cut off before its end", method="GET", url=DATASET_PATH
        ) from None
    try:
        value = json.loads(content or b"null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _eta_text(start_eta: str | None, now: float) -> str | None:
    """``start_eta`` as ``2021-11-07 13:26:22 UTC`` while it is in the future, else ``None``."""
    if not start_eta:
        return None
    try:
        when = datetime.fromisoformat(str(start_eta))
    except ValueError:
        return str(start_eta)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.timestamp() <= now:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
