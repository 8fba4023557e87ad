"""``to_parquet(path, dask=client)`` on a real LocalCluster: every part downloaded, decoded and
written on the workers, committed once; the same rows as on one machine, locally and in the
local S3 server; a worker killed mid-run costs no row and doubles none; a failed run leaves
the dataset as it was; re-running is idempotent; no credential in the task graph."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pyarrow.dataset as ds
import pytest
from distributed.diagnostics.plugin import SchedulerPlugin

from dataferry.errors import InvalidArgument, SchemaConflict
from dataferry.s3server import LocalS3
from tests.dask.conftest import DRIFT
from tests.recorder import Recorder


def rows(path: Any, **kw: Any) -> pd.DataFrame:
    table = ds.dataset(path, format="parquet", partitioning="hive", **kw).to_table()
    return table.to_pandas().sort_values("url", key=lambda s: s.str.extract(r"(\d+)$")[0].astype(int))


def same_rows(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = written.reset_index(drop=True)[list(expected.columns)]
    assert len(got) == len(expected) and got["url"].is_unique
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False, check_categorical=False)


def test_a_dataset_written_on_the_workers_holds_the_rows_of_to_pandas(
    snapshot: Callable[..., Any], dask_client: Any, tmp_path: Path
) -> None:
    snap = snapshot(records=5000, batch_size=1000)
    out = snap.to_parquet(tmp_path / "products/", dask=dask_client)
    assert out == tmp_path / "products"
    parts = sorted(p.name for p in out.iterdir() if p.suffix == ".parquet")
    assert parts == [f"part-{k:05d}-brightdata-{snap.id}.parquet" for k in range(5)]  # one file per part
    same_rows(rows(out), snap.to_pandas())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_partitioned_and_rerun_idempotent(snapshot: Callable[..., Any], dask_client: Any, tmp_path: Path) -> None:
    snap = snapshot(records=4000, batch_size=1000)
    url = tmp_path / "by-currency"
    snap.to_parquet(url, partition_cols=["currency"], dask=dask_client)
    first = sorted(str(p.relative_to(url)) for p in url.rglob("*.parquet"))
    snap.to_parquet(url, partition_cols=["currency"], dask=dask_client, existing_data="append")  # the same job again
    assert sorted(str(p.relative_to(url)) for p in url.rglob("*.parquet")) == first  # its own files replaced
    expected = snap.to_pandas()
    written = rows(url)
    assert set(written["currency"].astype(str)) == set(expected["currency"])
    same_rows(written.drop(columns="currency"), expected.drop(columns="currency"))


def test_to_the_local_s3_server(snapshot: Callable[..., Any], dask_client: Any) -> None:
    with LocalS3(["lake"]) as s3:
        snap = snapshot(records=3000, batch_size=1000)
        url = "s3://lake/products/"
        assert snap.to_parquet(url, dask=dask_client, storage_options=s3.storage_options) == url
        same_rows(rows("lake/products", filesystem=s3.filesystem()), snap.to_pandas())
        assert [k for k in s3.keys("lake") if "/." in k or k.startswith(".")] == []  # no staging object left
        df = pd.read_parquet(url, storage_options=s3.storage_options)
        assert len(df) == len(snap.to_pandas())


def test_a_failed_run_leaves_the_dataset_as_it_was(
    snapshot: Callable[..., Any], dask_client: Any, tmp_path: Path
) -> None:
    url = tmp_path / "drift"
    snapshot(records=1000, batch_size=1000, dataset=DRIFT).to_parquet(url, dask=dask_client, columns=["id", "sku"])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    later = snapshot(records=3000, batch_size=1000, dataset=DRIFT)  # sku turns to text after the first part
    with pytest.raises(SchemaConflict, match="sku") as err:
        later.to_parquet(url, dask=dask_client, existing_data="append", columns=["id", "sku"])
    assert any("nothing was written to" in note for note in err.value.__notes__)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nor any staging file


def test_an_error_a_retry_cannot_mend_is_not_retried(
    snapshot: Callable[..., Any], emu: Any, dask_client: Any, tmp_path: Path
) -> None:
    url = tmp_path / "drift"
    snapshot(records=1000, batch_size=1000, dataset=DRIFT).to_parquet(url, dask=dask_client, columns=["id", "sku"])
    later = snapshot(records=3000, batch_size=1000, dataset=DRIFT)  # parts 2 and 3 conflict on sku
    before = len(emu.app.requests)
    with pytest.raises(SchemaConflict, match="sku"):
        later.to_parquet(url, dask=dask_client, existing_data="append", columns=["id", "sku"], cache=False)
    downloads = [r for r in emu.app.requests[before:] if r.path.startswith("/datasets/v3/snapshot/")]
    downloads = [r for r in downloads if not r.path.endswith("/parts")]
    assert len(downloads) <= 3  # each part at most once: a conflict is the same on every worker


def _plant_a_failing_part() -> None:
    """On a worker: part 1's task fails at once; the others run as they would."""
    import dataferry.scaleout.writes as writes

    real = getattr(writes, "_real_read_part", writes.read_part)
    writes._real_read_part = real  # type: ignore[attr-defined]

    def read_part(task: Any, sink: Any, **kw: Any) -> Any:
        if task.part.index == 1:
            raise RuntimeError("planted: part 1 fails")
        return real(task, sink, **kw)

    writes.read_part = read_part


def _unplant() -> None:
    import dataferry.scaleout.writes as writes

    writes.read_part = getattr(writes, "_real_read_part", writes.read_part)


def test_a_failed_run_stops_the_tasks_still_running_before_it_cleans_up(
    snapshot: Callable[..., Any], emu: Any, dask_client: Any, tmp_path: Path
) -> None:
    snap = snapshot(records=3000, batch_size=1000)
    emu.faults.add("trickle", path=r"/snapshot/s_\w+$", seconds=1.5)  # the other parts take 1.5 s
    dask_client.run(_plant_a_failing_part)
    try:
        with pytest.raises(RuntimeError, match="planted") as err:
            snap.to_parquet(tmp_path / "products/", dask=dask_client, cache=False)
        assert any("nothing was written to" in note for note in err.value.__notes__)
        time.sleep(2.5)  # the slow parts' tasks would have written by now
    finally:
        dask_client.run(_unplant)
        emu.faults.clear()
    assert list(tmp_path.rglob("*")) == []  # no part file, no staging directory


def test_a_file_path_or_no_cluster_is_refused(snapshot: Callable[..., Any], tmp_path: Path, dask_client: Any) -> None:
    snap = snapshot(records=1000, batch_size=1000)
    with pytest.raises(InvalidArgument, match="writes a dataset"):
        snap.to_parquet(tmp_path / "one.parquet", dask=dask_client, dataset=False)
    with pytest.raises(InvalidArgument, match=r"distributed\.Client"):
        snap.to_parquet(tmp_path / "x/", dask="tcp://nowhere:8786")
    assert list(tmp_path.iterdir()) == []


def test_a_worker_killed_mid_run_costs_no_row_and_doubles_none(
    snapshot: Callable[..., Any], emu: Any, dask_client: Any, tmp_path: Path
) -> None:
    snap = snapshot(records=6000, batch_size=1000)
    expected = snap.to_pandas()
    emu.faults.add("trickle", path=r"/snapshot/s_\w+$", seconds=1.5)  # every part download takes 1.5 s
    before = len(emu.app.requests)
    pids = dask_client.run(os.getpid)
    killed: list[str] = []

    def kill_one_busy_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in dask_client.processing().items() if keys]
            if busy and time.monotonic() - started > 0.7:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.05)

    started = time.monotonic()
    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    try:
        out = snap.to_parquet(tmp_path / "products/", dask=dask_client, cache=False)
    finally:
        killer.join()
        emu.faults.clear()
    assert killed, "no worker was killed"
    downloads = [r for r in emu.app.requests[before:] if not r.path.endswith("/parts")]
    assert len(downloads) > 6  # the killed worker's part was downloaded again elsewhere
    same_rows(rows(out), expected)


class _GraphRecorder(SchedulerPlugin):
    """Keeps, for every task the scheduler is given, its key and its run spec as pickled bytes."""

    name = "dataferry-test-graph-recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes, str]] = []

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def update_graph(self, scheduler: Any, *, keys: Any = (), tasks: Any = (), **kw: Any) -> None:
        import pickle

        for key in list(tasks or ()) + list(keys or ()):
            ts = scheduler.tasks.get(key)
            if ts is not None:
                self.seen.append((repr(key), pickle.dumps(ts.run_spec), repr(ts.run_spec)))


@pytest.fixture
def recorded(dask_client: Any) -> Iterator[Callable[[], list[tuple[str, bytes, str]]]]:
    dask_client.register_plugin(_GraphRecorder())
    yield lambda: dask_client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins[_GraphRecorder.name].seen)
    dask_client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.remove_plugin(_GraphRecorder.name))


def test_the_token_is_nowhere_in_the_graph(
    snapshot: Callable[..., Any], emu: Any, dask_client: Any, tmp_path: Path, recorded: Callable[[], Any]
) -> None:
    import cloudpickle

    token = emu.credentials["token"]
    snap = snapshot(records=3000, batch_size=1000)
    with LocalS3(["lake"]) as s3:
        secret = s3.storage_options["secret"]
        ddf = snap.to_dask()
        graph = dict(ddf.__dask_graph__())
        blob = cloudpickle.dumps(graph)
        assert token.encode() not in blob and token not in repr(graph) and token not in repr(ddf)
        assert all(token not in repr(key) for key in graph)
        ddf.compute()
        snap.to_parquet("s3://lake/p/", dask=dask_client, storage_options=s3.storage_options)
        seen = recorded()
        assert len(seen) >= 6  # the to_dask scan, its compute and the writes
        for key, spec, shown in seen:
            for planted in (token, secret):
                assert planted not in key and planted not in shown and planted.encode() not in spec
        plugins = dask_client.run_on_scheduler(lambda dask_scheduler: repr(dask_scheduler.worker_plugins.keys()))
        assert token not in plugins


def test_the_panel_counts_the_cluster_parts_and_links_the_dashboard(
    snapshot: Callable[..., Any], dask_client: Any, tmp_path: Path
) -> None:
    from dataferry.progress import Stage
    from dataferry.progress.panel import panel_bundle

    class Quick(Recorder):
        # draw even if the run ends within the quiet period
        reporter_options: ClassVar[dict[str, Any]] = {"quiet_seconds": 0}

    snap = snapshot(records=4000, batch_size=1000)
    rec = Quick()
    snap.to_parquet(tmp_path / "p/", dask=dask_client, progress=rec)
    end = rec.closed
    assert end is not None and end.stage is Stage.DONE
    assert end.parts_done == end.parts_total == 4 and end.rows == len(snap.to_pandas()) and end.bytes_done > 0
    assert end.dashboard == dask_client.dashboard_link
    shown = panel_bundle(end, final=True)
    assert f"href='{dask_client.dashboard_link}'" in shown["text/html"]
    assert f"Dask dashboard: {dask_client.dashboard_link}" in shown["text/plain"]
