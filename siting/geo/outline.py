"""Outlines as coordinates: nearest points between them and simple pieces, chunk by chunk.

A real parcel can have tens of thousands of vertices. GEOS measures a polygon against a segment by
visiting every vertex, so a parcel asked against hundreds of nearby pieces costs vertices x pieces.
:class:`Outline` reads each source's outline (lines and polygon rings) as segments, in runs of
:data:`CHUNK` consecutive segments (chunks) and runs of :data:`CHUNK` chunks (groups), each with its
bounding box. :meth:`Outline.nearest` visits, for each (source, piece) pair, the groups, chunks and
segments whose boxes come nearer the piece than the best pair found so far, in a compiled loop
(:mod:`siting.geo.kernels`); for a big source the search starts from the distance between the piece and
the source's chunk vertex nearest it (a KD-tree with the sources set apart in a third dimension), an upper
bound of the answer, so few chunks are visited. :meth:`Outline.pairs` lists every segment within a reach,
in numpy.

For a source that does not touch the piece the nearest points lie on its outline, so the answer is the
same as ``shapely.shortest_line`` (up to which of several equally near pairs of points is chosen).

Examples
--------
>>> import numpy as np
>>> from shapely import box
>>> out = Outline(np.array([box(0, 0, 10, 10)]))
>>> row, xy = out.nearest(np.array([0]), np.array([[13.0, 5.0, 13.0, 5.0]]), np.array([np.inf]))
>>> row.tolist(), xy.tolist()
([0], [[10.0, 5.0, 13.0, 5.0]])
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from siting.geo import kernels
from siting.geo.pieces import nearest_between_segments, outline_segments, segment_gap
from siting.geo.proximity import segment_distance

__all__ = ["CHUNK", "Outline", "box_gap", "seg_box"]

#: Consecutive outline segments per chunk.
CHUNK = 16
#: (pair, group) rows looked at at once (bounds memory).
ROW_BATCH = 1_000_000
#: Sources with more segments than this start their nearest search from an upper bound (:meth:`Outline._upper`).
BIG = 64
#: Height (map units) between sources in the KD-tree of chunk vertices: more than any distance on a map.
SOURCE_GAP = 1e9


def seg_box(e: np.ndarray) -> np.ndarray:
    """Bounding boxes (``minx, miny, maxx, maxy``) of segments given as rows ``x0, y0, x1, y1``.

    Examples
    --------
    >>> seg_box(np.array([[3.0, 0.0, 1.0, 2.0]])).tolist()
    [[1.0, 0.0, 3.0, 2.0]]
    """
    return np.column_stack([np.minimum(e[:, 0], e[:, 2]), np.minimum(e[:, 1], e[:, 3]),
                            np.maximum(e[:, 0], e[:, 2]), np.maximum(e[:, 1], e[:, 3])])


def box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between bounding boxes (rows ``minx, miny, maxx, maxy``): never more than the shapes'.

    Examples
    --------
    >>> box_gap(np.array([[0.0, 0, 1, 1]]), np.array([[4.0, 5, 6, 6]])).tolist()
    [5.0]
    """
    dx = np.maximum(0.0, np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]))
    dy = np.maximum(0.0, np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]))
    return np.hypot(dx, dy)


class _Runs(NamedTuple):
    """Runs of consecutive items of one owner: first item, item count, bounding box and owner of each."""

    start: np.ndarray
    size: np.ndarray
    box: np.ndarray
    owner: np.ndarray


def _runs(owner: np.ndarray, box: np.ndarray, k: int) -> _Runs:
    """Items (sorted by ``owner``, with boxes) in runs of at most ``k``; a run never straddles two owners."""
    count = np.bincount(owner) if len(owner) else np.zeros(0, np.int64)
    rank = np.arange(len(owner)) - np.r_[0, np.cumsum(count)[:-1]][owner]
    start = np.flatnonzero(rank % k == 0)
    if not len(start):
        return _Runs(start, start, np.empty((0, 4)), start)
    run_box = np.column_stack([np.minimum.reduceat(box[:, 0], start), np.minimum.reduceat(box[:, 1], start),
                               np.maximum.reduceat(box[:, 2], start), np.maximum.reduceat(box[:, 3], start)])
    return _Runs(start, np.diff(np.r_[start, len(owner)]), run_box, owner[start])


def _expand(row: np.ndarray, first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each ``row`` repeated ``count`` times, with the items ``first .. first + count - 1``."""
    return np.repeat(row, count), np.repeat(first - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(count.sum())


class Outline:
    """The outline segments of some sources, in chunks of :data:`CHUNK` and groups of :data:`CHUNK` chunks.

    Parameters
    ----------
    sources : ndarray of geometry
        Lines, polygons or their collections.

    Examples
    --------
    >>> from shapely import box
    >>> out = Outline(np.array([box(0, 0, 1, 1), box(5, 5, 6, 6)]))
    >>> out.segs.shape, out.chunks.owner.tolist()   # 4 segments each, one chunk each
    ((8, 4), [0, 1])
    >>> out.n_segs.tolist()
    [4, 4]
    """

    def __init__(self, sources: np.ndarray):
        x1, y1, x2, y2, of = outline_segments(np.asarray(sources, dtype=object))
        order = np.argsort(of, kind="stable")  # each source's segments together, in ring order
        self.segs, self._of = np.column_stack([x1, y1, x2, y2])[order], of[order]
        #: Per source: how many segments it has.
        self.n_segs = np.bincount(self._of, minlength=len(sources))

    @cached_property
    def chunks(self) -> _Runs:
        """Runs of :data:`CHUNK` consecutive segments of one source, with their boxes."""
        return _runs(self._of, seg_box(self.segs), CHUNK)

    @cached_property
    def groups(self) -> _Runs:
        """Runs of :data:`CHUNK` chunks of one source, with their boxes."""
        return _runs(self.chunks.owner, self.chunks.box, CHUNK)

    @cached_property
    def first_group(self) -> np.ndarray:
        """Per source: its first group."""
        return np.cumsum(self.n_groups) - self.n_groups

    @cached_property
    def n_groups(self) -> np.ndarray:
        """Per source: how many groups it has."""
        return np.bincount(self.groups.owner, minlength=len(self.n_segs))

    def nearest(self, src: np.ndarray, ends: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest points ``(x0, y0, x1, y1)`` between the outline of ``src[i]`` and the piece ``ends[i]`` (a
        segment; a point twice), for the pairs that come within ``reach[i]`` (which may be infinite), as
        (pair row, xy). A compiled loop (:func:`siting.geo.kernels.nearest_on_outline`) visits the groups,
        chunks and segments whose boxes come nearer than the best pair so far; for sources with more than
        :data:`BIG` segments the search starts from an upper bound of the answer (:meth:`_upper`).

        Examples
        --------
        >>> from shapely import box
        >>> row, xy = Outline(np.array([box(0, 0, 10, 10)])).nearest(
        ...     np.array([0, 0]), np.array([[13.0, 5, 13, 5], [30.0, 5, 30, 5]]), np.array([5.0, 5.0]))
        >>> row.tolist(), xy.tolist()   # the second piece is 20 away: beyond reach
        ([0], [[10.0, 5.0, 13.0, 5.0]])
        """
        limit = np.asarray(reach, float).copy()
        big = np.flatnonzero(self.n_segs[src] > BIG)
        limit[big] = np.minimum(limit[big], self._upper(src[big], ends[big]))
        c, g = self.chunks, self.groups
        xy = kernels.nearest_on_outline(self.segs, (c.start, c.size, c.box), (g.start, g.size, g.box),
                                        self.first_group, self.n_groups, src, ends, limit)
        row = np.flatnonzero(~np.isnan(xy[:, 0]))
        return row, xy[row]

    def pairs(self, src: np.ndarray, ends: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest points ``(x0, y0, x1, y1)`` between every outline segment of ``src[i]`` within ``reach[i]``
        (finite) of the piece ``ends[i]`` (a segment; a point twice) and that piece, as (pair row, xy).

        Examples
        --------
        >>> from shapely import box
        >>> row, xy = Outline(np.array([box(0, 0, 10, 10)])).pairs(np.array([0]), np.array([[13.0, 5, 13, 5]]),
        ...                                                         np.array([4.0]))
        >>> row.tolist(), xy.tolist()   # the right side only: the top and bottom are 5.8 away
        ([0], [[10.0, 5.0, 13.0, 5.0]])
        """
        rows, xys = [np.zeros(0, np.int64)], [np.empty((0, 4))]
        if not np.isfinite(reach).all():
            raise ValueError("Outline.pairs: every segment within an infinite reach is not a bounded question")
        if not len(src):
            return rows[0], xys[0]
        cost = np.cumsum(self.n_groups[src])
        cuts = np.searchsorted(cost, np.arange(ROW_BATCH, cost[-1], ROW_BATCH))
        for part in np.array_split(np.arange(len(src)), cuts):
            row, xy = self._batch(src[part], ends[part], reach[part])
            rows.append(part[row])
            xys.append(xy)
        return np.concatenate(rows), np.concatenate(xys)

    @cached_property
    def vertex_tree(self) -> cKDTree:
        """A KD-tree of each chunk's first vertex, sources set :data:`SOURCE_GAP` apart in a third dimension
        (a query at a source's height finds that source's vertices first)."""
        return cKDTree(np.column_stack([self.segs[self.chunks.start, :2], self.chunks.owner * SOURCE_GAP]))

    def _upper(self, src, ends) -> np.ndarray:
        """A distance no less than each pair's answer: from the source's chunk vertex nearest the piece's
        middle to the piece (two points of the two shapes); infinite for a source without outline."""
        if not len(self.chunks.start):
            return np.full(len(src), np.inf)
        mid = (ends[:, :2] + ends[:, 2:]) / 2
        d, j = self.vertex_tree.query(np.column_stack([mid, src * SOURCE_GAP]))
        v = self.segs[self.chunks.start[np.minimum(j, len(self.chunks.start) - 1)], :2]
        gap = segment_distance(v[:, 0], v[:, 1], ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
        return np.where(d < SOURCE_GAP / 2, gap, np.inf)

    def _batch(self, src, ends, reach) -> tuple[np.ndarray, np.ndarray]:
        """(pair, nearest points) of one batch of pairs: the source's groups, then chunks, within reach, then
        their segments."""
        piece_box = seg_box(ends)
        row, node = _expand(np.arange(len(src)), self.first_group[src], self.n_groups[src])
        for level in (self.groups, self.chunks):  # groups to their chunks, chunks to their segments
            near = box_gap(level.box[node], piece_box[row]) <= reach[row]
            row, node = _expand(row[near], level.start[node[near]], level.size[node[near]])
        close = segment_gap(self.segs[node], ends[row]) <= reach[row]
        row, seg = row[close], node[close]
        return row, nearest_between_segments(self.segs[seg], ends[row])
