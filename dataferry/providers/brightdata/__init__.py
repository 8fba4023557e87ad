"""Bright Data: Datasets API v3 snapshots and deliveries, and collector (DCA) batches.

Example:
    >>> from dataferry import brightdata
    >>> bd = brightdata.Client(token="...")  # doctest: +SKIP
    >>> snap = bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://example.com/p/1"}])  # doctest: +SKIP
    >>> snap.wait().to_parquet("out/products.parquet")  # doctest: +SKIP

Wiring (``ERRORS``, ``DEFAULT_BASE_URL``, ``TOKEN_ENV``, ``TARGETS``...) stays importable from
its module (``dataferry.providers.brightdata.client``, ``.delivery``, ``.params``).
"""

from dataferry.providers.brightdata.client import Client
from dataferry.providers.brightdata.collection import Collection
from dataferry.providers.brightdata.delivery import (
    GCS,
    S3,
    SFTP,
    AliOSS,
    AliOSSCredentials,
    Azure,
    AzureCredentials,
    Build,
    Delivery,
    Email,
    GCSPubSub,
    GoogleCredentials,
    S3AccessKey,
    S3Role,
    SFTPCredentials,
    Snowflake,
    SnowflakeCredentials,
    Target,
    Webhook,
)
from dataferry.providers.brightdata.errors import (
    SnapshotEmpty,
    SnapshotExpired,
    SnapshotNotReady,
    SnapshotTooBig,
    TriggerTimeout,
)
from dataferry.providers.brightdata.many import trigger_many
from dataferry.providers.brightdata.snapshot import Snapshot

__all__ = [
    "GCS",
    "S3",
    "SFTP",
    "AliOSS",
    "AliOSSCredentials",
    "Azure",
    "AzureCredentials",
    "Build",
    "Client",
    "Collection",
    "Delivery",
    "Email",
    "GCSPubSub",
    "GoogleCredentials",
    "S3AccessKey",
    "S3Role",
    "SFTPCredentials",
    "Snapshot",
    "SnapshotEmpty",
    "SnapshotExpired",
    "SnapshotNotReady",
    "SnapshotTooBig",
    "Snowflake",
    "SnowflakeCredentials",
    "Target",
    "TriggerTimeout",
    "Webhook",
    "trigger_many",
]
