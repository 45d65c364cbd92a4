"""The ground truth the tests compare with, written without siting: distances on the WGS84 ellipsoid.

Two shapes are measured in an azimuthal-equidistant frame centred where they come closest (distances
from the centre are exact geodesics there, and nearly so around it), after densifying their edges to
:data:`STEP` metres in the data's CRS; a point pair is measured with ``pyproj.Geod.inv`` directly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Geod, Proj, Transformer

GEOD = Geod(ellps="WGS84")
#: Edge densification (CRS units) before reprojecting to the local frame.
STEP = 50.0


@lru_cache(maxsize=8)
def _to_lonlat(crs: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)


def _lonlat(crs, x, y):
    return _to_lonlat(CRS.from_user_input(crs).to_wkt()).transform(x, y)


def _local(crs, lon0, lat0):
    """Planar coordinates -> an azimuthal-equidistant frame on WGS84 centred at (lon0, lat0)."""
    frame = Proj(proj="aeqd", lat_0=lat0, lon_0=lon0, ellps="WGS84", units="m")
    return lambda c: np.column_stack(frame(*_lonlat(crs, c[:, 0], c[:, 1])))


def ground_distance(a, b, crs) -> float:
    """Geodesic distance (m) between two shapes in ``crs``."""
    if shapely.intersects(a, b):
        return 0.0
    (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(a, b))
    if a.geom_type == "Point" and b.geom_type == "Point":
        lon, lat = _lonlat(crs, [x0, x1], [y0, y1])
        return float(GEOD.inv(lon[0], lat[0], lon[1], lat[1])[2])
    move = _local(crs, *_lonlat(crs, (x0 + x1) / 2, (y0 + y1) / 2))
    a2, b2 = (shapely.transform(shapely.segmentize(g, STEP), move) for g in (a, b))
    return float(shapely.distance(a2, b2))


def ground_nearest(geom, frame) -> float:
    """Geodesic distance (m) from ``geom`` to the nearest feature of a GeoDataFrame (same CRS)."""
    return min(ground_distance(geom, g, frame.crs) for g in frame.geometry)


def agrees(value: float, truth: float) -> bool:
    """Whether a reported distance is within max(1 m, 0.1 %) of the truth."""
    return abs(value - truth) <= max(1.0, 1e-3 * truth)


def ground_farthest(geom, crs, points, step: float = 10.0) -> float:
    """Largest geodesic distance (m) from a point of ``geom`` (outline every ``step``, inside every
    ``4 * step``) to the nearest of ``points`` (x, y arrays in ``crs``)."""
    outline = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), step))
    x0, y0, x1, y1 = geom.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, 4 * step), np.arange(y0, y1, 4 * step))
    inside = shapely.contains_xy(geom, gx.ravel(), gy.ravel())
    xy = np.vstack([outline, np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])])
    lon, lat = _lonlat(crs, xy[:, 0], xy[:, 1])
    plon, plat = _lonlat(crs, *points)
    d = [GEOD.inv(lon, lat, np.full(len(lon), a), np.full(len(lon), b))[2] for a, b in zip(plon, plat, strict=True)]
    return float(np.min(d, axis=0).max())


def outline_farthest(geom, target, crs, step: float = 1.0) -> float:
    """Largest geodesic distance (m) from a point of ``geom``'s outline (every ``step``) to ``target``,
    measured in one azimuthal-equidistant frame at ``geom``'s centre (good to millimetres within 10 km)."""
    c = geom.centroid
    move = _local(crs, *_lonlat(crs, c.x, c.y))
    pts = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), step))
    far = shapely.transform(shapely.segmentize(target, STEP), move)
    return float(shapely.distance(shapely.points(move(pts)), far).max())
