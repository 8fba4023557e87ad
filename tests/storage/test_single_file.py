"""One Parquet file to S3 goes straight to its final key as a multipart upload, completed only
once the file is whole: no temporary object, no server-side copy (S3 refuses a copy above 5 GiB).
A failure at any point leaves nothing at the key (an object already there stays as it was), no
stored parts and no local spool file; a wider schema in a later part starts the upload again."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dataferry import s3upload, storage
from dataferry.errors import StorageError
from dataferry.s3server import LocalS3
from tests.snapshots import DRIFT

SMALL_PARTS = 16 << 10
"""Upload parts small enough for a test snapshot to need several (S3 only checks the 5 MiB floor
when an upload is completed, and moto only with more than one part)."""


@pytest.fixture(autouse=True)
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The local files being uploaded go here (checked empty after each test)."""
    where = tmp_path / "spool"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    yield where
    assert list(where.iterdir()) == [], "a spool file was left behind"


def pending(s3: LocalS3, bucket: str) -> list[Any]:
    return s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def small_parts_allowed(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Lower the local S3 server's 5 MiB floor for parts (it runs in this process)."""
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", size)


def no_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: storage.Destination, src: str, dst: str) -> None:
        raise AssertionError(f"a server-side copy {src} -> {dst}")

    monkeypatch.setattr(storage.Destination, "copy", refuse)
    monkeypatch.setattr(storage.Destination, "move", refuse)


def test_a_file_goes_straight_to_its_key_in_parts_without_a_copy(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = snapshot(records=6000, batch_size=2000)
    no_copy(monkeypatch)
    monkeypatch.setattr(s3upload, "PART_BYTES", SMALL_PARTS)
    sent: list[int] = []
    real = s3upload.MultipartMirror._upload

    def upload(self: s3upload.MultipartMirror, upload: str, path: str, number: int, offset: int, length: int) -> str:
        sent.append(length)
        return real(self, upload, path, number, offset, length)

    monkeypatch.setattr(s3upload.MultipartMirror, "_upload", upload)
    small_parts_allowed(monkeypatch, SMALL_PARTS)
    url = f"s3://{bucket}/products/2026-12-04.parquet"
    assert snap.to_parquet(url, storage_options=s3.storage_options, row_group_size=500) == url
    assert pq.read_table(f"{bucket}/products/2026-12-04.parquet", filesystem=s3.filesystem()).equals(snap.to_arrow())
    assert len(sent) > 2 and set(sent[:-1]) == {SMALL_PARTS}  # whole parts as the file grew, then the rest
    assert s3.keys(bucket) == ["products/2026-12-04.parquet"] and pending(s3, bucket) == []


def test_a_failure_after_parts_were_uploaded_leaves_nothing_stored(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = snapshot(records=6000, batch_size=2000)
    url = f"s3://{bucket}/today.parquet"
    snap.to_parquet(url, storage_options=s3.storage_options)
    before = s3.client().get_object(Bucket=bucket, Key="today.parquet")["Body"].read()
    monkeypatch.setattr(s3upload, "PART_BYTES", SMALL_PARTS)
    real = s3upload.MultipartMirror._upload
    done: list[int] = []

    def upload(self: s3upload.MultipartMirror, upload: str, path: str, number: int, offset: int, length: int) -> str:
        if number == 4:
            raise OSError("connection reset by peer")
        etag = real(self, upload, path, number, offset, length)
        done.append(number)
        return etag

    monkeypatch.setattr(s3upload.MultipartMirror, "_upload", upload)
    with pytest.raises(StorageError, match=r"uploading s3://.*today\.parquet failed: .*connection reset"):
        snap.to_parquet(url, storage_options=s3.storage_options, row_group_size=500, cache=False)
    assert {1, 2, 3} <= set(done)  # parts were stored before the failure ...
    assert pending(s3, bucket) == []  # ... and are gone with the aborted upload
    assert s3.keys(bucket) == ["today.parquet"]
    assert s3.client().get_object(Bucket=bucket, Key="today.parquet")["Body"].read() == before  # as it was


def test_ctrl_c_in_the_middle_of_the_upload_leaves_nothing_stored(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataferry import parquet

    snap = snapshot(records=6000, batch_size=2000)
    monkeypatch.setattr(s3upload, "PART_BYTES", SMALL_PARTS)
    real = parquet.ParquetFileSink.flush
    calls = {"n": 0}

    def flush(self: parquet.ParquetFileSink) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            assert self._mirror is not None and self._mirror._parts  # parts are on their way
            raise KeyboardInterrupt
        real(self)

    monkeypatch.setattr(parquet.ParquetFileSink, "flush", flush)
    with pytest.raises(KeyboardInterrupt):
        snap.to_parquet(f"s3://{bucket}/x.parquet", storage_options=s3.storage_options, row_group_size=500)
    assert s3.keys(bucket) == [] and pending(s3, bucket) == []


def test_a_wider_schema_in_a_later_part_starts_the_upload_again(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = snapshot(records=3000, batch_size=1000, dataset=DRIFT)
    no_copy(monkeypatch)
    monkeypatch.setattr(s3upload, "PART_BYTES", 4 << 10)
    small_parts_allowed(monkeypatch, 4 << 10)
    followed: list[str] = []
    real = s3upload.MultipartMirror.follow

    def follow(self: s3upload.MultipartMirror, path: str) -> None:
        followed.append(path)
        real(self, path)

    monkeypatch.setattr(s3upload.MultipartMirror, "follow", follow)
    url = f"s3://{bucket}/drift.parquet"
    snap.to_parquet(url, storage_options=s3.storage_options, row_group_size=200, cache=False)
    assert len(followed) >= 2, "no rewrite happened: the test does not test what it says"
    got = pq.read_table(f"{bucket}/drift.parquet", filesystem=s3.filesystem())
    assert got.equals(snap.to_arrow())
    assert s3.keys(bucket) == ["drift.parquet"] and pending(s3, bucket) == []


def test_other_stores_and_given_filesystems_keep_the_staged_copy(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str
) -> None:
    # s3fs options and a pyarrow filesystem the user built: written under a temporary key, then copied
    assert storage.resolve(f"s3://{bucket}/a.parquet", storage_options=s3.storage_options).mirror is not None
    s3fs_options = {**s3.storage_options, "config_kwargs": {"connect_timeout": 5}}
    assert storage.resolve(f"s3://{bucket}/a.parquet", storage_options=s3fs_options).mirror is None
    assert storage.resolve(f"{bucket}/a.parquet", filesystem=s3.filesystem()).mirror is None
    snap = snapshot()
    snap.to_parquet(f"s3://{bucket}/b.parquet", storage_options=s3fs_options)
    snap.to_parquet(f"{bucket}/c.parquet", filesystem=s3.filesystem())
    assert s3.keys(bucket) == ["b.parquet", "c.parquet"] and pending(s3, bucket) == []


def test_refused_credentials_during_the_upload_are_a_typed_error_that_shows_no_secret(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.authorization import enable_iam_authentication

    from dataferry.errors import StorageDenied
    from tests.storage.test_failures import PLANTED, assert_no_secret

    snap = snapshot()
    snap.to_arrow()  # downloaded before the server starts checking signatures
    # the checks before the download go through pyarrow's client: let them pass, so that the
    # first request refused is the upload's own
    monkeypatch.setattr(storage.Destination, "check", lambda self: None)
    monkeypatch.setattr(storage.Destination, "kind", lambda self, path=None: None)
    planted = {"key": "AKIAPLANTEDKEYID0000", "secret": PLANTED, "endpoint_url": s3.endpoint_url}
    with enable_iam_authentication(), pytest.raises(StorageDenied, match=r"uploading s3://") as err:
        snap.to_parquet(f"s3://{bucket}/x.parquet", storage_options=planted)
    assert isinstance(err.value, PermissionError) and "check the access key" in str(err.value)
    assert_no_secret(err.value)
    assert_no_secret(err.value, "AKIAPLANTEDKEYID0000")
    assert s3.keys(bucket) == [] and pending(s3, bucket) == []


def test_a_file_already_at_the_key_is_replaced_whole_or_refused_before_any_download(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, emu: Any
) -> None:
    from dataferry.errors import OutputExists

    first, second = snapshot(records=1000, url="p/1"), snapshot(records=2000, url="p/2")
    url = f"s3://{bucket}/night.parquet"
    first.to_parquet(url, storage_options=s3.storage_options)
    downloads = len(emu.app.requests)
    with pytest.raises(OutputExists, match="already exists"):
        second.to_parquet(url, storage_options=s3.storage_options, existing_data="error", cache=False)
    assert not [r for r in emu.app.requests[downloads:] if r.path.startswith("/datasets/v3/snapshot/")]
    assert pq.read_table(f"{bucket}/night.parquet", filesystem=s3.filesystem()).equals(first.to_arrow())
    second.to_parquet(url, storage_options=s3.storage_options)  # existing_data="replace", the default
    assert pq.read_table(f"{bucket}/night.parquet", filesystem=s3.filesystem()).equals(second.to_arrow())
    assert s3.keys(bucket) == ["night.parquet"] and pending(s3, bucket) == []


def test_ctrl_c_while_a_wider_schema_rewrites_the_file_leaves_nothing(
    snapshot: Callable[..., Any], s3: LocalS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataferry import parquet

    snap = snapshot(records=3000, batch_size=1000, dataset=DRIFT)
    monkeypatch.setattr(s3upload, "PART_BYTES", 4 << 10)

    def copy_rows(*args: Any) -> None:
        raise KeyboardInterrupt  # during the re-read of what was written

    monkeypatch.setattr(parquet, "_copy_rows", copy_rows)
    with pytest.raises(KeyboardInterrupt):
        snap.to_parquet(f"s3://{bucket}/drift.parquet", storage_options=s3.storage_options, row_group_size=200)
    # the spool fixture checks that neither the old local file nor the new one is left
    assert s3.keys(bucket) == [] and pending(s3, bucket) == []


def test_the_upload_client_gets_what_pyarrows_client_gets_and_an_old_botocore_falls_back(
    monkeypatch: pytest.MonkeyPatch, s3: LocalS3, bucket: str
) -> None:
    import importlib.metadata

    # an endpoint without a scheme is https for both clients, as pyarrow reads it
    settings = storage.s3_settings({"endpoint_url": "minio.example:9000", "key": "k", "secret": "s"})
    assert settings["endpoint"] == "https://minio.example:9000" and settings["region"] == "us-east-1"
    assert (settings["access_key"], settings["secret_key"], settings["anonymous"]) == ("k", "s", False)
    assert storage.s3_settings({})["endpoint"] is None and storage.s3_settings({})["region"] is None
    # a botocore too old for a client without its own checksums: the staged path, not a TypeError
    assert s3upload.available()
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.35.99")
    assert not s3upload.available()
    assert storage.resolve(f"s3://{bucket}/x.parquet", storage_options=s3.storage_options).mirror is None
