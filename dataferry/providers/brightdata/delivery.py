"""Bright Data deliveries: typed storage targets and the delivery job handle.

Each target is a :class:`dataferry.payload.Payload` (the one typed-payload mechanism, shared
with Algolia's inputs): a small dataclass validated on creation, whose fields carry their wire
names; its secrets never show in its repr, and the client masks them in every error.

Example:
    >>> S3("my-bucket", S3AccessKey("AKIA...", "secret-value"), region="eu-west-1")  # doctest: +ELLIPSIS
    S3(bucket='my-bucket', credentials=S3AccessKey(access_key='AKIA...'), region='eu-west-1', ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from dataferry.errors import InvalidArgument, JobFailed
from dataferry.job import Job
from dataferry.payload import Payload, wire
from dataferry.status import JobState, JobStatus, state_from

EXTENSIONS = ("json", "jsonl", "csv")
"""File extensions a delivery can produce."""


def _need(value: Any, what: str) -> None:
    if value in (None, ""):
        raise InvalidArgument(f"{what} is required")


class Target(Payload):
    """A delivery target; subclasses are the spec's delivery types."""

    type: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        """The ``deliver`` object without ``filename``."""
        return {"type": self.type, **super().to_wire()}

    def where(self) -> str:
        """Where the files go, for messages, with no secret: ``s3 'my-bucket'``."""
        for attr, w in self.wire_fields():
            value = getattr(self, attr)
            if isinstance(value, str) and value and not w.secret:
                return f"{self.type} {value!r}"
        return self.type


@dataclass(frozen=True)
class S3AccessKey(Payload):
    """S3 credentials by access key."""

    access_key: str = wire("aws-access-key", required=True)
    secret_key: str = wire("aws-secret-key", required=True, secret=True)

    def __post_init__(self) -> None:
        _need(self.access_key, "S3AccessKey.access_key")
        _need(self.secret_key, "S3AccessKey.secret_key")


@dataclass(frozen=True)
class S3Role(Payload):
    """S3 credentials by role ARN and external id."""

    role_arn: str
    external_id: str

    def __post_init__(self) -> None:
        _need(self.role_arn, "S3Role.role_arn")
        _need(self.external_id, "S3Role.external_id")


@dataclass(frozen=True)
class S3(Target):
    """Amazon S3 (or an S3-compatible host with ``endpoint_url``, access-key auth only)."""

    type: ClassVar[str] = "s3"
    bucket: str
    credentials: S3AccessKey | S3Role
    region: str | None = None
    directory: str | None = None
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        _need(self.bucket, "S3.bucket")
        if not isinstance(self.credentials, (S3AccessKey, S3Role)):
            raise InvalidArgument("S3.credentials must be S3AccessKey(...) or S3Role(...)")
        if self.endpoint_url and not isinstance(self.credentials, S3AccessKey):
            raise InvalidArgument("S3.endpoint_url works only with access-key credentials")


@dataclass(frozen=True)
class GoogleCredentials(Payload):
    """A Google service account's email and private key."""

    client_email: str
    private_key: str = wire("private_key", required=True, secret=True)

    def __post_init__(self) -> None:
        _need(self.client_email, "client_email")
        _need(self.private_key, "private_key")


@dataclass(frozen=True)
class GCS(Target):
    """Google Cloud Storage."""

    type: ClassVar[str] = "gcs"
    bucket: str
    credentials: GoogleCredentials
    directory: str | None = None

    def __post_init__(self) -> None:
        _need(self.bucket, "GCS.bucket")


@dataclass(frozen=True)
class GCSPubSub(Target):
    """Google Cloud Pub/Sub."""

    type: ClassVar[str] = "gcs_pubsub"
    topic_id: str
    credentials: GoogleCredentials
    attributes: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        _need(self.topic_id, "GCSPubSub.topic_id")


@dataclass(frozen=True)
class AzureCredentials(Payload):
    """An Azure storage account with either an access key or a SAS token."""

    account: str
    key: str | None = wire("key", secret=True)
    sas_token: str | None = wire("sas_token", secret=True)

    def __post_init__(self) -> None:
        _need(self.account, "AzureCredentials.account")
        if not re.fullmatch(r"[A-Za-z0-9]+", self.account):
            raise InvalidArgument("AzureCredentials.account may contain letters and digits only")
        if (self.key is None) == (self.sas_token is None):
            raise InvalidArgument("AzureCredentials needs exactly one of key= or sas_token=")


@dataclass(frozen=True)
class Azure(Target):
    """Microsoft Azure Blob Storage."""

    type: ClassVar[str] = "azure"
    container: str
    credentials: AzureCredentials
    directory: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9](-?[a-z0-9])*", self.container or "") or len(self.container) < 3:
            raise InvalidArgument("Azure.container must be 3+ lowercase letters, digits and single hyphens")


@dataclass(frozen=True)
class SFTPCredentials(Payload):
    """SFTP login: a password or an SSH key (with its passphrase)."""

    username: str
    password: str | None = wire("password", secret=True)
    ssh_key: str | None = wire("ssh_key", secret=True)
    passphrase: str | None = wire("passphrase", secret=True)

    def __post_init__(self) -> None:
        _need(self.username, "SFTPCredentials.username")


@dataclass(frozen=True)
class SFTP(Target):
    """An SFTP server (``host`` goes on the wire as ``path``)."""

    type: ClassVar[str] = "sftp"
    host: str = wire("path", required=True)
    credentials: SFTPCredentials = wire("credentials")
    port: int | None = None
    directory: str | None = None

    def __post_init__(self) -> None:
        _need(self.host, "SFTP.host")
        if not isinstance(self.credentials, SFTPCredentials):
            raise InvalidArgument("SFTP.credentials must be SFTPCredentials(...)")
        if self.port is not None and not 0 <= int(self.port) <= 65535:
            raise InvalidArgument(f"SFTP.port must be 0–65535, got {self.port}")


@dataclass(frozen=True)
class SnowflakeCredentials(Payload):
    """Snowflake account login."""

    account: str
    user: str
    password: str = wire("password", required=True, secret=True)


@dataclass(frozen=True)
class Snowflake(Target):
    """A Snowflake stage."""

    type: ClassVar[str] = "snowflake"
    database: str
    schema: str
    stage: str
    role: str
    warehouse: str
    credentials: SnowflakeCredentials

    def __post_init__(self) -> None:
        for name in ("database", "schema", "stage", "role", "warehouse"):
            _need(getattr(self, name), f"Snowflake.{name}")


@dataclass(frozen=True)
class AliOSSCredentials(Payload):
    """Aliyun OSS access key pair."""

    access_key: str = wire("access-key", required=True)
    secret_key: str = wire("secret-key", required=True, secret=True)


@dataclass(frozen=True)
class AliOSS(Target):
    """Aliyun Object Storage Service."""

    type: ClassVar[str] = "ali_oss"
    bucket: str
    credentials: AliOSSCredentials
    region: str
    directory: str | None = None

    def __post_init__(self) -> None:
        _need(self.bucket, "AliOSS.bucket")
        _need(self.region, "AliOSS.region")


@dataclass(frozen=True)
class _EndpointTarget(Target):
    endpoint: str

    def __post_init__(self) -> None:
        if not str(self.endpoint or "").startswith(("http://", "https://")):
            raise InvalidArgument(f"{type(self).__name__}.endpoint must be an http(s) URL")


@dataclass(frozen=True)
class Webhook(_EndpointTarget):
    """POST the files to a webhook URL."""

    type: ClassVar[str] = "webhook"


@dataclass(frozen=True)
class Email(_EndpointTarget):
    """Email delivery."""

    type: ClassVar[str] = "email"


@dataclass(frozen=True)
class Build(_EndpointTarget):
    """Build delivery."""

    type: ClassVar[str] = "build"


TARGETS: tuple[type[Target], ...] = (S3, GCS, GCSPubSub, Azure, SFTP, Snowflake, Webhook, Email, Build, AliOSS)
"""Every delivery type of the spec."""

DELIVERY_STATES = {
    "done": JobState.DONE,
    "failed": JobState.FAILED,
    "canceled": JobState.CANCELLED,
    "cancelled": JobState.CANCELLED,
}
"""Delivery statuses; anything else (undocumented in-progress values) counts as running."""


class Delivery(Job):
    """A delivery of a snapshot to storage; ``wait()`` until its files are written.

    Attributes:
        snapshot_id: the snapshot delivered (when known).
        target: where the files go (``s3 'my-bucket'``), when this handle sent the delivery.
        files: ``[{filename, delivery_ts}]`` once done.
    """

    kind = "delivery"

    def __init__(
        self,
        client: Any,
        delivery_id: str,
        *,
        snapshot_id: str | None = None,
        target: str | None = None,
        triggered: bool = False,
    ) -> None:
        super().__init__(client, delivery_id, triggered=triggered)
        self.snapshot_id = snapshot_id
        self.target = target
        self.files: list[dict[str, Any]] = []

    def _failure(self, message: str, **kw: Any) -> JobFailed:
        """The typed error for a failed delivery (the wait engine calls this): Bright Data's
        delivery status has no reason field, so the message says where the files were going."""
        where = f" to {self.target}" if self.target else ""
        return JobFailed(
            message,
            **kw,
            hint=f"Bright Data could not write the files{where}: check the target's name, credentials and "
            "permissions, then deliver again with snap.deliver(...) (the snapshot is kept for 16 days)",
        )

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.delivery({self.id!r})"

    def to_pandas(self) -> Any:
        """The files delivered (``filename``, ``delivery_ts``) as a DataFrame; reads the status
        once when none was read yet (wait first for the full list).

        Example::

            snap.deliver(S3(...)).wait().to_pandas()
        """
        import pandas as pd

        if self.last_status is None:
            self.status()
        if not self.files:
            return pd.DataFrame(columns=["filename", "delivery_ts"])
        return pd.DataFrame(self.files)

    def _fetch_status(self) -> JobStatus:
        body = self.client.http.get_json(f"/datasets/v3/delivery/{self.id}", family="status", job_id=self.id)
        raw = str(body.get("status", ""))
        self.files = list(body.get("delivery_files") or [])
        state = state_from(raw, DELIVERY_STATES)
        message = f"{len(self.files)} files delivered" if state is JobState.DONE else None
        if state is JobState.FAILED:
            # the documented answer carries no reason; pass one on verbatim if Bright Data adds it
            reason = next((str(body[k]) for k in ("error_message", "error", "message") if body.get(k)), "")
            message = (reason or "Bright Data gives no reason") + (f" (target: {self.target})" if self.target else "")
        return JobStatus(state, raw, message, detail=body)
