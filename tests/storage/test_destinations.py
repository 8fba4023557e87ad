"""Every destination to_parquet / download accept, written over real HTTP to moto's S3 server
on loopback (or fsspec's memory filesystem) and read back row for row with pyarrow and with
pandas + s3fs; to_polars and to_duckdb."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import s3fs

from dataferry.emulator import Emulator
from dataferry.errors import InvalidArgument
from dataferry.s3server import LocalS3
from dataferry.storage import resolve


def read_back(s3: LocalS3, key: str) -> pa.Table:
    """``bucket/key`` read by pyarrow's own S3 client."""
    return pq.read_table(key, filesystem=s3.filesystem())


def ids(table: pa.Table) -> list[str]:
    return table.column("product_id").to_pylist()


def test_a_url_to_s3_is_not_a_local_directory_named_s3(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the bug of issue 20: a local directory "s3:" was created, then ArrowInvalid "Missing bucket name"
    monkeypatch.chdir(tmp_path)
    snap = snapshot()
    url = f"s3://{bucket}/products/2026-12-02.parquet"
    out = snap.to_parquet(url, storage_options=s3.storage_options)
    assert out == url and not (tmp_path / "s3:").exists()
    expected = snap.to_arrow()
    got = read_back(s3, f"{bucket}/products/2026-12-02.parquet")
    assert got.equals(expected)  # row for row, column for column, types and all
    assert s3.keys(bucket) == ["products/2026-12-02.parquet"]  # no temporary object left


def test_pandas_with_s3fs_reads_what_was_written(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    snap = snapshot()
    url = f"s3://{bucket}/p.parquet"
    snap.to_parquet(url, storage_options=s3.storage_options)
    df = pd.read_parquet(
        url, storage_options={"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": s3.endpoint_url}}
    )
    pd.testing.assert_frame_equal(df, snap.to_pandas())


def test_a_pyarrow_filesystem(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    snap = snapshot()
    out = snap.to_parquet(f"{bucket}/by-fs.parquet", filesystem=s3.filesystem())
    assert out == f"{bucket}/by-fs.parquet"
    assert ids(read_back(s3, f"{bucket}/by-fs.parquet")) == ids(snap.to_arrow())
    # a URL with its scheme works with filesystem= too (the scheme is dropped)
    snap.to_parquet(f"s3://{bucket}/by-fs-url.parquet", filesystem=s3.filesystem())
    assert read_back(s3, f"{bucket}/by-fs-url.parquet").num_rows == snap.to_arrow().num_rows


def test_an_fsspec_filesystem_and_s3fs_options(snapshot: Callable[..., Any], s3: LocalS3, bucket: str) -> None:
    snap = snapshot()
    fs = s3fs.S3FileSystem(key="k", secret="s", endpoint_url=s3.endpoint_url)
    snap.to_parquet(f"s3://{bucket}/s3fs.parquet", filesystem=fs)
    # an option pyarrow's client does not know sends the write through s3fs
    options = {**s3.storage_options, "config_kwargs": {"connect_timeout": 5}}
    assert isinstance(resolve(f"s3://{bucket}/x", storage_options=options).fs, pafs.PyFileSystem)
    assert isinstance(resolve(f"s3://{bucket}/x", storage_options=s3.storage_options).fs, pafs.S3FileSystem)
    snap.to_parquet(f"s3://{bucket}/s3fs-options.parquet", storage_options=options)
    expected = ids(snap.to_arrow())
    for key in ("s3fs.parquet", "s3fs-options.parquet"):
        assert ids(read_back(s3, f"{bucket}/{key}")) == expected
    assert s3.keys(bucket) == ["s3fs-options.parquet", "s3fs.parquet"]


def test_the_generic_fsspec_path_memory(snapshot: Callable[..., Any]) -> None:
    snap = snapshot()
    out = snap.to_parquet("memory://lake/products/", partition_cols=["currency"])
    assert out == "memory://lake/products/"
    mem = fsspec.filesystem("memory")
    names = sorted(p.rsplit("/", 1)[-1] for p in mem.find("/lake/products"))
    assert "_common_metadata" in names and not any(n.startswith(".") for n in names)
    got = ds.dataset("/lake/products", filesystem=mem, partitioning="hive").to_table()
    assert sorted(ids(got)) == sorted(ids(snap.to_arrow()))
    mem.rm("/lake", recursive=True)


def test_a_partitioned_dataset_in_s3_read_back_both_ways(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str
) -> None:
    snap = snapshot(records=3500)
    url = f"s3://{bucket}/products/"
    snap.to_parquet(url, partition_cols=["currency"], storage_options=s3.storage_options)
    keys = s3.keys(bucket)
    assert {k.split("/")[1] for k in keys} == {"_common_metadata"} | {
        f"currency={c}" for c in ("EUR", "USD", "GBP", "JPY", "SEK")
    }
    assert all(k.startswith("products/") for k in keys)  # the staging prefix is gone
    expected = snap.to_pandas().sort_values("product_id", ignore_index=True)
    arrow = ds.dataset(f"{bucket}/products", filesystem=s3.filesystem(), partitioning="hive").to_table()
    assert sorted(ids(arrow)) == expected["product_id"].tolist()
    df = pd.read_parquet(url, storage_options=s3.storage_options).sort_values("product_id", ignore_index=True)
    assert len(df) == len(expected) and df["product_id"].tolist() == expected["product_id"].tolist()
    assert df["price"].tolist() == pytest.approx(expected["price"].tolist(), nan_ok=True)
    assert (df["currency"].astype(str) == expected["currency"]).all()


def test_download_to_object_storage(snapshot: Callable[..., Any], s3: LocalS3, bucket: str, emu: Emulator) -> None:
    snap = snapshot()
    urls = snap.download(f"s3://{bucket}/raw/", storage_options=s3.storage_options)
    local = snap.download()
    assert [u.rsplit("/", 1)[1] for u in urls] == [p.name for p in local]
    assert s3.keys(bucket) == sorted(f"raw/{p.name}" for p in local)
    fs = s3.filesystem()
    for url, path in zip(urls, local, strict=False):
        with fs.open_input_stream(url.removeprefix("s3://"), compression=None) as f:
            assert f.read() == path.read_bytes()


def test_storage_options_need_a_url_and_not_a_filesystem_too(tmp_path: Path, s3: LocalS3) -> None:
    with pytest.raises(InvalidArgument, match="only applies to a URL"):
        resolve(tmp_path / "x.parquet", storage_options={"key": "k"})
    with pytest.raises(InvalidArgument, match="not both"):
        resolve("s3://b/x", storage_options={"key": "k"}, filesystem=s3.filesystem())
    with pytest.raises(InvalidArgument, match="fsspec knows"):
        resolve("nosuchscheme://b/x")


def test_to_polars_and_to_duckdb(snapshot: Callable[..., Any]) -> None:
    snap = snapshot()
    table = snap.to_arrow()
    frame = snap.to_polars()
    assert isinstance(frame, pl.DataFrame) and frame.shape == (table.num_rows, table.num_columns)
    assert frame["product_id"].to_list() == ids(table)
    # the same decode options as to_pandas
    narrow = snap.to_polars(columns=["product_id", "price"])
    assert narrow.columns == ["product_id", "price"]

    n = table.num_rows
    con = duckdb.connect()
    rel = snap.to_duckdb(con, "products")
    assert con.sql("SELECT count(*) FROM products").fetchall() == [(n,)]
    assert rel.arrow().read_all().column("product_id").to_pylist() == ids(table)
    with pytest.raises(InvalidArgument, match="already exists"):
        snap.to_duckdb(con, "products")
    snap.to_duckdb(con, "products", if_exists="append")
    assert con.sql("SELECT count(*) FROM products").fetchall() == [(2 * n,)]
    snap.to_duckdb(con, "products", if_exists="replace")
    assert con.sql("SELECT count(DISTINCT product_id), count(*) FROM products").fetchall() == [(n, n)]
    relation = snap.to_duckdb(con)  # no table: a relation over the Arrow data
    assert relation.aggregate("count(*)").fetchall() == [(n,)]
    assert con.sql("SELECT count(*) FROM duckdb_tables()").fetchall() == [(1,)]
