"""Vectorized spatial building blocks shared by constraints and factors.

No Python loop runs over features: grouped operations use shapely 2 array
functions on padded 2-D arrays, bucketed by group size so the padding stays
under twice the number of pairs.

Examples
--------
>>> import numpy as np
>>> from shapely import box, Point
>>> land = np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)])
>>> holes = np.array([box(0, 0, 5, 10), box(8, 8, 12, 12), box(100, 100, 101, 101)])
>>> clipped = subtract(land, holes)
>>> [round(g.area, 1) for g in clipped]
[46.0, 100.0]
>>> nearest_distance(np.array([Point(0, 0)]), np.array([Point(3, 4), Point(10, 0)])).tolist()
[5.0]
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree

from siting.geo import geodesy, proximity
from siting.geo.geometry import keep_family
from siting.geo.parallel import chunked

__all__ = ["MIN_OVERLAP_M2", "count_within", "keep_within", "nearest", "nearest_distance", "overlap_pieces",
           "overlapping_pairs", "subtract", "union_by_group"]


def union_by_group(geoms: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Union the geometries of each group, vectorized.

    Parameters
    ----------
    geoms : ndarray of geometry
        Parts, one per pair.
    groups : ndarray of int
        Group index of each part, in ``[0, n_groups)``.
    n_groups : int
        Size of the output.

    Returns
    -------
    ndarray of geometry
        One union per group; None for groups without parts.

    Examples
    --------
    >>> from shapely import box
    >>> u = union_by_group(np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)]),
    ...                    np.array([0, 0, 2]), 3)
    >>> [None if g is None else g.area for g in u]
    [2.0, None, 1.0]
    """
    out = np.full(n_groups, None, dtype=object)
    if not len(geoms):
        return out
    order = np.argsort(groups, kind="stable")
    groups, geoms = groups[order], geoms[order]
    uniq, start, counts = np.unique(groups, return_index=True, return_counts=True)
    rank = np.arange(len(groups)) - np.repeat(start, counts)
    bucket = np.ceil(np.log2(np.maximum(counts, 1))).astype(int)
    group_bucket = np.repeat(bucket, counts)
    for b in np.unique(bucket):
        sel_groups = uniq[bucket == b]
        width = 1 << int(b)
        row_of = np.full(n_groups, -1)
        row_of[sel_groups] = np.arange(len(sel_groups))
        mask = group_bucket == b
        grid = np.full((len(sel_groups), width), None, dtype=object)
        grid[row_of[groups[mask]], rank[mask]] = geoms[mask]
        out[sel_groups] = chunked(_union_rows, grid, min_items=2)  # the groups' unions on the threads
    return out


def _union_rows(grid: np.ndarray) -> np.ndarray:
    return shapely.union_all(grid, axis=1)


def subtract(targets: np.ndarray, cutters: np.ndarray, *, tree: STRtree | None = None) -> np.ndarray:
    """Remove the union of intersecting ``cutters`` from each polygon in ``targets``.

    Parameters
    ----------
    targets : ndarray of (Multi)Polygon
    cutters : ndarray of geometry
        Polygons (buffer lines and points before calling).
    tree : STRtree, optional
        A tree already built on ``cutters``.

    Returns
    -------
    ndarray of MultiPolygon
        The remainders (None where nothing remains); ``targets`` is untouched.
    """
    out = np.asarray(targets, dtype=object).copy()
    if not len(cutters) or not len(out):
        return out
    tree = tree or STRtree(cutters)
    t_idx, c_idx = tree.query(out, predicate="intersects")
    if not len(t_idx):
        return out
    unions = union_by_group(tree.geometries[c_idx], t_idx, len(out))
    hit = np.unique(t_idx)
    diff = chunked(shapely.difference, out[hit], unions[hit])
    out[hit] = keep_family(diff, "polygon")
    return out


def keep_within(targets: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Keep only the part of each polygon in ``targets`` that lies in the union of the ``zones``.

    Returns the kept parts (None where no zone touches the target); ``targets`` is untouched.

    Examples
    --------
    >>> from shapely import box
    >>> kept = keep_within(np.array([box(0, 0, 10, 10), box(50, 0, 60, 10)]),
    ...                    np.array([box(0, 0, 5, 10), box(4, 0, 6, 10)]))
    >>> [None if g is None else g.area for g in kept]
    [60.0, None]
    """
    out = np.full(len(targets), None, dtype=object)
    if not len(zones) or not len(targets):
        return out
    tree = STRtree(zones)
    t_idx, z_idx = tree.query(targets, predicate="intersects")
    unions = union_by_group(tree.geometries[z_idx], t_idx, len(targets))
    hit = np.unique(t_idx)
    kept = chunked(shapely.intersection, np.asarray(targets, dtype=object)[hit], unions[hit])
    out[hit] = keep_family(kept, "polygon")
    return out


def nearest(sources: np.ndarray, targets: np.ndarray, *, reuse: proximity.Reuse | None = None,
            crs=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance from each source to its nearest target, and that target's index.

    KD-tree proposals certified by exact distances (:func:`siting.geo.proximity.nearest`). Returns
    ``(inf, -1)`` for sources that are missing or empty, and for every source without targets.
    ``reuse`` shares answers within a run (:class:`siting.geo.proximity.Reuse`). With the projected
    ``crs`` of the geometries, the distances are geodesic metres on its ellipsoid and the nearest
    target is the nearest on the ground (:func:`siting.geo.geodesy.nearest`); without, planar units.

    Examples
    --------
    >>> from shapely import Point
    >>> d, i = nearest(np.array([Point(0, 0), None]), np.array([Point(3, 4), Point(10, 0)]))
    >>> d.tolist(), i.tolist()
    ([5.0, inf], [0, -1])
    """
    sources = np.asarray(sources, dtype=object)
    targets = np.asarray(targets, dtype=object)
    d, idx = np.full(len(sources), np.inf), np.full(len(sources), -1)
    ok = ~shapely.is_missing(sources) & ~shapely.is_empty(sources)
    live = np.flatnonzero(~shapely.is_missing(targets) & ~shapely.is_empty(targets))
    if ok.any() and len(live):
        ground = geodesy.ground_of(crs)
        d[ok], found = geodesy.nearest(sources[ok], targets[live], ground, reuse=reuse) if ground else \
            proximity.nearest(sources[ok], targets[live], reuse=reuse)
        idx[ok] = live[found]
    return d, idx


def nearest_distance(sources: np.ndarray, targets: np.ndarray, *,
                     reuse: proximity.Reuse | None = None, crs=None) -> np.ndarray:
    """Exact distance from each source geometry to the nearest target (geodesic metres with ``crs``, see
    :func:`nearest`; else CRS units).

    Examples
    --------
    >>> from shapely import Point, box
    >>> nearest_distance(np.array([box(0, 0, 1, 1)]), np.array([Point(4, 1)])).tolist()
    [3.0]
    """
    return nearest(sources, targets, reuse=reuse, crs=crs)[0]


def count_within(sources: np.ndarray, points: np.ndarray, radius: float, weights: np.ndarray | None = None,
                 *, reuse: proximity.Reuse | None = None, crs=None) -> np.ndarray:
    """Count (or sum ``weights`` of) the ``points`` within ``radius`` of each source.

    With the projected ``crs`` of the geometries, ``radius`` is geodesic metres on its ellipsoid
    (:func:`siting.geo.geodesy.count_within`); without, planar units.

    Examples
    --------
    >>> from shapely import Point
    >>> count_within(np.array([Point(0, 0)]), np.array([Point(1, 0), Point(5, 0)]), 2.0).tolist()
    [1.0]
    """
    if not len(points) or not len(sources):
        return np.zeros(len(sources))
    sources, points = np.asarray(sources, dtype=object), np.asarray(points, dtype=object)
    ok = ~shapely.is_missing(sources) & ~shapely.is_empty(sources)
    live = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    ground = geodesy.ground_of(crs)
    if (shapely.get_type_id(points[live]) == 0).all() and ok.all():  # points: KD-tree counts (exact)
        w = None if weights is None else np.asarray(weights, dtype=float)[live]
        return geodesy.count_within(sources, points[live], radius, ground, w, reuse=reuse) if ground else \
            proximity.count_within(sources, points[live], radius, w, reuse=reuse)
    tree = STRtree(points)
    reach = radius * ground.scale_range(_bounds(sources, points))[1] if ground else radius
    s_idx, p_idx = tree.query(sources, predicate="dwithin", distance=reach)
    if ground:  # pairs the plane puts within reach: kept when within radius on the ground
        hull = geodesy.source_hulls(sources, reuse)[s_idx]
        inside = geodesy.pair_distance(sources[s_idx], points[p_idx], ground, hull=hull) <= radius
        s_idx, p_idx = s_idx[inside], p_idx[inside]
    w = None if weights is None else np.asarray(weights, dtype=float)[p_idx]
    return np.bincount(s_idx, weights=w, minlength=len(sources)).astype(float)


def _bounds(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box of the non-missing geometries of several arrays."""
    b = np.vstack([shapely.bounds(a[~shapely.is_missing(a) & ~shapely.is_empty(a)]) for a in arrays])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


#: Pairs of shapes overlapping by less than this (square metres) are taken as touching (reprojection noise).
MIN_OVERLAP_M2 = 1.0


def overlapping_pairs(geoms: np.ndarray, min_overlap_m2: float = MIN_OVERLAP_M2) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, of geometries whose interiors overlap by at least ``min_overlap_m2``.

    Examples
    --------
    >>> from shapely import box
    >>> overlapping_pairs(np.array([box(0, 0, 2, 2), box(2, 0, 4, 2), box(1, 1, 3, 3)]))
    (array([0, 1]), array([2, 2]))
    """
    i, j, _ = overlap_pieces(np.asarray(geoms, dtype=object), min_overlap_m2)
    return i, j


def overlap_pieces(geoms: np.ndarray, min_overlap_m2: float = MIN_OVERLAP_M2
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`overlapping_pairs` and each pair's common land.

    Examples
    --------
    >>> from shapely import box
    >>> i, j, common = overlap_pieces(np.array([box(0, 0, 2, 2), box(1, 0, 3, 2)]))
    >>> i.tolist(), j.tolist(), common[0].area
    ([0], [1], 2.0)
    """
    live = geoms.copy()
    live[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = None
    i, j = shapely.STRtree(live).query(live)  # boxes that meet
    keep = i < j  # each pair once; not a record with itself (GEOS's predicate would test that too)
    i, j = i[keep], j[keep]
    inner = chunked(shapely.relate_pattern, geoms[i], geoms[j], pattern="T********")  # interiors meet
    i, j = i[inner], j[inner]
    common = chunked(shapely.intersection, geoms[i], geoms[j])
    big = shapely.area(common) >= min_overlap_m2
    return i[big], j[big], common[big]
