"""Authentications, destinations and sources of the Algolia emulator: list with filters,
create, update (merged, then checked whole), validate and discover."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator import algolia_rules as rules
from dataferry.emulator.algolia_base import AlgoliaBase, locked
from dataferry.emulator.algolia_runs import new_uuid
from dataferry.emulator.data import CATEGORIES, TITLES


class ResourceHandlers(AlgoliaBase):
    """``/1/authentications``, ``/1/destinations`` and ``/1/sources``."""

    # -- authentications ----------------------------------------------------------------------
    @locked
    def list_authentications(self, request: Request) -> Response:
        types, problem = self._multi(request, "type", rules.AUTH_TYPES)
        platforms, problem2 = self._multi(request, "platform", (*rules.PLATFORMS, "none"))
        if problem or problem2:
            return self.error(400, problem or problem2 or "")
        items = [a for a in self.store["authentications"].values()
                 if (types is None or a["type"] in types)
                 and (platforms is None or (a.get("platform") or "none") in platforms)]
        return self._listing(request, "authentications", items)

    @locked
    def create_authentications(self, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("type", "name", "platform", "input")),
            lambda: rules.required_fields(body, ("type", "name", "input")),
            lambda: self._auth_problem(body, partial=False),
        )
        if problem:
            return self.error(400, problem)
        now = self.now()
        record = {"authenticationID": new_uuid(self._rng), "type": body["type"], "name": body["name"],
                  "platform": body.get("platform"), "input": dict(body["input"]),
                  "createdAt": rules.iso(now), "updatedAt": rules.iso(now)}
        self.store["authentications"][record["authenticationID"]] = record
        return self.json({"authenticationID": record["authenticationID"], "name": record["name"],
                          "createdAt": record["createdAt"]})

    @locked
    def update_authentications(self, request: Request, rid: str) -> Response:
        record = self.store["authentications"].get(rid)
        if record is None:
            return self._missing("authentications", rid)
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("type", "name", "platform", "input")),
            lambda: self._auth_problem(body, partial=True),
        )
        if problem:
            return self.error(400, problem)
        kind = body.get("type", record["type"])
        merged = {"type": kind, "name": body.get("name", record["name"]),
                  "platform": body.get("platform", record.get("platform")),
                  "input": dict(body["input"]) if kind != record["type"] and "input" in body else
                  {**record["input"], **body.get("input", {})}}
        problem = self._auth_problem(merged, partial=False)
        if problem:
            return self.error(400, problem)
        record.update(merged, updatedAt=rules.iso(self.now()))
        return self.json({"authenticationID": rid, "name": record["name"], "updatedAt": record["updatedAt"]})

    def _auth_problem(self, body: dict[str, Any], *, partial: bool) -> str | None:
        """Check an authentication body; ``partial``: a PATCH body, every field optional and the
        input checked for its fields' kinds only (it is merged, then checked whole)."""
        if (not partial or "type" in body) and body.get("type") not in rules.AUTH_TYPES:
            return f"type must be equal to one of the allowed values: {', '.join(rules.AUTH_TYPES)}"
        if (not partial or "name" in body) and (not isinstance(body.get("name"), str) or not body["name"]):
            return "name must be a non-empty string"
        if body.get("platform") is not None and body["platform"] not in rules.PLATFORMS:
            return f"platform must be null or one of: {', '.join(rules.PLATFORMS)}"
        if partial and "input" not in body:
            return None
        kinds = rules.AUTH_INPUTS[body["type"]] if "type" in body else \
            rules.Obj(frozenset(), {k: str for v in rules.AUTH_INPUTS.values() for k in v.fields})
        return rules.check_fields("input", body.get("input"), kinds, partial=partial)

    # -- destinations -------------------------------------------------------------------------
    @locked
    def list_destinations(self, request: Request) -> Response:
        types, problem = self._multi(request, "type", rules.DESTINATION_TYPES)
        auths, problem2 = self._multi(request, "authenticationID", None)
        if problem or problem2:
            return self.error(400, problem or problem2 or "")
        items = [d for d in self.store["destinations"].values()
                 if (types is None or d["type"] in types) and (auths is None or d.get("authenticationID") in auths)]
        return self._listing(request, "destinations", items)

    @locked
    def create_destinations(self, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("type", "name", "input", "authenticationID")),
            lambda: rules.required_fields(body, ("type", "name", "input")),
            lambda: self._destination_problem(body),
        )
        if problem:
            return self.error(400, problem)
        now = self.now()
        record = {"destinationID": new_uuid(self._rng), **body, "createdAt": rules.iso(now),
                  "updatedAt": rules.iso(now)}
        self.store["destinations"][record["destinationID"]] = record
        return self.json({"destinationID": record["destinationID"], "name": record["name"],
                          "createdAt": record["createdAt"]})

    @locked
    def update_destinations(self, request: Request, rid: str) -> Response:
        record = self.store["destinations"].get(rid)
        if record is None:
            return self._missing("destinations", rid)
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        merged = {k: v for k, v in record.items() if k in ("type", "name", "input", "authenticationID")}
        merged.update(body)
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("type", "name", "input", "authenticationID")),
            lambda: self._destination_problem(merged),
        )
        if problem:
            return self.error(400, problem)
        record.update(merged, updatedAt=rules.iso(self.now()))
        return self.json({"destinationID": rid, "name": record["name"], "updatedAt": record["updatedAt"]})

    def _destination_problem(self, body: dict[str, Any]) -> str | None:
        if body.get("type") not in rules.DESTINATION_TYPES:
            return f"type must be equal to one of the allowed values: {', '.join(rules.DESTINATION_TYPES)}"
        if not isinstance(body.get("name"), str) or not body["name"]:
            return "name must be a non-empty string"
        problem = rules.destination_input_problem(body.get("input"))
        if problem:
            return problem
        if "authenticationID" in body:
            aid = body["authenticationID"]
            auth = self.store["authentications"].get(aid) if isinstance(aid, str) else None
            if auth is None:
                return f"authenticationID '{aid}' does not exist"
            wanted = "algolia" if body["type"] == "search" else "algoliaInsights"
            if auth["type"] != wanted:
                return f"a '{body['type']}' destination needs an '{wanted}' authentication, not '{auth['type']}'"
        return None

    # -- sources --------------------------------------------------------------------------------
    @locked
    def list_sources(self, request: Request) -> Response:
        types, problem = self._multi(request, "type", rules.LISTED_SOURCE_TYPES)
        auths, problem2 = self._multi(request, "authenticationID", None)
        if problem or problem2:
            return self.error(400, problem or problem2 or "")
        items = [s for s in self.store["sources"].values()
                 if (types is None or s["type"] in types)
                 and (auths is None or (s.get("authenticationID") or "none") in auths)]
        return self._listing(request, "sources", items)

    @locked
    def create_sources(self, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = self._source_create_problem(body)
        if problem:
            return self.error(400, problem)
        now = self.now()
        record = {"sourceID": new_uuid(self._rng), **body, "createdAt": rules.iso(now), "updatedAt": rules.iso(now)}
        self.store["sources"][record["sourceID"]] = record
        return self.json({"sourceID": record["sourceID"], "name": record["name"], "createdAt": record["createdAt"]})

    @locked
    def update_sources(self, request: Request, rid: str) -> Response:
        record = self.store["sources"].get(rid)
        if record is None:
            return self._missing("sources", rid)
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        merged, problem = self._source_update(record, body)
        if problem:
            return self.error(400, problem)
        record.update(merged, updatedAt=rules.iso(self.now()))
        return self.json({"sourceID": rid, "name": record["name"], "updatedAt": record["updatedAt"]})

    @locked
    def validate_source(self, request: Request) -> Response:
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        problem = self._source_create_problem(body)
        if problem:
            return self.error(400, problem)
        return self.json(self._watch(body, "validated"))

    @locked
    def validate_source_update(self, request: Request, rid: str) -> Response:
        record = self.store["sources"].get(rid)
        if record is None:
            return self._missing("sources", rid)
        body, refusal = self._body(request)
        if refusal is not None:
            return refusal
        merged, problem = self._source_update(record, body)
        if problem:
            return self.error(400, problem)
        return self.json(self._watch({**record, **merged}, "validated"))

    @locked
    def discover_source(self, request: Request, rid: str) -> Response:
        record = self.store["sources"].get(rid)
        if record is None:
            return self._missing("sources", rid)
        if record["type"] != "docker" or record["input"].get("imageType") != "singer":
            return self.error(400, "Triggering stream-listing requests only works with sources with type: docker "
                                   "and imageType: singer")
        image = str(record["input"].get("image", "connector")).rsplit("/", 1)[-1]
        streams = [{"name": f"{image}_{name}", "schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"]}
                   for name in ("items", "users", "events")]
        self.streams[rid] = streams
        return self.json({"runID": new_uuid(self._rng), "data": streams, "message": "stream listing completed"})

    @locked
    def source_streams(self, request: Request, rid: str) -> Response:
        if rid not in self.store["sources"]:
            return self._missing("sources", rid)
        if rid not in self.streams:
            return self.error(404, f"no stream listing for source '{rid}' yet: trigger one with "
                                   f"POST /1/sources/{rid}/discover")
        return self.json({"streams": self.streams[rid]})

    def _source_create_problem(self, body: dict[str, Any]) -> str | None:
        return rules.first(
            lambda: rules.unknown_fields(body, ("type", "name", "input", "authenticationID")),
            lambda: rules.required_fields(body, ("type", "name", "input")),
            lambda: None if body["type"] in rules.SOURCE_TYPES else
            f"type must be equal to one of the allowed values: {', '.join(rules.SOURCE_TYPES)}",
            lambda: None if isinstance(body["name"], str) and body["name"] else "name must be a non-empty string",
            lambda: rules.source_input_problem(body["type"], body["input"]),
            lambda: self._reference_problem(body, "authenticationID", "authentications"),
        )

    def _source_update(self, record: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        problem = rules.first(
            lambda: rules.unknown_fields(body, ("name", "input", "authenticationID")),
            lambda: None if "input" not in body else rules.source_input_problem(record["type"], body["input"],
                                                                                update=True),
            lambda: None if "name" not in body or (isinstance(body["name"], str) and body["name"]) else
            "name must be a non-empty string",
            lambda: self._reference_problem(body, "authenticationID", "authentications"),
        )
        if problem:
            return {}, problem
        merged = {k: v for k, v in body.items() if k != "input"}
        if "input" in body:
            merged["input"] = {**record["input"], **body["input"]}
            problem = rules.source_input_problem(record["type"], merged["input"])
        return merged, problem

    def _watch(self, source: dict[str, Any], message: str) -> dict[str, Any]:
        """A ``SourceWatchResponse``: sample records, or the events of a failed fetch."""
        run_id = new_uuid(self._rng)
        where = (source.get("input") or {}).get("url") or f"{source['type']} source"
        if "critical" in f"{source.get('name', '')} {where}".lower():
            now = self.now()
            event = {"eventID": new_uuid(self._rng), "runID": run_id, "status": "critical", "type": "fetch",
                     "batchSize": 0, "data": {"message": f"GET {where}: 404 Not Found"}, "publishedAt": rules.iso(now)}
            return {"runID": run_id, "events": [event], "message": f"failed to fetch {where}: 404 Not Found"}
        sample = [{"objectID": f"sku-{k:05d}", "name": TITLES[k % len(TITLES)],
                   "category": CATEGORIES[k % len(CATEGORIES)], "price": round(4.5 + 3 * k, 2)} for k in range(1, 4)]
        return {"runID": run_id, "data": sample, "message": message}

