"""Every error dataferry raises, under one root.

::

    DataferryError
    ├── InvalidArgument (also ValueError)   bad input caught before anything is sent
    ├── ConfigurationError                  missing credentials, unknown progress mode
    │   └── MissingExtra (also ImportError)  an optional dependency is not installed; names the extra
    ├── ApiError                            the vendor answered with an error
    │   ├── BadRequest (400)                .errors lists validation errors
    │   ├── AuthenticationError (401)
    │   ├── PaymentRequired (402)
    │   ├── PermissionDenied (403)
    │   ├── NotFound (404)
    │   ├── Conflict (409)
    │   ├── UnprocessableEntity (422)
    │   ├── RateLimited (429)               .retry_after seconds, when the vendor said
    │   └── ServerError (5xx)
    ├── TransportError                      no usable answer: connection refused/reset, timeout
    │   └── RequestMayHaveReached           a non-idempotent call failed after sending; not re-sent
    ├── JobError                            about a job as a whole; carries .job_id
    │   ├── JobFailed                       the vendor reports failure; .vendor_message verbatim
    │   ├── JobCancelled
    │   ├── WaitTimeout                     the deadline passed while the job still ran
    │   │   └── GroupTimeout                a group's deadline passed; .outcomes, .pending (dataferry.groups)
    │   └── GroupFailed                     some jobs of a group failed; .outcomes, .failed (dataferry.groups)
    ├── DataError                           what came back cannot be used as is
    │   ├── PartIncomplete                  a part could not be downloaded completely
    │   ├── PartCorrupt                     length or gzip check failed
    │   ├── LinkExpired                     a download link expired and could not be refreshed
    │   ├── DecodeError                     a part is not valid CSV / JSON / NDJSON
    │   │   └── NotData                     an HTML page, an error object or binary bytes instead
    │   └── SchemaDrift                     a part does not fit a Dask DataFrame's meta; .column
    └── StorageError                        a destination (disk, object store) refused or failed; .url
        ├── StorageNotFound (also FileNotFoundError)  the bucket / container does not exist
        ├── StorageDenied (also PermissionError)      credentials wrong, or not allowed
        ├── OutputExists (also FileExistsError)       existing_data="error" and data is there
        └── SchemaConflict                  a column's type cannot join the dataset's; .column

    Interrupted (a KeyboardInterrupt)       Ctrl-C / "interrupt kernel"; .cancelled, .reattach
    ├── WaitInterrupted                     while waiting
    │   └── GroupInterrupted                while a group waited: every wait stopped (dataferry.groups)
    └── DownloadInterrupted                 while the parts were downloaded; the cache keeps them
    Stopped                                 worker threads told to stop (never reaches the user)
    DecodeWarning (a UserWarning)           values were changed on request (``encoding_errors="replace"``)
    ForeignError                            a masked copy of a foreign exception, in cause chains only

Vendors add subclasses where their failures differ, each in its own
``dataferry/providers/<vendor>/errors.py`` (``brightdata.SnapshotExpired`` a ``BadRequest``,
``woosmap.ImportFailed``, ``algolia.RunFailed``, ``mytracker.ExportInterrupted`` … all ``JobFailed``).

``Interrupted`` is deliberately a ``KeyboardInterrupt`` and not a ``DataferryError``: an
``except Exception`` in user code must not swallow an interrupt.

Every error's message is safe to show: credentials are masked before the message is built.
"""

from __future__ import annotations

from typing import Any

from dataferry.redact import mask_known


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type's name when it has none), for a
    one-line display.

    Example:
        >>> first_line(ValueError("bad value\\nmore detail"))
        'bad value'
        >>> first_line(KeyboardInterrupt())
        'KeyboardInterrupt'
    """
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:limit]


class DataferryError(Exception):
    """Root of every error dataferry raises (except :class:`WaitInterrupted`).

    Attributes:
        hint: what the user can do about it, or ``None``.
    """

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = mask_known(message)  # whatever a message was built from, no secret shows
        self.message = message
        if hint is not None:
            self.hint = mask_known(hint)
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only arguments defeat Exception's pickling: rebuilt from the attributes, so an
        # error raised on a Dask worker reaches the caller with its type, message and hint
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[DataferryError], args: tuple[Any, ...], state: dict[str, Any]) -> DataferryError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidArgument(DataferryError, ValueError):
    """A parameter is wrong; raised before any request is sent.

    Example:
        >>> raise InvalidArgument("batch_size must be at least 1000, got 10")
        Traceback (most recent call last):
        ...
        dataferry.errors.InvalidArgument: batch_size must be at least 1000, got 10
    """


class ConfigurationError(DataferryError):
    """Something about the environment is missing or wrong (credentials, settings)."""


class MissingExtra(ConfigurationError, ImportError):
    """An optional dependency is not installed.

    Attributes:
        extra: the dataferry extra that installs it (``"s3"``, ``"polars"``...).
        module: the module that could not be imported.

    Example:
        >>> raise MissingExtra("writing to az:// needs adlfs", extra="azure", module="adlfs")
        Traceback (most recent call last):
        ...
        dataferry.errors.MissingExtra: writing to az:// needs adlfs
          hint: pip install 'dataferry[azure]'
    """

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(message, hint=f"pip install 'dataferry[{extra}]'")
        self.name = module  # ImportError's attribute


class ApiError(DataferryError):
    """The vendor answered with an HTTP error.

    Attributes:
        vendor: ``"brightdata"``, ``"mytracker"``, ...
        status: the HTTP status code.
        vendor_message: the vendor's own message, verbatim.
        method: the HTTP method.
        url: the request URL with secrets masked.
        body: the decoded response body (``dict``/``list``/``str``), secrets masked.
        job_id: the job the request was about, when known.
        errors: a list of validation errors when the vendor gave them.
        maybe_created: the call creates something (a trigger, an export, a run) and failed in a
            way that may have created it anyway (a 5xx after the server received it).
    """

    def __init__(
        self,
        vendor_message: str,
        *,
        vendor: str = "",
        status: int | None = None,
        method: str = "",
        url: str = "",
        body: Any = None,
        job_id: str | None = None,
        errors: list[Any] | None = None,
        hint: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.status = status
        self.vendor_message = vendor_message = mask_known(vendor_message)
        self.method = method
        self.url = url
        self.body = body
        self.job_id = job_id
        self.errors = list(errors or [])
        self.maybe_created = False
        where = f"{method} {url}".strip()
        head = f"{vendor} " if vendor else ""
        message = f"{head}HTTP {status}: {vendor_message}" if status else f"{head}{vendor_message}"
        if self.errors:
            message += "".join(f"\n  - {_one_line(e)}" for e in self.errors)
        if where:
            message += f"\n  request: {where}"
        super().__init__(message, hint=hint)


def _one_line(error: Any) -> str:
    if isinstance(error, dict):
        loc = error.get("loc") or error.get("field") or error.get("path")
        msg = error.get("msg") or error.get("message") or error.get("error") or error
        if isinstance(loc, (list, tuple)):
            loc = ".".join(str(p) for p in loc)
        return f"{loc}: {msg}" if loc else str(msg)
    return str(error)


class BadRequest(ApiError):
    """HTTP 400: the vendor refused the request as it was."""


class AuthenticationError(ApiError):
    """HTTP 401: the credentials are missing or wrong."""

    hint = "check the API token / key (and that it is for this account)"


class PaymentRequired(ApiError):
    """HTTP 402: the account is out of quota or credit."""


class PermissionDenied(ApiError):
    """HTTP 403: the credentials are valid but not allowed to do this."""


class NotFound(ApiError):
    """HTTP 404: the resource (job, snapshot, dataset...) does not exist."""


class Conflict(ApiError):
    """HTTP 409: the resource is in a state that forbids this operation."""


class UnprocessableEntity(ApiError):
    """HTTP 422: the request body did not validate; ``.errors`` lists each problem."""


class RateLimited(ApiError):
    """HTTP 429: too many requests or too many running jobs.

    Attributes:
        retry_after: seconds the vendor asked us to wait, when it said.
    """

    def __init__(self, vendor_message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(vendor_message, **kw)


class ServerError(ApiError):
    """HTTP 5xx: the vendor failed; retried automatically where that is safe."""


class TransportError(DataferryError):
    """No usable HTTP answer: connection refused or reset, DNS failure, timeout.

    Attributes:
        method, url: the request (secrets masked).
    """

    def __init__(self, message: str, *, method: str = "", url: str = "", hint: str | None = None) -> None:
        self.method = method
        self.url = url
        where = f"{method} {url}".strip()
        super().__init__(f"{message}\n  request: {where}" if where else message, hint=hint)


class RequestMayHaveReached(TransportError):
    """A non-idempotent call (trigger, create, run, cancel) failed after it was sent.

    It is not re-sent automatically: the vendor may have created the job. Look at the job
    list before trying again.
    """


class JobError(DataferryError):
    """An error about a job as a whole.

    Attributes:
        vendor: the vendor.
        job_id: the job's id.
        status: the last :class:`~dataferry.status.JobStatus` seen, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        job_id: str | None = None,
        status: Any = None,
        hint: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.job_id = job_id
        self.status = status
        super().__init__(message, hint=hint)


class JobFailed(JobError):
    """The vendor reports that the job failed.

    Attributes:
        vendor_message: the vendor's own failure message, verbatim.
        kind: what failed (``"snapshot"``, ``"export"``, ``"delivery"``...; ``"job"`` when unknown).
        transient: ``True`` when the vendor's message says the job may succeed if started
            again, ``False`` when it will fail again, ``None`` when that is not known.
    """

    transient: bool | None = None

    def __init__(self, vendor_message: str, *, kind: str = "job", transient: bool | None = None, **kw: Any) -> None:
        if transient is not None:
            self.transient = transient
        self.vendor_message = vendor_message = mask_known(vendor_message)
        self.kind = kind
        job = kw.get("job_id")
        vendor = kw.get("vendor") or "job"
        super().__init__(f"{vendor} {kind} {job} failed: {vendor_message}", **kw)


class JobCancelled(JobError):
    """The job was cancelled (by the user, another client or the vendor)."""


class WaitTimeout(JobError):
    """The wait deadline passed; the job itself is left running."""


class Interrupted(KeyboardInterrupt):
    """The user stopped an operation (Ctrl-C or "interrupt kernel").

    A ``KeyboardInterrupt``, so a script still stops as it would on Ctrl-C; ``except
    Exception`` does not swallow it. Shown short: in a notebook, the message and the re-attach
    code on a line of its own, without the frames through dataferry's internals.

    Attributes:
        job_id: the job's id.
        cancelled: whether the remote job was cancelled.
        reattach: Python code that gets the job back (``""`` when it was cancelled).
    """

    def __init__(self, message: str, *, job_id: str | None = None, cancelled: bool = False, reattach: str = "") -> None:
        self.job_id = job_id
        self.cancelled = cancelled
        self.reattach = "" if cancelled else reattach
        self.message = message
        text = f"{message}\n  re-attach: {self.reattach}" if self.reattach else message
        super().__init__(text)

    def short(self) -> Interrupted:
        """A fresh copy, raised in place of this one so the traceback starts where it is raised
        (the frames through dataferry's internals are left out)."""
        return type(self)(self.message, job_id=self.job_id, cancelled=self.cancelled, reattach=self.reattach)

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the exception and the re-attach line."""
        lines = str(self).splitlines()
        return [f"{type(self).__name__}: {lines[0]}", *lines[1:]]


class WaitInterrupted(Interrupted):
    """Waiting was interrupted (Ctrl-C or "interrupt kernel").

    The remote job keeps running unless ``cancel_on_interrupt=True`` was given; the message
    says how to re-attach to it.
    """


class DownloadInterrupted(Interrupted):
    """Reading a job's parts was interrupted; the job itself is done and its parts stay
    available (verified parts are kept in the cache: reading again resumes)."""


class DataError(DataferryError):
    """What came back cannot be used as it is."""


class SchemaDrift(DataError):
    """A part's column does not fit the types a Dask DataFrame was built with (``meta="first"``
    or a given ``meta``).

    Attributes:
        column: the column's name.
        expected, found: the two types, as text.
    """

    hint = 'build it with meta="scan" (every part\'s schema read first), or fix the type with column_types='

    def __init__(self, message: str, *, column: str, expected: str, found: str) -> None:
        self.column = column
        self.expected = expected
        self.found = found
        super().__init__(message)


class Stopped(DataferryError):
    """An operation was told to stop because its caller was interrupted or failed; raised in
    worker threads, whose results nobody reads any more."""


class ForeignError(Exception):
    """A masked copy of a foreign exception (requests, urllib3, pyarrow...) kept in the cause
    chain of a dataferry error where the original would show a secret. Never raised alone.

    Attributes:
        type_name: the original exception's class name.
    """

    def __init__(self, message: str, *, type_name: str = "") -> None:
        self.type_name = type_name
        super().__init__(message)


class PartIncomplete(DataError):
    """A part could not be downloaded completely, even after resuming."""


class PartCorrupt(DataError):
    """A downloaded part failed its length or gzip check; it was discarded."""


class LinkExpired(DataError):
    """A download link expired and the vendor gave no fresh one."""


class DecodeError(DataError):
    """A part could not be decoded as the expected format."""


class NotData(DecodeError):
    """A part is not data of the format asked for at all (an HTML page, a vendor's error
    object, binary bytes); its cached copy is discarded, so the next run downloads it anew."""


class DecodeWarning(UserWarning):
    """Data was changed while decoding because the user asked for it (invalid UTF-8 replaced
    with ``encoding_errors="replace"``); the message says how many values."""


class StorageError(DataferryError):
    """A destination (a local disk, an object store) refused or failed an operation.

    Attributes:
        url: the destination as the user gave it (credentials never appear in it).
        action: what was being done ("writing", "listing"...).
    """

    def __init__(self, message: str, *, url: str = "", action: str = "", hint: str | None = None) -> None:
        self.url = url
        self.action = action
        super().__init__(message, hint=hint)


class StorageNotFound(StorageError, FileNotFoundError):
    """The bucket or container does not exist (or the path's parent cannot be found)."""

    hint = "create the bucket first, or check its name and the endpoint"


class StorageDenied(StorageError, PermissionError):
    """The store refused the credentials, or they are not allowed to do this."""

    hint = "check the access key / secret (storage_options= or the environment) and the bucket's permissions"


class OutputExists(StorageError, FileExistsError):
    """The target already holds data and ``existing_data="error"`` (the default for datasets)."""

    hint = 'pass existing_data="append", "replace_partitions" or "replace"'


class SchemaConflict(StorageError):
    """A column's type in this run cannot be stored beside the dataset's existing one.

    Attributes:
        column: the column's name.
        existing, incoming: the two types, as text.
    """

    def __init__(self, message: str, *, column: str, existing: str, incoming: str, url: str = "") -> None:
        self.column = column
        self.existing = existing
        self.incoming = incoming
        super().__init__(
            message,
            url=url,
            action="appending",
            hint='write to a new dataset, cast the column (column_types=), or existing_data="replace"',
        )
