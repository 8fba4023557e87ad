"""The Woosmap dataset handlers: list, create, get, update and delete (scheduled for deletion
in 7 days), the import status, and the two ways to start an import (the API and the reimport
hook, which needs no key)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.woosmap import validation
from dataferry.emulator.woosmap.data import NAMESPACE
from dataferry.emulator.woosmap.state import MESSAGES, NO_RUN_MESSAGE, Dataset, WoosmapState

DELETION_DELAY_DAYS = 7
"""Days after which a dataset scheduled for deletion is removed (spec: "in 7 days")."""


class DatasetHandlers(WoosmapState):
    """``/datasets/``, ``/datasets/{id}``, ``/status``, ``/import`` and ``/datasets/hooks/reimport/{key}``."""

    # -- datasets -----------------------------------------------------------------------------
    def list_datasets(self, request: Request) -> Response:
        paging, problems = validation.paging(request)
        if problems:
            return self.invalid(problems)
        with self.lock:
            rows = [d.summary() for d in sorted(self.datasets.values(), key=lambda d: d.created_at)]
        chunk, pagination = validation.page(rows, paging["page"], paging["per_page"])
        return self.json({"datasets": chunk, "pagination": pagination})

    def create_dataset(self, request: Request) -> Response:
        body, problems = validation.body(request)
        if body is not None:
            problems = validation.create_problems(body)
        if problems:
            return self.invalid(problems)
        now = self.now()
        with self.lock:
            did = self._new_id("dataset", body["name"], body["url"])
            dataset = Dataset(
                did,
                body["name"],
                body["url"].strip(),
                body.get("schema_mapping"),
                str(uuid.uuid5(NAMESPACE, f"reimport/{did}")),
                now,
            )
            self.datasets[did] = dataset
        return self.json(dataset.response())

    def _existing(self, dataset_id: str) -> tuple[Any, Response | None]:
        """The dataset for a path id, or the 422 (not a UUID) / 404 answer."""
        problems = validation.uuid_problems(dataset_id, "dataset_id")
        if problems:
            return None, self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return None, self.error(404, MESSAGES[404])
        return dataset, None

    def get_dataset(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        return self.json(dataset.response())

    def update_dataset(self, request: Request, dataset_id: str) -> Response:
        problems = validation.uuid_problems(dataset_id, "dataset_id")
        body, body_problems = validation.body(request)
        problems += body_problems
        if body is not None:
            if body.get("name") is not None and not isinstance(body["name"], str):
                problems.append(validation.problem(["body", "name"], "Input should be a valid string", "string_type"))
            if body.get("url") is not None:
                problems += validation.url_problems(body["url"], ["body", "url"])
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        with self.lock:
            changed = False
            for name in ("name", "url"):
                value = body.get(name)
                if value is not None and value != getattr(dataset, name):
                    setattr(dataset, name, value.strip() if name == "url" else value)
                    changed = True
            if changed:
                dataset.updated_at = self.now()
        return self.json(dataset.response())

    def delete_dataset(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        with self.lock:
            if dataset.deletion_date is not None:
                return self.error(409, MESSAGES[409])
            when = datetime.fromtimestamp(self.now(), tz=UTC) + timedelta(days=DELETION_DELAY_DAYS)
            dataset.deletion_date = when.date().isoformat()
        return self.json({})

    # -- imports -------------------------------------------------------------------------------
    def dataset_status(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        now = self.now()
        run = dataset.current_run(now)
        if run is None:
            return self.error(404, NO_RUN_MESSAGE)
        return self.json(run.view(now))

    def trigger_import(self, request: Request, dataset_id: str) -> Response:
        dataset, refusal = self._existing(dataset_id)
        if refusal is not None:
            return refusal
        return self._start_import(dataset)

    def reimport_hook(self, request: Request, reimport_key: str) -> Response:
        refused = self.throttle("reimport", reimport_key, request)
        if refused is not None:
            return refused
        problems = validation.uuid_problems(reimport_key, "reimport_key")
        if problems:
            return self.invalid(problems)
        dataset = next((d for d in self.datasets.values() if d.reimport_key == reimport_key.lower()), None)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        return self._start_import(dataset)

    def _start_import(self, dataset: Dataset) -> Response:
        with self.lock:
            dataset.runs.append(self._plan(dataset, self.now()))
        return self.json({"dataset_id": dataset.id}, 202)
