"""Independent check of a packing: overlaps, spacing, containment and setback, by plain geometry.

Uses shapely predicates on the output polygons only (none of the packing internals), so it can
audit any set of footprints.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> land = gpd.GeoDataFrame(geometry=[box(0, 0, 3000, 1000)], crs=5070)
>>> sites = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000), box(1500, 0, 2500, 1000)], crs=5070)
>>> verify_packing(sites, land, spacing_m=600)
{'sites': 2, 'outside': 0, 'too_close': 1, 'min_gap_m': 500.0}
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

__all__ = ["verify_packing"]


def verify_packing(sites: gpd.GeoDataFrame, eligible: gpd.GeoDataFrame, *, spacing_m: float = 0.0,
                   edge_setback_m: float = 0.0, tolerance_m: float = 1e-3) -> dict:
    """Count footprints outside the (set-back) eligible land and pairs closer than ``spacing_m``.

    Returns
    -------
    dict
        ``sites``, ``outside`` (footprints not within the land by more than ``tolerance_m``, or
        closer than ``edge_setback_m - tolerance_m`` to its boundary),
        ``too_close`` (pairs closer than ``spacing_m - tolerance_m``, or overlapping at zero spacing)
        and ``min_gap_m`` (smallest edge-to-edge distance, NaN for fewer than two sites).
    """
    geoms = np.asarray(sites.to_crs(eligible.crs).geometry.values, dtype=object)
    land = shapely.union_all(np.asarray(eligible.geometry.values, dtype=object))
    grown = shapely.buffer(land, tolerance_m)
    shapely.prepare(grown)
    outside = ~shapely.covers(grown, geoms)
    if edge_setback_m > tolerance_m:
        outside |= _near_boundary(geoms, land, edge_setback_m - tolerance_m)
    outside = int(outside.sum())
    tree = STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=max(spacing_m, tolerance_m))
    keep = i < j
    i, j = i[keep], j[keep]
    gaps = shapely.distance(geoms[i], geoms[j])
    if spacing_m > 0:
        close = gaps < spacing_m - tolerance_m
    else:
        close = shapely.intersects(shapely.buffer(geoms[i], -tolerance_m, join_style="mitre"), geoms[j])
    min_gap = float("nan")
    if len(geoms) > 1:
        _, nearest = tree.query_nearest(geoms, exclusive=True, return_distance=True)
        min_gap = float(nearest.min())
    return {"sites": len(geoms), "outside": outside, "too_close": int(close.sum()), "min_gap_m": min_gap}


def _near_boundary(geoms: np.ndarray, land, distance: float) -> np.ndarray:
    """Which geometries come within ``distance`` of the land's boundary (exact: no buffered polygon)."""
    coords, ring = shapely.get_coordinates(shapely.get_parts(shapely.boundary(land)), return_index=True)
    same = ring[1:] == ring[:-1]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    hit, _ = STRtree(segments).query(geoms, predicate="dwithin", distance=distance)
    return np.bincount(hit, minlength=len(geoms)) > 0
