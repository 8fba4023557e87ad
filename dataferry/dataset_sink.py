"""A Parquet dataset as a sink: one file per part, or hive partitions, on disk or in object
storage, growing run after run by the rules of :mod:`dataferry.datasets`."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dataferry import datasets
from dataferry.constants import (
    PARQUET_COMPRESSION,
    PARQUET_ROW_GROUP_BYTES,
    PARQUET_ROW_GROUP_ROWS,
)
from dataferry.errors import InvalidArgument
from dataferry.output import Data, Sink, as_table
from dataferry.parquet import ParquetFileSink, _copy_rows
from dataferry.pool import Behind
from dataferry.schema import conform, unify
from dataferry.storage import Destination, resolve


@dataclass(frozen=True)
class Staged:
    """What one copy of a :class:`ParquetDatasetSink` wrote into the staging directory (a part
    written on a Dask worker), for the sink that commits: see :meth:`ParquetDatasetSink.include`."""

    rows: int
    schema: pa.Schema | None
    file_schemas: dict[str, pa.Schema]
    flushed_schemas: list[pa.Schema]


class ParquetDatasetSink(Sink[pa.Table]):
    """Streams batches into a Parquet dataset directory, on disk or in object storage: one
    file per part, or hive partitions (``col=value/``) when ``partition_cols`` are given.

    Args:
        path: the dataset's directory: a path or a URL (``s3://lake/products/``...).
        partition_cols: columns to partition by.
        existing_data: what to do with data already there: ``"error"`` (the default),
            ``"append"``, ``"replace_partitions"`` or ``"replace"`` (see :mod:`dataferry.datasets`).
        name: a token for this job (its vendor and id) in every file name, so that a re-run of
            the same job writes the same names and replaces its own files.
        compression, row_group_size, row_group_bytes: as for :class:`ParquetFileSink`.
        storage_options, filesystem, destination: as for :class:`ParquetFileSink`.

    Files are named ``part-00000-<name>.parquet`` (``part-00000-<name>-0-0.parquet`` inside
    partitions; without a name, ``part-00000.parquet``). They are written to a hidden staging
    directory beside the dataset and moved in when every part is complete. Every file ends
    with the same schema, joined with the dataset's existing one (kept in ``_common_metadata``):
    a file written before the schema widened is rewritten when the dataset is closed.

    Raises:
        OutputExists: ``existing_data="error"`` and the dataset holds data (before anything is
            downloaded).
        SchemaConflict: a column cannot be stored beside the dataset's type for it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        partition_cols: Sequence[str] | None = None,
        existing_data: str = "error",
        name: str | None = None,
        compression: str = PARQUET_COMPRESSION,
        row_group_size: int = PARQUET_ROW_GROUP_ROWS,
        row_group_bytes: int = PARQUET_ROW_GROUP_BYTES,
        storage_options: Mapping[str, Any] | None = None,
        filesystem: Any = None,
        destination: Destination | None = None,
    ) -> None:
        if destination is None:
            if path is None:
                raise InvalidArgument("ParquetDatasetSink needs a path")
            destination = resolve(path, storage_options=storage_options, filesystem=filesystem)
        self.dest = destination
        self.existing_data = datasets.check_mode(existing_data, dataset=True)
        if self.dest.kind() == "file":
            raise InvalidArgument(f"{self.dest.url} is a file; a Parquet dataset needs a directory path")
        self.dest.check()
        self.path = self.dest.result()
        self.partition_cols = list(partition_cols or [])
        self.token = name
        self.compression = compression
        self.row_group_size = row_group_size
        self.row_group_bytes = row_group_bytes
        self.existing = datasets.existing_files(self.dest)
        if existing_data == "error":
            datasets.check_empty(self.dest, self.existing)
        # the dataset's schema: this run's columns join it (types kept where they fit)
        self._base = (
            datasets.existing_schema(self.dest, self.existing)
            if existing_data in ("append", "replace_partitions") and self.existing
            else None
        )
        self.schema: pa.Schema | None = self._base
        self.dest.make_parent(self.dest.path)
        self.tmp = self.dest.temp_name()
        if self.dest.local:
            Path(self.tmp).mkdir()
        self.rows = 0
        self.files: list[Path | str] = []
        self._index = 0
        self._part: ParquetFileSink | None = None
        self._buffer: list[pa.Table] = []
        self._buffered_bytes = 0
        self._chunk = 0
        self._part_rows = 0
        self._file_schemas: dict[str, pa.Schema] = {}  # part file → the schema it was written with
        self._flushed_schemas: list[pa.Schema] = []  # of the partitioned writes (file columns only)
        # off disk a part's file is finished (its last bytes uploaded, the upload completed under
        # its staging name) behind the next part's decoding, one at a time: the upload's round
        # trips are hidden, and memory holds no more than the encoded bytes still in flight
        self._finishing = None if self.dest.local else Behind("dataferry-upload")

    def _stem(self) -> str:
        return datasets.part_name(self._index, self.token)

    def _staged(self, *names: str) -> str:
        return os.path.join(self.tmp, *names) if self.dest.local else "/".join((self.tmp, *names))

    def begin_part(self, index: int | None = None) -> None:
        """Start the next part's file(s)."""
        self._index = self._index + 1 if index is None else index
        self._chunk = 0
        self._part_rows = 0
        if not self.partition_cols:
            inner = Destination(
                self.dest.fs,
                self._staged(f"{self._stem()}.parquet"),
                self.dest.url,
                local=self.dest.local,
                redactor=self.dest.redactor,
                scheme=self.dest.scheme,
            )
            self._part = ParquetFileSink(
                destination=inner,
                direct=True,
                compression=self.compression,
                row_group_size=self.row_group_size,
                row_group_bytes=self.row_group_bytes,
            )
            if self.schema is not None:
                self._part.schema = self._part._fits = self.schema

    def write(self, data: Data) -> None:
        """Append a batch or table of the current part."""
        table = as_table(data)
        if self._part is None and not self.partition_cols:
            self.begin_part(self._index)
        missing = [c for c in self.partition_cols if c not in table.column_names]
        if missing and table.num_rows:
            shown = ", ".join(table.column_names[:12])
            raise InvalidArgument(f"partition_cols {missing} are not columns of the data ({shown})")
        self.schema = unify([self.schema, table.schema]) if self.schema is not None else unify([table.schema])
        if self._base is not None:
            self.schema = datasets.joined(self._base, self.schema, self.dest.url)
        self.rows += table.num_rows
        self._part_rows += table.num_rows
        if self._part is not None:
            self._part.write(table)
            return
        if table.num_rows:
            self._buffer.append(table)
            self._buffered_bytes += table.get_total_buffer_size()
            rows = sum(t.num_rows for t in self._buffer)
            if rows >= self.row_group_size or self._buffered_bytes >= self.row_group_bytes:
                self._flush_partitions()

    def rollback_part(self) -> None:
        """Withdraw the current part's rows."""
        self.rows -= self._part_rows
        self._part_rows = 0
        if self._part is not None:
            self._part.abort()
            self.begin_part(self._index)
            return
        self._buffer.clear()
        self._buffered_bytes = 0
        prefix = f"{self._stem()}-"
        for f in self.dest.files(self.tmp):
            if os.path.basename(f).startswith(prefix):
                self.dest.delete(f)
        self._chunk = 0

    def end_part(self) -> None:
        """Close the current part's file(s)."""
        if self._part is not None:
            part, self._part = self._part, None
            if not part.rows:
                part.abort()
                return
            assert part.schema is not None
            self._file_schemas[part.dest.path] = part.schema
            try:
                if self._finishing is None:
                    part.close()
                else:
                    part.flush()  # the last row group is encoded here, as on disk: its Arrow data is freed now
                    self._finishing.start(lambda: _finish(part))  # raises what finishing the previous one raised
            except BaseException:
                part.abort()  # not the current part any more: abort() would not see it
                raise
        else:
            self._flush_partitions()

    def _finished(self) -> None:
        """Wait for the part file being finished behind (its error is raised here)."""
        if self._finishing is not None:
            self._finishing.wait()

    def close(self) -> Path | str:
        """Bring every file to the one schema, move them into the dataset, and delete what
        ``existing_data`` says they replace."""
        self.end_part()
        self._finished()
        file_schema = None
        if self.schema is not None:
            file_schema = pa.schema([f for f in self.schema if f.name not in self.partition_cols])
            # only files written before the schema widened are read back and rewritten
            if self.partition_cols:
                stale = (
                    [f for f in self.dest.files(self.tmp) if not f.endswith(datasets.COMMON_METADATA)]
                    if any(not s.equals(file_schema) for s in self._flushed_schemas)
                    else []
                )
            else:
                stale = [f for f, schema in self._file_schemas.items() if not schema.equals(file_schema)]
            for f in stale:
                with self.dest.open_input(f) as raw:
                    current = pq.read_schema(raw)
                if not current.equals(file_schema):
                    self._rewrite(f, file_schema)
        written = datasets.commit(
            self.dest, self.tmp, self.existing_data, existing=self.existing, token=self.token, schema=self.schema
        )
        if self.dest.local:
            self.files = [Path(self.dest.url, *r.split("/")) for r in written]
        else:
            self.files = [f"{self.dest.url.rstrip('/')}/{r}" for r in written]
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (the dataset is left as it was)."""
        if self._part is not None:
            self._part.abort()
        with contextlib.suppress(Exception):  # already failing: nothing may land after the delete
            self._finished()
        if self.dest.local:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            self.dest.delete_tree(self.tmp)

    def staged(self) -> Staged:
        """What this sink has written into the staging directory so far."""
        self._finished()
        return Staged(self.rows, self.schema, dict(self._file_schemas), list(self._flushed_schemas))

    def include(self, staged: Staged) -> None:
        """Count what a copy of this sink staged elsewhere (a Dask worker, into the same
        staging directory) as written here, so that :meth:`close` brings those files to the
        one schema and commits them too."""
        self.rows += staged.rows
        self._file_schemas.update(staged.file_schemas)
        self._flushed_schemas.extend(staged.flushed_schemas)
        if staged.schema is not None:
            self.schema = unify([s for s in (self.schema, staged.schema) if s is not None])
            if self._base is not None:
                self.schema = datasets.joined(self._base, self.schema, self.dest.url)

    def _flush_partitions(self) -> None:
        if not self._buffer:
            return
        schema = unify(x.schema for x in self._buffer)
        if self.schema is not None:
            schema = pa.schema(
                [self.schema.field(n) if n in self.schema.names else schema.field(n) for n in schema.names]
            )
        table = pa.concat_tables([conform(t, schema) for t in self._buffer])
        self._flushed_schemas.append(pa.schema([f for f in schema if f.name not in self.partition_cols]))
        with self.dest.guard("writing"):
            pq.write_to_dataset(
                table,
                root_path=self.tmp,
                filesystem=self.dest.fs,
                partition_cols=self.partition_cols,
                basename_template=f"{self._stem()}-{self._chunk}-{{i}}.parquet",
                compression=self.compression,
                row_group_size=max(1, table.num_rows),
                existing_data_behavior="overwrite_or_ignore",
            )
        self._chunk += 1
        self._buffer.clear()
        self._buffered_bytes = 0

    def _rewrite(self, file: str, schema: pa.Schema) -> None:
        tmp = self.dest.temp_name(file)
        with (
            self.dest.guard("rewriting"),
            pq.ParquetWriter(tmp, schema, compression=self.compression, filesystem=self.dest.fs) as writer,
        ):
            _copy_rows(self.dest, file, writer, schema, None, self.row_group_size)
        self.dest.move(tmp, file)


def _finish(part: ParquetFileSink) -> None:
    """Close a part's file; one that fails is aborted (a file left open would complete its
    upload whenever it is collected, after the run has deleted its staging prefix)."""
    try:
        part.close()
    except BaseException:
        part.abort()
        raise


def open_parquet_sink(
    path: str | os.PathLike[str],
    *,
    partition_cols: Sequence[str] | None = None,
    dataset: bool | None = None,
    existing_data: str | None = None,
    name: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    filesystem: Any = None,
    **kw: Any,
) -> ParquetFileSink | ParquetDatasetSink:
    """A file sink, or a dataset sink when ``path`` is an existing directory, ends with ``/``,
    ``partition_cols`` are given, or ``dataset=True``.

    ``existing_data`` defaults to ``"replace"`` for a file (as pandas' ``to_parquet``) and to
    ``"error"`` for a dataset (as pyarrow's ``write_dataset``).
    """
    dest = resolve(path, storage_options=storage_options, filesystem=filesystem)
    if dataset is None:
        dataset = bool(partition_cols) or os.fspath(path).endswith(("/", os.sep)) or dest.kind() == "dir"
    if not dataset and partition_cols:
        raise InvalidArgument("partition_cols needs a directory path (a Parquet dataset)")
    if dataset:
        return ParquetDatasetSink(
            destination=dest, partition_cols=partition_cols, name=name, existing_data=existing_data or "error", **kw
        )
    if existing_data not in (None, "replace", "error"):
        raise InvalidArgument(
            f"existing_data={existing_data!r} needs a dataset (a directory path, or "
            "partition_cols=); a single file takes 'replace' or 'error'"
        )
    return ParquetFileSink(destination=dest, existing_data=existing_data or "replace", **kw)
