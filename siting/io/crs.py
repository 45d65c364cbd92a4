"""Choosing and checking the working CRS.

siting measures areas and distances only in an equal-area projected CRS. The
working CRS is picked from where the data lie:

* conterminous US -> EPSG:5070 (NAD83 / Conus Albers);
* Alaska (including the Aleutians across the antimeridian) -> EPSG:3338;
* Hawaii -> ESRI:102007 (Hawaii Albers Equal Area Conic);
* anywhere else -> a Lambert azimuthal equal-area CRS centred on the data.

Every :class:`pyproj.Transformer` is built with ``always_xy=True`` so that
coordinates are always (x, y) = (lon, lat).

Examples
--------
>>> pick_working_crs((-120.0, 35.0, -114.0, 42.0)).to_string()
'EPSG:5070'
>>> pick_working_crs((-170.0, 52.0, -150.0, 65.0)).to_string()
'EPSG:3338'
>>> pick_working_crs((-160.3, 18.9, -154.8, 22.3)).to_string()
'ESRI:102007'
>>> pick_working_crs((10.0, 45.0, 12.0, 47.0)).coordinate_operation.method_name
'Lambert Azimuthal Equal Area'
"""

from __future__ import annotations

import logging
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from siting.core import settings
from siting.core.errors import CRSError

__all__ = [
    "AREA_TOLERANCE",
    "STRETCH_WARN",
    "check_areas",
    "check_projected",
    "densify_edges",
    "lonlat_bounds",
    "pick_working_crs",
    "resolve_crs",
    "stretch_note",
    "transformer",
]

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _cached_transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def transformer(src, dst) -> Transformer:
    """Return a cached ``always_xy`` transformer between two CRSs.

    Parameters
    ----------
    src, dst : CRS-like
        Anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    pyproj.Transformer

    Examples
    --------
    >>> t = transformer("EPSG:4326", "EPSG:5070")
    >>> x, y = t.transform(-96.0, 23.0)
    >>> round(x), round(y)
    (0, 0)
    """
    return _cached_transformer(CRS.from_user_input(src).to_wkt(), CRS.from_user_input(dst).to_wkt())


def resolve_crs(value) -> CRS:
    """Turn a user CRS value into a :class:`pyproj.CRS`, with a clear error.

    Parameters
    ----------
    value : CRS-like
        ``"EPSG:5070"``, ``5070``, a WKT or PROJ string, or a CRS.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> resolve_crs(5070).to_epsg()
    5070
    """
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError
        raise CRSError(
            f"{value!r} is not a CRS pyproj understands; use an EPSG code such as 'EPSG:5070'"
        ) from exc


def lonlat_bounds(bounds, crs) -> tuple[float, float, float, float]:
    """Return (west, south, east, north) in degrees for bounds given in ``crs``.

    Parameters
    ----------
    bounds : sequence of 4 floats
        (minx, miny, maxx, maxy) in ``crs``.
    crs : CRS-like
        The CRS of ``bounds``.

    Returns
    -------
    tuple of float
        West may exceed east when the data cross the antimeridian.

    Examples
    --------
    >>> w, s, e, n = lonlat_bounds((-2e5, 1.5e6, 2e5, 1.9e6), "EPSG:5070")
    >>> -99 < w < e < -93 and 36 < s < n < 41
    True
    """
    crs = resolve_crs(crs)
    if crs.is_geographic:
        w, s, e, n = (float(v) for v in bounds)
    else:
        x0, y0, x1, y1 = bounds
        w, s, e, n = (float(v) for v in transformer(crs, "EPSG:4326").transform_bounds(x0, y0, x1, y1,
                                                                                        densify_pts=21))
    return w, s, e, n


def _centre_lon(west: float, east: float) -> float:
    if west <= east:
        return (west + east) / 2.0
    centre = (west + east + 360.0) / 2.0  # crosses the antimeridian
    return centre - 360.0 if centre > 180.0 else centre


def pick_working_crs(lonlat: tuple[float, float, float, float]) -> CRS:
    """Pick the equal-area working CRS for data with the given lon/lat bounds.

    Parameters
    ----------
    lonlat : tuple of float
        (west, south, east, north) in degrees, as from :func:`lonlat_bounds`.

    Returns
    -------
    pyproj.CRS
        EPSG:5070, EPSG:3338, ESRI:102007 or a local Lambert azimuthal
        equal-area CRS (see the module docstring).
    """
    west, south, east, north = lonlat
    lon, lat = _centre_lon(west, east), (south + north) / 2.0
    if lat > 51.0 and (lon < -129.0 or lon > 170.0):
        return CRS.from_user_input(settings.ALASKA_CRS)
    if 18.0 <= lat <= 23.5 and -161.5 <= lon <= -154.0:
        return CRS.from_user_input(settings.HAWAII_CRS)
    if 22.0 <= lat <= 52.0 and -128.0 <= lon <= -64.0:
        return CRS.from_user_input(settings.CONUS_CRS)
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +x_0=0 +y_0=0 +datum=WGS84 +units=m"
    )


def check_projected(crs, *, what: str = "data") -> None:
    """Raise unless ``crs`` is projected in metres (never measure in degrees).

    Parameters
    ----------
    crs : CRS-like
        The CRS to check.
    what : str
        Named in the error message.

    Examples
    --------
    >>> check_projected("EPSG:5070")
    >>> check_projected("EPSG:4326")
    Traceback (most recent call last):
    ...
    siting.core.errors.CRSError: data is in geographic CRS EPSG:4326; areas and distances need a projected CRS...
    """
    crs = resolve_crs(crs)
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if crs.is_geographic or unit not in {"metre", "meter"}:
        name = crs.to_string()
        raise CRSError(
            f"{what} is in {'geographic' if crs.is_geographic else 'non-metric'} CRS {name}; "
            "areas and distances need a projected CRS in metres such as EPSG:5070"
        )


#: Largest areal distortion a working CRS may have over the parcels: ``|area on the map / on the ground - 1|``
#: (the 0.1 % every reported distance keeps to). UTM: 0.08 % at its central meridian, up to 0.15 % at its
#: zone's edges in the lower 48.
AREA_TOLERANCE = 1e-3


def check_areas(crs, frames, *, what: str = "the scenario's crs") -> None:
    """Raise unless ``crs`` keeps areas within :data:`AREA_TOLERANCE` where the features of ``frames`` (the
    parcels) lie: PROJ's areal scale at the corners and middle of each feature's bounding box.

    Distances are measured on the ellipsoid whatever the CRS; areas (``min_area``, cell and footprint acres,
    site and eligible acres) are the map's, so a CRS that does not keep them (Web Mercator: 1.7 times at 40
    degrees north) is refused with its figures.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> nevada = [gpd.GeoDataFrame(geometry=[box(-119.9, 35.0, -114.1, 42.0)], crs=4326)]
    >>> check_areas("EPSG:5070", nevada)    # Albers equal-area: nothing to say
    >>> check_areas("EPSG:26911", nevada)   # UTM 11N inside its zone: within 0.1 %
    >>> check_areas("EPSG:3857", nevada)
    Traceback (most recent call last):
    ...
    siting.core.errors.CRSError: the scenario's crs EPSG:3857 (WGS 84 / Pseudo-Mercator) does not keep areas where...
    """
    crs = resolve_crs(crs)
    points = _parcel_points(frames)
    if points is None:
        return
    lon, lat = points
    scale = np.asarray(Proj(crs).get_factors(lon, lat, errcheck=False).areal_scale, float)
    scale = scale[np.isfinite(scale) & (scale > 0)]
    if not len(scale) or np.abs(scale - 1).max() <= AREA_TOLERANCE:
        return
    off = float(np.abs(scale - 1).max())
    raise CRSError(f"{what} {crs.to_string()} ({crs.name}) does not keep areas where the parcels lie: an acre on "
                   f"the ground is {scale.min():,.3f} to {scale.max():,.3f} acres on its map over the parcels' boxes "
                   f"(off by up to "
                   f"{100 * off:,.1f} %), so every area (min_area, cell and footprint acres, site and eligible acres) "
                   "would be off as much. Use an equal-area CRS (EPSG:5070 for the lower 48, EPSG:3338 for Alaska) "
                   "or leave `crs:` out to let siting pick one")


def _parcel_points(frames) -> tuple[np.ndarray, np.ndarray] | None:
    """Longitudes and latitudes of the corners and middles of the features' boxes (None without any)."""
    lons, lats = [], []
    for frame in frames:
        if not len(frame) or frame.crs is None:
            continue
        b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        b = b[np.isfinite(b).all(axis=1)]
        x = np.concatenate([b[:, 0], b[:, 2], b[:, 0], b[:, 2], (b[:, 0] + b[:, 2]) / 2])
        y = np.concatenate([b[:, 1], b[:, 1], b[:, 3], b[:, 3], (b[:, 1] + b[:, 3]) / 2])
        fx, fy = transformer(frame.crs, "EPSG:4326").transform(x, y)
        lons.append(fx)
        lats.append(fy)
    if not lons:
        return None
    return np.concatenate(lons), np.clip(np.concatenate(lats), -89.9, 89.9)


#: Ratio of the longest to the shortest ground length of a map metre (at one place, over the directions)
#: above which :func:`stretch_note` speaks: rules and spacing are sized for the longest direction.
STRETCH_WARN = 1.05


def stretch_note(crs, frames) -> str | None:
    """What a CRS that stretches distances unevenly where the parcels lie costs, or None when it does not.

    Distances and rules are decided on the ellipsoid whatever the CRS, but a buffer or a spacing drawn on
    the map is sized for the direction the map stretches most, so where one direction is stretched far
    more than another (EPSG:5070 on Alaska's North Slope: 1.43 one way, 0.70 the other) land beyond a
    buffer and room for packed sites are given up. Speaks when Tissot's ratio ``a / b`` exceeds
    :data:`STRETCH_WARN` at a corner or middle of a parcel's box.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> stretch_note("EPSG:5070", [gpd.GeoDataFrame(geometry=[box(-119.9, 35.0, -114.1, 42.0)], crs=4326)])
    >>> print(stretch_note("EPSG:5070", [gpd.GeoDataFrame(geometry=[box(-152, 69, -150, 70)], crs=4326)])[:99])
    the working CRS EPSG:5070 stretches a map metre to 0.733 to 1.365 m on the ground where the parcels
    """
    points = _parcel_points(frames)
    if points is None:
        return None
    crs = resolve_crs(crs)
    f = Proj(crs).get_factors(*points, errcheck=False)
    a, b = np.asarray(f.tissot_semimajor, float), np.asarray(f.tissot_semiminor, float)
    ok = np.isfinite(a) & np.isfinite(b) & (b > 0)
    if not ok.any():
        return None
    ratio = np.where(ok, a / np.where(ok, b, 1.0), 0.0)
    worst = int(np.argmax(ratio))
    if ratio[worst] <= STRETCH_WARN:
        return None
    return (f"the working CRS {crs.to_string()} stretches a map metre to {1 / a[ok].max():,.3f} to "
            f"{1 / b[ok].min():,.3f} m on the ground where the parcels lie, and at "
            f"({points[0][worst]:.2f}, {points[1][worst]:.2f}) one direction {ratio[worst]:,.2f} times another. "
            "Every rule and spacing still holds on the ellipsoid, but buffers and spacings are drawn for the "
            f"direction stretched most, so up to {100 * (ratio[worst] - 1):,.0f} % of each buffer distance beyond "
            "it and room for packed sites are given up there. Run such regions on their own with `crs:` left "
            "out: siting then picks a CRS made for them (EPSG:3338 for Alaska, ESRI:102007 for Hawaii)")


def require_same_crs(*frames, what: str = "layers") -> None:
    """Raise a CRSError unless every frame has the same CRS (geopandas would only warn).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> a = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=5070)
    >>> require_same_crs(a, a.to_crs(3338))
    Traceback (most recent call last):
    ...
    siting.core.errors.CRSError: layers are in different CRSs (EPSG:5070, EPSG:3338); reproject them ...
    """
    crss = [f.crs for f in frames]
    if any(c is None for c in crss) or any(c != crss[0] for c in crss[1:]):
        names = ", ".join(c.to_string() if c is not None else "none" for c in crss)
        raise CRSError(f"{what} are in different CRSs ({names}); reproject them to one working CRS "
                       "(siting.read_layer does this)")


def total_lonlat_bounds(frames) -> tuple[float, float, float, float]:
    """Union of the lon/lat bounds of several GeoDataFrames (empty ones skipped).

    Parameters
    ----------
    frames : iterable of GeoDataFrame

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> a = gpd.GeoDataFrame(geometry=[Point(-118, 39)], crs=4326)
    >>> b = gpd.GeoDataFrame(geometry=[Point(-115, 36)], crs=4326)
    >>> total_lonlat_bounds([a, b])
    (-118.0, 36.0, -115.0, 39.0)
    """
    boxes = [lonlat_bounds(f.total_bounds, f.crs) for f in frames if len(f) and f.crs is not None]
    if not boxes:
        raise CRSError("no georeferenced features to pick a working CRS from")
    arr = np.array(boxes)
    return (
        float(arr[:, 0].min()),
        float(arr[:, 1].min()),
        float(arr[:, 2].max()),
        float(arr[:, 3].max()),
    )


#: Longest edge kept before reprojecting: degrees in a geographic CRS (about 100 m), metres in a projected one.
EDGE_STEP_DEG = 0.001
EDGE_STEP_M = 100.0


def densify_edges(frame: gpd.GeoDataFrame, target) -> gpd.GeoDataFrame:
    """Add vertices along long edges so that edges drawn straight in the data's CRS stay where they were
    drawn after reprojection to ``target`` (a new frame; the same frame when the CRS does not change).

    Examples
    --------
    >>> from shapely import LineString
    >>> line = gpd.GeoDataFrame(geometry=[LineString([(-117, 39), (-116, 39)])], crs=4326)
    >>> len(densify_edges(line, 5070).geometry.iloc[0].coords)   # a parallel is curved in Albers
    1001
    """
    if frame.crs is None or CRS.from_user_input(target) == frame.crs or not len(frame):
        return frame
    step = EDGE_STEP_DEG if frame.crs.is_geographic else EDGE_STEP_M
    geoms = np.asarray(frame.geometry.values, dtype=object)
    lined = (shapely.get_type_id(geoms) > 0) & shapely.is_valid(geoms)  # invalid ones are repaired as drawn
    if not lined.any():
        return frame
    out = geoms.copy()
    out[lined] = shapely.segmentize(geoms[lined], step)
    return frame.set_geometry(gpd.GeoSeries(out, index=frame.index, crs=frame.crs))
