"""Bright Data collectors (DCA / Scraper Studio): trigger a batch collection, wait for its
dataset, load it.

``POST /dca/trigger?collector=c_…`` starts a batch and answers ``{collection_id, start_eta}``;
``GET /dca/dataset?id=j_…`` answers 202 ``{status: "building", message: "… try again in
10s"}`` until the batch is done, then 200 with the records as a JSON array. That poll *is* the
status check, so the records arrive with the last poll: :class:`Collection` spools that body
straight into the part cache, and ``to_pandas()`` / ``to_parquet()`` read it from there
instead of downloading it a second time.

Trigger behaviours (what happens when the collector is already running a batch) — exactly
one applies:

==================  =====================================================================
``queue_next=True``  the default: the batch waits in the queue behind the running one
``queue="…"``        the batch starts after the last queued batch is finished
``confirm_cancel``   the running batch is cancelled and this one runs instead
==================  =====================================================================

``no_downloads``, ``deadline``, ``version="dev"`` and ``name`` combine with any of them.

Example:
    >>> from dataferry import brightdata
    >>> bd = brightdata.Client(token="...")                                        # doctest: +SKIP
    >>> col = bd.collect("c_lq3x1ab2", [{"url": "https://example.com"}], deadline="1h")  # doctest: +SKIP
    >>> df = col.wait().to_pandas()                                                # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
import urllib3.exceptions

from dataferry.cache import PartCache
from dataferry.constants import CHUNK_SIZE
from dataferry.reads import open_bytes
from dataferry.errors import (
    ApiError,
    DataferryError,
    DecodeError,
    InvalidArgument,
    NotFound,
    TransportError,
    UnprocessableEntity,
)
from dataferry.http.retry import parse_retry_after, parse_try_again
from dataferry.datajob import DataJob
from dataferry.parts import Part
from dataferry.status import JobState, JobStatus, state_from

TRIGGER_PATH = "/dca/trigger"
"""The DCA trigger endpoint."""

CREATED_HINT = "the batch may have started: look in Scraper Studio before triggering again"
"""Where to look when a trigger may have started a batch although it failed."""

DATASET_PATH = "/dca/dataset"
"""The DCA dataset endpoint (the status check and the data in one)."""

DATASET_FILE = "dataset.json"
"""The cache file name of a collection's records."""

DEADLINE_PATTERN = re.compile(r"\d+[hms]")
"""A ``deadline``: a whole number of hours, minutes or seconds (``1h``, ``30m``, ``45s``)."""

BEHAVIOURS = ("queue_next", "queue", "confirm_cancel")
"""The mutually exclusive trigger behaviours."""

BODY_FORMATS = ("json", "csv", "multipart")
"""How the inputs can be sent: a JSON array, a CSV body, or a CSV/JSON file upload."""

UPLOAD_FIELD = "data"
"""The multipart field that carries an uploaded input file."""

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

_UNIT_SECONDS = (("h", 3600), ("m", 60), ("s", 1))
_DROPPED = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


def deadline_param(deadline: str | timedelta | None) -> str | None:
    """The wire form of ``deadline``, validated.

    Args:
        deadline: ``"1h"``, ``"30m"``, ``"45s"`` or a :class:`~datetime.timedelta` of whole
            seconds; ``None`` for no deadline.

    Returns:
        ``"<N><h|m|s>"`` or ``None``.

    Raises:
        InvalidArgument: anything else, or a deadline of zero.

    Example:
        >>> deadline_param("90m")
        '90m'
        >>> deadline_param(timedelta(hours=2))
        '2h'
    """
    if deadline is None:
        return None
    if isinstance(deadline, timedelta):
        seconds = deadline.total_seconds()
        if seconds <= 0 or seconds != int(seconds):
            raise InvalidArgument(f"deadline={deadline!r} must be a positive whole number of seconds")
        for unit, size in _UNIT_SECONDS:
            if seconds % size == 0:
                return f"{int(seconds) // size}{unit}"
    if not isinstance(deadline, str) or not DEADLINE_PATTERN.fullmatch(deadline):
        raise InvalidArgument(
            f"deadline={deadline!r} is not a deadline",
            hint="give a whole number and a unit: '1h' (hours), '30m' (minutes), '45s' (seconds), or a timedelta",
        )
    if int(deadline[:-1]) == 0:
        raise InvalidArgument(f"deadline={deadline!r} would end the collection at once; give a positive time")
    return deadline


def behaviour_params(queue_next: bool | None = None, queue: str | None = None,
                     confirm_cancel: bool = False) -> list[tuple[str, str]]:
    """The trigger-behaviour query parameters, refusing combinations that contradict.

    Args:
        queue_next: wait behind a running batch (the default when nothing else is chosen).
        queue: start after the last queued batch; the string is sent as given.
        confirm_cancel: cancel the running batch and run this one instead.

    Returns:
        One ``(name, value)`` pair.

    Raises:
        InvalidArgument: more than one behaviour, ``queue_next=False`` alone, or a wrong type.

    Example:
        >>> behaviour_params()
        [('queue_next', '1')]
        >>> behaviour_params(confirm_cancel=True)
        [('confirm_cancel', '1')]
    """
    for name, value in (("queue_next", queue_next), ("confirm_cancel", confirm_cancel)):
        if value is not None and not isinstance(value, bool):
            raise InvalidArgument(f"{name} must be True or False, got {value!r}")
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        raise InvalidArgument(f"queue must be a non-empty string, got {queue!r}")
    chosen = [name for name, on in (("queue_next", queue_next is True), ("queue", queue is not None),
                                    ("confirm_cancel", confirm_cancel)) if on]
    if len(chosen) > 1:
        raise InvalidArgument(
            f"{' and '.join(chosen)} cannot be combined: a trigger has one behaviour towards a running batch",
            hint="choose queue_next=True (the default: wait behind it), queue='…' (start after the last "
                 "queued batch) or confirm_cancel=True (cancel it and run this one)",
        )
    if queue_next is False and not chosen:
        raise InvalidArgument(
            "queue_next=False leaves no trigger behaviour",
            hint="pass queue='…' or confirm_cancel=True instead, or leave queue_next at its default",
        )
    if confirm_cancel:
        return [("confirm_cancel", "1")]
    if queue is not None:
        return [("queue", queue)]
    return [("queue_next", "1")]


def trigger_body(inputs: Any, body_format: str | None = None) -> dict[str, Any]:
    """The request body for a batch's inputs, as ``requests`` keyword arguments.

    Args:
        inputs: a list of dicts, a pandas DataFrame, or the path of a ``.csv`` / ``.json`` file.
        body_format: ``"json"`` (a JSON array), ``"csv"`` (a ``text/csv`` body) or
            ``"multipart"`` (a file upload in field ``data``). Default: ``"json"`` for records
            and ``.json`` files, ``"multipart"`` for ``.csv`` files.

    Returns:
        ``{"json": …}``, ``{"data": …, "headers": …}`` or ``{"files": …}``.

    Raises:
        InvalidArgument: no inputs, inputs of the wrong shape, or a file that cannot be read.

    Example:
        >>> trigger_body([{"url": "https://example.com"}])
        {'json': [{'url': 'https://example.com'}]}
        >>> trigger_body([{"url": "https://example.com"}], "csv")["data"]
        b'url\\r\\nhttps://example.com\\r\\n'
    """
    if body_format is not None and body_format not in BODY_FORMATS:
        raise InvalidArgument(f"body_format={body_format!r} is not one of {', '.join(BODY_FORMATS)}")
    if isinstance(inputs, (str, os.PathLike)):
        return _file_body(Path(inputs), body_format)
    records = _records(inputs)
    fmt = body_format or "json"
    if fmt == "json":
        return {"json": records}
    data = _csv_bytes(records)
    if fmt == "csv":
        return {"data": data, "headers": {"Content-Type": "text/csv; charset=utf-8"}}
    return {"files": {UPLOAD_FIELD: ("inputs.csv", data, "text/csv")}}


def _file_body(path: Path, body_format: str | None) -> dict[str, Any]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidArgument(f"inputs: {path} is not a file (pass a list of dicts, a DataFrame or a .csv/.json path)")
    if suffix not in (".csv", ".json"):
        raise InvalidArgument(f"inputs: {path.name} should be a .csv or a .json file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"inputs: {path} cannot be read ({exc})") from exc
    if not raw.strip():
        raise InvalidArgument(f"inputs: {path} is empty")
    fmt = body_format or ("multipart" if suffix == ".csv" else "json")
    if fmt == "multipart":
        ctype = "text/csv" if suffix == ".csv" else "application/json"
        return {"files": {UPLOAD_FIELD: (path.name, raw, ctype)}}
    if suffix == ".csv":
        try:
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InvalidArgument(f"inputs: {path} is not a readable UTF-8 CSV file ({exc})") from exc
    else:
        try:
            rows = json.loads(raw)
        except ValueError as exc:
            raise InvalidArgument(f"inputs: {path} is not valid JSON ({exc})") from exc
    records = _records(rows, where=str(path))
    if fmt == "json":
        return {"json": records}
    data = raw if suffix == ".csv" else _csv_bytes(records)
    return {"data": data, "headers": {"Content-Type": "text/csv; charset=utf-8"}}


def _records(inputs: Any, *, where: str = "inputs") -> list[dict[str, Any]]:
    if hasattr(inputs, "to_dict") and hasattr(inputs, "columns"):
        import pandas as pd

        frame = inputs.astype(object).where(pd.notna(inputs), None)
        # dates and timestamps go as ISO text (neither JSON nor CSV has a date type)
        inputs = [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
                  for row in frame.to_dict(orient="records")]
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, dict) for x in inputs):
        raise InvalidArgument(f"{where} must be a list of dicts (e.g. [{{'url': ...}}]), a DataFrame "
                              "or a .csv/.json file path")
    if not inputs:
        raise InvalidArgument(f"{where} is empty: give at least one input (e.g. [{{'url': ...}}])")
    return [dict(x) for x in inputs]


def _csv_bytes(records: list[dict[str, Any]]) -> bytes:
    names: dict[str, None] = {}
    for row in records:
        names.update(dict.fromkeys(str(k) for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(names))
    writer.writeheader()
    for row in records:
        writer.writerow({str(k): json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                         for k, v in row.items()})
    return out.getvalue().encode()


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
        >>> col.wait().to_parquet("out/batch.parquet")   # doctest: +SKIP
    """

    kind = "collection"

    def __init__(self, client: Any, collection_id: str, *, collector_id: str | None = None, name: str | None = None,
                 start_eta: str | None = None, deadline: str | None = None, triggered: bool = False) -> None:
        super().__init__(client, collection_id, triggered=triggered)
        self.collector_id = collector_id
        self.name = name
        self.start_eta = start_eta
        self.deadline = deadline
        self._size: int | None = None

    @classmethod
    def trigger(cls, client: Any, collector_id: str, inputs: Any, *, name: str | None = None,
                version: str | None = None, queue_next: bool | None = None, queue: str | None = None,
                confirm_cancel: bool = False, no_downloads: bool = False, deadline: str | timedelta | None = None,
                body_format: str | None = None, busy_wait: float) -> Collection:
        """Send ``POST /dca/trigger`` once (see :meth:`Client.collect` for the arguments).

        Raises:
            InvalidArgument: bad inputs or options, before anything is sent.
            UnprocessableEntity: the inputs do not match the collector's input schema (422).
            NotFound: no such collector (404).
            AuthenticationError: the token was refused (401).
            RateLimited: still refused with 429 after ``busy_wait`` seconds.
            ServerError, RequestMayHaveReached: the trigger failed and was not re-sent.
        """
        if not isinstance(collector_id, str) or not collector_id.strip() or any(c.isspace() for c in collector_id):
            raise InvalidArgument(f"collector_id must be a collector id such as 'c_lq3x1ab2', got {collector_id!r}")
        params: list[tuple[str, str]] = [("collector", collector_id)]
        if version is not None:
            if version != "dev":
                raise InvalidArgument(f"version={version!r}: the only version to ask for is 'dev' "
                                      "(leave it out for the live collector)")
            params.append(("version", "dev"))
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                raise InvalidArgument(f"name must be a non-empty string, got {name!r}")
            params.append(("name", name))
        params += behaviour_params(queue_next, queue, confirm_cancel)
        if not isinstance(no_downloads, bool):
            raise InvalidArgument(f"no_downloads must be True or False, got {no_downloads!r}")
        if no_downloads:
            params.append(("no_downloads", "1"))
        wire_deadline = deadline_param(deadline)
        if wire_deadline is not None:
            params.append(("deadline", wire_deadline))
        body = trigger_body(inputs, body_format)

        http = client.http
        try:
            response = http.request("POST", TRIGGER_PATH, params=params, idempotent=False, family="trigger",
                                    busy_wait=busy_wait, created_hint=CREATED_HINT, **body)
        except NotFound as exc:
            exc.hint = f"check the collector id {collector_id!r} (Scraper Studio shows it on the collector's API page)"
            raise
        except UnprocessableEntity as exc:
            exc.hint = "the inputs do not match the collector's input schema: check the field names and values"
            raise
        answer = http.json_of(response)
        collection_id = answer.get("collection_id") if isinstance(answer, dict) else None
        if not collection_id:
            raise http.missing(answer, "collection_id", what="the trigger", response=response, hint=CREATED_HINT)
        return cls(client, str(collection_id), collector_id=collector_id, name=name,
                   start_eta=answer.get("start_eta"), deadline=wire_deadline, triggered=True)

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
        response = http.request("GET", DATASET_PATH, params={"id": self.id}, family="status", allow=(202,),
                                stream=True, headers={"Accept-Encoding": "identity"}, job_id=self.id)
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
            raise TransportError(f"{self.vendor}: the dataset of collection {self.id} was cut off after {have:,} bytes",
                                 method="GET", url=DATASET_PATH) from exc
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) != have:
            target.unlink(missing_ok=True)
            raise TransportError(f"{self.vendor}: the dataset of collection {self.id} ended at {have:,} of "
                                 f"{int(length):,} bytes", method="GET", url=DATASET_PATH)
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
        raise TransportError("brightdata: the answer was cut off before its end", method="GET",
                             url=DATASET_PATH) from None
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
        when = datetime.fromisoformat(str(start_eta).replace("Z", "+00:00"))
    except ValueError:
        return str(start_eta)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if when.timestamp() <= now:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
