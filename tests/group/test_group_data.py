"""A group's data as one DataFrame, one Arrow table and one Parquet dataset, row for row
against each job's own ``to_pandas`` (issue #19, item 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import dataferry
from dataferry import brightdata, mytracker
from dataferry.wait import PollPolicy

from .conftest import DATASET, PERIOD

POLLS = PollPolicy(initial=0.05, growth=1.5, maximum=0.2, jitter=0.0)


@pytest.fixture
def jobs(start_emulator: Callable[..., Any]) -> list[Any]:
    bd_emu = start_emulator("brightdata", start_after=0.05, ready_after=0.2)
    mt_emu = start_emulator("mytracker", step_seconds=0.05, steps=2, rows_per_day=300, rows_per_file=500)
    bd = brightdata.Client(poll=POLLS, **bd_emu.client_kwargs())
    mt = mytracker.Client(poll=POLLS, rate_limits=False, **mt_emu.client_kwargs())
    snaps = [
        bd.trigger(
            DATASET, [{"url": f"https://example.com/p/{k}", "emulator_records": 1200 + 300 * k}], batch_size=1000
        )
        for k in range(3)
    ]
    exports = [mt.create_export("installs", ["idApp", "tsEvent"], id_app=[k + 1], **PERIOD) for k in range(2)]
    return snaps + exports


def own(job: Any) -> pd.DataFrame:
    return job.to_pandas(progress="off")


def test_to_pandas_tags_every_row_with_its_job(jobs: list[Any]) -> None:
    snaps = dataferry.wait_all(jobs[:3], progress="off")
    df = snaps.to_pandas(source_column="job_id", progress="off")
    assert list(df["job_id"].unique()) == [j.id for j in jobs[:3]]
    for job in jobs[:3]:
        mine = df[df["job_id"] == job.id].drop(columns="job_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, own(job))
    assert all(len(j.parts(progress="off")) >= 2 for j in jobs[:3])


def test_jobs_of_two_vendors_under_one_schema(jobs: list[Any]) -> None:
    group = dataferry.wait_all(jobs, progress="off")
    table = group.to_arrow(source_column="job_id", progress="off")
    assert table.num_rows == sum(len(own(j)) for j in jobs)
    names = set(table.schema.names)
    assert {"job_id", "product_id", "idApp", "tsEvent"} <= names
    frame = table.to_pandas()
    export = jobs[3]
    mine = frame[frame["job_id"] == export.id][["idApp", "tsEvent"]].reset_index(drop=True)
    expected = own(export)
    assert mine["tsEvent"].tolist() == expected["tsEvent"].tolist()
    assert mine["idApp"].astype("int64").tolist() == expected["idApp"].tolist()
    assert frame[frame["job_id"] == jobs[0].id]["idApp"].isna().all()  # a column of the other vendor: null here


def test_to_parquet_writes_one_dataset_one_file_per_job_part(jobs: list[Any], tmp_path: Path) -> None:
    group = dataferry.wait_all(jobs[:3], progress="off")
    flat = group.to_parquet(tmp_path / "flat", source_column="job_id", progress="off")
    files = sorted(flat.glob("*.parquet"))
    assert len(files) == sum(len(j.parts(progress="off")) for j in jobs[:3])
    parted = group.to_parquet(tmp_path / "parted", partition_cols=["job_id"], progress="off")
    # one directory per job, beside the dataset's _common_metadata (the schema every file shares)
    assert sorted(p.name for p in parted.iterdir()) == ["_common_metadata", *sorted(f"job_id={j.id}" for j in jobs[:3])]
    for path in (flat, parted):
        table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
        frame = table.to_pandas()
        for job in jobs[:3]:
            mine = frame[frame["job_id"].astype(str) == job.id].drop(columns="job_id")
            mine = mine.sort_values("product_id").reset_index(drop=True)
            expected = own(job).sort_values("product_id").reset_index(drop=True)
            assert mine["product_id"].tolist() == expected["product_id"].tolist()
            assert len(mine) == len(expected)
    assert pq.read_table(files[0]).column("job_id").to_pylist()[0] == jobs[0].id


def test_a_failed_job_is_left_out_with_succeeded(jobs: list[Any], start_emulator: Callable[..., Any]) -> None:
    bd = jobs[0].client
    broken = bd.trigger(DATASET, [{"url": "https://example.com/b", "emulator_fail": "blocked"}])
    group = dataferry.wait_all([*jobs[:2], broken], progress="off", raise_on_failure=False)
    with pytest.raises(dataferry.JobFailed, match="blocked"):
        group.to_pandas(progress="off")
    df = group.succeeded.to_pandas(source_column="job_id", progress="off")
    assert set(df["job_id"]) == {jobs[0].id, jobs[1].id}
    assert sum(1 for _ in group.succeeded.iter_batches(progress="off")) >= 2
    with pytest.raises(dataferry.InvalidArgument, match="already a column"):
        group.succeeded.to_pandas(source_column="product_id", progress="off")
