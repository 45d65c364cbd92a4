"""Areas on the ellipsoid under a projected working CRS.

An equal-area CRS (EPSG:5070, EPSG:3338, the Lambert azimuthal equal-area CRS siting picks elsewhere) keeps
areas: a map acre is an acre on the ellipsoid. Another CRS a scenario names (a UTM zone, a state plane) is
accepted when its areas are within 0.1 % over the parcels (:func:`siting.io.crs.check_areas`), and a rule on
area must still be right at its threshold: UTM 11N at 114.5 W makes a map acre 1.0004 acres, so a site of
640.2 map acres, 639.95 on the ground, passed ``min_area: 640``. :func:`ground_acres` divides each polygon's
map area by PROJ's areal scale at its centroid (within about 1e-6 of the ellipsoid's for a site tens of
kilometres across); :func:`acres_for_threshold` measures the polygons near a threshold exactly
(:func:`geodesic_acres`: ``pyproj.Geod`` on edges densified on the map).

Examples
--------
>>> from pyproj import Transformer
>>> from shapely import box
>>> x, y = Transformer.from_crs(4326, 26911, always_xy=True).transform(-114.5, 38.0)
>>> square = np.array([box(x, y, x + 1609.344, y + 1609.344)])   # a square mile on UTM 11N's map
>>> [round(float(v), 2) for v in (ground_acres(square, 26911)[0], geodesic_acres(square, 26911)[0])]
[639.75, 639.75]
>>> keeps_areas("EPSG:5070"), keeps_areas("EPSG:26911")
(True, False)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Proj

from siting.core import settings
from siting.io.crs import transformer

__all__ = ["DENSIFY_M", "NEAR", "acres_for_threshold", "geodesic_acres", "ground_acres", "keeps_areas"]

#: Relative band about a threshold in which areas are measured on the ellipsoid exactly.
NEAR = 1e-3
#: Edge length (map metres) of the polygons measured by :func:`geodesic_acres`: their edges are straight on the
#: map, not geodesics.
DENSIFY_M = 10.0


def keeps_areas(crs) -> bool:
    """Whether a projected CRS keeps areas everywhere (an equal-area projection: PROJ's areal scale 1).

    Examples
    --------
    >>> keeps_areas("EPSG:3338"), keeps_areas("+proj=laea +lat_0=45 +lon_0=-100 +datum=WGS84")
    (True, True)
    """
    return _keeps_areas(CRS.from_user_input(crs).to_wkt())


@lru_cache(maxsize=16)
def _keeps_areas(wkt: str) -> bool:
    crs = CRS.from_wkt(wkt)
    op = crs.coordinate_operation
    if op is not None and "equal area" in op.method_name.lower():
        return True
    use = crs.area_of_use
    if use is None:
        return False
    lon, lat = np.meshgrid(np.linspace(use.west, use.east, 7), np.linspace(use.south, use.north, 7))
    scale = np.asarray(Proj(crs).get_factors(lon.ravel(), lat.ravel(), errcheck=False).areal_scale, float)
    return bool(np.isfinite(scale).all() and np.abs(scale - 1).max() < 1e-9)


def ground_acres(geoms, crs) -> np.ndarray:
    """Acres on the ellipsoid of polygons in a projected CRS: the map's area over the areal scale at the centroid.

    An equal-area CRS's map acres as they are; NaN for a missing geometry, 0 for an empty one.
    """
    geoms = np.asarray(geoms, dtype=object)
    acres = np.nan_to_num(shapely.area(geoms)) / settings.M2_PER_ACRE
    if not len(geoms) or crs is None or keeps_areas(crs):
        return acres
    crs = CRS.from_user_input(crs)
    live = np.flatnonzero(acres > 0)
    c = shapely.centroid(geoms[live])
    lon, lat = transformer(crs, crs.geodetic_crs).transform(shapely.get_x(c), shapely.get_y(c))
    scale = np.asarray(Proj(crs).get_factors(lon, lat, errcheck=False).areal_scale, float)
    acres[live] = acres[live] / np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return acres


def geodesic_acres(geoms, crs) -> np.ndarray:
    """Acres on the CRS's ellipsoid by ``pyproj.Geod`` (each polygon's edges cut to :data:`DENSIFY_M` first)."""
    geoms = np.asarray(geoms, dtype=object)
    crs = CRS.from_user_input(crs)
    geod = crs.get_geod()
    to_lonlat = transformer(crs, crs.geodetic_crs)
    dense = shapely.transform(shapely.segmentize(geoms, DENSIFY_M),
                              lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) if g is not None and not g.is_empty else 0.0
                     for g in dense]) / settings.M2_PER_ACRE


def acres_for_threshold(geoms, crs, threshold: float) -> np.ndarray:
    """:func:`ground_acres`, measured exactly (:func:`geodesic_acres`) within :data:`NEAR` of ``threshold``.

    Examples
    --------
    >>> from shapely import box
    >>> acres_for_threshold(np.array([box(0, 0, 1000, 1000)]), 5070, 247.0).round(3).tolist()
    [247.105]
    """
    acres = ground_acres(geoms, crs)
    if crs is None or keeps_areas(crs):
        return acres
    near = np.flatnonzero(np.abs(acres - threshold) <= NEAR * threshold)
    if len(near):
        acres[near] = geodesic_acres(np.asarray(geoms, dtype=object)[near], crs)
    return acres
