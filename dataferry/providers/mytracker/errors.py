"""The errors only myTracker raw exports raise; all of them sit under dataferry's root::

    JobFailed
    ├── ExportInterrupted      "Error occurred" and every re-creation failed too
    └── ExportRefused          "User error occurred" ("Too many lines in one export"...)
    BadRequest
    └── ExportNotCancellable   cancel.json: "This RawExport can not be cancel"

A cancelled export raises the shared :class:`~dataferry.errors.JobCancelled`.
"""

from __future__ import annotations

from typing import Any

from dataferry.errors import BadRequest, JobFailed

ERROR_OCCURRED = "Error occurred"
"""get.json status: the export was interrupted on the server and may be repeated."""

USER_ERROR = "User error occurred"
"""get.json status: the export can never complete as asked (``errorMessage`` says why)."""


class ExportInterrupted(JobFailed):
    """myTracker interrupted the export ("Error occurred") more times than dataferry re-creates it.

    Attributes:
        attempts: the export ids created for this request, oldest first.
    """

    transient = True  # myTracker: "the export is interrupted and you can repeat the request"

    def __init__(self, vendor_message: str, *, attempts: tuple[str, ...] = (), **kw: Any) -> None:
        self.attempts = tuple(attempts)
        if "hint" not in kw:
            kw["hint"] = (
                "myTracker says such an export may be repeated: create it again later "
                "(mt.create_export(...)), or allow more re-creations with recreate_attempts="
            )
        super().__init__(vendor_message, **kw)


class ExportRefused(JobFailed):
    """myTracker will never complete the export as asked ("User error occurred").

    Attributes:
        error_message: myTracker's ``errorMessage`` verbatim (e.g. "Too many lines in one export").
    """

    transient = False  # "the request under these conditions will never be complete"

    hint = (
        "the export is too big for one request: narrow the period (date_from/date_to), "
        "ask for fewer selectors, or filter it (id_app=..., id_country=...) and export in pieces"
    )

    def __init__(self, vendor_message: str, **kw: Any) -> None:
        self.error_message = vendor_message
        super().__init__(vendor_message, **kw)


class ExportNotCancellable(BadRequest):
    """cancel.json refused: the export is complete, or past the point where it can be cancelled."""

    hint = "only an export whose status says isCancellable=true can be cancelled (export.status().detail)"
