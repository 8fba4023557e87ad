"""What a part's bytes must look like to count as data.

A part either decodes into rows that account for all of its bytes, or it is refused with a
:class:`~dataferry.errors.DecodeError` that names the part, where the problem is and what to
do. Refused here, before or while decoding:

- bodies that are not the format asked for: an HTML page, an error object (``{"error":
  "Snapshot is building"}``) where records were expected, binary data (NUL bytes);
- text that is not valid UTF-8 (unless ``encoding_errors="replace"``, which replaces it with
  U+FFFD and reports how many values were changed);
- a part that inflates beyond ``max_part_bytes``, or holds a record longer than
  ``max_record_bytes``.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pyarrow as pa

from dataferry.errors import DecodeError, DecodeWarning, NotData
from dataferry.events import notice

SNIFF_BYTES = 64 << 10
"""Bytes looked at before decoding, to tell data from an HTML page or an error object."""

ERROR_KEYS = frozenset(
    {"error", "errors", "error_message", "error_code", "message", "status", "code", "detail", "details", "reason"}
)
"""Keys of the error bodies vendors send; a lone JSON object made only of these is not a record."""

ENCODING_ERRORS = ("strict", "replace")
"""Accepted ``encoding_errors=`` values: refuse invalid UTF-8, or replace it with U+FFFD."""

_BOM = b"\xef\xbb\xbf"
_MARKUP = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<title")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def refuse_non_data(head: bytes, fmt: str, label: str) -> None:
    """Raise :class:`DecodeError` when the first bytes of a part show it is not ``fmt`` data.

    Args:
        head: the first (up to :data:`SNIFF_BYTES`) decompressed bytes.
        fmt: ``"csv"``, ``"json"`` or ``"ndjson"``.
        label: names the part in the message.

    Example:
        >>> refuse_non_data(b"id,name\\n1,a\\n", "csv", "part 0")
        >>> refuse_non_data(b"<!DOCTYPE html><title>502 Bad Gateway</title>", "csv", "part 0")
        Traceback (most recent call last):
        ...
        dataferry.errors.NotData: part 0: an HTML page ('502 Bad Gateway') where csv data was expected
          hint: the server answered with a web page (an error or a login page); run the same call again later
    """
    if b"\x00" in head:
        at = head.index(b"\x00")
        raise NotData(
            f"{label}: binary data (a NUL byte at byte {at:,}) where {fmt} text was expected",
            hint="the file is damaged or not what the vendor announced; run the same call again to download it anew",
        )
    text = head.removeprefix(_BOM)
    text = text.lstrip()
    if text[:16].lower().startswith(_MARKUP):
        title = _TITLE.search(text)
        shown = f" ({title.group(1).decode('utf-8', 'replace').strip()[:120]!r})" if title else ""
        raise NotData(
            f"{label}: an HTML page{shown} where {fmt} data was expected",
            hint="the server answered with a web page (an error or a login page); run the same call again later",
        )
    if fmt == "json" and text and not text.startswith(b"["):
        what = error_object_message(text)
        raise NotData(
            f"{label}: "
            + (f"an error answer ({what}) where" if what else "not a JSON array of records, where")
            + " the records were expected",
            hint="the vendor did not send the data yet; wait for the job and run the same call again",
        )
    if fmt in ("csv", "ndjson"):
        what = error_object_message(text)
        if what is not None:
            raise NotData(
                f"{label}: an error answer ({what}) where {fmt} records were expected",
                hint="the vendor did not send the data yet; wait for the job and run the same call again",
            )


def error_object_message(text: bytes) -> str | None:
    """The message of a vendor error object, when ``text`` is one whole JSON object made only of
    error keys (:data:`ERROR_KEYS`); ``None`` for anything else.

    Example:
        >>> error_object_message(b'{"error": "Snapshot is building", "status": "building"}')
        'Snapshot is building'
        >>> error_object_message(b'{"id": 1, "error": "input failed"}') is None
        True
    """
    text = text.strip()
    if not text.startswith(b"{") or len(text) >= SNIFF_BYTES:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not value or not set(value) <= ERROR_KEYS:
        return None
    for key in ("error_message", "message", "error", "detail", "details", "reason", "status"):
        found = value.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()[:200]
        if isinstance(found, dict):
            inner = error_object_message(json.dumps(found).encode())
            if inner:
                return inner
    return json.dumps(value)[:200]


def too_large(label: str, limit: int) -> DecodeError:
    """The error for a part that inflates beyond ``max_part_bytes``."""
    return DecodeError(
        f"{label}: inflates to more than {limit:,} bytes (max_part_bytes)",
        hint="if the part really is that large, pass max_part_bytes= a larger number of bytes (or None)",
    )


def check_text(
    batch: pa.RecordBatch,
    *,
    first_row: int,
    label: str,
    errors: str,
    strings: bool,
    keep_binary: frozenset[str] = frozenset(),
) -> tuple[pa.RecordBatch, int]:
    """Text columns of ``batch`` checked for valid UTF-8.

    pyarrow's CSV reader turns a column with invalid UTF-8 into ``binary``; its JSON reader
    keeps it as ``string`` without checking. Either way the column is refused, or (with
    ``errors="replace"``) decoded with U+FFFD in place of the bad bytes.

    Args:
        batch: a decoded batch.
        first_row: the part's row number of the batch's first row (for messages).
        label: names the part.
        errors: ``"strict"`` or ``"replace"``.
        strings: also check ``string`` columns (readers that do not check UTF-8 themselves).
        keep_binary: columns the user asked to read as binary.

    Returns:
        The batch (with replaced text where allowed) and how many values were changed.

    Raises:
        DecodeError: invalid UTF-8 with ``errors="strict"``.
    """
    changed = 0
    columns = list(batch.columns)
    fields = list(batch.schema)
    for i, f in enumerate(fields):
        if f.name in keep_binary:
            continue
        column = batch.column(i)
        if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
            raw = column
        elif strings and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            try:
                column.validate(full=True)
                continue
            except pa.ArrowInvalid:
                raw = column.view(pa.large_binary() if pa.types.is_large_string(f.type) else pa.binary())
        else:
            continue
        values = raw.to_pylist()
        bad = [k for k, v in enumerate(values) if v is not None and not _is_utf8(v)]
        if not bad and not pa.types.is_binary(f.type) and not pa.types.is_large_binary(f.type):
            continue
        if bad and errors != "replace":
            raise DecodeError(
                f"{label}: column {f.name!r} holds text that is not valid UTF-8 (record {first_row + bad[0] + 1:,} "
                f"of the part is the first of {len(bad):,} in records {first_row + 1:,}–{first_row + len(values):,})",
                hint="pass encoding_errors='replace' to replace the bad bytes with U+FFFD, or "
                f"column_types={{{f.name!r}: 'binary'}} to keep the raw bytes",
            )
        changed += len(bad)
        text = pa.array([None if v is None else v.decode("utf-8", "replace") for v in values], type=pa.string())
        columns[i] = text
        fields[i] = pa.field(f.name, pa.string(), f.nullable, f.metadata)
    if not changed and columns == list(batch.columns):
        return batch, 0
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields, metadata=batch.schema.metadata)), changed


def report_replaced(label: str, count: int, *, unit: str = "values") -> None:
    """Tell the user that invalid UTF-8 was replaced in ``count`` values (or ``unit``) of a part."""
    if count:
        message = f"{label}: invalid UTF-8 replaced with U+FFFD in {count:,} {unit} (encoding_errors='replace')"
        notice(message)
        warnings.warn(message, DecodeWarning, stacklevel=2)


def _is_utf8(value: Any) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
