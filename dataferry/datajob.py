"""A job whose result is data in parts: its parts as files, Arrow, pandas or Parquet.

:class:`DataJob` adds to :class:`~dataferry.job.Job` what a user calls on the data; the work is
done by the parts pipeline (:mod:`dataferry.pipeline`) into a sink (:mod:`dataferry.output`,
:mod:`dataferry.parquet`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pyarrow as pa

from dataferry import frames, pipeline
from dataferry.cache import PartCache, safe_name
from dataferry.constants import (
    DOWNLOAD_WORKERS,
    PARQUET_COMPRESSION,
    PARQUET_ROW_GROUP_ROWS,
    STREAM_DEPTH,
    WAIT_TIMEOUT,
)
from dataferry.dataset_sink import open_parquet_sink
from dataferry.decode import DecodeOptions
from dataferry.download import Downloader
from dataferry.errors import InvalidArgument
from dataferry.job import CLIENT_DEFAULT, Job
from dataferry.output import (
    BatchSink,
    Sink,
    TableSink,
    concat,
    pandas_pieces,
    to_pandas,
    with_constants,
)
from dataferry.parts import Part
from dataferry.progress import Reporter, Stage
from dataferry.scaleout import load
from dataferry.storage import resolve

Out = TypeVar("Out")


class DataJob(Job):
    """A job whose result is data in parts: files, Arrow, pandas or Parquet.

    Subclasses also implement :meth:`_list_parts`, and :meth:`_refresh_part` when links
    expire (the default asks for the part list again).
    """

    links_expire: ClassVar[bool] = False

    def _list_parts(self) -> list[Part]:
        raise NotImplementedError

    def _refresh_part(self, part: Part) -> Part:
        fresh = {p.index: p for p in self._list_parts()}
        return fresh.get(part.index, part)

    # -- public ----------------------------------------------------------------------------
    def _empty_schema(self) -> pa.Schema | None:
        """The columns of a result with no parts, where the vendor made them known (else ``None``)."""
        return None

    def parts(self, *, timeout: float | None = WAIT_TIMEOUT, progress: Any = CLIENT_DEFAULT) -> list[Part]:
        """The parts of the result (waits for the job first if needed)."""
        with self._operation(progress) as reporter:
            self._wait(reporter, timeout, False)
            parts = self._list_parts()
            reporter.finish(Stage.DONE, parts_total=len(parts))
        return parts

    def download(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        storage_options: Mapping[str, Any] | None = None,
        filesystem: Any = None,
    ) -> list[Any]:
        """Download every part as a file.

        Args:
            directory: where to put the files: a local directory or a URL (``s3://lake/raw/``,
                any fsspec URL); ``None`` returns the cached files in place.
            cache: reuse (and keep) verified parts in the cache directory.
            workers: parts downloaded at the same time.
            timeout: seconds to wait for the job first.
            progress: see :meth:`wait`.
            storage_options, filesystem: for a URL, see :func:`dataferry.storage.resolve`.

        Returns:
            The paths (:class:`~pathlib.Path` on disk, URLs elsewhere), in part order. Each file
            appears under its name only once complete.
        """
        dest = None if directory is None else resolve(directory, storage_options=storage_options, filesystem=filesystem)
        if dest is not None:
            dest.check()
        with self._operation(progress) as reporter:
            parts = self._ready_parts(reporter, timeout)
            store = self._cache(cache)
            downloader = self._downloader(store, reporter.bytes_added)
            paths: list[Any] = []
            for fetched in downloader.fetch_all(parts, workers=workers):
                reporter.add(parts=1)
                if dest is None:
                    paths.append(fetched.path)
                    continue
                name = safe_name(fetched.part.filename)
                if dest.local:
                    target = dest.result()
                    assert isinstance(target, Path)
                    target.mkdir(parents=True, exist_ok=True)
                    final = target / name
                    tmp = final.with_name(f".{final.name}.tmp")
                    shutil.copyfile(fetched.path, tmp)
                    os.replace(tmp, final)
                    paths.append(final)
                    continue
                final_key = dest.join(name)
                tmp_key = dest.temp_name(final_key)
                try:
                    with (
                        dest.guard("uploading"),
                        open(fetched.path, "rb") as src,
                        dest.fs.open_output_stream(tmp_key, compression=None) as out,
                    ):
                        shutil.copyfileobj(src, out, 1 << 20)
                    dest.move(tmp_key, final_key)
                except BaseException:
                    dest.delete(tmp_key)
                    raise
                paths.append(f"{dest.url.rstrip('/')}/{name}")
            if directory is not None:
                store.cleanup()
            reporter.finish(Stage.DONE, output=str(directory or store.dir))
        return paths

    def iter_tables(
        self,
        *,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        **decode: Any,
    ) -> Iterator[pa.Table]:
        """One Arrow table per part, in part order, in memory bounded by the part size.

        A later part may add columns or widen types (``to_arrow`` / ``to_parquet`` unify
        them); the types already seen are kept for later parts where they fit.

        Args:
            cache: reuse (and keep) verified parts in the cache directory.
            workers: parts downloaded and decoded at the same time.
            timeout: seconds to wait for the job first.
            progress: see :meth:`wait`.
            **decode: :class:`~dataferry.decode.DecodeOptions` fields (``column_types``,
                ``delimiter``, ``timestamp_parsers``, ``null_values``, ``columns``).
        """
        return self._tables(STREAM_DEPTH, cache=cache, workers=workers, timeout=timeout, progress=progress, **decode)

    def iter_batches(
        self,
        *,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        **decode: Any,
    ) -> Iterator[pa.RecordBatch]:
        """Arrow record batches, part after part, in flat memory whatever the part size.

        Every row comes exactly once, in order. Batches share a schema until a part turns out
        to need a wider one (a column that was empty becomes text, integers become decimals):
        from there on the batches carry the wider types. Takes the same arguments as
        :meth:`iter_tables`.

        Example::

            for batch in snap.iter_batches():
                handle(batch.to_pandas())
        """
        options = DecodeOptions(**decode)  # bad options fail before anything happens
        with self._operation(progress) as reporter:
            yield from self._through(BatchSink(), reporter, options, cache=cache, workers=workers, timeout=timeout)
            reporter.finish(Stage.DONE)

    def to_arrow(self, **kw: Any) -> pa.Table:
        """Every part as one Arrow table with one unified schema.

        Takes the same arguments as :meth:`iter_tables`.
        """
        # every part is kept, so nothing is gained by holding a part's decoding back until the
        # previous one is consumed: all ``workers`` parts decode at full speed side by side
        return concat(list(self._tables(None, **kw)))

    def to_pandas(self, *, dtype_backend: str | None = None, **kw: Any) -> Any:
        """Every part as one pandas DataFrame.

        Args:
            dtype_backend: ``None``, ``"numpy_nullable"`` or ``"pyarrow"`` (as in pandas).
            **kw: see :meth:`iter_tables`.

        Example::

            df = snap.to_pandas()
            df = snap.to_pandas(dtype_backend="pyarrow")
        """
        pieces = pandas_pieces(dtype_backend)  # a bad dtype_backend fails before any download
        return to_pandas(concat(list(self._tables(None, finish=pieces, **kw))), dtype_backend, consume=True)

    async def to_pandas_async(self, **kw: Any) -> Any:
        """``await snap.to_pandas_async()``: :meth:`to_pandas` (same arguments) without blocking the
        running event loop; the work runs in a worker thread (see :mod:`dataferry.aio`)."""
        from dataferry.aio import to_pandas_async

        return await to_pandas_async(self, **kw)

    def to_polars(self, *, rechunk: bool = False, **kw: Any) -> Any:
        """Every part as one polars DataFrame, straight from Arrow (``dataferry[polars]``).

        Args:
            rechunk: make each column contiguous (a copy).
            **kw: see :meth:`iter_tables` (the same decode options as :meth:`to_pandas`).

        Example::

            df = snap.to_polars()
        """
        frames.need("polars")  # a missing extra fails before any download
        return frames.to_polars(self.to_arrow(**kw), rechunk=rechunk)

    def to_dask(
        self,
        *,
        dask: Any = None,
        meta: Any = "scan",
        dtype_backend: str | None = None,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        **decode: Any,
    ) -> Any:
        """The parts as a Dask DataFrame, one partition per part (``dataferry[dask]``).

        Waits for the job first. The partitions are read where Dask runs them: on the workers of
        the current ``distributed.Client`` (or ``dask=``), which get the job's credentials
        through a worker plugin, never through the task graph (see :doc:`scale-out`).

        Args:
            dask: the ``distributed.Client`` to read the schemas on (default: the current one;
                none: Dask's local threads).
            meta: where the DataFrame's columns and dtypes come from: ``"scan"`` (every part's
                schema, unified as :meth:`to_arrow` does, read on the cluster first),
                ``"first"`` (the first part's), or a ``pyarrow.Schema``. A part that does not
                fit ``"first"`` or a given schema raises :class:`~dataferry.errors.SchemaDrift`.
            dtype_backend: as in :meth:`to_pandas`.
            timeout, progress, **decode: see :meth:`iter_tables`.

        Example::

            from dask.distributed import Client

            Client()  # a LocalCluster, or a remote cluster's address
            ddf = snap.to_dask()
            ddf.groupby("currency").final_price.mean().compute()
        """
        options = DecodeOptions(**decode)
        module = load("dataframe", "to_dask()")
        return module.to_dask(
            self, dask=dask, meta=meta, dtype_backend=dtype_backend, timeout=timeout, progress=progress, options=options
        )

    def to_duckdb(self, con: Any = None, table: str | None = None, *, if_exists: str = "fail", **kw: Any) -> Any:
        """Every part in DuckDB (``dataferry[duckdb]``): a relation over the Arrow table, or a table.

        Args:
            con: a DuckDB connection (default: DuckDB's default connection).
            table: create this table (``None``: a relation that scans the data in place).
            if_exists: ``"fail"``, ``"replace"`` or ``"append"`` when ``table`` exists.
            **kw: see :meth:`iter_tables`.

        Example::

            con = duckdb.connect("lake.duckdb")
            snap.to_duckdb(con, "products")
            con.sql("SELECT currency, count(*) FROM products GROUP BY 1")
        """
        frames.need("duckdb")
        if if_exists not in frames.IF_EXISTS:
            raise InvalidArgument(f"if_exists={if_exists!r} is not one of {frames.IF_EXISTS}")
        return frames.to_duckdb(self.to_arrow(**kw), con, table, if_exists=if_exists)

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        partition_cols: Sequence[str] | None = None,
        dataset: bool | None = None,
        existing_data: str | None = None,
        constant_columns: Mapping[str, Any] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        filesystem: Any = None,
        compression: str = PARQUET_COMPRESSION,
        row_group_size: int = PARQUET_ROW_GROUP_ROWS,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        dask: Any = None,
        **decode: Any,
    ) -> Any:
        """Write every part to Parquet, streamed in flat memory, atomically, on disk or in
        object storage.

        Args:
            path: a ``.parquet`` file, or a directory (existing, or ending with ``/``, or with
                ``partition_cols``) for a dataset of one file per part; a local path or a URL
                (``s3://``, ``gs://``, ``az://``, any fsspec URL).
            partition_cols: hive-partition the dataset by these columns.
            dataset: force a dataset directory (``True``) or a single file (``False``).
            existing_data: for a dataset ``"error"`` (the default), ``"append"``,
                ``"replace_partitions"`` or ``"replace"`` (see :mod:`dataferry.datasets`); for
                a file ``"replace"`` (the default) or ``"error"``.
            constant_columns: columns with one value for the whole run, added to every row
                (``{"snapshot_date": "2026-12-02"}``: the partition of a nightly run).
            storage_options: options for the URL's filesystem, as in pandas (e.g.
                ``{"endpoint_url": "http://127.0.0.1:9000", "key": ..., "secret": ...}``).
            filesystem: a ``pyarrow.fs.FileSystem`` or fsspec filesystem to write with.
            compression: Parquet codec.
            row_group_size: rows per row group.
            cache, workers, timeout, progress, **decode: see :meth:`iter_tables`.
            dask: a ``distributed.Client``: every part is downloaded, decoded and written on its
                workers, one file per part, and committed once here (``dataferry[dask]``; the
                path must be one the workers reach, see :doc:`scale-out`).

        Returns:
            The path written (a :class:`~pathlib.Path` on disk, the URL elsewhere). Nothing
            appears under it until the output is complete; a failed run leaves what was there.

        Raises:
            OutputExists: the dataset holds data and ``existing_data="error"``.
            StorageNotFound, StorageDenied, StorageError: the destination refused (raised
                before anything is downloaded when the bucket or the credentials are wrong).
            MissingExtra: the URL's backend is not installed.
            SchemaConflict: a column cannot join the existing dataset's type for it.

        Example::

            snap.to_parquet("s3://lake/products/", partition_cols=["snapshot_date"], existing_data="replace_partitions")
        """
        options = DecodeOptions(**decode)
        finish = with_constants(constant_columns)
        if dask is not None:
            return load("writes", "to_parquet(dask=...)").write_dataset(
                self,
                path,
                dask=dask,
                options=options,
                finish=finish,
                partition_cols=partition_cols,
                dataset=dataset,
                existing_data=existing_data,
                storage_options=storage_options,
                filesystem=filesystem,
                timeout=timeout,
                progress=progress,
                compression=compression,
                row_group_size=row_group_size,
            )
        with self._operation(progress) as reporter:
            sink = open_parquet_sink(
                path,
                partition_cols=partition_cols,
                dataset=dataset,
                existing_data=existing_data,
                name=safe_name(f"{self.vendor}-{self.id}"),
                storage_options=storage_options,
                filesystem=filesystem,
                compression=compression,
                row_group_size=row_group_size,
            )
            try:
                with sink:
                    for _ in self._through(
                        sink, reporter, options, cache=cache, workers=workers, timeout=timeout, finish=finish
                    ):
                        pass  # the sink writes as it goes
                    reporter.stage(Stage.WRITING)
            except Exception as exc:
                exc.add_note(f"nothing was written to {sink.dest.url}: what this run had written was removed")
                raise
            reporter.finish(Stage.DONE, output=str(sink.path))
        return sink.path

    # -- internals ----------------------------------------------------------------------
    def _ready_parts(self, reporter: Reporter, timeout: float | None) -> list[Part]:
        self._wait(reporter, timeout, False)
        parts = self._list_parts()
        reporter.stage(Stage.DOWNLOADING, parts_total=len(parts))
        return parts

    def _cache(self, persistent: bool) -> PartCache:
        return PartCache(self.vendor, self.id, root=self.client.cache_dir, persistent=persistent)

    def _downloader(self, store: PartCache, on_bytes: Callable[[int], None]) -> Downloader:
        return Downloader(
            self.client.http,
            store,
            clock=self.client.clock,
            job_id=self.id,
            refresh=self._refresh_part if self.links_expire else None,
            on_bytes=on_bytes,
        )

    def _through(
        self,
        sink: Sink[Out],
        reporter: Reporter,
        options: DecodeOptions,
        *,
        cache: bool,
        workers: int,
        timeout: float | None,
        depth: int | None = STREAM_DEPTH,
        finish: Callable[[pa.Table], pa.Table] | None = None,
    ) -> Iterator[Out]:
        """Wait, then every part through the pipeline into ``sink``; yields what the sink hands
        over (see :func:`dataferry.pipeline.run`)."""
        parts = self._ready_parts(reporter, timeout)
        if not parts:
            schema = self._empty_schema()
            if schema is not None:  # no data, but its columns are known: an empty table of them
                sink.begin_part(0)
                sink.write(schema.empty_table())
                sink.end_part()
                yield from sink.take()
            return
        store = self._cache(cache)
        flow = pipeline.run(
            sink,
            parts,
            downloader=self._downloader(store, reporter.bytes_added),
            store=store,
            options=options,
            reporter=reporter,
            label=f"{self.vendor} {self.kind} {self.id}",
            workers=workers,
            depth=depth,
            finish=finish,
        )
        with contextlib.closing(flow):
            for ready in flow:
                yield from ready

    def _tables(
        self,
        depth: int | None,
        *,
        finish: Callable[[pa.Table], pa.Table] | None = None,
        cache: bool = True,
        workers: int = DOWNLOAD_WORKERS,
        timeout: float | None = WAIT_TIMEOUT,
        progress: Any = CLIENT_DEFAULT,
        **decode: Any,
    ) -> Iterator[pa.Table]:
        """One table per part, in part order (``depth`` and ``finish``: see :func:`dataferry.pipeline.run`)."""
        options = DecodeOptions(**decode)
        with self._operation(progress) as reporter:
            yield from self._through(
                TableSink(),
                reporter,
                options,
                cache=cache,
                workers=workers,
                timeout=timeout,
                depth=depth,
                finish=finish,
            )
            reporter.finish(Stage.DONE)
