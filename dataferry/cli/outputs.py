"""Where a command writes a job's data: ``-o`` a Parquet file, a Parquet dataset
(``--partition-by``, or a directory), a CSV or NDJSON file, ``-`` for CSV on standard output,
or any URL :meth:`~dataferry.datajob.DataJob.to_parquet` accepts (``s3://``, ``gs://``...).

Parquet is streamed part by part and written atomically (by ``to_parquet``); CSV and NDJSON
are built from the whole table, written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from dataferry.cli.report import Outcome
from dataferry.datajob import DataJob
from dataferry.errors import InvalidArgument

FORMATS = ("parquet", "csv", "ndjson")
"""The values of ``--format``."""

_SUFFIXES = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".parquet": "parquet", ".pq": "parquet"}


def add_output_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``-o``, ``--format``, ``--partition-by`` and ``--allow-empty`` on a command that writes data."""
    what = "" if required else "; without it, only the id is printed"
    parser.add_argument(
        "-o",
        "--out",
        required=required,
        metavar="PATH",
        help=f"a .parquet file, a directory or URL (s3://...) for a dataset, a .csv / .ndjson file, or - for "
        f"CSV on standard output{what}",
    )
    parser.add_argument("--format", dest="out_format", choices=FORMATS, default=None, help="default: from -o")
    parser.add_argument(
        "--partition-by",
        "--partition-cols",
        dest="partition_by",
        action="append",
        default=None,
        metavar="COLUMN",
        help="write a hive-partitioned Parquet dataset by COLUMN (repeatable, or a,b)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="an empty result (Bright Data 'Snapshot is empty', 'No data found in discovery', no rows) is "
        "written empty and exits 0 instead of 4",
    )


def output_format(out: str, chosen: str | None) -> str:
    """The format of ``-o out``: ``--format``, else the suffix (``-`` is CSV), else Parquet.

    Example:
        >>> output_format("-", None), output_format("day.ndjson", None), output_format("s3://b/day/", None)
        ('csv', 'ndjson', 'parquet')
    """
    if chosen:
        return chosen
    if out == "-":
        return "csv"
    return _SUFFIXES.get(Path(out.rstrip("/")).suffix.lower(), "parquet")


def _partition_cols(args: argparse.Namespace) -> list[str] | None:
    cols = [c.strip() for item in getattr(args, "partition_by", None) or [] for c in item.split(",") if c.strip()]
    return cols or None


def write_output(job: DataJob, args: argparse.Namespace, outcome: Outcome, *, timeout: float) -> None:
    """Wait for ``job`` within ``timeout`` and write its data where ``-o`` says."""
    out = str(args.out)
    fmt = output_format(out, getattr(args, "out_format", None))
    partition_cols = _partition_cols(args)
    if partition_cols and fmt != "parquet":
        raise InvalidArgument("--partition-by writes a Parquet dataset; it cannot be combined with CSV or NDJSON")
    if fmt != "parquet" and "://" in out:
        raise InvalidArgument(f"{out}: CSV and NDJSON go to a local file or to - (standard output)")
    if fmt == "parquet":
        if out == "-":
            raise InvalidArgument("-o - writes CSV; give a file or directory for Parquet")
        written = job.to_parquet(out, partition_cols=partition_cols, timeout=timeout)
        outcome.output = str(written)
        outcome.columns, outcome.rows = _parquet_facts(written)
    else:
        table = job.to_arrow(timeout=timeout)
        outcome.columns = list(table.column_names)
        outcome.rows = table.num_rows
        outcome.output = out if out != "-" else "-"
        _write_text(table, out, fmt)
    recorder = outcome.recorder
    if outcome.rows is None and recorder is not None:
        outcome.rows = recorder.rows
    if not outcome.rows:
        empty = getattr(job, "empty_message", None)
        outcome.note(f"{job.vendor} {job.kind} {job.id} has no rows" + (f" ({empty})" if empty else ""))
    if out != "-":
        outcome.say(f"{job.vendor} {job.kind} {job.id}: {outcome.rows or 0} rows written to {outcome.output}")


def _parquet_facts(path: Any) -> tuple[list[str] | None, int | None]:
    """The column names and row count of what ``to_parquet`` wrote (``None`` off disk: the
    progress figures stand in)."""
    if not isinstance(path, Path):
        return None, None
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    try:
        if path.is_dir():
            dataset = ds.dataset(path, format="parquet", partitioning="hive")
            return list(dataset.schema.names), int(dataset.count_rows())
        return list(pq.read_schema(path).names), int(pq.read_metadata(path).num_rows)
    except (OSError, ValueError):
        return None, None


def _write_text(table: Any, out: str, fmt: str) -> None:
    frame = table.to_pandas()
    if out == "-":
        if fmt == "csv":
            frame.to_csv(sys.stdout, index=False)
        else:
            sys.stdout.write(_ndjson(frame))
        sys.stdout.flush()
        return
    target = Path(out)
    if target.is_dir():
        raise InvalidArgument(f"{out} is a directory; give a file name for {fmt.upper()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            tmp.write_text(_ndjson(frame), encoding="utf-8")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _ndjson(frame: Any) -> str:
    if frame.empty:
        return ""
    text = frame.to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
    return str(text) if str(text).endswith("\n") else f"{text}\n"
