"""Part files → Arrow, in every format; streaming with a restart when types settle late."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from dataferry.decode import RESTART, DecodeOptions, read_table, stream_part
from dataferry.errors import DecodeError, InvalidArgument, PartCorrupt

ROWS = [
    {
        "id": 1,
        "name": "Café",
        "price": 1.5,
        "tags": ["a", "b"],
        "seller": {"n": "Ø", "id": 3},
        "at": "2026-11-01T00:00:00Z",
    },
    {"id": 2, "name": "東京", "price": None, "tags": [], "seller": None, "at": "2026-11-01T00:00:07Z"},
]


def write(tmp_path: Path, name: str, text: str, gz: bool) -> Path:
    data = text.encode()
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def csv_text() -> str:
    return "id,name,price,at\n1,Café,1.5,2026-11-01T00:00:00Z\n2,東京,,2026-11-01T00:00:07Z\n"


@pytest.mark.parametrize("gz", [True, False])
def test_csv(tmp_path: Path, gz: bool) -> None:
    t = read_table(write(tmp_path, "p.csv", csv_text(), gz), "csv")
    assert t.column("name").to_pylist() == ["Café", "東京"]
    assert t.column("price").to_pylist() == [1.5, None]
    assert pa.types.is_timestamp(t.schema.field("at").type)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("fmt", ["json", "ndjson", "jsonl"])
def test_json_formats_keep_nested_values(tmp_path: Path, gz: bool, fmt: str) -> None:
    text = json.dumps(ROWS) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in ROWS)
    t = read_table(write(tmp_path, f"p.{fmt}", text, gz), fmt)
    rows = t.to_pylist()
    assert [r["tags"] for r in rows] == [["a", "b"], []]
    assert rows[0]["seller"] == {"n": "Ø", "id": 3} and rows[1]["seller"] is None
    assert [r["name"] for r in rows] == ["Café", "東京"]


def test_gzip_is_recognised_by_its_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(csv_text().encode()))
    assert read_table(path, "csv").num_rows == 2


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_empty_part_is_an_empty_table(tmp_path: Path, fmt: str) -> None:
    assert read_table(write(tmp_path, "e", "", True), fmt).num_rows == 0
    assert list(stream_part(write(tmp_path, "e2", "", False), fmt)) == []


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_gzip_is_corrupt_not_short(tmp_path: Path, keep: float) -> None:
    data = gzip.compress(("id,v\n" + "".join(f"{i},{i * 3}\n" for i in range(20000))).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(PartCorrupt, match="truncated or damaged"):
        read_table(path, "csv")
    with pytest.raises(PartCorrupt):
        list(stream_part(path, "csv"))


def test_malformed_content_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="not valid json"):
        read_table(write(tmp_path, "bad.json", '[{"a": 1},', False), "json")
    with pytest.raises(DecodeError):
        read_table(write(tmp_path, "bad.csv", "a,b\n1,2\n3,4,5\n", False), "csv")
    with pytest.raises(InvalidArgument):
        read_table(write(tmp_path, "x", "a\n", False), "xml")


def test_options_types_delimiter_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "id;zip;city\n1;02134;Boston\n2;10001;NYC\n", False)
    opts = DecodeOptions(delimiter=";", column_types={"zip": "string"}, columns=["city", "zip", "missing"])
    t = read_table(path, "csv", opts)
    assert t.column_names == ["city", "zip", "missing"]
    assert t.column("zip").to_pylist() == ["02134", "10001"]
    assert t.column("missing").null_count == 2
    batches = list(stream_part(path, "csv", opts))
    assert pa.Table.from_batches(batches).equals(t)


def test_stream_restarts_when_a_late_block_disagrees(tmp_path: Path) -> None:
    # 'v' looks like integers for the first ~2 MB, then decimals; 'note' is empty, then text
    lines = ["id,v,note"] + [f"{i},{i}," for i in range(300_000)] + [f"{i},{i}.5,late" for i in range(300_000, 300_010)]
    path = write(tmp_path, "late.csv", "\n".join(lines) + "\n", True)
    items = list(stream_part(path, "csv"))
    assert RESTART in items
    after = items[items.index(RESTART) + 1 :]
    table = pa.Table.from_batches(after)
    assert table.num_rows == 300_010
    assert table.schema.field("v").type == pa.float64() and table.schema.field("note").type == pa.string()
    assert table.column("v")[-1].as_py() == 300_009.5


def test_stream_uses_known_types_from_earlier_parts(tmp_path: Path) -> None:
    path = write(tmp_path, "p2.csv", "id,code\n1,7\n2,8\n", False)
    hint = pa.schema([("id", pa.int64()), ("code", pa.string())])
    table = pa.Table.from_batches(list(stream_part(path, "csv", hint=hint)))
    assert table.schema.field("code").type == pa.string()  # not re-inferred as int


def test_ndjson_with_a_type_change_between_rows(tmp_path: Path) -> None:
    text = (
        "".join(json.dumps({"id": i, "sku": i}) + "\n" for i in range(3)) + json.dumps({"id": 3, "sku": "SKU-3"}) + "\n"
    )
    t = read_table(write(tmp_path, "mixed.ndjson", text, True), "ndjson")
    assert t.num_rows == 4
    assert t.column("sku").to_pylist()[-1] == "SKU-3"


@pytest.mark.parametrize("whole", [True, False])
def test_values_spanning_lines_are_read_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: bool) -> None:
    import dataferry.decode

    monkeypatch.setattr(dataferry.decode, "BLOCK_SIZE", 16 * 1024)  # many block boundaries inside values
    lines = ["id,desc,n"] + [f'{i},"first line {i}\nsecond, line\nthird",{i}' for i in range(5000)]
    path = write(tmp_path, "multi.csv", "\n".join(lines) + "\n", True)
    items = list(stream_part(path, "csv", whole=whole))
    batches = items[items.index(RESTART) + 1 :] if RESTART in items else items
    table = pa.Table.from_batches(batches)
    assert table.column("n").to_pylist() == list(range(5000))
    assert table.column("desc")[3].as_py() == "first line 3\nsecond, line\nthird"


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_record_longer_than_a_block_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: bool, fmt: str
) -> None:
    import dataferry.decode

    monkeypatch.setattr(dataferry.decode, "BLOCK_SIZE", 16 * 1024)
    long_text = "word " * 40_000  # 200 kB in one field: twelve blocks
    rows = [{"id": i, "body": long_text if i == 700 else f"short {i}"} for i in range(2000)]
    if fmt == "csv":
        text = "id,body\n" + "".join(f"{r['id']},{r['body']}\n" for r in rows)
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    items = list(stream_part(write(tmp_path, f"long.{fmt}", text, True), fmt, whole=whole))
    batches = items[len(items) - items[::-1].index(RESTART) :] if RESTART in items else items
    table = pa.Table.from_batches(batches)
    assert table.column("id").to_pylist() == list(range(2000))
    assert table.column("body")[700].as_py() == long_text
    assert table.column("body")[701].as_py() == "short 701"


def test_streamed_csv_matches_a_whole_read(tmp_path: Path) -> None:
    # types come from the first block and stay fixed: the rows and types equal a whole read
    lines = ["id,price,flag,at,name"] + [
        f"{i},{i}.25,{'true' if i % 2 else 'false'},2026-11-01T00:00:{i % 60:02d}Z,n{i}" for i in range(120_000)
    ]
    path = write(tmp_path, "big.csv", "\n".join(lines) + "\n", True)
    items = list(stream_part(path, "csv"))
    assert RESTART not in items and len(items) > 1
    assert pa.Table.from_batches(items).equals(read_table(path, "csv"))


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_single_threaded_parse_reads_the_same_rows(tmp_path: Path, fmt: str) -> None:
    # parts decoded side by side parse on one thread each: same batches' content, same types
    rows = [
        {"id": i, "price": i + 0.25, "at": f"2026-11-01T00:00:{i % 60:02d}Z", "name": f"n{i}"} for i in range(60_000)
    ]
    if fmt == "csv":
        text = "id,price,at,name\n" + "".join(f"{r['id']},{r['price']},{r['at']},{r['name']}\n" for r in rows)
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    path = write(tmp_path, f"big.{fmt}", text, True)
    one = list(stream_part(path, fmt, threads=False))
    many = list(stream_part(path, fmt, threads=True))
    assert len(one) > 1 and RESTART not in one
    assert pa.Table.from_batches(one).equals(pa.Table.from_batches(many))
    assert pa.Table.from_batches(one).column("id").to_pylist() == list(range(60_000))


def test_arrow_reads_fill_arrow_buffers_to_the_end() -> None:
    import io

    from dataferry.decode import ArrowReads

    reads = ArrowReads(io.BufferedReader(io.BytesIO(b"abcdefghij")))
    first, second, end = reads.read_buffer(4), reads.read_buffer(100), reads.read_buffer(4)
    assert isinstance(first, pa.Buffer)
    assert (first.to_pybytes(), second.to_pybytes(), end.to_pybytes()) == (b"abcd", b"efghij", b"")


def test_text_is_read_as_string_whatever_the_hint_says(tmp_path: Path) -> None:
    # earlier parts prepared for pandas carry large_string; the reader still parses string
    # (much faster) unless the user asked for large_string
    path = write(tmp_path, "p.csv", csv_text(), True)
    hint = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.large_string())])
    table = pa.Table.from_batches(list(stream_part(path, "csv", hint=hint)))
    assert table.schema.field("name").type == pa.string() and table.schema.field("id").type == pa.int64()
    forced = pa.Table.from_batches(
        list(stream_part(path, "csv", DecodeOptions(column_types={"name": "large_string"}), hint=hint))
    )
    assert forced.schema.field("name").type == pa.large_string()
    ndjson = write(tmp_path, "p.ndjson", "".join(json.dumps(r) + "\n" for r in ROWS), True)
    assert (
        pa.Table.from_batches(list(stream_part(ndjson, "ndjson", hint=hint))).schema.field("name").type == pa.string()
    )
