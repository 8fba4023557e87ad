"""A part decodes into rows that account for all of its bytes, or it is refused with a typed
error that names the part, where the problem is and what to do (issue #15, class 1)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pyarrow as pa
import pytest

from dataferry.decode import RESTART, stream_part
from dataferry.errors import DecodeError, DecodeWarning, InvalidArgument, NotData


def write(tmp_path: Path, name: str, data: bytes, gz: bool = False) -> Path:
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    return path


def decoded(path: Path, fmt: str, **options: object) -> pa.Table:
    """The part as one table, honouring RESTART as a consumer must."""
    from dataferry.decode import DecodeOptions

    batches: list[pa.RecordBatch] = []
    for item in stream_part(path, fmt, DecodeOptions(**options), label="part 3 of brightdata snapshot s_1"):
        if item is RESTART:
            batches.clear()
        else:
            batches.append(item)
    return pa.Table.from_batches(batches) if batches else pa.table({})


HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
@pytest.mark.parametrize("gz", [False, True])
def test_an_html_page_is_refused_where_data_was_expected(tmp_path: Path, fmt: str, gz: bool) -> None:
    with pytest.raises(NotData, match=r"part 3 of brightdata snapshot s_1: an HTML page \('502 Bad Gateway'\)"):
        decoded(write(tmp_path, f"p.{fmt}", HTML, gz), fmt)


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_a_vendor_error_object_is_refused_where_records_were_expected(tmp_path: Path, fmt: str) -> None:
    body = json.dumps({"error": "Snapshot is building", "status": "building"}).encode()
    with pytest.raises(NotData, match="an error answer \\(Snapshot is building\\)"):
        decoded(write(tmp_path, f"p.{fmt}", body), fmt)


def test_a_json_object_that_is_not_an_array_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotData, match="not a JSON array of records"):
        decoded(write(tmp_path, "p.json", b'{"id": 1, "name": "a"}'), "json")


def test_a_record_with_an_error_field_is_still_a_record(tmp_path: Path) -> None:
    # include_errors=True puts failed inputs in the data: those rows carry more than error keys
    line = {"input": {"url": "https://example.com/p/1"}, "error": "Page not found", "error_code": "dead_page"}
    table = decoded(write(tmp_path, "p.ndjson", (json.dumps(line) + "\n").encode()), "ndjson")
    assert table.num_rows == 1 and table.column("error").to_pylist() == ["Page not found"]


def test_nul_bytes_are_refused_with_their_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", b"\0" * (10 << 20), gz=True)  # the 10 MiB of NUL bytes
    with pytest.raises(NotData, match="a NUL byte at byte 0"):
        decoded(path, "csv")


def test_nul_bytes_further_down_are_refused_too(tmp_path: Path) -> None:
    rows = b"id,name\n" + b"".join(b"%d,name %d\n" % (i, i) for i in range(200_000))
    at = len(rows)
    path = write(tmp_path, "p.csv", rows + b"\0" * 4096 + b"1,x\n", gz=True)
    with pytest.raises(NotData, match=f"a NUL byte at byte {at:,}"):
        decoded(path, "csv")


def test_a_header_longer_than_a_block_keeps_every_column_and_row(tmp_path: Path) -> None:
    names = [f"column_{i:07d}" for i in range(50_000)]  # a 700 KB header line: longer than a 512 KiB block
    text = ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n" + ",".join("2" for _ in names) + "\n"
    table = decoded(write(tmp_path, "wide.csv", text.encode(), gz=True), "csv")
    assert (table.num_rows, table.num_columns) == (2, 50_000)
    assert table.column("column_0049999").to_pylist() == [1, 2]


def test_one_line_longer_than_the_record_limit_is_an_error_not_an_empty_part(tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", b"a" * (3 << 20), gz=True)  # one 3 MiB line, no line end
    with pytest.raises(DecodeError, match="longer than 1,048,576 bytes") as caught:
        decoded(path, "csv", max_record_bytes=1 << 20)
    assert "max_record_bytes" in str(caught.value)


def test_a_part_may_not_inflate_beyond_its_limit(tmp_path: Path) -> None:
    rows = b"id,name\n" + b"".join(b"%d,name\n" % i for i in range(400_000))
    for fmt, data in (
        ("csv", rows),
        ("ndjson", b"".join(b'{"id": %d}\n' % i for i in range(400_000))),
        ("json", json.dumps([{"id": i} for i in range(200_000)]).encode()),
    ):
        path = write(tmp_path, f"p.{fmt}", data, gz=True)
        with pytest.raises(DecodeError, match="inflates to more than 1,048,576 bytes \\(max_part_bytes\\)"):
            decoded(path, fmt, max_part_bytes=1 << 20)
        assert decoded(path, fmt, max_part_bytes=None).num_rows > 0


def test_bad_limits_are_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", b"a\n1\n")
    for options in ({"max_part_bytes": 0}, {"max_record_bytes": 10}, {"encoding_errors": "ignore"}):
        with pytest.raises(InvalidArgument):
            decoded(path, "csv", **options)


BAD_CSV = b"id,name\n1,ok\n2,caf\xe9\n3,x\n"
BAD_NDJSON = b'{"id": 1, "name": "ok"}\n{"id": 2, "name": "caf\xe9"}\n{"id": 3, "name": "x"}\n'
BAD_JSON = b'[{"id": 1, "name": "ok"}, {"id": 2, "name": "caf\xe9"}, {"id": 3, "name": "x"}]'


@pytest.mark.parametrize(("fmt", "data"), [("csv", BAD_CSV), ("ndjson", BAD_NDJSON), ("json", BAD_JSON)])
def test_invalid_utf8_is_an_error_by_default(tmp_path: Path, fmt: str, data: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid UTF-8") as caught:
        decoded(write(tmp_path, f"p.{fmt}", data), fmt)
    assert "encoding_errors='replace'" in str(caught.value)
    if fmt != "json":
        assert "column 'name'" in str(caught.value) and "record 2" in str(caught.value)


@pytest.mark.parametrize(("fmt", "data"), [("csv", BAD_CSV), ("ndjson", BAD_NDJSON), ("json", BAD_JSON)])
def test_invalid_utf8_is_replaced_and_counted_on_request(tmp_path: Path, fmt: str, data: bytes) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        table = decoded(write(tmp_path, f"p.{fmt}", data), fmt, encoding_errors="replace")
    assert table.column("name").to_pylist() == ["ok", "caf\ufffd", "x"]
    assert pa.types.is_string(table.schema.field("name").type)
    replaced = [w for w in seen if issubclass(w.category, DecodeWarning)]
    assert len(replaced) == 1 and " 1 " in str(replaced[0].message)


def test_a_binary_column_asked_for_stays_binary(tmp_path: Path) -> None:
    table = decoded(write(tmp_path, "p.csv", BAD_CSV), "csv", column_types={"name": "binary"})
    assert table.column("name").to_pylist()[1] == b"caf\xe9"


def test_a_header_without_rows_keeps_its_columns(tmp_path: Path) -> None:
    table = decoded(write(tmp_path, "p.csv", b"id,name,price\n", gz=True), "csv")
    assert (table.num_rows, table.column_names) == (0, ["id", "name", "price"])


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_empty_and_blank_parts_are_empty(tmp_path: Path, fmt: str) -> None:
    for data in (b"", b"\n\n  \n"):
        assert decoded(write(tmp_path, f"p.{fmt}", data, gz=True), fmt).num_rows == 0


FAILING_DECODES = textwrap.dedent("""
    import gzip, sys
    from pathlib import Path
    from dataferry.decode import stream_part
    from dataferry.errors import DataferryError
    base = Path(sys.argv[1])
    cases = {
        "badcols.csv.gz": b"a,b\\n1,2,3\\n" + b"".join(b"%d,x\\n" % i for i in range(300000)),
        "long.csv.gz": b"a" * (40 << 20),
        "nul.csv.gz": b"\\0" * (10 << 20),
    }
    for name, data in cases.items():
        path = base / name
        if not path.exists():
            path.write_bytes(gzip.compress(data, compresslevel=1))
        try:
            for _ in stream_part(path, "csv"):
                pass
        except DataferryError:
            pass
    print("done")
""")


def test_the_process_exits_cleanly_right_after_parts_fail_to_decode(tmp_path: Path) -> None:
    """pyarrow's readers read ahead on threads of their own; a reading that failed used to leave
    them holding Python objects, and the process then aborted or hung at exit about 1 run in 4."""
    script = tmp_path / "decode_and_exit.py"
    script.write_text(FAILING_DECODES)
    for run in range(8):
        done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stdout.strip()) == (0, "done"), (run, done.stderr[-2000:])
        assert "Fatal Python error" not in done.stderr and "terminate called" not in done.stderr
