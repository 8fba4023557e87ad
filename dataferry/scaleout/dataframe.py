"""``job.to_dask()``: a job's parts as a Dask DataFrame, one partition per part.

Dask needs every partition's columns and dtypes (``meta``) before it reads any. ``meta=``
decides where they come from:

- ``"scan"`` (the default): every part's schema is read first, on the cluster, and unified as
  :meth:`~dataferry.datajob.DataJob.to_arrow` unifies them; each partition is then decoded
  straight into those types, and ``ddf.compute()`` equals ``to_pandas()`` row for row (an
  integer column with a null in any part is float64 in every partition, as in ``to_pandas``).
  The parts are downloaded once: the scan leaves them in each worker's cache;
- ``"first"``: the first part's schema only (one part read up front); a later part whose
  column does not fit raises :class:`~dataferry.errors.SchemaDrift`;
- a ``pyarrow.Schema``: these columns and types, nothing read up front; a part that does not
  fit raises :class:`~dataferry.errors.SchemaDrift`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dataferry.decode import DecodeOptions
from dataferry.errors import InvalidArgument, SchemaDrift
from dataferry.output import Data, Sink, TableSink, as_table, check_dtype_backend, to_pandas
from dataferry.progress import Reporter, Stage
from dataferry.scaleout.tasks import (
    PART_RETRIES,
    PartTask,
    current_client,
    dashboard,
    each_done,
    forget,
    once,
    part_tasks,
    read_part,
    ship,
    unwrapped,
)
from dataferry.schema import conform, unify

META_CHOICES = ("scan", "first")
"""``meta=`` names (a ``pyarrow.Schema`` is accepted too)."""


@dataclass(frozen=True)
class Shape:
    """What a part's rows look like: its schema, the columns holding a null, and what reading it
    took (rows, downloaded bytes)."""

    schema: pa.Schema
    nulls: frozenset[str]
    rows: int
    nbytes: int


class _Shapes(Sink[None]):
    """A sink that keeps the schema and the columns with nulls of what it is given, not the rows."""

    def __init__(self) -> None:
        self._schemas: list[pa.Schema] = []
        self._nulls: set[str] = set()

    @property
    def schema(self) -> pa.Schema | None:  # type: ignore[override]  # computed from the pieces seen
        return unify(self._schemas) if self._schemas else None

    def write(self, data: Data) -> None:
        table = as_table(data)
        if not self._schemas or not self._schemas[-1].equals(table.schema):
            self._schemas.append(table.schema)
        self._nulls.update(c for c, column in zip(table.column_names, table.columns, strict=True) if column.null_count)

    def rollback_part(self) -> None:
        self._schemas.clear()
        self._nulls.clear()


@once
def part_shape(task: PartTask) -> Shape:
    """Read one part (on a worker) for its :class:`Shape`."""
    sink = _Shapes()
    read = read_part(task, sink)
    return Shape(sink.schema or pa.schema([]), frozenset(sink._nulls), read.rows, read.nbytes)


def part_table(task: PartTask) -> pa.Table:
    """Read one part (on a worker) as one Arrow table."""
    sink = TableSink()
    read_part(task, sink)
    tables = sink.take()
    return tables[0] if tables else pa.table({})


def meta_frame(schema: pa.Schema, nulls: frozenset[str], dtype_backend: str | None) -> Any:
    """The empty DataFrame Dask is given as ``meta``: the dtypes ``to_pandas`` gives ``schema``,
    with a column that holds a null somewhere as pandas has it then (integers as float64,
    booleans as object, with the default dtypes)."""
    empty = to_pandas(schema.empty_table(), dtype_backend)
    if dtype_backend is None:
        for name in nulls.intersection(schema.names):
            with_null = to_pandas(pa.table({name: pa.nulls(1, schema.field(name).type)}))[name].dtype
            if with_null != empty[name].dtype:
                empty[name] = empty[name].astype(with_null)
    return empty


@dataclass(frozen=True)
class ReadPart:
    """A partition: one part read on a worker, in the DataFrame's columns and dtypes.

    Attributes:
        schema: the Arrow types every partition has.
        dtypes: column → the pandas dtype of ``meta``.
        dtype_backend: as in ``to_pandas``.
    """

    schema: pa.Schema
    dtypes: dict[str, Any]
    dtype_backend: str | None

    def __call__(self, task: PartTask) -> Any:
        table = fitted(part_table(task), self.schema, task)
        frame = to_pandas(table, self.dtype_backend, consume=True)
        for name, dtype in self.dtypes.items():
            if frame[name].dtype != dtype:
                frame[name] = frame[name].astype(dtype)
        return frame


def fitted(table: pa.Table, schema: pa.Schema, task: PartTask) -> pa.Table:
    """``table`` in exactly ``schema``'s columns and types, or :class:`SchemaDrift` naming the
    first column that does not fit."""
    where = f"part {task.part.index} of {task.label}"
    extra = [name for name in table.column_names if name not in schema.names]
    if extra:
        raise SchemaDrift(
            f"{where} has a column the DataFrame was not built with: {extra[0]!r}",
            column=extra[0],
            expected="(no such column)",
            found=str(table.schema.field(extra[0]).type),
        )
    try:
        return conform(table, schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    for field in schema:  # which column: cast each on its own
        if field.name not in table.column_names:
            continue
        column = table.column(field.name)
        try:
            column.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise SchemaDrift(
                f"{where}: column {field.name!r} holds {column.type} values that do not fit {field.type}",
                column=field.name,
                expected=str(field.type),
                found=str(column.type),
            ) from None
    raise AssertionError("unreachable: every column fits on its own")


def run_each(fn: Callable[[PartTask], Any], tasks: Sequence[PartTask], client: Any, reporter: Reporter) -> list[Any]:
    """``fn`` over ``tasks``, on the cluster when there is one; results in task order, each
    counted on ``reporter`` as it completes."""
    if client is None:
        from dask.base import compute
        from dask.delayed import delayed

        computed = [unwrapped(r) for r in compute(*[delayed(fn, pure=False)(task) for task in tasks])]
        for shape in computed:
            reporter.add(parts=1, rows=shape.rows, bytes=shape.nbytes)
        return computed
    futures = client.map(fn, list(tasks), retries=PART_RETRIES, pure=False)
    order = {future.key: k for k, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    for future, shape in each_done(futures, client, tasks[0].ref):
        results[order[future.key]] = shape
        reporter.add(parts=1, rows=shape.rows, bytes=shape.nbytes)
    return results


def to_dask(
    job: Any,
    *,
    dask: Any,
    meta: str | pa.Schema,
    dtype_backend: str | None,
    timeout: float | None,
    progress: Any,
    options: DecodeOptions,
) -> Any:
    """See :meth:`dataferry.datajob.DataJob.to_dask`."""
    import dask.dataframe as dd
    from dask import config as dask_config

    if not isinstance(meta, pa.Schema) and meta not in META_CHOICES:
        raise InvalidArgument(f"meta={meta!r} is not one of {META_CHOICES} or a pyarrow.Schema")
    check_dtype_backend(dtype_backend)
    client = current_client(dask)
    with job._operation(progress) as reporter:
        parts = job._ready_parts(reporter, timeout)
        link = dashboard(client)
        ref = ship(job, client, f"{job.vendor}-{job.id}")
        tasks = part_tasks(job, parts, ref, options)
        nulls: frozenset[str] = frozenset()
        try:
            if isinstance(meta, pa.Schema):
                schema = meta
            elif not tasks:
                schema = job._empty_schema() or pa.schema([])
            else:
                reporter.update(message=f"reading every part's schema on the cluster{f' · {link}' if link else ''}")
                shapes = run_each(part_shape, tasks if meta == "scan" else tasks[:1], client, reporter)
                schema = unify(s.schema for s in shapes)
                nulls = frozenset().union(*(s.nulls for s in shapes))
        except BaseException:  # no DataFrame: its credentials leave the cluster now
            forget(ref, client)
            raise
        reporter.finish(Stage.DONE, message=f"a Dask DataFrame of {len(tasks)} partitions", dashboard=link)
    frame = meta_frame(schema, nulls, dtype_backend)
    if not tasks:
        return dd.from_pandas(frame, npartitions=1)
    reader = ReadPart(schema, dict(frame.dtypes), dtype_backend)
    hinted = [dataclasses.replace(task, hint=schema) for task in tasks]
    # the partitions are as to_pandas makes them: Dask's own conversion would turn nested values
    # (lists, dicts: object columns) into their text, and pandas' text is Arrow-backed already
    with dask_config.set({"dataframe.convert-string": False}):
        return dd.from_map(reader, hinted, meta=frame, label="dataferry-part", enforce_metadata=False)
