"""The handle a user holds for a remote job: status, wait, cancel, and (for jobs that produce
data) its parts as files, Arrow, pandas or Parquet.

A vendor subclasses :class:`Job` (or :class:`DataJob`) and fills in a few hooks; everything a
user calls is here, the same for every vendor. A handle is re-creatable from its id alone, so a
notebook can re-attach after a kernel restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from dataferry.cache import PartCache, safe_name
from dataferry.constants import (
    DOWNLOAD_WORKERS,
    PARQUET_COMPRESSION,
    HANDOFF_BYTES,
    PARQUET_ROW_GROUP_ROWS,
    STOP_SECONDS,
    STREAM_DEPTH,
    WAIT_TIMEOUT,
)
from dataferry.decode import RESTART, DecodeOptions, Restart, stream_part
from dataferry.download import Downloader
from dataferry.errors import DataferryError, JobCancelled, JobFailed, NotData, PartCorrupt, WaitInterrupted
from dataferry.output import concat, open_parquet_sink, pandas_pieces, to_pandas
from dataferry.parts import Part
from dataferry.pool import Prefetch, Workers, ordered_streams, usable_cpus
from dataferry.progress import Reporter, Stage, make_renderer
from dataferry.progress.formatting import one_line
from dataferry.progress.panel import card_html
from dataferry.redact import scrub_auth_text
from dataferry.schema import unify
from dataferry.status import JobState, JobStatus
from dataferry.wait import PollPolicy, wait_until_finished

if TYPE_CHECKING:
    from dataferry.client import VendorClient

_SENTINEL = object()


class Job:
    """A remote job (a snapshot, an export, an import run, an ingestion run).

    Subclasses implement :meth:`_fetch_status` and, where the vendor allows it,
    :meth:`_cancel_remote`; they set :attr:`kind` and :attr:`reattach`.

    Attributes:
        id: the vendor's id for the job.
        client: the vendor client it belongs to.
        last_status: the latest :class:`~dataferry.status.JobStatus` seen, or ``None``.
    """

    kind: ClassVar[str] = "job"
    status_family: ClassVar[str] = "status"
    failure: ClassVar[type[JobFailed]] = JobFailed
    poll_policy: ClassVar[PollPolicy] = PollPolicy()

    def __init__(self, client: VendorClient, job_id: str, *, triggered: bool = False) -> None:
        self.client = client
        self.id = str(job_id)
        self.last_status: JobStatus | None = None
        self._triggered_at = client.clock.monotonic() if triggered else None

    # -- vendor hooks -------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        raise NotImplementedError

    def _cancel_remote(self) -> None:
        raise DataferryError(f"{self.vendor} {self.kind}s cannot be cancelled through the API")

    @property
    def reattach(self) -> str:
        """Python code that gets this job back, e.g. ``brightdata.Client().snapshot('s_…')``."""
        return f"{self.vendor}.Client().job({self.id!r})"

    # -- public ----------------------------------------------------------------------------
    @property
    def vendor(self) -> str:
        """The vendor's name."""
        return self.client.vendor

    def status(self) -> JobStatus:
        """Ask the vendor for the job's status now (one request).

        Returns:
            The :class:`~dataferry.status.JobStatus`; also kept as :attr:`last_status`.
        """
        status = self._masked(self._fetch_status())
        self.last_status = status
        return status

    def _masked(self, status: JobStatus) -> JobStatus:
        """``status`` with the client's secrets masked in its texts (a vendor may echo them)."""
        redactor = getattr(getattr(self.client, "http", None), "redactor", None)
        return replace(
            status,
            raw=self._redact(status.raw),
            message=None if status.message is None else self._redact(status.message),
            detail=redactor.data(status.detail) if redactor is not None else status.detail,
        )

    def wait(self, timeout: float | None = WAIT_TIMEOUT, *, progress: Any = _SENTINEL,
             cancel_on_interrupt: bool = False) -> Job:
        """Wait until the job finishes, showing progress.

        Args:
            timeout: seconds before :class:`~dataferry.errors.WaitTimeout` (the job is left
                running); ``None`` waits as long as it takes.
            progress: ``"auto"``, ``"widget"``, ``"html"``, ``"tqdm"``, ``"log"``, ``"off"``,
                ``True`` / ``False``; default: the client's setting.
            cancel_on_interrupt: cancel the remote job on Ctrl-C / "interrupt kernel".

        Returns:
            ``self``, so that ``job.wait().to_pandas()`` reads naturally.

        Raises:
            JobFailed: the vendor reports failure (its message verbatim).
            JobCancelled: the job was cancelled.
            WaitTimeout: ``timeout`` passed.
            WaitInterrupted: interrupted; the message says how to re-attach.
        """
        if self.last_status is not None and self.last_status.state is JobState.DONE:
            return self
        with self._operation(progress) as reporter:
            self._wait(reporter, timeout, cancel_on_interrupt)
            reporter.finish(Stage.DONE, message=self.last_status.message if self.last_status else None)
        return self

    def cancel(self) -> None:
        """Ask the vendor to cancel the job."""
        self._cancel_remote()
        self.last_status = JobStatus(JobState.CANCELLED, "cancelled", "cancelled by the user")

    @property
    def done(self) -> bool:
        """Whether the last status seen says the job completed successfully."""
        return self.last_status is not None and self.last_status.state is JobState.DONE

    def __repr__(self) -> str:
        state = self._shown(self.last_status.describe()) if self.last_status else "status not checked"
        return f"<{self.vendor} {self.kind} {self.id}: {state}>"

    def _repr_html_(self) -> str:
        s = self.last_status
        if s is None:
            state, tone, fraction = "not checked", "info", None
        else:
            state = s.state.value
            tone = {"done": "success", "failed": "danger", "cancelled": "warning"}.get(state, "info")
            fraction = 1.0 if s.state is JobState.DONE else s.progress
        rows = [("status", self._shown(s.raw or s.state.value) if s else "not checked yet: call .status() or .wait()")]
        if s and s.progress is not None:
            rows.append(("progress", f"{s.progress:.0%}"))
        if s and s.message:
            rows.append(("message", self._shown(s.message)))
        rows.append(("re-attach", self.reattach))
        return card_html(vendor=self.vendor, kind=self.kind, job_id=self.id, state=state, tone=tone,
                         fraction=fraction, rows=rows)

    def _shown(self, text: str) -> str:
        """``text`` on one line with the client's secrets masked (for reprs and displays)."""
        return one_line(self._redact(text))

    def _redact(self, text: str) -> str:
        redactor = getattr(getattr(self.client, "http", None), "redactor", None)
        text = scrub_auth_text(text)
        return redactor.text(text) if redactor is not None else text

    # -- internals ----------------------------------------------------------------------
    def _policy(self) -> PollPolicy:
        floor = self.client.http.limiter.min_interval(self.status_family)
        policy = self.client.poll or self.poll_policy
        if floor > policy.floor:
            policy = replace(policy, floor=floor, initial=max(policy.initial, floor))
        return policy

    def _wait(self, reporter: Reporter, timeout: float | None, cancel_on_interrupt: bool) -> JobStatus:
        if self.last_status is not None and self.last_status.state is JobState.DONE:
            return self.last_status
        reporter.stage(Stage.SUBMITTED if self.last_status is None else Stage.RUNNING)
        return wait_until_finished(
            self.status,
            vendor=self.vendor,
            job_id=self.id,
            reporter=reporter,
            reattach=self.reattach,
            policy=self._policy(),
            timeout=timeout,
            clock=self.client.clock,
            triggered_at=self._triggered_at,
            cancel=self.cancel,
            cancel_on_interrupt=cancel_on_interrupt,
            rng=self.client.http.rng,
            failure=self.failure,
        )

    @contextlib.contextmanager
    def _operation(self, progress: Any) -> Iterator[Reporter]:
        """One user-visible operation (a wait, a download...) with its progress display.

        ``progress`` is the call's ``progress=`` (a mode name, a bool, a
        :class:`~dataferry.progress.Progress` with ``keep_widget``, a renderer), else the
        client's default. The renderer is chosen before anything else happens, so a bad
        ``progress=`` fails first. Every text shown passes through the client's redactor.
        """
        chosen = self.client.progress if progress is _SENTINEL else progress
        reporter = Reporter(make_renderer(chosen), vendor=self.vendor, job_id=self.id, kind=self.kind,
                            clock=self.client.clock, redact=self._redact)
        try:
            try:
                yield reporter
            except BaseException as exc:
                redactor = getattr(getattr(self.client, "http", None), "redactor", None)
                if redactor is not None:
                    redactor.scrub(exc)  # an error (and its causes) leaves with every secret masked
                raise
        except WaitInterrupted as exc:
            reporter.finish(Stage.CANCELLED if exc.cancelled else Stage.FAILED, message="interrupted: " + str(exc))
            raise
        except JobCancelled as exc:
            reporter.finish(Stage.CANCELLED, message=exc.message)
            raise
        except GeneratorExit:
            reporter.finish(Stage.CANCELLED, message="stopped: the caller stopped reading the tables")
            raise
        except JobFailed as exc:
            reporter.finish(Stage.FAILED, message=exc.vendor_message)
            raise
        except BaseException as exc:
            reporter.finish(Stage.FAILED, message=_first_line(exc))
            raise
        finally:
            if not reporter.closed:
                reporter.finish(Stage.DONE)


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
    def parts(self, *, timeout: float | None = WAIT_TIMEOUT, progress: Any = _SENTINEL) -> list[Part]:
        """The parts of the result (waits for the job first if needed)."""
        with self._operation(progress) as reporter:
            self._wait(reporter, timeout, False)
            parts = self._list_parts()
            reporter.finish(Stage.DONE, parts_total=len(parts))
        return parts

    def download(self, directory: str | os.PathLike[str] | None = None, *, cache: bool = True,
                 workers: int = DOWNLOAD_WORKERS, timeout: float | None = WAIT_TIMEOUT,
                 progress: Any = _SENTINEL) -> list[Path]:
        """Download every part as a file.

        Args:
            directory: where to put the files; ``None`` returns the cached files in place.
            cache: reuse (and keep) verified parts in the cache directory.
            workers: parts downloaded at the same time.
            timeout: seconds to wait for the job first.
            progress: see :meth:`wait`.

        Returns:
            The paths, in part order.
        """
        with self._operation(progress) as reporter:
            parts = self._ready_parts(reporter, timeout)
            store = self._cache(cache)
            downloader = self._downloader(store, reporter)
            paths = []
            for fetched in downloader.fetch_all(parts, workers=workers):
                reporter.add(parts=1)
                if directory is None:
                    paths.append(fetched.path)
                    continue
                target = Path(directory)
                target.mkdir(parents=True, exist_ok=True)
                dest = target / safe_name(fetched.part.filename)
                tmp = dest.with_name(f".{dest.name}.tmp")
                shutil.copyfile(fetched.path, tmp)
                os.replace(tmp, dest)
                paths.append(dest)
            if directory is not None:
                store.cleanup()
            reporter.finish(Stage.DONE, output=str(directory or store.dir))
        return paths

    def iter_tables(self, *, cache: bool = True, workers: int = DOWNLOAD_WORKERS,
                    timeout: float | None = WAIT_TIMEOUT, progress: Any = _SENTINEL,
                    **decode: Any) -> Iterator[pa.Table]:
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
        return self._tables(STREAM_DEPTH, cache=cache, workers=workers, timeout=timeout, progress=progress,
                            **decode)

    def iter_batches(self, *, cache: bool = True, workers: int = DOWNLOAD_WORKERS,
                     timeout: float | None = WAIT_TIMEOUT, progress: Any = _SENTINEL,
                     **decode: Any) -> Iterator[pa.RecordBatch]:
        """Arrow record batches, part after part, in flat memory whatever the part size.

        Every row comes exactly once, in order. Batches share a schema until a part turns out
        to need a wider one (a column that was empty becomes text, integers become decimals):
        from there on the batches carry the wider types. Takes the same arguments as
        :meth:`iter_tables`.

        Example::

            for batch in snap.iter_batches():
                handle(batch.to_pandas())
        """
        options = DecodeOptions(**decode)
        with self._operation(progress) as reporter:
            known: list[pa.Schema] = []
            streams = self._part_streams(reporter, options, cache=cache, workers=workers, timeout=timeout,
                                         hint=lambda: unify(known) if known else None)
            with contextlib.closing(streams):
                for _, stream in streams:
                    sent = 0  # rows of this part already handed to the caller
                    skip = 0
                    for item in stream:
                        if item is RESTART:
                            skip = sent  # the part starts over: pass over what was already sent
                            continue
                        if skip:
                            if item.num_rows <= skip:
                                skip -= item.num_rows
                                continue
                            item = item.slice(skip)
                            skip = 0
                        sent += item.num_rows
                        if not known or not known[-1].equals(item.schema):
                            known.append(item.schema)
                        reporter.add(rows=item.num_rows)
                        yield from item.to_batches()
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

    def to_parquet(self, path: str | os.PathLike[str], *, partition_cols: Sequence[str] | None = None,
                   dataset: bool | None = None, compression: str = PARQUET_COMPRESSION, row_group_size: int = PARQUET_ROW_GROUP_ROWS,
                   cache: bool = True, workers: int = DOWNLOAD_WORKERS, timeout: float | None = WAIT_TIMEOUT,
                   progress: Any = _SENTINEL, **decode: Any) -> Path:
        """Write every part to Parquet, streamed in flat memory, atomically.

        Args:
            path: a ``.parquet`` file, or a directory (existing, or ending with ``/``, or with
                ``partition_cols``) for a dataset of one file per part.
            partition_cols: hive-partition the dataset by these columns.
            dataset: force a dataset directory (``True``) or a single file (``False``).
            compression: Parquet codec.
            row_group_size: rows per row group.
            cache, workers, timeout, progress, **decode: see :meth:`iter_tables`.

        Returns:
            The path written. Nothing exists under it until the output is complete.
        """
        options = DecodeOptions(**decode)
        with self._operation(progress) as reporter:
            sink = open_parquet_sink(path, partition_cols=partition_cols, dataset=dataset, compression=compression,
                                     row_group_size=row_group_size)
            with sink:
                streams = self._part_streams(reporter, options, cache=cache, workers=workers, timeout=timeout,
                                             hint=lambda: sink.schema)
                with contextlib.closing(streams):
                    for part, stream in streams:
                        sink.begin_part(part.index)
                        for item in self._counted(stream, reporter):
                            if item is RESTART:
                                sink.rollback_part()
                            else:
                                sink.write(item)
                        sink.end_part()
                reporter.stage(Stage.WRITING)
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

    def _downloader(self, store: PartCache, reporter: Reporter) -> Downloader:
        return Downloader(
            self.client.http,
            store,
            clock=self.client.clock,
            job_id=self.id,
            refresh=self._refresh_part if self.links_expire else None,
            on_bytes=lambda n: reporter.add(bytes=n),
        )

    def _part_streams(self, reporter: Reporter, options: DecodeOptions, *, cache: bool, workers: int,
                      timeout: float | None, hint: Callable[[], pa.Schema | None], depth: int | None = STREAM_DEPTH,
                      finish: Callable[[pa.Table], pa.Table] | None = None
                      ) -> Iterator[tuple[Part, Iterator[pa.Table | Restart]]]:
        """Each part as a stream of Arrow tables (groups of batches), in part order.

        Downloads start at once, ``workers`` at a time, and run ahead; ``workers`` parts are
        decoded at the same time, each at most ``depth`` groups ahead of the consumer (``None``:
        no limit, for a consumer that keeps everything anyway), so the network, gunzip (ISA-L,
        off the GIL), the parser and the consumer (a Parquet writer, say) overlap in flat
        memory. When the parts decoded side by side fill every core, each parses on one thread;
        a part with cores to spare (the last one, or when cores outnumber ``workers``) on
        several. ``hint()`` gives the schema known so far, so that later parts keep the same
        types. ``finish`` is applied to every group on the decoding thread (the consumer's own
        preparation, off its thread).

        Parts are streamed even when the result is kept whole (``to_arrow``, ``to_pandas``):
        reading a part at once holds about twice its table at the peak, and was no faster on
        the benchmark (docs/performance.md).
        """
        parts = self._ready_parts(reporter, timeout)
        store = self._cache(cache)
        downloader = self._downloader(store, reporter)
        label = f"{self.vendor} {self.kind} {self.id}"

        position = {id(p): k for k, p in enumerate(parts)}
        cores = usable_cpus()
        finished = finish or (lambda table: table)

        def produce(part: Part) -> Iterator[pa.Table | Restart]:
            k = position[id(part)]
            fetched = downloads.result(k)
            # one thread each when parts fill every core: fewer hand-offs, less fresh memory
            threads = workers < cores or len(parts) - k < workers
            group: list[pa.RecordBatch] = []
            size = 0
            try:
                for item in stream_part(fetched.path, fetched.part.format, options, hint=hint(),
                                        label=f"part {part.index} of {label}", threads=threads):
                    if item is RESTART:
                        group, size = [], 0  # never sent: nothing to withdraw for these
                        yield RESTART
                        continue
                    group.append(item)
                    size += item.get_total_buffer_size()  # cheap, unlike nbytes
                    if size >= HANDOFF_BYTES:
                        yield finished(_batches_to_table(group))
                        group, size = [], 0
                if group:
                    yield finished(_batches_to_table(group))
            except (PartCorrupt, NotData):
                store.discard(fetched.part)  # the next run downloads it anew
                raise
            if not store.persistent:
                fetched.path.unlink(missing_ok=True)

        # downloads run ahead of decoding as far as they can (they cost disk, not memory)
        downloads = Prefetch(downloader.fetch, parts, workers=workers, name="dataferry-dl")
        decoders = Workers(workers, name="dataferry-part")
        try:
            with contextlib.closing(ordered_streams(produce, parts, workers=workers, depth=depth,
                                                    pool=decoders)) as streams:
                for part, stream in streams:
                    yield part, stream
                    reporter.add(parts=1)
        finally:
            # on every way out (the end, an error, Ctrl-C) every worker is told to stop and waited
            # for briefly: nothing keeps downloading or decoding behind the caller's back
            downloader.stop()
            decoders.close(STOP_SECONDS)
            downloads.close(STOP_SECONDS)
            store.cleanup()

    @staticmethod
    def _counted(stream: Iterator[pa.Table | Restart], reporter: Reporter) -> Iterator[pa.Table | Restart]:
        """Pass a part's stream through, keeping the row count on screen right."""
        rows = 0
        for item in stream:
            if item is RESTART:
                reporter.add(rows=-rows)
                rows = 0
            else:
                rows += item.num_rows
                reporter.add(rows=item.num_rows)
            yield item

    def _tables(self, depth: int | None, *, finish: Callable[[pa.Table], pa.Table] | None = None, cache: bool = True,
                workers: int = DOWNLOAD_WORKERS, timeout: float | None = WAIT_TIMEOUT, progress: Any = _SENTINEL,
                **decode: Any) -> Iterator[pa.Table]:
        """One table per part, in part order (``depth`` and ``finish``: see :meth:`_part_streams`)."""
        options = DecodeOptions(**decode)
        with self._operation(progress) as reporter:
            known: list[pa.Schema] = []
            streams = self._part_streams(reporter, options, cache=cache, workers=workers, timeout=timeout,
                                         hint=lambda: unify(known) if known else None, depth=depth, finish=finish)
            with contextlib.closing(streams):
                for _, stream in streams:
                    pieces: list[pa.Table] = []
                    for item in self._counted(stream, reporter):
                        if item is RESTART:
                            pieces.clear()
                        else:
                            pieces.append(item)
                    table = _tables_to_table(pieces)
                    if table.num_columns:
                        known.append(table.schema)
                    yield table
            reporter.finish(Stage.DONE)


def _batches_to_table(batches: list[pa.RecordBatch]) -> pa.Table:
    """Batches of one reading as a table (zero-copy; they share a schema)."""
    first = batches[0].schema
    if all(b.schema.equals(first) for b in batches):
        return pa.Table.from_batches(batches, first)
    return concat([pa.Table.from_batches([b]) for b in batches])


def _tables_to_table(tables: list[pa.Table]) -> pa.Table:
    """One part's tables as one table (zero-copy when they share a schema)."""
    if not tables:
        return pa.table({})
    first = tables[0].schema
    if all(t.schema.equals(first) for t in tables):
        return pa.concat_tables(tables)
    return concat(tables)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
