"""A group's data: every job's parts as one Arrow table, one DataFrame, batches, or one Parquet
dataset, tagged with the job each row came from.

Each job is read as it is alone (the same parts pipeline, streamed, its parts downloaded in
parallel), one job after another, with every job's progress in a row of one group display.
The tables of all jobs are put under one unified schema (a column missing from one job's data
is null there; an integer column that is decimal in another job becomes decimal).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataferry.constants import (
    DOWNLOAD_WORKERS,
    PARQUET_COMPRESSION,
    PARQUET_ROW_GROUP_ROWS,
    WAIT_TIMEOUT,
)
from dataferry.errors import InvalidArgument
from dataferry.progress.group import GroupProgress, make_group_renderer
from dataferry.progress.reporter import Stage

if TYPE_CHECKING:
    import pyarrow as pa


class GroupData:
    """The data methods of :class:`~dataferry.groups.JobGroup` (``self.jobs``: the jobs)."""

    jobs: list[Any]

    @property
    def data_jobs(self) -> Any:
        """The jobs that have data (snapshots, exports...: not runs or import runs), as a group."""
        from dataferry.groups import JobGroup

        return JobGroup(j for j in self.jobs if hasattr(j, "iter_batches"))

    def iter_batches(
        self, *, source_column: str | None = None, progress: Any = None, timeout: float | None = WAIT_TIMEOUT, **kw: Any
    ) -> Iterator[pa.RecordBatch]:
        """Every job's record batches, job after job, in flat memory.

        Args:
            source_column: add a column of this name holding each row's job id.
            progress: the group display's ``progress=``.
            timeout: seconds each job may still be waited for first.
            **kw: as for ``job.iter_batches`` (``cache``, ``workers``, decode options).
        """
        display, jobs = self._reading(progress, source_column)
        try:
            for i, job in enumerate(jobs):
                for batch in job.iter_batches(progress=display.row(i), timeout=timeout, **kw):
                    yield tagged(batch, source_column, job.id)
        except BaseException as exc:
            display.finish(
                Stage.STOPPED if isinstance(exc, (KeyboardInterrupt, GeneratorExit)) else Stage.FAILED,
                type(exc).__name__,
            )
            raise
        display.finish(Stage.DONE)

    def to_arrow(
        self, *, source_column: str | None = None, progress: Any = None, timeout: float | None = WAIT_TIMEOUT, **kw: Any
    ) -> pa.Table:
        """Every job's data as one Arrow table with one unified schema (see :meth:`iter_batches`)."""
        from dataferry.output import concat

        return concat(self._tables(source_column, progress, timeout, kw))

    def to_pandas(
        self,
        *,
        source_column: str | None = None,
        dtype_backend: str | None = None,
        progress: Any = None,
        timeout: float | None = WAIT_TIMEOUT,
        **kw: Any,
    ) -> Any:
        """Every job's data as one DataFrame, rows in job order then part order.

        Example::

            df = group.to_pandas(source_column="job_id")
            df.groupby("job_id").size()
        """
        from dataferry.output import check_dtype_backend, concat, to_pandas

        check_dtype_backend(dtype_backend)
        return to_pandas(concat(self._tables(source_column, progress, timeout, kw)), dtype_backend, consume=True)

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        partition_cols: Sequence[str] | None = None,
        source_column: str | None = None,
        compression: str = PARQUET_COMPRESSION,
        row_group_size: int = PARQUET_ROW_GROUP_ROWS,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = None,
        **decode: Any,
    ) -> Path:
        """Every job's data as one Parquet dataset directory: one file per job part (or hive
        partitions), written atomically: nothing is at ``path`` until every job is in.

        Args:
            path: the dataset directory.
            partition_cols: hive-partition by these columns; ``["job_id"]`` partitions by job
                (``source_column`` then defaults to ``"job_id"``).
            source_column: add a column of this name holding each row's job id.
            compression, row_group_size, cache, workers, timeout, **decode: as for ``job.to_parquet``.
            progress: the group display's ``progress=``.

        Returns:
            The directory written.
        """
        from dataferry.decode import DecodeOptions
        from dataferry.parquet import open_parquet_sink

        if source_column is None and partition_cols and "job_id" in partition_cols:
            source_column = "job_id"
        options = DecodeOptions(**decode)
        display, jobs = self._reading(progress, source_column, title="writing")
        sink = open_parquet_sink(
            path, partition_cols=partition_cols, dataset=True, compression=compression, row_group_size=row_group_size
        )
        try:
            with sink:
                offset = 0
                for i, job in enumerate(jobs):
                    tagging = TaggedSink(sink, source_column, job.id, offset)
                    with job._operation(display.row(i)) as reporter:
                        for _ in job._through(
                            tagging, reporter, options, cache=cache, workers=workers, timeout=timeout
                        ):
                            pass
                        reporter.finish(Stage.DONE)
                    offset = tagging.next_index
        except BaseException as exc:
            display.finish(Stage.STOPPED if isinstance(exc, KeyboardInterrupt) else Stage.FAILED, type(exc).__name__)
            raise
        display.finish(Stage.DONE, output=str(sink.path))
        return Path(sink.path)

    # -- internals ------------------------------------------------------------------------
    def _reading(
        self, progress: Any, source_column: str | None, title: str = "reading"
    ) -> tuple[GroupProgress, list[Any]]:
        without = [j for j in self.jobs if not hasattr(j, "iter_batches")]
        if without:
            names = ", ".join(f"{j.vendor} {j.kind} {j.id}" for j in without[:5])
            raise InvalidArgument(
                f"{len(without)} job(s) of this group have no data to read: {names}",
                hint="read the jobs that have data with group.data_jobs.to_pandas(...)",
            )
        if source_column is not None and (not isinstance(source_column, str) or not source_column):
            raise InvalidArgument(f"source_column must be a column name, got {source_column!r}")
        chosen = progress if progress is not None else (self.jobs[0].client.progress if self.jobs else None)
        renderer = make_group_renderer(chosen)
        clock = self.jobs[0].client.clock if self.jobs else None
        display = GroupProgress(renderer, self.jobs, title=title, **({"clock": clock} if clock else {}))
        return display, list(self.jobs)

    def _tables(
        self, source_column: str | None, progress: Any, timeout: float | None, kw: dict[str, Any]
    ) -> list[pa.Table]:
        display, jobs = self._reading(progress, source_column)
        tables = []
        try:
            for i, job in enumerate(jobs):
                tables.append(
                    tagged(job.to_arrow(progress=display.row(i), timeout=timeout, **kw), source_column, job.id)
                )
        except BaseException as exc:
            display.finish(Stage.STOPPED if isinstance(exc, KeyboardInterrupt) else Stage.FAILED, type(exc).__name__)
            raise
        display.finish(Stage.DONE)
        return tables


def tagged(data: Any, column: str | None, value: str) -> Any:
    """``data`` (a table or a batch) with a constant text column ``column`` appended."""
    if column is None:
        return data
    import pyarrow as pa

    if column in data.schema.names:
        raise InvalidArgument(f"source_column={column!r} is already a column of the data; choose another name")
    values = pa.array([value] * data.num_rows, pa.string())
    if isinstance(data, pa.RecordBatch):
        schema = data.schema.append(pa.field(column, pa.string()))
        return pa.RecordBatch.from_arrays([*data.columns, values], schema=schema)
    return data.append_column(pa.field(column, pa.string()), values)


class TaggedSink:
    """A job's view of a group's Parquet sink: its rows tagged with the job id, its part files
    numbered after the previous jobs' (so no file of one job replaces another's)."""

    def __init__(self, sink: Any, column: str | None, value: str, offset: int) -> None:
        self.sink = sink
        self.column = column
        self.value = value
        self.offset = offset
        self.next_index = offset

    @property
    def schema(self) -> Any:
        schema = self.sink.schema
        if schema is None or self.column is None or self.column not in schema.names:
            return schema
        return schema.remove(schema.get_field_index(self.column))

    def begin_part(self, index: int | None = None) -> None:
        number = self.next_index if index is None else self.offset + index
        self.next_index = max(self.next_index, number + 1)
        self.sink.begin_part(number)

    def write(self, data: Any) -> None:
        self.sink.write(tagged(data, self.column, self.value))

    def rollback_part(self) -> None:
        self.sink.rollback_part()

    def end_part(self) -> None:
        self.sink.end_part()

    def take(self) -> list[Any]:
        return []
