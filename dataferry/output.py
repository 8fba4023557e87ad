"""Where decoded parts go: the :class:`Sink` protocol the parts pipeline drives, the sinks
that hand tables or batches to the caller, and Arrow → pandas.

The Parquet sinks are in :mod:`dataferry.parquet`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeAlias, TypeVar

import pyarrow as pa

from dataferry.errors import InvalidArgument
from dataferry.schema import conform, unify

DTYPE_BACKENDS = (None, "numpy_nullable", "pyarrow")
"""Accepted ``dtype_backend=`` values, as in pandas."""

Data: TypeAlias = "pa.Table | pa.RecordBatch"


def as_table(data: Data) -> pa.Table:
    """A record batch as a one-chunk table (tables pass through)."""
    return pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """All tables as one, under one unified schema."""
    tables = [t for t in tables if t.num_columns or t.num_rows]
    if not tables:
        return pa.table({})
    schema = unify(t.schema for t in tables)
    return pa.concat_tables([conform(t, schema) for t in tables])


def with_constants(columns: Mapping[str, Any] | None) -> Callable[[pa.Table], pa.Table] | None:
    """What adds ``columns`` (one value each) to every decoded group, or ``None``."""
    if not columns:
        return None
    scalars = {}
    for name, value in columns.items():
        try:
            scalars[name] = value if isinstance(value, pa.Scalar) else pa.scalar(value)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidArgument(f"constant_columns[{name!r}]: {value!r} is not one value Arrow can store") from exc

    def add(table: pa.Table) -> pa.Table:
        for name, scalar in scalars.items():
            column = pa.repeat(scalar, table.num_rows)
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, column)
            else:
                table = table.append_column(name, column)
        return table

    return add


def check_dtype_backend(dtype_backend: str | None) -> None:
    """Raise :class:`InvalidArgument` unless ``dtype_backend`` is one pandas accepts."""
    if dtype_backend not in DTYPE_BACKENDS:
        raise InvalidArgument(f"dtype_backend={dtype_backend!r} is not one of {DTYPE_BACKENDS}")


def pandas_pieces(dtype_backend: str | None = None) -> Callable[[pa.Table], pa.Table] | None:
    """What to do to each piece of a table on its way to :func:`to_pandas`, on the threads that
    decode it, or ``None``.

    pandas 3 keeps text as Arrow ``large_string`` (64-bit offsets) and casts every ``string``
    column to it when it converts: one column after another, into fresh memory, after the last
    part. Casting each piece as it is decoded leaves it nothing to do (about 0.1 s less for
    319 MB of CSV).
    """
    check_dtype_backend(dtype_backend)
    if dtype_backend == "pyarrow":
        return None  # ArrowDtype keeps the Arrow type as it is
    import pandas as pd

    dtype = pd.StringDtype() if dtype_backend == "numpy_nullable" else pa.array(["a"]).to_pandas().dtype
    return large_strings if getattr(dtype, "storage", None) == "pyarrow" else None


def large_strings(table: pa.Table) -> pa.Table:
    """``table`` with its text columns as ``large_string`` (the text itself is not copied)."""
    if not any(pa.types.is_string(f.type) for f in table.schema):
        return table
    fields = [
        pa.field(f.name, pa.large_string(), f.nullable, f.metadata) if pa.types.is_string(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def to_pandas(table: pa.Table, dtype_backend: str | None = None, *, consume: bool = False) -> Any:
    """An Arrow table as a DataFrame.

    Args:
        dtype_backend: ``None`` (pandas' defaults), ``"numpy_nullable"`` or ``"pyarrow"``
            (``ArrowDtype`` columns, zero-copy where possible), as in ``pandas.read_csv``.
        consume: free the table's memory column by column while converting (halves the
            peak); the table must not be used afterwards.
    """
    import pandas as pd

    kw = {"self_destruct": True, "split_blocks": True} if consume else {}
    check_dtype_backend(dtype_backend)
    if dtype_backend == "pyarrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype, **kw)
    if dtype_backend == "numpy_nullable":
        mapping = {
            pa.int8(): pd.Int8Dtype(),
            pa.int16(): pd.Int16Dtype(),
            pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(),
            pa.uint8(): pd.UInt8Dtype(),
            pa.uint16(): pd.UInt16Dtype(),
            pa.uint32(): pd.UInt32Dtype(),
            pa.uint64(): pd.UInt64Dtype(),
            pa.bool_(): pd.BooleanDtype(),
            pa.float32(): pd.Float32Dtype(),
            pa.float64(): pd.Float64Dtype(),
            pa.string(): pd.StringDtype(),
            pa.large_string(): pd.StringDtype(),
        }
        return table.to_pandas(types_mapper=mapping.get, **kw)
    return table.to_pandas(**kw)


Out = TypeVar("Out")


class Sink(Generic[Out]):
    """Where a job's decoded parts go; the parts pipeline (:mod:`dataferry.pipeline`) drives it.

    For each part, in part order: :meth:`begin_part`, :meth:`write` for every decoded piece,
    :meth:`rollback_part` when the part has to be decoded again from its start (withdraw what
    it wrote since :meth:`begin_part`), then :meth:`end_part`. :attr:`schema` is the schema
    known so far: later parts are decoded with those types where they fit. :meth:`take` hands
    the caller what is ready (tables, batches) and forgets it; a sink that writes elsewhere
    has nothing to hand. As a context manager: :meth:`close` on success, :meth:`abort` on an
    error.
    """

    schema: pa.Schema | None = None

    def begin_part(self, index: int | None = None) -> None:
        """A part starts."""

    def write(self, data: Data) -> None:
        """Append a decoded piece of the current part."""
        raise NotImplementedError

    def rollback_part(self) -> None:
        """Withdraw what the current part wrote: it starts over."""
        raise NotImplementedError

    def end_part(self) -> None:
        """The current part is complete."""

    def take(self) -> list[Out]:
        """What is ready for the caller, handed over once."""
        return []

    def close(self) -> Any:
        """Finish the output (the target, for sinks that write one)."""
        return None

    def abort(self) -> None:
        """Drop what was written."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            try:
                self.close()
            except BaseException:
                self.abort()  # a close cut off (a failed commit, Ctrl-C) leaves nothing behind
                raise
        else:
            self.abort()


class TableSink(Sink[pa.Table]):
    """One Arrow table per part, handed over when the part is complete."""

    def __init__(self) -> None:
        self._pieces: list[pa.Table] = []
        self._ready: list[pa.Table] = []
        self._known: list[pa.Schema] = []

    @property
    def schema(self) -> pa.Schema | None:  # type: ignore[override]  # computed from the parts seen
        return unify(self._known) if self._known else None

    def begin_part(self, index: int | None = None) -> None:
        self._pieces = []

    def write(self, data: Data) -> None:
        self._pieces.append(as_table(data))

    def rollback_part(self) -> None:
        self._pieces.clear()

    def end_part(self) -> None:
        table = one_table(self._pieces)
        self._pieces = []
        if table.num_columns:
            self._known.append(table.schema)
        self._ready.append(table)

    def take(self) -> list[pa.Table]:
        ready, self._ready = self._ready, []
        return ready


class BatchSink(Sink[pa.RecordBatch]):
    """Record batches handed over as they are decoded, in flat memory.

    Batches already handed over cannot be taken back: when a part starts over, the rows it
    had handed over are passed over on the second reading, so every row comes exactly once.
    """

    def __init__(self) -> None:
        self._ready: list[pa.RecordBatch] = []
        self._known: list[pa.Schema] = []
        self._sent = 0  # rows of this part already handed over
        self._skip = 0  # rows of this part's new reading still to pass over

    @property
    def schema(self) -> pa.Schema | None:  # type: ignore[override]  # computed from the batches seen
        return unify(self._known) if self._known else None

    def begin_part(self, index: int | None = None) -> None:
        self._sent = self._skip = 0

    def write(self, data: Data) -> None:
        table = as_table(data)
        if self._skip:
            if table.num_rows <= self._skip:
                self._skip -= table.num_rows
                return
            table = table.slice(self._skip)
            self._skip = 0
        self._sent += table.num_rows
        if not self._known or not self._known[-1].equals(table.schema):
            self._known.append(table.schema)
        self._ready.extend(table.to_batches())

    def rollback_part(self) -> None:
        self._skip = self._sent

    def take(self) -> list[pa.RecordBatch]:
        ready, self._ready = self._ready, []
        return ready


def one_table(tables: Sequence[pa.Table]) -> pa.Table:
    """One part's tables as one table (zero-copy when they share a schema)."""
    if not tables:
        return pa.table({})
    first = tables[0].schema
    if all(t.schema.equals(first) for t in tables):
        return pa.concat_tables(tables)
    return concat(tables)
