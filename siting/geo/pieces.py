"""A layer cut into simple pieces: points, straight segments and (optionally) whole polygons.

Searches on the ground need to look inside a feature: a long rail line can come nearest at one bend on
the map and at another on the ellipsoid, and the distance to one straight segment is convex where the
distance to a whole line is not. :func:`layer_pieces` cuts a layer once, keeping the feature each
piece came from.

Examples
--------
>>> import numpy as np
>>> from shapely import LineString, Point
>>> p = layer_pieces(np.array([Point(0, 0), LineString([(0, 0), (10, 0), (10, 10)])]))
>>> [g.geom_type for g in p.pieces], p.owner.tolist()
(['Point', 'LineString', 'LineString'], [0, 1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from siting.geo.parallel import chunked
from siting.geo.reuse import Reuse

__all__ = ["Pieces", "convex", "layer_pieces", "nearest_between_segments", "outline_segments", "ragged_segments",
           "segment_foot", "segment_gap", "segments", "source_hulls"]

#: Geometries whose convexity is decided at once (bounds the corners' temporaries).
CONVEX_BATCH = 200_000
#: Line features whose parts are taken apart at once (:func:`layer_pieces` of a layer of lines).
LINE_BATCH = 50_000


@dataclass(frozen=True)
class Pieces:
    """Pieces of a layer: the geometries, the feature each came from, and whether each is convex.

    A layer cut into points and segments only can keep its pieces as coordinates (``pieces`` None,
    ``ends`` set): :meth:`take` then makes the geometries of the pieces asked for, so a national rail
    layer's millions of segments are never all GEOS line strings at once.

    Examples
    --------
    >>> from shapely import LineString
    >>> p = Pieces(np.array([LineString([(0, 0), (6, 8)])]), np.array([0]), np.array([True]))
    >>> [v.tolist() for v in p.centres()]
    [[[3.0, 4.0]], [5.0]]
    >>> lazy = Pieces(None, np.array([0, 1]), np.array([True, True]), np.array([[1.0, 1, 1, 1], [0, 0, 6, 8]]), 1)
    >>> [g.wkt for g in lazy.take(np.array([1, 0]))], len(lazy)
    (['LINESTRING (0 0, 6 8)', 'POINT (1 1)'], 2)
    """

    #: The geometries, or None when they are made from ``ends`` on demand (:meth:`take`).
    pieces: np.ndarray | None
    owner: np.ndarray
    convex: np.ndarray
    #: ``(n, 4)`` start and end of each point or segment piece (a point twice); None with polygons.
    ends: np.ndarray | None = None
    #: How many of the first pieces are points (the rest segments) when ``pieces`` is None.
    n_points: int = 0

    def __len__(self) -> int:
        return len(self.owner)

    def take(self, t: np.ndarray) -> np.ndarray:
        """The geometries of pieces ``t`` (made from their ends when they are not kept)."""
        if self.pieces is not None:
            return self.pieces[t]
        assert self.ends is not None
        t = np.asarray(t, dtype=np.int64)
        out = np.empty(len(t), dtype=object)
        point = t < self.n_points
        e = self.ends[t[point]]
        out[point] = shapely.points(e[:, 0], e[:, 1])
        e = self.ends[t[~point]]
        out[~point] = shapely.linestrings(e.reshape(-1, 2, 2)) if len(e) else []
        return out

    @cached_property
    def box(self) -> np.ndarray:
        """``(n, 4)`` bounds of the pieces (``minx, miny, maxx, maxy``), computed once and kept."""
        return self.boxes()

    def boxes(self, t: np.ndarray | None = None) -> np.ndarray:
        """``(n, 4)`` bounds of pieces ``t`` (all by default), not kept: from their ends where the pieces are
        kept as coordinates (a national rail layer's 2.7 M boxes are 86 MB).

        Examples
        --------
        >>> lazy = Pieces(None, np.array([0]), np.array([True]), np.array([[6.0, 8, 0, 0]]), 0)
        >>> lazy.boxes(np.array([0])).tolist()
        [[0.0, 0.0, 6.0, 8.0]]
        """
        if self.pieces is None:
            assert self.ends is not None
            e = self.ends if t is None else self.ends[t]
            return np.column_stack([np.minimum(e[:, 0], e[:, 2]), np.minimum(e[:, 1], e[:, 3]),
                                    np.maximum(e[:, 0], e[:, 2]), np.maximum(e[:, 1], e[:, 3])])
        if "box" in self.__dict__:
            return self.box if t is None else self.box[t]
        return shapely.bounds(self.pieces if t is None else self.pieces[t]).reshape(-1, 4)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Each piece's middle (the middle of its box, xy) and half its box's diagonal; for pieces kept as
        coordinates, from their ends (the same numbers, without the boxes of all of them at once)."""
        if self.pieces is None:
            assert self.ends is not None
            e = self.ends
            return (e[:, :2] + e[:, 2:]) / 2, np.hypot(e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]) / 2
        box = self.boxes()
        return (box[:, :2] + box[:, 2:]) / 2, np.hypot(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) / 2


def segments(lines: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start and end coordinates of every straight segment of linear geometries, and its line.

    Examples
    --------
    >>> from shapely import LineString
    >>> x1, y1, x2, y2, of = segments(np.array([LineString([(0, 0), (1, 0), (1, 1)])]))
    >>> x1.tolist(), y2.tolist(), of.tolist()
    ([0.0, 1.0], [0.0, 1.0], [0, 0])
    """
    xy, vertex_of = shapely.get_coordinates(lines, return_index=True)
    same = vertex_of[:-1] == vertex_of[1:]
    return xy[:-1][same, 0], xy[:-1][same, 1], xy[1:][same, 0], xy[1:][same, 1], vertex_of[:-1][same]


def layer_pieces(features: np.ndarray, *, step: float | None = None, outlines: bool = False,
                 lazy: bool = False) -> Pieces:
    """Cut a layer into points, straight segments (no longer than ``step``) and polygons.

    Parameters
    ----------
    features : ndarray of geometry
        Any geometry types; missing and empty ones give no piece.
    step : float, optional
        Longest segment (CRS units); by default the segments are the lines' own.
    outlines : bool
        Cut polygons into the segments of their rings (for distances from outside them) instead of
        keeping them whole.
    lazy : bool
        Keep point and segment pieces as their coordinates only (``Pieces.pieces`` None); their
        geometries are made by :meth:`Pieces.take` for the pieces a search measures. Ignored where
        polygons are kept whole.

    Examples
    --------
    >>> from shapely import box
    >>> p = layer_pieces(np.array([box(0, 0, 4, 4)]), step=2.0, outlines=True)
    >>> len(p.pieces), bool(p.convex.all())
    (8, True)
    """
    features = np.asarray(features, dtype=object)
    if lazy and np.isin(shapely.get_type_id(features), [-1, 1, 5]).all():  # lines only: from their coordinates
        return _line_pieces(features, step)
    parts, owner, kind, lines, line_owner = _linework(features, outlines)
    poly = np.flatnonzero(kind == 3)
    if step is not None:
        lines = shapely.segmentize(lines, step)
    x1, y1, x2, y2, of = segments(lines)
    polys = np.empty(0, dtype=object) if outlines else parts[poly]
    points = np.flatnonzero(kind == 0)
    convex_polys = np.isclose(shapely.area(polys), shapely.area(shapely.convex_hull(polys)), rtol=1e-9, atol=0)
    pxy = shapely.get_coordinates(parts[points])
    ends = np.vstack([np.column_stack([pxy, pxy]), np.column_stack([x1, y1, x2, y2])]) if not len(polys) else None
    owners = np.concatenate([owner[points], line_owner[of], owner[poly] if not outlines else []]).astype(int)
    flags = np.concatenate([np.ones(len(points) + len(x1), bool), convex_polys])
    if lazy and ends is not None:
        return Pieces(None, owners, flags, ends, len(points))
    segs = shapely.linestrings(np.stack([np.column_stack([x1, y1]), np.column_stack([x2, y2])], axis=1)) \
        if len(x1) else np.empty(0, dtype=object)
    return Pieces(np.concatenate([parts[points], segs, polys]), owners, flags, ends)


def _line_pieces(lines: np.ndarray, step: float | None) -> Pieces:
    """:func:`layer_pieces` of a layer of (multi)line strings, kept as coordinates: the same pieces in the same
    order, without a GEOS copy of the whole layer (``segmentize``: only the segments longer than ``step`` are
    cut by GEOS) or of all its parts at once (:data:`LINE_BATCH` features at a time)."""
    found = [_line_segments(lines[i:i + LINE_BATCH], i) for i in range(0, len(lines), LINE_BATCH)]
    ends = np.concatenate([f[0] for f in found]) if found else np.empty((0, 4))
    owner = np.concatenate([f[1] for f in found]) if found else np.empty(0, np.int64)
    del found
    if step is not None:
        ends, owner = _cut_long(ends, owner, step)
    return Pieces(None, owner, np.ones(len(owner), bool), ends, 0)


def _line_segments(lines: np.ndarray, first_owner: int) -> tuple[np.ndarray, np.ndarray]:
    """The segments (``(n, 4)`` ends) of some line features, and the feature (numbered from ``first_owner``)
    of each."""
    if shapely.is_missing(lines).all():  # nothing to take apart (to_ragged_array needs a geometry type)
        return np.empty((0, 4)), np.empty(0, np.int64)
    ends, owner = ragged_segments(lines)
    return ends, owner + first_owner


def ragged_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every straight segment (``(n, 4)`` ends) of the lines or the polygon rings of ``geoms`` and the geometry
    of each, in the order of :func:`segments` of their parts' lines and rings, from ``shapely.to_ragged_array``
    (which takes Multi* geometries apart into GEOS copies of their parts: pass a batch at a time where memory
    counts). ``geoms`` are all (multi)lines or all (multi)polygons.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> ends, owner = ragged_segments(np.array([box(0, 0, 1, 1), MultiPolygon([box(5, 5, 6, 6), box(8, 8, 9, 9)])]))
    >>> len(ends), owner.tolist(), ends[4].tolist()
    (12, [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [6.0, 5.0, 6.0, 6.0])
    """
    _, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
    piece_of = np.arange(len(geoms))
    for level in reversed(offsets[1:]):  # from the geometries down to their lines or rings
        piece_of = np.repeat(piece_of, np.diff(level))
    start = offsets[0].astype(np.int64)
    n_seg = np.maximum(np.diff(start) - 1, 0)
    first = np.repeat(start[:-1] - np.cumsum(n_seg) + n_seg, n_seg) + np.arange(n_seg.sum())
    ends = np.empty((len(first), 4))
    ends[:, :2], ends[:, 2:] = xy[first], xy[first + 1]
    return ends, np.repeat(piece_of, n_seg)


def _cut_long(ends: np.ndarray, owner: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments longer than ``step`` cut as ``shapely.segmentize`` cuts them, in place of the segment."""
    long = np.flatnonzero(np.hypot(ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1]) > step * (1 - 1e-9))
    if not len(long):
        return ends, owner
    cut = shapely.segmentize(shapely.linestrings(ends[long].reshape(-1, 2, 2)), step)
    cx1, cy1, cx2, cy2, of = segments(cut)
    count = np.ones(len(ends), np.int64)
    count[long] = np.bincount(of, minlength=len(long))
    at = np.cumsum(count) - count  # where each segment's first piece goes
    out = np.empty((int(count.sum()), 4))
    short = np.ones(len(ends), bool)
    short[long] = False
    out[at[short]] = ends[short]
    out[at[long][of] + np.arange(len(of)) - (np.cumsum(count[long]) - count[long])[of]] = \
        np.column_stack([cx1, cy1, cx2, cy2])
    return out, np.repeat(owner, count)


def _linework(features: np.ndarray, outlines: bool, line_parts: bool = True) -> tuple[np.ndarray, ...]:
    """Parts of a layer (with their feature and type) and its lines (with their feature): line parts (unless
    ``line_parts`` is false) and, with ``outlines``, polygon rings."""
    features = np.asarray(features, dtype=object)
    live = np.flatnonzero(~shapely.is_missing(features) & ~shapely.is_empty(features))
    parts, part_of = shapely.get_parts(features[live], return_index=True)
    owner, kind = live[part_of], shapely.get_type_id(parts)
    linear = np.flatnonzero(((kind == 1) | (kind == 2)) & line_parts)
    lines, line_owner = parts[linear], owner[linear]
    if outlines:
        poly = np.flatnonzero(kind == 3)
        rings, ring_of = shapely.get_rings(parts[poly], return_index=True)
        lines, line_owner = np.concatenate([lines, rings]), np.concatenate([line_owner, owner[poly][ring_of]])
    return parts, owner, kind, lines, line_owner


def outline_segments(features: np.ndarray, *, rings_only: bool = False) -> tuple[np.ndarray, ...]:
    """Start and end of every straight segment of each feature's lines and polygon rings (only its polygon
    rings with ``rings_only``), and its feature.

    Lines and polygons without holes are read as they are (their coordinates in order are their one line or
    ring); only multi-part features and polygons with holes are taken apart into lines and rings, which makes
    GEOS copies of them (ten times the cost of reading the coordinates).

    Examples
    --------
    >>> from shapely import GeometryCollection, LineString, box
    >>> x1, y1, x2, y2, of = outline_segments(np.array([box(0, 0, 1, 1), box(5, 5, 6, 6)]))
    >>> len(x1), of.tolist()
    (8, [0, 0, 0, 0, 1, 1, 1, 1])
    >>> mixed = np.array([GeometryCollection([box(0, 0, 1, 1), LineString([(2, 2), (3, 3)])])])
    >>> len(outline_segments(mixed)[0]), len(outline_segments(mixed, rings_only=True)[0])
    (5, 4)
    """
    features = np.asarray(features, dtype=object)
    kind = shapely.get_type_id(features)
    plain = ((kind == 1) | (kind == 2)) & (not rings_only)
    plain[kind == 3] = shapely.get_num_interior_rings(features[kind == 3]) == 0
    whole, apart = np.flatnonzero(plain), np.flatnonzero(~plain)
    *ends, of = segments(features[whole])
    *_, lines, line_owner = _linework(features[apart], outlines=True, line_parts=not rings_only)
    *more, more_of = segments(lines)
    return (*(np.concatenate(v) for v in zip(ends, more, strict=True)),
            np.concatenate([whole[of], apart[line_owner[more_of]]]))


def convex(geoms: np.ndarray) -> np.ndarray:
    """Whether each geometry is a convex polygon (one part, no holes, no reflex corner), in numpy.

    Geometries are looked at :data:`CONVEX_BATCH` at a time (a national grid's corners are a GB at once).

    Examples
    --------
    >>> from shapely import Polygon, box
    >>> convex(np.array([box(0, 0, 2, 1), Polygon([(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)])])).tolist()
    [True, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    parts = [_convex(geoms[i:i + CONVEX_BATCH]) for i in range(0, len(geoms), CONVEX_BATCH)]
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def _convex(geoms: np.ndarray) -> np.ndarray:
    out = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    if not out.any():
        return out
    rings = shapely.get_exterior_ring(geoms[out])
    xy, of = shapely.get_coordinates(rings, return_index=True)
    same = of[1:] == of[:-1]
    d = np.diff(xy, axis=0)[same]  # edges, ring by ring
    owner = of[1:][same]
    nxt = np.r_[d[1:], d[:1]]
    last = np.r_[owner[1:] != owner[:-1], True]  # the closing corner pairs a ring's last edge with its first
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    nxt[last] = d[first]
    cross = d[:, 0] * nxt[:, 1] - d[:, 1] * nxt[:, 0]
    tol = 1e-9 * np.einsum("ij,ij->i", d, d)
    n = len(rings)
    left = np.bincount(owner, cross < -tol, n) > 0
    right = np.bincount(owner, cross > tol, n) > 0
    out[np.flatnonzero(out)] = ~(left & right)
    return out


def nearest_between_segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Nearest points ``(x0, y0, x1, y1)`` of segments ``a[i]`` and ``b[i]`` (rows ``x0, y0, x1, y1``; a point
    is a segment of length 0) that do not cross: one end of one segment and its foot on the other.

    Examples
    --------
    >>> nearest_between_segments(np.array([[0.0, 0, 4, 0]]), np.array([[2.0, 1, 3, 5]])).tolist()
    [[2.0, 0.0, 2.0, 1.0]]
    """
    best, out = np.full(len(a), np.inf), np.empty((len(a), 4))
    for p, fx, fy, d, swap in _end_feet(a, b):
        won = d < best
        best[won] = d[won]
        pair = np.column_stack([fx, fy, p]) if swap else np.column_stack([p, fx, fy])
        out[won] = pair[won]
    return out


def segment_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between segments ``a[i]`` and ``b[i]`` that do not cross (rows ``x0, y0, x1, y1``): the
    length of :func:`nearest_between_segments`' answer, without building it.

    Examples
    --------
    >>> segment_gap(np.array([[0.0, 0, 4, 0]]), np.array([[2.0, 1, 3, 5]])).tolist()
    [1.0]
    """
    best = np.full(len(a), np.inf)
    for *_, d, _swap in _end_feet(a, b):
        np.minimum(best, d, out=best)
    return best


def _end_feet(a: np.ndarray, b: np.ndarray):
    """For each end of one segment, its foot on the other: (end, foot x, foot y, distance, whether the end
    is ``b``'s), four times. The nearest points of two segments that do not cross are one of these."""
    for p, q, swap in ((a[:, :2], b, False), (a[:, 2:], b, False), (b[:, :2], a, True), (b[:, 2:], a, True)):
        fx, fy = segment_foot(p[:, 0], p[:, 1], q[:, 0], q[:, 1], q[:, 2], q[:, 3])
        yield p, fx, fy, np.hypot(fx - p[:, 0], fy - p[:, 1]), swap


def segment_foot(px, py, x0, y0, x1, y1) -> tuple[np.ndarray, np.ndarray]:
    """The point of each segment (x0, y0)-(x1, y1) nearest to (px, py), broadcasting.

    Examples
    --------
    >>> [v.tolist() for v in segment_foot(np.array([1.0, 6.0]), np.array([3.0, 3.0]), 0.0, 0.0, 4.0, 0.0)]
    [[1.0, 4.0], [0.0, 0.0]]
    """
    dx, dy = x1 - x0, y1 - y0
    t = ((px - x0) * dx + (py - y0) * dy) / np.maximum(dx * dx + dy * dy, 1e-300)  # 0 for zero-length segments
    t = np.clip(t, 0.0, 1.0)
    return x0 + t * dx, y0 + t * dy


def source_hulls(geoms, reuse: Reuse | None = None) -> np.ndarray:
    """Convex hull of each geometry that is not a point or a convex polygon (None for those), kept for the run.

    Examples
    --------
    >>> from shapely import Point, Polygon, box
    >>> notch = Polygon([(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)])
    >>> hulls = source_hulls(np.array([Point(0, 0), box(0, 0, 2, 2), notch]))
    >>> [h is None for h in hulls], hulls[2].area
    ([True, True, False], 16.0)
    """
    kept = reuse.recall("hulls", geoms) if reuse is not None else None
    if kept is not None:
        return kept[0]
    hull = chunked(_hulls, np.asarray(geoms, dtype=object)) if len(geoms) else np.full(0, None, dtype=object)
    return reuse.keep("hulls", geoms, (hull,))[0] if reuse is not None else hull


def _hulls(geoms: np.ndarray) -> np.ndarray:
    hull = np.full(len(geoms), None, dtype=object)
    bent = np.flatnonzero(~convex(geoms) & (shapely.get_type_id(geoms) != 0))
    hull[bent] = shapely.convex_hull(geoms[bent])
    return hull
