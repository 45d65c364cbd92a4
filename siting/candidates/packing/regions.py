"""Land packed in groups of like scale, each with the map spacing its own neighbourhood needs.

A projected CRS stretches distances by a factor that varies over the land: EPSG:5070 by up to 1.4 %
in the lower 48 and by up to 43 % on Alaska's North Slope. Footprints ``spacing_m`` apart on the
ellipsoid need ``spacing_m * s_max`` on the map, where ``s_max`` bounds the scale between them. One
spacing sized for the largest scale over all the land spaces every footprint for the worst place:
Alaska's land in a national run would set the spacing in Nevada, and a run on Alaska alone in
EPSG:5070 packed half the sites that EPSG:3338 (Alaska Albers) packs.

:func:`spacing_groups` links pieces that lie nearer each other than the spacing (the sets of linked
pieces are packed as a whole: splitting land that footprints can span between two spacings lost more
sites at the seam than the smaller spacing gained), bounds the scale over each set's neighbourhood and
rounds it up to steps of :data:`STEP`; sets with the same rounded scale are one group, packed with its
own map spacing (:func:`by_group`). Footprints of different groups are then too far apart to conflict;
:func:`across_groups` checks it with the larger of each pair's two spacings, and resolves any pair by
an independent set.

Examples
--------
>>> from shapely import box
>>> from siting.candidates.packing.lattice import Pieces
>>> pieces = Pieces(np.array([box(-1.77e6, 2.08e6, -1.76e6, 2.09e6), box(-2.69e6, 5.72e6, -2.68e6, 5.73e6)]),
...                 np.array([0, 1]))  # 10 km squares in Nevada and on Alaska's North Slope, in EPSG:5070
>>> g = spacing_groups(pieces, "EPSG:5070", 5000)
>>> g.group.tolist(), [round(float(s)) for s in g.spacing], len(g)
([0, 1], [5047, 6851], 2)

Each group is packed on its own (here one site at each piece's centre); pairs across groups are checked:

>>> from siting.candidates.packing.footprint import Footprint
>>> centre = lambda part, spacing, ids: Sites(*shapely.get_coordinates(shapely.centroid(part.geoms)).T,
...                                           np.zeros(len(part)), np.arange(len(part)))
>>> sites = by_group(pieces, g, centre)
>>> sites.piece.tolist(), len(across_groups(Footprint.from_acres(160), sites, g, np.ones(2)))
([0, 1], 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from siting.candidates.packing.conflicts import Sites, independent_set, too_close
from siting.candidates.packing.footprint import Footprint
from siting.candidates.packing.lattice import Pieces
from siting.geo import geodesy
from siting.geo.ground import largest_scale

__all__ = ["STEP", "SpacingGroups", "across_groups", "by_group", "spacing_groups"]

#: Ratio between the scales of neighbouring groups: a component's spacing is at most 0.2 % above its need.
STEP = 1.002


@dataclass
class SpacingGroups:
    """Each piece's group, and each group's map spacing (planar units).

    Examples
    --------
    >>> len(SpacingGroups(np.array([0, 0, 1]), np.array([5000.0, 5100.0])))
    2
    """

    group: np.ndarray
    spacing: np.ndarray

    def __len__(self) -> int:
        return len(self.spacing)


def spacing_groups(pieces: Pieces, crs, spacing_m: float) -> SpacingGroups:
    """Group the pieces by the map spacing that keeps footprints ``spacing_m`` apart on the ellipsoid.

    Pieces nearer each other than the spacing over all the land are linked, and each set of linked
    pieces (a component, packed as a whole) gets ``spacing_m`` times the certified largest scale
    (:meth:`siting.geo.ground.Ground.local_scales`) over its pieces' boxes grown by the largest spacing
    any pair could need (never above the bound over all the land); components whose needs round up to
    the same power of :data:`STEP` are one group, spaced for the largest need among them. Without a
    ground (a CRS without an ellipsoid) or spacing, one group at ``spacing_m``.
    """
    ground = geodesy.ground_of(crs)
    one = SpacingGroups(np.zeros(len(pieces), np.int64), np.array([float(spacing_m)]))
    if ground is None or spacing_m <= 0 or not len(pieces):
        return one
    b = shapely.bounds(pieces.geoms)
    lo, hi = b[:, :2].min(axis=0), b[:, 2:].max(axis=0)
    s_all = ground.scale_range((lo[0] - spacing_m, lo[1] - spacing_m, hi[0] + spacing_m, hi[1] + spacing_m))[1]
    component = _components(b, spacing_m * s_all)
    s_max = largest_scale(pieces.geoms, ground, spacing_m * max(s_all, 1.0))  # a pair's segment lies that near
    worst = np.zeros(component.max() + 1)
    np.maximum.at(worst, component, s_max)
    worst = np.minimum(worst, s_all)
    keys, group = np.unique(np.ceil(np.log(worst) / math.log(STEP) - 1e-9), return_inverse=True)
    need = np.zeros(len(keys))
    np.maximum.at(need, group, worst)  # each group at the largest need of its components
    return SpacingGroups(group[component].astype(np.int64), spacing_m * need)


def _components(bounds: np.ndarray, reach: float) -> np.ndarray:
    """Component of each box when boxes nearer than ``reach`` are linked (footprints apart need no check)."""
    grown = shapely.box(bounds[:, 0] - reach / 2, bounds[:, 1] - reach / 2,
                        bounds[:, 2] + reach / 2, bounds[:, 3] + reach / 2)
    i, j = shapely.STRtree(grown).query(grown)  # boxes: the tree's own test is exact
    n = len(bounds)
    graph = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def by_group(pieces: Pieces, groups: SpacingGroups, pack: Callable[[Pieces, float, np.ndarray], Sites]) -> Sites:
    """Sites of ``pack(sub_pieces, spacing, ids)`` on each group, their pieces numbered as in ``pieces``."""
    found = []
    for g, spacing in enumerate(groups.spacing):
        ids = np.flatnonzero(groups.group == g)
        sites = pack(Pieces(pieces.geoms[ids], pieces.row[ids]), float(spacing), ids)
        sites.piece = ids[np.asarray(sites.piece, np.int64)]
        found.append(sites)
    return Sites.concat(found) if found else Sites.empty()


def across_groups(fp: Footprint, sites: Sites, groups: SpacingGroups, weight: np.ndarray) -> Sites:
    """Drop the fewest (lowest ``weight``) sites so that sites of different groups keep the larger spacing."""
    if len(groups) < 2 or len(sites) < 2:
        return sites
    g = groups.group[sites.piece]
    spacing = groups.spacing[g]
    pairs = cKDTree(sites.xy()).query_pairs(2 * fp.r + float(spacing.max()), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    other = g[i] != g[j]
    i, j = i[other], j[other]
    need = np.maximum(spacing[i], spacing[j])
    close = np.zeros(len(i), bool)
    for value in np.unique(need):
        sel = need == value
        close[sel] = too_close(fp, float(value), sites, i[sel], sites, j[sel])
    if not close.any():
        return sites
    return sites.take(independent_set(len(sites), i[close], j[close], weight))
