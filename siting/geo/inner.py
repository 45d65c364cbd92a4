"""Buffers that never reach beyond their radius: the land a ``within`` rule keeps.

GEOS thins a line before buffering it (its ``BufferInputLineSimplifier`` drops shallow vertices, with a tolerance
of 1 % of the distance) and merges offset points closer than 0.1 % of the distance, so the buffer of a line of
four or more vertices can reach beyond the distance: measured 3.4 m beyond 25 km around real TIGER roads in
Nevada, 1.8 m around a five-vertex line (``tests/geo/test_inner.py``). A line of at most three vertices has one
join, which GEOS draws as given (an arc cut by chords inside its circle, or the offsets' crossing), so the union
of the buffers of three-vertex pieces of a line lies within the distance. :func:`inner_buffer` cuts each line
(and each polygon's rings) into such pieces, after thinning it itself by Douglas-Peucker with a tolerance of
:data:`THIN` of the radius, taken off the radius, and unions each feature's pieces.

Examples
--------
>>> import numpy as np
>>> from shapely import LineString
>>> v = LineString([(-600, 0), (-200, 0), (0, -40), (200, 0), (600, 0)])  # a shallow dip
>>> far = shapely.buffer(v, 25_000, quad_segs=16)
>>> near = inner_buffer(np.array([v]), 25_000)[0]
>>> [round(float(shapely.hausdorff_distance(g.exterior, v, densify=0.001)) - 25_000, 1) for g in (far, near)]
[0.8, -2.5]
"""

from __future__ import annotations

import numpy as np
import shapely

from siting.geo.ground import QUAD_SEGS
from siting.geo.parallel import chunked
from siting.geo.spatial import union_by_group

__all__ = ["THIN", "inner_buffer"]

#: Douglas-Peucker tolerance for thinning lines before they are cut, as a share of the radius; the radius is
#: reduced by as much, so the buffer loses a band this wide (2.5 m at 25 km) and gains speed (vertices of the
#: real TIGER roads as a Nevada scenario loads them: 277,043, thinned for 25 km to 47,887).
THIN = 1e-4


def inner_buffer(geoms, radius, *, quad_segs: int = QUAD_SEGS) -> np.ndarray:
    """Buffer each geometry by ``radius`` so that no point of the buffer lies farther than ``radius`` from it.

    Parameters
    ----------
    geoms : array_like of geometry
        Points, lines, polygons or collections of them; missing or empty ones give None.
    radius : float or array_like of float
        Radius per geometry, in CRS units; a radius of zero or less gives None.
    quad_segs : int
        Segments per quarter circle of the arcs (their chords lie inside the circle).

    Returns
    -------
    ndarray of geometry
        One polygon (or multipolygon) per geometry. It holds every point within ``radius * (1 - THIN)``
        (to within the arcs' chords) and no point beyond ``radius``.

    Examples
    --------
    >>> from shapely import Point, box
    >>> out = inner_buffer(np.array([Point(0, 0), box(0, 0, 10, 10), None]), 5.0)
    >>> [None if g is None else round(g.area) for g in out]
    [78, 378, None]
    """
    geoms = np.asarray(geoms, dtype=object)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), geoms.shape)
    out = np.full(len(geoms), None, dtype=object)
    live = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & (radius > 0))
    if not len(live):
        return out
    parts, owner = shapely.get_parts(geoms[live], return_index=True)
    kind = shapely.get_type_id(parts)
    polys = kind == 3
    rings, ring_owner = shapely.get_rings(parts[polys], return_index=True)
    lines = np.concatenate([parts[(kind == 1) | (kind == 2)], rings])
    line_owner = np.concatenate([owner[(kind == 1) | (kind == 2)], owner[polys][ring_owner]])
    pieces, piece_owner = _pieces(lines, line_owner, THIN * radius[live])
    reach = radius[live] * (1 - THIN)
    zones = np.concatenate([chunked(shapely.buffer, parts[kind == 0], reach[owner[kind == 0]], quad_segs=quad_segs),
                            parts[polys],
                            chunked(shapely.buffer, pieces, reach[piece_owner], quad_segs=quad_segs)])
    groups = np.concatenate([owner[kind == 0], owner[polys], piece_owner])
    out[live] = union_by_group(zones, groups, len(live))
    return out


def _pieces(lines: np.ndarray, owner: np.ndarray, tolerance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line thinned by ``tolerance[owner]`` (Douglas-Peucker: every point of it stays within the tolerance
    of the line) and cut into pieces of at most three vertices sharing their ends; with each piece's owner."""
    if not len(lines):
        return np.empty(0, dtype=object), np.empty(0, dtype=int)
    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    lines = shapely.linestrings(xy, indices=line_of)  # rings become closed line strings
    thin = shapely.simplify(lines, tolerance[owner], preserve_topology=False)
    thin = np.where(shapely.is_empty(thin) | shapely.is_missing(thin), lines, thin)
    xy, line_of = shapely.get_coordinates(thin, return_index=True)
    n = np.bincount(line_of, minlength=len(thin))
    first = np.cumsum(n) - n
    count = np.maximum(n // 2, 1)  # pieces per line: vertices 0-2, 2-4, ... and a last pair
    piece_line = np.repeat(np.arange(len(thin)), count)
    j = np.arange(len(piece_line)) - np.repeat(np.cumsum(count) - count, count)
    size = np.minimum(3, n[piece_line] - 2 * j)
    take = np.repeat(first[piece_line] + 2 * j, size) + np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    pieces = shapely.linestrings(xy[take], indices=np.repeat(np.arange(len(size)), size))
    return pieces, owner[piece_line]
