"""Parquet output: one file, or a dataset directory (one file per part, or hive partitions), on
disk or anywhere :mod:`dataferry.storage` reaches (``s3://``, ``gs://``, ``az://``, fsspec).

Output is written under a temporary name next to the target and moved into place only when
complete (a rename on disk, a server-side copy on an object store; a single file to S3 is
written locally and uploaded straight to its key, completed only once whole:
:mod:`dataferry.s3upload`), so a crash or an error never leaves a half-written file under the
name asked for. Memory
stays flat: batches are buffered up to one row group, then written. When a later part needs a
wider schema (a column that was all-null becomes numeric, say), what was already written is
re-read batch by batch and rewritten with the wider schema; when a part has to be decoded
again from its start, the rows it had contributed are rolled back first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataferry import datasets
from dataferry.constants import (
    PARQUET_COMPRESSION,
    PARQUET_DICTIONARY_RATIO,
    PARQUET_DICTIONARY_SAMPLE_ROWS,
    PARQUET_ROW_GROUP_BYTES,
    PARQUET_ROW_GROUP_ROWS,
)
from dataferry.errors import InvalidArgument, OutputExists
from dataferry.output import Data, Sink, as_table
from dataferry.schema import conform, needs_widening, unify
from dataferry.storage import Destination, resolve


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in ``path``'s directory (same filesystem, so rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def spool_path() -> str:
    """A local path for a file that is uploaded as it is written (in the system's temporary
    directory, ``TMPDIR``; removed once uploaded or given up)."""
    return os.path.join(tempfile.gettempdir(), f"dataferry-upload-{uuid.uuid4().hex[:12]}.parquet")


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
    return [
        f.name
        for f in sample.schema
        if not pa.types.is_nested(f.type)
        and not pa.types.is_null(f.type)
        and pc.count_distinct(sample.column(f.name)).as_py() <= ratio * rows
    ]


def _copy_rows(
    dest: Destination, source: str, writer: pq.ParquetWriter, schema: pa.Schema, limit: int | None, batch_rows: int
) -> None:
    left = limit
    with dest.open_input(source) as raw, pq.ParquetFile(raw) as f:
        for batch in f.iter_batches(batch_size=batch_rows):
            if left is not None:
                if left <= 0:
                    break
                batch = batch.slice(0, left)
                left -= batch.num_rows
            writer.write_table(conform(pa.Table.from_batches([batch]), schema), row_group_size=batch_rows)


class ParquetFileSink(Sink[pa.Table]):
    """Streams batches into one Parquet file, atomically, on disk or in object storage.

    Args:
        path: the target file: a path or a URL (``s3://bucket/key.parquet``...).
        compression: Parquet codec (zstd by default).
        row_group_size: rows per row group.
        row_group_bytes: a row group is also cut once its buffered data reaches this size.
        existing_data: ``"replace"`` (the default: a file there is replaced once this one is
            complete) or ``"error"`` (:class:`~dataferry.errors.OutputExists` if one is there).
        storage_options, filesystem: see :func:`dataferry.storage.resolve`.
        destination: an already resolved :class:`~dataferry.storage.Destination`.
        direct: write at ``path`` itself, without a temporary name (inside a staging
            directory that is itself moved into place).

    A :class:`~dataferry.output.Sink`: as a context manager, on an exception the temporary
    file is removed and the target is untouched; ``begin_part()`` / ``rollback_part()`` let
    a part that must be decoded again withdraw the rows it had written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        compression: str = PARQUET_COMPRESSION,
        row_group_size: int = PARQUET_ROW_GROUP_ROWS,
        row_group_bytes: int = PARQUET_ROW_GROUP_BYTES,
        existing_data: str = "replace",
        storage_options: Mapping[str, Any] | None = None,
        filesystem: Any = None,
        destination: Destination | None = None,
        direct: bool = False,
    ) -> None:
        if destination is None:
            if path is None:
                raise InvalidArgument("ParquetFileSink needs a path")
            destination = resolve(path, storage_options=storage_options, filesystem=filesystem)
        self.dest = destination
        self.existing_data = datasets.check_mode(existing_data, dataset=False)
        kind = None if direct else self.dest.kind()
        if kind == "dir":
            raise InvalidArgument(f"{self.dest.url} is a directory; give a file name or ask for a dataset")
        if kind == "file" and existing_data == "error":
            raise OutputExists(f"{self.dest.url} already exists", url=self.dest.url, action="writing")
        if not direct:
            self.dest.check()
        self.path = self.dest.result()
        self.compression = compression
        self.row_group_size = row_group_size
        self.row_group_bytes = row_group_bytes
        self.dest.make_parent(self.dest.path)
        # where the file is written: beside the target, or on local disk when it is mirrored
        # straight into a multipart upload at the target's key (S3: no temporary key, no copy)
        self._mirror = None if direct or self.dest.mirror is None else self.dest.mirror(self.dest.path)
        self._stage = self.dest if self._mirror is None else resolve(spool_path())
        self.tmp = self.dest.path if direct else self._stage.temp_name()
        if self._mirror is not None:
            self._mirror.follow(self.tmp)
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
        with self._stage.guard("writing"):
            self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        if self._mirror is not None:
            with self.dest.guard("uploading"):
                self._mirror.ship()
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
    def close(self) -> Path | str:
        """Finish the file and move it to its name (the path, or the URL off disk)."""
        self.flush()
        if self._writer is None:
            self._writer = self._open(self.tmp, self.schema or pa.schema([]))
        with self._stage.guard("writing"):
            self._writer.close()
        self._writer = None
        if self._mirror is not None:
            with self.dest.guard("uploading"):
                self._mirror.finish()
            self._stage.delete(self.tmp)
        elif self.tmp != self.dest.path:
            if self.dest.local:
                replace_path(Path(self.tmp), Path(self.dest.path))
            else:
                self.dest.move(self.tmp, self.dest.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._writer.close()
            self._writer = None
        self._buffer.clear()
        try:
            if self._mirror is not None:
                self._mirror.abort()
        finally:  # a second Ctrl-C in the abort still removes the local file
            self._stage.delete(self.tmp)

    # -- internals ----------------------------------------------------------------------------
    def _open(self, path: str, schema: pa.Schema) -> pq.ParquetWriter:
        names = set(schema.names)
        with self._stage.guard("writing"):
            return pq.ParquetWriter(
                path,
                schema,
                compression=self.compression,
                filesystem=self._stage.fs,
                use_dictionary=[c for c in self._dictionary if c in names],
            )

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
        with self._stage.guard("writing"):
            self._writer.close()
        self._writer = None
        new = self._stage.temp_name()
        writer = self._open(new, schema)
        try:
            with self._stage.guard("rewriting"):
                _copy_rows(self._stage, self.tmp, writer, schema, limit, self.row_group_size)
        except BaseException:
            with contextlib.suppress(OSError, pa.ArrowException):
                writer.close()
            self._stage.delete(new)  # abort() removes the old one, still self.tmp
            raise
        old, self.tmp = self.tmp, new
        self._writer = writer
        self._stage.delete(old)
        if self._mirror is not None:
            with self.dest.guard("uploading"):
                self._mirror.follow(self.tmp)  # the upload so far is dropped: it starts again
        if limit is not None:
            self._flushed_rows = min(self._flushed_rows, limit)
        self.rewrites += 1


def __getattr__(name: str) -> Any:
    """``ParquetDatasetSink`` and ``open_parquet_sink`` live in :mod:`dataferry.dataset_sink`
    (they build on :class:`ParquetFileSink`); importable from here as before."""
    if name in ("ParquetDatasetSink", "open_parquet_sink"):
        from dataferry import dataset_sink

        return getattr(dataset_sink, name)
    raise AttributeError(f"module 'dataferry.parquet' has no attribute {name!r}")
