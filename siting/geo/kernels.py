"""Compiled loops (numba): the pair measurements GEOS makes one Python-visible call at a time, the row
scan of pixel centres in polygons, and short geodesics from their chords.

The nearest searches on the ground measure millions of (site, piece) pairs: a site's outline (a few
to thousands of segments) against one point or straight segment of a target layer. GEOS answers each
pair in about 2 us, most of it making the piece's geometry and crossing into GEOS; the same loop over
plain coordinate arrays, compiled, takes about 0.17 us for a small outline (measured on 2.4 M real
pairs) and releases the GIL, so the batches of :func:`siting.geo.parallel.each` run on every core.

Each kernel is compiled on first use and cached beside this file, or in the user's cache folder where
this folder is read-only (``cache=True``): the first run on a machine pays a few seconds. Where neither
can be written (set ``NUMBA_CACHE_DIR`` to a writable folder), the kernels are compiled in every process.

Examples
--------
>>> import numpy as np
>>> segs = np.array([[0.0, 0, 10, 0], [10, 0, 10, 10], [10, 10, 0, 10], [0, 10, 0, 0]])  # a square's outline
>>> runs = (np.array([0]), np.array([4]), np.array([[0.0, 0, 10, 10]]))   # one chunk in one group
>>> nearest_on_outline(segs, runs, runs, np.array([0]), np.array([1]), np.array([0]),
...                    np.array([[13.0, 5, 13, 9]]), np.array([np.inf])).tolist()
[[10.0, 5.0, 13.0, 5.0]]
"""

from __future__ import annotations

import logging

import numba
import numpy as np

__all__ = ["chord_geodesics", "nearest_on_outline", "scan_centres"]

log = logging.getLogger(__name__)


def _jit(**options):
    """``numba.njit(nogil=True, cache=True, **options)``, without the cache where numba finds no writable
    folder for it (a read-only install and home): compiled in every process then, not refused."""
    def wrap(func):
        try:
            return numba.njit(nogil=True, cache=True, **options)(func)
        except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
            log.info("siting kernels compiled without a cache (%s); set NUMBA_CACHE_DIR to keep them", exc)
            return numba.njit(nogil=True, **options)(func)
    return wrap


@_jit(inline="always")
def _foot(px, py, x0, y0, x1, y1):  # pragma: no cover - compiled
    """The point of segment (x0, y0)-(x1, y1) nearest to (px, py), and its squared distance."""
    dx, dy = x1 - x0, y1 - y0
    t = ((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-300)
    t = min(max(t, 0.0), 1.0)
    fx, fy = x0 + t * dx, y0 + t * dy
    return fx, fy, (fx - px) ** 2 + (fy - py) ** 2


@_jit(inline="always")
def _gap2(box, k, lox, loy, hix, hiy):  # pragma: no cover - compiled
    """Squared distance between box ``k`` (rows ``minx, miny, maxx, maxy``) and another box."""
    gx = max(0.0, box[k, 0] - hix, lox - box[k, 2])
    gy = max(0.0, box[k, 1] - hiy, loy - box[k, 3])
    return gx * gx + gy * gy


@_jit()
def _nearest_on_outline(segs, chunk_start, chunk_size, chunk_box, group_start, group_size, group_box,
                        first_group, n_groups, s, ends, limit, out):  # pragma: no cover - compiled
    for i in range(len(s)):
        bx0, by0, bx1, by1 = ends[i, 0], ends[i, 1], ends[i, 2], ends[i, 3]
        lox, hix, loy, hiy = min(bx0, bx1), max(bx0, bx1), min(by0, by1), max(by0, by1)
        best, found = (limit[i] * (1.0 + 1e-9)) ** 2, False  # a pair at the limit is kept despite rounding
        for g in range(first_group[s[i]], first_group[s[i]] + n_groups[s[i]]):
            if _gap2(group_box, g, lox, loy, hix, hiy) > best:
                continue
            for c in range(group_start[g], group_start[g] + group_size[g]):
                if _gap2(chunk_box, c, lox, loy, hix, hiy) > best:
                    continue
                for j in range(chunk_start[c], chunk_start[c] + chunk_size[c]):
                    ax0, ay0, ax1, ay1 = segs[j, 0], segs[j, 1], segs[j, 2], segs[j, 3]
                    gx = max(0.0, min(ax0, ax1) - hix, lox - max(ax0, ax1))
                    gy = max(0.0, min(ay0, ay1) - hiy, loy - max(ay0, ay1))
                    if gx * gx + gy * gy > best:
                        continue
                    for k in range(4):  # each end of one segment and its foot on the other
                        if k < 2:
                            px, py = (ax0, ay0) if k == 0 else (ax1, ay1)
                            fx, fy, d = _foot(px, py, bx0, by0, bx1, by1)
                        else:
                            px, py = (bx0, by0) if k == 2 else (bx1, by1)
                            fx, fy, d = _foot(px, py, ax0, ay0, ax1, ay1)
                        if d < best or (d == best and not found):
                            best, found = d, True
                            if k < 2:
                                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = px, py, fx, fy
                            else:
                                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = fx, fy, px, py


def nearest_on_outline(segs: np.ndarray, chunks: tuple[np.ndarray, ...], groups: tuple[np.ndarray, ...],
                       first_group: np.ndarray, n_groups: np.ndarray, s: np.ndarray, ends: np.ndarray,
                       limit: np.ndarray) -> np.ndarray:
    """Nearest points ``(x0, y0, x1, y1)`` between the outline of source ``s[i]`` and the piece ``ends[i]``,
    where they are within ``limit[i]`` (NaN where not; a pair at the limit is kept, to 1e-9 of it).

    The outline is given as segments in runs (chunks) and runs of chunks (groups), each with its box
    (:class:`siting.geo.outline.Outline`); a group, chunk or segment whose box is farther from the piece's
    box than the best pair found so far is skipped, so a parcel of thousands of vertices costs a few
    chunks per piece once ``limit`` is near the answer.

    Parameters
    ----------
    segs : ndarray, shape (m, 4)
        Outline segments (rows ``x0, y0, x1, y1``), each source's together, in ring order.
    chunks, groups : tuple of ndarray
        ``(start, size, box)`` of each run of segments, and of each run of chunks.
    first_group, n_groups : ndarray of int
        Per source: its first group and how many.
    s : ndarray of int
        The source of each pair.
    ends : ndarray, shape (n, 4)
        The piece of each pair: a segment, or a point given twice.
    limit : ndarray
        Per pair, a distance no less than the answer where one is wanted (``inf`` for any).

    Returns
    -------
    ndarray, shape (n, 4)
        The source's point, then the piece's. For a source that does not touch the piece this is
        ``shapely.shortest_line``'s answer (up to which of several equally near pairs is chosen):
        segments that do not cross come nearest at an end of one of them.

    Examples
    --------
    >>> segs = np.array([[0.0, 0, 4, 0]])
    >>> runs = (np.array([0]), np.array([1]), np.array([[0.0, 0, 4, 0]]))   # one chunk, one group
    >>> nearest_on_outline(segs, runs, runs, np.array([0]), np.array([1]), np.array([0, 0]),
    ...                    np.array([[2.0, 1, 3, 5], [6.0, 0, 6, 0]]), np.array([np.inf, 1.0])).tolist()
    [[2.0, 0.0, 2.0, 1.0], [nan, nan, nan, nan]]
    """
    out = np.full((len(s), 4), np.nan)
    if len(s):
        i64, f64 = (lambda a: np.ascontiguousarray(a, np.int64)), (lambda a: np.ascontiguousarray(a, np.float64))
        _nearest_on_outline(f64(segs), i64(chunks[0]), i64(chunks[1]), f64(chunks[2]), i64(groups[0]),
                            i64(groups[1]), f64(groups[2]), i64(first_group), i64(n_groups), i64(s), f64(ends),
                            f64(limit), out)
    return out


@_jit()
def _scan_centres(ca, ra, cb, rb, first_edge, n_edges, c0, r0, width, height, rows, cols, owner):  # pragma: no cover
    n = 0
    for k in range(len(c0)):
        w, h = width[k], height[k]
        toggles = np.zeros((h, w + 1), np.uint8)
        for e in range(first_edge[k], first_edge[k] + n_edges[k]):
            lo, hi = min(ra[e], rb[e]), max(ra[e], rb[e])
            first = max(np.ceil(lo - 0.5), r0[k])  # rows whose centre r + 0.5 lies in [lo, hi)
            last = min(np.ceil(hi - 0.5) - 1, r0[k] + h - 1)
            for row in range(int(first), int(last) + 1):
                cross = ca[e] + (row + 0.5 - ra[e]) * (cb[e] - ca[e]) / (rb[e] - ra[e])
                right = min(max(int(np.floor(cross - 0.5)) + 1 - c0[k], 0), w)  # first centre right of it
                toggles[row - r0[k], right] ^= 1
        for line in range(h):
            inside = 0
            for col in range(w):
                inside ^= toggles[line, col]
                if inside:
                    rows[n], cols[n], owner[n] = r0[k] + line, c0[k] + col, k
                    n += 1
    return n


def scan_centres(ca: np.ndarray, ra: np.ndarray, cb: np.ndarray, rb: np.ndarray, first_edge: np.ndarray,
                 n_edges: np.ndarray, c0: np.ndarray, r0: np.ndarray, width: np.ndarray,
                 height: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixel centres inside polygons, by crossing number along each row of each polygon's window.

    Each edge that crosses a row's centre line (half open in y: a vertex on the line counts once) toggles
    the centres right of where it crosses; a running parity along the row marks those inside (odd), so
    holes and multipart polygons need nothing more.

    Parameters
    ----------
    ca, ra, cb, rb : ndarray
        Each ring edge's ends in fractional pixel coordinates (column, row), each polygon's edges together.
    first_edge, n_edges : ndarray of int
        Per polygon: its first edge and how many.
    c0, r0, width, height : ndarray of int
        Per polygon: its pixel window.

    Returns
    -------
    rows, cols, owner : ndarray of int
        Every centre inside, by polygon (``owner``: its position), then row, then column (views of arrays
        sized for every window pixel).

    Examples
    --------
    >>> ring = np.array([[0.0, 0, 2, 0], [2, 0, 2, 1], [2, 1, 0, 1], [0, 1, 0, 0]])  # 2 x 1 pixels
    >>> one = np.array([0])
    >>> [a.tolist() for a in scan_centres(*ring.T, one, np.array([4]), one, one, np.array([3]), np.array([2]))]
    [[0, 0], [0, 1], [0, 0]]
    """
    i64, f64 = (lambda a: np.ascontiguousarray(a, np.int64)), (lambda a: np.ascontiguousarray(a, np.float64))
    size = int((np.asarray(width, np.int64) * np.asarray(height, np.int64)).sum())  # at most every window pixel
    rows, cols, owner = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    if not len(c0):
        return rows, cols, owner
    n = _scan_centres(f64(ca), f64(ra), f64(cb), f64(rb), i64(first_edge), i64(n_edges), i64(c0), i64(r0),
                      i64(width), i64(height), rows, cols, owner)
    return rows[:n], cols[:n], owner[:n]  # views: the caller's concatenation copies them once


@_jit()
def _chord_geodesics(lon0, lat0, lon1, lat1, a, es, limit, out):  # pragma: no cover - compiled
    for i in range(len(lon0)):
        dlon = lon1[i] - lon0[i]
        if not abs(dlon) <= 90.0:  # across the antimeridian, or not a number: left to Geod
            out[i] = np.nan
            continue
        p0, p1, l0, l1 = np.radians(lat0[i]), np.radians(lat1[i]), np.radians(lon0[i]), np.radians(lon1[i])
        n0, n1 = a / np.sqrt(1.0 - es * np.sin(p0) ** 2), a / np.sqrt(1.0 - es * np.sin(p1) ** 2)
        dx = n1 * np.cos(p1) * np.cos(l1) - n0 * np.cos(p0) * np.cos(l0)
        dy = n1 * np.cos(p1) * np.sin(l1) - n0 * np.cos(p0) * np.sin(l0)
        dz = (1.0 - es) * (n1 * np.sin(p1) - n0 * np.sin(p0))
        chord = np.sqrt(dx * dx + dy * dy + dz * dz)
        if not chord <= limit:
            out[i] = np.nan
            continue
        lam, phi = l0 + 0.5 * np.radians(dlon), 0.5 * (p0 + p1)  # the chord's middle
        east = -np.sin(lam) * dx + np.cos(lam) * dy
        north = np.cos(phi) * dz - np.sin(phi) * (np.cos(lam) * dx + np.sin(lam) * dy)
        w = 1.0 - es * np.sin(phi) ** 2
        flat = east * east + north * north
        # Euler: the curvature of the normal section along the chord, from the meridian's and the prime vertical's
        k = (north * north * w * np.sqrt(w) / (a * (1.0 - es)) + east * east * np.sqrt(w) / a) / flat if flat > 0 \
            else np.sqrt(w) / a
        out[i] = 2.0 / k * np.arcsin(min(0.5 * chord * k, 1.0))


def chord_geodesics(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray, a: float, es: float,
                    limit: float) -> np.ndarray:
    """Geodesic length (m) of short pairs of points on an ellipsoid, from their chord; NaN for the others.

    The chord between the points (Earth-centred coordinates) is bent into the arc of a circle whose curvature
    is the ellipsoid's along the chord at its middle (Euler's formula from the meridian's and the prime
    vertical's radii): ``2 R asin(c / 2 R)``. Up to 100 km it is within 1e-6 m of Karney's geodesic
    (pyproj.Geod) at any latitude (6.1e-7 m at most over 300,000 random pairs), and never shorter than the
    chord. Pairs whose chord is longer than ``limit``, or that are more than 90 degrees of longitude apart
    (across the antimeridian), or not numbers, are NaN: measure those with pyproj.Geod.

    Parameters
    ----------
    lon0, lat0, lon1, lat1 : ndarray
        Degrees, pairwise, 1-D.
    a, es : float
        The ellipsoid's semi-major axis (m) and squared eccentricity.
    limit : float
        Longest chord (m) answered.

    Examples
    --------
    >>> from pyproj import Geod
    >>> geod = Geod(ellps="WGS84")
    >>> lon0, lat0, lon1, lat1 = np.array([-116.0]), np.array([39.0]), np.array([-115.4]), np.array([39.3])
    >>> d = chord_geodesics(lon0, lat0, lon1, lat1, geod.a, geod.es, 100_000.0)
    >>> round(float(d[0]), 3), bool(abs(d[0] - geod.inv(lon0, lat0, lon1, lat1)[2][0]) < 1e-6)
    (61638.479, True)
    >>> chord_geodesics(lon0, lat0, lon1, lat1, geod.a, geod.es, 10_000.0).tolist()  # longer than the limit
    [nan]
    """
    out = np.empty(len(lon0))
    lon0, lat0, lon1, lat1 = (np.ascontiguousarray(v, np.float64) for v in (lon0, lat0, lon1, lat1))
    _chord_geodesics(lon0, lat0, lon1, lat1, float(a), float(es), float(limit), out)
    return out
