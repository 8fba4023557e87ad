"""The generic handlers of the four Algolia resources: list (with filters), create, search, get,
update (merged, then checked whole) and delete, each driven by the resource's row in
:data:`~dataferry.emulator.algolia.resources.RESOURCES` (the route passes its ``kind``)."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from dataferry.emulator.algolia import query, rules
from dataferry.emulator.algolia.resources import RESOURCES, Resource
from dataferry.emulator.algolia.runs import new_uuid
from dataferry.emulator.algolia.state import AlgoliaState, locked


class CrudHandlers(AlgoliaState):
    """``/1/authentications``, ``/1/destinations``, ``/1/sources`` and ``/1/tasks``."""

    @locked
    def list_resources(self, request: Request, kind: str) -> Response:
        resource = RESOURCES[kind]
        wanted = []
        for f in resource.filters:
            values, problem = query.boolean(request, f.name) if f.boolean else query.multi(request, f.name, f.allowed)
            if problem:
                return self.error(400, problem)
            if values is not None:
                wanted.append((f.value, values))
        views = [
            self.view(kind, r) for r in self.store[kind].values() if all(value(r) in values for value, values in wanted)
        ]
        return self.answer(*query.page(request, kind, views))

    @locked
    def create_resource(self, request: Request, kind: str) -> Response:
        resource = RESOURCES[kind]
        body, problem = query.body(request)
        problem = problem or resource.create_problem(self.store, body)
        if problem:
            return self.error(400, problem)
        stamp = rules.iso(self.now())
        rid = new_uuid(self.rng)
        record = {resource.id_field: rid, **resource.new_record(body), "createdAt": stamp, "updatedAt": stamp}
        self.store[kind][rid] = record
        return self.json(_echo(resource, record, "createdAt"))

    @locked
    def search_resources(self, request: Request, kind: str) -> Response:
        body, problem = query.body(request)
        if problem:
            return self.error(400, problem)
        field = f"{RESOURCES[kind].noun}IDs"
        problem = rules.first(
            lambda: rules.unknown_fields(body, (field,)),
            lambda: rules.required_fields(body, (field,)),
            lambda: (
                None
                if isinstance(body[field], list) and all(isinstance(i, str) for i in body[field])
                else f"{field} must be an array of strings"
            ),
        )
        if problem:
            return self.error(400, problem)
        found = [self.view(kind, self.store[kind][i]) for i in dict.fromkeys(body[field]) if i in self.store[kind]]
        return self.json(found)

    @locked
    def get_resource(self, request: Request, kind: str, rid: str) -> Response:
        record = self.store[kind].get(rid)
        if record is None:
            return self.missing(kind, rid)
        return self.json(self.view(kind, record))

    @locked
    def update_resource(self, request: Request, kind: str, rid: str) -> Response:
        resource = RESOURCES[kind]
        record = self.store[kind].get(rid)
        if record is None:
            return self.missing(kind, rid)
        body, problem = query.body(request)
        if problem:
            return self.error(400, problem)
        changes, problem = resource.update(self.store, record, body)
        if problem:
            return self.error(400, problem)
        record.update(changes, updatedAt=rules.iso(self.now()))
        return self.json(_echo(resource, record, "updatedAt"))

    @locked
    def delete_resource(self, request: Request, kind: str, rid: str) -> Response:
        if rid not in self.store[kind]:
            return self.missing(kind, rid)
        users = self._users_of(RESOURCES[kind], rid)
        if users:
            return self.error(400, f"{RESOURCES[kind].noun} '{rid}' is used by {users}; update or delete them first")
        del self.store[kind][rid]
        self.streams.pop(rid, None)
        return self.json({"deletedAt": rules.iso(self.now())})

    def _users_of(self, resource: Resource, rid: str) -> str:
        """The resources that name ``rid``, as a message."""
        names = []
        for kind in resource.used_by:
            user = RESOURCES[kind]
            names += [
                f"{user.noun} '{r[user.label]}'" for r in self.store[kind].values() if r.get(resource.id_field) == rid
            ]
        return ", ".join(names)


def _echo(resource: Resource, record: dict[str, object], stamp: str) -> dict[str, object]:
    """A create or update answer: the id, the echoed fields and the time."""
    return {
        resource.id_field: record[resource.id_field],
        **{f: record[f] for f in resource.answer},
        stamp: record[stamp],
    }
