"""Exact nearest distances and radius counts for millions of candidates, through KD-trees.

GEOS STRtree queries cost tens of microseconds each; a ``scipy.spatial.cKDTree`` over points costs
about one. Both functions here use the KD-tree to do the bulk of the work and exact shapely
distances to keep the answer exact:

* :func:`nearest`: lines and polygon outlines are densified so no two consecutive vertices are
  more than ``step`` apart, and a KD-tree is built on all vertices. For each source, an anchor
  point and its reach ``rho`` (the largest distance from the anchor to the source's own vertices)
  bound the distance from any part of the source; the ``k`` nearest vertices propose targets,
  exact ``shapely.distance`` to those gives the best distance, and every other target is at least
  ``(k-th vertex distance) - step / 2 - rho`` away. Sources where that lower bound does not
  certify the best distance (rare) are answered by ``STRtree.query_nearest``. The result is the
  exact distance, as ``STRtree.query_nearest`` would give it.
* :func:`count_within`: points (or polygons' anchors) query the KD-tree of the counted points with
  ``query_ball_point(return_length=True)``. For polygon sources the count at ``radius`` from an
  anchor inside the polygon is certain; points between ``radius`` and ``radius + rho`` of the anchor
  are checked exactly with ``shapely.dwithin``.

Sources are processed in Hilbert order (cache locality roughly halves the query time) and the
results put back in input order.

Examples
--------
>>> import numpy as np
>>> from shapely import LineString, Point, box
>>> lines = np.array([LineString([(0, 0), (10_000, 0)]), LineString([(0, 5_000), (10_000, 5_000)])])
>>> d, i = nearest(np.array([Point(2_500, 1_000), box(0, 3_000, 100, 4_000)]), lines, step=1_000)
>>> d.tolist(), i.tolist()
([1000.0, 1000.0], [0, 1])
>>> count_within(np.array([Point(0, 0), box(0, 0, 10, 10)]), np.array([Point(3, 0), Point(15, 0)]), 5.0).tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely import STRtree

__all__ = ["anchors", "count_within", "nearest"]

#: Nearest vertices asked of the KD-tree per source.
K_NEAREST = 8
#: Sources per batch of pair lists (bounds memory).
BATCH = 50_000
#: Floating-point allowance (CRS units) when comparing the best distance with the lower bound.
CERTIFY_SLACK = 1e-6


def anchors(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, rho) per geometry: an anchor inside it and the largest distance to its vertices.

    The anchor is the centroid where that lies in (or on) the geometry, else a point on it
    (``point_on_surface``: lines and multipoints); every point of the geometry is within ``rho`` of it.
    """
    geoms = np.asarray(geoms, dtype=object)
    if (shapely.get_type_id(geoms) == 0).all():  # points are their own anchors
        xy = shapely.get_coordinates(geoms)
        return xy[:, 0], xy[:, 1], np.zeros(len(geoms))
    anchor = shapely.centroid(geoms)
    outside = ~shapely.intersects(geoms, anchor)
    if outside.any():
        anchor[outside] = shapely.point_on_surface(geoms[outside])
    ax, ay = shapely.get_x(anchor), shapely.get_y(anchor)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    rho = np.zeros(len(geoms))
    np.maximum.at(rho, owner, np.hypot(coords[:, 0] - ax[owner], coords[:, 1] - ay[owner]))
    return ax, ay, rho


def _hilbert_order(x: np.ndarray, y: np.ndarray, level: int = 16) -> np.ndarray:
    """Permutation sorting points along a Hilbert curve over their extent."""
    if len(x) < 2:
        return np.arange(len(x))
    n = 1 << level
    span = max(np.ptp(x), np.ptp(y), 1e-9)
    xi = np.clip(((x - x.min()) / span * (n - 1)).astype(np.int64), 0, n - 1)
    yi = np.clip(((y - y.min()) / span * (n - 1)).astype(np.int64), 0, n - 1)
    d = np.zeros(len(x), np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, s - 1 - xi, xi)
        swap_y = np.where(flip & rx, s - 1 - yi, yi)
        xi, yi = np.where(flip, swap_y, xi), np.where(flip, swap_x, yi)
        s >>= 1
    return np.argsort(d, kind="stable")


def _vertices(targets: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Vertices of the targets (densified to ``step``), their owner, and half the vertex gap."""
    if (shapely.get_type_id(targets) == 0).all():
        return shapely.get_coordinates(targets), np.arange(len(targets)), 0.0
    dense = shapely.segmentize(targets, step)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    return coords, owner, step / 2


def nearest(sources: np.ndarray, targets: np.ndarray, *, step: float = 1_000.0, k: int = K_NEAREST,
            workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance from each source to its nearest target, and that target's index.

    Parameters
    ----------
    sources, targets : ndarray of geometry
        In the same projected CRS. Polygon targets count as their area (distance 0 inside).
    step : float
        Largest gap between indexed vertices of line and polygon targets (CRS units).
    k : int
        Vertices proposed per source before the certificate is checked.
    workers : int
        Threads for the KD-tree queries (-1: all cores).

    Returns
    -------
    (ndarray, ndarray)
        Distances (``inf`` without targets) and target indexes (``-1`` without targets).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> d, i = nearest(np.array([Point(0, 300)]), np.array([LineString([(-5_000, 0), (5_000, 0)])]))
    >>> float(d[0]), int(i[0])
    (300.0, 0)
    """
    sources = np.asarray(sources, dtype=object)
    targets = np.asarray(targets, dtype=object)
    n = len(sources)
    dist, idx = np.full(n, np.inf), np.full(n, -1)
    if not n or not len(targets):
        return dist, idx
    coords, owner, half = _vertices(targets, step)
    tree = cKDTree(coords)
    ax, ay, rho = anchors(sources)
    xy = np.column_stack([ax, ay])
    if half == 0 and not rho.any():  # points to points: the KD-tree distance is the exact one
        dist, nearest_vertex = tree.query(xy, k=1, workers=workers)
        return dist, owner[nearest_vertex]
    doubt = _hilbert_order(ax, ay)
    for kk in dict.fromkeys(min(v, len(coords)) for v in (k, 4 * k)):  # widen the proposals for the doubtful
        if not len(doubt):
            break
        vd, vi = tree.query(xy[doubt], k=kk, workers=workers)
        vd, own = vd.reshape(len(doubt), kk), owner[vi.reshape(len(doubt), kk)]
        dmat = _pair_distances(sources[doubt], targets, own)
        col = dmat.argmin(axis=1)
        rows = np.arange(len(doubt))
        dist[doubt], idx[doubt] = dmat[rows, col], own[rows, col]
        if kk == len(coords):  # every vertex was proposed: exact
            doubt = doubt[:0]
            break
        doubt = doubt[dist[doubt] > vd[:, -1] - half - rho[doubt] + CERTIFY_SLACK]
        if not len(doubt):
            break
    polygonal = shapely.get_type_id(targets) >= 3
    if polygonal.any():  # a source inside a polygon target is far from its vertices: check containment
        hit_s, hit_t = STRtree(targets[polygonal]).query(sources, predicate="intersects")
        dist[hit_s], idx[hit_s] = 0.0, np.flatnonzero(polygonal)[hit_t]
        doubt = np.setdiff1d(doubt, hit_s)
    if len(doubt):
        (s, t2), d2 = STRtree(targets).query_nearest(sources[doubt], return_distance=True, all_matches=False)
        dist[doubt[s]], idx[doubt[s]] = d2, t2
    return dist, idx


def _pair_distances(sources: np.ndarray, targets: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Exact distance from each source (row) to each proposed target (column); repeats are inf."""
    first = np.ones(own.shape, bool)
    for j in range(1, own.shape[1]):  # a target proposed by several vertices is measured once
        first[:, j] = (own[:, :j] != own[:, j:j + 1]).all(axis=1)
    r, c = np.nonzero(first)
    dmat = np.full(own.shape, np.inf)
    dmat[r, c] = shapely.distance(sources[r], targets[own[r, c]])
    return dmat


def count_within(sources: np.ndarray, points: np.ndarray, radius: float, weights: np.ndarray | None = None,
                 *, workers: int = -1) -> np.ndarray:
    """Count (or sum ``weights`` of) the ``points`` within ``radius`` of each source (exactly).

    Parameters
    ----------
    sources : ndarray of geometry
        Points or polygons; distance is measured from the geometry itself (its edge for polygons).
    points : ndarray of Point
    radius : float
    weights : ndarray, optional
        One weight per point (counts are summed weights).
    workers : int
        Threads for the KD-tree queries (-1: all cores).

    Examples
    --------
    >>> from shapely import Point, box
    >>> deposits = np.array([Point(50, 0), Point(150, 0), Point(400, 0)])
    >>> count_within(np.array([box(-10, -10, 10, 10)]), deposits, 150.0, np.array([1.0, 0.7, 0.2])).tolist()
    [1.7]
    """
    sources = np.asarray(sources, dtype=object)
    points = np.asarray(points, dtype=object)
    out = np.zeros(len(sources))
    if not len(sources) or not len(points):
        return out
    ax, ay, rho = anchors(sources)
    order = _hilbert_order(ax, ay)
    xy = np.column_stack([ax[order], ay[order]])
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=float)
    pxy = shapely.get_coordinates(points)
    for value in np.unique(w):  # a few development classes: one tree per weight
        sel = w == value
        tree = cKDTree(pxy[sel])
        inner = tree.query_ball_point(xy, radius, return_length=True, workers=workers)
        out[order] += value * inner
    ring = np.flatnonzero(rho[order] > 0)
    if len(ring):
        out[order[ring]] += _ring_counts(sources[order[ring]], xy[ring], rho[order[ring]], pxy, w, points, radius)
    return out


def _ring_counts(geoms, xy, rho, pxy, w, points, radius) -> np.ndarray:
    """Weights of the points farther than ``radius`` from the anchor but within ``radius`` of the geometry."""
    tree = cKDTree(pxy)
    out = np.zeros(len(geoms))
    for start in range(0, len(geoms), BATCH):
        sl = slice(start, start + BATCH)
        outer = tree.query_ball_point(xy[sl], radius + rho[sl], return_sorted=False)
        sizes = np.fromiter((len(o) for o in outer), np.int64, len(outer))
        if not sizes.sum():
            continue
        src = np.repeat(np.arange(len(outer)), sizes)
        pt = np.concatenate([np.asarray(o, np.int64) for o in outer if len(o)])
        far = np.hypot(pxy[pt, 0] - xy[sl][src, 0], pxy[pt, 1] - xy[sl][src, 1]) > radius
        src, pt = src[far], pt[far]
        near = shapely.dwithin(geoms[sl][src], points[pt], radius)
        out[sl] += np.bincount(src[near], weights=w[pt[near]], minlength=len(outer))
    return out
