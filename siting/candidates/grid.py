"""Grid candidates: hexagonal or square cells cut from the eligible land, split by parcel.

Most cells are settled in numpy (a cell whose centre is farther than its circumradius from every
edge of its land piece lies wholly inside or outside it); only cells near an edge go to GEOS.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> land = gpd.GeoDataFrame({"unit_id": ["P-1"], "parcel_id": ["1"]},
...                         geometry=[box(0, 0, 3000, 2000)], crs=5070)
>>> cells = candidates_from_grid(land, cell_m=1000, shape="square")
>>> len(cells), round(float(cells["cell_acres"].sum()))
(6, 1483)
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.candidates.budget import check_budget
from siting.candidates.ids import numbered, parcel_keys
from siting.core import settings
from siting.core.errors import ScenarioError
from siting.geo.geometry import keep_family, one_part, prepared
from siting.geo.parallel import chunked, map_pieces
from siting.geo.proximity import segment_distance
from siting.io.crs import check_projected

__all__ = ["candidates_from_grid", "grid_cells"]

log = logging.getLogger(__name__)

#: Land pieces (blocks of parcels) per slice of grid cutting: bounds the cells alive at once.
PIECES_PER_SLICE = 2_000
#: Pieces with more edges than this leave every cell to GEOS (the numpy pre-check costs cells x edges).
SURE_MAX_EDGES = 64
#: Cell x edge pairs per batch of that pre-check (bounds its memory).
SURE_PAIRS = 1 << 20


def _cell_size(cell_acres: float | None, cell_m: float | None, shape: str) -> float:
    """Cell width in metres (hexagons: flat to flat, the distance between cell centres)."""
    if shape not in ("hex", "square"):
        raise ScenarioError(f"grid shape {shape!r} is unknown; use 'hex' or 'square'")
    if (cell_acres is None) == (cell_m is None):
        raise ScenarioError("give exactly one of cell_acres or cell_m")
    if cell_m is not None:
        if not cell_m > 0:
            raise ScenarioError(f"cell_m must be > 0, not {cell_m}")
        return float(cell_m)
    assert cell_acres is not None  # one of the two is given (checked above)
    if not cell_acres > 0:
        raise ScenarioError(f"cell_acres must be > 0, not {cell_acres}")
    area = cell_acres * settings.M2_PER_ACRE
    return math.sqrt(area) if shape == "square" else math.sqrt(2 * area / math.sqrt(3))


def grid_cells(bounds, width: float, shape: str = "hex", *, block: int = 32):
    """Grid cells over ``bounds``, anchored at the CRS origin so cell ids are stable between runs.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy)
    width : float
        Square side, or hexagon width flat to flat (pointy-top hexagons in offset rows).
    shape : {"hex", "square"}
    block : int
        Cells are grouped in blocks of ``block`` x ``block`` (see the returned block ids).

    Returns
    -------
    (ndarray of Polygon, ndarray of int, ndarray of int)
        Cells touching ``bounds`` and their column and row indices.

    Examples
    --------
    >>> cells, i, j = grid_cells((0, 0, 1000, 1000), 500, "square")
    >>> len(cells), round(cells[0].area)
    (4, 250000)
    """
    minx, miny, maxx, maxy = bounds
    dx, dy = _steps(width, shape)
    i0, i1 = math.floor(minx / dx) - 1, math.ceil(maxx / dx) + 1
    j0, j1 = math.floor(miny / dy) - 1, math.ceil(maxy / dy) + 1
    gi, gj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1))
    ii, jj = gi.ravel(), gj.ravel()
    cells = _cell_polygons(ii, jj, width, shape)
    keep = shapely.intersects(shapely.box(*bounds), cells) & ~shapely.touches(shapely.box(*bounds), cells)
    return cells[keep], ii[keep], jj[keep]


def _steps(width: float, shape: str) -> tuple[float, float]:
    return (width, width) if shape == "square" else (width, width * math.sqrt(3) / 2)


def _cell_polygons(ii: np.ndarray, jj: np.ndarray, width: float, shape: str) -> np.ndarray:
    dx, dy = _steps(width, shape)
    if shape == "square":
        return shapely.box(ii * dx, jj * dy, (ii + 1) * dx, (jj + 1) * dy)
    cx, cy, r = _cell_centres(ii, jj, width, shape)
    ang = np.radians(90 + 60 * np.arange(7))  # the seventh vertex closes the ring
    ring = np.stack([cx[:, None] + r * np.cos(ang), cy[:, None] + r * np.sin(ang)], axis=-1)
    ring[:, 6] = ring[:, 0]
    n = len(ii)  # from the flat coordinates in one call: twice as fast as shapely.polygons
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, ring.reshape(-1, 2),
                                     (np.arange(0, 7 * n + 1, 7), np.arange(n + 1)))


def _cell_centres(ii: np.ndarray, jj: np.ndarray, width: float, shape: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Centres of cells (x, y) and their circumradius: every point of a cell is within it of the centre."""
    dx, dy = _steps(width, shape)
    if shape == "square":
        return (ii + 0.5) * dx, (jj + 0.5) * dy, width * math.sqrt(2) / 2
    return (ii + 0.5 * (jj % 2)) * dx, jj * dy, width / math.sqrt(3)


def _sure_cells(pieces: np.ndarray, owner: np.ndarray, ci: np.ndarray, cj: np.ndarray, width: float,
                shape: str) -> tuple[np.ndarray, np.ndarray]:
    """Cells certainly inside and certainly outside their piece, from the distance of their centre to it.

    A cell whose centre is farther than the circumradius from every edge of its piece is wholly
    inside the piece (centre inside, by the crossing number) or wholly outside it. Decided in numpy
    for pieces of at most :data:`SURE_MAX_EDGES` edges; the rest, and cells near an edge, are left to
    GEOS.
    """
    cx, cy, reach = _cell_centres(ci, cj, width, shape)
    inside, outside = np.zeros(len(ci), bool), np.zeros(len(ci), bool)
    parts, part_piece = shapely.get_parts(pieces, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)  # polygon parts only (others: no rings)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    edge = np.flatnonzero(ring[:-1] == ring[1:])
    edge_piece = part_piece[ring_part[ring[edge]]]
    n_edges = np.bincount(edge_piece, minlength=len(pieces))
    plain = np.bincount(part_piece[shapely.get_type_id(parts) != 3], minlength=len(pieces)) == 0
    cells = np.flatnonzero(plain[owner] & (n_edges[owner] > 0) & (n_edges[owner] <= SURE_MAX_EDGES))
    first = np.r_[0, np.cumsum(n_edges)[:-1]]  # each piece's first edge
    pairs = np.cumsum(n_edges[owner[cells]])
    cuts = np.searchsorted(pairs, np.arange(SURE_PAIRS, pairs[-1] if len(pairs) else 0, SURE_PAIRS))
    for part in np.split(cells, cuts):  # cell x edge pairs in bounded batches
        if len(part):
            near, odd = _centre_to_edges(cx[part], cy[part], n_edges[owner[part]], first[owner[part]], edge, coords)
            clear = near > reach * (1 + 1e-9) + 1e-6
            inside[part], outside[part] = clear & odd, clear & ~odd
    return inside, outside


def _centre_to_edges(cx, cy, per, first, edge, coords) -> tuple[np.ndarray, np.ndarray]:
    """Per centre: the distance to the nearest of its piece's ``per`` edges (from ``first``), and
    whether it is inside the piece (an odd number of those edges cross the ray to +x)."""
    starts = np.r_[0, np.cumsum(per)[:-1]]
    e = edge[np.repeat(first, per) + np.arange(per.sum()) - np.repeat(starts, per)]
    x0, y0, x1, y1 = coords[e, 0], coords[e, 1], coords[e + 1, 0], coords[e + 1, 1]
    px, py = np.repeat(cx, per), np.repeat(cy, per)
    near = np.minimum.reduceat(segment_distance(px, py, x0, y0, x1, y1), starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = ((y0 > py) != (y1 > py)) & (px < (x1 - x0) * (py - y0) / (y1 - y0) + x0)
    return near, np.add.reduceat(cross.astype(np.int64), starts) % 2 == 1


def _clip_to_blocks(geoms: np.ndarray, width: float, shape: str, block: int):
    """Land cut into blocks of ``block`` x ``block`` cells: (pieces, land row, block i0, block j0).

    Each block's box is padded by a cell so every cell of the block lies wholly inside it: a cell
    intersected with its block's piece of land is the cell intersected with the land.
    """
    dx, dy = _steps(width, shape)
    b = shapely.bounds(geoms)
    bi0 = np.floor(b[:, 0] / dx / block).astype(np.int64) - 1
    bi1 = np.floor(b[:, 2] / dx / block).astype(np.int64) + 1
    bj0 = np.floor(b[:, 1] / dy / block).astype(np.int64) - 1
    bj1 = np.floor(b[:, 3] / dy / block).astype(np.int64) + 1
    n = (bi1 - bi0 + 1) * (bj1 - bj0 + 1)
    row = np.repeat(np.arange(len(geoms)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    ni = (bi1 - bi0 + 1)[row]
    bi, bj = bi0[row] + k % ni, bj0[row] + k // ni
    boxes = shapely.box((bi * block - 1) * dx, (bj * block - 1) * dy, ((bi + 1) * block + 1) * dx,
                        ((bj + 1) * block + 1) * dy)
    hit = shapely.intersects(geoms[row], boxes)
    row, bi, bj, boxes = row[hit], bi[hit], bj[hit], boxes[hit]
    inside = shapely.contains(geoms[row], boxes)
    pieces = boxes.copy()
    pieces[~inside] = chunked(shapely.intersection, geoms[row[~inside]], boxes[~inside])
    keep = ~shapely.is_empty(pieces) & (shapely.area(pieces) > 0)
    return pieces[keep], row[keep], bi[keep] * block, bj[keep] * block


def candidates_from_grid(eligible: gpd.GeoDataFrame, *, cell_acres: float | None = None,
                         cell_m: float | None = None, shape: str = "hex", block: int = 32) -> gpd.GeoDataFrame:
    """Cut eligible land into grid cells: each cell clipped to the land, split by parcel.

    The grid is anchored at the CRS origin, so a cell keeps its id between runs. Large parcels are
    first cut into blocks of ``block`` x ``block`` cells, so every overlay is small; cells wholly
    inside the land are kept as they are, without an overlay.

    Parameters
    ----------
    eligible : GeoDataFrame
        Eligible land in a projected CRS, one row per parcel (or parcel remainder).
    cell_acres : float, optional
        Cell area (give this or ``cell_m``).
    cell_m : float, optional
        Cell width: square side, or hexagon width flat to flat.
    shape : {"hex", "square"}
    block : int
        Cells per side of the blocks the land is cut into.

    Returns
    -------
    GeoDataFrame
        One row per cell and parcel: ``candidate_id`` (``G-<col>_<row>-<parcel_id>``),
        ``cell_id``, the parcel columns, ``cell_acres`` (the whole cell), ``eligible_fraction``
        (share of the cell that is eligible land of this parcel) and the clipped geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> land = gpd.GeoDataFrame({"parcel_id": ["a", "b"], "agency": ["BLM", "DOD"]},
    ...                         geometry=[box(0, 0, 1000, 2000), box(1000, 0, 2000, 2000)], crs=5070)
    >>> cells = candidates_from_grid(land, cell_m=1500, shape="square")
    >>> cells.groupby("parcel_id")["eligible_fraction"].sum().round(3).to_dict()
    {'a': 0.889, 'b': 0.889}
    >>> bool(np.isclose(cells.area.sum(), land.area.sum()))
    True
    """
    check_projected(eligible.crs, what="eligible land")
    width = _cell_size(cell_acres, cell_m, shape)
    geoms = np.asarray(eligible.geometry.values, dtype=object)
    cell_m2 = width * width * (3 ** 0.5 / 2 if shape == "hex" else 1.0)
    check_budget(float(np.nan_to_num(shapely.area(geoms)).sum()), cell_m2, "grid cells")
    live = np.flatnonzero(~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
    pieces, row, bi, bj = _clip_to_blocks(geoms[live], width, shape, block)
    row = live[row]
    parts = map_pieces(_piece_cells, pieces, bi, bj, width=width, shape=shape, block=block, min_items=2_000,
                       size=PIECES_PER_SLICE)
    land = row[np.concatenate([start + p[0] for start, p in parts])]  # type: ignore[index]
    ci, cj, clipped = (np.concatenate([p[k] for _, p in parts]) for k in (1, 2, 3))  # type: ignore[index]
    return _grid_frame(eligible, land, ci, cj, clipped, width, shape)


def _piece_cells(pieces, bi, bj, *, width, shape, block):
    """The cells of each piece's block near the piece's bounds, clipped to the piece: (piece, i, j, cell)."""
    owner, ci, cj = _block_cells(pieces, bi, bj, width, shape, block)
    inside, outside = _sure_cells(pieces, owner, ci, cj, width, shape)
    owner, ci, cj, inside = owner[~outside], ci[~outside], cj[~outside], inside[~outside]
    cells = _cell_polygons(ci, cj, width, shape)
    doubt = np.flatnonzero(~inside)  # near an edge of their piece: GEOS decides
    hit = inside.copy()
    with prepared(pieces):
        hit[doubt] = shapely.intersects(pieces[owner[doubt]], cells[doubt])
        owner, ci, cj, cells, inside = owner[hit], ci[hit], cj[hit], cells[hit], inside[hit]
        whole = inside.copy()  # no overlay needed
        doubt = np.flatnonzero(~inside)
        whole[doubt] = shapely.contains(pieces[owner[doubt]], cells[doubt])
    clipped = cells.copy()
    clipped[~whole] = one_part(keep_family(shapely.intersection(pieces[owner[~whole]], cells[~whole]), "polygon"))
    ok = ~shapely.is_missing(clipped) & ~shapely.is_empty(clipped)
    ok[ok] = shapely.area(clipped[ok]) > 0
    return _each_part(owner[ok], ci[ok], cj[ok], clipped[ok])


def _each_part(owner, ci, cj, clipped):
    """A cell the land's edge cuts into disjoint parts as one row per part: a site is one connected polygon."""
    many = np.flatnonzero(shapely.get_num_geometries(clipped) > 1)
    if not len(many):
        return owner, ci, cj, clipped
    parts, k = shapely.get_parts(clipped[many], return_index=True)
    live = shapely.area(parts) > 0
    rows = np.r_[np.setdiff1d(np.arange(len(clipped)), many), many[k[live]]]
    geoms = np.r_[np.delete(clipped, many), parts[live]]
    return owner[rows], ci[rows], cj[rows], geoms


def _block_cells(pieces, bi, bj, width, shape, block):
    """(piece, i, j) of the cells of each piece's block within a cell of the piece's bounds."""
    dx, dy = _steps(width, shape)
    b = shapely.bounds(pieces)
    i0 = np.maximum(bi, np.floor(b[:, 0] / dx).astype(np.int64) - 1)
    i1 = np.minimum(bi + block - 1, np.floor(b[:, 2] / dx).astype(np.int64) + 1)
    j0 = np.maximum(bj, np.floor(b[:, 1] / dy).astype(np.int64) - 1)
    j1 = np.minimum(bj + block - 1, np.floor(b[:, 3] / dy).astype(np.int64) + 1)
    ni, nj = np.maximum(i1 - i0 + 1, 0), np.maximum(j1 - j0 + 1, 0)
    n = ni * nj
    owner = np.repeat(np.arange(len(pieces)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return owner, i0[owner] + k % ni[owner], j0[owner] + k // ni[owner]


def _grid_frame(eligible, land, ci, cj, pieces, width, shape) -> gpd.GeoDataFrame:
    rep = shapely.point_on_surface(pieces)  # the parts of a cut cell: by decreasing area, ties by position
    order = np.lexsort((shapely.get_y(rep), shapely.get_x(rep), -shapely.area(pieces), ci, cj, land))
    land, ci, cj, pieces = land[order], ci[order], cj[order], pieces[order]
    cols = [c for c in eligible.columns if c != eligible.geometry.name]
    out = pd.DataFrame(eligible[cols]).iloc[land].reset_index(drop=True)
    cell_id = np.array([f"{i}_{j}" for i, j in zip(ci.tolist(), cj.tolist(), strict=True)], dtype=object)
    pid = parcel_keys(eligible, what="grid candidates")  # per parcel row, then per cell
    ids = np.array([f"G-{c}-{p}" for c, p in zip(cell_id.tolist(), pid[land].tolist(), strict=True)], dtype=object)
    if pd.Series(ids, dtype=object).duplicated().any():  # a cell's parts, or a parcel split by zones: numbered
        ids = numbered(ids)
    out.insert(0, "candidate_id", ids)
    out.insert(1, "cell_id", cell_id)
    cell_area = float(shapely.area(_cell_polygons(np.zeros(1, int), np.zeros(1, int), width, shape))[0])
    out["cell_acres"] = cell_area / settings.M2_PER_ACRE
    out["eligible_fraction"] = shapely.area(pieces) / cell_area
    log.info("grid: %d %s cells of %.1f acres over %d parcel(s)", len(out), shape, cell_area / settings.M2_PER_ACRE,
             len(eligible))
    return gpd.GeoDataFrame(out, geometry=pieces, crs=eligible.crs)
