"""A dataset written to an object store uploads each part's file behind the next part's decoding:
the two overlap, the last row group is encoded before the run moves on (memory stays flat), and an
upload that fails behind fails the run, which removes everything it wrote."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import pyarrow.dataset as ds
import pytest

from dataferry import parquet
from dataferry.errors import StorageError
from dataferry.s3server import LocalS3


def test_a_parts_upload_overlaps_the_next_parts_decoding(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = snapshot(records=3000, batch_size=1000)
    rows = snap.to_arrow().num_rows
    real_write, real_close = parquet.ParquetFileSink.write, parquet.ParquetFileSink.close
    first: list[parquet.ParquetFileSink] = []
    next_part_written = threading.Event()
    seen: dict[str, Any] = {}

    def write(self: parquet.ParquetFileSink, data: Any) -> None:
        if not first:
            first.append(self)
        elif self is not first[0]:
            next_part_written.set()
        real_write(self, data)

    def close(self: parquet.ParquetFileSink) -> Any:
        if self is first[0] and not seen:
            seen["buffered"] = list(self._buffer)
            seen["thread"] = threading.current_thread().name
            # the first file's upload finishes only once the next part is being written
            seen["overlapped"] = next_part_written.wait(5)
        return real_close(self)

    monkeypatch.setattr(parquet.ParquetFileSink, "write", write)
    monkeypatch.setattr(parquet.ParquetFileSink, "close", close)
    snap.to_parquet(f"s3://{bucket}/products/", storage_options=s3.storage_options, cache=False)
    assert seen["overlapped"], "the next part waited for the previous part's upload"
    assert seen["buffered"] == []  # its last row group was encoded before the next part started
    assert seen["thread"] != threading.main_thread().name
    data = ds.dataset(f"{bucket}/products", filesystem=s3.filesystem(), format="parquet")
    assert data.count_rows() == rows and len(data.files) == 3


def test_an_upload_that_fails_behind_fails_the_run_and_leaves_nothing(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/products/"
    snapshot().to_parquet(url, storage_options=s3.storage_options)
    before = s3.keys(bucket)
    snap = snapshot(records=4000, batch_size=1000, url="p/2")
    real, real_init = parquet.ParquetFileSink.close, parquet.ParquetFileSink.__init__
    calls = {"n": 0}
    sinks: list[parquet.ParquetFileSink] = []

    def init(self: parquet.ParquetFileSink, *a: Any, **kw: Any) -> None:
        real_init(self, *a, **kw)
        sinks.append(self)

    def close(self: parquet.ParquetFileSink) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second file's upload fails (behind the third part's decoding)
            raise StorageError(f"writing {url} failed: connection reset by peer", url=url, action="writing")
        return real(self)

    monkeypatch.setattr(parquet.ParquetFileSink, "close", close)
    monkeypatch.setattr(parquet.ParquetFileSink, "__init__", init)
    with pytest.raises(StorageError, match="connection reset") as err:
        snap.to_parquet(url, existing_data="append", storage_options=s3.storage_options, cache=False)
    assert any(f"nothing was written to {url}" in n for n in err.value.__notes__)
    assert [s.dest.path for s in sinks if s._writer is not None] == []  # no file left open, to land later
    del err
    gc.collect()  # a file left open would complete its upload when it is collected
    assert s3.keys(bucket) == before
    assert s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
