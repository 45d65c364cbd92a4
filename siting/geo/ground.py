"""The ellipsoid under a projected working CRS: geodesic lengths and certified local scale bounds.

A projected working CRS keeps areas (EPSG:5070 is equal-area) but stretches distances: in Nevada a planar
distance is off by up to 1 % depending on its direction. :class:`Ground` knows the CRS's ellipsoid and its
local scale: the Tissot semi-axes ``a >= b`` (pyproj ``get_factors``) bound the scale of every direction at a
point, so on a region where ``s_min <= b`` and ``a <= s_max``, ``planar / s_max <= geodesic <= planar / s_min``.
:meth:`Ground.local_scales` gives certified bounds over the region a query touches (a lattice of factors with
running maxima and minima, plus :data:`MARGIN`). :func:`buffer_radius` sizes the buffers that decide rules.

Examples
--------
>>> ground = ground_of("EPSG:5070")
>>> round(float(ground.between(-1_700_000, 2_000_000, -1_650_000, 2_000_000)))  # 50 km east on the map
50432
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Proj
from scipy.ndimage import distance_transform_edt, maximum_filter, minimum_filter

from siting.core.errors import CRSError, warn
from siting.geo import proximity
from siting.geo.albers import albers_inverse
from siting.geo.kernels import chord_geodesics
from siting.geo.parallel import each
from siting.geo.stretch import Stretch

__all__ = ["MARGIN", "QUAD_SEGS", "Ground", "buffer_radius", "ground_of", "largest_scale", "morton"]

#: Relative allowance added to the lattice's scale bounds (the scale between lattice nodes).
MARGIN = 2e-5
#: Lattice nodes along the longer side of a query's region.
LATTICE = 96
#: Points bounded with one lattice by :meth:`Ground.local_scales` (a compact chunk in Z-order).
SCALE_CHUNK = 10_000
#: Points per call of PROJ's scale factors (:meth:`Ground.factors`; bounds the memory of its twelve arrays).
FACTOR_BLOCK = 1 << 18
#: Longest chord (m) whose geodesic :meth:`Ground.geodesic` makes from the chord (longer: ``pyproj.Geod``).
CHORD_GEODESIC = 100_000.0
#: Segments per quarter circle of the buffers that decide rules.
QUAD_SEGS = 16
def morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order key of points (16 bits per axis over their extent): points near in the key are near on the map.

    Examples
    --------
    >>> morton(np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0])).tolist()
    [0, 1431655765, 2863311530, 4294967295]
    """
    key = np.zeros(len(x), np.uint64)
    if not len(x):
        return key
    for v, shift in ((x, 0), (y, 1)):
        q = np.rint((v - v.min()) / max(float(np.ptp(v)), 1e-9) * 65535).astype(np.uint64)
        for bit in range(16):
            key |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
    return key


class Ground:
    """The ellipsoid under a projected CRS: geodesic lengths and certified local scale bounds.

    Examples
    --------
    >>> g = Ground(5070)
    >>> s_min, s_max = g.scale_range((-2_000_000, 1_700_000, -1_500_000, 2_300_000))  # Nevada
    >>> 0.989 < s_min < 0.992, 1.007 < s_max < 1.011
    (True, True)
    """

    def __init__(self, crs) -> None:
        self.crs = CRS.from_user_input(crs)
        if not self.crs.is_projected:
            raise CRSError(f"ground distances need a projected working CRS, not {self.crs.name}")
        self._proj = Proj(self.crs)
        self._inverse = albers_inverse(self.crs)  # numpy for Albers equal-area CRSs (EPSG:5070), else PROJ
        geod = self.crs.get_geod()
        if geod is None:
            raise CRSError(f"{self.crs.name} has no ellipsoid to measure on")
        self.geod = geod
        self._off_domain = False
        self.stretch = Stretch(self)  # where the CRS's anisotropy needs nearest points found on the ground

    def lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (degrees, the CRS's own datum) of planar points."""
        if self._inverse is not None:
            return self._inverse(x, y)
        lon, lat = self._proj(np.asarray(x, float), np.asarray(y, float), inverse=True)
        return np.asarray(lon), np.asarray(lat)

    def between(self, x0, y0, x1, y1) -> np.ndarray:
        """Geodesic distance (m) between planar points, pairwise."""
        return self.geodesic(*self.lonlat(x0, y0), *self.lonlat(x1, y1))

    def geodesic(self, lon0, lat0, lon1, lat1) -> np.ndarray:
        """Geodesic distance (m) between points given in longitude and latitude (:meth:`lonlat`), pairwise.

        Pairs whose chord is at most :data:`CHORD_GEODESIC` are measured from their chord by a compiled loop
        (:func:`siting.geo.kernels.chord_geodesics`: within 1e-6 m of Karney's geodesic, 6.6 times as
        fast as ``Geod.inv`` here, and off the GIL); the rest with ``pyproj.Geod.inv``.

        Examples
        --------
        >>> g = Ground(5070)
        >>> lon, lat = np.array([-116.0, -116.0]), np.array([39.0, 39.0])
        >>> far_lon, far_lat = np.array([-115.4, -100.0]), np.array([39.3, 45.0])   # 62 km, then 1,500 km
        >>> exact = g.geod.inv(lon, lat, far_lon, far_lat)[2]
        >>> bool(np.abs(g.geodesic(lon, lat, far_lon, far_lat) - exact).max() < 1e-6)
        True
        """
        shape = np.broadcast_shapes(*(np.shape(v) for v in (lon0, lat0, lon1, lat1)))
        lon0, lat0, lon1, lat1 = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, float), shape).ravel())
                                  for v in (lon0, lat0, lon1, lat1))
        out = chord_geodesics(lon0, lat0, lon1, lat1, self.geod.a, self.geod.es, CHORD_GEODESIC)
        rest = np.flatnonzero(np.isnan(out))
        if len(rest):
            out[rest] = self.geod.inv(lon0[rest], lat0[rest], lon1[rest], lat1[rest])[2]
        return out.reshape(shape)

    def ecef(self, x, y) -> np.ndarray:
        """Earth-centred (x, y, z) metres of planar points on the ellipsoid's surface, shape ``(n, 3)``.

        The chord between two such points is never longer than the geodesic between them.

        Examples
        --------
        >>> g = Ground(5070)
        >>> a, b = g.ecef([-1_700_000, -1_500_000], [2_000_000, 2_100_000])
        >>> chord = float(np.linalg.norm(a - b))
        >>> geodesic = float(g.between(-1_700_000, 2_000_000, -1_500_000, 2_100_000))
        >>> round(geodesic - chord, 1)   # 224 km: the chord is 11.5 m shorter (about D**3 / 24 R**2)
        11.5
        """
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        out = np.empty((len(x), 3))
        for start in range(0, len(x), FACTOR_BLOCK):  # in blocks: a dozen temporaries per point
            sl = slice(start, start + FACTOR_BLOCK)
            out[sl] = self._ecef(x[sl], y[sl])
        return out

    def _ecef(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.ecef_of(*self.lonlat(x, y))

    def ecef_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """:meth:`ecef` of points already given as longitude and latitude (degrees, from :meth:`lonlat`)."""
        lon, lat = np.radians(lon), np.radians(lat)
        off = ~(np.isfinite(lon) & np.isfinite(lat))
        if off.any():  # a KD-tree would only say "data must be finite"
            raise CRSError(f"{int(off.sum()):,} points have no longitude/latitude in {self.crs.name} (outside its "
                           "domain): check the layers' CRS or choose a working CRS that covers them")
        es = self.geod.es
        n = self.geod.a / np.sqrt(1.0 - es * np.sin(lat) ** 2)
        return np.column_stack([n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                n * (1.0 - es) * np.sin(lat)])

    def factors(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Largest and smallest scale of any direction at planar points (Tissot semi-axes); NaN where the
        CRS has none (outside its domain). PROJ's own inverse, so the scale bounds (and the buffers sized by
        them) are PROJ's to the last bit. Points go in blocks of :data:`FACTOR_BLOCK` (PROJ returns twelve
        arrays per call, 0.9 GB for a national grid's 9 M cell corners at once), on the threads (PROJ
        releases the GIL)."""
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        a, b = np.empty(x.shape), np.empty(x.shape)

        def block(start: int) -> None:  # its own slice of a and b
            sl = slice(start, start + FACTOR_BLOCK)
            lon, lat = self._proj(x[sl], y[sl], inverse=True)
            f = self._proj.get_factors(lon, lat)
            a[sl], b[sl] = f.tissot_semimajor, f.tissot_semiminor

        starts = range(0, max(len(x), 1), FACTOR_BLOCK)
        each(block, starts, threads=None if len(starts) > 1 else 1)
        bad = ~(np.isfinite(a) & np.isfinite(b) & (b > 0))
        if bad.all():
            raise CRSError(f"{self.crs.name} has no scale factors at these points (outside its area of use)")
        a[bad], b[bad] = np.nan, np.nan
        return a, b

    def _lattice(self, bounds) -> tuple[np.ndarray, np.ndarray, float, float, float]:
        minx, miny, maxx, maxy = bounds
        step = max(maxx - minx, maxy - miny, 1.0) / LATTICE
        xs = np.arange(minx, maxx + step, step)
        ys = np.arange(miny, maxy + step, step)
        gx, gy = np.meshgrid(xs, ys)
        a, b = (v.reshape(gx.shape) for v in self.factors(gx.ravel(), gy.ravel()))
        bad = np.isnan(a)
        if bad.any() and not self._off_domain:  # off the projection's domain: the nearest node's, said once
            self._off_domain = True
            warn(f"{self.crs.name} has no scale factors at {int(bad.sum()):,} of {bad.size:,} lattice "
                 "points of a region the search covers (outside its domain: e.g. a national layer's far "
                 "features with a regional CRS); the nearest points' scales are used there. Clip the layers "
                 "to the study area or choose a working CRS that covers them (said once per CRS)")
        if bad.any():
            near = distance_transform_edt(bad, return_distances=False, return_indices=True)
            a, b = a[tuple(near)], b[tuple(near)]
        return a, b, float(minx), float(miny), float(step)

    def scale_range(self, bounds) -> tuple[float, float]:
        """Certified ``(s_min, s_max)`` of every direction over a region ``(minx, miny, maxx, maxy)``."""
        a, b, *_ = self._lattice(bounds)
        return float(b.min() * (1 - MARGIN)), float(a.max() * (1 + MARGIN))

    def local_scales(self, x, y, reach) -> tuple[np.ndarray, np.ndarray]:
        """Certified ``(s_min, s_max)`` per point over the square ``point +- reach`` (planar units).

        Points are bounded in spatially compact chunks of :data:`SCALE_CHUNK` (Z-order), each with its
        own lattice, so a national layer gets bounds as local as a county's."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        reach = np.broadcast_to(np.asarray(reach, float), x.shape)
        if len(x) <= SCALE_CHUNK:
            return self._chunk_scales(x, y, reach)
        s_min, s_max = np.empty(len(x)), np.empty(len(x))
        order = np.argsort(morton(x, y), kind="stable")

        def chunk(start: int) -> None:  # its own rows of s_min and s_max
            sel = order[start:start + SCALE_CHUNK]
            s_min[sel], s_max[sel] = self._chunk_scales(x[sel], y[sel], reach[sel])

        each(chunk, range(0, len(x), SCALE_CHUNK))
        return s_min, s_max

    def _chunk_scales(self, x, y, reach) -> tuple[np.ndarray, np.ndarray]:
        if not len(x):
            return np.ones(0), np.ones(0)
        r = float(reach.max())
        a, b, x0, y0, step = self._lattice((x.min() - r, y.min() - r, x.max() + r, y.max() + r))
        col = np.clip(np.rint((x - x0) / step).astype(int), 0, a.shape[1] - 1)
        row = np.clip(np.rint((y - y0) / step).astype(int), 0, a.shape[0] - 1)
        need = np.ceil(reach / step).astype(int) + 1  # nodes each side covering the reach and the rounding
        width = np.minimum(1 << np.ceil(np.log2(np.maximum(need, 1))).astype(int), max(a.shape))
        s_min, s_max = np.empty(len(x)), np.empty(len(x))
        for w in np.unique(width):
            sel = width == w
            size = 2 * int(w) + 1
            s_max[sel] = maximum_filter(a, size=size, mode="nearest")[row[sel], col[sel]]
            s_min[sel] = minimum_filter(b, size=size, mode="nearest")[row[sel], col[sel]]
        return s_min * (1 - MARGIN), s_max * (1 + MARGIN)


def buffer_radius(features: np.ndarray, distance: float, ground: Ground | None, *, cover: bool) -> np.ndarray:
    """Planar buffer radius per feature so that a :data:`QUAD_SEGS` buffer decides ``distance`` on the ground.

    ``cover=True`` (exclusions): the buffer holds every point within ``distance`` on the ellipsoid:
    ``distance * s_max / cos(3 pi / (8 * QUAD_SEGS)) + 1 mm``: GEOS rounds each corner's arc to a whole number
    of segments (``round(angle / quantum)``, quantum ``pi / (2 * QUAD_SEGS)``), so a segment can span up to 1.5
    quanta and its chord comes to ``cos(0.75 quantum)`` of the radius (``cos(pi / (4 * QUAD_SEGS))`` left land
    0.15 % inside a buffer: 0.5 m at 2 km on the real INL facilities).
    ``cover=False`` (``within``): every point of the buffer is within ``distance`` on the ellipsoid:
    ``distance * s_min`` (the polygon lies inside its circle). Without ``ground``, planar.

    Examples
    --------
    >>> from shapely import Point
    >>> pts = np.array([Point(-1_700_000, 2_000_000)])
    >>> out, inn = (float(buffer_radius(pts, 5_000, Ground(5070), cover=c)[0]) for c in (True, False))
    >>> round(out, 1), round(inn, 1)   # in Nevada: at most about 100 m lost beyond a 5 km exclusion
    (5061.2, 4953.0)
    """
    features = np.asarray(features, dtype=object)
    if ground is None or not len(features) or distance <= 0:
        return np.full(len(features), float(distance))
    ax, ay, rho = proximity.anchors(features)
    s_min, s_max = ground.local_scales(ax, ay, rho + 1.05 * distance)
    if cover:
        return distance * s_max / np.cos(3 * np.pi / (8 * QUAD_SEGS)) + 1e-3
    return distance * s_min


def largest_scale(geoms, ground: Ground | None, reach: float | np.ndarray = 0.0) -> np.ndarray:
    """Certified largest scale of any direction over each geometry's box grown by ``reach`` (1 without a ground,
    or for a missing or empty geometry): a distance of ``d`` on the ground is at most ``d * scale`` on the map there.

    Examples
    --------
    >>> from shapely import box
    >>> s = largest_scale(np.array([box(-1_700_000, 2_000_000, -1_690_000, 2_010_000), None]), Ground(5070), 100)
    >>> bool(1.007 < s[0] < 1.011), float(s[1])
    (True, 1.0)
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.ones(len(geoms))
    if ground is None or not len(geoms):
        return out
    b = shapely.bounds(geoms)
    ok = np.isfinite(b).all(axis=1)
    if ok.any():
        b = b[ok]
        half = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2
        out[ok] = ground.local_scales((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, half + reach)[1]
    return out


@lru_cache(maxsize=8)
def _ground(wkt: str) -> Ground:
    return Ground(wkt)


def ground_of(crs) -> Ground | None:
    """The :class:`Ground` of a projected CRS (cached), or None for a missing or geographic CRS.

    Examples
    --------
    >>> ground_of("EPSG:5070").crs.to_epsg(), ground_of(None), ground_of(4326)
    (5070, None, None)
    """
    if crs is None:
        return None
    crs = CRS.from_user_input(crs)
    return _ground(crs.to_wkt()) if crs.is_projected else None
