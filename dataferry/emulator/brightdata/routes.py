"""The Bright Data emulator's URL map: the Datasets API v3, then the collectors (DCA)."""

from __future__ import annotations

from dataferry.emulator.app import Route

V3 = "/datasets/v3"

ROUTES: list[Route] = [
    Route(f"{V3}/trigger", ["POST"], "trigger"),
    Route(f"{V3}/progress/<sid>", ["GET"], "progress"),
    Route(f"{V3}/snapshot/<sid>", ["GET"], "download"),
    Route(f"{V3}/snapshot/<sid>/parts", ["GET"], "parts"),
    Route(f"{V3}/snapshot/<sid>/input", ["GET"], "input"),
    Route(f"{V3}/snapshot/<sid>/cancel", ["POST"], "cancel"),
    Route(f"{V3}/deliver/<sid>", ["POST"], "deliver"),
    Route(f"{V3}/delivery/<did>", ["GET"], "delivery"),
    Route(f"{V3}/snapshots", ["GET"], "snapshot_list"),
    Route(f"{V3}/log/<sid>", ["GET"], "log"),
    Route("/dca/trigger", ["POST"], "dca_trigger"),
    Route("/dca/dataset", ["GET"], "dca_dataset"),
]
"""Every endpoint of the emulator."""
