"""Parquet sinks: atomic, flat memory, widening and rollback; pandas conversion."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataferry.errors import InvalidArgument, OutputExists
from dataferry.output import concat, large_strings, pandas_pieces, to_pandas
from dataferry.parquet import ParquetDatasetSink, ParquetFileSink, open_parquet_sink


def batch(ids: range, **cols: object) -> pa.Table:
    data: dict[str, object] = {"id": list(ids)}
    data.update(cols)
    return pa.table(data)


def test_file_is_written_under_its_name_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"previous content")
    with pytest.raises(RuntimeError), ParquetFileSink(target, row_group_size=10) as sink:
        sink.write(batch(range(100)))
        raise RuntimeError("the download failed half way")
    assert target.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # no temporary left behind


def test_row_groups_are_buffered_to_size(tmp_path: Path) -> None:
    with ParquetFileSink(tmp_path / "rg.parquet", row_group_size=1000) as sink:
        for k in range(25):
            sink.write(batch(range(k * 100, k * 100 + 100)))
    meta = pq.ParquetFile(tmp_path / "rg.parquet").metadata
    assert meta.num_rows == 2500
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]


def test_a_column_empty_at_first_widens_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "w.parquet"
    with ParquetFileSink(path, row_group_size=50) as sink:
        sink.write(batch(range(100), discount=pa.nulls(100), sku=list(range(100))))
        sink.write(batch(range(100, 200), discount=[0.5] * 100, sku=[f"S{i}" for i in range(100)], extra=["x"] * 100))
    t = pq.read_table(path)
    assert t.schema.field("discount").type == pa.float64()
    assert t.schema.field("sku").type == pa.string()
    assert t.column("sku").to_pylist()[:2] == ["0", "1"] and t.column("sku")[150].as_py() == "S50"
    assert t.column("extra").null_count == 100 and t.num_rows == 200
    assert sink.rewrites == 1


@pytest.mark.parametrize("flushed", [False, True])
def test_rollback_withdraws_the_current_part(tmp_path: Path, flushed: bool) -> None:
    path = tmp_path / "r.parquet"
    with ParquetFileSink(path, row_group_size=30 if flushed else 10_000) as sink:
        sink.begin_part(0)
        sink.write(batch(range(40)))
        sink.begin_part(1)
        sink.write(batch(range(40, 80)))
        sink.rollback_part()
        sink.write(batch(range(40, 80), v=[1.5] * 40))
    t = pq.read_table(path)
    assert t.column("id").to_pylist() == list(range(80))
    assert t.column("v").null_count == 40


def test_dataset_one_file_per_part_with_one_schema(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    with ParquetDatasetSink(target) as sink:
        sink.begin_part(0)
        sink.write(batch(range(10), v=pa.nulls(10)))
        sink.end_part()
        sink.begin_part(1)
        sink.write(batch(range(10, 20), v=[2.5] * 10))
        sink.end_part()
    files = sorted(p.name for p in target.iterdir() if p.name != "_common_metadata")
    assert files == ["part-00000.parquet", "part-00001.parquet"]
    assert pq.read_schema(target / "_common_metadata").names == ["id", "v"]
    assert {str(pq.read_schema(target / f)) for f in files} == {str(pq.read_schema(target / files[1]))}
    assert pd.read_parquet(target)["id"].tolist() == list(range(20))


def test_partitioned_dataset_and_rollback(tmp_path: Path) -> None:
    target = tmp_path / "pds"
    with open_parquet_sink(target, partition_cols=["country"]) as sink:
        sink.begin_part(0)
        sink.write(batch(range(6), country=["DE", "SE"] * 3))
        sink.end_part()
        sink.begin_part(1)
        sink.write(batch(range(6, 12), country=["DE"] * 6))
        sink.rollback_part()
        sink.write(batch(range(6, 12), country=["PL"] * 6))
        sink.end_part()
    assert sorted(p.name for p in target.iterdir()) == ["_common_metadata", "country=DE", "country=PL", "country=SE"]
    df = pd.read_parquet(target)
    assert sorted(df["id"].tolist()) == list(range(12)) and len(df) == 12


def test_dataset_replaces_an_existing_directory_whole(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    (target / "stale.parquet").write_bytes(b"old")
    with open_parquet_sink(target, existing_data="replace") as sink:
        sink.begin_part(0)
        sink.write(batch(range(3)))
        sink.end_part()
    assert sorted(p.name for p in target.iterdir()) == ["_common_metadata", "part-00000.parquet"]


def test_a_dataset_that_holds_data_is_an_error_by_default(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    (target / "stale.parquet").write_bytes(b"old")
    with pytest.raises(OutputExists, match="already holds 1 file") as err:
        open_parquet_sink(target)
    assert isinstance(err.value, FileExistsError) and "existing_data=" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no staging directory left


def test_partition_cols_need_a_directory_and_existing_columns(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="directory"):
        open_parquet_sink(tmp_path / "x.parquet", partition_cols=["a"], dataset=False)
    with (
        pytest.raises(InvalidArgument, match="not columns"),
        open_parquet_sink(tmp_path / "d", partition_cols=["nope"]) as sink,
    ):
        sink.begin_part(0)
        sink.write(batch(range(3)))


def test_concat_and_dtype_backends() -> None:
    t = concat([pa.table({"n": [1, None]}), pa.table({"n": [3], "s": ["x"]})])
    assert t.to_pylist() == [{"n": 1, "s": None}, {"n": None, "s": None}, {"n": 3, "s": "x"}]
    assert str(to_pandas(t, "numpy_nullable")["n"].dtype) == "Int64"
    assert isinstance(to_pandas(t, "pyarrow")["n"].dtype, pd.ArrowDtype)
    assert to_pandas(t)["n"].dtype == "float64"
    with pytest.raises(InvalidArgument):
        to_pandas(t, "arrow")


def test_pandas_pieces_match_what_pandas_keeps() -> None:
    # pandas 3 stores text as large_string: pieces are cast ahead; ArrowDtype keeps string as is
    t = pa.table({"s": pa.array(["a", None, "ü"]), "n": [1, 2, 3], "l": pa.array([["x"], [], None])})
    assert pandas_pieces("pyarrow") is None
    for backend in (None, "numpy_nullable"):
        prepare = pandas_pieces(backend)
        stored = to_pandas(t, backend)["s"].array
        if getattr(stored.dtype, "storage", None) == "pyarrow":
            assert prepare is large_strings
            prepared = prepare(t)
            assert prepared.schema.field("s").type == pa.large_string()
            assert prepared.schema.field("l").type == t.schema.field("l").type  # nested columns untouched
            pd.testing.assert_frame_equal(to_pandas(prepared, backend), to_pandas(t, backend))
        else:
            assert prepare is None
    with pytest.raises(InvalidArgument, match="dtype_backend='arrow'"):
        pandas_pieces("arrow")
