"""Parquet output: one file, or a dataset directory (one file per part, or hive partitions).

Output is written under a temporary name next to the target and renamed only when complete,
so a crash or an error never leaves a half-written file under the name asked for. Memory
stays flat: batches are buffered up to one row group, then written. When a later part needs a
wider schema (a column that was all-null becomes numeric, say), what was already written is
re-read batch by batch and rewritten with the wider schema; when a part has to be decoded
again from its start, the rows it had contributed are rolled back first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataferry.constants import (
    PARQUET_COMPRESSION,
    PARQUET_DICTIONARY_RATIO,
    PARQUET_DICTIONARY_SAMPLE_ROWS,
    PARQUET_ROW_GROUP_BYTES,
    PARQUET_ROW_GROUP_ROWS,
)
from dataferry.errors import InvalidArgument
from dataferry.output import Data, Sink, as_table
from dataferry.schema import conform, needs_widening, unify


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in ``path``'s directory (same filesystem, so rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``, replacing a file or a whole directory: the old one is moved
    aside first and removed only once the new one is in place."""
    if dst.is_dir() and not dst.is_symlink():
        aside = temp_sibling(dst)
        os.replace(dst, aside)
        os.replace(src, dst)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(src, dst)


def dictionary_columns(sample: pa.Table, ratio: float = PARQUET_DICTIONARY_RATIO) -> list[str]:
    """The flat columns of ``sample`` worth dictionary-encoding (few distinct values).

    Example:
        >>> dictionary_columns(pa.table({"id": [1, 2, 3, 4], "cur": ["EUR", "EUR", "USD", "EUR"]}))
        ['cur']
    """
    sample = sample.slice(0, PARQUET_DICTIONARY_SAMPLE_ROWS)
    rows = max(1, sample.num_rows)
    return [f.name for f in sample.schema
            if not pa.types.is_nested(f.type) and not pa.types.is_null(f.type)
            and pc.count_distinct(sample.column(f.name)).as_py() <= ratio * rows]


def _copy_rows(source: Path, writer: pq.ParquetWriter, schema: pa.Schema, limit: int | None, batch_rows: int) -> None:
    left = limit
    with pq.ParquetFile(source) as f:
        for batch in f.iter_batches(batch_size=batch_rows):
            if left is not None:
                if left <= 0:
                    break
                batch = batch.slice(0, left)
                left -= batch.num_rows
            writer.write_table(conform(pa.Table.from_batches([batch]), schema), row_group_size=batch_rows)


class ParquetFileSink(Sink[pa.Table]):
    """Streams batches into one Parquet file, atomically.

    Args:
        path: the target file.
        compression: Parquet codec (zstd by default).
        row_group_size: rows per row group.
        row_group_bytes: a row group is also cut once its buffered data reaches this size.

    A :class:`~dataferry.output.Sink`: as a context manager, on an exception the temporary
    file is removed and the target is untouched; ``begin_part()`` / ``rollback_part()`` let
    a part that must be decoded again withdraw the rows it had written.
    """

    def __init__(self, path: str | os.PathLike[str], *, compression: str = PARQUET_COMPRESSION,
                 row_group_size: int = PARQUET_ROW_GROUP_ROWS, row_group_bytes: int = PARQUET_ROW_GROUP_BYTES) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidArgument(f"{self.path} is a directory; give a file name or ask for a dataset")
        self.compression = compression
        self.row_group_size = row_group_size
        self.row_group_bytes = row_group_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_sibling(self.path)
        self.schema: pa.Schema | None = None
        self.rows = 0
        self.rewrites = 0
        self._writer: pq.ParquetWriter | None = None
        self._buffer: list[pa.Table] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._flushed_rows = 0
        self._checkpoint = 0
        self._fits: pa.Schema | None = None
        self._dictionary: list[str] = []

    # -- writing --------------------------------------------------------------------------
    def write(self, data: Data) -> None:
        """Append a batch or table (its schema may differ from the previous ones)."""
        table = as_table(data)
        if self.schema is None:
            self.schema = unify([table.schema])
            self._fits = table.schema
        elif not (table.schema is self._fits or table.schema.equals(self._fits)):
            if needs_widening(self.schema, table.schema):
                wider = unify([self.schema, table.schema])
                if self._writer is not None:
                    self._rewrite(wider, limit=None)
                self.schema = wider
            self._fits = table.schema  # batches of one part share it: checked once, not per batch
        if not table.num_rows:
            return
        self._buffer.append(table)
        self._buffered_rows += table.num_rows
        self._buffered_bytes += table.get_total_buffer_size()
        self.rows += table.num_rows
        if self._buffered_rows >= self.row_group_size or self._buffered_bytes >= self.row_group_bytes:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as one row group."""
        if not self._buffer:
            return
        assert self.schema is not None
        table = pa.concat_tables([conform(t, self.schema) for t in self._buffer])
        if self._writer is None:
            self._dictionary = dictionary_columns(table)
            self._writer = self._open(self.tmp, self.schema)
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._flushed_rows += table.num_rows
        self._buffer.clear()
        self._buffered_rows = self._buffered_bytes = 0

    # -- parts ------------------------------------------------------------------------------
    def begin_part(self, index: int | None = None) -> None:
        """Mark where the next part's rows start."""
        self._checkpoint = self.rows

    def rollback_part(self) -> None:
        """Withdraw every row written since :meth:`begin_part`."""
        keep = self._checkpoint
        if self._flushed_rows <= keep:
            self._trim_buffer(keep - self._flushed_rows)
        else:
            self._buffer.clear()
            self._buffered_rows = self._buffered_bytes = 0
            assert self.schema is not None
            self._rewrite(self.schema, limit=keep)
        self.rows = keep

    def end_part(self) -> None:
        """Nothing to do for a single file (rows stay buffered up to a row group)."""

    # -- finishing ----------------------------------------------------------------------------
    def close(self) -> Path:
        """Finish the file and move it to its name."""
        self.flush()
        if self._writer is None:
            self._writer = self._open(self.tmp, self.schema or pa.schema([]))
        self._writer.close()
        self._writer = None
        replace_path(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._writer.close()
            self._writer = None
        self._buffer.clear()
        self.tmp.unlink(missing_ok=True)

    # -- internals ----------------------------------------------------------------------------
    def _open(self, path: Path, schema: pa.Schema) -> pq.ParquetWriter:
        names = set(schema.names)
        return pq.ParquetWriter(path, schema, compression=self.compression,
                                use_dictionary=[c for c in self._dictionary if c in names])

    def _trim_buffer(self, rows: int) -> None:
        kept: list[pa.Table] = []
        left = rows
        for t in self._buffer:
            if left <= 0:
                break
            kept.append(t.slice(0, left))
            left -= min(left, t.num_rows)
        self._buffer = kept
        self._buffered_rows = sum(t.num_rows for t in kept)
        self._buffered_bytes = sum(t.get_total_buffer_size() for t in kept)

    def _rewrite(self, schema: pa.Schema, limit: int | None) -> None:
        """Copy the rows flushed so far (the first ``limit``) into a new file with ``schema``."""
        assert self._writer is not None
        self._writer.close()
        old = self.tmp
        self.tmp = temp_sibling(self.path)
        writer = self._open(self.tmp, schema)
        _copy_rows(old, writer, schema, limit, self.row_group_size)
        old.unlink(missing_ok=True)
        self._writer = writer
        if limit is not None:
            self._flushed_rows = min(self._flushed_rows, limit)
        self.rewrites += 1


class ParquetDatasetSink(Sink[pa.Table]):
    """Streams batches into a Parquet dataset directory: one file per part, or hive
    partitions (``col=value/``) when ``partition_cols`` are given.

    Args:
        path: the target directory (replaced as a whole when complete).
        partition_cols: columns to partition by.
        compression, row_group_size, row_group_bytes: as for :class:`ParquetFileSink`.

    Files are named ``part-00000.parquet`` (``part-00000-0-0.parquet`` inside partitions).
    Every file ends with the same unified schema: a file written before the schema widened
    is rewritten when the dataset is closed.
    """

    def __init__(self, path: str | os.PathLike[str], *, partition_cols: Sequence[str] | None = None,
                 compression: str = PARQUET_COMPRESSION, row_group_size: int = PARQUET_ROW_GROUP_ROWS,
                 row_group_bytes: int = PARQUET_ROW_GROUP_BYTES) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InvalidArgument(f"{self.path} is a file; a Parquet dataset needs a directory path")
        self.partition_cols = list(partition_cols or [])
        self.compression = compression
        self.row_group_size = row_group_size
        self.row_group_bytes = row_group_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_sibling(self.path)
        self.tmp.mkdir()
        self.schema: pa.Schema | None = None
        self.rows = 0
        self.files: list[Path] = []
        self._index = 0
        self._part: ParquetFileSink | None = None
        self._buffer: list[pa.Table] = []
        self._buffered_bytes = 0
        self._chunk = 0
        self._part_rows = 0

    def begin_part(self, index: int | None = None) -> None:
        """Start the next part's file(s)."""
        self._index = self._index + 1 if index is None else index
        self._chunk = 0
        self._part_rows = 0
        if not self.partition_cols:
            self._part = ParquetFileSink(self.tmp / f"part-{self._index:05d}.parquet", compression=self.compression,
                                         row_group_size=self.row_group_size, row_group_bytes=self.row_group_bytes)

    def write(self, data: Data) -> None:
        """Append a batch or table of the current part."""
        table = as_table(data)
        if self._part is None and not self.partition_cols:
            self.begin_part(self._index)
        missing = [c for c in self.partition_cols if c not in table.column_names]
        if missing and table.num_rows:
            raise InvalidArgument(
                f"partition_cols {missing} are not columns of the data ({', '.join(table.column_names[:12])})"
            )
        self.schema = unify([self.schema, table.schema]) if self.schema is not None else unify([table.schema])
        self.rows += table.num_rows
        self._part_rows += table.num_rows
        if self._part is not None:
            self._part.write(table)
            return
        if table.num_rows:
            self._buffer.append(table)
            self._buffered_bytes += table.get_total_buffer_size()
            if (
                sum(t.num_rows for t in self._buffer) >= self.row_group_size
                or self._buffered_bytes >= self.row_group_bytes
            ):
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
        for f in self.tmp.rglob(f"part-{self._index:05d}-*.parquet"):
            f.unlink()
        self._chunk = 0

    def end_part(self) -> None:
        """Close the current part's file(s)."""
        if self._part is not None:
            if self._part.rows:
                self._part.close()
            else:
                self._part.abort()
            self._part = None
        else:
            self._flush_partitions()

    def close(self) -> Path:
        """Bring every file to the unified schema and move the directory to its name."""
        self.end_part()
        if self.schema is not None:
            file_schema = pa.schema([f for f in self.schema if f.name not in self.partition_cols])
            for f in sorted(self.tmp.rglob("*.parquet")):
                if not pq.read_schema(f).equals(file_schema):
                    self._rewrite(f, file_schema)
        self.files = [self.path / f.relative_to(self.tmp) for f in sorted(self.tmp.rglob("*.parquet"))]
        replace_path(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._part is not None:
            self._part.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _flush_partitions(self) -> None:
        if not self._buffer:
            return
        table = pa.concat_tables([conform(t, unify(x.schema for x in self._buffer)) for t in self._buffer])
        pq.write_to_dataset(
            table,
            root_path=str(self.tmp),
            partition_cols=self.partition_cols,
            basename_template=f"part-{self._index:05d}-{self._chunk}-{{i}}.parquet",
            compression=self.compression,
            row_group_size=max(1, table.num_rows),
            existing_data_behavior="overwrite_or_ignore",
        )
        self._chunk += 1
        self._buffer.clear()
        self._buffered_bytes = 0

    def _rewrite(self, file: Path, schema: pa.Schema) -> None:
        tmp = temp_sibling(file)
        with pq.ParquetWriter(tmp, schema, compression=self.compression) as writer:
            _copy_rows(file, writer, schema, None, self.row_group_size)
        os.replace(tmp, file)


def open_parquet_sink(path: str | os.PathLike[str], *, partition_cols: Sequence[str] | None = None,
                      dataset: bool | None = None, **kw: Any) -> ParquetFileSink | ParquetDatasetSink:
    """A file sink, or a dataset sink when ``path`` is an existing directory, ends with ``/``,
    ``partition_cols`` are given, or ``dataset=True``."""
    p = Path(path)
    if dataset is None:
        dataset = bool(partition_cols) or str(path).endswith(("/", os.sep)) or p.is_dir()
    if not dataset and partition_cols:
        raise InvalidArgument("partition_cols needs a directory path (a Parquet dataset)")
    if dataset:
        return ParquetDatasetSink(p, partition_cols=partition_cols, **kw)
    return ParquetFileSink(p, **kw)
