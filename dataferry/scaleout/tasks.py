"""One part as a Dask task: what the task carries, how the job's credentials reach the workers,
and the part read on a worker.

A :class:`PartTask` holds what a worker needs to fetch and verify one part (its link, the size
the vendor announced, the format and compression the checks follow, the decode options) and a
*reference*: a short name. The job itself (its client, with the token or key) travels once per
cluster inside a :class:`Sealed` worker plugin, never in the task graph, so no credential shows
in a task key, a repr, the scheduler's graph or the dashboard. On a worker the reference gives
back a working copy of the job: an expired myTracker link is refreshed there through the
vendor's status call, as on one machine (nothing is ever triggered again).
"""

from __future__ import annotations

import contextlib
import functools
import io
import pickle
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cloudpickle
import pyarrow as pa

from dataferry.cache import PartCache, default_cache_dir, safe_name
from dataferry.decode import RESTART, DecodeOptions
from dataferry.download import Downloader
from dataferry.errors import DecodeError, InvalidArgument, NotData, SchemaConflict, SchemaDrift, Stopped
from dataferry.output import Sink
from dataferry.parts import Part
from dataferry.pipeline import pieces

R = TypeVar("R")

PLUGIN_PREFIX = "dataferry-"
"""Worker plugins dataferry registers are named so."""

PART_RETRIES = 3
"""Times Dask runs a part's task again on another worker when its worker dies or it fails."""

HALT_SECONDS = 5.0
"""How long a failed or interrupted run waits for its tasks still running on the workers to
stop (downloads stop within a second, decoding at its next piece) before it cleans up."""

_LOCKS: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
}
_SEALED: dict[str, bytes] = {}  # reference → sealed bytes, in this process
_OPENED: dict[str, Any] = {}  # reference → the object, unsealed once per process
_RUNNING: dict[str, list[Downloader]] = {}  # reference → its tasks running in this process
_STOPPED: set[str] = set()  # references whose run has ended: their tasks stop
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class PartTask:
    """What one part's task carries: picklable, small, without a credential.

    Attributes:
        ref: the reference of the job on the workers (see :func:`ship`).
        part: the part (link, expected size, format, compression).
        options: how to decode it.
        label: names the job in errors ("brightdata snapshot s_…").
        hint: the types the part is decoded with where they fit (``None``: inferred).
        keep: keep the downloaded file in the worker's cache (``False``: deleted once read).
    """

    ref: str
    part: Part
    options: DecodeOptions
    label: str
    hint: pa.Schema | None = None
    keep: bool = True

    def __repr__(self) -> str:  # shown in the dashboard and in errors: short
        return f"PartTask({self.label}, part {self.part.index})"


class _Sealer(cloudpickle.Pickler):  # type: ignore[misc]
    """Pickles a live object with its locks replaced by new ones (a client's rate limiter, a
    session's pool): the copy on a worker has its own."""

    def reducer_override(self, obj: Any) -> Any:
        fresh = _LOCKS.get(type(obj))
        if fresh is not None:
            return fresh, ()
        return super().reducer_override(obj)


def seal(obj: Any) -> bytes:
    """``obj`` (a job, a sink) as bytes a worker can unpickle into a working copy."""
    buffer = io.BytesIO()
    _Sealer(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _Plugin
except ImportError:  # dask without distributed: the local schedulers have no worker to plug into
    _Plugin = object  # type: ignore[misc,assignment]


class Sealed(_Plugin):
    """A Dask worker plugin holding one sealed object under its reference.

    Its repr names only the reference; the bytes (which hold the credential) are never shown.
    Registered on the cluster, it reaches every worker, including one started after a worker
    died.
    """

    idempotent = False  # registered again under the same name: the new bytes replace the old

    def __init__(self, ref: str, payload: bytes) -> None:
        self.ref = ref
        self.payload = payload

    def setup(self, worker: Any = None) -> None:
        with _OPEN_LOCK:
            _SEALED[self.ref] = self.payload
            _OPENED.pop(self.ref, None)

    def teardown(self, worker: Any = None) -> None:
        with _OPEN_LOCK:
            _SEALED.pop(self.ref, None)
            _OPENED.pop(self.ref, None)
            _STOPPED.discard(self.ref)

    def __repr__(self) -> str:
        return f"Sealed({self.ref!r})"


def ship(obj: Any, client: Any, name: str) -> str:
    """Make ``obj`` known to ``client``'s workers (and to this process) under a new reference.

    Args:
        obj: the job or sink.
        client: a ``distributed.Client``, or ``None`` for Dask's local schedulers.
        name: a readable stem for the reference ("brightdata-s_…").

    Returns:
        The reference a :class:`PartTask` carries.
    """
    ref = f"{PLUGIN_PREFIX}{safe_name(name)}-{uuid.uuid4().hex[:8]}"
    plugin = Sealed(ref, seal(obj))
    plugin.setup()
    if client is not None:
        client.register_plugin(plugin, name=ref)
    return ref


def forget(ref: str, client: Any) -> None:
    """Drop a reference from this process and from ``client``'s workers."""
    Sealed(ref, b"").teardown()
    if client is not None:
        with contextlib.suppress(OSError, RuntimeError, ValueError, KeyError):  # a cluster gone has nothing to drop
            client.unregister_worker_plugin(ref)


def opened(ref: str) -> Any:
    """The object ``ref`` names, unsealed once in this process (a job: its connections reused)."""
    with _OPEN_LOCK:
        if ref not in _OPENED:
            _OPENED[ref] = pickle.loads(_payload(ref))
        return _OPENED[ref]


def fresh(ref: str) -> Any:
    """A new copy of the object ``ref`` names (a sink: one per task)."""
    with _OPEN_LOCK:
        payload = _payload(ref)
    return pickle.loads(payload)


def _payload(ref: str) -> bytes:
    try:
        return _SEALED[ref]
    except KeyError:
        raise LookupError(
            f"{ref} is not known in this process: the Dask client that built the task is gone, "
            "or the task runs on a cluster it was not built for"
        ) from None


def current_client(given: Any = None) -> Any:
    """The ``distributed.Client`` to run on: ``given``, else the current one, else ``None``
    (Dask's local schedulers)."""
    if given is not None:
        return given
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client in this process
        return None


def dashboard(client: Any) -> str:
    """The cluster's dashboard address, or ``""``."""
    link = getattr(client, "dashboard_link", "") if client is not None else ""
    return link if isinstance(link, str) else ""


def scratch(job: Any) -> Path:
    """Where a worker keeps downloaded parts: the worker's own directory on a cluster, else the
    job's cache directory."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory) / "dataferry-parts"
    except (ImportError, ValueError):
        return Path(job.client.cache_dir) if job.client.cache_dir is not None else default_cache_dir()


@dataclass(frozen=True)
class PartRead:
    """What reading one part gave: its rows (once) and the bytes of its download."""

    rows: int
    nbytes: int


def read_part(task: PartTask, sink: Sink[Any], *, finish: Callable[[pa.Table], pa.Table] | None = None) -> PartRead:
    """Download (or find in the worker's cache), verify and decode one part into ``sink``.

    A part that has to be decoded again from its start is rolled back in the sink first, so
    its rows arrive once. Runs wherever the task runs; stops (:class:`~dataferry.errors.Stopped`)
    when its run has ended (:func:`halt`), its download at once, its decoding at the next piece.
    """
    job = opened(task.ref)
    store = PartCache(job.vendor, job.id, root=scratch(job), persistent=task.keep)
    got: list[int] = []
    downloader = job._downloader(store, got.append)
    try:
        with _running(task.ref, downloader):
            fetched = downloader.fetch(task.part)
            sink.begin_part(task.part.index)
            rows = 0
            for item in pieces(
                fetched,
                task.options,
                store=store,
                hint=task.hint,
                label=f"part {task.part.index} of {task.label}",
                finish=finish,
            ):
                if downloader.stopped.is_set():
                    raise Stopped(f"part {task.part.index} of {task.label}: its run has ended")
                if item is RESTART:
                    sink.rollback_part()
                    rows = 0
                    continue
                assert isinstance(item, pa.Table)
                sink.write(item)
                rows += item.num_rows
            sink.end_part()
    finally:
        if not task.keep:
            store.cleanup()
    return PartRead(rows, sum(got))


@contextlib.contextmanager
def _running(ref: str, downloader: Downloader) -> Iterator[None]:
    """Count a task of ``ref`` as running in this process (refused once its run has ended)."""
    with _OPEN_LOCK:
        if ref in _STOPPED:
            raise Stopped(f"{ref}: its run has ended")
        _RUNNING.setdefault(ref, []).append(downloader)
    try:
        yield
    finally:
        with _OPEN_LOCK:
            running = _RUNNING.get(ref, [])
            running.remove(downloader)
            if not running:
                _RUNNING.pop(ref, None)


def stop_here(ref: str) -> int:
    """In this process: stop the tasks of ``ref`` running here and refuse any that starts later;
    how many are still running."""
    with _OPEN_LOCK:
        _STOPPED.add(ref)
        running = list(_RUNNING.get(ref, ()))
    for downloader in running:
        downloader.stop()
    return len(running)


def halt(client: Any, ref: str, wait: float = HALT_SECONDS) -> int:
    """Stop every task of ``ref`` on ``client``'s workers and wait up to ``wait`` seconds for
    them to end; how many are still running then (``0``: nothing can write any more)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            running = sum(client.run(stop_here, ref).values())
        except (OSError, RuntimeError, ValueError):  # the cluster is gone: nothing runs there
            return 0
        if running == 0 or time.monotonic() >= deadline:
            return int(running)
        time.sleep(0.05)


@dataclass(frozen=True)
class Failed:
    """A part's error that running its task again cannot mend (the part's own bytes or types
    are wrong), returned instead of raised so Dask does not retry it: :func:`each_done` raises
    it on the client."""

    error: BaseException


FINAL: tuple[type[BaseException], ...] = (SchemaConflict, SchemaDrift, InvalidArgument, DecodeError)
"""Errors a part's task gives every time (:class:`~dataferry.errors.NotData` excepted: an error
page instead of the data may be the server's passing fault)."""


def unwrapped(result: Any) -> Any:
    """A task's result, or the :class:`Failed` error it carries raised here."""
    if isinstance(result, Failed):
        raise result.error
    return result


def once(fn: Callable[..., R]) -> Callable[..., R | Failed]:
    """A task function whose :data:`FINAL` errors come back as :class:`Failed` (not retried)."""

    @functools.wraps(fn)
    def task(*args: Any, **kwargs: Any) -> R | Failed:
        try:
            return fn(*args, **kwargs)
        except NotData:
            raise
        except FINAL as exc:
            return Failed(exc)

    return task


def part_tasks(job: Any, parts: list[Part], ref: str, options: DecodeOptions, **kw: Any) -> list[PartTask]:
    """One :class:`PartTask` per part."""
    label = f"{job.vendor} {job.kind} {job.id}"
    return [PartTask(ref, part, options, label, **kw) for part in parts]


def each_done(futures: list[Any], client: Any, ref: str) -> Iterator[tuple[Any, Any]]:
    """``(future, result)`` for each of ``futures`` (tasks of ``ref``) as it completes. The
    first error is raised at once, after the other tasks are cancelled and those already
    running are stopped (:func:`halt`), so nothing of the run goes on behind the caller."""
    from distributed import as_completed

    try:
        for future in as_completed(futures):
            yield future, unwrapped(future.result())
    except BaseException as exc:
        client.cancel(futures)
        left = halt(client, ref)
        if left:
            exc.add_note(
                f"{left} of this run's tasks were still running on the workers {HALT_SECONDS:g} s after "
                "they were told to stop; what they write now is not part of any result"
            )
        raise
