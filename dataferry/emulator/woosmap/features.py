"""The Woosmap feature handlers: ``search`` / ``nearby`` / ``intersects`` / ``contains`` /
``within`` queries over the features of a dataset's last successful import, and one feature
by id (``X-Field-Mask`` honoured), as GeoJSON or WKB."""

from __future__ import annotations

import base64
import struct
from typing import Any

from werkzeug.wrappers import Request, Response

from dataferry.emulator.woosmap import validation
from dataferry.emulator.woosmap.data import features_of
from dataferry.emulator.woosmap.filters import parse_geometry, parse_where, select
from dataferry.emulator.woosmap.state import FEATURE_NOT_FOUND, MESSAGES, WoosmapState


class FeatureHandlers(WoosmapState):
    """``/datasets/{id}/features/{kind}/`` and ``/datasets/{id}/features/{feature_id}``."""

    def query_features(self, request: Request, dataset_id: str, kind: str) -> Response:
        problems = validation.uuid_problems(dataset_id, "dataset_id")
        paging, paging_problems = validation.paging(request, with_format=True)
        problems += paging_problems
        body, body_problems = validation.body(request)
        problems += body_problems
        geometry = where = None
        buffer = None
        if body is not None:
            where_text = body.get("where")
            if kind == "search" and "where" not in body:
                problems.append(validation.missing(["body", "where"]))
            elif "where" in body:  # a string, not nullable in the spec: an explicit null is refused
                if not isinstance(where_text, str):
                    problems.append(
                        validation.problem(["body", "where"], "Input should be a valid string", "string_type")
                    )
                else:
                    try:
                        where = parse_where(where_text)
                    except ValueError as exc:
                        problems.append(validation.problem(["body", "where"], str(exc), "value_error"))
            if kind != "search":
                if "geometry" not in body:
                    problems.append(validation.missing(["body", "geometry"]))
                else:
                    try:
                        geometry = parse_geometry(body["geometry"], polygon_only=kind == "within")
                    except ValueError as exc:
                        problems.append(validation.problem(["body", "geometry"], str(exc), "value_error"))
                raw_buffer = body.get("buffer")
                if raw_buffer is not None:
                    if isinstance(raw_buffer, bool) or not isinstance(raw_buffer, (int, float)):
                        problems.append(
                            validation.problem(["body", "buffer"], "Input should be a valid number", "float_type")
                        )
                    else:
                        buffer = float(raw_buffer)
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        if dataset is None:
            return self.error(404, MESSAGES[404])
        run = dataset.live_run(self.now())
        features = features_of(dataset, run) if run is not None else []
        if where is not None:
            features = [f for f in features if where(f["attributes"])]
        if geometry is not None:
            features = select(features, kind, geometry, buffer)
        chunk, pagination = validation.page(features, paging["page"], paging["per_page"])
        return self.json({"features": [_shaped(f, paging["format"]) for f in chunk], "pagination": pagination})

    def get_feature(self, request: Request, dataset_id: str, feature_id: str) -> Response:
        problems = validation.uuid_problems(dataset_id, "dataset_id") + validation.uuid_problems(
            feature_id, "feature_id"
        )
        paging, paging_problems = validation.paging(request, with_format=True)
        problems += paging_problems
        if problems:
            return self.invalid(problems)
        dataset = self._dataset(dataset_id)
        run = dataset.live_run(self.now()) if dataset is not None else None
        found = None
        if dataset is not None and run is not None:
            found = next((f for f in features_of(dataset, run) if f["id"] == feature_id.lower()), None)
        if found is None:
            return self.error(404, FEATURE_NOT_FOUND)
        mask = request.headers.get("X-Field-Mask")
        if mask:
            keep = {m.strip().removeprefix("attributes.") for m in mask.split(",") if m.strip()}
            found = {**found, "attributes": {k: v for k, v in found["attributes"].items() if k in keep}}
        return self.json(_shaped(found, paging["format"]))


def _shaped(feature: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A feature in the asked format (WKB: its point, base64-encoded)."""
    if fmt == "wkb":
        lng, lat = feature["geometry"]["coordinates"]
        wkb = struct.pack("<BIdd", 1, 1, lng, lat)
        return {**feature, "geometry": base64.b64encode(wkb).decode()}
    return feature
