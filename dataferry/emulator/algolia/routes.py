"""The Algolia emulator's URL map: the same six routes for each resource of
:data:`~dataferry.emulator.algolia.resources.RESOURCES` (their handlers told the ``kind``), then
the sources', tasks' and runs' own."""

from __future__ import annotations

from dataferry.emulator.algolia.resources import RESOURCES
from dataferry.emulator.app import Route

ROUTES: list[Route] = [
    route
    for kind in RESOURCES
    for route in (
        Route(f"/1/{kind}", ["GET"], "list_resources", {"kind": kind}),
        Route(f"/1/{kind}", ["POST"], "create_resource", {"kind": kind}),
        Route(f"/1/{kind}/search", ["POST"], "search_resources", {"kind": kind}),
        Route(f"/1/{kind}/<rid>", ["GET"], "get_resource", {"kind": kind}),
        Route(f"/1/{kind}/<rid>", ["PATCH"], "update_resource", {"kind": kind}),
        Route(f"/1/{kind}/<rid>", ["DELETE"], "delete_resource", {"kind": kind}),
    )
] + [
    Route("/1/sources/validate", ["POST"], "validate_source"),
    Route("/1/sources/<rid>/validate", ["POST"], "validate_source_update"),
    Route("/1/sources/<rid>/discover", ["POST"], "discover_source"),
    Route("/1/sources/<rid>/discover", ["GET"], "source_streams"),
    Route("/1/tasks/<rid>/run", ["POST"], "run_task"),
    Route("/1/tasks/<rid>/enable", ["PUT"], "set_task_enabled", {"enabled": True}),
    Route("/1/tasks/<rid>/disable", ["PUT"], "set_task_enabled", {"enabled": False}),
    Route("/1/runs", ["GET"], "list_runs"),
    Route("/1/runs/<rid>", ["GET"], "get_run"),
    Route("/1/runs/<rid>/events", ["GET"], "list_events"),
    Route("/1/runs/<rid>/events/<eid>", ["GET"], "get_event"),
]
"""Every endpoint of the emulator."""
