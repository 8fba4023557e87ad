"""Bytes on disk → Arrow tables, with pyarrow's native readers.

gzip is recognised by its magic bytes (whatever the part claims) and inflated with ISA-L
when it is installed (:mod:`dataferry.reads`). A truncated or corrupt stream is a
:class:`PartCorrupt`, never a short table; content that is not the data asked for (an HTML
page, an error object, NUL bytes, invalid UTF-8) is a :class:`DecodeError`
(:mod:`dataferry.content`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from dataferry.content import ENCODING_ERRORS, SNIFF_BYTES, check_text, refuse_non_data, report_replaced, too_large
from dataferry.errors import DecodeError, InvalidArgument, PartCorrupt, first_line
from dataferry.parts import FORMATS, normalize_format
from dataferry.reads import CORRUPT_ERRORS, ArrowReads, has_text, open_bytes

BLOCK_SIZE = 512 << 10
"""Bytes of text parsed per block (per record batch when streaming): small blocks keep memory
flat whatever the part's size (512 KiB measured as fast as 1 MiB, with ~40 MB less peak RSS
for a Parquet export; 2 MiB was slower). A part with a longer record is read again with
blocks 16 times larger, up to :data:`MAX_RECORD_BYTES`."""

MAX_RECORD_BYTES = 256 << 20
"""The longest record (one CSV row, one NDJSON line, the CSV header) read by default; a longer
one is a :class:`DecodeError` (``max_record_bytes=`` raises the limit)."""

MAX_PART_BYTES = 64 << 30
"""The most bytes one part may inflate to by default (a guard against gzip bombs;
``max_part_bytes=`` raises or removes it)."""


@dataclass(frozen=True)
class DecodeOptions:
    """How to read the parts.

    Attributes:
        column_types: column name → Arrow type (or a type name such as ``"string"``,
            ``"int64"``, ``"timestamp[s]"``) to force instead of inferring.
        delimiter: CSV field delimiter.
        timestamp_parsers: ``strptime`` formats tried for timestamp columns in CSV
            (ISO 8601 is always tried); ``None`` for pyarrow's default.
        null_values: CSV strings read as null.
        columns: only keep these columns (in this order).
        encoding_errors: ``"strict"`` (default): text that is not valid UTF-8 is an error;
            ``"replace"``: it is replaced with U+FFFD and the number of values changed is
            reported (a :class:`~dataferry.errors.DecodeWarning` and a progress notice).
        max_part_bytes: the most bytes one part may inflate to (``None``: no limit).
        max_record_bytes: the longest record (row, line, CSV header) accepted.

    Example:
        >>> DecodeOptions(column_types={"id": "string"}).arrow_types()["id"]
        DataType(string)
    """

    column_types: Mapping[str, Any] | None = None
    delimiter: str = ","
    timestamp_parsers: Sequence[str] | None = None
    null_values: Sequence[str] = ("", "NULL", "null", "NaN", "N/A", "n/a")
    columns: Sequence[str] | None = None
    encoding_errors: str = "strict"
    max_part_bytes: int | None = MAX_PART_BYTES
    max_record_bytes: int = MAX_RECORD_BYTES
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.encoding_errors not in ENCODING_ERRORS:
            raise InvalidArgument(f"encoding_errors={self.encoding_errors!r} is not one of {ENCODING_ERRORS}")
        if self.max_part_bytes is not None and int(self.max_part_bytes) < 1:
            raise InvalidArgument(
                f"max_part_bytes must be a positive number of bytes or None, got {self.max_part_bytes!r}"
            )
        if int(self.max_record_bytes) < BLOCK_SIZE:
            raise InvalidArgument(f"max_record_bytes must be at least {BLOCK_SIZE:,}, got {self.max_record_bytes!r}")

    def arrow_types(self) -> dict[str, pa.DataType]:
        """``column_types`` with every value as a ``pyarrow.DataType``."""
        out: dict[str, pa.DataType] = {}
        for name, t in (self.column_types or {}).items():
            if isinstance(t, pa.DataType):
                out[name] = t
                continue
            try:
                out[name] = pa.type_for_alias(str(t))
            except (ValueError, KeyError) as exc:
                raise InvalidArgument(f"column_types[{name!r}] = {t!r} is not an Arrow type name") from exc
        return out


_CORRUPT = CORRUPT_ERRORS


def read_table(path: Path, fmt: str, options: DecodeOptions | None = None, *, label: str = "") -> pa.Table:
    """Decode one whole part file into an Arrow table.

    Args:
        path: the complete part file.
        fmt: ``"csv"``, ``"json"`` (an array of objects), ``"ndjson"`` / ``"jsonl"``.
        options: decode options.
        label: names the part in errors (``"part 3 of s_…"``).

    Raises:
        PartCorrupt: the gzip stream is truncated or damaged.
        DecodeError: the content is not valid for ``fmt``.
    """
    batches = [b for b in stream_part(path, fmt, options, label=label, whole=True) if not isinstance(b, Restart)]
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


class Restart:
    """Marker in a part's batch stream: forget this part's batches so far, the part follows
    again from its first row (its types or its line structure only became clear further down)."""

    def __repr__(self) -> str:
        return "RESTART"


RESTART = Restart()
"""The one :class:`Restart` marker."""


@dataclass(frozen=True)
class _Plan:
    """One way of reading a part: streamed or whole, and whether CSV values may span lines."""

    whole: bool
    multiline: bool = False
    block: int = BLOCK_SIZE
    threads: bool = True


_CSV_STREAM = (_Plan(False), _Plan(False, True), _Plan(True), _Plan(True, True))
_CSV_WHOLE = (_Plan(True), _Plan(True, True))
_NDJSON_STREAM = (_Plan(False), _Plan(True))
_NDJSON_WHOLE = (_Plan(True),)


def stream_part(
    path: Path,
    fmt: str,
    options: DecodeOptions | None = None,
    *,
    hint: pa.Schema | None = None,
    label: str = "",
    whole: bool = False,
    threads: bool = True,
) -> Iterator[pa.RecordBatch | Restart]:
    """Decode one part as record batches: streamed in flat memory, or whole at once.

    The fast way is tried first and a safer one only when the data asks for it:

    - CSV is first read assuming no value spans lines (much faster); a quoted value with a
      line break makes pyarrow stop, and the part is read again allowing them;
    - when streamed, each column's type settles on the first block, with the types already
      known from earlier parts (``hint``) fixed up front; if a later block disagrees (a column
      empty at first and text later, integers then decimals) the whole part is read again at
      once, with full type inference;
    - NDJSON whose values change type between rows is read row by row; JSON arrays are
      always read whole;
    - a record longer than a block (a huge text field) makes pyarrow stop: the part is read
      again with larger blocks, up to ``max_record_bytes``.

    Whenever batches were already given out, a :data:`RESTART` precedes the new reading. A
    part with bytes in it always yields at least one batch (a CSV with only a header gives an
    empty batch with its columns); content that is not ``fmt`` data is refused.

    Args:
        path: the complete part file.
        fmt: ``"csv"``, ``"json"``, ``"ndjson"`` / ``"jsonl"``.
        options: decode options.
        hint: the schema unified over the parts decoded so far, or ``None``.
        label: names the part in errors.
        whole: read the part at once (faster when the result is kept in memory anyway).
        threads: let pyarrow parse the part on several threads; ``False`` when other parts
            are decoded alongside it on every core anyway.

    Yields:
        Record batches and, after a change of plan, :data:`RESTART`.

    Raises:
        PartCorrupt: the gzip stream is truncated or damaged.
        DecodeError: the content is not valid ``fmt`` data (an HTML page, an error object,
            NUL bytes, invalid UTF-8, a record longer than ``max_record_bytes``, more than
            ``max_part_bytes`` in all).
    """
    options = options or DecodeOptions()
    fmt = normalize_format(fmt)
    if fmt not in FORMATS:
        raise InvalidArgument(f"format {fmt!r} is not one of {', '.join(FORMATS)} (or jsonl)")
    label = label or path.name
    if fmt == "json":
        plans: tuple[_Plan, ...] = (_Plan(True),)
    elif fmt == "csv":
        plans = _CSV_WHOLE if whole else _CSV_STREAM
    else:
        plans = _NDJSON_WHOLE if whole else _NDJSON_STREAM
    keep_binary = frozenset(
        n for n, t in options.arrow_types().items() if pa.types.is_binary(t) or pa.types.is_large_binary(t)
    )
    dirty = False  # batches of this part were given out since the last RESTART
    n = 0
    block = BLOCK_SIZE
    while True:
        plan = replace(plans[n], block=block, threads=threads)
        fresh = True
        rows = replaced = 0
        try:
            for batch in _read(path, fmt, options, hint, plan, label):
                batch, changed = check_text(
                    batch,
                    first_row=rows,
                    label=label,
                    errors=options.encoding_errors,
                    strings=fmt != "csv",
                    keep_binary=keep_binary,
                )
                replaced += changed
                rows += batch.num_rows
                if fresh and dirty:
                    yield RESTART
                fresh, dirty = False, True
                yield _select_batch(_apply_types_batch(_in_hint_order(batch, hint), options), options)
            if fresh and dirty:
                yield RESTART  # the new reading found no rows: withdraw the earlier ones
            if fresh and fmt != "json" and has_text(path):  # ("[]" is a JSON array with no records)
                raise DecodeError(
                    f"{label}: {path.stat().st_size:,} bytes on disk, but no records and no header in them",
                    hint="the file is not what the vendor announced; run the same call again to download it anew",
                )
            report_replaced(label, replaced)
            return
        except _RecordTooLong as exc:
            if block >= options.max_record_bytes:
                raise DecodeError(
                    f"{label}: a record (a row, a line or the CSV header) is longer than "
                    f"{options.max_record_bytes:,} bytes{exc.where}",
                    hint="if such long records are real, pass max_record_bytes= a larger number of bytes",
                ) from None
            block = min(block * 16, options.max_record_bytes)  # same plan, bigger blocks
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block < options.max_record_bytes:
                block = min(block * 16, options.max_record_bytes)  # a record longer than a block
                continue
            n += 1
            if n == len(plans):
                raise DecodeError(f"{label}: not valid {fmt}: {first_line(exc)}") from exc
            if not _line_structure(exc) and not plans[n].whole and n + 1 < len(plans):
                n += 1  # a type problem: reading lines differently will not help, read it whole
        except json.JSONDecodeError as exc:
            raise DecodeError(f"{label}: not valid {fmt}: {exc}") from exc
        except _CORRUPT as exc:
            raise PartCorrupt(
                f"{label}: the compressed data is truncated or damaged ({first_line(exc)})",
                hint="the cached copy was discarded; run the same call again to download it anew",
            ) from exc


class _RecordTooLong(Exception):
    """pyarrow found no whole record in a block: the block must grow."""

    def __init__(self, where: str = "") -> None:
        self.where = where
        super().__init__(where)


def _line_structure(exc: BaseException) -> bool:
    """Whether pyarrow stopped because values span lines (as opposed to a type problem)."""
    text = str(exc)
    return "out of sync" in text or ("Expected" in text and "columns" in text)


def _read(
    path: Path, fmt: str, options: DecodeOptions, hint: pa.Schema | None, plan: _Plan, label: str
) -> Iterator[pa.RecordBatch]:
    with open_bytes(path) as stream:
        # every stream open_bytes hands out is buffered and has peek(); typing.IO does not declare it
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]  # type: ignore[attr-defined]
        if not head:
            return  # an empty part
        if head.strip():
            refuse_non_data(head, fmt, label)
        if fmt == "json":
            yield from _read_json_array(stream, options, label).to_batches()
            return
        reads = ArrowReads(stream, label=label, limit=options.max_part_bytes)
        try:
            if fmt == "csv":
                if not plan.whole:
                    hint = _streaming_types(head, options, plan, hint)
                yield from _read_csv(reads, options, hint, plan)
            else:
                yield from _read_ndjson(reads, hint, plan, path, options, label)
        finally:
            reads.finish()  # on every path: no reader thread is left reading the stream


def _csv_options(
    options: DecodeOptions, types: dict[str, pa.DataType], plan: _Plan
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    convert = pacsv.ConvertOptions(
        column_types=types or None,
        null_values=list(options.null_values),
        strings_can_be_null=True,
        timestamp_parsers=list(options.timestamp_parsers) if options.timestamp_parsers else None,
    )
    read = pacsv.ReadOptions(block_size=plan.block, use_threads=plan.threads)
    parse = pacsv.ParseOptions(delimiter=options.delimiter, newlines_in_values=plan.multiline)
    return read, parse, convert


def _streaming_types(head: bytes, options: DecodeOptions, plan: _Plan, hint: pa.Schema | None) -> pa.Schema | None:
    """The types to stream a CSV part with: those of earlier parts (``hint``) where known,
    else those pyarrow infers from the part's first lines (``head``, cut at its last line end).

    A streaming reader left to infer types does so again on every block (about half its
    work); given the types up front it only converts, and stops at the same block when a
    value does not fit. The first lines are read from memory, so no reader thread is started
    on the part's stream for this.
    """
    cut = head.rfind(b"\n")
    if cut < 0:
        return hint  # no whole line yet: the reader finds out (and grows its blocks)
    read, parse, convert = _csv_options(options, _hinted_types(None, options), replace(plan, threads=False))
    try:
        first = pacsv.read_csv(
            pa.BufferReader(head[: cut + 1]), read_options=read, parse_options=parse, convert_options=convert
        ).schema
    except pa.ArrowInvalid:
        return hint  # the full reading will say what is wrong
    known = _hinted_types(hint, options)
    fields = [pa.field(f.name, known.get(f.name, f.type)) for f in first]
    return pa.schema(fields + [f for f in hint or () if f.name not in first.names])


def _read_csv(
    stream: ArrowReads, options: DecodeOptions, hint: pa.Schema | None, plan: _Plan
) -> Iterator[pa.RecordBatch]:
    read, parse, convert = _csv_options(options, _hinted_types(None if plan.whole else hint, options), plan)
    try:
        if plan.whole:
            table = pacsv.read_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            yield from table.to_batches() or [_empty(table.schema)]
            return
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        try:
            sent = False
            for batch in reader:
                sent = True
                yield batch
            if not sent:
                yield _empty(reader.schema)  # a header and no rows: the columns are still known
        finally:
            del reader  # let go of pyarrow's read-ahead now, not whenever this frame is freed
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" not in str(exc):
            raise
        if stream.eof and stream.bytes < SNIFF_BYTES and not stream.seen_text:
            return  # nothing but blank lines
        # no line end in the block read: a header or a row longer than the block
        raise _RecordTooLong(f" (no line end in the first {stream.bytes:,} bytes)") from None


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def _read_ndjson(
    stream: ArrowReads, hint: pa.Schema | None, plan: _Plan, path: Path, options: DecodeOptions, label: str
) -> Iterator[pa.RecordBatch]:
    read = pajson.ReadOptions(block_size=plan.block, use_threads=plan.threads)
    if not plan.whole:
        # nested hints are left out: an explicit struct type would drop fields a later part adds
        fields = [pa.field(name, t) for name, t in _reader_types(hint).items()]
        parse = pajson.ParseOptions(
            explicit_schema=pa.schema(fields) if fields else None,
            unexpected_field_behavior="infer",
            newlines_in_values=False,
        )
        reader = pajson.open_json(stream, read_options=read, parse_options=parse)
        try:
            yield from reader
        finally:
            del reader  # let go of pyarrow's read-ahead now, not whenever this frame is freed
        return
    try:
        table = pajson.read_json(stream, read_options=read)
    except pa.ArrowInvalid as exc:
        # pyarrow refuses a column whose type changes between rows; read such parts row by row
        if "changed from" not in str(exc) and "unexpected" not in str(exc).lower():
            raise
        with open_bytes(path) as again:
            table = rows_to_table(
                [json.loads(_text(line, options, label)) for line in _bounded(again, options, label) if line.strip()]
            )
    yield from table.to_batches()


def _bounded(stream: IO[bytes], options: DecodeOptions, label: str) -> Iterator[bytes]:
    """The lines of ``stream``, within the part's byte limit."""
    total = 0
    for line in stream:
        total += len(line)
        _within(total, options, label)
        yield line


def _bounded_chunks(stream: IO[bytes], options: DecodeOptions, label: str) -> Iterator[bytes]:
    """The content of ``stream`` in blocks, within the part's byte limit."""
    total = 0
    while chunk := stream.read(BLOCK_SIZE * 16):
        total += len(chunk)
        _within(total, options, label)
        yield chunk


def _within(total: int, options: DecodeOptions, label: str) -> None:
    if options.max_part_bytes is not None and total > options.max_part_bytes:
        raise too_large(label, options.max_part_bytes)


def _text(data: bytes, options: DecodeOptions, label: str, where: int = 0) -> str:
    """``data`` as text: invalid UTF-8 is an error, or replaced (and reported) on request."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if options.encoding_errors != "replace":
            raise DecodeError(
                f"{label}: text that is not valid UTF-8 at byte {where + exc.start:,}",
                hint="pass encoding_errors='replace' to replace the bad bytes with U+FFFD",
            ) from None
    text = data.decode("utf-8", "replace")
    report_replaced(label, text.count("\ufffd") - data.count("\ufffd".encode()), unit="invalid sequences")
    return text


def _read_json_array(stream: IO[bytes], options: DecodeOptions, label: str) -> pa.Table:
    data = b"".join(_bounded_chunks(stream, options, label))
    text = _text(data, options, label)
    value = json.loads(text) if text.strip() else []
    if not isinstance(value, list):
        raise DecodeError(f"{label}: expected a JSON array of records, got a {type(value).__name__}")
    return rows_to_table(value)


def _in_hint_order(batch: pa.RecordBatch, hint: pa.Schema | None) -> pa.RecordBatch:
    """Columns in the order earlier parts had them (an explicit JSON schema puts its own
    fields first), then any new ones."""
    if hint is None:
        return batch
    names = batch.schema.names
    order = [n for n in hint.names if n in names] + [n for n in names if n not in hint.names]
    return batch if order == names else batch.select(order)


def _reader_types(hint: pa.Schema | None) -> dict[str, pa.DataType]:
    """The flat types of ``hint`` for a reader to use. Text is read as ``string`` even after
    earlier parts became ``large_string`` (for pandas): pyarrow parses ``large_string`` about
    40 % slower than it casts afterwards."""
    return {
        f.name: pa.string() if pa.types.is_large_string(f.type) else f.type
        for f in hint or ()
        if not pa.types.is_null(f.type) and not pa.types.is_nested(f.type)
    }


def _hinted_types(hint: pa.Schema | None, options: DecodeOptions) -> dict[str, pa.DataType]:
    types = _reader_types(hint)
    types.update(options.arrow_types())
    return types


def _apply_types_batch(batch: pa.RecordBatch, options: DecodeOptions) -> pa.RecordBatch:
    if not options.column_types:
        return batch
    return _one_batch(_apply_types(pa.Table.from_batches([batch]), options))


def _select_batch(batch: pa.RecordBatch, options: DecodeOptions) -> pa.RecordBatch:
    if not options.columns:
        return batch
    return _one_batch(_select(pa.Table.from_batches([batch]), options))


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    batches = table.combine_chunks().to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


def rows_to_table(rows: list[Any]) -> pa.Table:
    """Records (dicts) → a table; columns whose values disagree in type become JSON text."""
    if not rows:
        return pa.table({})
    if not all(isinstance(r, dict) for r in rows):
        raise DecodeError("expected every record to be a JSON object")
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        names: dict[str, None] = {}
        for r in rows:
            names.update(dict.fromkeys(r))
        columns = {}
        for name in names:
            values = [r.get(name) for r in rows]
            try:
                columns[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                columns[name] = pa.array(
                    [
                        None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                        for v in values
                    ],
                    type=pa.string(),
                )
        return pa.table(columns)


def _apply_types(table: pa.Table, options: DecodeOptions) -> pa.Table:
    types = options.arrow_types()
    if not types:
        return table
    for name, t in types.items():
        if name in table.column_names and table.schema.field(name).type != t:
            i = table.column_names.index(name)
            try:
                table = table.set_column(i, pa.field(name, t), table.column(i).cast(t))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DecodeError(f"column {name!r} cannot be read as {t}: {first_line(exc)}") from exc
    return table


def _select(table: pa.Table, options: DecodeOptions) -> pa.Table:
    if not options.columns:
        return table
    missing = [c for c in options.columns if c not in table.column_names]
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows))
    return table.select(list(options.columns))
