"""The Woosmap emulator's URL map (list and create with or without the trailing slash), and the
rate-limit group of each endpoint."""

from __future__ import annotations

from dataferry.emulator.app import Route

ONE = "/datasets/<dataset_id>"

ROUTES: list[Route] = [
    Route("/datasets/", ["GET"], "list_datasets"),
    Route("/datasets/", ["POST"], "create_dataset"),
    Route("/datasets/hooks/reimport/<reimport_key>", ["POST"], "reimport_hook"),
    Route(ONE, ["GET"], "get_dataset"),
    Route(ONE, ["PUT"], "update_dataset"),
    Route(ONE, ["DELETE"], "delete_dataset"),
    Route(f"{ONE}/status", ["GET"], "dataset_status"),
    Route(f"{ONE}/import", ["POST"], "trigger_import"),
    Route(f"{ONE}/features/<any(search, nearby, intersects, contains, within):kind>/", ["POST"], "query_features"),
    Route(f"{ONE}/features/<feature_id>", ["GET"], "get_feature"),
]
"""Every endpoint of the emulator."""

ENDPOINT_GROUP = {
    "list_datasets": "list",
    "create_dataset": "create",
    "get_dataset": "get",
    "update_dataset": "update",
    "delete_dataset": "delete",
    "dataset_status": "status",
    "trigger_import": "import",
    "reimport_hook": "reimport",
    "query_features": "features",
    "get_feature": "features",
}
"""Route handler → rate-limit group."""

FEATURE_ENDPOINTS = frozenset({"query_features", "get_feature"})
"""Endpoints that also take a read-only private key or a public key."""
