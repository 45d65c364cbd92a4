"""A small RFC 7946 checker, written from the RFC (not from siting's writer)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path


def _signed_area(ring) -> float:
    s = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def _positions(coords):
    if coords and isinstance(coords[0], int | float):
        yield coords
    else:
        for c in coords:
            yield from _positions(c)


def _polygons(geom):
    if geom["type"] == "Polygon":
        yield geom["coordinates"]
    elif geom["type"] == "MultiPolygon":
        yield from geom["coordinates"]


def problems(path) -> list[str]:
    """Return a list of RFC 7946 violations (empty when the file conforms)."""
    text = Path(path).read_text(encoding="utf-8")

    def no_constant(name):
        raise ValueError(f"non-JSON number {name}")

    doc = json.loads(text, parse_constant=no_constant)
    out = []
    if doc.get("type") != "FeatureCollection":
        out.append("top level is not a FeatureCollection")
    crs = doc.get("crs")
    if crs and "CRS84" not in json.dumps(crs):
        out.append(f"crs member other than CRS84: {crs}")
    for i, f in enumerate(doc.get("features", [])):
        g = f.get("geometry")
        if f.get("type") != "Feature" or "properties" not in f:
            out.append(f"feature {i} malformed")
        if g is None:
            continue
        for lon, lat, *_ in _positions(g["coordinates"]):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                out.append(f"feature {i}: position {lon}, {lat} out of range")
                break
            if round(lon, 7) != lon or round(lat, 7) != lat:
                out.append(f"feature {i}: position {lon}, {lat} has more than 7 decimals")
                break
        for poly in _polygons(g):
            for k, ring in enumerate(poly):
                if ring[0] != ring[-1] or len(ring) < 4:
                    out.append(f"feature {i}: ring {k} not closed or too short")
                area = _signed_area(ring)
                if (k == 0 and area <= 0) or (k > 0 and area >= 0):
                    out.append(f"feature {i}: ring {k} has the wrong winding")
    return out
