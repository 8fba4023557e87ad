"""Where every Bright Data request that starts work is built and checked before anything is
sent: a Datasets v3 trigger (:func:`trigger_params`, :func:`inputs_body`), a collector batch
(:func:`collect_params`, :func:`trigger_body`) and a delivery (:func:`deliver_body`).

Collector trigger behaviours (what happens when the collector is already running a batch) —
exactly one applies:

==================  =====================================================================
``queue_next=True``  the default: the batch waits in the queue behind the running one
``queue="…"``        the batch starts after the last queued batch is finished
``confirm_cancel``   the running batch is cancelled and this one runs instead
==================  =====================================================================

``no_downloads``, ``deadline``, ``version="dev"`` and ``name`` combine with any of them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.providers.brightdata.delivery import EXTENSIONS, Target

DOWNLOAD_FORMATS = ("csv", "json", "ndjson", "jsonl")
"""Formats the snapshot download accepts."""

MIN_BATCH_SIZE = 1000
"""Smallest ``batch_size`` Bright Data accepts."""

TRIGGER_TYPES = ("discover_new",)
"""The trigger ``type`` values of the Datasets API."""

TRIGGER_PATH = "/dca/trigger"
"""The DCA trigger endpoint."""

CREATED_HINT = "the batch may have started: look in Scraper Studio before triggering again"
"""Where to look when a trigger may have started a batch although it failed."""

DEADLINE_PATTERN = re.compile(r"\d+[hms]")
"""A ``deadline``: a whole number of hours, minutes or seconds (``1h``, ``30m``, ``45s``)."""

BEHAVIOURS = ("queue_next", "queue", "confirm_cancel")
"""The mutually exclusive trigger behaviours."""

BODY_FORMATS = ("json", "csv", "multipart")
"""How the inputs can be sent: a JSON array, a CSV body, or a CSV/JSON file upload."""

UPLOAD_FIELD = "data"
"""The multipart field that carries an uploaded input file."""

_UNIT_SECONDS = (("h", 3600), ("m", 60), ("s", 1))


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


def behaviour_params(
    queue_next: bool | None = None, queue: str | None = None, confirm_cancel: bool = False
) -> list[tuple[str, str]]:
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
    chosen = [
        name
        for name, on in (
            ("queue_next", queue_next is True),
            ("queue", queue is not None),
            ("confirm_cancel", confirm_cancel),
        )
        if on
    ]
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
        inputs = [
            {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, dict) for x in inputs):
        raise InvalidArgument(
            f"{where} must be a list of dicts (e.g. [{{'url': ...}}]), a DataFrame or a .csv/.json file path"
        )
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
        writer.writerow(
            {str(k): json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in row.items()}
        )
    return out.getvalue().encode()


def trigger_params(
    dataset_id: str,
    *,
    include_errors: bool | None = None,
    type: str | None = None,
    discover_by: str | None = None,
    limit_per_input: int | None = None,
    limit_multiple_results: int | None = None,
    custom_output_fields: str | Sequence[str] | None = None,
    notify: bool | str | None = None,
    endpoint: str | None = None,
    auth_header: str | None = None,
    format: str | None = None,
    uncompressed_webhook: bool | None = None,
    download_format: str = "csv",
    batch_size: int | None = None,
) -> list[tuple[str, str]]:
    """The query of ``POST /datasets/v3/trigger``, checked (see :meth:`Client.trigger`).

    The download options are checked too: once the trigger is sent, a collection is paid for.

    Raises:
        InvalidArgument: a bad option.

    Example:
        >>> trigger_params("gd_l1viktl72bvl7bjuj0", include_errors=True)
        [('dataset_id', 'gd_l1viktl72bvl7bjuj0'), ('include_errors', 'true')]
    """
    if not dataset_id or not isinstance(dataset_id, str):
        raise InvalidArgument("dataset_id is required (e.g. 'gd_l1viktl72bvl7bjuj0')")
    if type is not None and type not in TRIGGER_TYPES:
        raise InvalidArgument(f"type={type!r}: the only trigger type is 'discover_new'")
    if type == "discover_new" and not discover_by:
        raise InvalidArgument("type='discover_new' needs discover_by= (keyword, category_url, ...)")
    if discover_by and type != "discover_new":
        raise InvalidArgument("discover_by= only applies with type='discover_new'")
    for name, value in (("limit_per_input", limit_per_input), ("limit_multiple_results", limit_multiple_results)):
        if value is not None and (not isinstance(value, (int, float)) or value < 1):
            raise InvalidArgument(f"{name} must be a number >= 1, got {value!r}")
    if format is not None and format not in DOWNLOAD_FORMATS:
        raise InvalidArgument(f"format={format!r} is not one of {', '.join(DOWNLOAD_FORMATS)}")
    if endpoint is not None and not str(endpoint).startswith(("http://", "https://")):
        raise InvalidArgument("endpoint must be an http(s) URL (the webhook)")
    # the download options are checked now: once the trigger is sent, a collection is paid for
    if download_format not in DOWNLOAD_FORMATS:
        raise InvalidArgument(f"download_format={download_format!r} is not one of {', '.join(DOWNLOAD_FORMATS)}")
    if batch_size is not None and int(batch_size) < MIN_BATCH_SIZE:
        raise InvalidArgument(f"batch_size must be at least {MIN_BATCH_SIZE}, got {batch_size}")

    params: list[tuple[str, str]] = [("dataset_id", dataset_id)]
    options: tuple[tuple[str, Any], ...] = (
        ("include_errors", include_errors),
        ("type", type),
        ("discover_by", discover_by),
        ("limit_per_input", limit_per_input),
        ("limit_multiple_results", limit_multiple_results),
        ("notify", notify),
        ("endpoint", endpoint),
        ("auth_header", auth_header),
        ("format", format),
        ("uncompressed_webhook", uncompressed_webhook),
    )
    for name, value in options:
        if value is not None:
            params.append((name, _wire(value)))
    if custom_output_fields:
        fields = custom_output_fields if isinstance(custom_output_fields, str) else "|".join(custom_output_fields)
        params.append(("custom_output_fields", fields))
    return params


def collect_params(
    collector_id: str,
    *,
    name: str | None = None,
    version: str | None = None,
    queue_next: bool | None = None,
    queue: str | None = None,
    confirm_cancel: bool = False,
    no_downloads: bool = False,
    deadline: str | timedelta | None = None,
) -> list[tuple[str, str]]:
    """The query of ``POST /dca/trigger``, checked (see :meth:`Client.collect` for the arguments).

    Raises:
        InvalidArgument: a bad option, or behaviours that cannot be combined.

    Example:
        >>> collect_params("c_lq3x1ab2", deadline="1h")
        [('collector', 'c_lq3x1ab2'), ('queue_next', '1'), ('deadline', '1h')]
    """
    if not isinstance(collector_id, str) or not collector_id.strip() or any(c.isspace() for c in collector_id):
        raise InvalidArgument(f"collector_id must be a collector id such as 'c_lq3x1ab2', got {collector_id!r}")
    params: list[tuple[str, str]] = [("collector", collector_id)]
    if version is not None:
        if version != "dev":
            raise InvalidArgument(
                f"version={version!r}: the only version to ask for is 'dev' (leave it out for the live collector)"
            )
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
    return params


def deliver_body(
    target: Target,
    *,
    filename: str = "{{snapshot_id}}",
    extension: str = "json",
    compress: bool = False,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /datasets/v3/deliver/{id}``, checked (see :meth:`Snapshot.deliver`).

    Raises:
        InvalidArgument: a bad option.

    Example:
        >>> from dataferry.providers.brightdata.delivery import Webhook
        >>> body = deliver_body(Webhook("https://example.com/hook"), extension="csv")
        >>> sorted(body), body.get("compress")
        (['compress', 'deliver'], False)
    """
    if not isinstance(target, Target) or not target.type:
        raise InvalidArgument("target must be a delivery target such as S3(...), GCS(...), Webhook(...)")
    if extension not in EXTENSIONS:
        raise InvalidArgument(f"extension={extension!r} is not one of {', '.join(EXTENSIONS)}")
    if not filename:
        raise InvalidArgument("filename (a template) is required")
    if batch_size is not None and int(batch_size) < MIN_BATCH_SIZE:
        raise InvalidArgument(f"batch_size must be at least {MIN_BATCH_SIZE}, got {batch_size}")
    body: dict[str, Any] = {
        "deliver": {**target.to_wire(), "filename": {"template": filename, "extension": extension}},
        "compress": bool(compress),
    }
    if batch_size is not None:
        body["batch_size"] = int(batch_size)
    return body


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def inputs_body(inputs: Any) -> dict[str, Any]:
    """The request body of a Datasets v3 trigger, as ``requests`` keyword arguments: JSON, or
    a multipart CSV upload of a file path.

    Raises:
        InvalidArgument: no inputs, or inputs of the wrong shape.

    Example:
        >>> inputs_body([{"url": "https://example.com/p/1"}])
        {'json': [{'url': 'https://example.com/p/1'}]}
    """
    if isinstance(inputs, (str, os.PathLike)):
        path = Path(inputs)
        if not path.is_file():
            raise InvalidArgument(f"inputs: {path} is not a file (pass a list of dicts, a DataFrame or a CSV path)")
        return {"files": {"data": (path.name, path.read_bytes(), "text/csv")}}
    if hasattr(inputs, "to_dict") and hasattr(inputs, "columns"):
        import pandas as pd

        frame = inputs.astype(object).where(pd.notna(inputs), None)
        # dates and timestamps go as ISO text (JSON has no date type)
        inputs = [
            {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, dict) for x in inputs):
        raise InvalidArgument("inputs must be a list of dicts (e.g. [{'url': ...}]), a DataFrame or a CSV file path")
    if not inputs:
        raise InvalidArgument("inputs is empty: give at least one input (e.g. [{'url': ...}])")
    return {"json": list(inputs)}
