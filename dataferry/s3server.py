"""A real S3 API on loopback: moto's server, for teaching notebooks, tests and the bench.

Nothing here is a stand-in: :class:`LocalS3` runs moto's ``ThreadedMotoServer`` on
127.0.0.1 (a free port), and every client talks to it over HTTP exactly as it would to AWS.
moto is a test dependency (``pip install 'moto[server]'``), not a runtime one.

Example::

    from dataferry.s3server import LocalS3

    with LocalS3(buckets=["lake"]) as s3:
        snap.to_parquet("s3://lake/products/", storage_options=s3.storage_options)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Self

from dataferry.storage import require

ACCESS_KEY = "dataferry-local-key"
"""The access key id clients of the local server use (moto accepts any unless IAM is on)."""

SECRET_KEY = "dataferry-local-secret"
"""The secret access key clients of the local server use."""

REGION = "us-east-1"


class LocalS3:
    """moto's S3 server on 127.0.0.1, started on a free port.

    Args:
        buckets: buckets to create once it is up.

    Attributes:
        endpoint_url: ``http://127.0.0.1:<port>``.
    """

    def __init__(self, buckets: Iterable[str] = ()) -> None:
        self._buckets = list(buckets)
        self._server: Any = None
        self.endpoint_url = ""

    def start(self) -> Self:
        """Start the server (and create the buckets)."""
        moto_server = require("moto.server", "test", "a local S3 server")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
        self._server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        for bucket in self._buckets:
            self.create_bucket(bucket)
        return self

    def stop(self) -> None:
        """Stop the server (its data is gone with it)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def storage_options(self) -> dict[str, Any]:
        """``storage_options=`` for dataferry, pandas and s3fs."""
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": REGION},
        }

    def filesystem(self, **kw: Any) -> Any:
        """A ``pyarrow.fs.S3FileSystem`` talking to this server."""
        from pyarrow.fs import S3FileSystem

        options = {
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region": REGION,
            "scheme": "http",
            "endpoint_override": self.endpoint_url.removeprefix("http://"),
            **kw,
        }
        return S3FileSystem(**options)

    def client(self) -> Any:
        """A boto3 S3 client for this server (for looking behind the scenes)."""
        boto3 = require("boto3", "test", "a boto3 client")
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> None:
        """Create a bucket."""
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "", *, markers: bool = False) -> list[str]:
        """Every object key in ``bucket`` under ``prefix``, sorted.

        Args:
            markers: also the empty "directory" objects (keys ending in ``/``) that pyarrow's
                S3 client leaves where it deleted a directory's last file.
        """
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(
            o["Key"]
            for page in pages
            for o in page.get("Contents", [])
            if markers or not (o["Key"].endswith("/") and o["Size"] == 0)
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalS3({self.endpoint_url or 'stopped'})"
