"""Tasks: what moves records from a source to a destination, and when (``/1/tasks``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dataferry.errors import InvalidArgument
from dataferry.listing import Listing
from dataferry.providers.algolia.base import IngestionBase
from dataferry.providers.algolia.enums import ACTIONS, TRIGGER_TYPES
from dataferry.providers.algolia.params import (
    PAGE_SIZE,
    array_filter,
    boolean,
    choice,
    flag,
    id_list,
    list_query,
    resource_id,
    rfc3339,
    run_path,
)
from dataferry.providers.algolia.run import Run
from dataferry.providers.algolia.triggers import cron_problem, trigger_input

MAPPING_FORMAT = "mappingkit/v1"
"""The only ``mapping.format`` of a streaming task input."""


def threshold(value: Any) -> int:
    """``failureThreshold``: the percentage of failures a run may have and still succeed.

    Example:
        >>> threshold(5)
        5
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidArgument(f"failure_threshold must be an integer percentage from 0 to 100, got {value!r}")
    return value


def task_input(value: Any) -> dict[str, Any]:
    """Check a task ``input``: ``{"mapping": ...}`` (streaming), ``{"streams": ...}``
    (Docker) or ``{"metafields": [...], "market": {...}}`` (Shopify).

    Raises:
        InvalidArgument: naming the field that is missing or wrong.

    Example:
        >>> task_input({"streams": {"tickets": {"selected": True}}})
        {'streams': {'tickets': {'selected': True}}}
    """
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"input must be an object (a dict), got {type(value).__name__}")
    value = dict(value)
    if "mapping" in value:
        extra = set(value) - {"mapping"}
        if extra:
            raise InvalidArgument(f"input.{min(extra)} is not a field of a streaming input (only mapping)")
        mapping = value["mapping"]
        if not isinstance(mapping, Mapping) or mapping.get("format") != MAPPING_FORMAT:
            raise InvalidArgument(f"input.mapping.format must be {MAPPING_FORMAT!r}")
        if not isinstance(mapping.get("actions"), list):
            raise InvalidArgument("input.mapping.actions must be a list of mapping actions")
        return value
    if "streams" in value:
        if not isinstance(value["streams"], Mapping):
            raise InvalidArgument("input.streams must be an object (the selected streams)")
        return value
    if "metafields" in value or "market" in value:
        for name in ("metafields", "market"):
            if name not in value:
                raise InvalidArgument(f"input.{name} is required for a Shopify task input")
        extra = set(value) - {"metafields", "market"}
        if extra:
            raise InvalidArgument(f"input.{min(extra)} is not a field of a Shopify task input")
        fields = value["metafields"]
        if not isinstance(fields, list) or any(
            not isinstance(m, Mapping) or not all(isinstance(m.get(k), str) for k in ("namespace", "key", "value"))
            for m in fields
        ):
            raise InvalidArgument("input.metafields must be a list of {namespace, key, value} strings")
        market = value["market"]
        if not isinstance(market, Mapping) or any(
            not isinstance(market.get(k), list) for k in ("countries", "currencies", "locales")
        ):
            raise InvalidArgument("input.market needs the lists countries, currencies and locales")
        return value
    raise InvalidArgument(
        "input must be a streaming input {'mapping': ...}, a Docker input {'streams': ...} "
        "or a Shopify input {'metafields': [...], 'market': {...}}"
    )


class Tasks(IngestionBase):
    """``/1/tasks``: list, create, get, update, delete, search, run, enable, disable."""

    def tasks(
        self,
        *,
        action: Any = None,
        enabled: bool | None = None,
        source_id: Any = None,
        destination_id: Any = None,
        trigger_type: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """Every task, all pages (``GET /1/tasks``).

        Args:
            action: ``replace``, ``save``, ``partial``, ``append`` or a list of them.
            enabled: only enabled (``True``) or disabled (``False``) tasks.
            source_id, destination_id: one id or a list.
            trigger_type: ``onDemand``, ``schedule``, ``subscription``, ``streaming`` or a list.
            sort: ``enabled``, ``triggerType``, ``action``, ``updatedAt`` or ``createdAt``.
            order: ``asc`` or ``desc``.
            page_size: items per request (1–100).

        Returns:
            A :class:`~dataferry.listing.Listing`.

        Example::

            ing.tasks(enabled=True).to_pandas()
        """
        query = list_query(
            "tasks",
            sort=sort,
            order=order,
            action=None if action is None else array_filter(action, "action", ACTIONS),
            enabled=None if enabled is None else boolean(enabled, "enabled"),
            sourceID=None if source_id is None else array_filter(source_id, "source_id"),
            destinationID=None if destination_id is None else array_filter(destination_id, "destination_id"),
            triggerType=None if trigger_type is None else array_filter(trigger_type, "trigger_type", TRIGGER_TYPES),
        )
        return self._list("/1/tasks", "tasks", query=query, title="tasks", page_size=page_size)

    def create_task(
        self,
        source_id: str,
        destination_id: str,
        *,
        action: str,
        trigger: Any = "onDemand",
        cron: str | None = None,
        enabled: bool | None = None,
        failure_threshold: int | None = None,
        input: Any = None,
        cursor: Any = None,
    ) -> dict[str, Any]:
        """Create a task (``POST /1/tasks``).

        Args:
            source_id, destination_id: where records come from and go to.
            action: ``replace``, ``save``, ``partial`` or ``append``.
            trigger: ``"onDemand"`` (default), ``"schedule"`` (with ``cron=``),
                ``"subscription"``, ``"streaming"``, a typed trigger (``Schedule(cron=...)``)
                or a dict.
            cron: the schedule for ``trigger="schedule"``, e.g. ``"0 6 * * *"``.
            enabled: create it enabled (Algolia's default) or disabled.
            failure_threshold: the percentage of failed records a run may have and still
                succeed (0–100).
            input: the task input (streaming mapping, Docker streams, Shopify metafields).
            cursor: the date of the last cursor.

        Returns:
            ``{"taskID", "createdAt"}``.

        Raises:
            InvalidArgument: a missing or wrong field (named), before anything is sent.

        Example::

            ing.create_task(src, dst, action="replace", trigger="schedule", cron="0 6 * * *")
        """
        body: dict[str, Any] = {
            "sourceID": resource_id(source_id, "source_id"),
            "destinationID": resource_id(destination_id, "destination_id"),
            "trigger": trigger_input(trigger, cron=cron),
            "action": choice(action, ACTIONS, "action"),
        }
        if enabled is not None:
            body["enabled"] = flag(enabled, "enabled")
        if failure_threshold is not None:
            body["failureThreshold"] = threshold(failure_threshold)
        if input is not None:
            body["input"] = task_input(input)
        if cursor is not None:
            body["cursor"] = rfc3339(cursor, "cursor")
        return self._object("POST", "/1/tasks", body=body, idempotent=False)

    def task(self, task_id: str) -> Task:
        """A handle on an existing task; nothing is sent until it is used.

        Raises:
            InvalidArgument: ``task_id`` is not an id.

        Example::

            ing.task("6c02aeb1-775e-418e-870b-1faccd4b2c0f").run().wait()
        """
        return Task(self, resource_id(task_id, "task_id"))

    def get_task(self, task_id: str) -> Task:
        """The task with its details read now (``GET /1/tasks/{id}``); they are in ``.info``.

        Raises:
            NotFound: no task with this id.

        Example::

            ing.get_task(task_id).info["trigger"]
        """
        return self.task(task_id).refresh()

    def update_task(
        self,
        task_id: str,
        *,
        destination_id: str | None = None,
        cron: str | None = None,
        input: Any = None,
        enabled: bool | None = None,
        failure_threshold: int | None = None,
    ) -> dict[str, Any]:
        """Change a task (``PATCH /1/tasks/{id}``); only what is given.

        Args:
            task_id: the task.
            destination_id: a new destination.
            cron: a new schedule (scheduled tasks).
            input: a new task input.
            enabled: enable or disable it.
            failure_threshold: a new threshold (0–100).

        Returns:
            ``{"taskID", "updatedAt"}``.
        """
        tid = resource_id(task_id, "task_id")
        body: dict[str, Any] = {}
        if destination_id is not None:
            body["destinationID"] = resource_id(destination_id, "destination_id")
        if cron is not None:
            problem = cron_problem(cron) if isinstance(cron, str) else f"must be a string, got {cron!r}"
            if problem:
                raise InvalidArgument(f"cron {problem}")
            body["trigger"] = {"cron": cron}
        if input is not None:
            body["input"] = task_input(input)
        if enabled is not None:
            body["enabled"] = flag(enabled, "enabled")
        if failure_threshold is not None:
            body["failureThreshold"] = threshold(failure_threshold)
        if not body:
            raise InvalidArgument(
                "nothing to update: give destination_id=, cron=, input=, enabled= or failure_threshold="
            )
        return self._object("PATCH", f"/1/tasks/{tid}", body=body, idempotent=True)

    def delete_task(self, task_id: str) -> dict[str, Any]:
        """Delete a task (``DELETE /1/tasks/{id}``) → ``{"deletedAt"}``."""
        tid = resource_id(task_id, "task_id")
        return self._object("DELETE", f"/1/tasks/{tid}")

    def search_tasks(self, task_ids: Any) -> Listing:
        """The tasks with these ids (``POST /1/tasks/search``)."""
        ids = id_list(task_ids, "task_ids")
        return self._search("/1/tasks/search", "taskIDs", ids, title="tasks found")

    def enable_task(self, task_id: str) -> dict[str, Any]:
        """Enable a task (``PUT /1/tasks/{id}/enable``) → ``{"taskID", "updatedAt"}``."""
        tid = resource_id(task_id, "task_id")
        return self._object("PUT", f"/1/tasks/{tid}/enable")

    def disable_task(self, task_id: str) -> dict[str, Any]:
        """Disable a task (``PUT /1/tasks/{id}/disable``) → ``{"taskID", "updatedAt"}``."""
        tid = resource_id(task_id, "task_id")
        return self._object("PUT", f"/1/tasks/{tid}/disable")

    def run_task(self, task_id: str) -> Run:
        """Run a task now (``POST /1/tasks/{id}/run``).

        The call is never re-sent after it may have reached Algolia (a second run could
        start); a 429 is waited out, since it started nothing.

        Returns:
            The :class:`~dataferry.providers.algolia.run.Run`; ``.wait()`` on it.

        Raises:
            ApiError: Algolia accepted the run but its answer has no ``runID``.

        Example::

            run = ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f")
            run.wait()
        """
        tid = resource_id(task_id, "task_id")
        response = self.http.request("POST", run_path(tid), idempotent=False, job_id=tid)
        answer = self._safe(self.http.json_of(response))
        run_id = answer.get("runID") if isinstance(answer, dict) else None
        if not isinstance(run_id, str) or not run_id:
            raise self.http.missing(answer, "runID", what=f"the run of task {tid}", response=response, job_id=tid)
        return Run(self, run_id, task_id=tid, created_at=answer.get("createdAt"), triggered=True)


class Task:
    """One ingestion task: the handle :meth:`Client.task` returns (no request) and
    :meth:`Client.get_task` returns with its details read.

    Attributes:
        id: the task's UUID.
        client: the :class:`~dataferry.providers.algolia.client.Client`.
        info: the task as Algolia last described it, or ``None`` before :meth:`refresh`.

    Example::

        task = ing.task("6c02aeb1-775e-418e-870b-1faccd4b2c0f")
        task.run().wait()
        task.runs().to_pandas()
        ing.get_task(task_id).info["trigger"]
    """

    def __init__(self, client: Any, task_id: str, info: dict[str, Any] | None = None) -> None:
        self.client = client
        self.id = task_id
        self.info = info

    def refresh(self) -> Task:
        """Read the task's details (``GET /1/tasks/{id}``) into :attr:`info`; returns ``self``."""
        self.info = self.client._object("GET", f"/1/tasks/{self.id}")
        return self

    def run(self) -> Run:
        """Run the task now (see :meth:`Client.run_task`)."""
        return self.client.run_task(self.id)

    def runs(
        self,
        *,
        status: Any = None,
        start_date: Any = None,
        end_date: Any = None,
        sort: str | None = None,
        order: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Listing:
        """The task's runs, all pages (see :meth:`Client.runs` for the filters)."""
        return self.client.runs(
            task_id=self.id,
            status=status,
            start_date=start_date,
            end_date=end_date,
            sort=sort,
            order=order,
            page_size=page_size,
        )

    def update(self, **changes: Any) -> dict[str, Any]:
        """Change the task (see :meth:`Client.update_task`)."""
        return self.client.update_task(self.id, **changes)

    def enable(self) -> dict[str, Any]:
        """Enable the task."""
        return self.client.enable_task(self.id)

    def disable(self) -> dict[str, Any]:
        """Disable the task."""
        return self.client.disable_task(self.id)

    def delete(self) -> dict[str, Any]:
        """Delete the task."""
        return self.client.delete_task(self.id)

    def __repr__(self) -> str:
        if not self.info:
            return f"<algolia task {self.id}>"
        shown = ", ".join(f"{k}={self.info[k]!r}" for k in ("action", "enabled") if k in self.info)
        return f"<algolia task {self.id}: {shown}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("algolia-task", self.id))
