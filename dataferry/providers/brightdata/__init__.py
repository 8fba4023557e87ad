"""Bright Data: Datasets API v3 snapshots and deliveries, and collector (DCA) batches.

Example:
    >>> from dataferry import brightdata
    >>> bd = brightdata.Client(token="...")                                   # doctest: +SKIP
    >>> snap = bd.trigger("gd_l1viktl72bvl7bjuj0", [{"url": "https://example.com/p/1"}])  # doctest: +SKIP
    >>> snap.wait().to_parquet("out/products.parquet")                          # doctest: +SKIP
"""

from dataferry.providers.brightdata.client import DEFAULT_BASE_URL, TOKEN_ENV, Client
from dataferry.providers.brightdata.collection import Collection
from dataferry.providers.brightdata.delivery import (
    GCS,
    S3,
    SFTP,
    TARGETS,
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
    Webhook,
)
from dataferry.providers.brightdata.many import TriggerTimeout, trigger_many
from dataferry.providers.brightdata.snapshot import Snapshot

__all__ = [
    "DEFAULT_BASE_URL", "GCS", "S3", "SFTP", "TARGETS", "TOKEN_ENV", "AliOSS", "AliOSSCredentials", "Azure",
    "AzureCredentials", "Build", "Client", "Collection", "Delivery", "Email", "GCSPubSub", "GoogleCredentials",
    "S3AccessKey", "S3Role", "SFTPCredentials", "Snapshot", "Snowflake", "SnowflakeCredentials", "TriggerTimeout", "Webhook",
    "trigger_many",
]
