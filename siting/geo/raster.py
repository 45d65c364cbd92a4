"""Rasters: reading into the working CRS, slope from a DEM, sampling, zonal statistics.

This is the only module that imports rasterio. Rasters are cropped to the
study area, warped once into the working CRS (vectors are never measured in a
raster's geographic CRS), and held as masked float32 arrays: nodata never
leaks into a statistic.

Examples
--------
>>> import numpy as np
>>> from affine import Affine
>>> dem = Raster(np.ma.masked_invalid(np.add.outer(np.arange(5.0), np.zeros(5)) * 10),
...              Affine(100, 0, 0, 0, -100, 500), "EPSG:5070", "dem")
>>> round(float(slope_percent(dem).values.mean()), 1)   # 10 m rise per 100 m pixel
10.0
>>> dem = load_raster("sample_data/dem.tif", working_crs="EPSG:5070", derive="slope_percent")
>>> dem.name, str(dem.crs)
('dem', 'EPSG:5070')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.enums import MaskFlags
from rasterio.warp import calculate_default_transform, transform_bounds
from rasterio.windows import from_bounds

from siting.core import settings
from siting.core.errors import InputFileError, RasterError, warn
from siting.geo import pixels as px
from siting.io.crs import resolve_crs
from siting.io.virtual import check_local

#: Metres per declared vertical unit of an elevation band (GDAL's unit type, lower case).
VERTICAL_UNITS = {"m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0, "ft": 0.3048, "foot": 0.3048,
                  "feet": 0.3048, "international foot": 0.3048, "us survey foot": 1200 / 3937, "us-ft": 1200 / 3937,
                  "ftus": 1200 / 3937}

__all__ = ["DERIVATIONS", "STATS", "VERTICAL_UNITS", "Raster", "check_raster", "coverage", "derive_layer",
           "load_raster", "pixel_index", "slope_of", "slope_percent", "value_encoding", "void_pixels", "zonal_stats"]

log = logging.getLogger(__name__)

#: Statistics :func:`zonal_stats` knows; ``pNN`` is the NN-th percentile.
STATS = ("mean", "min", "max", "median", "std", "count", "p10", "p25", "p75", "p90", "p95")
#: Derived layers :func:`load_raster` can compute.
DERIVATIONS = ("slope_percent", "slope_degrees")
#: Window pixels (of the polygons' bounding boxes) scanned or tested per batch, bounding memory.
PIXEL_BATCH = 4_000_000
#: Rows of a file read at once when it is checked for void values (:func:`void_pixels`).
VOID_ROWS = 1024


@dataclass
class Raster:
    """A single-band raster in memory.

    Attributes
    ----------
    values : numpy.ma.MaskedArray
        float32, masked where nodata.
    transform : affine.Affine
        Pixel-to-CRS transform.
    crs : CRS-like
    name : str
    units : str
    """

    values: np.ma.MaskedArray
    transform: Affine
    crs: object
    name: str
    units: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the raster CRS."""
        h, w = self.values.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (w, h)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    @property
    def resolution(self) -> float:
        """Pixel size (mean of x and y) in CRS units."""
        return (abs(self.transform.a) + abs(self.transform.e)) / 2.0

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.values.shape

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Values at points (NaN off the raster or on nodata).

        Examples
        --------
        >>> r = Raster(np.ma.masked_invalid(np.array([[1.0, np.nan]])), Affine(1, 0, 0, 0, -1, 1),
        ...            "EPSG:5070", "r")
        >>> r.sample(np.array([0.5, 1.5, 9.0]), np.array([0.5, 0.5, 0.5])).tolist()
        [1.0, nan, nan]
        """
        col, row = ~self.transform @ (np.asarray(x, float), np.asarray(y, float))
        col, row = np.floor(col).astype(int), np.floor(row).astype(int)
        h, w = self.values.shape
        inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
        out = np.full(len(col), np.nan)
        data = self.values.filled(np.nan)
        out[inside] = data[row[inside], col[inside]]
        return out


def _aoi_window(ds, aoi_bounds, working_crs, src_crs, margin: float):
    """The file's window over the study area (plus ``margin`` metres); None when they do not overlap."""
    if aoi_bounds is None:
        return rasterio.windows.Window(0, 0, ds.width, ds.height)
    minx, miny, maxx, maxy = aoi_bounds
    left, bottom, right, top = transform_bounds(working_crs, src_crs, minx - margin, miny - margin,
                                                maxx + margin, maxy + margin, densify_pts=21)
    win = from_bounds(left, bottom, right, top, ds.transform).round_offsets().round_lengths()
    try:
        return win.intersection(rasterio.windows.Window(0, 0, ds.width, ds.height))
    except rasterio.errors.WindowError:  # no overlap
        return None


def load_raster(
    path, *, working_crs, name: str | None = None, aoi_bounds=None, derive: str | None = None,
    z_factor: float = 1.0, crs=None, resolution: float | None = None, nodata: float | None = None,
    allow_network: bool = False,
) -> Raster:
    """Read band 1 of a raster, crop it to the study area and warp it to the working CRS.

    Parameters
    ----------
    path : str or Path
        A GeoTIFF or any raster GDAL reads.
    working_crs : CRS-like
        Projected CRS of the analysis.
    name : str, optional
        Layer name for messages.
    aoi_bounds : tuple, optional
        (minx, miny, maxx, maxy) in the working CRS; the raster is cropped to
        these bounds plus a margin of a few pixels.
    derive : {"slope_percent", "slope_degrees"}, optional
        Compute slope from an elevation raster.
    z_factor : float
        Multiplies the values (0.3048 for a DEM in feet that does not say so; see :func:`value_encoding`).
    crs : CRS-like, optional
        CRS to assume when the file has none.
    resolution : float, optional
        Pixel size in the working CRS (default: the native size in metres).
    nodata : float, optional
        The stored value of pixels without data, replacing the file's own. A file that declares none and
        holds a usual void value (:func:`void_pixels`) is read as it is, with a warning saying so.

    Returns
    -------
    Raster

    Raises
    ------
    RasterError
        No CRS, no overlap with the study area, or an unknown derivation.
    """
    name = name or Path(path).stem
    if derive is not None and derive not in DERIVATIONS:
        raise RasterError(f"raster {name!r}: derive={derive!r} is unknown; use one of {DERIVATIONS}")
    check_local(path, allow_network=allow_network, what=f"raster {name!r}")
    if not Path(path).exists():
        raise InputFileError(f"raster {name!r}: file not found: {path}")
    wcrs = resolve_crs(working_crs)
    with rasterio.open(path) as ds:
        src_crs = ds.crs or (resolve_crs(crs) if crs is not None else None)
        if src_crs is None:
            raise RasterError(f"raster {name!r} ({path}) has no CRS; give `crs:` for it")
        win = _aoi_window(ds, aoi_bounds, wcrs, src_crs, margin=5000.0)
        if win is None:
            raise RasterError(
                f"raster {name!r} ({path}, CRS {src_crs}) does not overlap the study area "
                f"(bounds {aoi_bounds} in {wcrs.to_string()}); check both CRSs")
        if nodata is None and ds.nodata is None and list(ds.mask_flag_enums[0]) == [MaskFlags.all_valid]:
            _warn_voids(ds, win, name, path)
        scale, offset = value_encoding(ds, name, derive, z_factor)
        grid = _on_grid(ds, win, src_crs, wcrs, resolution, name=name, z_factor=scale, offset=offset, derive=derive,
                        units={"slope_percent": "percent", "slope_degrees": "degrees"}.get(derive or "", ""),
                        nodata=nodata)
        said = nodata if nodata is not None else ds.nodata
        nodata_text = f"nodata value {said:g}" if said is not None else "its mask"
    if grid.width * grid.height > settings.RASTER_IN_MEMORY_PX:
        log.info("raster %r: %d x %d px at %.0f m in %s, more than %d: read block by block when measured", name,
                 grid.width, grid.height, grid.resolution, wcrs.to_string(), settings.RASTER_IN_MEMORY_PX)
        return grid
    raster = grid.read_whole()  # kept for the process: a scenario run again reads it once
    if np.ma.getmaskarray(raster.values).all():
        raise RasterError(f"raster {name!r} ({path}) has no data over the study area: every pixel there is "
                          f"nodata ({nodata_text}); check the file, or the nodata value if the pixels hold real data")
    log.info("raster %r: %d x %d px at %.0f m in %s", name, grid.width, grid.height, grid.resolution,
             wcrs.to_string())
    return raster


def void_pixels(ds, win) -> tuple[float, int] | None:
    """The usual void value (the band type's lowest, or -9999) that most pixels of window ``win`` hold, and how
    many; None when none does. Read block by block (what a file without a nodata value is checked for).

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/v.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1, dtype="int16", crs="EPSG:5070",
    ...                    transform=Affine(90, 0, 0, 0, -90, 0)) as ds:
    ...     ds.write(np.array([[1200, -32768, 1210], [1190, -32768, 1205]], "int16"), 1)
    >>> with rasterio.open(path) as ds:
    ...     void_pixels(ds, rasterio.windows.Window(0, 0, 3, 2))
    (-32768.0, 2)
    """
    dtype = np.dtype(ds.dtypes[0])
    if dtype.kind not in "if":
        return None
    lowest = float(np.iinfo(dtype).min if dtype.kind == "i" else np.finfo(dtype).min)
    values = [lowest] + ([-9999.0] if dtype.kind == "f" or np.iinfo(dtype).min <= -9999 else [])
    counts = dict.fromkeys(values, 0)
    for row in range(int(win.row_off), int(win.row_off + win.height), VOID_ROWS):
        block = ds.read(1, window=rasterio.windows.Window(win.col_off, row, win.width,
                                                          min(VOID_ROWS, int(win.row_off + win.height) - row)))
        for v in values:
            counts[v] += int(np.count_nonzero(block == v))
    value, n = max(counts.items(), key=lambda kv: kv[1])
    return (value, n) if n else None


def _warn_voids(ds, win, name: str, path) -> None:
    found = void_pixels(ds, win)
    if found is None:
        log.warning("raster %r has no nodata value and no mask; every pixel counts as data", name)
        return
    value, n = found
    warn(f"raster {name!r} ({path}) declares no nodata value, and {n:,} of its pixels over the study area "
         f"hold {value:g}, the usual value of pixels without data (SRTM and USGS DEMs use -32768): they count "
         f"as data (as elevations they make slopes of thousands of per cent around them); give the raster "
         f"`nodata: {value:g}` in the scenario if they are voids")


def value_encoding(ds, name: str, derive: str | None, z_factor: float = 1.0) -> tuple[float, float]:
    """The multiplier and offset that turn band 1's stored values into the values measured.

    First the band's scale and offset (GDAL's encoding: ``stored * scale + offset``, which rasterio does not
    apply); then, for a slope, the band's declared vertical unit in metres (:data:`VERTICAL_UNITS`: feet are
    converted, with a :class:`~siting.core.errors.SitingWarning`) unless the scenario gives its own
    ``z_factor``; then ``z_factor``. A raster read as is (not derived) keeps the band's unit.

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/dm.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=1, height=1, count=1, dtype="int16", crs="EPSG:5070",
    ...                    transform=Affine(90, 0, 0, 0, -90, 0)) as ds:
    ...     ds.scales, ds.offsets = (0.1,), (1000.0,)  # decimetres above 1,000 m
    >>> with rasterio.open(path) as ds:
    ...     value_encoding(ds, "dem", None)
    (0.1, 1000.0)
    """
    scale, offset = float(ds.scales[0]), float(ds.offsets[0])
    unit = (ds.units[0] or "").strip().lower()
    to_metres = 1.0
    if derive and z_factor == 1.0 and unit:
        to_metres = VERTICAL_UNITS.get(unit, 1.0)
        said = (f"the band's values are in {unit!r}; multiplied by {to_metres:.6g} to metres for the slope"
                if unit in VERTICAL_UNITS else f"the band's unit {unit!r} is not a length siting knows; its values "
                "are taken as metres for the slope")
        if to_metres != 1.0 or unit not in VERTICAL_UNITS:
            warn(f"raster {name!r}: {said} (set the raster's z_factor to choose otherwise)")
    if (scale, offset) != (1.0, 0.0):
        log.info("raster %r: stored values x %g + %g (the band's scale and offset)", name, scale, offset)
    k = to_metres * z_factor
    return scale * k, offset * k


def _grid(src_crs, dst_crs, transform, w, h, resolution):
    """The working grid (transform, width, height) a window of ``w`` x ``h`` source pixels warps to."""
    if resolve_crs(src_crs) == dst_crs and resolution is None:
        return transform, w, h
    left, top = transform @ (0, 0)
    right, bottom = transform @ (w, h)
    return calculate_default_transform(src_crs, dst_crs, w, h, left=min(left, right), bottom=min(top, bottom),
                                       right=max(left, right), top=max(top, bottom), resolution=resolution)


def _on_grid(ds, win, src_crs, wcrs, resolution, **fields):
    """The file's window ``win`` as a :class:`~siting.geo.raster_blocks.RasterOnDisk` on the working grid."""
    from siting.geo.raster_blocks import RasterOnDisk

    transform, w, h = _grid(src_crs, wcrs, ds.window_transform(win), int(win.width), int(win.height), resolution)
    same = resolve_crs(src_crs) == wcrs and resolution is None
    return RasterOnDisk(ds.name, src_crs, wcrs, transform, int(w), int(h), src_window=win if same else None,
                        **fields)


def derive_layer(raster: Raster, derive: str) -> Raster:
    """A layer of :data:`DERIVATIONS` computed from an elevation raster.

    Examples
    --------
    >>> dem = Raster(np.ma.masked_invalid(np.add.outer(np.arange(3.0), np.zeros(3)) * 10),
    ...              Affine(100, 0, 0, 0, -100, 300), "EPSG:5070", "dem")
    >>> derive_layer(dem, "slope_degrees").units
    'degrees'
    """
    return slope_percent(raster) if derive == "slope_percent" else _slope_degrees(raster)


def _gradients(r: Raster) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.pad(r.values.filled(np.nan).astype("float64"), 1, mode="reflect", reflect_type="odd")  # linear at edges
    dzdx, dzdy = px.horn(p, abs(r.transform.a), abs(r.transform.e))
    return dzdx, dzdy, np.isnan(dzdx) | np.isnan(dzdy)


def slope_percent(dem: Raster) -> Raster:
    """Slope in percent (rise over run x 100) by Horn's method; nodata spreads to neighbours.

    Parameters
    ----------
    dem : Raster
        Elevation in the same unit as the CRS (metres).

    Returns
    -------
    Raster
    """
    dzdx, dzdy, bad = _gradients(dem)
    return Raster(np.ma.array(slope_of(dzdx, dzdy, "slope_percent"), mask=bad), dem.transform, dem.crs, dem.name,
                  "percent")


def _slope_degrees(dem: Raster) -> Raster:
    dzdx, dzdy, bad = _gradients(dem)
    return Raster(np.ma.array(slope_of(dzdx, dzdy, "slope_degrees"), mask=bad), dem.transform, dem.crs, dem.name,
                  "degrees")


def slope_of(dzdx: np.ndarray, dzdy: np.ndarray, derive: str) -> np.ndarray:
    """Slope (float32, percent or degrees as ``derive`` says) from Horn's gradients.

    Examples
    --------
    >>> slope_of(np.array([0.03]), np.array([0.04]), "slope_percent").tolist()
    [5.0]
    """
    if derive == "slope_percent":
        return (100.0 * np.hypot(dzdx, dzdy)).astype("float32")
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy))).astype("float32")


def zonal_stats(raster: Raster, geoms, stats=("mean",)) -> pd.DataFrame:
    """Statistics of the pixels whose centres fall in each polygon.

    Overlapping polygons each get all their pixels. A polygon smaller than a
    pixel (no centre inside) is sampled at its representative point.

    Parameters
    ----------
    raster : Raster or RasterOnDisk
    geoms : array-like of (Multi)Polygon
        In the raster's CRS.
    stats : sequence of str
        Names from :data:`STATS`.

    Returns
    -------
    DataFrame
        One column per statistic plus ``px_count`` (valid pixels) and ``px_found`` (pixel centres on the
        grid, valid or not; :func:`coverage`), one row per polygon.

    Examples
    --------
    >>> from shapely import box
    >>> r = Raster(np.ma.masked_invalid(np.arange(16.0).reshape(4, 4)),
    ...            Affine(1, 0, 0, 0, -1, 4), "EPSG:5070", "r")
    >>> zonal_stats(r, [box(0, 2, 2, 4), box(3.2, 0.2, 3.4, 0.4)], ["mean", "max"]).values.tolist()
    [[2.5, 5.0, 4.0, 4.0], [15.0, 15.0, 0.0, 0.0]]
    """
    unknown = [s for s in stats if s not in STATS and not (s.startswith("p") and s[1:].isdigit())]
    if unknown:
        raise RasterError(f"unknown statistic(s) {unknown}; use {', '.join(STATS)} or pNN")
    if not isinstance(raster, Raster):  # a RasterOnDisk: block by block
        return raster.zonal_stats(geoms, stats)
    geoms = np.asarray(geoms, dtype=object)
    rows, cols, groups = pixel_index(raster, geoms)
    vals = raster.values.data[rows, cols].astype(float)
    ok = ~np.ma.getmaskarray(raster.values)[rows, cols]
    return pd.DataFrame(px.summarise(vals[ok], groups[ok], geoms, stats, raster.sample, found=groups))


def coverage(raster, geoms, table: pd.DataFrame) -> np.ndarray:
    """Fraction of each polygon's area with data: its valid pixels over the pixels it would hold on the grid
    extended without end (those found on the grid, plus its area off the grid in pixels). NaN for a polygon
    holding no pixel centre (it was sampled at one point: its value says whether there was data).

    ``table`` is :func:`zonal_stats`'s answer for ``geoms`` (``px_count``, ``px_found``).

    Examples
    --------
    >>> from shapely import box
    >>> r = Raster(np.ma.masked_invalid(np.array([[1.0, np.nan], [3.0, 4.0]])), Affine(1, 0, 0, 0, -1, 2),
    ...            "EPSG:5070", "r")
    >>> geoms = [box(0, 0, 2, 2), box(1, 0, 3, 1), box(0.1, 0.1, 0.2, 0.2)]
    >>> coverage(r, geoms, zonal_stats(r, geoms)).tolist()  # a nodata pixel; half off the grid; sampled
    [0.75, 0.5, nan]
    """
    geoms = np.asarray(geoms, dtype=object)
    t = raster.transform
    pixel = abs(t.a * t.e - t.b * t.d)
    height, width = raster.shape
    corners = np.array([t @ (0, 0), t @ (width, 0), t @ (0, height), t @ (width, height)])
    x0, y0, x1, y1 = corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(), corners[:, 1].max()
    b = shapely.bounds(geoms)
    off = np.zeros(len(geoms))
    out = ~((b[:, 0] >= x0) & (b[:, 1] >= y0) & (b[:, 2] <= x1) & (b[:, 3] <= y1)) & np.isfinite(b).all(axis=1)
    if out.any():
        part = geoms[out]
        off[out] = shapely.area(part) - shapely.area(shapely.intersection(part, shapely.box(x0, y0, x1, y1)))
    expected = table["px_found"].to_numpy() + np.maximum(off, 0) / pixel
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, np.minimum(table["px_count"].to_numpy() / expected, 1.0), np.nan)


def pixel_index(raster, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and polygon index of every pixel whose centre lies in each polygon (valid or not).

    :func:`siting.geo.pixels.centres_in`: on a grid without rotation (every grid :func:`load_raster`
    makes) each polygon is scanned row by row in a compiled loop, whatever its size (parcels with
    thousands of parts: ten times faster than burning them with ``rasterize``, the same pixels); a rotated
    grid tests each centre of the polygon's window with ``shapely.contains_xy``. Overlapping polygons
    each get all their pixels.

    Examples
    --------
    >>> from shapely import box
    >>> r = Raster(np.ma.masked_invalid(np.zeros((2, 3))), Affine(1, 0, 0, 0, -1, 2), "EPSG:5070", "r")
    >>> [a.tolist() for a in pixel_index(r, np.array([box(0, 0, 2, 1)]))]
    [[1, 1], [0, 1], [0, 0]]
    """
    live = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if not len(live):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    c0, r0, c1, r1 = px.windows(raster.transform, raster.shape, geoms[live])
    return px.centres_in(raster.transform, geoms, live, c0, r0, c1, r1, PIXEL_BATCH)


def check_raster(path, *, crs=None, lonlat_bounds=None, allow_network: bool = False) -> str | None:
    """What would stop a raster from loading, or None: missing file, no CRS, no overlap with a box.

    Parameters
    ----------
    path : str or Path
    crs : optional
        The scenario's ``crs:`` for a raster without one.
    lonlat_bounds : (w, s, e, n), optional
        The parcels' extent in lon/lat; a raster outside it is a problem.

    Examples
    --------
    >>> check_raster("sample_data/dem.tif", lonlat_bounds=(-118, 38, -117, 39)) is None
    True
    >>> check_raster("sample_data/dem.tif", lonlat_bounds=(10, 40, 11, 41))  # doctest: +ELLIPSIS
    'raster (...) does not overlap the parcels (10.00, 40.00, 11.00, 41.00); check its CRS'
    """
    from rasterio.warp import transform_bounds

    try:
        check_local(path, allow_network=allow_network, what="raster")
    except InputFileError as exc:
        return str(exc).removeprefix("raster: ")
    if not Path(path).exists():
        return "raster file not found"
    with rasterio.open(path) as ds:
        if ds.crs is None and crs is None:
            return "raster has no CRS; give `crs:`"
        if lonlat_bounds is not None:
            w, s, e, n = transform_bounds(ds.crs or crs, "EPSG:4326", *ds.bounds)
            pw, ps, pe, pn = lonlat_bounds
            if w > pe or e < pw or s > pn or n < ps:
                return (f"raster ({w:.2f}, {s:.2f}, {e:.2f}, {n:.2f}) does not overlap the parcels "
                        f"({pw:.2f}, {ps:.2f}, {pe:.2f}, {pn:.2f}); check its CRS")
    return None
