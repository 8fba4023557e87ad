"""Bytes on disk → Arrow tables, with pyarrow's native readers.

gzip is recognised by its magic bytes (whatever the part claims) and inflated with ISA-L
when it is installed (several times faster than zlib, and it releases the GIL), otherwise
with the standard library. A truncated or corrupt stream is a :class:`PartCorrupt`, never a
short table.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from dataferry.errors import DecodeError, InvalidArgument, PartCorrupt
from dataferry.parts import FORMATS, normalize_format

try:  # pragma: no cover - exercised when isal is installed (a dependency)
    from isal import igzip as _igzip

    HAVE_ISAL = True
except ImportError:  # pragma: no cover
    _igzip = None
    HAVE_ISAL = False

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip stream."""

BLOCK_SIZE = 512 << 10
"""Bytes of text parsed per block (per record batch when streaming): small blocks keep memory
flat whatever the part's size (512 KiB measured as fast as 1 MiB, with ~40 MB less peak RSS
for a Parquet export; 2 MiB was slower). A part with a longer record is read again with
blocks 16 times larger, up to :data:`MAX_BLOCK_SIZE`."""

MAX_BLOCK_SIZE = 1 << 30
"""The largest block tried: one record (one CSV row, one NDJSON line) may be up to this long."""


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

    Example:
        >>> DecodeOptions(column_types={"id": "string"}).arrow_types()["id"]
        DataType(string)
    """

    column_types: Mapping[str, Any] | None = None
    delimiter: str = ","
    timestamp_parsers: Sequence[str] | None = None
    null_values: Sequence[str] = ("", "NULL", "null", "NaN", "N/A", "n/a")
    columns: Sequence[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_bytes(path: Path) -> IO[bytes]:
    """A binary stream of the part's content, gunzipped when it is gzip."""
    if is_gzip(path):
        if _igzip is not None:
            # inflating in the reading thread (ISA-L releases the GIL) beats handing blocks over
            # from a helper thread: parts are decoded two at a time anyway
            return _igzip.open(path, "rb")
        return gzip.open(path, "rb")
    return open(path, "rb")


class ArrowReads:
    """A binary stream as pyarrow's readers like it: every block they ask for is inflated (or
    read) straight into a buffer from Arrow's memory pool.

    Handing them the stream itself makes each block a new Python ``bytes`` object (a large
    ``malloc``/``free`` per block); this was measured about 8 % faster end to end. The stream
    stays its owner's to close.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.closed = False

    def read_buffer(self, nbytes: int) -> pa.Buffer:
        buffer = pa.allocate_buffer(max(0, nbytes), resizable=True)
        got = self._stream.readinto(memoryview(buffer)) if nbytes > 0 else 0  # type: ignore[attr-defined]
        buffer.resize(got or 0)
        return buffer

    def read(self, nbytes: int = -1) -> bytes:
        return self._stream.read(nbytes)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        self.closed = True


_CORRUPT = (EOFError, zlib.error, gzip.BadGzipFile, OSError)


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


def stream_part(path: Path, fmt: str, options: DecodeOptions | None = None, *, hint: pa.Schema | None = None,
                label: str = "", whole: bool = False, threads: bool = True) -> Iterator[pa.RecordBatch | Restart]:
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
      again with larger blocks.

    Whenever batches were already given out, a :data:`RESTART` precedes the new reading.

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
        DecodeError: the content is not valid for ``fmt``.
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
    dirty = False  # batches of this part were given out since the last RESTART
    n = 0
    block = BLOCK_SIZE
    while True:
        plan = replace(plans[n], block=block, threads=threads)
        fresh = True
        try:
            for batch in _read(path, fmt, options, hint, plan):
                if fresh and dirty:
                    yield RESTART
                fresh, dirty = False, True
                yield _select_batch(_apply_types_batch(_in_hint_order(batch, hint), options), options)
            if fresh and dirty:
                yield RESTART  # the new reading found no rows: withdraw the earlier ones
            return
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block < MAX_BLOCK_SIZE:
                block = min(block * 16, MAX_BLOCK_SIZE)  # a record longer than a block: same plan, bigger blocks
                continue
            n += 1
            if n == len(plans):
                raise DecodeError(f"{label}: not valid {fmt}: {_first_line(exc)}") from exc
            if not _line_structure(exc) and not plans[n].whole and n + 1 < len(plans):
                n += 1  # a type problem: reading lines differently will not help, read it whole
        except json.JSONDecodeError as exc:
            raise DecodeError(f"{label}: not valid {fmt}: {exc}") from exc
        except _CORRUPT as exc:
            raise PartCorrupt(
                f"{label}: the compressed data is truncated or damaged ({_first_line(exc)})",
                hint="the cached copy was discarded; run the same call again to download it anew",
            ) from exc


def _line_structure(exc: BaseException) -> bool:
    """Whether pyarrow stopped because values span lines (as opposed to a type problem)."""
    text = str(exc)
    return "out of sync" in text or "Expected" in text and "columns" in text


def _read(path: Path, fmt: str, options: DecodeOptions, hint: pa.Schema | None, plan: _Plan) -> Iterator[pa.RecordBatch]:
    if fmt == "csv" and not plan.whole:
        hint = _streaming_types(path, options, plan, hint)
    with open_bytes(path) as stream:
        if not stream.peek(1):
            return
        if fmt == "json":
            yield from _read_json_array(stream).to_batches()
        elif fmt == "csv":
            yield from _read_csv(ArrowReads(stream), options, hint, plan)
        else:
            yield from _read_ndjson(ArrowReads(stream), hint, plan, path)


def _csv_options(options: DecodeOptions, types: dict[str, pa.DataType], plan: _Plan
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


def _streaming_types(path: Path, options: DecodeOptions, plan: _Plan, hint: pa.Schema | None) -> pa.Schema | None:
    """The types to stream a CSV part with: those of earlier parts (``hint``) where known,
    else those pyarrow infers from this part's first block.

    A streaming reader left to infer types does so again on every block (about half its
    work); given the types up front it only converts, and stops at the same block when a
    value does not fit.
    """
    # one block is all that is read: a threaded reader would parse several ahead for nothing
    read, parse, convert = _csv_options(options, _hinted_types(None, options), replace(plan, threads=False))
    with open_bytes(path) as stream:
        try:
            with contextlib.closing(pacsv.open_csv(ArrowReads(stream), read_options=read, parse_options=parse,
                                                   convert_options=convert)) as reader:
                first = reader.schema
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return hint
            raise
    known = _hinted_types(hint, options)
    fields = [pa.field(f.name, known.get(f.name, f.type)) for f in first]
    return pa.schema(fields + [f for f in hint or () if f.name not in first.names])


def _read_csv(stream: ArrowReads, options: DecodeOptions, hint: pa.Schema | None, plan: _Plan) -> Iterator[pa.RecordBatch]:
    read, parse, convert = _csv_options(options, _hinted_types(None if plan.whole else hint, options), plan)
    try:
        if plan.whole:
            yield from pacsv.read_csv(stream, read_options=read, parse_options=parse, convert_options=convert).to_batches()
        else:
            yield from pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" not in str(exc):
            raise


def _read_ndjson(stream: ArrowReads, hint: pa.Schema | None, plan: _Plan, path: Path) -> Iterator[pa.RecordBatch]:
    read = pajson.ReadOptions(block_size=plan.block, use_threads=plan.threads)
    if not plan.whole:
        # nested hints are left out: an explicit struct type would drop fields a later part adds
        fields = [pa.field(name, t) for name, t in _reader_types(hint).items()]
        parse = pajson.ParseOptions(explicit_schema=pa.schema(fields) if fields else None,
                                    unexpected_field_behavior="infer", newlines_in_values=False)
        yield from pajson.open_json(stream, read_options=read, parse_options=parse)
        return
    try:
        table = pajson.read_json(stream, read_options=read)
    except pa.ArrowInvalid as exc:
        # pyarrow refuses a column whose type changes between rows; read such parts row by row
        if "changed from" not in str(exc) and "unexpected" not in str(exc).lower():
            raise
        with open_bytes(path) as again:
            table = rows_to_table([json.loads(line) for line in again if line.strip()])
    yield from table.to_batches()


def _read_json_array(stream: IO[bytes]) -> pa.Table:
    value = json.loads(stream.read() or b"[]")
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise DecodeError(f"expected a JSON array of objects, got {type(value).__name__}")
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
    return {f.name: pa.string() if pa.types.is_large_string(f.type) else f.type
            for f in hint or () if not pa.types.is_null(f.type) and not pa.types.is_nested(f.type)}


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
                    [None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
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
                raise DecodeError(f"column {name!r} cannot be read as {t}: {_first_line(exc)}") from exc
    return table


def _select(table: pa.Table, options: DecodeOptions) -> pa.Table:
    if not options.columns:
        return table
    missing = [c for c in options.columns if c not in table.column_names]
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows))
    return table.select(list(options.columns))


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
