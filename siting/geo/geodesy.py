"""Distances and decisions that hold on the WGS84 ellipsoid, at the speed of the planar engine.

A projected working CRS keeps areas (EPSG:5070 is equal-area) but stretches distances: in Nevada
a planar distance is off by up to 1 % depending on its direction. This module keeps the planar
engine (:mod:`siting.geo.proximity`) for the search and makes every answer true on the ground:

* :class:`Ground` knows the working CRS's ellipsoid and its local scale. The Tissot semi-axes
  ``a >= b`` (pyproj ``get_factors``) bound the scale of every direction at a point, so on a
  region where ``s_min <= b`` and ``a <= s_max``, ``planar / s_max <= geodesic <= planar / s_min``.
  :meth:`Ground.local_scales` gives certified bounds over the region a query touches (a lattice of
  factors with running maxima and minima, plus :data:`MARGIN`).
* :func:`nearest` reports the geodesic length (``pyproj.Geod.inv``) of the nearest pair of points
  (``shapely.shortest_line``) of the target nearest on the ellipsoid, not on the map: the rivals are
  found in 3-D, by chord (a chord is never longer than its geodesic, and unlike a planar band the
  chord's band does not widen where the CRS is anisotropic), and measured exactly.
* :func:`count_within` counts points certainly within (planar ``<= radius * s_min``) in the
  KD-tree, and measures the ring between that and ``radius * s_max`` exactly.
* :func:`pair_distance` is the geodesic length of the shortest line between two shapes.

Examples
--------
>>> import numpy as np
>>> from shapely import Point
>>> ground = Ground("EPSG:5070")
>>> a, b = np.array([Point(-1_700_000, 2_000_000)]), np.array([Point(-1_650_000, 2_000_000)])
>>> planar = 50_000.0
>>> true = float(pair_distance(a, b, ground)[0])
>>> round(true), round(true / planar - 1, 4)   # east-west: 0.86 % longer on the ground in Nevada
(50432, 0.0086)
>>> float(nearest(a, b, ground)[0][0]) == true
True
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Proj
from scipy.ndimage import distance_transform_edt, maximum_filter, minimum_filter
from scipy.spatial import cKDTree
from shapely import STRtree

from siting.core.errors import CRSError, GeometryError, SitingWarning
from siting.geo import proximity
from siting.geo.pieces import Pieces, layer_pieces, segment_foot

__all__ = ["MARGIN", "QUAD_SEGS", "Ground", "buffer_radius", "count_within", "ground_of", "nearest", "pair_distance"]

#: Relative allowance added to the lattice's scale bounds (the scale between lattice nodes).
MARGIN = 2e-5
#: Lattice nodes along the longer side of a query's region.
LATTICE = 96
#: Points bounded with one lattice by :meth:`Ground.local_scales` (a compact chunk in Z-order).
SCALE_CHUNK = 10_000
#: Segments per quarter circle of the buffers that decide rules.
QUAD_SEGS = 16
#: Vertex gap (m) of the coarse index that finds the targets that could be nearer on the ellipsoid.
COARSE_STEP = 4_000.0
#: Pieces asked per source of the chord index (a source with more in range gets a ball query).
CHORD_K = 8
#: Sources whose candidate pairs are listed at once (bounds the memory of the ground check).
PAIR_BATCH = 20_000


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order key of points (16 bits per axis over their extent): points near in the key are near on the map.

    Examples
    --------
    >>> _morton(np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0])).tolist()
    [0, 1431655765, 2863311530, 4294967295]
    """
    key = np.zeros(len(x), np.uint64)
    if not len(x):
        return key
    for v, shift in ((x, 0), (y, 1)):
        q = np.rint((v - v.min()) / max(float(np.ptp(v)), 1e-9) * 65535).astype(np.uint64)
        for bit in range(16):
            key |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
    return key


class Ground:
    """The ellipsoid under a projected CRS: geodesic lengths and certified local scale bounds.

    Examples
    --------
    >>> g = Ground(5070)
    >>> s_min, s_max = g.scale_range((-2_000_000, 1_700_000, -1_500_000, 2_300_000))  # Nevada
    >>> 0.989 < s_min < 0.992, 1.007 < s_max < 1.011
    (True, True)
    """

    def __init__(self, crs) -> None:
        self.crs = CRS.from_user_input(crs)
        if not self.crs.is_projected:
            raise CRSError(f"ground distances need a projected working CRS, not {self.crs.name}")
        self._proj = Proj(self.crs)
        geod = self.crs.get_geod()
        if geod is None:
            raise CRSError(f"{self.crs.name} has no ellipsoid to measure on")
        self.geod = geod
        self._off_domain = False

    def lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (degrees, the CRS's own datum) of planar points."""
        lon, lat = self._proj(np.asarray(x, float), np.asarray(y, float), inverse=True)
        return np.asarray(lon), np.asarray(lat)

    def between(self, x0, y0, x1, y1) -> np.ndarray:
        """Geodesic distance (m) between planar points, pairwise."""
        lon0, lat0 = self.lonlat(x0, y0)
        lon1, lat1 = self.lonlat(x1, y1)
        return np.asarray(self.geod.inv(lon0, lat0, lon1, lat1)[2], dtype=float)

    def ecef(self, x, y) -> np.ndarray:
        """Earth-centred (x, y, z) metres of planar points on the ellipsoid's surface, shape ``(n, 3)``.

        The chord between two such points is never longer than the geodesic between them.

        Examples
        --------
        >>> g = Ground(5070)
        >>> a, b = g.ecef([-1_700_000, -1_500_000], [2_000_000, 2_100_000])
        >>> chord = float(np.linalg.norm(a - b))
        >>> geodesic = float(g.between(-1_700_000, 2_000_000, -1_500_000, 2_100_000))
        >>> round(geodesic - chord, 1)   # 224 km: the chord is 11.5 m shorter (about D**3 / 24 R**2)
        11.5
        """
        lon, lat = (np.radians(v) for v in self.lonlat(x, y))
        off = ~(np.isfinite(lon) & np.isfinite(lat))
        if off.any():  # a KD-tree would only say "data must be finite"
            raise CRSError(f"{int(off.sum()):,} points have no longitude/latitude in {self.crs.name} (outside its "
                           "domain): check the layers' CRS or choose a working CRS that covers them")
        es = self.geod.es
        n = self.geod.a / np.sqrt(1.0 - es * np.sin(lat) ** 2)
        return np.column_stack([n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                n * (1.0 - es) * np.sin(lat)])

    def factors(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Largest and smallest scale of any direction at planar points (Tissot semi-axes); NaN where the
        CRS has none (outside its domain)."""
        lon, lat = self.lonlat(x, y)
        f = self._proj.get_factors(lon, lat)
        a, b = np.asarray(f.tissot_semimajor, float), np.asarray(f.tissot_semiminor, float)
        bad = ~(np.isfinite(a) & np.isfinite(b) & (b > 0))
        if bad.all():
            raise CRSError(f"{self.crs.name} has no scale factors at these points (outside its area of use)")
        a[bad], b[bad] = np.nan, np.nan
        return a, b

    def _lattice(self, bounds) -> tuple[np.ndarray, np.ndarray, float, float, float]:
        minx, miny, maxx, maxy = bounds
        step = max(maxx - minx, maxy - miny, 1.0) / LATTICE
        xs = np.arange(minx, maxx + step, step)
        ys = np.arange(miny, maxy + step, step)
        gx, gy = np.meshgrid(xs, ys)
        a, b = (v.reshape(gx.shape) for v in self.factors(gx.ravel(), gy.ravel()))
        bad = np.isnan(a)
        if bad.any() and not self._off_domain:  # off the projection's domain: the nearest node's, said once
            self._off_domain = True
            warnings.warn(f"{self.crs.name} has no scale factors at {int(bad.sum()):,} of {bad.size:,} lattice "
                          "points of a region the search covers (outside its domain: e.g. a national layer's far "
                          "features with a regional CRS); the nearest points' scales are used there. Clip the layers "
                          "to the study area or choose a working CRS that covers them (said once per CRS)",
                          SitingWarning, stacklevel=3)
        if bad.any():
            near = distance_transform_edt(bad, return_distances=False, return_indices=True)
            a, b = a[tuple(near)], b[tuple(near)]
        return a, b, float(minx), float(miny), float(step)

    def scale_range(self, bounds) -> tuple[float, float]:
        """Certified ``(s_min, s_max)`` of every direction over a region ``(minx, miny, maxx, maxy)``."""
        a, b, *_ = self._lattice(bounds)
        return float(b.min() * (1 - MARGIN)), float(a.max() * (1 + MARGIN))

    def local_scales(self, x, y, reach) -> tuple[np.ndarray, np.ndarray]:
        """Certified ``(s_min, s_max)`` per point over the square ``point +- reach`` (planar units).

        Points are bounded in spatially compact chunks of :data:`SCALE_CHUNK` (Z-order), each with its
        own lattice, so a national layer gets bounds as local as a county's."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        reach = np.broadcast_to(np.asarray(reach, float), x.shape)
        if len(x) <= SCALE_CHUNK:
            return self._chunk_scales(x, y, reach)
        s_min, s_max = np.empty(len(x)), np.empty(len(x))
        order = np.argsort(_morton(x, y), kind="stable")
        for start in range(0, len(x), SCALE_CHUNK):
            sel = order[start:start + SCALE_CHUNK]
            s_min[sel], s_max[sel] = self._chunk_scales(x[sel], y[sel], reach[sel])
        return s_min, s_max

    def _chunk_scales(self, x, y, reach) -> tuple[np.ndarray, np.ndarray]:
        if not len(x):
            return np.ones(0), np.ones(0)
        r = float(reach.max())
        a, b, x0, y0, step = self._lattice((x.min() - r, y.min() - r, x.max() + r, y.max() + r))
        col = np.clip(np.rint((x - x0) / step).astype(int), 0, a.shape[1] - 1)
        row = np.clip(np.rint((y - y0) / step).astype(int), 0, a.shape[0] - 1)
        need = np.ceil(reach / step).astype(int) + 1  # nodes each side covering the reach and the rounding
        width = np.minimum(1 << np.ceil(np.log2(np.maximum(need, 1))).astype(int), max(a.shape))
        s_min, s_max = np.empty(len(x)), np.empty(len(x))
        for w in np.unique(width):
            sel = width == w
            size = 2 * int(w) + 1
            s_max[sel] = maximum_filter(a, size=size, mode="nearest")[row[sel], col[sel]]
            s_min[sel] = minimum_filter(b, size=size, mode="nearest")[row[sel], col[sel]]
        return s_min * (1 - MARGIN), s_max * (1 + MARGIN)


def buffer_radius(features: np.ndarray, distance: float, ground: Ground | None, *, cover: bool) -> np.ndarray:
    """Planar buffer radius per feature so that a :data:`QUAD_SEGS` buffer decides ``distance`` on the ground.

    ``cover=True`` (exclusions): the buffer holds every point within ``distance`` on the ellipsoid:
    ``distance * s_max / cos(pi / (4 * QUAD_SEGS)) + 1 mm`` (the polygon's chords lie inside the circle).
    ``cover=False`` (``within``): every point of the buffer is within ``distance`` on the ellipsoid:
    ``distance * s_min`` (the polygon lies inside its circle). Without ``ground``, planar.

    Examples
    --------
    >>> from shapely import Point
    >>> pts = np.array([Point(-1_700_000, 2_000_000)])
    >>> out, inn = (float(buffer_radius(pts, 5_000, Ground(5070), cover=c)[0]) for c in (True, False))
    >>> round(out, 1), round(inn, 1)   # in Nevada: at most about 100 m lost beyond a 5 km exclusion
    (5053.6, 4953.0)
    """
    features = np.asarray(features, dtype=object)
    if ground is None or not len(features) or distance <= 0:
        return np.full(len(features), float(distance))
    ax, ay, rho = proximity.anchors(features)
    s_min, s_max = ground.local_scales(ax, ay, rho + 1.05 * distance)
    if cover:
        return distance * s_max / np.cos(np.pi / (4 * QUAD_SEGS)) + 1e-3
    return distance * s_min


@lru_cache(maxsize=8)
def _ground(wkt: str) -> Ground:
    return Ground(wkt)


def ground_of(crs) -> Ground | None:
    """The :class:`Ground` of a projected CRS (cached), or None for a missing or geographic CRS.

    Examples
    --------
    >>> ground_of("EPSG:5070").crs.to_epsg(), ground_of(None), ground_of(4326)
    (5070, None, None)
    """
    if crs is None:
        return None
    crs = CRS.from_user_input(crs)
    return _ground(crs.to_wkt()) if crs.is_projected else None


def pair_distance(a: np.ndarray, b: np.ndarray, ground: Ground) -> np.ndarray:
    """Geodesic length (m) of the shortest line between each ``a[i]`` and ``b[i]`` (0 where they touch).

    The nearest points are found in the plane; the length is measured on the ellipsoid.

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
    if (shapely.get_type_id(a) == 0).all() and (shapely.get_type_id(b) == 0).all():
        xy = np.column_stack([shapely.get_coordinates(a), shapely.get_coordinates(b)])
    else:
        xy = shapely.get_coordinates(shapely.shortest_line(a, b)).reshape(len(a), 4)
    return ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])


def nearest(sources: np.ndarray, targets: np.ndarray, ground: Ground, *,
            reuse: proximity.Reuse | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m) from each source to its nearest target on the ellipsoid, and that target.

    Parameters
    ----------
    sources, targets : ndarray of geometry
        Valid, non-empty geometries in ``ground``'s CRS.
    ground : Ground
    reuse : Reuse, optional
        Answers kept for the run (:class:`siting.geo.proximity.Reuse`).

    Returns
    -------
    (ndarray, ndarray)
        Distances (``inf`` without targets) and target indexes (``-1`` without targets).

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
    key = ("geodesic", proximity._ids(targets).tobytes(), ground.crs.to_wkt())
    kept = reuse.recall(key, sources) if reuse is not None else None
    if kept is not None:
        return kept
    g, idx = np.full(len(sources), np.inf), np.full(len(sources), -1)
    if len(sources) and len(targets):
        touch, hit = STRtree(targets).query(sources, predicate="intersects")
        g[touch], idx[touch] = 0.0, hit
        live = np.flatnonzero(idx < 0)
        if len(live):  # found and measured on the ground
            _closer_on_ground(sources, targets, ground, live, g, idx, reuse)
    result = (g, idx)
    return reuse.keep(key, sources, result, targets) if reuse is not None else result


def _closer_on_ground(sources, targets, ground, live, g, idx, reuse) -> None:
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
    cut = layer_pieces(targets, step=COARSE_STEP, outlines=True)
    if not len(cut.pieces):  # no point, line or polygon part to cut (e.g. nested collections): a clear stop
        raise GeometryError("nearest on the ground: the target layer has no point, line or polygon parts "
                            f"({len(targets):,} features); explode its geometry collections first")
    mid, _ = cut.midpoints()
    box = shapely.bounds(cut.pieces)
    half = np.hypot(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) / 2
    half = half * ground.local_scales(mid[:, 0], mid[:, 1], half)[1]  # each piece's ground radius
    tree = cKDTree(ground.ecef(mid[:, 0], mid[:, 1]))
    live = live[np.argsort(_morton(ax[live], ay[live]), kind="stable")]  # compact batches: local scale bounds
    for start in range(0, len(live), PAIR_BATCH):  # bounded memory: the pairs of a batch of sources
        rows = live[start:start + PAIR_BATCH]
        src, xyz = sources[rows], ground.ecef(ax[rows], ay[rows])
        k = min(CHORD_K, len(mid))
        chord, near_t = (v.reshape(len(rows), k) for v in tree.query(xyz, k=k))
        first = near_t[:, 0]
        _measure_pairs(src, cut, ground, rows, np.arange(len(rows)), first, np.inf, g, idx)
        s_max = _reach_scale(ground, ax[rows], ay[rows], rho[rows], g[rows])
        radius = rho[rows] * s_max  # the source's ground radius about its anchor
        s, t = _chord_pairs(tree, xyz, chord, near_t, g[rows] + radius + half.max())
        near = (np.linalg.norm(xyz[s] - tree.data[t], axis=1) <= g[rows][s] + radius[s] + half[t]) & (t != first[s])
        _measure_pairs(src, cut, ground, rows, s[near], t[near], g[rows] * s_max, g, idx)


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
        fs, ft = proximity.ball_pairs(tree, xyz[full], bound[full])
        s, t = np.concatenate([s, full[fs]]), np.concatenate([t, ft])
    return s, t


def _measure_pairs(src, cut: Pieces, ground, rows, s, t, reach, g, idx) -> None:
    """Measure the (source, piece) pairs within ``reach`` on the map; keep (in place) each source's
    nearest where it is nearer than ``g``."""
    s, t, xy = _nearest_pairs(src, cut, s, t, np.broadcast_to(reach, len(src)))
    if not len(s):
        return
    gp = ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])
    order = np.lexsort((gp, s))
    s, t, gp = s[order], t[order], gp[order]
    first = np.r_[True, s[1:] != s[:-1]]
    s, t, gp = s[first], t[first], gp[first]
    better = gp < g[rows][s]
    won = rows[s[better]]
    g[won], idx[won] = gp[better], cut.owner[t[better]]


def _nearest_pairs(src, cut: Pieces, s, t, reach) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose pieces lie within ``reach`` on the map, with their nearest points (x0, y0, x1, y1)."""
    if cut.ends is not None and (shapely.get_type_id(src) == 0).all():  # points to segments, in numpy
        p = shapely.get_coordinates(src)[s]
        e = cut.ends[t]
        qx, qy = segment_foot(p[:, 0], p[:, 1], e[:, 0], e[:, 1], e[:, 2], e[:, 3])
        xy = np.column_stack([p, qx, qy])
    else:
        near = _box_gap(shapely.bounds(src)[s], shapely.bounds(cut.pieces)[t]) <= reach[s]
        s, t = s[near], t[near]
        big = np.flatnonzero(shapely.get_num_coordinates(src) > 32)  # their hull is a cheap lower bound
        if len(big):
            hull = np.empty(len(src), dtype=object)
            hull[big] = shapely.convex_hull(src[big])
            pair = np.flatnonzero(np.isin(s, big))
            near = np.ones(len(s), bool)
            near[pair] = shapely.distance(hull[s[pair]], cut.pieces[t[pair]]) <= reach[s[pair]]
            s, t = s[near], t[near]
        xy = shapely.get_coordinates(shapely.shortest_line(src[s], cut.pieces[t])).reshape(len(s), 4)
    close = np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1]) <= reach[s]
    return s[close], t[close], xy[close]


def _box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between bounding boxes (rows ``minx, miny, maxx, maxy``): never more than the shapes'."""
    dx = np.maximum(0.0, np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]))
    dy = np.maximum(0.0, np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]))
    return np.hypot(dx, dy)


def count_within(sources: np.ndarray, points: np.ndarray, radius: float, ground: Ground,
                 weights: np.ndarray | None = None, *, reuse: proximity.Reuse | None = None) -> np.ndarray:
    """Count (or sum ``weights`` of) the ``points`` within ``radius`` metres of each source on the ellipsoid.

    Points certainly within (planar distance ``<= radius * s_min``) are counted by the KD-tree engine;
    points in the ring up to ``radius * s_max`` are measured with :func:`pair_distance`.

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
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=float)
    ax, ay, rho = proximity.anchors(sources, reuse=reuse)
    s_min, s_max = ground.local_scales(ax, ay, rho + 1.05 * radius)
    out = proximity.count_within(sources, points, radius * s_min, w, reuse=reuse)
    outer = proximity.count_within(sources, points, radius * s_max, w, reuse=reuse)
    ring = np.flatnonzero(outer > out + 1e-12)
    if len(ring):
        s, t = _ring_pairs(sources[ring], ax[ring], ay[ring], rho[ring], points, radius * s_min[ring],
                           radius * s_max[ring])
        inside = pair_distance(sources[ring][s], points[t], ground) <= radius
        out[ring] += np.bincount(s[inside], weights=w[t[inside]], minlength=len(ring))
    return out


def _ring_pairs(sources, ax, ay, rho, points, inner, outer) -> tuple[np.ndarray, np.ndarray]:
    """(source, point) pairs with a planar distance in ``(inner, outer]`` (per source)."""
    tree = cKDTree(shapely.get_coordinates(points))
    xy = np.column_stack([ax, ay])
    src, pt = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(sources), proximity.BATCH):
        sl = slice(start, start + proximity.BATCH)
        s, p = proximity.ball_pairs(tree, xy[sl], outer[sl] + rho[sl], beyond=inner[sl])  # nearer: certainly in
        s += start
        planar = shapely.distance(sources[s], points[p])
        keep = (planar > inner[s]) & (planar <= outer[s])
        src.append(s[keep])
        pt.append(p[keep])
    return np.concatenate(src), np.concatenate(pt)
