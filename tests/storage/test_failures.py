"""What goes wrong with object storage, said clearly: an interrupted upload leaves nothing at
the final key, a failed run leaves the dataset as it was, a missing bucket, refused
credentials and a missing extra are typed errors raised before anything is downloaded, and no
secret appears in any message or cause chain."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.core.authorization import enable_iam_authentication

from dataferry import parquet, storage
from dataferry.errors import (
    MissingExtra,
    PartIncomplete,
    StorageDenied,
    StorageError,
    StorageNotFound,
)
from dataferry.s3server import LocalS3

PLANTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDSECRET"
"""A secret access key planted in the options: it must show nowhere."""


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        stack += [cur.__cause__, cur.__context__]


def assert_no_secret(exc: BaseException, secret: str = PLANTED) -> None:
    for e in chain(exc):
        for text in (str(e), repr(e), *getattr(e, "__notes__", [])):
            assert secret not in text, f"{type(e).__name__} shows the secret: {text[:300]}"


def snapshot_downloads(emu: Any, since: int) -> list[Any]:
    return [r for r in emu.app.requests[since:] if r.path.startswith("/datasets/v3/snapshot/")]


def test_ctrl_c_during_the_upload_leaves_no_object_at_the_final_key(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = snapshot()
    url = f"s3://{bucket}/products/today.parquet"
    real = parquet.ParquetFileSink.flush
    calls = {"n": 0}

    def flush(self: parquet.ParquetFileSink) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C with two row groups already sent to the store
        real(self)

    monkeypatch.setattr(parquet.ParquetFileSink, "flush", flush)
    with pytest.raises(KeyboardInterrupt):
        snap.to_parquet(url, row_group_size=500, storage_options=s3.storage_options, cache=False)
    assert calls["n"] == 3
    assert s3.keys(bucket) == []  # neither the final key nor the temporary one
    assert s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    monkeypatch.setattr(parquet.ParquetFileSink, "flush", real)
    snap.to_parquet(url, storage_options=s3.storage_options)
    assert s3.keys(bucket) == ["products/today.parquet"]


def test_a_failed_run_leaves_the_dataset_as_it_was_and_says_so(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/products/"
    first = snapshot()
    first.to_parquet(url, storage_options=s3.storage_options)
    before = s3.keys(bucket)
    second = snapshot(url="p/2")
    real = parquet.ParquetFileSink.close
    staged: list[list[str]] = []

    def close(self: parquet.ParquetFileSink) -> Any:
        if len(staged) == 2:  # two part files are in the store's staging area: the third fails
            raise PartIncomplete("part 3 could not be downloaded completely")
        out = real(self)
        staged.append(s3.keys(bucket))
        return out

    monkeypatch.setattr(parquet.ParquetFileSink, "close", close)
    with pytest.raises(PartIncomplete) as err:
        second.to_parquet(url, existing_data="append", storage_options=s3.storage_options, cache=False)
    assert len(staged[1]) == len(before) + 2  # they really were uploaded (under the hidden staging prefix)
    assert any(f"nothing was written to {url}" in n for n in err.value.__notes__)
    assert s3.keys(bucket) == before


def test_a_missing_bucket_is_a_typed_error_before_any_download(
    snapshot: Callable[..., Any], s3: LocalS3, emu: Any
) -> None:
    snap = snapshot()
    since = len(emu.app.requests)
    options = {**s3.storage_options, "secret": PLANTED}
    for url, opts in [
        ("s3://no-such-bucket/x.parquet", options),
        ("s3://no-such-bucket/ds/", options),
        ("s3://no-such-bucket/x.parquet", {**options, "config_kwargs": {"connect_timeout": 5}}),
    ]:
        with pytest.raises(StorageNotFound, match="no-such-bucket") as err:
            snap.to_parquet(url, storage_options=opts, cache=False)
        assert isinstance(err.value, FileNotFoundError) and "create the bucket" in str(err.value)
        assert_no_secret(err.value)
    assert snapshot_downloads(emu, since) == []


def test_refused_credentials_are_a_typed_error_that_shows_no_secret(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, emu: Any
) -> None:
    snap = snapshot()
    since = len(emu.app.requests)
    planted = {"key": "AKIAPLANTEDKEYID0000", "secret": PLANTED, "endpoint_url": s3.endpoint_url}
    with enable_iam_authentication():  # moto now checks every request's signature against IAM
        for options in (planted, {**planted, "config_kwargs": {"connect_timeout": 5}}):  # native, then s3fs
            with pytest.raises(StorageDenied, match=r"(?i)access.denied|access key id you provided|Forbidden") as err:
                snap.to_parquet(f"s3://{bucket}/x.parquet", storage_options=options, cache=False)
            assert isinstance(err.value, PermissionError) and "check the access key" in str(err.value)
            assert_no_secret(err.value)
            assert_no_secret(err.value, "AKIAPLANTEDKEYID0000")
        with pytest.raises(StorageDenied) as err:
            snap.download(f"s3://{bucket}/raw/", storage_options=planted)
        assert_no_secret(err.value)
    assert snapshot_downloads(emu, since) == []
    assert s3.keys(bucket) == []


@pytest.mark.parametrize(
    ("url", "options", "module", "extra"),
    [
        ("s3://lake/x.parquet", {"key": "k", "secret": PLANTED, "profile": "analyst"}, "s3fs", "s3"),
        ("gs://lake/x.parquet", {"token": PLANTED}, "gcsfs", "gcs"),
        ("az://lake/x.parquet", {"account_name": "a", "account_key": PLANTED}, "adlfs", "azure"),
        ("abfs://lake/x.parquet", {}, "adlfs", "azure"),
    ],
)
def test_a_missing_backend_names_the_extra(
    snapshot: Callable[..., Any],
    emu: Any,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    options: dict[str, Any],
    module: str,
    extra: str,
) -> None:
    snap = snapshot()
    since = len(emu.app.requests)
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(MissingExtra, match=module) as err:
        snap.to_parquet(url, storage_options=options)
    assert err.value.extra == extra and f"pip install 'dataferry[{extra}]'" in str(err.value)
    assert isinstance(err.value, ImportError)
    assert_no_secret(err.value)
    assert snapshot_downloads(emu, since) == []


@pytest.mark.parametrize(("method", "module"), [("to_polars", "polars"), ("to_duckdb", "duckdb")])
def test_a_missing_frame_library_names_the_extra_before_downloading(
    snapshot: Callable[..., Any], emu: Any, monkeypatch: pytest.MonkeyPatch, method: str, module: str
) -> None:
    snap = snapshot()
    since = len(emu.app.requests)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtra, match=f"pip install 'dataferry\\[{module}\\]'"):
        getattr(snap, method)()
    assert snapshot_downloads(emu, since) == []


@pytest.mark.parametrize("fault", [OSError("connection reset by peer"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_commit_cut_off_midway_leaves_no_new_file_at_the_final_keys_and_says_so(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch, fault: BaseException
) -> None:
    url = f"s3://{bucket}/products/"
    first = snapshot()
    first.to_parquet(url, storage_options=s3.storage_options)
    before = s3.keys(bucket)
    second = snapshot(records=6000, url="p/2")
    calls = {"n": 0}

    def cut(real: Callable[..., Any]) -> Callable[..., Any]:
        def place(self: storage.Destination, src: str, dst: str) -> None:
            calls["n"] += 1
            if calls["n"] == 3:  # two files of this run are at their final keys already
                raise fault
            real(self, src, dst)

        return place

    for name in ("move", "copy"):  # a file is put at its final key by one of them
        if hasattr(storage.Destination, name):
            monkeypatch.setattr(storage.Destination, name, cut(getattr(storage.Destination, name)))
    with pytest.raises((StorageError, KeyboardInterrupt)) as err:
        second.to_parquet(url, existing_data="append", storage_options=s3.storage_options, cache=False)
    assert calls["n"] >= 3
    said = [str(err.value), *getattr(err.value, "__notes__", [])]
    assert any("removed again" in s for s in said), said
    assert s3.keys(bucket) == before  # the first run's files, and nothing of the second
