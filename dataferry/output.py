"""Arrow tables → one Arrow table, a pandas DataFrame, or Parquet (a file or a dataset).

Parquet output is written under a temporary name next to the target and renamed only when
complete, so a crash or an error never leaves a half-written file under the name asked for.
Memory stays bounded by the tables in flight: each part is written as it arrives, and when a
later part needs a wider schema (a column that was all-null becomes numeric, say) what was
already written is re-read batch by batch and rewritten with the wider schema.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dataferry.constants import PARQUET_COMPRESSION, PARQUET_ROW_GROUP_ROWS
from dataferry.errors import InvalidArgument
from dataferry.schema import conform, needs_widening, unify

DTYPE_BACKENDS = (None, "numpy_nullable", "pyarrow")
"""Accepted ``dtype_backend=`` values, as in pandas."""


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """All tables as one, under one unified schema."""
    tables = [t for t in tables if t.num_columns or t.num_rows]
    if not tables:
        return pa.table({})
    schema = unify(t.schema for t in tables)
    return pa.concat_tables([conform(t, schema) for t in tables])


def to_pandas(table: pa.Table, dtype_backend: str | None = None) -> Any:
    """An Arrow table as a DataFrame.

    Args:
        dtype_backend: ``None`` (pandas' defaults), ``"numpy_nullable"`` or ``"pyarrow"``
            (``ArrowDtype`` columns, zero-copy where possible), as in ``pandas.read_csv``.
    """
    import pandas as pd

    if dtype_backend not in DTYPE_BACKENDS:
        raise InvalidArgument(f"dtype_backend={dtype_backend!r} is not one of {DTYPE_BACKENDS}")
    if dtype_backend == "pyarrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True, split_blocks=True)
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
        return table.to_pandas(types_mapper=mapping.get, self_destruct=True, split_blocks=True)
    return table.to_pandas(self_destruct=True, split_blocks=True)


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in ``path``'s directory (same filesystem, so rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``, replacing a file or a whole directory atomically enough:
    the old one is moved aside first and removed only after the new one is in place."""
    if dst.is_dir() and not dst.is_symlink():
        aside = temp_sibling(dst)
        os.replace(dst, aside)
        os.replace(src, dst)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(src, dst)


class ParquetFileSink:
    """Writes tables to one Parquet file, atomically.

    Args:
        path: the target file.
        compression: Parquet codec (zstd by default).
        row_group_size: rows per row group.

    Use as a context manager; on an exception the temporary file is removed and the target
    is untouched.
    """

    def __init__(self, path: str | os.PathLike[str], *, compression: str = PARQUET_COMPRESSION,
                 row_group_size: int = PARQUET_ROW_GROUP_ROWS) -> None:
        self.path = Path(path)
        self.compression = compression
        self.row_group_size = row_group_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_sibling(self.path)
        self._writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.rows = 0
        self.rewrites = 0

    def write(self, table: pa.Table) -> None:
        """Append a table (its schema may differ from the previous ones)."""
        if self._writer is None:
            self.schema = unify([table.schema])
            self._writer = self._open(self.tmp, self.schema)
        elif needs_widening(self.schema, table.schema):
            self._widen(unify([self.schema, table.schema]))
        assert self.schema is not None and self._writer is not None
        if table.num_rows:
            self._writer.write_table(conform(table, self.schema), row_group_size=self.row_group_size)
        self.rows += table.num_rows

    def close(self) -> Path:
        """Finish the file and move it to its name."""
        if self._writer is None:
            self._writer = self._open(self.tmp, pa.schema([]))
        self._writer.close()
        self._writer = None
        replace_path(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._writer is not None:
            try:
                self._writer.close()
            except (OSError, pa.ArrowException):
                pass
            self._writer = None
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ParquetFileSink:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _open(self, path: Path, schema: pa.Schema) -> pq.ParquetWriter:
        return pq.ParquetWriter(path, schema, compression=self.compression)

    def _widen(self, schema: pa.Schema) -> None:
        assert self._writer is not None
        self._writer.close()
        old = self.tmp
        self.tmp = temp_sibling(self.path)
        writer = self._open(self.tmp, schema)
        source = pq.ParquetFile(old)
        for batch in source.iter_batches(batch_size=self.row_group_size):
            writer.write_table(conform(pa.Table.from_batches([batch]), schema), row_group_size=self.row_group_size)
        source.close()
        old.unlink(missing_ok=True)
        self._writer = writer
        self.schema = schema
        self.rewrites += 1


class ParquetDatasetSink:
    """Writes a Parquet dataset directory: one file per part, optionally hive-partitioned.

    Args:
        path: the target directory (replaced as a whole when complete).
        partition_cols: columns to partition by (``col=value/`` directories).
        compression, row_group_size: as for :class:`ParquetFileSink`.

    Files are named ``part-00000.parquet`` (or ``part-00000-0.parquet`` inside partitions).
    Every file ends with the same unified schema: a file written before the schema widened
    is rewritten when the dataset is closed.
    """

    def __init__(self, path: str | os.PathLike[str], *, partition_cols: Sequence[str] | None = None,
                 compression: str = PARQUET_COMPRESSION, row_group_size: int = PARQUET_ROW_GROUP_ROWS) -> None:
        self.path = Path(path)
        self.partition_cols = list(partition_cols or [])
        self.compression = compression
        self.row_group_size = row_group_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_sibling(self.path)
        self.tmp.mkdir()
        self.schema: pa.Schema | None = None
        self.rows = 0
        self.files: list[Path] = []
        self._count = 0

    def write(self, table: pa.Table, index: int | None = None) -> None:
        """Write one part's table as its own file(s)."""
        index = self._count if index is None else index
        self._count += 1
        missing = [c for c in self.partition_cols if c not in table.column_names]
        if missing and table.num_rows:
            raise InvalidArgument(f"partition_cols {missing} are not columns of the data ({table.column_names[:10]}...)")
        self.schema = unify([self.schema, table.schema]) if self.schema is not None else unify([table.schema])
        self.rows += table.num_rows
        if not table.num_rows:
            return
        if self.partition_cols:
            pq.write_to_dataset(
                table,
                root_path=str(self.tmp),
                partition_cols=self.partition_cols,
                basename_template=f"part-{index:05d}-{{i}}.parquet",
                compression=self.compression,
                row_group_size=self.row_group_size,
                existing_data_behavior="overwrite_or_ignore",
            )
        else:
            target = self.tmp / f"part-{index:05d}.parquet"
            pq.write_table(table, target, compression=self.compression, row_group_size=self.row_group_size)

    def close(self) -> Path:
        """Bring every file to the unified schema and move the directory to its name."""
        if self.schema is not None:
            file_schema = pa.schema([f for f in self.schema if f.name not in self.partition_cols])
            for f in sorted(self.tmp.rglob("*.parquet")):
                if not pq.read_schema(f).equals(file_schema):
                    self._rewrite(f, file_schema)
                self.files.append(self.path / f.relative_to(self.tmp))
        replace_path(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ParquetDatasetSink:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _rewrite(self, file: Path, schema: pa.Schema) -> None:
        tmp = temp_sibling(file)
        source = pq.ParquetFile(file)
        with pq.ParquetWriter(tmp, schema, compression=self.compression) as writer:
            for batch in source.iter_batches(batch_size=self.row_group_size):
                writer.write_table(conform(pa.Table.from_batches([batch]), schema), row_group_size=self.row_group_size)
        source.close()
        os.replace(tmp, file)


def open_parquet_sink(path: str | os.PathLike[str], *, partition_cols: Sequence[str] | None = None,
                      dataset: bool | None = None, **kw: Any) -> ParquetFileSink | ParquetDatasetSink:
    """A file sink, or a dataset sink when ``path`` is a directory, ends with ``/``, has no
    ``.parquet``/``.pq`` suffix while ``partition_cols`` are given, or ``dataset=True``."""
    p = Path(path)
    if dataset is None:
        dataset = (
            bool(partition_cols)
            or str(path).endswith(("/", os.sep))
            or p.is_dir()
        )
    if not dataset and partition_cols:
        raise InvalidArgument("partition_cols needs a directory path (a Parquet dataset)")
    if dataset:
        return ParquetDatasetSink(p, partition_cols=partition_cols, **kw)
    return ParquetFileSink(p, **kw)


def iter_nonempty(tables: Iterable[pa.Table]) -> Iterable[pa.Table]:
    """Skip tables with neither rows nor columns (empty parts)."""
    return (t for t in tables if t.num_columns or t.num_rows)
