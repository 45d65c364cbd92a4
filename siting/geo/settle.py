"""Ground distances settled where a decision turns on them.

:func:`siting.geo.geodesy.nearest` measures on the ellipsoid the geodesic between the nearest points on the map.
Where the CRS scales directions unevenly that pair is not quite the ground's nearest, and its geodesic is longer
than the true distance: by up to 1.9e-4 of it in Nevada in EPSG:5070 (0.95 m at 5 km, measured against
``pyproj.Geod`` on lines cut every 25 cm), where the local frame of :mod:`siting.geo.stretch` is not used (its
axes differ by less than :data:`siting.geo.stretch.STRETCH`). Rules that keep what lies at least a distance away
(``beyond``) would then pass a site 4,998.3 m from a road under 4,999 m. :func:`settle` measures such values again:
every target within reach, each pair's nearest points found again in the ground's local frame (within 1e-8 of
the distance at 196 km).

Examples
--------
>>> import numpy as np
>>> from shapely import LineString, Point
>>> src = np.array([Point(-2_050_000, 1_900_000)])
>>> road = np.array([LineString([(-2_069_821, 1_894_330), (-2_035_179, 1_914_330)])])
>>> from siting.geo import geodesy
>>> d = geodesy.nearest(src, road, geodesy.ground_of(5070))[0]
>>> round(float(d[0]), 2), round(float(settle(src, road, d, 5070)[0]), 2)   # Geod, the road cut every 25 cm: 4,998.29
(4999.23, 4998.29)
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree

from siting.geo.ground import Ground, ground_of, largest_scale
from siting.geo.stretch import refine

__all__ = ["SETTLE_BAND", "settle", "settle_pairs"]

#: Values within this share above a threshold are settled: the map's nearest pair is at most about 3e-4 too long
#: where the CRS's axes differ by less than 5 % (:mod:`siting.geo.stretch`), measured up to 1.9e-4 in Nevada.
SETTLE_BAND = 1e-3


def settle(sources, targets, d, crs) -> np.ndarray:
    """The ground distance from each source to its nearest target, measured again with every pair's nearest
    points found on the ground.

    Parameters
    ----------
    sources, targets : array_like of geometry
        Valid, non-empty geometries in ``crs``.
    d : array_like of float
        Each source's distance as measured (:func:`siting.geo.geodesy.nearest`): never shorter than the truth.
    crs : CRS-like
        The working CRS; without a ground (a geographic or missing CRS), ``d`` is returned as it is.

    Returns
    -------
    ndarray
        The least of ``d`` and the geodesic of each target's nearest pair found in the local frame.
    """
    out = np.array(d, dtype=float)
    ground = ground_of(crs)
    sources, targets = np.asarray(sources, dtype=object), np.asarray(targets, dtype=object)
    live = np.flatnonzero(np.isfinite(out) & (out > 0))
    if ground is None or not len(live) or not len(targets):
        return out
    reach = out[live] * largest_scale(sources[live], ground, out[live]) * (1 + 1e-9)  # every target within d
    s, t = STRtree(targets).query(sources[live], predicate="dwithin", distance=reach)
    np.minimum.at(out, live[s], settle_pairs(sources[live][s], targets[t], np.full(len(s), np.inf), ground))
    return out


def settle_pairs(a: np.ndarray, b: np.ndarray, d: np.ndarray, ground: Ground) -> np.ndarray:
    """The least of ``d`` and the geodesic of the nearest points of each pair ``(a[i], b[i])`` found in the
    ground's local frame (:func:`siting.geo.stretch.refine`, for every pair).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> src, road = np.array([Point(-2_050_000, 1_900_000)]), np.array([LineString([(-2_069_821, 1_894_330),
    ...                                                                            (-2_035_179, 1_914_330)])])
    >>> round(float(settle_pairs(src, road, np.array([np.inf]), Ground(5070))[0]), 2)
    4998.29
    """
    d = np.asarray(d, dtype=float)
    if not len(a):
        return d.copy()
    xy = shapely.get_coordinates(shapely.shortest_line(a, b)).reshape(len(a), 4)
    gp = refine(a, b, xy, ground.between(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3]), ground, everywhere=True)
    return np.fmin(d, gp)
