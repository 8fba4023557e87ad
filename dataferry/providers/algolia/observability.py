"""Observability: runs of tasks and their events (``/1/runs``), rate-limited on their own."""

from __future__ import annotations

from typing import Any

from dataferry.listing import Listing
from dataferry.providers.algolia.base import IngestionBase
from dataferry.providers.algolia.enums import EVENT_STATUSES, EVENT_TYPES, RUN_STATUSES
from dataferry.providers.algolia.params import PAGE_SIZE, array_filter, list_query, resource_id, rfc3339
from dataferry.providers.algolia.run import Run

OBSERVABILITY = "observability"
"""Rate-limit family of ``/1/runs*`` (200 requests per 30 s)."""


class Observability(IngestionBase):
    """``/1/runs``: runs, one run (as a waitable handle), events, one event."""

    def runs(
        self,
        *,
        status: Any = None,
        task_id: str | None = None,
        start_date: Any = None,
        end_date: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """Task runs, all pages (``GET /1/runs``).

        Args:
            status: ``created``, ``started``, ``idled``, ``finished``, ``skipped`` or a list.
            task_id: only the runs of this task.
            start_date, end_date: the window on ``createdAt`` (``datetime``, ``date`` or
                RFC 3339); Algolia's default is the last 7 days.
            sort: ``status``, ``updatedAt`` or ``createdAt``; order: ``asc`` / ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`; its ``window``
            says which dates Algolia used.

        Example::

            ing.runs(status=["finished"], task_id=task_id).to_pandas()
        """
        query = list_query(
            "runs",
            sort=sort,
            order=order,
            status=None if status is None else array_filter(status, "status", RUN_STATUSES),
            taskID=None if task_id is None else resource_id(task_id, "task_id"),
            startDate=None if start_date is None else rfc3339(start_date, "start_date"),
            endDate=None if end_date is None else rfc3339(end_date, "end_date"),
        )
        return self._list("/1/runs", "runs", query=query, title="runs", page_size=page_size, family=OBSERVABILITY)

    def run(self, run_id: str, *, task_id: str | None = None) -> Run:
        """A handle on an existing run; nothing is sent until it is used.

        Runs are addressed by their own id (``GET /1/runs/{runID}``); ``task_id`` only says
        which task it belongs to, when known.

        Example::

            ing.run("6c02aeb1-775e-418e-870b-1faccd4b2c0f").wait()
        """
        return Run(
            self, resource_id(run_id, "run_id"), task_id=None if task_id is None else resource_id(task_id, "task_id")
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its status read now (``GET /1/runs/{runID}``).

        Raises:
            NotFound: no run with this id.
        """
        run = self.run(run_id)
        run.status()
        return run

    def events(
        self,
        run_id: str,
        *,
        status: Any = None,
        type: Any = None,
        start_date: Any = None,
        end_date: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """The events of a run, all pages (``GET /1/runs/{runID}/events``).

        Args:
            run_id: the run.
            status: ``created``, ``started``, ``retried``, ``failed``, ``succeeded``,
                ``critical`` or a list.
            type: ``fetch``, ``record``, ``log``, ``transform`` or a list.
            start_date, end_date: the window on ``publishedAt``; Algolia's default is the last
                3 hours (``Run.events`` starts it at the run's creation instead).
            sort: ``status``, ``type`` or ``publishedAt``; order: ``asc`` / ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`; the free-form
            ``data`` of each event stays one column of dicts.
        """
        rid = resource_id(run_id, "run_id")
        query = list_query(
            "events",
            sort=sort,
            order=order,
            status=None if status is None else array_filter(status, "status", EVENT_STATUSES),
            type=None if type is None else array_filter(type, "type", EVENT_TYPES),
            startDate=None if start_date is None else rfc3339(start_date, "start_date"),
            endDate=None if end_date is None else rfc3339(end_date, "end_date"),
        )
        return self._list(
            f"/1/runs/{rid}/events",
            "events",
            query=query,
            title=f"events of run {rid}",
            page_size=page_size,
            family=OBSERVABILITY,
            keep_nested=("data",),
        )

    def get_event(self, run_id: str, event_id: str) -> dict[str, Any]:
        """One event (``GET /1/runs/{runID}/events/{eventID}``)."""
        rid = resource_id(run_id, "run_id")
        eid = resource_id(event_id, "event_id")
        return self._object("GET", f"/1/runs/{rid}/events/{eid}", family=OBSERVABILITY, job_id=rid)
