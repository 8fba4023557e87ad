"""What Algolia sources do besides CRUD: validate a source or a change to one (sample records, or
the events of a failed fetch), and discover a Docker source's streams."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.algolia import query, rules
from dataferry.emulator.algolia.resources import source_create_problem, source_update
from dataferry.emulator.algolia.runs import new_uuid
from dataferry.emulator.algolia.state import AlgoliaState, locked
from dataferry.emulator.data import CATEGORIES, TITLES


class SourceHandlers(AlgoliaState):
    """``/1/sources/validate``, ``/1/sources/{id}/validate`` and ``/1/sources/{id}/discover``."""

    @locked
    def validate_source(self, request: Request) -> Response:
        body, problem = query.body(request)
        problem = problem or source_create_problem(self.store, body)
        if problem:
            return self.error(400, problem)
        return self.json(self._watch(body, "validated"))

    @locked
    def validate_source_update(self, request: Request, rid: str) -> Response:
        record = self.store["sources"].get(rid)
        if record is None:
            return self.missing("sources", rid)
        body, problem = query.body(request)
        if problem:
            return self.error(400, problem)
        merged, problem = source_update(self.store, record, body)
        if problem:
            return self.error(400, problem)
        return self.json(self._watch({**record, **merged}, "validated"))

    @locked
    def discover_source(self, request: Request, rid: str) -> Response:
        record = self.store["sources"].get(rid)
        if record is None:
            return self.missing("sources", rid)
        if record["type"] != "docker" or record["input"].get("imageType") != "singer":
            return self.error(
                400,
                "Triggering stream-listing requests only works with sources with type: docker and imageType: singer",
            )
        image = str(record["input"].get("image", "connector")).rsplit("/", 1)[-1]
        streams = [
            {"name": f"{image}_{name}", "schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"]}
            for name in ("items", "users", "events")
        ]
        self.streams[rid] = streams
        return self.json({"runID": new_uuid(self.rng), "data": streams, "message": "stream listing completed"})

    @locked
    def source_streams(self, request: Request, rid: str) -> Response:
        if rid not in self.store["sources"]:
            return self.missing("sources", rid)
        if rid not in self.streams:
            return self.error(
                404, f"no stream listing for source '{rid}' yet: trigger one with POST /1/sources/{rid}/discover"
            )
        return self.json({"streams": self.streams[rid]})

    def _watch(self, source: dict[str, Any], message: str) -> dict[str, Any]:
        """A ``SourceWatchResponse``: sample records, or the events of a failed fetch."""
        run_id = new_uuid(self.rng)
        where = (source.get("input") or {}).get("url") or f"{source['type']} source"
        if "critical" in f"{source.get('name', '')} {where}".lower():
            now = self.now()
            event = {
                "eventID": new_uuid(self.rng),
                "runID": run_id,
                "status": "critical",
                "type": "fetch",
                "batchSize": 0,
                "data": {"message": f"GET {where}: 404 Not Found"},
                "publishedAt": rules.iso(now),
            }
            return {"runID": run_id, "events": [event], "message": f"failed to fetch {where}: 404 Not Found"}
        sample = [
            {
                "objectID": f"sku-{k:05d}",
                "name": TITLES[k % len(TITLES)],
                "category": CATEGORIES[k % len(CATEGORIES)],
                "price": round(4.5 + 3 * k, 2),
            }
            for k in range(1, 4)
        ]
        return {"runID": run_id, "data": sample, "message": message}
