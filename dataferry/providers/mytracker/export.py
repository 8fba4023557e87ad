"""A myTracker raw export: the handle ``create_export`` returns, or ``mt.export(id)`` re-attaches.

``get.json`` statuses map onto the engine:

====================  ==========================================================================
``In progress``       running; ``progress`` "64%" becomes 0.64, ``isCancellable`` goes in the message
``Error occurred``    interrupted on the server: re-created with the same parameters (up to
                      ``recreate_attempts`` times, said in the progress message), then
                      :class:`~dataferry.providers.mytracker.errors.ExportInterrupted`
``User error occurred``  :class:`~dataferry.providers.mytracker.errors.ExportRefused` with ``errorMessage``
``Canceled by user``  :class:`~dataferry.errors.JobCancelled`
``Success!``          done; ``files`` are the parts (gzip CSV), each link valid until ``timestampExpires``
====================  ==========================================================================
"""

from __future__ import annotations

import math
import threading
from typing import Any

from dataferry.client import VendorClient
from dataferry.datajob import DataJob
from dataferry.errors import DataferryError, JobFailed, LinkExpired
from dataferry.parts import Part
from dataferry.providers.mytracker import api
from dataferry.providers.mytracker.api import CANCEL_PATH, FAMILY, GET_PATH
from dataferry.providers.mytracker.errors import ERROR_OCCURRED, USER_ERROR, ExportInterrupted, ExportRefused
from dataferry.status import JobState, JobStatus, state_from

IN_PROGRESS = "In progress"
"""get.json status of a running export."""

SUCCESS = "Success!"
"""get.json status of a finished export (with its ``files``)."""

CANCELED = "Canceled by user"
"""get.json status of a cancelled export."""

EXPORT_STATES = {
    IN_PROGRESS.lower(): JobState.RUNNING,
    ERROR_OCCURRED.lower(): JobState.FAILED,
    USER_ERROR.lower(): JobState.FAILED,
    CANCELED.lower(): JobState.CANCELLED,
    SUCCESS.lower(): JobState.DONE,
}
"""get.json statuses; any other value counts as still running."""

RECREATE_ATTEMPTS = 2
"""Times an export that ends "Error occurred" is created again with the same parameters."""


def parse_progress(value: Any) -> float | None:
    """``"64%"`` → ``0.64`` (``None`` when there is no figure).

    Example:
        >>> parse_progress("64%"), parse_progress(None)
        (0.64, None)
    """
    if value is None:
        return None
    try:
        number = float(str(value).strip().rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(number):
        return None  # "nan%", "inf": no figure, rather than a made-up 100 %
    return max(0.0, min(1.0, number / 100.0))


class Export(DataJob):
    """A myTracker raw data export and its gzip CSV files.

    Args:
        client: the :class:`~dataferry.providers.mytracker.client.Client`.
        export_id: ``idRawExport``.
        params: the ``create.json`` parameters, kept to re-create the export after "Error
            occurred" (``None`` for an export re-attached by id, which cannot be re-created).
        recreate_attempts: how many times to re-create it.
        triggered: created by this process (a 404 right after is forgiven briefly).

    Attributes:
        attempts: the export ids created for this request so far, oldest first; ``id`` is the last.

    A status check (``status()``, and so ``wait()``) that finds "Error occurred" creates the
    export again at once, while attempts remain; ``id`` then names the new export.

    Example::

        export = mt.create_export(
            event="installs", selectors=["idApp", "tsEvent"], date_from="2026-11-01", date_to="2026-11-07"
        )
        export.wait().to_parquet("installs.parquet")
    """

    kind = "export"
    status_family = FAMILY
    links_expire = True

    def __init__(
        self,
        client: VendorClient,
        export_id: str | int,
        *,
        params: list[tuple[str, str]] | None = None,
        recreate_attempts: int = RECREATE_ATTEMPTS,
        triggered: bool = False,
    ) -> None:
        super().__init__(client, str(export_id), triggered=triggered)
        self.params = None if params is None else tuple(params)
        self.recreate_attempts = int(recreate_attempts)
        self._refresh_lock = threading.Lock()
        self._fresh: dict[int, Part] = {}

    @property
    def reattach(self) -> str:
        return f"{self.client.reattach_client}.export({self.id!r})"

    @property
    def is_cancellable(self) -> bool | None:
        """myTracker's ``isCancellable`` from the last status seen (``None`` when unknown)."""
        if self.last_status is None or self.last_status.raw != IN_PROGRESS:
            return None
        value = self.last_status.detail.get("isCancellable")
        return None if value is None else bool(value)

    @property
    def files(self) -> list[dict[str, Any]]:
        """The files of a finished export as myTracker listed them (``link``, ``timestampExpires``)."""
        if self.last_status is None or self.last_status.state is not JobState.DONE:
            return []
        return [dict(f) for f in self.last_status.detail.get("files") or []]

    # -- engine hooks ----------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        status = self._status_of(self._get())
        if status.raw == ERROR_OCCURRED:
            return self._recreate(status)
        return status

    def _failure(self, message: str, *, vendor: str, job_id: str, status: JobStatus, kind: str = "export") -> JobFailed:
        """The typed error for an export that ended badly (the wait engine calls this).

        A method here, where the base class has an exception class, because the class to raise
        depends on the final status.

        Returns:
            :class:`ExportRefused` for "User error occurred", else :class:`ExportInterrupted`.
        """
        if status.raw == USER_ERROR:
            return ExportRefused(message, vendor=vendor, kind=kind, job_id=self.id, status=status)
        hint = None
        if status.message and self.params is None:
            hint = f"{status.message}; create it again with mt.create_export(...) and the same parameters"
        elif status.message:
            hint = (
                f"{status.message}. myTracker says such an export may be repeated: create it again later "
                "(mt.create_export(...)), or allow more re-creations with recreate_attempts="
            )
        return ExportInterrupted(
            ERROR_OCCURRED,
            vendor=vendor,
            kind=kind,
            job_id=self.id,
            status=status,
            attempts=tuple(self.attempts),
            **({"hint": hint} if hint else {}),
        )

    def _cancel_remote(self) -> None:
        api.call(
            self.client.http, "GET", CANCEL_PATH, params={"idRawExport": self.id}, job_id=self.id, idempotent=False
        )

    def _list_parts(self) -> list[Part]:
        status = self.last_status
        if status is None or status.state is not JobState.DONE:
            raise DataferryError(
                f"mytracker export {self.id} is not finished "
                f"({status.describe() if status else 'status not checked'}); call wait() first"
            )
        return self._parts_from(status.detail)

    def _refresh_part(self, part: Part) -> Part:
        with self._refresh_lock:
            known = self._fresh.get(part.index)
            if known is not None and known.url != part.url and not known.expired(self.client.clock.time()):
                return known  # another download thread already asked for fresh links
            status = self._status_of(self._get())
            if status.state is not JobState.DONE:
                raise LinkExpired(
                    f"part {part.index} of mytracker export {self.id}: its link expired, and the export now "
                    f"says {status.describe()}",
                    hint="create the export again: mt.create_export(...)",
                )
            self.last_status = status
            self._fresh = {p.index: p for p in self._parts_from(status.detail)}
            if part.index not in self._fresh:
                raise LinkExpired(
                    f"part {part.index} of mytracker export {self.id}: myTracker no longer lists it",
                    hint="create the export again: mt.create_export(...)",
                )
            return self._fresh[part.index]

    # -- internals -------------------------------------------------------------------------
    def _get(self) -> dict[str, Any]:
        data = api.call(self.client.http, "GET", GET_PATH, params={"idRawExport": self.id}, job_id=self.id)
        return data if isinstance(data, dict) else {}

    def _status_of(self, data: dict[str, Any]) -> JobStatus:
        raw = str(data.get("status") or "")
        state = state_from(raw, EXPORT_STATES)
        detail = self.client.http.redactor.data(data)
        progress = None
        message = None
        if raw == IN_PROGRESS:
            progress = parse_progress(data.get("progress"))
            cancellable = data.get("isCancellable")
            if cancellable is not None:
                message = "can be cancelled" if cancellable else "can no longer be cancelled"
        elif raw == USER_ERROR:
            message = str(data.get("errorMessage") or "") or None
        elif state is JobState.DONE:
            progress = 1.0
            n = len(data.get("files") or [])
            message = f"{n} file{'s' if n != 1 else ''} ready"
        return JobStatus(state, raw, message, progress, detail=detail)

    def _recreate(self, status: JobStatus) -> JobStatus:
        done = len(self.attempts) - 1
        if self.params is None:
            return JobStatus(
                JobState.FAILED,
                status.raw,
                f"export {self.id} failed on the server; it was re-attached by id, so its parameters "
                "are unknown and dataferry cannot create it again",
                detail=status.detail,
            )
        if done >= self.recreate_attempts:
            made = (
                "never re-created (recreate_attempts=0)"
                if done == 0
                else (f"created {done + 1} times ({', '.join(self.attempts)}) and failed each time")
            )
            return JobStatus(
                JobState.FAILED,
                status.raw,
                f"export {self.id} failed on the server; it was {made}",
                detail=status.detail,
            )
        old = self.id
        new = api.create(self.client.http, self.params)
        self._fresh = {}
        message = (
            f"export {old} failed on the server; re-created as {new} (attempt {done + 1} of {self.recreate_attempts})"
        )
        # shown as "re-created" with no figure yet, not the old export's "Error occurred 0%" beside "running"
        return self._recreated(new, "re-created", message, {"idRawExport": new, "status": status.raw})

    def _parts_from(self, data: dict[str, Any]) -> list[Part]:
        parts = []
        for index, item in enumerate(data.get("files") or []):
            link = item.get("link") if isinstance(item, dict) else None
            if not isinstance(link, str) or not link:
                raise DataferryError(f"mytracker export {self.id}: file {index} has no link in the answer: {item!r}")
            expires = item.get("timestampExpires")
            try:
                expires_at = float(expires) if expires not in (None, "") else None
            except (TypeError, ValueError):
                expires_at = None
            parts.append(
                Part(index, link, "csv", "gzip", expires_at=expires_at, name=f"raw-export-{self.id}-{index:05d}.csv.gz")
            )
        return parts
