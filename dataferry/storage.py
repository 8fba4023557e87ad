"""Where output goes: a local path or any URL pandas and pyarrow accept, as one pyarrow filesystem.

:func:`resolve` turns ``path`` plus ``storage_options=`` (passed to fsspec, as pandas does) or
``filesystem=`` (a :class:`pyarrow.fs.FileSystem` or an fsspec filesystem) into a
:class:`Destination`: the filesystem, the path inside it, and the rules every writer follows.

- local paths and ``file://``: pyarrow's local filesystem;
- ``s3://`` (``s3a://``): pyarrow's native S3 client when the options are ones it understands
  (``key``, ``secret``, ``token``, ``endpoint_url``, ``client_kwargs={"endpoint_url",
  "region_name"}``, ``region``, ``anon``), s3fs for any other option (extra ``dataferry[s3]``);
- ``gs://`` / ``gcs://``: pyarrow's native GCS client without options, gcsfs with them
  (``dataferry[gcs]``);
- ``az://``, ``abfs://``, ``abfss://``, ``adl://``: adlfs (``dataferry[azure]``);
- any other fsspec URL (``memory://``, ``sftp://``...): fsspec (``dataferry[fsspec]``).

The commit rule lives here too: a file is written under a hidden temporary name beside its
final one (:meth:`Destination.temp_name`) and moved into place only once complete — a rename
on disk; on an object store the move is a server-side copy, so the final key only ever holds a
whole object, and a failed run deletes its temporary objects. A single file to S3 through
pyarrow's client skips the copy: :attr:`Destination.mirror` uploads it straight to its key
(:mod:`dataferry.s3upload`). Foreign errors (``OSError`` from
pyarrow, botocore's, fsspec's) become :class:`~dataferry.errors.StorageNotFound`,
:class:`~dataferry.errors.StorageDenied` or :class:`~dataferry.errors.StorageError`, with
every credential from ``storage_options`` / the filesystem masked in the message and the
cause chain.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import posixpath
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from dataferry import s3upload
from dataferry.errors import (
    DataferryError,
    InvalidArgument,
    MissingExtra,
    StorageDenied,
    StorageError,
    StorageNotFound,
)
from dataferry.redact import SECRET_NAMES, Redactor
from dataferry.s3upload import MultipartMirror

FSSPEC_EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "adl": ("adlfs", "azure"),
}
"""URL scheme → (the fsspec implementation's module, the dataferry extra that installs it)."""

NATIVE_S3_OPTIONS = frozenset(
    {
        "key",
        "secret",
        "token",
        "endpoint_url",
        "client_kwargs",
        "region",
        "region_name",
        "anon",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    }
)
"""``storage_options`` keys pyarrow's own S3 client is given instead of s3fs (any other key: s3fs)."""

DEFAULT_REGION = "us-east-1"
"""Region used with a custom ``endpoint_url`` when none is given (a local S3 server has no
other, and asking the instance metadata service for one would hang offline)."""

_SECRET_OPTION = re.compile(r"(secret|token|key|password|credential|sas|connection_string|signature)", re.IGNORECASE)
_NOT_FOUND = re.compile(
    r"NO_SUCH_BUCKET|NoSuchBucket|bucket does not exist|ContainerNotFound|"
    r"The specified container does not exist",
    re.IGNORECASE,
)
_DENIED = re.compile(
    r"ACCESS_DENIED|AccessDenied|INVALID_ACCESS_KEY_ID|InvalidAccessKeyId|SIGNATURE_DOES_NOT_MATCH|"
    r"SignatureDoesNotMatch|Forbidden|ExpiredToken|InvalidToken|AuthenticationFailed|"
    r"HTTP 40[13]\b|\b403\b",
    re.IGNORECASE,
)


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingExtra` naming the extra.

    Example:
        >>> require("pyarrow", "core", "reading Arrow").__name__
        'pyarrow'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"{purpose} needs the optional package {module!r}, which is not installed", extra=extra, module=module
        ) from exc


def split_url(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(scheme, rest)``; ``("", path)`` for a local path (``file://`` included).

    Example:
        >>> split_url("s3://lake/products/")
        ('s3', 'lake/products/')
        >>> split_url("out/x.parquet")
        ('', 'out/x.parquet')
    """
    text = os.fspath(path)
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]+)://(.*)$", text, re.DOTALL)
    if not m:
        return "", text
    scheme = m.group(1).lower()
    if scheme in ("file", "local"):
        return "", m.group(2)
    return scheme, m.group(2)


@dataclass
class Destination:
    """A filesystem and a path inside it, with the commit and error rules of every writer.

    Attributes:
        fs: the pyarrow filesystem.
        path: the path inside ``fs`` (no scheme, no trailing ``/``).
        url: the destination as the user gave it (shown in messages and returned).
        local: whether ``fs`` is the local disk (rename is atomic, directories are real).
        redactor: masks every credential the destination was given.
        scheme: the URL's scheme (``""`` on disk).
        mirror: for S3 through pyarrow's client, ``mirror(path)`` → a
            :class:`~dataferry.s3upload.MultipartMirror` that uploads a file written locally
            straight to ``path``, completed only once whole (no temporary key, no copy).
    """

    fs: pafs.FileSystem
    path: str
    url: str
    local: bool = False
    redactor: Redactor = field(default_factory=Redactor)
    scheme: str = ""
    mirror: Callable[[str], MultipartMirror] | None = None

    # -- paths ------------------------------------------------------------------------
    def join(self, *names: str) -> str:
        """A path under :attr:`path`."""
        return posixpath.join(self.path, *names) if not self.local else os.path.join(self.path, *names)

    def temp_name(self, path: str | None = None) -> str:
        """A hidden temporary name beside ``path`` (default: :attr:`path`); readers of a dataset
        skip names starting with ``.``. For a bucket's root, inside it."""
        path = self.path if path is None else path
        sep = os.sep if self.local else "/"
        parent, _, name = path.rstrip(sep).rpartition(sep)
        token = uuid.uuid4().hex[:8]
        if not parent and not self.local:  # "bucket": no sibling exists
            return f"{name}/.dataferry-{token}.tmp"
        return f"{parent}{sep}.{name}.{token}.tmp"

    def result(self) -> Path | str:
        """What a writer returns: a :class:`~pathlib.Path` on disk, the URL elsewhere."""
        if not self.local:
            return self.url
        return Path(self.path) if "://" in self.url else Path(self.url)

    # -- operations ---------------------------------------------------------------------
    def kind(self, path: str | None = None) -> str | None:
        """``"file"``, ``"dir"`` or ``None`` (nothing there)."""
        with self.guard("looking at"):
            info = self.fs.get_file_info(self.path if path is None else path)
        if info.type == pafs.FileType.File:
            return "file"
        if info.type == pafs.FileType.Directory:
            return "dir"
        return None

    def files(self, path: str | None = None) -> list[str]:
        """Every file under ``path`` (default: :attr:`path`), recursively, sorted; none when the
        directory does not exist."""
        root = self.path if path is None else path
        with self.guard("listing"):
            infos = self.fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        return sorted(i.path for i in infos if i.type == pafs.FileType.File)

    def check(self) -> None:
        """Fail before any download when the bucket (container) is missing or the credentials
        are refused; nothing to check on disk or on a filesystem without buckets."""
        if self.local or self.scheme not in FSSPEC_EXTRAS:
            return
        bucket = self.path.split("/", 1)[0]
        with self.guard("opening"):
            info = self.fs.get_file_info(bucket)
        if info.type == pafs.FileType.NotFound:
            raise StorageNotFound(f"the bucket {bucket!r} of {self.url} does not exist", url=self.url, action="opening")

    def make_parent(self, path: str) -> None:
        """Create ``path``'s parent directory where directories are real (on disk)."""
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def move(self, src: str, dst: str) -> None:
        """Move a complete file into place (a rename on disk, a server-side copy on a store)."""
        with self.guard("moving into place"):
            self.fs.move(src, dst)

    def copy(self, src: str, dst: str) -> None:
        """Copy a complete file (server-side on an object store: ``dst`` only ever holds a whole
        object)."""
        with self.guard("copying into place"):
            self.fs.copy_file(src, dst)

    def place(self, src: str, dst: str) -> None:
        """Put a staged file at its final name: a rename on disk; a server-side copy on a store,
        the staged one left for the one delete of its staging directory (a move there is a copy,
        a delete and a directory marker made again: three requests where one will do)."""
        if self.local:
            self.make_parent(dst)
            self.move(src, dst)
        else:
            self.copy(src, dst)

    def delete(self, path: str) -> None:
        """Delete a file, quietly when it is already gone."""
        with contextlib.suppress(FileNotFoundError, StorageNotFound), self.guard("deleting"):
            self.fs.delete_file(path)

    def delete_tree(self, path: str) -> None:
        """Delete a directory (a prefix) and everything under it; errors are swallowed (this is
        cleanup after another error)."""
        with contextlib.suppress(OSError, DataferryError, pa.ArrowException):
            self.fs.delete_dir(path)

    def open_input(self, path: str) -> Any:
        """A readable file (for pyarrow's readers)."""
        with self.guard("reading"):
            return self.fs.open_input_file(path)

    @contextlib.contextmanager
    def guard(self, action: str) -> Iterator[None]:
        """Translate what the filesystem raises into a typed error, credentials masked."""
        try:
            yield
        except DataferryError as exc:
            self.redactor.scrub(exc)
            raise
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise self.translate(exc, action) from exc

    def translate(self, exc: BaseException, action: str) -> DataferryError:
        """A typed error for a foreign one (and its chain scrubbed of credentials)."""
        self.redactor.scrub(exc)  # masks the chain under the new error too
        text = self.redactor.text(f"{type(exc).__name__}: {exc}")
        chain = " ".join(self.redactor.text(str(e)) for e in _chain(exc))
        message = f"{action} {self.url} failed: {text}"
        if (isinstance(exc, FileNotFoundError) and not isinstance(exc, StorageNotFound)) or _NOT_FOUND.search(chain):
            err: StorageError = StorageNotFound(message, url=self.url, action=action)
        elif isinstance(exc, PermissionError) or _DENIED.search(chain):
            err = StorageDenied(message, url=self.url, action=action)
        else:
            err = StorageError(message, url=self.url, action=action)
        return err

    def __repr__(self) -> str:
        return f"Destination({self.url!r}, {type(self.fs).__name__})"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def resolve(
    path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None, filesystem: Any = None
) -> Destination:
    """The filesystem and path for ``path``.

    Args:
        path: a local path, or a URL (``s3://bucket/key``, ``gs://``, ``az://``, ``memory://``...).
        storage_options: options for the filesystem, as in pandas (fsspec's keyword arguments;
            for S3 the ones pyarrow understands go to its native client).
        filesystem: a :class:`pyarrow.fs.FileSystem` or an fsspec filesystem to use instead;
            ``path`` is then a path inside it (a URL's scheme is dropped).

    Returns:
        A :class:`Destination`.

    Raises:
        InvalidArgument: both ``storage_options`` and ``filesystem``, or an unknown URL scheme.
        MissingExtra: the backend's package is not installed (the message names the extra).

    Example:
        >>> resolve("memory://lake/x.parquet").path
        '/lake/x.parquet'
    """
    options = dict(storage_options or {})
    if options and filesystem is not None:
        raise InvalidArgument("give storage_options= or filesystem=, not both")
    redactor = Redactor(_secrets_in(options))
    scheme, rest = split_url(path)
    url = os.fspath(path)
    if filesystem is not None:
        return _given(filesystem, scheme, rest, url, redactor)
    if not scheme:
        if options:
            raise InvalidArgument("storage_options= only applies to a URL (s3://, gs://, az://, ...)")
        return Destination(pafs.LocalFileSystem(), os.path.abspath(rest), url, local=True, redactor=redactor)
    rest = rest.rstrip("/")
    if scheme in ("s3", "s3a") and set(options) <= NATIVE_S3_OPTIONS and _native_s3_ok(options):
        fs = _native_s3(options, redactor)
        return Destination(fs, rest, url, redactor=redactor, scheme=scheme, mirror=_mirrors(options))
    if scheme in ("gs", "gcs") and not options:
        return Destination(pafs.GcsFileSystem(), rest, url, redactor=redactor, scheme=scheme)
    return _fsspec(scheme, rest, url, options, redactor)


def _given(filesystem: Any, scheme: str, rest: str, url: str, redactor: Redactor) -> Destination:
    if isinstance(filesystem, pafs.FileSystem):
        for secret in _secrets_of_pyarrow(filesystem):
            redactor.add(secret)
        local = isinstance(filesystem, pafs.LocalFileSystem)
        inner = os.path.abspath(rest) if local else rest.rstrip("/")
        return Destination(filesystem, inner, url, local=local, redactor=redactor, scheme=scheme)
    fsspec_spec = require("fsspec", "fsspec", "an fsspec filesystem=")
    if not isinstance(filesystem, fsspec_spec.AbstractFileSystem):
        raise InvalidArgument(
            f"filesystem= must be a pyarrow.fs.FileSystem or an fsspec filesystem, not {type(filesystem).__name__}"
        )
    for value in vars(filesystem).get("storage_options", {}).items():
        for s in _secrets_in(dict([value])):
            redactor.add(s)
    inner = filesystem._strip_protocol(f"{scheme}://{rest}" if scheme else rest)
    return Destination(_wrap(filesystem), inner.rstrip("/") or inner, url, redactor=redactor, scheme=scheme)


def _fsspec(scheme: str, rest: str, url: str, options: dict[str, Any], redactor: Redactor) -> Destination:
    module, extra = FSSPEC_EXTRAS.get(scheme, ("fsspec", "fsspec"))
    purpose = f"writing to {scheme}://"
    fsspec = require("fsspec", extra, purpose)
    require(module, extra, purpose)
    try:
        cls = fsspec.get_filesystem_class(scheme)
    except ValueError as exc:
        raise InvalidArgument(f"{scheme}:// is not a filesystem fsspec knows ({url})") from exc
    except ImportError as exc:
        raise MissingExtra(
            f"{purpose} needs a package that is not installed: {exc}",
            extra=extra,
            module=getattr(exc, "name", None) or scheme,
        ) from exc
    try:
        fs = cls(**options)
    except (TypeError, ValueError) as exc:
        raise redactor.scrub(InvalidArgument(f"storage_options for {scheme}:// were refused: {exc}")) from exc
    inner = cls._strip_protocol(f"{scheme}://{rest}")
    return Destination(_wrap(fs), inner, url, redactor=redactor, scheme=scheme)


def _wrap(fs: Any) -> pafs.FileSystem:
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def _native_s3_ok(options: Mapping[str, Any]) -> bool:
    client_kwargs = options.get("client_kwargs") or {}
    return isinstance(client_kwargs, Mapping) and set(client_kwargs) <= {"endpoint_url", "region_name"}


def s3_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """What S3 clients are given for ``storage_options`` (pandas' and s3fs' names): the endpoint
    URL, the region (:data:`DEFAULT_REGION` with a custom endpoint and none given), the
    credentials (``None``: found the AWS way) and whether to sign at all."""
    client_kwargs = dict(options.get("client_kwargs") or {})
    endpoint = options.get("endpoint_url") or client_kwargs.get("endpoint_url")
    if endpoint and "://" not in endpoint:
        endpoint = f"https://{endpoint}"  # as pyarrow reads an endpoint without a scheme
    region = options.get("region") or options.get("region_name") or client_kwargs.get("region_name")
    return {
        "endpoint": endpoint or None,
        "region": region or (DEFAULT_REGION if endpoint else None),
        "access_key": options.get("key") or options.get("aws_access_key_id"),
        "secret_key": options.get("secret") or options.get("aws_secret_access_key"),
        "session_token": options.get("token") or options.get("aws_session_token"),
        "anonymous": bool(options.get("anon", False)),
    }


def _native_s3(options: Mapping[str, Any], redactor: Redactor) -> pafs.S3FileSystem:
    settings = s3_settings(options)
    kw: dict[str, Any] = {k: settings[k] for k in ("access_key", "secret_key", "session_token", "anonymous", "region")}
    if settings["endpoint"]:  # always with a scheme (s3_settings)
        kw["scheme"], rest = split_url(settings["endpoint"])
        kw["endpoint_override"] = rest.rstrip("/")
    try:
        return pafs.S3FileSystem(**{k: v for k, v in kw.items() if v is not None})
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise redactor.scrub(InvalidArgument(f"storage_options for s3:// were refused: {exc}")) from exc


def _mirrors(options: Mapping[str, Any]) -> Callable[[str], MultipartMirror] | None:
    """How a file reaches ``bucket/key`` without a copy (:mod:`dataferry.s3upload`), when
    botocore is installed."""
    if not s3upload.available():
        return None
    settings = s3_settings(options)

    def at(path: str) -> MultipartMirror:
        bucket, _, key = path.partition("/")
        return MultipartMirror(lambda: s3upload.botocore_client(**settings), bucket, key)

    return at


def _secrets_in(options: Mapping[str, Any]) -> list[str]:
    """Every string in ``options`` under a key that names a secret (at any depth)."""
    found: list[str] = []
    for key, value in options.items():
        if isinstance(value, Mapping):
            found.extend(_secrets_in(value))
        elif isinstance(value, str) and (key.lower() in SECRET_NAMES or _SECRET_OPTION.search(key)):
            found.append(value)
    return found


def _secrets_of_pyarrow(fs: pafs.FileSystem) -> list[str]:
    """The credentials a pyarrow filesystem was built with (they travel in its pickle state)."""
    try:
        _, args = fs.__reduce__()[:2]
    except (TypeError, ValueError, AttributeError):
        return []
    found: list[str] = []
    for arg in args if isinstance(args, tuple) else ():
        if isinstance(arg, Mapping):
            found.extend(_secrets_in(arg))
    return found
