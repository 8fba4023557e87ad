"""The errors only Woosmap raises; all of them sit under dataferry's root::

JobFailed
└── ImportFailed      an import run ended "failed" (.errors: its error log entries)
NotFound
└── NoImportRun       the status of a dataset that was never imported
"""

from __future__ import annotations

from typing import Any

from dataferry.errors import JobFailed, NotFound


def entries_of(body: dict[str, Any], level: str | None = None) -> list[dict[str, Any]]:
    """Every log entry of a status answer, with its step's name, optionally of one ``level``.

    Example:
        >>> body = {"steps": [{"name": "fetch", "entries": [{"created_at": "t", "detail": "x", "level": "error"}]}]}
        >>> entries_of(body, "error")
        [{'step': 'fetch', 'created_at': 't', 'level': 'error', 'detail': 'x'}]
    """
    out = []
    for step in body.get("steps") or []:
        for entry in step.get("entries") or []:
            if level is None or entry.get("level") == level:
                out.append(
                    {
                        "step": step.get("name"),
                        "created_at": entry.get("created_at"),
                        "level": entry.get("level"),
                        "detail": entry.get("detail"),
                    }
                )
    return out


class ImportFailed(JobFailed):
    """A Woosmap import run ended ``failed``.

    Attributes:
        errors: every ``error``-level log entry of the run (``step``, ``created_at``,
            ``level``, ``detail``), also listed in the message.
        run_id: the run's id (quote it to Woosmap support).

    Example::

        try:
            ds.import_().wait()
        except woosmap.ImportFailed as exc:
            print(exc.errors)
    """

    hint = "fix the data at the dataset's URL (or the URL itself: ds.update(url=...)), then import again: ds.import_()"

    def __init__(self, vendor_message: str, **kw: Any) -> None:
        status = kw.get("status")
        detail = getattr(status, "detail", None) or {}
        self.errors = entries_of(detail, "error")
        self.run_id = detail.get("id")
        super().__init__(vendor_message, **kw)
        self.message = f"woosmap import of dataset {self.job_id} failed: {vendor_message}"
        if self.errors:
            self.message += "".join(f"\n  - {e['step']}: {e['detail']}" for e in self.errors)
        self.args = (self.message,)


class NoImportRun(NotFound):
    """HTTP 404 on the status of a dataset that was never imported."""

    hint = "this dataset has no import yet: ds.import_() starts one"
