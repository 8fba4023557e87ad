"""A file being written on local disk, mirrored as it grows into a multipart upload at its final
S3 key, completed only once the file is.

S3 has no rename, so a file written under a temporary key needs a server-side copy to reach its
final one: seconds per GB on AWS, CPU on a local S3 server, and refused by S3 above 5 GiB. A
multipart upload is invisible until it is completed, so writing one straight to the final key
keeps the rule that a reader only ever sees a whole object there, without the copy. pyarrow's
own S3 output streams cannot be aborted (dropping one completes it), so the upload is made
here, with botocore (installed with ``dataferry[s3]``):

- the writer writes the file locally (fast, and readable again when a wider schema makes it
  rewrite what it wrote) and calls :meth:`MultipartMirror.ship` after each row group; every
  whole part of :data:`PART_BYTES` below the file's size is then uploaded behind it, at most
  :data:`UPLOADS` at a time (the writer waits when they fall behind: memory stays flat);
- :meth:`~MultipartMirror.follow` starts over from another file (the rewritten one): the upload
  so far is aborted and a new one begins;
- :meth:`~MultipartMirror.finish` uploads the rest and completes the upload;
  :meth:`~MultipartMirror.abort` aborts it: nothing at the final key, no parts left stored.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

_SESSION_GUARD = threading.Lock()
_THREAD = threading.local()

PART_BYTES = 8 << 20
"""Bytes per uploaded part (S3 wants at least 5 MiB but for the last); doubled every 1,000 parts,
so the 10,000 parts S3 allows reach past its 5 TiB limit for one object."""

UPLOADS = 2
"""Parts uploaded at the same time (each holds one part in memory)."""


def part_bytes(number: int) -> int:
    """The size of part ``number`` (1-based)."""
    return PART_BYTES << ((number - 1) // 1000)


class MultipartMirror:
    """Mirrors one local file into a multipart upload at ``bucket/key`` (see the module docstring).

    Args:
        client: makes the botocore S3 client; it is called at once on an upload thread (botocore's
            import and S3's service description take ~0.2 s in a new process, hidden behind the
            first part's download and decoding).
        bucket, key: where the object goes.
    """

    def __init__(self, client: Callable[[], Any], bucket: str, key: str) -> None:
        self.bucket = bucket
        self.key = key
        self._path: str | None = None
        self._upload_id: str | None = None
        self._offset = 0  # bytes of the file handed to uploads so far
        self._parts: dict[int, Future[str]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._client: Future[Any] = self._pool_().submit(client)

    def follow(self, path: str) -> None:
        """Mirror ``path`` from its first byte (any upload of another file is aborted)."""
        self._drop_upload()
        self._path = path
        self._offset = 0

    def ship(self) -> None:
        """Upload every whole part the file holds by now (called as it grows)."""
        self._send(final=False)

    def finish(self) -> None:
        """The file is complete: upload the rest, wait for every part, complete the upload."""
        self._send(final=True)
        assert self._upload_id is not None
        parts = [{"PartNumber": n, "ETag": f.result()} for n, f in sorted(self._parts.items())]
        self._call("complete_multipart_upload", UploadId=self._upload_id, MultipartUpload={"Parts": parts})
        self._upload_id = None
        self._close_pool()

    def abort(self) -> None:
        """Abort the upload (nothing reaches the final key); quiet, as it follows another error."""
        with contextlib.suppress(Exception):
            self._drop_upload()
        self._close_pool(wait_for=False)  # a part still in flight ends on its own (then aborts again)

    # -- internals ----------------------------------------------------------------------------
    def _send(self, *, final: bool) -> None:
        assert self._path is not None, "follow() a file first"
        size = os.path.getsize(self._path)
        if self._upload_id is None:
            if not final and size - self._offset < part_bytes(1):
                return
            created = self._call("create_multipart_upload")
            self._upload_id = created["UploadId"]
        while True:
            number = len(self._parts) + 1
            left = size - self._offset
            length = part_bytes(number)
            if left < length and not (final and (left > 0 or number == 1)):
                break
            length = min(length, left)
            self._wait_below(UPLOADS)  # at most UPLOADS parts in memory at once
            self._parts[number] = self._pool_().submit(
                self._upload, self._upload_id, self._path, number, self._offset, length
            )
            self._offset += length
            if self._offset >= size:
                break
        for future in self._parts.values():
            if future.done():
                future.result()  # an upload that failed fails the writer at its next row group

    def _upload(self, upload: str, path: str, number: int, offset: int, length: int) -> str:
        body = self._buffer(length)  # one buffer per upload thread: no fresh memory per part
        with open(path, "rb") as f:
            f.seek(offset)
            got = f.readinto(body)
        if got != length:
            raise OSError(f"{path} holds {offset + got:,} bytes, not the {offset + length:,} it was said to")
        answer = self._call("upload_part", UploadId=upload, PartNumber=number, Body=body)
        return str(answer["ETag"])

    def _buffer(self, length: int) -> bytearray:
        buffer: bytearray | None = getattr(_THREAD, "buffer", None)
        if buffer is None or len(buffer) != length:
            buffer = bytearray(length)
            if length == part_bytes(1):
                _THREAD.buffer = buffer
        return buffer

    def _call(self, operation: str, **kw: Any) -> Any:
        """One S3 request; botocore's errors come out as ``OSError`` (``PermissionError``,
        ``FileNotFoundError``), which :class:`~dataferry.storage.Destination` translates."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client.result(), operation)(Bucket=self.bucket, Key=self.key, **kw)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            kind: type[OSError] = OSError
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "403"):
                kind = PermissionError
            elif code in ("NoSuchBucket", "404"):
                kind = FileNotFoundError
            raise kind(f"{operation} of s3://{self.bucket}/{self.key}: {exc}") from exc
        except BotoCoreError as exc:
            raise OSError(f"{operation} of s3://{self.bucket}/{self.key}: {exc}") from exc

    def _wait_below(self, limit: int) -> None:
        while True:
            running = [f for f in self._parts.values() if not f.done()]
            if len(running) < limit:
                return
            wait(running, return_when="FIRST_COMPLETED")

    def _drop_upload(self) -> None:
        for future in self._parts.values():
            future.cancel()
        running = [f for f in self._parts.values() if not f.done()]
        upload = self._upload_id
        if upload is not None:
            self._call("abort_multipart_upload", UploadId=upload)  # first: a second Ctrl-C cannot skip it
            for future in running:  # S3 may keep a part that lands after the abort: abort again then
                future.add_done_callback(lambda _: self._abort_quietly(upload))
        self._upload_id = None
        self._parts = {}

    def _abort_quietly(self, upload: str) -> None:
        with contextlib.suppress(Exception):
            self._call("abort_multipart_upload", UploadId=upload)

    def _pool_(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(UPLOADS, thread_name_prefix="dataferry-upload")
            return self._pool

    def _close_pool(self, *, wait_for: bool = True) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait_for, cancel_futures=True)


MIN_BOTOCORE = (1, 36)
"""The first botocore that lets a client send no checksum of its own."""


def available() -> bool:
    """Whether a recent enough botocore is installed (it comes with ``dataferry[s3]``); without
    one, files go through a temporary key and a copy, as on the other stores."""
    if importlib.util.find_spec("botocore") is None:
        return False
    try:
        version = tuple(int(x) for x in importlib.metadata.version("botocore").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return version >= MIN_BOTOCORE


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def botocore_client(
    *,
    endpoint: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    anonymous: bool,
) -> Any:
    """A botocore S3 client with the settings pyarrow's S3 client is given
    (:func:`dataferry.storage.s3_settings`).

    Like pyarrow's, it finds credentials the AWS way when none are given (environment, shared
    files, instance role) and addresses buckets in the path (``endpoint/bucket/key``). One
    botocore session serves every client (it loads S3's service description once).
    """
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        # no checksum of our own: over HTTP the payload is signed (hashed) anyway, over HTTPS TLS
        # checks it; a checksum trailer would make botocore copy every part once more
        request_checksum_calculation="when_required",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=UPLOADS + 1,
        signature_version=UNSIGNED if anonymous else None,
    )
    credentials = {
        "aws_access_key_id": access_key,
        "aws_secret_access_key": secret_key,
        "aws_session_token": session_token,
    }
    with _SESSION_GUARD:  # a botocore session is not safe to share while it creates clients
        return _session().create_client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            config=config,
            **({} if anonymous else credentials),
        )
