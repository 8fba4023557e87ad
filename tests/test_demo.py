"""``dataferry demo``: the whole journey on the embedded emulator, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dataferry.cli import main


def test_demo_prints_the_row_count_and_a_parquet_file_holding_that_many_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo" / "products.parquet"
    assert main(["demo", "--rows", "2000", "--out", str(out), "--progress", "off"]) == 0
    printed = capsys.readouterr().out
    rows = re.search(r"^rows\s+([\d,]+) ", printed, re.MULTILINE)
    path = re.search(r"^file\s+(\S.*)$", printed, re.MULTILINE)
    assert rows is not None and path is not None, printed
    count = int(rows.group(1).replace(",", ""))
    assert count == 2000  # 40 inputs x 50 records, failed pages kept (include_errors)
    assert Path(path.group(1)) == out.resolve()
    table = pq.read_table(path.group(1))
    assert table.num_rows == count
    assert {"product_id", "title", "price", "seller", "scraped_at", "error"} <= set(table.column_names)
    assert len(table.column("product_id").unique()) == count
    assert not list(out.parent.glob(".*.tmp"))  # no half-written file left next to it
