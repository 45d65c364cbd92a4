"""Distances and decisions that hold on the WGS84 ellipsoid, at the speed of the planar engine.

A projected working CRS keeps areas (EPSG:5070 is equal-area) but stretches distances: in Nevada
a planar distance is off by up to 1 % depending on its direction. This module keeps the planar
engine (:mod:`siting.geo.proximity`) for the search and makes every answer true on the ground:

* :class:`~siting.geo.ground.Ground` (re-exported here) knows the working CRS's ellipsoid and certified
  bounds ``s_min <= planar / geodesic <= s_max`` of its local scale over the region a query touches.
* :func:`nearest` reports the geodesic length (:meth:`Ground.geodesic`: ``pyproj.Geod``'s within 1e-6 m) of
  the nearest pair of points (``shapely.shortest_line``) of the target nearest on the ellipsoid, not on the
  map: the rivals are found in 3-D, by chord (a chord is never longer than its geodesic, and unlike a planar
  band the chord's band does not widen where the CRS is anisotropic), and measured exactly. A source hollow
  towards its target (land cut around a town) is measured along the whole stretch of outline that
  could be nearer, not only where it comes nearest on the map.
* :func:`count_within` lists each source's points within ``radius * s_max`` on the map once (KD-tree):
  those within ``radius * s_min`` are in, and the ring between is measured (:func:`pair_distance`, the geodesic
  of the shortest line between two shapes; found again on the ground just beyond the radius).

Examples
--------
>>> import numpy as np
>>> from shapely import Point
>>> ground = Ground("EPSG:5070")
>>> a, b = np.array([Point(-1_700_000, 2_000_000)]), np.array([Point(-1_650_000, 2_000_000)])
>>> true = float(pair_distance(a, b, ground)[0])
>>> round(true), round(true / 50_000 - 1, 4)   # east-west: 0.86 % longer on the ground in Nevada
(50432, 0.0086)
>>> float(nearest(a, b, ground)[0][0]) == true
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely import STRtree

from siting.core import settings
from siting.core.errors import GeometryError
from siting.geo import proximity
from siting.geo.balls import ball_pairs, ball_split
from siting.geo.ground import MARGIN, QUAD_SEGS, Ground, buffer_radius, ground_of, morton
from siting.geo.outline import Outline, box_gap
from siting.geo.parallel import each
from siting.geo.pieces import Pieces, layer_pieces, segment_foot, source_hulls
from siting.geo.reuse import ids_of
from siting.geo.stretch import SETTLE_BAND, refine

__all__ = ["MARGIN", "QUAD_SEGS", "Ground", "TargetIndex", "buffer_radius", "count_within", "ground_of", "nearest",
           "nearest_xy", "pair_distance", "source_hulls", "target_index"]

#: Vertex gap (m) of the coarse index that finds the targets that could be nearer on the ellipsoid.
COARSE_STEP = 4_000.0
#: Pieces asked per source of the chord index (a source with more in range gets a ball query).
CHORD_K = 8
#: Sources whose candidate pairs are listed at once (bounds the memory of the ground check).
PAIR_BATCH = 10_000
#: Geodesic distances (m) this close tie: the target with the lowest index is named, so a label does not
#: flip on the last bits of two equally near features (two roads at a junction).
TIE_M = 1e-6
#: (source, point) pairs :func:`count_within` lists at once (bounds its memory: about 40 bytes a pair).
COUNT_PAIRS = 2_000_000


def pair_distance(a: np.ndarray, b: np.ndarray, ground: Ground, *, hull: np.ndarray | None = None,
                  everywhere: bool = False) -> np.ndarray:
    """Geodesic length (m) of the shortest line between each ``a[i]`` and ``b[i]`` (0 where they touch).

    The nearest points are found in the plane; the length is measured on the ellipsoid. ``hull``
    (per pair) is ``a[i]``'s convex hull or None where ``a[i]`` is a point or convex (:func:`source_hulls`):
    pass it when the same sources come in many pairs, so each hull is made once, not once per pair. With
    ``everywhere``, every pair's nearest points are found again on the ground (:func:`siting.geo.stretch.refine`),
    not only where the CRS stretches beyond :data:`~siting.geo.stretch.STRETCH`.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> d = pair_distance(np.array([Point(-1_700_000, 2_000_000)]),
    ...                   np.array([LineString([(-1_690_000, 1_900_000), (-1_690_000, 2_100_000)])]), Ground(5070))
    >>> round(float(d[0]))   # 10,000 m east on the map, longer on the ground here
    10086
    """
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    out = np.zeros(len(a))
    if not len(a):
        return out
    if (shapely.get_type_id(a) == 0).all() and (shapely.get_type_id(b) == 0).all():  # the pair is its points
        xy = np.column_stack([shapely.get_coordinates(a), shapely.get_coordinates(b)])
        gp = ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])
    else:
        xy = shapely.get_coordinates(shapely.shortest_line(a, b)).reshape(len(a), 4)
        gp = refine(a, b, xy, ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3]), ground, everywhere=everywhere)
    planar = np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1])
    return np.minimum(gp, _concave_side(a, np.arange(len(a)), b.__getitem__, planar, gp, ground, hull=hull))


def nearest(sources: np.ndarray, targets: np.ndarray, ground: Ground, *,
            reuse: proximity.Reuse | None = None, index: TargetIndex | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m) from each source to its nearest target on the ellipsoid, and that target.

    Parameters
    ----------
    sources, targets : ndarray of geometry
        Valid, non-empty geometries in ``ground``'s CRS.
    ground : Ground
    reuse : Reuse, optional
        Answers kept for the run (:class:`siting.geo.proximity.Reuse`).
    index : TargetIndex, optional
        ``targets`` already cut and indexed (:func:`target_index`), for a layer asked many times.

    Returns
    -------
    (ndarray, ndarray)
        Distances (``inf`` without targets) and target indexes (``-1`` without targets). Targets within
        :data:`TIE_M` of the nearest (two roads along the same stretch, or both touching the source) tie,
        and the lowest index is named, whatever order the search measured them in.

    Examples
    --------
    >>> from shapely import Point
    >>> src = np.array([Point(-1_700_000, 2_000_000)])
    >>> north, east = Point(-1_700_000, 2_010_000), Point(-1_690_100, 2_000_000)
    >>> d, i = nearest(src, np.array([north, east]), Ground(5070))
    >>> int(i[0]), round(float(d[0]))  # east is nearer on the map (9,900 m), north on the ground
    (0, 9915)
    """
    sources, targets = np.asarray(sources, dtype=object), np.asarray(targets, dtype=object)
    key = ("geodesic", ids_of(targets).tobytes(), ground.crs.to_wkt())
    kept = reuse.recall(key, sources) if reuse is not None else None
    if kept is not None:
        return kept
    if index is not None and index.targets is not targets:
        raise ValueError("nearest: the index was built for another target array")
    g, idx = np.full(len(sources), np.inf), np.full(len(sources), -1)
    if len(sources) and len(targets):
        strtree = index.strtree if index is not None else STRtree(targets)
        touch, hit = strtree.query(sources, predicate="intersects")
        _keep_nearest(np.arange(len(sources)), touch, hit, np.zeros(len(touch)), g, idx)  # ties at 0: the lowest
        live = np.flatnonzero(idx < 0)
        if len(live):  # found and measured on the ground
            index = index if index is not None else target_index(targets, ground, strtree=strtree)
            _closer_on_ground(sources, index, ground, live, g, idx, reuse)
    result = (g, idx)
    return reuse.keep(key, sources, result, targets) if reuse is not None else result


def nearest_xy(x: np.ndarray, y: np.ndarray, index: TargetIndex, ground: Ground) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest` from planar points ``(x, y)`` to a *point* layer (``index``), without making the
    sources' geometries (a national grid's corners are millions of them).

    The point nearest by chord in 3-D is measured first; any other whose chord is within that geodesic
    (a chord is never longer than its geodesic) is measured too, and the least kept.

    Examples
    --------
    >>> from shapely import Point
    >>> subs = np.array([Point(-1_700_000, 2_010_000), Point(-1_690_100, 2_000_000)])
    >>> d, i = nearest_xy(np.array([-1_700_000.0]), np.array([2_000_000.0]), target_index(subs, Ground(5070)),
    ...                   Ground(5070))
    >>> int(i[0]), round(float(d[0]))  # as nearest(): east is nearer on the map, north on the ground
    (0, 9915)
    """
    cut, tree = index.cut, index.tree
    if cut.ends is None or cut.n_points < len(cut):
        raise ValueError("nearest_xy: the layer has lines or polygons; use nearest()")
    x, y = np.asarray(x, float), np.asarray(y, float)
    g, idx = np.full(len(x), np.inf), np.full(len(x), -1)
    tlon, tlat = ground.lonlat(cut.ends[:, 0], cut.ends[:, 1])  # each target's once, each source's once a batch
    k = min(CHORD_K, tree.n)

    def batch(start: int) -> None:  # its own rows of g and idx
        rows = np.arange(start, min(start + PAIR_BATCH, len(x)))
        lon, lat = ground.lonlat(x[rows], y[rows])
        xyz = ground.ecef_of(lon, lat)
        chord, near = (v.reshape(len(rows), k) for v in tree.query(xyz, k=k))
        first = near[:, 0]
        g[rows], idx[rows] = ground.geodesic(lon, lat, tlon[first], tlat[first]), cut.owner[first]
        s, t = _chord_pairs(tree, xyz, chord, near, g[rows])
        s, t = s[t != first[s]], t[t != first[s]]
        _keep_nearest(rows, s, cut.owner[t], ground.geodesic(lon[s], lat[s], tlon[t], tlat[t]), g, idx)

    each(batch, range(0, len(x), PAIR_BATCH))
    return g, idx


@dataclass(frozen=True)
class TargetIndex:
    """A target layer cut into pieces of at most :data:`COARSE_STEP` and indexed for :func:`nearest`:
    the pieces, each piece's ground radius, a KD-tree of their middles in 3-D (ECEF) and an STRtree of
    the targets. Build it once (:func:`target_index`) where the same layer is asked many times.

    Examples
    --------
    >>> from shapely import LineString
    >>> index = target_index(np.array([LineString([(0, 2_000_000), (10_000, 2_000_000)])]), Ground(5070))
    >>> len(index.cut), index.tree.n   # a 10 km line: three pieces of at most 4 km
    (3, 3)
    """

    targets: np.ndarray
    cut: Pieces
    half: np.ndarray
    tree: cKDTree
    strtree: STRtree


def target_index(targets: np.ndarray, ground: Ground, *, strtree: STRtree | None = None) -> TargetIndex:
    """Cut and index ``targets`` for :func:`nearest` (pass the result as its ``index``).

    Examples
    --------
    >>> from shapely import Point
    >>> subs = np.array([Point(-1_700_000, 2_010_000), Point(-1_690_100, 2_000_000)])
    >>> index = target_index(subs, Ground(5070))
    >>> d, i = nearest(np.array([Point(-1_700_000, 2_000_000)]), subs, Ground(5070), index=index)
    >>> int(i[0]), round(float(d[0]))
    (0, 9915)
    """
    targets = np.asarray(targets, dtype=object)
    cut = layer_pieces(targets, step=COARSE_STEP, outlines=True, lazy=True)
    if not len(cut):  # no point, line or polygon part to cut (e.g. nested collections): a clear stop
        raise GeometryError("nearest on the ground: the target layer has no point, line or polygon parts "
                            f"({len(targets):,} features); explode its geometry collections first")
    mid, half = cut.centres()
    half = half * ground.local_scales(mid[:, 0], mid[:, 1], half)[1]  # each piece's ground radius
    return TargetIndex(targets, cut, half, cKDTree(ground.ecef(mid[:, 0], mid[:, 1])),
                       strtree if strtree is not None else STRtree(targets))


def _closer_on_ground(sources, index: TargetIndex, ground, live, g, idx, reuse) -> None:
    """Set (in place) the target nearest on the ellipsoid, and its geodesic distance, of the ``live``
    sources (those touching no target). Lines and outlines are cut into pieces no longer than
    :data:`COARSE_STEP`, each measured where it comes nearest on the map (a second-order error: metres
    at 70 km), so another part of the same line counts as a rival.

    The pieces that could be nearer are found in 3-D (ECEF): a chord is never longer than the geodesic
    between its ends, so a piece whose middle is farther than ``g + rho + half`` by chord from the source's
    anchor (``rho`` and ``half``: ground radii of the source and the piece) cannot be nearer than ``g``.
    Unlike a planar search this band does not widen where the CRS is anisotropic (EPSG:5070 in Alaska
    stretches one direction 30 % more than another); the piece nearest by chord is measured first so
    ``g`` starts near the answer."""
    ax, ay, rho = proximity.anchors(sources, reuse=reuse)
    cut, half, tree = index.cut, index.half, index.tree
    hulls = source_hulls(sources, reuse)
    live = live[np.argsort(morton(ax[live], ay[live]), kind="stable")]  # compact batches: local scale bounds

    def batch(start: int) -> None:  # bounded memory: the pairs of a batch of sources; its own rows of g, idx
        rows = live[start:start + PAIR_BATCH]
        src, xyz = sources[rows], ground.ecef(ax[rows], ay[rows])
        k = min(CHORD_K, tree.n)
        chord, near_t = (v.reshape(len(rows), k) for v in tree.query(xyz, k=k))
        first = near_t[:, 0]
        anchor = (ax[rows], ay[rows], rho[rows])
        lines = cut.ends is not None and bool((shapely.get_type_id(src) != 0).any())
        outline = Outline(src) if lines else None  # outlines measured as coordinates, in both passes
        opening = _measure_pairs(src, cut, ground, rows, np.arange(len(rows)), first, np.inf, g, idx, anchor,
                                 outline)
        s_max = _reach_scale(ground, ax[rows], ay[rows], rho[rows], g[rows])
        radius = rho[rows] * s_max  # the source's ground radius about its anchor
        s, t = _chord_pairs(tree, xyz, chord, near_t, g[rows] + radius + half.max())
        near = (np.linalg.norm(xyz[s] - tree.data[t], axis=1) <= g[rows][s] + radius[s] + half[t]) & (t != first[s])
        rivals = _measure_pairs(src, cut, ground, rows, s[near], t[near], g[rows] * s_max, g, idx, anchor, outline)
        s, t, planar = (np.concatenate(v) for v in zip(opening, rivals, strict=True))
        better = _concave_side(src, s, lambda i: cut.take(t[i]), planar, g[rows][s], ground, s_max[s],
                               hulls[rows])
        _keep_nearest(rows, s, cut.owner[t], better, g, idx)

    each(batch, range(0, len(live), PAIR_BATCH))  # batches in threads: most of their work releases the GIL


def _reach_scale(ground, ax, ay, rho, g) -> np.ndarray:
    """Largest scale over the square a source's rivals can lie in (``rho + g * s_max`` on the map), grown
    where the first guess was short (strongly stretched CRSs)."""
    span = rho + 1.05 * g + COARSE_STEP
    _, s_max = ground.local_scales(ax, ay, span)
    for _ in range(4):
        short = np.flatnonzero(rho + g * s_max > span)
        if not len(short):
            break
        span[short] = rho[short] + 1.1 * g[short] * s_max[short] + COARSE_STEP
        s_max[short] = ground.local_scales(ax[short], ay[short], span[short])[1]
    return s_max


def _chord_pairs(tree: cKDTree, xyz, chord, near_t, bound) -> tuple[np.ndarray, np.ndarray]:
    """(source, piece) pairs with a chord within ``bound`` (per source): the ``k`` nearest asked of the
    tree, and a ball query for the sources whose ``k`` are all within it."""
    n, k = chord.shape
    hit = chord <= bound[:, None]
    full = np.flatnonzero(hit[:, -1]) if k < tree.n else np.zeros(0, np.int64)
    hit[full] = False
    s, t = np.repeat(np.arange(n), k)[hit.ravel()], near_t[hit]
    if len(full):
        fs, ft = ball_pairs(tree, xyz[full], bound[full])
        s, t = np.concatenate([s, full[fs]]), np.concatenate([t, ft])
    return s, t


def _measure_pairs(src, cut: Pieces, ground, rows, s, t, reach, g, idx, anchor, outline) -> tuple[np.ndarray, ...]:
    """Measure the (source, piece) pairs within ``reach`` on the map; keep (in place) each source's
    nearest where it is nearer than ``g``. Returns the measured pairs and their planar distances."""
    s, t, xy = _nearest_pairs(src, cut, s, t, np.broadcast_to(reach, len(src)), anchor, outline)
    if len(s):
        gp = refine(lambda i: src[s[i]], lambda i: cut.take(t[i]), xy,
                    ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3]), ground)  # where the CRS stretches
        _keep_nearest(rows, s, cut.owner[t], gp, g, idx)
    return s, t, np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1])


def _keep_nearest(rows, s, owner, gp, g, idx) -> None:
    """Keep (in place) each source's least ``gp`` over its pairs where it is less than ``g``; targets within
    :data:`TIE_M` of the least (and of ``g``) tie, and the lowest target index among them is kept."""
    if not len(s):
        return
    order = np.lexsort((gp, s))
    s, owner, gp = s[order], owner[order], gp[order]
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    least = np.repeat(gp[start], np.diff(np.r_[start, len(s)]))
    tie = gp <= least + TIE_M
    s, owner, gp, least = s[tie], owner[tie], gp[tie], least[tie]
    order = np.lexsort((owner, s))  # each source's lowest target among its ties first
    first = order[np.r_[True, s[order][1:] != s[order][:-1]][:len(s)]]
    s, owner, gp, least = s[first], owner[first], gp[first], least[first]
    held_g, held = g[rows][s], idx[rows][s]
    better = (least < held_g - TIE_M) | ((least <= held_g + TIE_M) & (owner < held))
    won = rows[s[better]]
    g[won], idx[won] = gp[better], owner[better]


def _concave_side(src, s, take, planar, g, ground, s_max=None, hull=None) -> np.ndarray:
    """Geodesic distance of the pairs ``(src[s[i]], b[i])`` whose source is hollow towards ``b[i]`` (inf for
    the others), over the stretches of the source's outline that could be nearer than ``g[i]``. ``take(i)``
    gives the geometries ``b[i]`` of some pairs (only those of hollow sources are made).

    The planar nearest points are enough where a source bulges towards its target (the error is second
    order, about 0.02 % of the distance). Where it is hollow towards it (land cut around a town follows an
    arc that is equally far on the map, not on the ground), another stretch of the outline can be nearer
    on the ground by the scale's whole spread (2 % in Nevada). Such pairs are found by the source's convex
    hull coming nearer than the source itself. ``s_max`` (per pair) defaults to the bound about the source;
    ``hull`` (per source, :func:`source_hulls`) is computed when not given."""
    out = np.full(len(s), np.inf)
    hull = source_hulls(src) if hull is None else hull
    could = planar <= g * s_max if s_max is not None else True  # farther on the map: farther on the ground
    live = np.flatnonzero((planar > 0) & could & ~shapely.is_missing(hull[s]))
    b = take(live)
    nearer = shapely.distance(hull[s[live]], b) < planar[live] - 1e-2
    live, b = live[nearer], b[nearer]
    if not len(live):
        return out
    if s_max is None:
        ax, ay, rho = proximity.anchors(src[s[live]])
        reach = g[live] * _reach_scale(ground, ax, ay, rho, g[live])
    else:
        reach = g[live] * s_max[live]
    out[live] = _outline_distance(src, s[live], b, reach, ground)
    return out


def _outline_distance(src, s, b, reach, ground) -> np.ndarray:
    """Least geodesic distance from the segments of each ``src[s[i]]``'s outline to the pieces of ``b[i]``
    within ``reach[i]`` on the map (segment to segment in numpy, chunk by chunk: :mod:`siting.geo.outline`)."""
    cut = layer_pieces(b, outlines=True, lazy=True)
    assert cut.ends is not None  # outlines: points and segments only
    pair = cut.owner
    used, source = np.unique(s[pair], return_inverse=True)
    row, xy = Outline(src[used]).pairs(source, cut.ends, reach[pair])
    best = np.full(len(s), np.inf)
    np.minimum.at(best, pair[row], ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3]))
    return best


def _nearest_pairs(src, cut: Pieces, s, t, reach, anchor, outline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose pieces lie within ``reach`` on the map, with their nearest points (x0, y0, x1, y1).

    Pairs are ruled out cheaply before they are measured: by their boxes' gap and, for point and segment
    pieces, by the piece's distance from the source's anchor less the source's reach ``rho`` (``anchor``:
    x, y, rho per source); both are never more than the shapes' distance. ``outline``: the sources' outlines
    (:class:`~siting.geo.outline.Outline`), or None with polygon pieces."""
    if cut.ends is not None and (shapely.get_type_id(src) == 0).all():  # points to segments, in numpy
        p = shapely.get_coordinates(src)[s]
        e = cut.ends[t]
        qx, qy = segment_foot(p[:, 0], p[:, 1], e[:, 0], e[:, 1], e[:, 2], e[:, 3])
        xy = np.column_stack([p, qx, qy])
    else:
        near = box_gap(shapely.bounds(src)[s], cut.boxes(t)) <= reach[s]
        s, t = s[near], t[near]
        if cut.ends is not None:
            ax, ay, rho = anchor
            e = cut.ends[t]
            near = proximity.segment_distance(ax[s], ay[s], e[:, 0], e[:, 1], e[:, 2], e[:, 3]) - rho[s] <= reach[s]
            s, t = s[near], t[near]
        s, t, xy = _shortest(src, cut, s, t, reach, outline)
    close = np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1]) <= reach[s]
    return s[close], t[close], xy[close]


def _shortest(src, cut: Pieces, s, t, reach, outline: Outline | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest points of the pairs whose pieces come within ``reach`` of their source (others are left out).
    Against point and segment pieces, lines and polygons are measured from their outline's coordinates
    (``outline``: that of every source in ``src``; :meth:`~siting.geo.outline.Outline.nearest`); GEOS measures
    the rest (polygon pieces, point sources, collections). The sources touch none of the targets
    (:func:`nearest` sets those to 0 first), so their nearest points to a piece of a target lie on their
    outline."""
    linear = np.isin(shapely.get_type_id(src), [1, 2, 3, 5, 6])  # all their points on lines or rings
    if cut.ends is None or outline is None or not linear.any():
        return s, t, shapely.get_coordinates(shapely.shortest_line(src[s], cut.take(t))).reshape(len(s), 4)
    geos, pair = np.flatnonzero(~linear[s]), np.flatnonzero(linear[s])
    row, xy = outline.nearest(s[pair], cut.ends[t[pair]], reach[s[pair]])
    xy_geos = shapely.get_coordinates(shapely.shortest_line(src[s[geos]], cut.take(t[geos]))).reshape(-1, 4)
    keep = np.r_[geos, pair[row]]
    return s[keep], t[keep], np.vstack([xy_geos, xy])


def count_within(sources: np.ndarray, points: np.ndarray, radius: float, ground: Ground,
                 weights: np.ndarray | None = None, *, reuse: proximity.Reuse | None = None) -> np.ndarray:
    """Count (or sum ``weights`` of) the ``points`` within ``radius`` metres of each source on the ellipsoid.

    Each (source, point) pair whose anchors are within ``radius * s_max`` plus the source's reach is found
    once, in Z-order batches of about :data:`COUNT_PAIRS` pairs: a point within ``radius * s_min`` plus the
    source's inradius of its anchor is certainly in, and only counted (:func:`~siting.geo.balls.ball_split`);
    any other is listed and gets its planar distance to the source, in within ``radius * s_min``, out beyond
    ``radius * s_max`` and measured on the ellipsoid (:func:`pair_distance`) between. Weights are summed as
    whole counts per weight value times the value, so a count does not depend on the order of the points.

    Examples
    --------
    >>> from shapely import Point
    >>> src = np.array([Point(-1_700_000, 2_000_000)])
    >>> pts = np.array([Point(-1_700_000, 2_050_300), Point(-1_650_200, 2_000_000)])  # 50,300 and 49,800 m planar
    >>> count_within(src, pts, 50_000, Ground(5070)).tolist()   # on the ground: 49,877 m (in) and 50,232 m (out)
    [1.0]
    """
    sources, points = np.asarray(sources, dtype=object), np.asarray(points, dtype=object)
    out = np.zeros(len(sources))
    if not len(sources) or not len(points):
        return out
    values, cls = np.unique(np.ones(len(points)) if weights is None else np.asarray(weights, float),
                            return_inverse=True)
    ax, ay, rho = proximity.anchors(sources, reuse=reuse)
    s_min, s_max = ground.local_scales(ax, ay, rho + 1.05 * radius)
    order = np.argsort(morton(ax, ay), kind="stable")  # compact batches
    tree = cKDTree(shapely.get_coordinates(points))
    reach = radius * s_max[order] + rho[order]
    found = tree.query_ball_point(np.column_stack([ax[order], ay[order]]), reach, return_length=True,
                                  workers=settings.THREADS)
    starts = np.r_[0, np.flatnonzero(np.diff(np.cumsum(found) // COUNT_PAIRS)) + 1]
    hulls = source_hulls(sources, reuse) if reuse is not None else None
    sure = radius * s_min + proximity.inradius(sources, ax, ay)  # from the anchor: certainly within

    def batch(bounds: tuple[int, int]) -> None:  # each batch its own sources: threads never share a row
        rows = order[bounds[0]:bounds[1]]
        counts, local, p = ball_split(tree, np.column_stack([ax[rows], ay[rows]]),
                                                reach[bounds[0]:bounds[1]], sure[rows], cls, len(values))
        inside = _within_on_ground(sources, points, rows[local], p, radius, s_min, s_max, ground, hulls)
        counts += np.bincount(local[inside] * len(values) + cls[p[inside]],
                              minlength=counts.size).reshape(counts.shape)
        out[rows] = (counts * values).sum(axis=1)

    each(batch, list(zip(starts, np.r_[starts[1:], len(order)], strict=True)))
    return out


def _within_on_ground(sources, points, s, p, radius, s_min, s_max, ground, hulls) -> np.ndarray:
    """Whether each pair ``(sources[s[i]], points[p[i]])`` is within ``radius`` on the ellipsoid: planar distance
    first (certain below ``radius * s_min``, or beyond ``radius * s_max``), :func:`pair_distance` between (settled
    just beyond the radius)."""
    planar = shapely.distance(sources[s], points[p])
    inside = planar <= radius * s_min[s]
    ring = np.flatnonzero(~inside & (planar <= radius * s_max[s]))
    if len(ring):
        used, at = np.unique(s[ring], return_inverse=True)
        a, b = sources[used][at], points[p[ring]]
        hull = (hulls[used] if hulls is not None else source_hulls(sources[used]))[at]
        gp = pair_distance(a, b, ground, hull=hull)
        near = np.flatnonzero((gp > radius) & (gp <= radius * (1 + SETTLE_BAND)))  # the map's pair a little long
        gp[near] = pair_distance(a[near], b[near], ground, hull=hull[near], everywhere=True)  # never longer
        inside[ring] = gp <= radius
    return inside
