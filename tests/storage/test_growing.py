"""Datasets that grow night after night in object storage: every existing_data mode, re-runs
without duplicates, the schema joined with what is there (or a clear conflict)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from dataferry.errors import InvalidArgument, OutputExists, SchemaConflict
from dataferry.s3server import LocalS3
from tests.storage.conftest import DRIFT


def dataset(s3: LocalS3, root: str, schema: pa.Schema | None = None) -> pa.Table:
    """The dataset under ``bucket/prefix`` as a reader sees it (hive partitions)."""
    return ds.dataset(root, filesystem=s3.filesystem(), partitioning="hive", schema=schema).to_table()


def product_ids(table: pa.Table) -> list[str]:
    return table.column("product_id").to_pylist()


def night(snap: Any, url: str, s3: LocalS3, date: str, **kw: Any) -> Any:
    """The documented nightly recipe: one snapshot → its snapshot_date partition."""
    return snap.to_parquet(
        url,
        partition_cols=["snapshot_date"],
        constant_columns={"snapshot_date": date},
        existing_data=kw.pop("existing_data", "replace_partitions"),
        storage_options=s3.storage_options,
        **kw,
    )


def test_error_is_the_default_and_fails_before_downloading(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, emu: Any
) -> None:
    snap = snapshot()
    url = f"s3://{bucket}/products/"
    snap.to_parquet(url, storage_options=s3.storage_options)
    before = s3.keys(bucket)
    other = snapshot(url="p/2")
    downloads = len(emu.app.requests)
    with pytest.raises(OutputExists, match="already holds") as err:
        other.to_parquet(url, storage_options=s3.storage_options, cache=False)
    assert 'existing_data="append"' in str(err.value)
    assert not [r for r in emu.app.requests[downloads:] if r.path.startswith("/datasets/v3/snapshot/")]
    assert s3.keys(bucket) == before


def test_append_adds_and_a_rerun_of_the_same_job_adds_no_duplicates(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str
) -> None:
    first, second = snapshot(), snapshot(url="p/2")
    url = f"s3://{bucket}/products/"
    first.to_parquet(url, storage_options=s3.storage_options)
    second.to_parquet(url, existing_data="append", storage_options=s3.storage_options)
    expected = Counter(product_ids(first.to_arrow()) + product_ids(second.to_arrow()))
    assert Counter(product_ids(dataset(s3, f"{bucket}/products"))) == expected
    keys = s3.keys(bucket)
    second.to_parquet(url, existing_data="append", storage_options=s3.storage_options)  # the same job again
    assert s3.keys(bucket) == keys  # the same names: its own files were overwritten
    assert Counter(product_ids(dataset(s3, f"{bucket}/products"))) == expected
    assert max(expected.values()) == 1


def test_a_rerun_with_fewer_files_removes_its_own_older_ones(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, bd: Any
) -> None:
    snap = snapshot(records=3000, batch_size=1000)  # three parts
    url = f"s3://{bucket}/products/"
    snap.to_parquet(url, storage_options=s3.storage_options)
    assert len([k for k in s3.keys(bucket) if k.endswith(".parquet")]) == 3
    same_job_in_two_parts = bd.snapshot(snap.id, batch_size=1500)
    same_job_in_two_parts.to_parquet(url, existing_data="append", storage_options=s3.storage_options)
    assert len([k for k in s3.keys(bucket) if k.endswith(".parquet")]) == 2
    assert sorted(product_ids(dataset(s3, f"{bucket}/products"))) == sorted(product_ids(snap.to_arrow()))


def test_the_nightly_recipe_is_idempotent(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    url = f"s3://{bucket}/products/"
    monday, tuesday = snapshot(), snapshot(url="p/2")
    night(monday, url, s3, "2026-12-01")
    night(tuesday, url, s3, "2026-12-02")
    keys = s3.keys(bucket)
    night(tuesday, url, s3, "2026-12-02")  # the same night re-run
    assert s3.keys(bucket) == keys
    rerun = snapshot(url="p/3")  # tuesday collected again: a new job for the same night replaces it
    night(rerun, url, s3, "2026-12-02")
    table = dataset(s3, f"{bucket}/products")
    by_day = Counter(table.column("snapshot_date").to_pylist())
    assert by_day == {"2026-12-01": monday.to_arrow().num_rows, "2026-12-02": rerun.to_arrow().num_rows}
    assert Counter(product_ids(table)) == Counter(product_ids(monday.to_arrow()) + product_ids(rerun.to_arrow()))
    assert not [k for k in s3.keys(bucket) if "snapshot_date=2026-12-02" in k and tuesday.id in k]


def test_replace_partitions_keeps_the_partitions_it_does_not_write(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str
) -> None:
    url = f"s3://{bucket}/by_currency/"
    old = snapshot()
    old.to_parquet(url, partition_cols=["currency"], storage_options=s3.storage_options)
    new = snapshot(url="p/2")
    only_eur = new.to_arrow().filter(pa.compute.equal(new.to_arrow().column("currency"), "EUR"))
    # write only the EUR partition of the new snapshot, through the sink a job uses
    from dataferry.dataset_sink import ParquetDatasetSink

    with ParquetDatasetSink(
        url,
        partition_cols=["currency"],
        existing_data="replace_partitions",
        name="eur-fix",
        storage_options=s3.storage_options,
    ) as sink:
        sink.begin_part(1)
        sink.write(only_eur)
        sink.end_part()
    table = dataset(s3, f"{bucket}/by_currency")
    eur = table.filter(pa.compute.equal(table.column("currency"), "EUR"))
    assert sorted(product_ids(eur)) == sorted(product_ids(only_eur))
    old_rest = old.to_arrow().filter(pa.compute.not_equal(old.to_arrow().column("currency"), "EUR"))
    rest = table.filter(pa.compute.not_equal(table.column("currency"), "EUR"))
    assert sorted(product_ids(rest)) == sorted(product_ids(old_rest))


def test_replace_replaces_everything(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    url = f"s3://{bucket}/products/"
    old, new = snapshot(), snapshot(url="p/2")
    old.to_parquet(url, partition_cols=["currency"], storage_options=s3.storage_options)
    new.to_parquet(url, existing_data="replace", storage_options=s3.storage_options)  # not even partitioned now
    assert sorted(product_ids(dataset(s3, f"{bucket}/products"))) == sorted(product_ids(new.to_arrow()))
    assert not [k for k in s3.keys(bucket) if "currency=" in k]


def test_local_datasets_follow_the_same_modes(snapshot: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "products"
    first, second = snapshot(), snapshot(url="p/2")
    first.to_parquet(target, partition_cols=["currency"])
    with pytest.raises(OutputExists):
        second.to_parquet(target, partition_cols=["currency"])
    second.to_parquet(target, partition_cols=["currency"], existing_data="append")
    second.to_parquet(target, partition_cols=["currency"], existing_data="append")
    got = Counter(pq.read_table(target).column("product_id").to_pylist())
    assert got == Counter(product_ids(first.to_arrow()) + product_ids(second.to_arrow()))
    second.to_parquet(target, existing_data="replace")
    assert sorted(pq.read_table(target).column("product_id").to_pylist()) == sorted(product_ids(second.to_arrow()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products"]  # no staging directory left
    with pytest.raises(InvalidArgument, match="needs a dataset"):
        second.to_parquet(tmp_path / "one.parquet", existing_data="append")
    second.to_parquet(tmp_path / "one.parquet")
    with pytest.raises(OutputExists):
        second.to_parquet(tmp_path / "one.parquet", existing_data="error")


def test_columns_that_arrive_join_the_dataset_schema(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    url = f"s3://{bucket}/products/"
    narrow = snapshot()
    narrow.to_parquet(url, storage_options=s3.storage_options, columns=["product_id", "price"])
    wide = snapshot(url="p/2")
    wide.to_parquet(
        url,
        existing_data="append",
        storage_options=s3.storage_options,
        columns=["product_id", "price", "currency", "rating"],
    )
    with s3.filesystem().open_input_file(f"{bucket}/products/_common_metadata") as f:
        schema = pq.read_schema(f)
    assert schema.names == ["product_id", "price", "currency", "rating"]
    table = dataset(s3, f"{bucket}/products", schema=schema)
    assert table.num_rows == narrow.to_arrow().num_rows + wide.to_arrow().num_rows
    assert table.column("currency").null_count == narrow.to_arrow().num_rows


def test_a_column_that_cannot_join_is_a_clear_error(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    url = f"s3://{bucket}/drift/"
    snap = snapshot(records=1000, batch_size=1000, dataset=DRIFT)  # the first part: sku is a number
    snap.to_parquet(url, storage_options=s3.storage_options, columns=["id", "sku"])
    keys = s3.keys(bucket)
    later = snapshot(records=2000, batch_size=1000, dataset=DRIFT, url="p/2")  # sku becomes text
    with pytest.raises(SchemaConflict, match="column 'sku' is int64 in the dataset") as err:
        later.to_parquet(url, existing_data="append", storage_options=s3.storage_options, columns=["id", "sku"])
    assert err.value.column == "sku" and err.value.existing == "int64" and err.value.incoming == "string"
    assert s3.keys(bucket) == keys  # the dataset is as it was, no staging objects left
