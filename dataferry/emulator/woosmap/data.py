"""The Woosmap emulator's data: the namespace of its deterministic ids, the datasets that exist
from the start, and the point features an import loads (shops around Montpellier, as in the
spec's examples)."""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataferry.emulator.woosmap.state import Dataset, Run

NAMESPACE = uuid.UUID("5b3f3c1e-8a59-4c7e-9a51-6f1d9c0e2b77")
"""Namespace of the emulator's deterministic ids."""

CENTRE = (3.8767, 43.6108)
"""Longitude, latitude around which generated features lie (Montpellier, as in the spec's examples)."""

CATEGORIES = ("bakery", "café", "pharmacy", "bookshop", "florist", "épicerie")
"""Categories of the generated features."""

STREETS = ("Rue de la Loge", "Boulevard du Jeu de Paume", "Rue Foch", "Avenue de Toulouse", "Place de la Comédie")
"""Streets the generated features are named after."""

PRELOADED_NAMES = ("Stores — France", "Parking lots", "Delivery zones", "Charging stations", "Pharmacies")
"""Names of the datasets that exist from the start."""


def features_of(dataset: Dataset, run: Run) -> list[dict[str, Any]]:
    """The features ``run`` loaded into ``dataset`` (the same run, the same features)."""
    rng = random.Random(run.seed)
    out = []
    for i in range(run.features):
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        lng = round(CENTRE[0] + rng.uniform(-0.05, 0.05), 6)
        lat = round(CENTRE[1] + rng.uniform(-0.035, 0.035), 6)
        out.append(
            {
                "id": str(uuid.uuid5(NAMESPACE, f"feature/{dataset.id}/{i}")),
                "geometry": {"type": "Point", "coordinates": [lng, lat]},
                "attributes": {
                    "name": f"{category.capitalize()} {STREETS[i % len(STREETS)]} #{i + 1}",
                    "category": category,
                    "cost": round(rng.uniform(5, 80), 2),
                    "opening_year": rng.randint(1990, 2025),
                    "accessible": rng.random() < 0.7,
                    "city": "Montpellier",
                },
            }
        )
    return out
