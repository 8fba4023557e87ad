"""The myTracker emulator's URL map: the raw export API, and the file downloads its links
point at."""

from __future__ import annotations

from dataferry.emulator.app import Route

RAW = "/api/raw/v1/export"

ROUTES: list[Route] = [
    Route(f"{RAW}/create.json", ["POST"], "create"),
    Route(f"{RAW}/get.json", ["GET"], "get"),
    Route(f"{RAW}/cancel.json", ["GET", "POST"], "cancel"),
    Route("/storage/download/raw/<name>", ["GET"], "download"),
]
"""Every endpoint of the emulator."""
