"""Nearest points between big outlines and simple pieces, in numpy, chunk by chunk.

A real parcel can have tens of thousands of vertices. GEOS measures a polygon against a segment by
visiting every vertex, so a parcel asked against hundreds of nearby pieces costs vertices x pieces.
:class:`Outline` cuts each source's outline (lines and polygon rings) into runs of :data:`CHUNK`
consecutive segments, and the chunks into groups of :data:`CHUNK` chunks, each with its bounding box.
A (source, piece) pair visits the source's groups, then the chunks of the groups whose box comes
within reach of the piece, then the segments of the chunks that do, measured in numpy. For the
nearest points the reach is first cut to the distance from the piece to the source's nearest chunk
vertex (a KD-tree with the sources set apart in a third dimension), an upper bound of the answer, so
few chunks are visited whatever the reach.

For a source that does not touch the piece the nearest points lie on its outline, so the answer is the
same as ``shapely.shortest_line`` (up to which of several equally near pairs of points is chosen).

Examples
--------
>>> import numpy as np
>>> from shapely import box
>>> out = Outline(np.array([box(0, 0, 10, 10)]))
>>> row, xy = out.pairs(np.array([0]), np.array([[13.0, 5.0, 13.0, 5.0]]), np.array([np.inf]), nearest=True)
>>> row.tolist(), xy.tolist()
([0], [[10.0, 5.0, 13.0, 5.0]])
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from siting.geo.pieces import nearest_between_segments, outline_segments, segment_gap
from siting.geo.proximity import segment_distance

__all__ = ["CHUNK", "Outline", "box_gap", "seg_box"]

#: Consecutive outline segments per chunk.
CHUNK = 16
#: (pair, group) rows looked at at once (bounds memory).
ROW_BATCH = 1_000_000
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
    >>> out.first_seg.tolist(), out.n_segs.tolist()
    ([0, 4], [4, 4])
    """

    def __init__(self, sources: np.ndarray):
        x1, y1, x2, y2, of = outline_segments(np.asarray(sources, dtype=object))
        order = np.argsort(of, kind="stable")  # each source's segments together, in ring order
        self.segs, self._of = np.column_stack([x1, y1, x2, y2])[order], of[order]
        #: Per source: how many segments it has and the first of them in :attr:`segs`.
        self.n_segs = np.bincount(self._of, minlength=len(sources))
        self.first_seg = np.cumsum(self.n_segs) - self.n_segs

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

    def pairs(self, src: np.ndarray, ends: np.ndarray, reach: np.ndarray, *,
              nearest: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Nearest points ``(x0, y0, x1, y1)`` between outline segments of ``src[i]`` and the piece ``ends[i]``
        (a segment; a point twice) within ``reach[i]`` on the map, as (pair row, xy).

        With ``nearest``, one row per pair: its nearest segment (pairs with none within reach are left out);
        ``reach`` may then be infinite. Without it, every segment within ``reach`` (which must be finite).
        """
        rows, xys = [np.zeros(0, np.int64)], [np.empty((0, 4))]
        if not nearest and not np.isfinite(reach).all():
            raise ValueError("Outline.pairs: every segment within an infinite reach is not a bounded question")
        if not len(src):
            return rows[0], xys[0]
        cost = np.cumsum(self.n_groups[src])
        cuts = np.searchsorted(cost, np.arange(ROW_BATCH, cost[-1], ROW_BATCH))
        for part in np.array_split(np.arange(len(src)), cuts):
            row, xy = self._batch(src[part], ends[part], reach[part], nearest)
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

    def _batch(self, src, ends, reach, nearest) -> tuple[np.ndarray, np.ndarray]:
        """(pair, nearest points) of one batch of pairs: the source's groups, then chunks, within the limit
        (the reach; in ``nearest`` mode the upper bound if that is less), then their segments."""
        limit = np.minimum(reach, self._upper(src, ends)) if nearest else reach
        piece_box = seg_box(ends)
        row, node = _expand(np.arange(len(src)), self.first_group[src], self.n_groups[src])
        for level in (self.groups, self.chunks):  # groups to their chunks, chunks to their segments
            near = box_gap(level.box[node], piece_box[row]) <= limit[row]
            row, node = _expand(row[near], level.start[node[near]], level.size[node[near]])
        d = segment_gap(self.segs[node], ends[row])
        close = d <= reach[row]
        row, seg, d = row[close], node[close], d[close]
        if nearest:
            order = np.lexsort((d, row))
            keep = order[np.r_[True, row[order][1:] != row[order][:-1]]] if len(order) else order
            row, seg = row[keep], seg[keep]
        return row, nearest_between_segments(self.segs[seg], ends[row])
