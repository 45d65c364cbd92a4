"""Exact nearest distances and radius counts for millions of candidates, through KD-trees.

GEOS STRtree queries cost tens of microseconds each; a ``scipy.spatial.cKDTree`` over points costs
about one. Both functions here use the KD-tree to do the bulk of the work and exact shapely
distances to keep the answer exact:

* :func:`nearest`, point sources: the targets' lines and outlines are cut into segments no longer
  than ``step`` and a KD-tree is built on their midpoints. The ``k`` nearest midpoints propose
  segments; exact point-to-segment distances (numpy) give the best, and every other segment is at
  least ``(k-th midpoint distance) - (largest half length)`` away.
* :func:`nearest`, line and polygon sources: the targets are densified to ``step`` and a KD-tree is
  built on their vertices. Each source has an anchor inside it and a reach ``rho`` (the largest
  distance from the anchor to its own vertices); the ``k`` nearest vertices propose targets, exact
  ``shapely.distance`` measures those a bound cannot rule out, and every other target is at least
  ``(k-th vertex distance) - step / 2 - rho`` away.

  In both, sources whose lower bound does not certify the best distance (a few per cent) are asked
  again with ``4 k`` proposals, and the rest answered by ``STRtree.query_nearest``: the result is
  the exact distance, as ``STRtree.query_nearest`` gives it.
* :func:`count_within`: points (or polygons' anchors) query the KD-tree of the counted points with
  ``query_ball_point(return_length=True)``. For a polygon the count within ``radius`` plus its
  anchor's :func:`inradius` is certain; only sources with points between that and
  ``radius + rho`` list them, and those are checked exactly with ``shapely.dwithin``.

Sources are processed in Z-order (cache locality roughly halves the query time), in slices of
:data:`PIECE` on the threads of :mod:`siting.geo.parallel` (bounded temporaries that stay in the CPU
cache), and the results put back in input order.

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

from siting.core import settings
from siting.geo.balls import ball_pairs
from siting.geo.parallel import chunked, map_pieces
from siting.geo.pieces import segment_foot
from siting.geo.reuse import Reuse, ids_of

__all__ = ["Reuse", "anchors", "ball_pairs", "count_within", "inradius", "nearest", "segment_distance"]

#: Nearest vertices asked of the KD-tree per source.
K_NEAREST = 8
#: Sources per batch of pair lists (bounds memory).
BATCH = 50_000
#: Sources per slice (nearest, anchors, inradius): bounds the temporaries and keeps them in the CPU cache.
PIECE = 16_384
#: Floating-point allowance (CRS units) when comparing the best distance with the lower bound.
CERTIFY_SLACK = 1e-6


def _workers(workers: int | None) -> int:
    """Threads for a KD-tree query: ``workers``, or :data:`siting.core.settings.THREADS` for -1/None."""
    return settings.THREADS if workers is None or workers < 1 else int(workers)


def anchors(geoms: np.ndarray, *, reuse: Reuse | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, rho) per geometry: an anchor in (or on) it and the largest distance to its vertices.

    The anchor is the mean of the vertices where that lies in the geometry (convex polygons such as
    grid cells), else a point on it (``point_on_surface``: lines, multipoints, some concave
    polygons). Every point of the geometry is within ``rho`` of its anchor (the geometry lies in
    the convex hull of its vertices).

    Examples
    --------
    >>> from shapely import LineString
    >>> [v.tolist() for v in anchors(np.array([LineString([(0, 0), (10, 0)])]))]
    [[5.0], [0.0], [5.0]]
    """
    geoms = np.asarray(geoms, dtype=object)
    kept = reuse.recall("anchors", geoms) if reuse is not None else None
    if kept is not None:
        return kept
    x, y, rho = _in_slices(_anchors, geoms)
    return reuse.keep("anchors", geoms, (x, y, rho)) if reuse is not None else (x, y, rho)


def _anchors(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    n = len(geoms)
    if len(coords) == n and (shapely.get_type_id(geoms) == 0).all():  # points are their own anchors
        return coords[:, 0].copy(), coords[:, 1].copy(), np.zeros(n)
    count = np.bincount(owner, minlength=n)
    starts = np.r_[0, np.cumsum(count)[:-1]]
    sx, sy, k = np.bincount(owner, coords[:, 0], n), np.bincount(owner, coords[:, 1], n), count.astype(float)
    ring = np.flatnonzero(np.isin(shapely.get_type_id(geoms), [3, 6]) & (count > 1))  # closed: first vertex twice
    sx[ring] -= coords[starts[ring], 0]
    sy[ring] -= coords[starts[ring], 1]
    k[ring] -= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        ax, ay = sx / k, sy / k
    outside = np.flatnonzero(~shapely.intersects_xy(geoms, np.nan_to_num(ax), np.nan_to_num(ay)) & (count > 0))
    if len(outside):
        on = shapely.point_on_surface(geoms[outside])
        ax[outside], ay[outside] = shapely.get_x(on), shapely.get_y(on)
    rho = np.zeros(n)
    live = np.flatnonzero(count)
    rho[live] = np.maximum.reduceat(np.hypot(coords[:, 0] - ax[owner], coords[:, 1] - ay[owner]), starts[live])
    return ax, ay, rho


def _space_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order (Morton) curve over their extent: near points, near rows."""
    if len(x) < 2:
        return np.arange(len(x))
    top = (1 << 16) - 1
    span = max(np.ptp(x), np.ptp(y), 1e-9)
    code = np.zeros(len(x), np.uint64)
    for shift, v in enumerate((x, y)):
        bits = np.clip((v - v.min()) / span * top, 0, top).astype(np.uint64)
        for s, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):  # spread the 16 bits
            bits = (bits | (bits << np.uint64(s))) & np.uint64(mask)
        code |= bits << np.uint64(shift)
    return np.argsort(code)


def _vertices(targets: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Vertices of the targets (densified to ``step``), their owner, and half the vertex gap."""
    if (shapely.get_type_id(targets) == 0).all():
        return shapely.get_coordinates(targets), np.arange(len(targets)), 0.0
    dense = shapely.segmentize(targets, step)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    return coords, owner, step / 2


def nearest(sources: np.ndarray, targets: np.ndarray, *, step: float = 1_000.0, k: int = K_NEAREST,
            workers: int = -1, reuse: Reuse | None = None) -> tuple[np.ndarray, np.ndarray]:
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
        Threads for the slices of sources and the KD-tree queries (-1: :data:`siting.core.settings.THREADS`,
        all cores unless ``SITING_THREADS`` says otherwise).
    reuse : Reuse, optional
        Answers kept for the run (see :class:`Reuse`).

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
    if not n or not len(targets):
        return np.full(n, np.inf), np.full(n, -1)
    key = ("nearest", ids_of(targets).tobytes(), step)
    kept = reuse.recall(key, sources) if reuse is not None else None
    if kept is not None:
        return kept
    result = _nearest(sources, targets, step, k, _workers(workers), reuse)
    return reuse.keep(key, sources, result, targets) if reuse is not None else result


def _nearest(sources: np.ndarray, targets: np.ndarray, step: float, k: int, workers: int, reuse: Reuse | None):
    ax, ay, rho = anchors(sources, reuse=reuse)
    if not rho.any() and (shapely.get_type_id(targets) == 0).all():  # points to points: the KD-tree is exact
        coords = shapely.get_coordinates(targets)
        dist, nearest_point = cKDTree(coords).query(np.column_stack([ax, ay]), k=1, workers=workers)
        return dist, nearest_point
    if not rho.any():  # point sources: exact point-to-segment distances in numpy
        dist, idx, doubt = _point_nearest(ax, ay, targets, step, k, workers)
    else:
        dist, idx, doubt = _anchor_nearest(sources, ax, ay, rho, targets, step, k, workers)
    polygonal = shapely.get_type_id(targets) >= 3
    if polygonal.any():  # a source inside a polygon target is far from its vertices: check containment
        hit_s, hit_t = STRtree(targets[polygonal]).query(sources, predicate="intersects")
        dist[hit_s], idx[hit_s] = 0.0, np.flatnonzero(polygonal)[hit_t]
        doubt = np.setdiff1d(doubt, hit_s)
    if len(doubt):
        (s, t2), d2 = STRtree(targets).query_nearest(sources[doubt], return_distance=True, all_matches=False)
        dist[doubt[s]], idx[doubt[s]] = d2, t2
    return dist, idx


def _segments(targets: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments (x0, y0, x1, y1 columns) of the targets' outlines densified to ``step``, and their owner.

    Multi-part geometries give the segments of each part (parts are never joined); a point gives
    one zero-length segment. Polygons give their rings (containment is checked separately).
    """
    parts = shapely.segmentize(targets, step)
    owner = np.arange(len(parts))
    kind = shapely.get_type_id(parts)
    if not (kind == 1).all():  # anything but plain lines: single parts, polygons as their rings
        parts, owner = shapely.get_parts(parts, return_index=True)
        poly = shapely.get_type_id(parts) == 3
        rings, r_idx = shapely.get_rings(parts[poly], return_index=True)
        parts = np.concatenate([parts[~poly], rings])
        owner = np.concatenate([owner[~poly], owner[poly][r_idx]])
    coords, part = shapely.get_coordinates(parts, return_index=True)
    a = np.flatnonzero(part[:-1] == part[1:])
    single = np.flatnonzero(np.bincount(part, minlength=len(parts)) == 1)  # points: zero-length segments
    b = a + 1
    if len(single):
        a = np.concatenate([a, np.searchsorted(part, single)])
        b = np.concatenate([b, a[len(b):]])
    segs = np.empty((len(a), 4))
    segs[:, :2], segs[:, 2:] = coords[a], coords[b]
    return segs, owner[part[a]]


def _point_nearest(px: np.ndarray, py: np.ndarray, targets: np.ndarray, step: float, k: int, workers: int):
    """Nearest target of each point: KD-tree over segment midpoints, exact point-to-segment distances.

    A segment whose midpoint is ``m`` away is at least ``m - h`` away (``h`` the largest half
    length), so the best of the ``k`` proposed segments is exact when it is at most the ``k``-th
    midpoint distance minus ``h``. Returns distances, target indexes and the uncertified sources.
    """
    segs, owner = _segments(targets, step)
    h = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]).max() / 2
    tree = cKDTree((segs[:, :2] + segs[:, 2:]) / 2, balanced_tree=False)  # builds twice as fast, queries alike
    dist, idx = np.full(len(px), np.inf), np.full(len(px), -1)
    doubt = _space_order(px, py)
    ks = (1,) if h == 0 else (k, 4 * k)  # points to points: the nearest midpoint is the answer
    for kk in dict.fromkeys(min(v, len(segs)) for v in ks):
        d, best, kth = _in_slices(_best_segment, px[doubt], py[doubt], tree=tree, segs=segs, k=kk, workers=workers)
        dist[doubt], idx[doubt] = d, owner[best]
        if kk == len(segs):
            return dist, idx, doubt[:0]
        doubt = doubt[d > kth - h + CERTIFY_SLACK]
        if not len(doubt):
            break
    return dist, idx, doubt


def _best_segment(x, y, tree, segs, k):
    """For points (x, y): distance to the best of the ``k`` segments with the nearest midpoints, that
    segment, and the ``k``-th midpoint distance."""
    md, mi = tree.query(np.column_stack([x, y]), k=k)
    md, mi = md.reshape(len(x), k), mi.reshape(len(x), k)
    g = segs[mi]
    d = segment_distance(x[:, None], y[:, None], g[..., 0], g[..., 1], g[..., 2], g[..., 3])
    col = d.argmin(axis=1)
    rows = np.arange(len(x))
    return d[rows, col], mi[rows, col], md[:, -1]


def segment_distance(px, py, x0, y0, x1, y1) -> np.ndarray:
    """Distance from points (px, py) to segments (x0, y0)-(x1, y1), broadcasting; zero-length segments included.

    Examples
    --------
    >>> segment_distance(np.array([0.0, 5.0]), np.array([3.0, 3.0]), 0.0, 0.0, 4.0, 0.0).tolist()
    [3.0, 3.1622776601683795]
    """
    qx, qy = segment_foot(px, py, x0, y0, x1, y1)
    return np.hypot(px - qx, py - qy)


def _anchor_nearest(sources, ax, ay, rho, targets, step, k, workers):
    """Nearest target of each line or polygon source: vertex proposals, exact shapely distances."""
    coords, owner, half = _vertices(targets, step)
    tree = cKDTree(coords, balanced_tree=False)
    dist, idx = np.full(len(sources), np.inf), np.full(len(sources), -1)
    doubt = _space_order(ax, ay)
    for kk in dict.fromkeys(min(v, len(coords)) for v in (k, 4 * k)):  # widen the proposals for the doubtful
        d, best, kth = _in_slices(_best_target, sources[doubt], ax[doubt], ay[doubt], rho[doubt], tree=tree,
                                  owner=owner, targets=targets, half=half, k=kk, workers=workers)
        dist[doubt], idx[doubt] = d, best
        if kk == len(coords):  # every vertex was proposed: exact
            return dist, idx, doubt[:0]
        doubt = doubt[d > kth - half - rho[doubt] + CERTIFY_SLACK]
        if not len(doubt):
            break
    return dist, idx, doubt


def _best_target(sources, x, y, rho, *, tree, owner, targets, half, k):
    """For sources with anchors (x, y) and reach ``rho``: distance to the best of the targets owning the
    ``k`` vertices nearest the anchor, that target, and the ``k``-th vertex distance."""
    vd, vi = tree.query(np.column_stack([x, y]), k=k)
    vd, own = vd.reshape(len(x), k), owner[vi.reshape(len(x), k)]
    dmat = _pair_distances(sources, targets, own, vd - half - rho[:, None] > vd[:, :1])
    col = dmat.argmin(axis=1)
    rows = np.arange(len(x))
    return dmat[rows, col], own[rows, col], vd[:, -1]


def _pair_distances(sources: np.ndarray, targets: np.ndarray, own: np.ndarray, beaten: np.ndarray) -> np.ndarray:
    """Exact distance from each source (row) to each proposed target (column); others are inf.

    A target proposed by several vertices is measured once (at its first, nearest, vertex), and
    not at all where ``beaten``: its lower bound (vertex distance - half gap - rho) exceeds the
    distance from the anchor to the nearest proposed vertex, an upper bound of the best distance
    (the anchor lies in the source).
    """
    first = ~beaten
    for j in range(1, own.shape[1]):
        first[:, j] &= (own[:, :j] != own[:, j:j + 1]).all(axis=1)
    r, c = np.nonzero(first)
    dmat = np.full(own.shape, np.inf)
    dmat[r, c] = shapely.distance(sources[r], targets[own[r, c]])
    return dmat


def count_within(sources: np.ndarray, points: np.ndarray, radius: float | np.ndarray, weights: np.ndarray | None = None,
                 *, workers: int = -1, reuse: Reuse | None = None) -> np.ndarray:
    """Count (or sum ``weights`` of) the ``points`` within ``radius`` of each source (exactly).

    Parameters
    ----------
    sources : ndarray of geometry
        Points or polygons; distance is measured from the geometry itself (its edge for polygons).
    points : ndarray of Point
    radius : float or ndarray
        One radius, or one per source.
    weights : ndarray, optional
        One weight per point (counts are summed weights).
    workers : int
        Threads for the KD-tree queries (-1: :data:`siting.core.settings.THREADS`).
    reuse : Reuse, optional
        Kept anchors of the sources (see :class:`Reuse`).

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
    workers = _workers(workers)
    ax, ay, rho = anchors(sources, reuse=reuse)
    order = _space_order(ax, ay)
    xy = np.column_stack([ax[order], ay[order]])
    radii = np.broadcast_to(np.asarray(radius, dtype=float), (len(sources),))[order]  # one per source, in order
    sure = radii + inradius(sources[order], ax[order], ay[order])  # points this near the anchor are in
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=float)
    pxy = shapely.get_coordinates(points)
    n_sure = np.zeros(len(sources), np.int64)
    for value in np.unique(w):  # a few development classes: one tree per weight
        inner = cKDTree(pxy[w == value]).query_ball_point(xy, sure, return_length=True, workers=workers)
        out[order] += value * inner
        n_sure += inner
    if rho.any():  # points between the sure radius and radius + rho: checked exactly
        tree = cKDTree(pxy)
        maybe = tree.query_ball_point(xy, radii + rho[order], return_length=True, workers=workers) > n_sure
        ring = np.flatnonzero(maybe)
        out[order[ring]] += _ring_counts(tree, sources[order[ring]], xy[ring], sure[ring], rho[order[ring]],
                                         w, points, radii[ring])
    return out


def inradius(geoms: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> np.ndarray:
    """Distance from each anchor to its polygon's boundary (0 for points, lines and anchors on the edge).

    The disk of that radius around an anchor inside a polygon lies in the polygon, so a point within
    ``r + inradius`` of the anchor is within ``r`` of the polygon.

    Examples
    --------
    >>> from shapely import box
    >>> inradius(np.array([box(0, 0, 10, 4)]), np.array([5.0]), np.array([2.0])).tolist()
    [2.0]
    """
    out = np.zeros(len(geoms))
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geoms), [3, 6]))
    if len(poly):
        out[poly] = _in_slices(_inradius, geoms[poly], ax[poly], ay[poly])[0]
    return out


def _inradius(geoms: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> tuple[np.ndarray]:
    out = np.zeros(len(geoms))
    # consecutive vertices of a polygon: its edges, plus (with holes or parts) a few chords between
    # rings, which can only make the radius smaller: safe
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    edge = np.flatnonzero(owner[:-1] == owner[1:])
    d = segment_distance(ax[owner[edge]], ay[owner[edge]], coords[edge, 0], coords[edge, 1],
                       coords[edge + 1, 0], coords[edge + 1, 1])
    has = np.bincount(owner[edge], minlength=len(geoms)) > 0
    if has.any():
        out[has] = np.minimum.reduceat(d, np.searchsorted(owner[edge], np.flatnonzero(has)))
    return (out,)


def _in_slices(fn, *arrays, **kwargs) -> tuple[np.ndarray, ...]:
    """``fn`` (returning a tuple of per-item arrays) on slices of :data:`PIECE` items in threads, joined.

    Slices bound the temporaries (a national run has millions of sources) and keep them in the CPU cache.
    """
    threads = kwargs.pop("workers", -1)
    parts = map_pieces(fn, *arrays, size=PIECE, min_items=PIECE, threads=None if threads < 1 else threads, **kwargs)
    width = len(parts[0][1])  # type: ignore[arg-type]
    return tuple(np.concatenate([p[j] for _, p in parts]) for j in range(width))  # type: ignore[index]


def _ring_counts(tree, geoms, xy, sure, rho, w, points, radius) -> np.ndarray:
    """Weights of the points between ``sure`` and ``radius + rho`` from the anchor within ``radius`` of the geometry."""
    out = np.zeros(len(geoms))
    for start in range(0, len(geoms), BATCH):
        sl = slice(start, start + BATCH)
        src, pt = ball_pairs(tree, xy[sl], radius[sl] + rho[sl], beyond=sure[sl])
        near = chunked(shapely.dwithin, geoms[sl][src], points[pt], radius[sl][src])
        out[sl] += np.bincount(src[near], weights=w[pt[near]], minlength=len(xy[sl]))
    return out
