"""Eligible land seen from a rotated lattice: centre regions, tiles, lattice points and rows.

All placement happens in the lattice frame ``(u, v)`` - the plane rotated by ``-theta`` - where
footprints are axis-aligned boxes. In that frame the *centre region* of a piece of land - where a
footprint's centre can go so that the footprint lies wholly inside the land - is computed exactly:

* rectangles: the land minus the Minkowski sum of its boundary with the box (each boundary edge
  swept by the box is the convex hull of two boxes);
* circles: the land eroded by the radius (plus a small slack covering the polygonal arcs).

Any point strictly inside the centre region is a footprint that fits, so placements are tested
with point-in-polygon only. Large regions are cut into tiles of a few dozen lattice steps so that
lattice points and rows are generated only near land, never over a huge bounding box.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.candidates.packing.footprint import Footprint
>>> land = gpd.GeoDataFrame(geometry=[box(0, 0, 5000, 5000)], crs=5070)
>>> fp = Footprint.from_acres(247.105)  # 1 km squares
>>> frame = LatticeFrame.build(make_pieces(land, 0.0), fp, theta=0.0, spacing=0.0)
>>> u, v, piece = frame.points("low")
>>> len(u)
25
>>> u, v, piece = frame.rows("low")
>>> len(u)
25
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from siting.candidates.packing.footprint import Footprint, erode
from siting.geo.ground import ground_of, largest_scale
from siting.geo.parallel import chunked
from siting.geo.spatial import union_by_group

__all__ = ["LatticeFrame", "centre_region", "make_pieces"]

#: Tiles are this many lattice steps on a side.
TILE_STEPS = 24
#: Tile grid origin, in tiles: an irrational fraction so lattice points never sit on a tile edge.
TILE_ORIGIN = 0.3819660112501051
#: Aligned lattices start this far (m) inside the centre region, clear of rounding on its edge.
ALIGN_NUDGE = 1e-3


@dataclass
class Pieces:
    """Eligible land (after the setback) split into single polygons, with their row in the eligible frame."""

    geoms: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)


def make_pieces(eligible: gpd.GeoDataFrame, setback: float) -> Pieces:
    """Single non-empty polygons of the eligible land after the setback (``setback`` on the ground: on the map,
    times the largest scale over each part's box)."""
    parts, row = shapely.get_parts(np.asarray(eligible.geometry.values, dtype=object), return_index=True)
    if setback > 0:
        on_map = setback * largest_scale(parts, ground_of(eligible.crs), setback)
        parts, idx = shapely.get_parts(erode(parts, on_map), return_index=True)
        row = row[idx]
    keep = ~shapely.is_empty(parts) & (shapely.area(parts) > 0)
    return Pieces(parts[keep], row[keep])


def to_lattice(x, y, theta: float):
    """World (x, y) to lattice-frame (u, v)."""
    c, s = math.cos(theta), math.sin(theta)
    return x * c + y * s, -x * s + y * c


def to_world(u, v, theta):
    """Lattice-frame (u, v) to world (x, y); ``theta`` scalar or per point."""
    c, s = np.cos(theta), np.sin(theta)
    return u * c - v * s, u * s + v * c


def _rotate(geoms: np.ndarray, theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]])  # row vectors: [x, y] @ rot = [u, v]
    return shapely.transform(geoms, lambda xy: xy @ rot)


def centre_region(geoms: np.ndarray, fp: Footprint) -> np.ndarray:
    """Where the centre of an axis-aligned footprint can go so that it lies inside each polygon.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> fp = Footprint.from_acres(247.105)
    >>> [round(v) for v in centre_region(np.array([box(0, 0, 3000, 2000)]), fp)[0].bounds]
    [500, 500, 2500, 1500]
    """
    if fp.shape == "circle":
        return erode(geoms, fp.r)
    rings, ring_idx = shapely.get_rings(geoms, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    same = cidx[1:] == cidx[:-1]
    p, q = coords[:-1][same], coords[1:][same]
    swept = _swept_boxes(p, q, fp.w / 2, fp.h / 2)
    blocked = union_by_group(swept, ring_idx[cidx[:-1][same]], len(geoms))
    has = ~shapely.is_missing(blocked)
    out = geoms.copy()
    out[has] = shapely.difference(geoms[has], blocked[has])
    return out


def _swept_boxes(p: np.ndarray, q: np.ndarray, hw: float, hh: float) -> np.ndarray:
    """Hexagons swept by a ``2hw x 2hh`` box moving from ``p`` to ``q`` (the hull of the two boxes).

    With box corners ``c0..c3`` counter-clockwise from the lower left and ``s`` the quadrant of
    ``q - p`` (0 to 3), the hull is ``p+c[s], p+c[s+1], q+c[s+1], q+c[s+2], q+c[s+3], p+c[s+3]``.

    Examples
    --------
    >>> import numpy as np
    >>> h = _swept_boxes(np.array([[0.0, 0.0]]), np.array([[-4.0, 3.0]]), 1.0, 1.0)[0]
    >>> h.area, h.is_valid
    (18.0, True)
    """
    corners = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    e = q - p
    s = np.where(e[:, 1] >= 0, np.where(e[:, 0] >= 0, 0, 1), np.where(e[:, 0] < 0, 2, 3))
    k = (s[:, None] + np.array([0, 1, 1, 2, 3, 3])) % 4
    base = np.where(np.array([True, True, False, False, False, True])[None, :, None], p[:, None], q[:, None])
    return shapely.polygons(base + corners[k])


def _ranges(lo: np.ndarray, hi: np.ndarray, step: float, origin):
    """Integer index ranges ``[i0, i1]`` of lines ``origin + i * step`` covering ``[lo, hi]``."""
    return np.floor((lo - origin) / step).astype(np.int64), np.ceil((hi - origin) / step).astype(np.int64)


def _expand(i0, i1, j0, j1):
    """All (i, j) index pairs of each block, with the block number: vectorized nested ranges."""
    ni, nj = np.maximum(i1 - i0 + 1, 0), np.maximum(j1 - j0 + 1, 0)
    count = ni * nj
    block = np.repeat(np.arange(len(count)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return i0[block] + k % np.maximum(ni[block], 1), j0[block] + k // np.maximum(ni[block], 1), block


@dataclass
class LatticeFrame:
    """Centre regions of the pieces in the lattice frame of angle ``theta``, cut into tiles."""

    theta: float
    pitch: tuple[float, float]
    hexagonal: bool
    tiles: np.ndarray
    tile_piece: np.ndarray
    piece_bounds: np.ndarray  # bounds of each piece's centre region in the lattice frame
    centres: np.ndarray

    @classmethod
    def build(cls, pieces: Pieces, fp: Footprint, theta: float, spacing: float,
              band: float | None = None, centres: np.ndarray | None = None) -> LatticeFrame:
        """Centre regions of ``pieces`` rotated by ``-theta`` (or given); with ``band``, only their rim."""
        pitch = fp.pitch(spacing)
        if centres is None:
            centres = centre_region(_rotate(pieces.geoms, theta), fp)
        region = centres if band is None else shapely.difference(centres, shapely.buffer(centres, -band))
        tiles, tile_piece = _tile(region, TILE_STEPS * max(pitch))
        shapely.prepare(tiles)
        return cls(theta, pitch, fp.shape == "circle", tiles, tile_piece, shapely.bounds(centres), centres)

    def _origins(self, offset, px: float, py: float):
        """Per-tile lattice origin: a global shift in steps, or aligned with each piece's low/high corner."""
        if isinstance(offset, str):
            cols, nudge = {"low": ((0, 1), ALIGN_NUDGE), "high": ((2, 3), -ALIGN_NUDGE)}[offset]
            return (self.piece_bounds[self.tile_piece, cols[0]] + nudge,
                    self.piece_bounds[self.tile_piece, cols[1]] + nudge)
        return np.full(len(self.tiles), offset[0] * px), np.full(len(self.tiles), offset[1] * py)

    def points(self, offset, step: float = 1.0):
        """Lattice points (u, v, piece) strictly inside the centre regions; ``step`` < 1 gives a finer lattice.

        ``offset`` is a global shift in steps ``(fu, fv)``, or ``"low"`` / ``"high"`` to align each
        piece's lattice with the low (or high) corner of its centre region.
        """
        px, py = self.pitch[0] * step, self.pitch[1] * step
        if not len(self.tiles):
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        ou, ov = self._origins(offset, px, py)
        b = shapely.bounds(self.tiles)
        shift = 0.5 * px if self.hexagonal else 0.0
        i0, i1 = _ranges(b[:, 0] - shift, b[:, 2], px, ou)
        j0, j1 = _ranges(b[:, 1], b[:, 3], py, ov)
        ii, jj, tile = _expand(i0, i1, j0, j1)
        u = ou[tile] + ii * px + (shift * (jj % 2) if self.hexagonal else 0.0)
        v = ov[tile] + jj * py
        hit = shapely.contains_xy(self.tiles[tile], u, v)
        return u[hit], v[hit], self.tile_piece[tile[hit]]

    def rows(self, offset):
        """Rows of sites (u, v, piece): rows ``pitch_v`` apart, each packed optimally along its length.

        Rows of axis-aligned rectangles one height plus spacing apart never conflict, so each row is
        an independent one-dimensional problem - free intervals of the row line inside the centre
        region, filled leftmost-first one pitch apart, which is optimal for equal lengths.
        """
        px, py = self.pitch
        if not len(self.tiles):
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        _, ov = self._origins(offset, px, py)
        b = shapely.bounds(self.tiles)
        j0, j1 = _ranges(b[:, 1], b[:, 3], py, ov)
        _, jj, tile = _expand(np.zeros(len(b), np.int64), np.zeros(len(b), np.int64), j0, j1)
        v = ov[tile] + jj * py
        lines = shapely.linestrings(np.stack([np.column_stack([b[tile, 0] - 1, v]),
                                              np.column_stack([b[tile, 2] + 1, v])], axis=1))
        cut = chunked(shapely.intersection, self.tiles[tile], lines)
        parts, k = shapely.get_parts(cut, return_index=True)
        lo, hi = shapely.bounds(parts)[:, [0, 2]].T
        ok = ~np.isnan(lo)
        return pack_rows(self.tile_piece[tile[k[ok]]], v[k[ok]], lo[ok], hi[ok], px)


def pack_rows(piece: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray, pitch: float):
    """Leftmost-first packing of free intervals ``[lo, hi]`` grouped in rows (piece, v); returns (u, v, piece).

    Examples
    --------
    >>> import numpy as np
    >>> u, v, p = pack_rows(np.array([0, 0]), np.array([0.0, 0.0]), np.array([0.0, 2.5]), np.array([2.0, 9.0]), 2.0)
    >>> u.tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    order = np.lexsort((lo, v, piece))
    piece, v, lo, hi = piece[order], v[order], lo[order], hi[order]
    new_row = np.r_[True, (piece[1:] != piece[:-1]) | (v[1:] != v[:-1])]
    row_start = np.flatnonzero(new_row)
    rank = np.arange(len(lo)) - np.repeat(row_start, np.diff(np.r_[row_start, len(lo)]))
    row_id = np.cumsum(new_row) - 1
    last = np.full(len(row_start), -np.inf)
    first, count = np.zeros(len(lo)), np.zeros(len(lo), np.int64)
    for r in range(int(rank.max()) + 1 if len(rank) else 0):  # intervals in order along each row
        k = np.flatnonzero(rank == r)
        start = np.maximum(lo[k], last[row_id[k]] + pitch)
        n = np.where(start <= hi[k], np.floor((hi[k] - start) / pitch + 1e-9).astype(np.int64) + 1, 0)
        first[k], count[k] = start, n
        placed = n > 0
        last[row_id[k[placed]]] = start[placed] + (n[placed] - 1) * pitch
    idx = np.repeat(np.arange(len(lo)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return first[idx] + step * pitch, v[idx], piece[idx]


def _tile(regions: np.ndarray, size: float):
    """Cut each region into square tiles of ``size`` (regions smaller than a tile stay whole)."""
    regions = np.asarray(regions, dtype=object)
    live = ~shapely.is_empty(regions) & ~shapely.is_missing(regions)
    b = shapely.bounds(regions)
    small = live & (b[:, 2] - b[:, 0] <= size) & (b[:, 3] - b[:, 1] <= size)
    big = np.flatnonzero(live & ~small)
    if not len(big):
        return regions[small], np.flatnonzero(small)
    o = TILE_ORIGIN * size
    i0, i1 = _ranges(b[big, 0], b[big, 2], size, o)
    j0, j1 = _ranges(b[big, 1], b[big, 3], size, o)
    ii, jj, block = _expand(i0, i1 - 1, j0, j1 - 1)
    cells = shapely.box(o + ii * size, o + jj * size, o + (ii + 1) * size, o + (jj + 1) * size)
    owner = big[block]
    cut = shapely.intersection(regions[owner], cells)
    keep = ~shapely.is_empty(cut)
    return np.concatenate([regions[small], cut[keep]]), np.concatenate([np.flatnonzero(small), owner[keep]])
