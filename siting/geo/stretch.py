"""Nearest points on the ground where the working CRS stretches one direction more than another.

The ground engine (:mod:`siting.geo.geodesy`) finds the nearest points of two shapes on the map and
measures the geodesic between them. Where the CRS scales every direction alike, the map's nearest pair is
the ground's to second order (a few metres at 70 km). Where it does not (the Tissot axes ``a > b``: EPSG:5070
scales one direction 11 % more than another at 55 degrees north, and 2.2 times at 72 degrees), the map's
nearest points sit elsewhere along the shapes than the ground's, and their geodesic is longer than the true
distance by about ``((r - 1) / (r + 1))**2 / 2`` of it (``r = a / b``): 3e-4 at ``r = 1.05``, 0.1 % at 1.09,
3 % at 2.2 (measured against ``pyproj.Geod`` on densified shapes).

:func:`refine` finds such pairs again in the ground's local frame: both shapes are mapped by the local
metric ``M`` (ground east and north metres per planar metre, at the middle of the map's nearest pair; an
affine map keeps straight edges straight), their nearest points found there, mapped back, and measured on the
ellipsoid. The smaller of the two geodesics is kept: each is the length of a real pair of points, one on
each shape, so the answer is never shorter than the true distance and comes within the same second-order
error as where the CRS does not stretch. :data:`STRETCH` decides where (:meth:`Stretch.flags`, a cache of
the CRS's anisotropy per :data:`CELL_M` square), so a region the CRS fits (the lower 48 in EPSG:5070) pays
nothing and keeps its answers to the last bit.

Examples
--------
>>> import numpy as np, shapely
>>> from shapely import LineString, Point
>>> from siting.geo.ground import Ground
>>> ground = Ground(5070)
>>> src = np.array([Point(-2_230_000, 5_724_000)])           # 72 N in EPSG:5070: one axis 2.2x the other
>>> line = np.array([LineString([(-2_209_800, 5_704_700), (-2_220_200, 5_743_300)])])
>>> xy = shapely.get_coordinates(shapely.shortest_line(src, line)).reshape(1, 4)   # nearest on the map
>>> on_map = ground.between(*xy.T)
>>> round(float(on_map[0])), round(float(refine(src, line, xy, on_map, ground)[0]))  # Geod on the line: 12,241
(16356, 12241)
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import shapely

__all__ = ["CELL_M", "SETTLE_BAND", "STRETCH", "Stretch", "metric", "refine"]

#: Ratio of the Tissot axes ``a / b`` above which a pair's nearest points are found again in the local frame.
#: Below it the map's pair is at most about 3e-4 too long (a third of the 0.1 % promised; measured up to 1.9e-4 in
#: and around Nevada, above the formula's 4e-5, as the scale also changes along the pair), and rules that decide on
#: a nearest distance settle the values near their threshold (:mod:`siting.geo.settle`). EPSG:5070 stays
#: under 1.029 over the lower 48 (1.019 in Nevada) and passes 1.05 north of about 51 degrees (Alaska: 1.06 to 2.2).
STRETCH = 1.05
#: Values within this share above a threshold are settled by :func:`refine` with ``everywhere``: below
#: :data:`STRETCH` the map's nearest pair is at most about 3e-4 too long (measured up to 1.9e-4 around Nevada).
SETTLE_BAND = 1e-3
#: Side (planar m) of the squares whose anisotropy :class:`Stretch` keeps (sampled at corners and middle).
CELL_M = 25_000.0
#: Shapes with more vertices than this are cut to where their nearest points can lie before they are mapped.
CUT_VERTICES = 64
#: Vertices of the pairs mapped at once (bounds the memory of :func:`refine`: about 100 bytes a vertex).
BATCH_VERTICES = 500_000
#: Rounds of :func:`_reach` growing a reach until the scale bound over it certifies it (else the shape stays whole).
REACH_ROUNDS = 6
#: Planar step (m) of the finite differences of :func:`metric`.
STEP_M = 10.0
_HALF = 1 << 31


def metric(ground, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The local metric at planar points: ``(n, 2, 2)`` matrices of ground metres (east, north) per planar
    metre along x and y (finite differences of :data:`STEP_M` on the ellipsoid).

    Examples
    --------
    >>> from siting.geo.ground import Ground
    >>> m = metric(Ground(5070), np.array([-1_700_000.0]), np.array([2_000_000.0]))[0]   # Nevada
    >>> np.round(m, 3).tolist()   # nearly a rotation: the map's north is 12 degrees off true north here
    [[0.987, -0.212], [0.208, 0.969]]
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    lon, lat = ground.lonlat(x, y)
    out = np.empty((len(x), 2, 2))
    for k, (dx, dy) in enumerate(((STEP_M, 0.0), (0.0, STEP_M))):
        lon1, lat1 = ground.lonlat(x + dx, y + dy)
        az, _, dist = ground.geod.inv(lon, lat, lon1, lat1)
        az = np.radians(np.asarray(az, float))
        out[:, 0, k] = np.asarray(dist, float) * np.sin(az) / STEP_M
        out[:, 1, k] = np.asarray(dist, float) * np.cos(az) / STEP_M
    return out


class Stretch:
    """Where a CRS's anisotropy (``a / b``, the Tissot axes) exceeds :data:`STRETCH`, kept per :data:`CELL_M`
    square as it is asked (a square counts as stretched where any of its corners or its middle is).

    Examples
    --------
    >>> from siting.geo.ground import Ground
    >>> flags = Stretch(Ground(5070)).flags
    >>> flags(np.array([-1_700_000.0, -2_230_000.0]), np.array([2_000_000.0, 5_724_000.0])).tolist()  # NV, 72 N
    [False, True]
    """

    def __init__(self, ground) -> None:
        self.ground = ground
        self._known: dict[int, bool] = {}  # square key -> stretched

    def flags(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether each planar point lies in a square where the CRS stretches beyond :data:`STRETCH`."""
        i, j = (np.floor(np.asarray(v, float) / CELL_M).astype(np.int64) for v in (x, y))
        back, keys = pd.factorize((i << 32) | (j + _HALF))  # one key a square (32 bits each way)
        new = [k for k in keys.tolist() if k not in self._known]
        if new:
            cells = np.array([(k >> 32, (k & 0xFFFFFFFF) - _HALF) for k in new], dtype=float)
            self._known.update(zip(new, self._measure(cells).tolist(), strict=True))
        return np.array([self._known[k] for k in keys.tolist()], bool)[back]

    def _measure(self, cells: np.ndarray) -> np.ndarray:
        corner = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
        pts = (cells[:, None, :] + corner[None]) * CELL_M
        a, b = self.ground.factors(pts[..., 0].ravel(), pts[..., 1].ravel())
        with np.errstate(all="ignore"):
            ratio = (a / b).reshape(len(cells), len(corner))
        return np.nan_to_num(ratio, nan=1.0).max(axis=1) > STRETCH


def refine(a, b, xy: np.ndarray, gp: np.ndarray, ground, *, everywhere: bool = False) -> np.ndarray:
    """Ground distance of each pair ``(a[i], b[i])``: ``gp`` (the geodesic of the map's nearest points ``xy``:
    x0, y0, x1, y1), or where the CRS stretches there (``everywhere``: for every pair), the shorter of it and the
    geodesic of the nearest points found in the local frame (see the module docstring). ``a`` and ``b`` are
    geometry arrays, or callables giving the geometries of some pairs (``take(i)``), so only the pairs refined
    are made."""
    gp = np.asarray(gp, float)
    if not len(gp):
        return gp
    mx, my = (xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2
    live = np.flatnonzero((gp > 0) & np.isfinite(gp) & np.isfinite(mx) & np.isfinite(my))
    live = live if everywhere else live[ground.stretch.flags(mx[live], my[live])]
    out = gp.copy()
    if not len(live):
        return out
    ga, gb = (np.asarray(g(live) if callable(g) else np.asarray(g, dtype=object)[live], dtype=object) for g in (a, b))
    size = np.cumsum(shapely.get_num_coordinates(ga) + shapely.get_num_coordinates(gb))
    cuts = np.r_[0, np.flatnonzero(np.diff(size // BATCH_VERTICES)) + 1, len(live)]
    for lo, hi in itertools.pairwise(cuts):  # bounded memory: a batch's vertices mapped at once
        rows = live[lo:hi]
        found = _nearest_on_ground(ga[lo:hi], gb[lo:hi], np.column_stack([mx[rows], my[rows]]), gp[rows], ground)
        out[rows] = np.fmin(gp[rows], found)
    return out


def _nearest_on_ground(a, b, origin, gp, ground) -> np.ndarray:
    """Geodesic of the nearest points of each pair found in the local frame at ``origin`` (inf where the parts
    that could be nearer than ``gp`` are empty)."""
    m = metric(ground, origin[:, 0], origin[:, 1])
    ok = np.flatnonzero(np.isfinite(m).all(axis=(1, 2)))  # off the CRS's domain: the map's pair stays
    a, b, kept = _near_parts(a[ok], b[ok], gp[ok], ground)
    kept = ok[kept]
    out = np.full(len(gp), np.inf)
    m, origin = m[kept], origin[kept]
    near = shapely.get_coordinates(shapely.shortest_line(_mapped(a, m, origin), _mapped(b, m, origin)))
    back = np.einsum("nij,nkj->nki", np.linalg.inv(m), near.reshape(len(kept), 2, 2)) + origin[:, None, :]
    out[kept] = ground.between(back[:, 0, 0], back[:, 0, 1], back[:, 1, 0], back[:, 1, 1])  # (pair, end, xy)
    return out


def _near_parts(a: np.ndarray, b: np.ndarray, gp: np.ndarray, ground) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linework of each shape (a polygon's outline: the shapes do not touch, so their nearest points lie
    on it) within the other's box grown by the certified reach of ``gp`` on the ground (:func:`_reach`): a
    large parcel then costs only its edges near the target. The pairs with both parts left. A point found
    where an edge is cut lies farther than ``gp`` on the ground, so it never beats the map's pair."""
    a, b = _linework(a), _linework(b)
    ba, bb = shapely.bounds(a), shapely.bounds(b)
    a, b = _cut(a, bb, _reach(ground, bb, gp)), _cut(b, ba, _reach(ground, ba, gp))
    kept = np.flatnonzero(~shapely.is_empty(a) & ~shapely.is_empty(b))
    return a[kept], b[kept], kept


def _reach(ground, box: np.ndarray, gp: np.ndarray) -> np.ndarray:
    """Planar distance from each ``box`` that holds every point within ``gp`` of it on the ground: ``r`` with
    ``r >= gp * s_max`` over the box grown by ``r`` (certified scale bounds, :meth:`Ground.local_scales`), grown
    until it holds; ``inf`` (no cut) where :data:`REACH_ROUNDS` rounds do not settle it."""
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    half = np.hypot(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) / 2
    r = gp * 1.1
    short = np.ones(len(gp), bool)
    for _ in range(REACH_ROUNDS):
        need = gp * ground.local_scales(cx, cy, half + r)[1]
        short = need > r
        if not short.any():
            break
        r = np.where(short, need * 1.1, r)
    return np.where(short, np.inf, r)


def _cut(geoms: np.ndarray, box: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """The shapes of more than :data:`CUT_VERTICES` vertices cut to ``box`` grown by ``reach`` (the others, and
    those with an infinite reach, whole)."""
    out = geoms.copy()
    big = np.flatnonzero((shapely.get_num_coordinates(geoms) > CUT_VERTICES) & np.isfinite(reach))
    r = reach[big]
    out[big] = shapely.intersection(geoms[big], shapely.box(box[big, 0] - r, box[big, 1] - r, box[big, 2] + r,
                                                            box[big, 3] + r))
    return out


def _linework(geoms: np.ndarray) -> np.ndarray:
    """Polygons as their outlines (each distinct shape once: a parcel comes in many pairs), others as they are."""
    out = geoms.copy()
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6)))
    if len(poly):
        ids = np.fromiter((id(g) for g in geoms[poly]), np.int64, len(poly))
        _, first, back = np.unique(ids, return_index=True, return_inverse=True)
        out[poly] = shapely.boundary(geoms[poly[first]])[back.ravel()]
    return out


def _mapped(geoms: np.ndarray, m: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Each geometry mapped by its own affine map ``p -> m[i] (p - origin[i])``."""
    _, owner = shapely.get_coordinates(geoms, return_index=True)
    mm, oo = m[owner], origin[owner]
    return shapely.transform(geoms, lambda c: np.einsum("nij,nj->ni", mm, c - oo))
