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
* any other edge is halved and its midpoint measured, until pieces are :data:`TOL_M` long on
  the ground; their bound is then the value (at most ``TOL_M / 2`` above the truth);
* for point layers, the Voronoi vertices of the points that fall inside a footprint are
  measured too.

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
import shapely
from scipy.spatial import QhullError, Voronoi

from siting.geo import geodesy, spatial
from siting.geo.pieces import layer_pieces, segments

__all__ = ["TOL_M", "farthest_distance"]

#: Length (m on the ground) below which an unsettled edge piece is not halved any more.
TOL_M = 1.0
_MAX_ROUNDS = 60


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
    pieces, convex = cut.pieces, cut.convex
    if not len(pieces):
        out[live] = np.inf
        return out
    ground = geodesy.ground_of(crs)
    scales = ground.scale_range(shapely.total_bounds(geoms[live])) if ground else (1.0, 1.0)
    search = _Search(geoms[live], pieces, convex, crs, scales, tol_m)
    search.edges()
    if (shapely.get_type_id(pieces) == 0).all():
        search.voronoi_peaks()
    out[live] = np.maximum(search.best, search.bound)
    return out


class _Search:
    """The farthest distance found so far (``best``) and the bound of unresolved pieces (``bound``)."""

    def __init__(self, geoms: np.ndarray, pieces: np.ndarray, convex: np.ndarray, crs,
                 scales: tuple[float, float], tol_m: float):
        self.geoms, self.pieces, self.convex, self.crs = geoms, pieces, convex, crs
        self.s_min, self.s_max = scales
        self.tol = tol_m
        self.best, self.bound = np.full(len(geoms), -np.inf), np.full(len(geoms), -np.inf)

    def measure(self, x: np.ndarray, y: np.ndarray, owner: np.ndarray,
                inside: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ground distance and nearest piece of points; those ``inside`` their footprint count as found."""
        d, idx = spatial.nearest(shapely.points(x, y), self.pieces, crs=self.crs)
        found = slice(None) if inside is None else inside
        np.maximum.at(self.best, owner[found], d[found])
        return d, idx

    def edges(self) -> None:
        """Every vertex, then every edge: same convex piece at both ends, Lipschitz bound, or halving."""
        x1, y1, x2, y2, own = _edges(self.geoms)
        xy, vertex_of = shapely.get_coordinates(self.geoms, return_index=True)
        self.measure(xy[:, 0], xy[:, 1], vertex_of)
        d_all, i_all = self.measure(np.r_[x1, x2], np.r_[y1, y2], np.r_[own, own])
        n = len(x1)
        d1, i1, d2, i2 = d_all[:n], i_all[:n], d_all[n:], i_all[n:]
        for _ in range(_MAX_ROUNDS):
            length = np.hypot(x2 - x1, y2 - y1) * self.s_max
            lip = (d1 + d2 + length) / 2
            open_ = ~(((i1 == i2) & self.convex[np.maximum(i1, 0)]) | (lip <= self.best[own]))
            short = open_ & (length <= self.tol)
            np.maximum.at(self.bound, own[short], lip[short])
            keep = open_ & ~short
            if not keep.any():
                return
            x1, y1, x2, y2, own = x1[keep], y1[keep], x2[keep], y2[keep], own[keep]
            d1, i1, d2, i2 = d1[keep], i1[keep], d2[keep], i2[keep]
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            dm, im = self.measure(mx, my, own)
            x1, y1, x2, y2 = np.r_[x1, mx], np.r_[y1, my], np.r_[mx, x2], np.r_[my, y2]
            d1, i1, d2, i2 = np.r_[d1, dm], np.r_[i1, im], np.r_[dm, d2], np.r_[im, i2]
            own = np.r_[own, own]
        np.maximum.at(self.bound, own, (d1 + d2 + np.hypot(x2 - x1, y2 - y1) * self.s_max) / 2)

    def voronoi_peaks(self) -> None:
        """Search around each Voronoi vertex of the points near a footprint (an inner peak)."""
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
        vx, vy = vx[near], vy[near]
        d, _ = spatial.nearest(shapely.points(vx, vy), self.pieces, crs=self.crs)
        # the ground's equidistant point moves from the map's by a few times the scale spread
        reach = 5 * (self.s_max / self.s_min - 1) * d / self.s_min + 10 * self.tol
        vi, gi = shapely.STRtree(self.geoms).query(shapely.points(vx, vy), predicate="dwithin", distance=reach)
        if len(vi):
            self._cells(vx[vi], vy[vi], reach[vi], gi)

    def _cells(self, cx: np.ndarray, cy: np.ndarray, half: np.ndarray, own: np.ndarray) -> None:
        """Branch and bound over squares ``centre +- half``: a square is settled when the distance at
        its centre plus its half-diagonal on the ground is not above the farthest point found."""
        for _ in range(_MAX_ROUNDS):
            meets = shapely.intersects(shapely.box(cx - half, cy - half, cx + half, cy + half), self.geoms[own])
            cx, cy, half, own = cx[meets], cy[meets], half[meets], own[meets]
            if not len(cx):
                return
            inside = shapely.contains_xy(self.geoms[own], cx, cy)
            d, _ = self.measure(cx, cy, own, inside)
            reach = half * np.sqrt(2) * self.s_max
            open_ = d + reach > self.best[own]
            short = open_ & (reach <= self.tol / 2)
            np.maximum.at(self.bound, own[short], d[short] + reach[short])
            keep = open_ & ~short
            q = half[keep] / 2
            cx = np.concatenate([cx[keep] + sx * q for sx in (-1, 1, -1, 1)])
            cy = np.concatenate([cy[keep] + sy * q for sy in (-1, -1, 1, 1)])
            half, own = np.tile(q, 4), np.tile(own[keep], 4)


def _edges(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every edge of every ring and line of the footprints, with the footprint it belongs to."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    kind = shapely.get_type_id(parts)
    poly = np.flatnonzero(kind == 3)
    rings, ring_of = shapely.get_rings(parts[poly], return_index=True)
    line = np.flatnonzero((kind == 1) | (kind == 2))
    linear = np.concatenate([rings, parts[line]])
    owner = np.concatenate([part_of[poly][ring_of], part_of[line]])
    x1, y1, x2, y2, of = segments(linear)
    return x1, y1, x2, y2, owner[of]
