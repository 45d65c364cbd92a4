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
from shapely import STRtree

from siting.geo.geodesy import pair_distance
from siting.geo.ground import ground_of, largest_scale
from siting.geo.stretch import SETTLE_BAND

__all__ = ["SETTLE_BAND", "settle"]


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
        The least of ``d`` and each target's :func:`~siting.geo.geodesy.pair_distance` found on the ground
        (``everywhere``).
    """
    out = np.array(d, dtype=float)
    ground = ground_of(crs)
    sources, targets = np.asarray(sources, dtype=object), np.asarray(targets, dtype=object)
    live = np.flatnonzero(np.isfinite(out) & (out > 0))
    if ground is None or not len(live) or not len(targets):
        return out
    reach = out[live] * largest_scale(sources[live], ground, out[live]) * (1 + 1e-9)  # every target within d
    s, t = STRtree(targets).query(sources[live], predicate="dwithin", distance=reach)
    np.minimum.at(out, live[s], pair_distance(sources[live][s], targets[t], ground, everywhere=True))
    return out
