"""Compiled loops (numba) for the pair measurements GEOS makes one Python-visible call at a time.

The nearest searches on the ground measure millions of (site, piece) pairs: a site's outline (a few
to a few dozen segments) against one point or straight segment of a target layer. GEOS answers each
pair in about 2 us, most of it making the piece's geometry and crossing into GEOS; the same loop over
plain coordinate arrays, compiled, takes about 0.17 us and releases the GIL, so the batches of
:func:`siting.geo.parallel.each` run on every core.

Each kernel is compiled on first use and cached beside this file (``cache=True``): the first run on a
machine pays about a second per kernel.

Examples
--------
>>> import numpy as np
>>> segs = np.array([[0.0, 0, 10, 0], [10, 0, 10, 10], [10, 10, 0, 10], [0, 10, 0, 0]])  # a square's outline
>>> xy = outline_nearest(segs, np.array([0]), np.array([4]), np.array([0]), np.array([[13.0, 5, 13, 9]]))
>>> xy.tolist()
[[10.0, 5.0, 13.0, 5.0]]
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["outline_nearest"]


@numba.njit(nogil=True, cache=True, inline="always")
def _foot(px, py, x0, y0, x1, y1):  # pragma: no cover - compiled
    """The point of segment (x0, y0)-(x1, y1) nearest to (px, py), and its squared distance."""
    dx, dy = x1 - x0, y1 - y0
    t = ((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-300)
    t = min(max(t, 0.0), 1.0)
    fx, fy = x0 + t * dx, y0 + t * dy
    return fx, fy, (fx - px) ** 2 + (fy - py) ** 2


@numba.njit(nogil=True, cache=True)
def _outline_nearest(segs, first, count, s, ends, out):  # pragma: no cover - compiled
    for i in range(len(s)):
        bx0, by0, bx1, by1 = ends[i, 0], ends[i, 1], ends[i, 2], ends[i, 3]
        lox, hix, loy, hiy = min(bx0, bx1), max(bx0, bx1), min(by0, by1), max(by0, by1)
        best = np.inf
        for j in range(first[s[i]], first[s[i]] + count[s[i]]):
            ax0, ay0, ax1, ay1 = segs[j, 0], segs[j, 1], segs[j, 2], segs[j, 3]
            gx = max(0.0, min(ax0, ax1) - hix, lox - max(ax0, ax1))
            gy = max(0.0, min(ay0, ay1) - hiy, loy - max(ay0, ay1))
            if gx * gx + gy * gy >= best:  # the boxes are already farther apart than the best pair
                continue
            fx, fy, d = _foot(ax0, ay0, bx0, by0, bx1, by1)
            if d < best:
                best, out[i, 0], out[i, 1], out[i, 2], out[i, 3] = d, ax0, ay0, fx, fy
            fx, fy, d = _foot(ax1, ay1, bx0, by0, bx1, by1)
            if d < best:
                best, out[i, 0], out[i, 1], out[i, 2], out[i, 3] = d, ax1, ay1, fx, fy
            fx, fy, d = _foot(bx0, by0, ax0, ay0, ax1, ay1)
            if d < best:
                best, out[i, 0], out[i, 1], out[i, 2], out[i, 3] = d, fx, fy, bx0, by0
            fx, fy, d = _foot(bx1, by1, ax0, ay0, ax1, ay1)
            if d < best:
                best, out[i, 0], out[i, 1], out[i, 2], out[i, 3] = d, fx, fy, bx1, by1


def outline_nearest(segs: np.ndarray, first: np.ndarray, count: np.ndarray, s: np.ndarray,
                    ends: np.ndarray) -> np.ndarray:
    """Nearest points ``(x0, y0, x1, y1)`` between the outline of source ``s[i]`` and the piece ``ends[i]``.

    Parameters
    ----------
    segs : ndarray, shape (m, 4)
        Every source's outline segments (rows ``x0, y0, x1, y1``), each source's together.
    first, count : ndarray of int
        Per source: its first row of ``segs`` and how many.
    s : ndarray of int
        The source of each pair.
    ends : ndarray, shape (n, 4)
        The piece of each pair: a segment, or a point given twice.

    Returns
    -------
    ndarray, shape (n, 4)
        The source's point, then the piece's; NaN for a source without segments. For a source that does
        not touch the piece this is ``shapely.shortest_line``'s answer (up to which of several equally near
        pairs is chosen): segments that do not cross come nearest at an end of one of them.

    Examples
    --------
    >>> segs = np.array([[0.0, 0, 4, 0]])
    >>> outline_nearest(segs, np.array([0]), np.array([1]), np.array([0, 0]),
    ...                 np.array([[2.0, 1, 3, 5], [6.0, 0, 6, 0]])).tolist()
    [[2.0, 0.0, 2.0, 1.0], [4.0, 0.0, 6.0, 0.0]]
    """
    out = np.full((len(s), 4), np.nan)
    if len(s):
        _outline_nearest(np.ascontiguousarray(segs, dtype=np.float64), np.asarray(first, np.int64),
                         np.asarray(count, np.int64), np.asarray(s, np.int64),
                         np.ascontiguousarray(ends, dtype=np.float64), out)
    return out
