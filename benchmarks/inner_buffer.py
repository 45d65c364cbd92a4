"""Buffers for a land-stage ``within`` rule: GEOS's own against :func:`siting.geo.inner.inner_buffer`, on real lines.

    python benchmarks/inner_buffer.py [--realdata ../shared/realdata] [--check 100]

For TIGER primary and secondary roads and Natural Earth railways in Nevada (EPSG:5070) and radii of 1, 5 and
25 km, prints the seconds and the memory each way adds at its peak, the area kept, and how far each buffer
reaches beyond its radius: the boundary of every buffer of the ``--check`` features with the most vertices, a
point every 0.1 % of the radius, measured to its own feature with exact planar distances.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import psutil
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measure, table

from siting.core.progress import release_memory
from siting.geo.ground import QUAD_SEGS
from siting.geo.inner import inner_buffer
from siting.geo.parallel import chunked

LAYERS = {"TIGER roads": "tiger_roads_nv/tl_2016_32_prisecroads.shp",
          "Natural Earth rail": "natural_earth/ne_10m_railroads_nv.geojson"}
RADII = (1_000.0, 5_000.0, 25_000.0)


def _lines(path: Path) -> np.ndarray:
    frame = pyogrio.read_dataframe(path).to_crs(5070)
    return np.asarray(frame.geometry.values, dtype=object)


def _beyond(zones: np.ndarray, feats: np.ndarray, radius: float, check: int) -> float:
    """Largest distance beyond ``radius`` of a boundary point of the buffers of the ``check`` largest features."""
    pick = np.argsort(-shapely.get_num_coordinates(feats))[:check]
    rings = shapely.segmentize(shapely.boundary(zones[pick]), radius * 1e-3)
    xy, own = shapely.get_coordinates(rings, return_index=True)
    return float((chunked(shapely.distance, shapely.points(xy), feats[pick][own]) - radius).max())


def _row(name: str, feats: np.ndarray, radius: float, check: int) -> list[dict]:
    rows = []
    for way, fn in (("shapely.buffer", lambda: chunked(shapely.buffer, feats, radius, quad_segs=QUAD_SEGS)),
                    ("inner_buffer", lambda: inner_buffer(feats, radius))):
        r = {"layer": name, "features": len(feats), "vertices": int(shapely.get_num_coordinates(feats).sum()),
             "radius_m": int(radius), "way": way}
        release_memory()  # the last measurement's temporaries back to the system: memory added is this way's
        before = psutil.Process().memory_info().rss / 2**20
        with measure(r):
            zones = fn()
        r["added_mib"] = r.pop("peak_mib") - before
        r["km2"] = float(shapely.area(shapely.union_all(zones))) / 1e6
        r["beyond_m"] = _beyond(zones, feats, radius, check)
        rows.append(r)
    rows[1]["ratio"] = rows[1]["seconds"] / rows[0]["seconds"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdata", default=os.environ.get("SITING_REALDATA", "../shared/realdata"))
    ap.add_argument("--check", type=int, default=100, help="features whose buffers are measured (most vertices)")
    args = ap.parse_args()
    print(machine())
    rows = []
    for name, rel in LAYERS.items():
        path = Path(args.realdata) / rel
        if not path.exists():
            print(f"{name}: {path} not found; skipped")
            continue
        feats = _lines(path)
        for radius in RADII:
            rows += _row(name, feats, radius, args.check)
    print(table(rows, ["layer", "features", "vertices", "radius_m", "way", "seconds", "added_mib", "ratio", "km2",
                       "beyond_m"]))


if __name__ == "__main__":
    main()
