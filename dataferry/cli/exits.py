"""What the ``dataferry`` command's exit status means: one table for every command and vendor.

=====  =============================================================================================
code   meaning
=====  =============================================================================================
0      done (an empty result allowed with ``--allow-empty`` is done too)
1      anything unexpected (a corrupt part, a connection that kept failing, a bug)
2      usage or bad input, found before anything was sent (a bad option, missing credentials)
3      timed out waiting (``--timeout``): the job was left running; the re-attach command is printed
4      the job failed, or the vendor refused the request
5      the job was cancelled
6      authentication or permission refused (the vendor's, or the destination's)
7      not found (the job, dataset, collector or destination does not exist)
8      rate-limited or busy beyond the wait budget (429, or 5xx after the retries)
130    interrupted (Ctrl-C, SIGINT): the job was left running; the re-attach command is printed
=====  =============================================================================================

:func:`exit_code` maps an exception onto it through :data:`TABLE` (the first class that matches
wins, so a subclass is listed before its base).
"""

from __future__ import annotations

import enum
import math
import os
import re

from dataferry.constants import WAIT_TIMEOUT
from dataferry.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    InvalidArgument,
    JobCancelled,
    JobFailed,
    NotFound,
    OutputExists,
    PermissionDenied,
    RateLimited,
    ServerError,
    StorageDenied,
    StorageNotFound,
    WaitTimeout,
)


class Exit(enum.IntEnum):
    """The exit statuses of the ``dataferry`` command."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    TIMEOUT = 3
    FAILED = 4
    CANCELLED = 5
    AUTH = 6
    NOT_FOUND = 7
    BUSY = 8
    INTERRUPTED = 130


MEANING = {
    Exit.OK: "done (an empty result allowed with --allow-empty too)",
    Exit.UNEXPECTED: "anything unexpected",
    Exit.USAGE: "usage or bad input, before anything was sent (bad option, missing credentials)",
    Exit.TIMEOUT: "timed out waiting (--timeout); the job was left running, the re-attach command is printed",
    Exit.FAILED: "the job failed, or the vendor refused the request",
    Exit.CANCELLED: "the job was cancelled",
    Exit.AUTH: "authentication or permission refused",
    Exit.NOT_FOUND: "not found (job, dataset, collector, destination)",
    Exit.BUSY: "rate-limited or busy beyond the wait budget (429, or 5xx after retries)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C); the job was left running, the re-attach command is printed",
}
"""One line per exit status, for ``--help`` and the docs."""

TABLE: tuple[tuple[type[BaseException], Exit], ...] = (
    (KeyboardInterrupt, Exit.INTERRUPTED),  # dataferry.errors.Interrupted and its kinds
    (InvalidArgument, Exit.USAGE),
    (OutputExists, Exit.USAGE),
    (ConfigurationError, Exit.USAGE),
    (WaitTimeout, Exit.TIMEOUT),
    (JobCancelled, Exit.CANCELLED),
    (JobFailed, Exit.FAILED),
    (AuthenticationError, Exit.AUTH),
    (PermissionDenied, Exit.AUTH),
    (StorageDenied, Exit.AUTH),
    (NotFound, Exit.NOT_FOUND),
    (StorageNotFound, Exit.NOT_FOUND),
    (RateLimited, Exit.BUSY),
    (ServerError, Exit.BUSY),
    (ApiError, Exit.FAILED),  # 400, 402, 409, 422 and the vendors' own refusals
)
"""Exception class → exit status; the first match wins. Anything else is :attr:`Exit.UNEXPECTED`."""

TIMEOUT_ENV = "DATAFERRY_TIMEOUT"
"""Environment variable with the default of ``--timeout`` (``90s``, ``30m``, ``2h`` or seconds)."""

DEFAULT_TIMEOUT = WAIT_TIMEOUT
"""Built-in default of ``--timeout``: the library's :data:`~dataferry.constants.WAIT_TIMEOUT` (6 hours)."""

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*", re.IGNORECASE)
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def exit_code(exc: BaseException) -> Exit:
    """The exit status for an exception (see :data:`TABLE`).

    Example:
        >>> exit_code(WaitTimeout("still running")), exit_code(ValueError("?"))
        (<Exit.TIMEOUT: 3>, <Exit.UNEXPECTED: 1>)
    """
    for cls, code in TABLE:
        if isinstance(exc, cls):
            return code
    return Exit.UNEXPECTED


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"30m"``, ``"2h"`` or ``"1d"``.

    Raises:
        InvalidArgument: anything else, zero or a negative time.

    Example:
        >>> parse_duration("30m"), parse_duration("90"), parse_duration("1.5h")
        (1800.0, 90.0, 5400.0)
    """
    match = _DURATION.fullmatch(str(text))
    if match is None:
        raise InvalidArgument(f"{text!r} is not a duration: give seconds, or a number with s, m, h or d (30m, 2h)")
    seconds = float(match.group(1)) * _UNIT[match.group(2).lower()]
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidArgument(f"{text!r}: a timeout must be a positive time")
    return seconds


def default_timeout(env: dict[str, str] | None = None) -> float:
    """``--timeout`` when it is not given: ``$DATAFERRY_TIMEOUT``, else :data:`DEFAULT_TIMEOUT`.

    Raises:
        InvalidArgument: ``$DATAFERRY_TIMEOUT`` is not a duration.
    """
    value = (os.environ if env is None else env).get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        return parse_duration(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"${TIMEOUT_ENV}: {exc.message}") from None


def epilog() -> str:
    """The exit-status table as ``dataferry --help`` shows it."""
    lines = ["exit status:"]
    lines += [f"  {int(code):>3}  {text}" for code, text in MEANING.items()]
    lines.append("")
    lines.append(
        f"--timeout (waiting commands) defaults to ${TIMEOUT_ENV}, else {DEFAULT_TIMEOUT / 3600:g}h; "
        "on a timeout the job is left running"
    )
    return "\n".join(lines)
