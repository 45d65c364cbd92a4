"""How far the farthest point of each footprint lies from a layer, on the ground.

A footprint is within ``d`` of a layer when *every* point of it is. The farthest point is not
always a corner: on an edge that crosses from one feature's reach to another's, the distance
peaks in between, and inside a footprint it can peak where three point features are equally
far (a vertex of their Voronoi diagram). :func:`farthest_distance` finds that peak without a
threshold, so the value is the same whatever threshold later judges it (relaxation curves
re-decide the ledger value):

* every vertex of every ring is measured on the ground (:func:`siting.geo.spatial.nearest`);
* an edge whose two ends have the same nearest *convex* feature piece (a point, one segment of
  a line, a convex polygon) is settled: the distance to a convex set is convex along a
  segment, so no inner point of the edge is farther than its ends;
* an edge is also settled when its Lipschitz bound ``(d1 + d2 + length_on_ground) / 2`` is
  not above the farthest distance already found for the footprint;
* an edge whose ends are nearest two different *points* is split where it crosses from one's
  reach to the other's (a few Newton steps on the ground distances): where nothing else is
  nearer there, both halves are settled (each within one point's reach at both ends), and the
  distance there counts (at most ``TOL_M / 2`` above the truth);
* any other edge is halved and its midpoint measured, until pieces are :data:`TOL_M` long on
  the ground; their bound is then the value (at most ``TOL_M / 2`` above the truth);
* for point layers, the inner peaks are the vertices of the points' Voronoi diagram *on the
  ground*: each map vertex is moved by Newton steps to the point equally far on the ellipsoid
  from its three points, and measured where it falls inside a footprint.

For line and polygon layers a peak strictly inside the footprint (a medial-axis vertex) is not
searched: the value is then the farthest point of the outline.

Examples
--------
>>> import numpy as np
>>> from shapely import Point, box
>>> # a 2 km square between two substations 6 km apart: each corner is at most 2.83 km (on the
>>> # map) from the nearer one, but the middle of the top edge is 3.61 km from both
>>> foot = np.array([box(-1_701_000, 2_000_000, -1_699_000, 2_002_000)])
>>> subs = np.array([Point(-1_703_000, 2_000_000), Point(-1_697_000, 2_000_000)])
>>> round(float(farthest_distance(foot, subs, 5070)[0]))   # on the ground
3618
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import QhullError, Voronoi, cKDTree

from siting.core.errors import warn
from siting.geo import geodesy, spatial
from siting.geo.ground import morton
from siting.geo.parallel import each
from siting.geo.pieces import layer_pieces, outline_segments

__all__ = ["TOL_M", "farthest_distance"]

#: Length (m on the ground) below which an unsettled edge piece is not halved any more.
TOL_M = 1.0
#: Relative allowance per km of a footprint's diagonal (plus one) for the change of scale across it
#: (EPSG:5070: about 3e-5 per km in the lower 48, 1e-4 per km in Alaska).
FOOT_MARGIN = 2e-4
#: Footprints whose edges are searched at once, neighbours together (bounds memory: a national grid's
#: 2 M cells have 11 M edges and 35 M corner copies); one batch per thread at a time.
FOOT_BATCH = 50_000
_MAX_ROUNDS = 60
#: Newton steps towards the point of an edge equally far from two point features on the ground.
CROSSING_STEPS = 3


def farthest_distance(geoms: np.ndarray, features: np.ndarray, crs=None, *, tol_m: float = TOL_M) -> np.ndarray:
    """Distance (m) on the ground from each footprint's farthest point to the nearest feature.

    Parameters
    ----------
    geoms : ndarray of geometry
        Footprints (polygons; points and lines are judged by their vertices and edges) in ``crs``.
    features : ndarray of geometry
        The layer (points, lines or polygons) in the same CRS.
    crs : CRS-like, optional
        The projected CRS; distances are then geodesic metres (else planar units).
    tol_m : float
        Edge pieces and cells around peaks are split down to this size on the ground; the value is
        at most ``tol_m / 2`` above the true farthest distance, never below it.

    Returns
    -------
    ndarray
        One value per footprint (NaN for missing or empty footprints, ``inf`` without features).

    Examples
    --------
    >>> from shapely import Point, box
    >>> farthest_distance(np.array([box(0, 0, 3, 4), None]), np.array([Point(0, 0)])).tolist()
    [5.0, nan]
    """
    geoms, features = np.asarray(geoms, dtype=object), np.asarray(features, dtype=object)
    out = np.full(len(geoms), np.nan)
    live = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if not len(live):
        return out
    cut = layer_pieces(features)
    pieces, convex = cut.take(np.arange(len(cut))), cut.convex
    if not len(pieces):
        out[live] = np.inf
        return out
    search = _Search(geoms[live], pieces, convex, crs, tol_m)
    search.edges()
    if (shapely.get_type_id(pieces) == 0).all():
        search.voronoi_peaks()
    out[live] = np.maximum(search.best, search.bound)
    return out


def _distinct(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct points of an ``(n, 2)`` array and each row's index among them (hashing: ``np.unique`` with
    ``axis=0`` sorts rows, 10x slower on a national grid's corners).

    Examples
    --------
    >>> back, unique = _distinct(np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0]]))
    >>> back.tolist(), unique.tolist()
    ([0, 1, 0], [[0.0, 1.0], [2.0, 3.0]])
    """
    codes, values = pd.factorize(np.ascontiguousarray(xy, dtype=float).view(np.complex128).ravel())
    return codes, np.column_stack([values.real, values.imag])


def _footprint_scale(ground: geodesy.Ground | None, box: np.ndarray) -> np.ndarray:
    """Largest scale over each footprint's box: the Tissot semi-major axis at its corners and centre,
    plus :data:`FOOT_MARGIN` per km of its diagonal for the change between them. Each footprint's own,
    so a footprint gets the same value however the footprints are batched or partitioned."""
    if ground is None:
        return np.ones(len(box))
    xs = np.column_stack([box[:, 0], box[:, 2], box[:, 0], box[:, 2], (box[:, 0] + box[:, 2]) / 2])
    ys = np.column_stack([box[:, 1], box[:, 1], box[:, 3], box[:, 3], (box[:, 1] + box[:, 3]) / 2])
    a, _ = ground.factors(xs.ravel(), ys.ravel())
    with np.errstate(all="ignore"):
        s_max = np.nanmax(a.reshape(xs.shape), axis=1)
    off = np.isnan(s_max)  # no factor anywhere on the box: the region's certified bound
    if off.any():
        s_max[off] = ground.local_scales(xs[off, 4], ys[off, 4], np.hypot(box[off, 2] - box[off, 0],
                                                                          box[off, 3] - box[off, 1]))[1]
    diag_km = np.hypot(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) / 1_000
    return s_max * (1 + FOOT_MARGIN * (1 + diag_km))


class _Search:
    """The farthest distance found so far (``best``) and the bound of unresolved pieces (``bound``)."""

    def __init__(self, geoms: np.ndarray, pieces: np.ndarray, convex: np.ndarray, crs, tol_m: float):
        self.geoms, self.pieces, self.convex, self.crs = geoms, pieces, convex, crs
        self.ground = geodesy.ground_of(crs)
        self.index: geodesy.TargetIndex | None = None
        self.s_max = _footprint_scale(self.ground, shapely.bounds(geoms))
        self.tol = tol_m
        self.best, self.bound = np.full(len(geoms), -np.inf), np.full(len(geoms), -np.inf)
        self.is_point = shapely.get_type_id(pieces) == 0
        self.point_xy = np.full((len(pieces), 2), np.nan)
        self.point_xy[self.is_point] = shapely.get_coordinates(pieces[self.is_point])

    def measure(self, x: np.ndarray, y: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground distance and nearest piece of points of the footprints ``owner`` (each counts as found)."""
        d, idx = self.nearest(x, y)
        np.maximum.at(self.best, owner, d)
        return d, idx

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground distance and nearest piece of points ``(x, y)``; the pieces are cut and indexed once per search."""
        if self.ground is None:
            return spatial.nearest(shapely.points(x, y), self.pieces)
        if self.index is None:
            self.index = geodesy.target_index(self.pieces, self.ground)
        if self.is_point.all():  # from coordinates: no Point made per corner
            return geodesy.nearest_xy(x, y, self.index, self.ground)
        return geodesy.nearest(shapely.points(x, y), self.pieces, self.ground, index=self.index)

    def edges(self) -> None:
        """Every vertex, then every edge, in batches of :data:`FOOT_BATCH` neighbouring footprints, in threads
        (each batch writes only its own footprints' ``best`` and ``bound``; the search index is built first)."""
        box = shapely.bounds(self.geoms)
        order = np.argsort(morton((box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2), kind="stable")
        if self.ground is not None and self.index is None:
            self.index = geodesy.target_index(self.pieces, self.ground)
        each(lambda start: self._edges_of(np.sort(order[start:start + FOOT_BATCH])), range(0, len(order), FOOT_BATCH))

    def _edges_of(self, rows: np.ndarray) -> None:
        """Vertices and edges of the footprints ``rows``: same convex piece at both ends, Lipschitz bound,
        or splitting (where it crosses between two points, else in the middle)."""
        x1, y1, x2, y2, own, xy, vertex_of = _corners(self.geoms[rows])
        own, vertex_of = rows[own], rows[vertex_of]
        # every corner is measured once, however many edges and footprints share it (a grid's cells do); an
        # edge's end that is the next edge's start (along a ring or line) is not looked up again
        n = len(x1)
        follows = np.zeros(n, bool)
        follows[:-1] = (x2[:-1] == x1[1:]) & (y2[:-1] == y1[1:]) & (own[:-1] == own[1:])
        loose = ~follows
        m = int(loose.sum())
        back, unique = _distinct(np.vstack([np.column_stack([x1, y1]), np.column_stack([x2[loose], y2[loose]]), xy]))
        d_u, i_u = self.nearest(unique[:, 0], unique[:, 1])
        end = np.empty(n, np.intp)
        end[follows], end[loose] = back[np.flatnonzero(follows) + 1], back[n:n + m]
        np.maximum.at(self.best, np.r_[own, own[loose], vertex_of], d_u[back])
        d1, i1, d2, i2 = d_u[back[:n]], i_u[back[:n]], d_u[end], i_u[end]
        for _ in range(_MAX_ROUNDS):
            length = np.hypot(x2 - x1, y2 - y1) * self.s_max[own]
            lip = (d1 + d2 + length) / 2
            open_ = ~(((i1 == i2) & self.convex[np.maximum(i1, 0)]) | (lip <= self.best[own]))
            short = open_ & (length <= self.tol)
            np.maximum.at(self.bound, own[short], lip[short])
            keep = open_ & ~short
            if not keep.any():
                return
            x1, y1, x2, y2, own = x1[keep], y1[keep], x2[keep], y2[keep], own[keep]
            d1, i1, d2, i2 = d1[keep], i1[keep], d2[keep], i2[keep]
            t = self._crossing(x1, y1, x2, y2, i1, i2)
            mx, my = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
            dm, im = self.measure(mx, my, own)
            left, right = self._tied(mx, my, dm, im, i1, i2, own)
            x1, y1, x2, y2 = np.r_[x1, mx], np.r_[y1, my], np.r_[mx, x2], np.r_[my, y2]
            d1, i1, d2, i2 = np.r_[d1, dm], np.r_[i1, right], np.r_[dm, d2], np.r_[left, i2]
            own = np.r_[own, own]
        np.maximum.at(self.bound, own, (d1 + d2 + np.hypot(x2 - x1, y2 - y1) * self.s_max[own]) / 2)

    def _to_point(self, x, y, piece) -> np.ndarray:
        """Distance from points to point pieces (on the ground, else planar)."""
        px, py = self.point_xy[piece, 0], self.point_xy[piece, 1]
        return self.ground.between(x, y, px, py) if self.ground is not None else np.hypot(px - x, py - y)

    def _between_points(self, i1, i2) -> np.ndarray:
        """Edges whose ends are nearest two different point pieces."""
        return np.flatnonzero((i1 >= 0) & (i2 >= 0) & self.is_point[i1] & self.is_point[i2] & (i1 != i2))

    def _crossing(self, x1, y1, x2, y2, i1, i2) -> np.ndarray:
        """Where to split each open edge (fraction from its start): where it crosses from point piece ``i1``'s
        reach to point piece ``i2``'s (equally far from both: a few Newton steps on the ground distances from
        the map's bisector), else (other pieces, or Newton not settled within ``tol / 4``) its middle."""
        t = np.full(len(x1), 0.5)
        cross = self._between_points(i1, i2)
        if not len(cross):
            return t
        a, b = np.column_stack([x1[cross], y1[cross]]), np.column_stack([x2[cross], y2[cross]])
        v, p, q = b - a, self.point_xy[i1[cross]] - a, self.point_xy[i2[cross]] - a
        with np.errstate(all="ignore"):
            tc = ((q * q).sum(axis=1) - (p * p).sum(axis=1)) / (2 * (v * (q - p)).sum(axis=1))  # on the map
            h = 1.0 / np.maximum(np.hypot(v[:, 0], v[:, 1]), 1.0)  # about a metre
            for _ in range(CROSSING_STEPS):
                g0, g1 = (self._gap(a, v, tc + dt, i1[cross], i2[cross]) for dt in (0.0, h))
                tc = tc - g0 * h / (g1 - g0)
            found = np.abs(self._gap(a, v, tc, i1[cross], i2[cross])) <= self.tol / 4
        ok = found & (tc > 0) & (tc < 1)  # else halved: progress each round
        t[cross[ok]] = tc[ok]
        return t

    def _gap(self, a, v, t, p, q) -> np.ndarray:
        """Distance to point piece ``p`` less the distance to ``q`` at fraction ``t`` along ``a + t v``."""
        x, y = a[:, 0] + t * v[:, 0], a[:, 1] + t * v[:, 1]
        return self._to_point(x, y, p) - self._to_point(x, y, q)

    def _tied(self, mx, my, dm, im, i1, i2, own) -> tuple[np.ndarray, np.ndarray]:
        """The nearest piece to give each half at the split point: ``im``, or (where the point is equally far,
        within ``tol / 2``, from point pieces ``i1`` and ``i2`` and nothing is nearer) ``i1`` for the first
        half and ``i2`` for the second. Each half is then settled: it is within one convex piece's reach at
        both ends. The larger of the two distances counts towards the footprint's bound."""
        left, right = im.copy(), im.copy()
        both = self._between_points(i1, i2)
        if not len(both):
            return left, right
        far = np.maximum(self._to_point(mx[both], my[both], i1[both]), self._to_point(mx[both], my[both], i2[both]))
        tie = far - dm[both] <= self.tol / 2
        both, far = both[tie], far[tie]
        left[both], right[both] = i1[both], i2[both]
        np.maximum.at(self.bound, own[both], far)
        return left, right

    def voronoi_peaks(self) -> None:
        """Measure the ground's Voronoi vertices of the point pieces that fall inside a footprint.

        Each vertex of the map's Voronoi diagram is moved to the point equally far *on the ground* from
        its three points (Newton steps on geodesic distances, started at the map's vertex); where that
        point lies inside a footprint, its distance is found there.
        """
        xy = np.unique(shapely.get_coordinates(self.pieces), axis=0)
        try:
            vertices = Voronoi(xy).vertices if len(xy) >= 4 else np.empty((0, 2))
        except QhullError:  # collinear points: their Voronoi diagram has no vertices
            return
        x0, y0, x1, y1 = shapely.total_bounds(self.geoms)
        vx, vy = vertices.T
        near = (vx >= x0 - 1e4) & (vx <= x1 + 1e4) & (vy >= y0 - 1e4) & (vy <= y1 + 1e4)
        if not near.any():
            return
        tree = shapely.STRtree(self.geoms)
        v = vertices[near]  # those with a footprint within 20 km (one match each: not every pair)
        v = np.unique(v[tree.query_nearest(shapely.points(v), max_distance=2e4, all_matches=False)[0]], axis=0)
        if not len(v):
            return
        _, three = cKDTree(xy).query(v, k=3)
        p, miss = self._equidistant(v, xy[three]) if self.ground is not None else (v, np.zeros(len(v)))
        vi, gi = tree.query(shapely.points(p), predicate="within")
        if len(vi):
            self.measure(p[vi, 0], p[vi, 1], gi)
            bad = miss[vi] > self.tol
            if bad.any():  # a peak not found to the tolerance: the value may be below the truth there, said aloud
                warn(f"farthest point: {int(bad.sum()):,} ground Voronoi vertices inside "
                     f"{len(np.unique(gi[bad])):,} footprints were not settled to {self.tol:g} m "
                     f"(up to {float(miss[vi][bad].max()):,.1f} m apart); their footprints' farthest "
                     "distance may be that much too small")

    def _equidistant(self, start: np.ndarray, sites: np.ndarray, steps: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Points equally far on the ground from three sites each (``sites``: (n, 3, 2)), by Newton steps,
        and how far from equal each ended (m: the largest difference of its three distances)."""
        g = self.ground
        assert g is not None
        p = start.copy()
        h = 1.0
        for _ in range(steps):
            probe = np.stack([p, p + np.array([h, 0.0]), p + np.array([0.0, h])], axis=1)  # (n, 3 probes, 2)
            px = np.repeat(probe[:, :, None, 0], 3, axis=2).ravel()
            py = np.repeat(probe[:, :, None, 1], 3, axis=2).ravel()
            sx = np.repeat(sites[:, None, :, 0], 3, axis=1).ravel()
            sy = np.repeat(sites[:, None, :, 1], 3, axis=1).ravel()
            d = g.between(px, py, sx, sy).reshape(len(p), 3, 3)               # probe x site
            r = d[:, :, 0:1] - d[:, :, 1:3]                                    # (n, probe, 2): g1-g2, g1-g3
            jac = np.stack([(r[:, 1] - r[:, 0]) / h, (r[:, 2] - r[:, 0]) / h], axis=2)  # d r / d (x, y)
            det = jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0]
            ok = np.abs(det) > 1e-12
            step = np.zeros_like(p)
            r0 = r[:, 0]
            step[ok, 0] = (jac[ok, 1, 1] * r0[ok, 0] - jac[ok, 0, 1] * r0[ok, 1]) / det[ok]
            step[ok, 1] = (-jac[ok, 1, 0] * r0[ok, 0] + jac[ok, 0, 0] * r0[ok, 1]) / det[ok]
            p = p - step
        px, py = np.repeat(p[:, 0], 3), np.repeat(p[:, 1], 3)
        end = g.between(px, py, sites[:, :, 0].ravel(), sites[:, :, 1].ravel()).reshape(len(p), 3)
        return p, end.max(axis=1) - end.min(axis=1)


def _corners(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every edge of every ring and line of the footprints (``x1, y1, x2, y2`` and its footprint), and the
    coordinates of their point parts (``xy`` and its footprint): every vertex is an end of some edge or a
    point part, so each is measured once.

    Examples
    --------
    >>> from shapely import GeometryCollection, Point, box
    >>> *ends, own, xy, of = _corners(np.array([box(0, 0, 1, 1), GeometryCollection([Point(5, 5), box(2, 2, 3, 3)])]))
    >>> own.tolist(), xy.tolist(), of.tolist()
    ([0, 0, 0, 0, 1, 1, 1, 1], [[5.0, 5.0]], [1])
    """
    x1, y1, x2, y2, own = outline_segments(geoms)
    kind = shapely.get_type_id(geoms)
    loose = np.flatnonzero(np.isin(kind, (0, 4, 7)))  # points, multipoints, collections: their point parts
    parts, part_of = shapely.get_parts(geoms[loose], return_index=True)
    dots = np.flatnonzero(np.isin(shapely.get_type_id(parts), (0, 4)))
    xy, of = shapely.get_coordinates(parts[dots], return_index=True)
    return x1, y1, x2, y2, own, xy, loose[part_of[dots][of]]
