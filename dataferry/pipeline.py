"""The parts pipeline: download → decode → group → a :class:`~dataferry.output.Sink`.

Downloads start at once, ``workers`` at a time, and run ahead (they cost disk, not memory);
``workers`` parts are decoded at the same time, each at most ``depth`` groups ahead of the
consumer, so the network, gunzip (ISA-L, off the GIL), the parser and the consumer (a Parquet
writer, say) overlap in flat memory. A part that has to be decoded again from its start (the
decoder's :data:`~dataferry.decode.RESTART`) is handled here, in one place: the sink rolls
the part back and the row count on screen goes back with it.

Parts are streamed even when the result is kept whole (``to_arrow``, ``to_pandas``): reading a
part at once holds about twice its table at the peak, and was no faster on the benchmark
(docs/performance.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TypeAlias, TypeVar

import pyarrow as pa

from dataferry.cache import PartCache
from dataferry.constants import HANDOFF_BYTES, STOP_SECONDS
from dataferry.decode import RESTART, DecodeOptions, Restart, stream_part
from dataferry.download import Downloader, Fetched
from dataferry.errors import NotData, PartCorrupt
from dataferry.output import Sink, concat
from dataferry.parts import Part
from dataferry.pool import Prefetch, Workers, ordered_streams, usable_cpus
from dataferry.progress import Reporter

Out = TypeVar("Out")
Piece: TypeAlias = pa.Table | Restart


def run(
    sink: Sink[Out],
    parts: Sequence[Part],
    *,
    downloader: Downloader,
    store: PartCache,
    options: DecodeOptions,
    reporter: Reporter,
    label: str,
    workers: int,
    depth: int | None,
    finish: Callable[[pa.Table], pa.Table] | None = None,
) -> Generator[list[Out], None, None]:
    """Every part through ``sink``, in part order; yields what the sink has ready as it comes.

    Args:
        sink: where the rows go; its ``schema`` (read as each part starts decoding) keeps later
            parts on the types already seen.
        parts: the job's parts.
        downloader, store: fetch the parts into the cache.
        options: decoding options.
        reporter: the operation's progress (rows and parts).
        label: names the job in errors ("brightdata snapshot s_…").
        workers: parts downloaded and decoded at the same time.
        depth: groups a part may decode ahead of the consumer (``None``: no limit, for a
            consumer that keeps everything anyway).
        finish: applied to every group on the decoding thread (the consumer's own
            preparation, off its thread).
    """
    streams = part_streams(
        parts,
        downloader=downloader,
        store=store,
        options=options,
        reporter=reporter,
        label=label,
        workers=workers,
        depth=depth,
        hint=lambda: sink.schema,
        finish=finish,
    )
    with contextlib.closing(streams):
        for part, stream in streams:
            sink.begin_part(part.index)
            rows = 0
            for item in stream:
                if item is RESTART:
                    sink.rollback_part()
                    reporter.add(rows=-rows)
                    rows = 0
                else:
                    assert isinstance(item, pa.Table)
                    sink.write(item)
                    rows += item.num_rows
                    reporter.add(rows=item.num_rows)
                ready = sink.take()
                if ready:
                    yield ready
            sink.end_part()
            reporter.add(parts=1)  # counted once its rows are in the sink
            ready = sink.take()
            if ready:
                yield ready


def part_streams(
    parts: Sequence[Part],
    *,
    downloader: Downloader,
    store: PartCache,
    options: DecodeOptions,
    reporter: Reporter,
    label: str,
    workers: int,
    depth: int | None,
    hint: Callable[[], pa.Schema | None],
    finish: Callable[[pa.Table], pa.Table] | None = None,
) -> Generator[tuple[Part, Iterator[Piece]], None, None]:
    """Each part as a stream of Arrow tables (groups of batches) and restarts, in part order.

    When the parts decoded side by side fill every core, each parses on one thread; a part
    with cores to spare (the last one, or when cores outnumber ``workers``) on several.
    ``hint()`` gives the schema known so far. A part that turns out corrupt is dropped from
    the cache, so the next run downloads it anew. On every way out (the end, an error, Ctrl-C)
    every worker is told to stop and waited for briefly: nothing keeps downloading or decoding
    behind the caller's back.
    """
    position = {id(p): k for k, p in enumerate(parts)}
    cores = usable_cpus()

    def produce(part: Part) -> Iterator[Piece]:
        k = position[id(part)]
        # one thread each when parts fill every core: fewer hand-offs, less fresh memory
        threads = workers < cores or len(parts) - k < workers
        yield from pieces(
            downloads.result(k),
            options,
            store=store,
            hint=hint(),
            label=f"part {part.index} of {label}",
            threads=threads,
            finish=finish,
        )

    downloads = Prefetch(downloader.fetch, parts, workers=workers, name="dataferry-dl")
    decoders = Workers(workers, name="dataferry-part")
    try:
        with contextlib.closing(
            ordered_streams(produce, parts, workers=workers, depth=depth, pool=decoders)
        ) as streams:
            yield from streams
    finally:
        downloader.stop()
        decoders.close(STOP_SECONDS)
        downloads.close(STOP_SECONDS)
        store.cleanup()


def pieces(
    fetched: Fetched,
    options: DecodeOptions,
    *,
    store: PartCache,
    hint: pa.Schema | None,
    label: str,
    threads: bool = True,
    finish: Callable[[pa.Table], pa.Table] | None = None,
) -> Iterator[Piece]:
    """One downloaded part decoded as tables of about :data:`~dataferry.constants.HANDOFF_BYTES`
    (``finish`` applied to each) and restarts. A part that turns out corrupt is dropped from
    the cache, so the next run downloads it anew; one not kept (``store`` not persistent) is
    deleted once read."""
    finished = finish or (lambda table: table)
    group: list[pa.RecordBatch] = []
    size = 0
    try:
        for item in stream_part(fetched.path, fetched.part.format, options, hint=hint, label=label, threads=threads):
            if item is RESTART:
                group, size = [], 0  # never sent: nothing to withdraw for these
                yield RESTART
                continue
            assert isinstance(item, pa.RecordBatch)
            group.append(item)
            size += item.get_total_buffer_size()  # cheap, unlike nbytes
            if size >= HANDOFF_BYTES:
                yield finished(_group(group))
                group, size = [], 0
        if group:
            yield finished(_group(group))
    except (PartCorrupt, NotData):
        store.discard(fetched.part)
        raise
    if not store.persistent:
        fetched.path.unlink(missing_ok=True)


def _group(batches: list[pa.RecordBatch]) -> pa.Table:
    """Batches of one reading as a table (zero-copy; they share a schema)."""
    first = batches[0].schema
    if all(b.schema.equals(first) for b in batches):
        return pa.Table.from_batches(batches, first)
    return concat([pa.Table.from_batches([b]) for b in batches])
