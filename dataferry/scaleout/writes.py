"""``job.to_parquet(path, dask=client)``: every part downloaded, decoded and written on the
workers, one file per part (or per part and partition), committed once by the caller.

The caller opens the dataset as on one machine (:class:`~dataferry.dataset_sink.ParquetDatasetSink`:
the destination checked, ``existing_data`` applied, a hidden staging directory made) and sends a
sealed copy of that sink to the workers beside the job (:func:`~dataferry.scaleout.tasks.ship`).
Each part's task writes into the same staging directory under the part's own deterministic
names, so a task run again after its worker died overwrites what the dead one left, and rows
are never doubled. When every task has succeeded the caller joins their schemas, rewrites the
files written before the schema widened, and commits (:func:`dataferry.datasets.commit`); if
any task fails for good, the staging directory is deleted and the dataset is as it was.

The destination must be one every worker can reach: object storage, or a local path on a
cluster whose workers share the caller's disk (a ``LocalCluster``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from dataferry.cache import safe_name
from dataferry.dataset_sink import ParquetDatasetSink, Staged, open_parquet_sink
from dataferry.decode import DecodeOptions
from dataferry.errors import InvalidArgument
from dataferry.progress import Stage
from dataferry.scaleout.tasks import (
    PART_RETRIES,
    PartTask,
    current_client,
    dashboard,
    each_done,
    forget,
    fresh,
    once,
    part_tasks,
    read_part,
    ship,
)


@once
def write_part(task: PartTask, sink_ref: str, finish: Callable[[pa.Table], pa.Table] | None) -> tuple[int, Staged, int]:
    """On a worker: one part into a fresh copy of the dataset sink; ``(part index, what it
    staged, bytes downloaded)``."""
    sink: ParquetDatasetSink = fresh(sink_ref)
    read = read_part(task, sink, finish=finish)
    return task.part.index, sink.staged(), read.nbytes


def write_dataset(
    job: Any,
    path: str | os.PathLike[str],
    *,
    dask: Any,
    options: DecodeOptions,
    finish: Callable[[pa.Table], pa.Table] | None,
    partition_cols: Sequence[str] | None,
    dataset: bool | None,
    existing_data: str | None,
    storage_options: Mapping[str, Any] | None,
    filesystem: Any,
    timeout: float | None,
    progress: Any,
    **parquet: Any,
) -> Any:
    """See :meth:`dataferry.datajob.DataJob.to_parquet` (``dask=``)."""
    client = current_client(dask)
    if client is None or not hasattr(client, "map"):
        raise InvalidArgument(f"dask= takes a distributed.Client (from dask.distributed import Client), not {dask!r}")
    if dataset is False:
        raise InvalidArgument("to_parquet(dask=...) writes a dataset, one file per part: leave dataset= unset")
    with job._operation(progress) as reporter:
        sink = open_parquet_sink(
            path,
            partition_cols=partition_cols,
            dataset=True,
            existing_data=existing_data,
            name=safe_name(f"{job.vendor}-{job.id}"),
            storage_options=storage_options,
            filesystem=filesystem,
            **parquet,
        )
        assert isinstance(sink, ParquetDatasetSink)
        refs: list[str] = []
        try:
            with sink:
                parts = job._ready_parts(reporter, timeout)
                reporter.update(dashboard=dashboard(client))
                if not parts:
                    schema = job._empty_schema()
                    if schema is not None:
                        sink.begin_part(0)
                        sink.write(schema.empty_table())
                        sink.end_part()
                else:
                    refs.append(ship(job, client, f"{job.vendor}-{job.id}"))
                    refs.append(ship(sink, client, f"{job.vendor}-{job.id}-dataset"))
                    tasks = part_tasks(job, parts, refs[0], options, hint=sink.schema, keep=False)
                    futures = client.map(
                        write_part, tasks, sink_ref=refs[1], finish=finish, retries=PART_RETRIES, pure=False
                    )
                    staged: list[tuple[int, Staged]] = []
                    for _, (index, part, nbytes) in each_done(futures, client, refs[0]):
                        staged.append((index, part))
                        reporter.add(parts=1, rows=part.rows, bytes=nbytes)
                    reporter.stage(Stage.WRITING)
                    for _, part in sorted(staged, key=lambda s: s[0]):  # columns in part order
                        sink.include(part)
        except Exception as exc:
            exc.add_note(f"nothing was written to {sink.dest.url}: what this run had written was removed")
            raise
        finally:
            for ref in refs:
                forget(ref, client)
        reporter.finish(Stage.DONE, output=str(sink.path))
    return sink.path
