"""Datasets that grow: what ``existing_data=`` does, file names that make a re-run overwrite its
own files, the dataset's schema kept compatible as columns arrive, and the commit of a run's
staged files into place.

``existing_data`` (the names and meanings follow pyarrow's ``existing_data_behavior`` where
they overlap):

======================  =====================================================================
``"error"`` (default)   the dataset must not hold data yet (pyarrow's ``"error"``)
``"append"``            add this run's files; a file of the same job and part is overwritten
                        (pyarrow's ``"overwrite_or_ignore"``, plus: this job's older files that
                        this run did not write again are removed, so a re-run never duplicates)
``"replace_partitions"`` the partitions this run writes are replaced, the others kept
                        (pyarrow's ``"delete_matching"``); without ``partition_cols`` the
                        dataset has one partition, so this is ``"replace"``
``"replace"``           the whole dataset is replaced
======================  =====================================================================

A run writes its files under a hidden staging directory beside the dataset; only when every
part is complete are they put in place (renames on disk; server-side copies on an object store,
a few at once, so every key only ever holds a whole file), and only then is what they replace
deleted. A failed or interrupted run deletes its staging directory and the new files it had put
in place, and leaves the dataset as it was.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dataferry.constants import COMMIT_WORKERS
from dataferry.errors import (
    DataferryError,
    InvalidArgument,
    OutputExists,
    SchemaConflict,
    StorageError,
)
from dataferry.pool import run_all
from dataferry.schema import common_type
from dataferry.storage import Destination

log = logging.getLogger(__name__)

EXISTING_DATA = ("error", "append", "replace_partitions", "replace")
"""The ``existing_data=`` choices for a dataset (a single file takes ``"replace"`` or ``"error"``)."""

COMMON_METADATA = "_common_metadata"
"""The dataset-level schema file (the Parquet convention: the schema, no row groups)."""


def check_mode(existing_data: str, *, dataset: bool) -> str:
    """``existing_data`` if it is a choice that applies, else :class:`InvalidArgument`."""
    allowed = EXISTING_DATA if dataset else ("replace", "error")
    if existing_data not in allowed:
        what = "a dataset" if dataset else "a single file (the others need a dataset directory)"
        raise InvalidArgument(f"existing_data={existing_data!r} is not one of {allowed} for {what}")
    return existing_data


def part_name(index: int, token: str | None) -> str:
    """The file stem of one part: the same for the same job and part on every run.

    Example:
        >>> part_name(3, "s_m2abc")
        'part-00003-s_m2abc'
        >>> part_name(0, None)
        'part-00000'
    """
    return f"part-{index:05d}-{token}" if token else f"part-{index:05d}"


def own_files(token: str) -> re.Pattern[str]:
    """Matches the base names of the files a job with ``token`` writes."""
    return re.compile(rf"^part-\d{{5}}-{re.escape(token)}(-\d+-\d+)?\.parquet$")


def relative(root: str, path: str) -> str:
    """``path`` relative to ``root``, with ``/`` separators."""
    rel = path[len(root) :].lstrip("/\\")
    return rel.replace("\\", "/")


def visible(rel: str) -> bool:
    """Whether a file is data a reader sees (no path component starts with ``.`` or ``_``)."""
    return not any(p.startswith((".", "_")) for p in rel.split("/"))


def existing_files(dest: Destination) -> list[str]:
    """The dataset's data files (relative paths), or ``[]`` when there is none."""
    if dest.kind() != "dir":
        return []
    return [r for r in (relative(dest.path, f) for f in dest.files()) if visible(r)]


def check_empty(dest: Destination, existing: Sequence[str]) -> None:
    """:class:`OutputExists` when ``existing_data="error"`` finds data."""
    if existing:
        shown = ", ".join(existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise OutputExists(
            f"{dest.url} already holds {len(existing)} file(s) ({shown})", url=dest.url, action="writing"
        )


def existing_schema(dest: Destination, existing: Sequence[str]) -> pa.Schema | None:
    """The dataset's schema: its ``_common_metadata``, else its newest-named data file's."""
    meta = dest.join(COMMON_METADATA)
    path = meta if dest.kind(meta) == "file" else (dest.join(*max(existing).split("/")) if existing else None)
    if path is None:
        return None
    with dest.guard("reading the schema of"), dest.open_input(path) as f:
        return pq.read_schema(f)


def compatible(existing: pa.DataType, incoming: pa.DataType) -> pa.DataType | None:
    """The type a column keeps when ``incoming`` data joins ``existing`` files, or ``None`` when
    it cannot (numbers would become text, a nested value a scalar...).

    Example:
        >>> compatible(pa.float64(), pa.int64())
        DataType(double)
        >>> compatible(pa.int64(), pa.float64())
        DataType(double)
        >>> compatible(pa.int64(), pa.string()) is None
        True
    """
    if pa.types.is_null(existing) or existing == incoming:
        return incoming
    if pa.types.is_null(incoming):
        return existing
    wider = common_type([existing, incoming])
    if wider == existing:
        return existing
    both_numeric = all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in (existing, incoming))
    if both_numeric or (pa.types.is_timestamp(existing) and pa.types.is_timestamp(incoming)):
        return wider
    if (pa.types.is_string(existing) and pa.types.is_large_string(incoming)) or (
        pa.types.is_large_string(existing) and pa.types.is_string(incoming)
    ):
        return wider
    return None


def joined(base: pa.Schema, incoming: pa.Schema, url: str) -> pa.Schema:
    """``base`` (the dataset's schema) with ``incoming``'s columns joined: :class:`SchemaConflict`
    names the first column whose types cannot live side by side."""
    fields = {f.name: f.type for f in base}
    for f in incoming:
        if f.name not in fields:
            fields[f.name] = f.type
            continue
        kept = compatible(fields[f.name], f.type)
        if kept is None:
            raise SchemaConflict(
                f"column {f.name!r} is {fields[f.name]} in the dataset at {url} but {f.type} in this run",
                column=f.name,
                existing=str(fields[f.name]),
                incoming=str(f.type),
                url=url,
            )
        fields[f.name] = kept
    return pa.schema([pa.field(n, t) for n, t in fields.items()])


def doomed(mode: str, existing: Iterable[str], written: Sequence[str], token: str | None) -> list[str]:
    """The existing files (relative paths) a commit deletes once this run's files are in place.

    Example:
        >>> doomed("replace_partitions", ["c=DE/a.parquet", "c=SE/b.parquet"], ["c=DE/n.parquet"], None)
        ['c=DE/a.parquet']
    """
    new = set(written)
    old = [r for r in existing if r not in new]
    if mode == "replace":
        return old
    if mode == "replace_partitions":
        dirs = {posixpath.dirname(r) for r in written} or {""}
        return [r for r in old if posixpath.dirname(r) in dirs]
    if mode == "append" and token:
        mine = own_files(token)
        return [r for r in old if mine.match(posixpath.basename(r))]
    return []


def commit(
    dest: Destination, staging: str, mode: str, *, existing: Sequence[str], token: str | None, schema: pa.Schema | None
) -> list[str]:
    """Put a run's staged files in place (a few at once on an object store), then delete what
    they replace.

    Returns:
        The relative paths of the files now in place for this run.

    Raises:
        StorageError: putting a file in place failed; the files this run had put in place that
            were new are removed again and the message says so (an interrupt carries the same
            note).
    """
    staged = [relative(staging, f) for f in dest.files(staging)]
    written = sorted(r for r in staged if visible(r))
    if schema is not None:
        meta_tmp = _join(dest, staging, COMMON_METADATA)
        with dest.guard("writing the schema of"):
            pq.write_metadata(schema, meta_tmp, filesystem=dest.fs)
    delete = doomed(mode, existing, written, token)
    if dest.local and (mode == "replace" or not existing) and not _has_hidden_siblings(dest):
        from dataferry.parquet import replace_path

        replace_path(Path(staging), Path(dest.path))
        return written
    workers = 1 if dest.local else COMMIT_WORKERS
    placed: list[str] = []
    try:
        run_all(lambda rel: _place(dest, staging, rel), written, workers=workers, done=placed, name="dataferry-commit")
        if schema is not None:
            _place(dest, staging, COMMON_METADATA)
    except BaseException as exc:
        kept = _withdraw(dest, [r for r in placed if r not in set(existing)], workers)
        dest.delete_tree(staging)
        said = "the new ones were removed again" if not kept else f"{len(kept)} new one(s) could not be removed: {kept}"
        message = f"putting the files of this run into {dest.url} failed after {len(placed)} of {len(written)}; {said}"
        if not isinstance(exc, (DataferryError, OSError)):
            exc.add_note(message)  # an interrupt stays one
            raise
        raise StorageError(message, url=dest.url, action="committing") from exc
    run_all(
        lambda rel: dest.delete(dest.join(*rel.split("/"))), delete, workers=workers, done=[], name="dataferry-commit"
    )
    dest.delete_tree(staging)
    log.debug("committed %d files to %s (%s), deleted %d", len(written), dest.url, mode, len(delete))
    return written


def _place(dest: Destination, staging: str, rel: str) -> None:
    dest.place(_join(dest, staging, rel), dest.join(*rel.split("/")))


def _withdraw(dest: Destination, rels: Sequence[str], workers: int) -> list[str]:
    """Delete these files of a run cut off; the ones that could not be deleted."""
    gone: list[str] = []

    def remove(rel: str) -> None:
        with contextlib.suppress(DataferryError, OSError):
            dest.delete(dest.join(*rel.split("/")))
            gone.append(rel)

    run_all(remove, rels, workers=workers, done=[], name="dataferry-commit")
    return sorted(set(rels) - set(gone))


def _join(dest: Destination, staging: str, rel: str) -> str:
    return str(Path(staging, *rel.split("/"))) if dest.local else f"{staging}/{rel}"


def _has_hidden_siblings(dest: Destination) -> bool:
    """Whether the dataset directory holds hidden entries (another run's staging, say) that a
    whole-directory swap would throw away."""
    root = Path(dest.path)
    return root.is_dir() and any(p.name.startswith(".") for p in root.iterdir())
