"""Rasters too large to hold: read block by block of their working-CRS grid when measured.

A national 90 m DEM over the conterminous US and Alaska is about 4.7 G pixels; its slope as
float32 would need 19 GB. :func:`siting.geo.raster.load_raster` returns a :class:`RasterOnDisk`
instead of reading such a raster when its grid in the working CRS has more than
:data:`siting.core.settings.RASTER_IN_MEMORY_PX` pixels. Zonal statistics then group the polygons
by the block (:data:`BLOCK_PX` pixels square) that holds the centre of their box, read and warp only
the window those polygons cover, and derive slope only at their own pixels (from the elevations around
each, so with a one-pixel halo). A raster small enough
is read whole through the same :meth:`RasterOnDisk.read` (one warp definition, a GDAL WarpedVRT
with a fixed bilinear kernel), so every statistic equals the in-memory result: tested against it.
Memory is bounded by one block plus its polygons' overhang.

Examples
--------
>>> from siting.core import settings
>>> settings.RASTER_IN_MEMORY_PX >= BLOCK_PX ** 2
True
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from siting.core import settings
from siting.core.progress import iterate
from siting.geo import pixels as px
from siting.geo import raster as _r

__all__ = ["BLOCK_PX", "RasterOnDisk"]

log = logging.getLogger(__name__)

#: Side of the blocks (pixels of the working grid) polygons are grouped by.
BLOCK_PX = 512
#: Runs of neighbouring blocks per thread (each run opens the file once; more runs balance the threads).
RUNS_PER_THREAD = 8


@dataclass
class RasterOnDisk:
    """A raster in a file, measured block by block on the working-CRS grid it would be warped to.

    Attributes
    ----------
    path : str
        The file.
    src_crs : CRS-like
        The file's CRS (or the scenario's ``crs:`` for a file without one).
    crs : CRS-like
        The working CRS.
    transform : affine.Affine
        The working grid's pixel-to-CRS transform.
    width, height : int
        The working grid's size in pixels.
    name : str
    units : str
    z_factor, offset : float
        The values read are ``stored * z_factor + offset`` (see :func:`siting.geo.raster.value_encoding`).
    derive : str or None
        ``"slope_percent"`` or ``"slope_degrees"`` (see :data:`siting.geo.raster.DERIVATIONS`).
    src_window : rasterio.windows.Window or None
        When the file is already on the working grid: where that grid starts in the file.
    nodata : float or None
        The stored value of pixels without data, replacing the file's own (None: the file's nodata or mask).

    Examples
    --------
    >>> r = RasterOnDisk("dem.tif", "EPSG:5070", "EPSG:5070", Affine(90, 0, 0, 0, -90, 0), 5000, 4000, "dem")
    >>> r.shape, r.resolution
    ((4000, 5000), 90.0)
    """

    path: str
    src_crs: object
    crs: object
    transform: Affine
    width: int
    height: int
    name: str
    units: str = ""
    z_factor: float = 1.0
    derive: str | None = None
    offset: float = 0.0
    src_window: Window | None = None
    nodata: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the working grid."""
        return self.height, self.width

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the working CRS."""
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (self.width, self.height)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    @property
    def resolution(self) -> float:
        """Pixel size (mean of x and y) in CRS units."""
        return (abs(self.transform.a) + abs(self.transform.e)) / 2.0

    def read_whole(self) -> _r.Raster:
        """The whole working grid in memory (:meth:`read`), warped on :data:`siting.core.settings.THREADS`
        threads (the same pixels as on one), kept for the process while the file is unchanged
        (:func:`siting.geo.raster_keep.kept`: a scenario run again reads it once).

        Examples
        --------
        >>> on_grid = Affine(0.005, 0, -119.0, 0, -0.005, 41.0)
        >>> dem = RasterOnDisk("sample_data/dem.tif", "EPSG:4326", "EPSG:4326", on_grid, 40, 30, "dem",
        ...                    src_window=Window(0, 0, 40, 30))
        >>> first = dem.read_whole()
        >>> first.values.shape, first is dem.read_whole(), first.values.flags.writeable
        ((30, 40), True, False)
        """
        from siting.geo.raster_keep import kept

        grid = (str(self.src_crs), str(self.crs), tuple(self.transform), self.width, self.height, self.name,
                self.units, self.z_factor, self.derive, self.offset, repr(self.src_window), self.nodata)
        return kept(self.path, grid, lambda: self.read(0, 0, self.width, self.height, threads=settings.THREADS))

    def read(self, col0: int, row0: int, col1: int, row1: int, ds=None, threads: int = 1) -> _r.Raster:
        """The window ``[row0:row1, col0:col1]`` of the working grid, in memory, derived.

        A derived layer (slope) is computed with a one-pixel halo, so a window's edge pixels equal
        those of the whole raster. ``ds``: the file, already open (one open for many reads).
        """
        halo = 1 if self.derive else 0
        c0, r0 = max(col0 - halo, 0), max(row0 - halo, 0)
        c1, r1 = min(col1 + halo, self.width), min(row1 + halo, self.height)
        if ds is None:
            with self._open() as ds:
                return self.read(col0, row0, col1, row1, ds, threads)
        values = np.ma.masked_invalid(self._scaled(ds, c0, r0, c1, r1, threads))
        block = _r.Raster(values, self.transform @ Affine.translation(c0, r0), self.crs, self.name, self.units)
        if self.derive:
            block = _r.derive_layer(block, self.derive)
        h, w = block.values.shape
        trim = block.values[row0 - r0:h - (r1 - row1), col0 - c0:w - (c1 - col1)]
        return _r.Raster(trim, self.transform @ Affine.translation(col0, row0), self.crs, self.name, block.units)

    @contextmanager
    def _open(self):
        """The file, opened with GDAL's block cache held to :data:`siting.core.settings.RASTER_CACHE_MB`, as a
        handle of its own (``sharing=False``: rasterio otherwise hands every thread the same shared GDAL
        dataset, which is not safe to read from two threads at once)."""
        with rasterio.Env(GDAL_CACHEMAX=settings.RASTER_CACHE_MB), rasterio.open(self.path, sharing=False) as ds:
            yield ds

    def _scaled(self, ds, c0: int, r0: int, c1: int, r1: int, threads: int = 1) -> np.ndarray:
        """:meth:`_values` times ``z_factor`` plus ``offset`` (in float32), NaN where not finite."""
        values = self._values(ds, c0, r0, c1, r1, threads)
        if self.z_factor != 1:
            values *= np.float32(self.z_factor)
        if self.offset:
            values += np.float32(self.offset)
        values[~np.isfinite(values)] = np.nan
        return values

    def _values(self, ds, c0: int, r0: int, c1: int, r1: int, threads: int = 1) -> np.ndarray:
        """Float32 values (NaN for nodata) of a window of the working grid, warped on ``threads`` threads."""
        if self.src_window is not None:  # the file is on the working grid: read the window
            win = Window(self.src_window.col_off + c0, self.src_window.row_off + r0, c1 - c0, r1 - r0)
            nodata = self.nodata if self.nodata is not None else ds.nodata
            if self.nodata is not None or (ds.mask_flag_enums[0] == [MaskFlags.nodata]
                                           and np.issubdtype(ds.dtypes[0], np.integer)):
                raw = ds.read(1, window=win)  # cells with a nodata value: the mask is that value
                values = raw.astype("float32")
                values[raw == nodata] = np.nan
                return values
            return ds.read(1, window=win, masked=True).astype("float32").filled(np.nan)
        given = {} if self.nodata is None else {"src_nodata": self.nodata}
        with WarpedVRT(ds, src_crs=_rio_crs(self.src_crs), crs=_rio_crs(self.crs), transform=self.transform,
                       width=self.width, height=self.height, resampling=Resampling.bilinear, tolerance=1e-6,
                       dtype="float32", nodata=np.nan, XSCALE=1, YSCALE=1, NUM_THREADS=max(threads, 1),
                       **given) as vrt:
            # one warp definition with a fixed bilinear kernel (XSCALE/YSCALE 1, GDAL otherwise widens it by
            # each request's own scale): any window gives the same pixels as the whole
            return vrt.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True).filled(np.nan)

    def zonal_stats(self, geoms, stats=("mean",)) -> pd.DataFrame:
        """:func:`siting.geo.raster.zonal_stats`, block by block; the same numbers.

        Examples
        --------
        >>> import tempfile, rasterio
        >>> from shapely import box
        >>> path = tempfile.mkdtemp() + "/z.tif"
        >>> z = np.arange(16, dtype="float32").reshape(4, 4)
        >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
        ...                    crs="EPSG:5070", transform=Affine(1, 0, 0, 0, -1, 4)) as ds:
        ...     ds.write(z, 1)
        >>> r = RasterOnDisk(path, "EPSG:5070", "EPSG:5070", Affine(1, 0, 0, 0, -1, 4), 4, 4, "z",
        ...                  src_window=Window(0, 0, 4, 4))
        >>> r.zonal_stats([box(0, 2, 2, 4), box(50, 50, 51, 51)], ["mean", "count"]).values.tolist()
        [[2.5, 4.0, 4.0, 4.0], [nan, 0.0, 0.0, 0.0]]
        """
        geoms = np.asarray(geoms, dtype=object)
        live = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        c0, r0, c1, r1 = px.windows(self.transform, self.shape, geoms[live])
        on = (c1 > c0) & (r1 > r0)
        live, c0, r0, c1, r1 = live[on], c0[on], r0[on], c1[on], r1[on]
        big = (c1 - c0) * (r1 - r0) > BLOCK_PX**2  # a polygon larger than a block is read on its own
        key = np.where(big, -1 - np.arange(len(live)),
                       ((r0 + r1) // (2 * BLOCK_PX)) * (self.width // BLOCK_PX + 1) + (c0 + c1) // (2 * BLOCK_PX))
        order = np.argsort(key, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(key[order])) + 1) if len(order) else []
        out = {**{st: np.full(len(geoms), np.nan) for st in stats}, "px_count": np.zeros(len(geoms)),
               "px_found": np.zeros(len(geoms))}
        if "count" in stats:
            out["count"][:] = 0.0

        def measure(ds, g):
            window = int(c0[g].min()), int(r0[g].min()), int(c1[g].max()), int(r1[g].max())
            res = self._measure(ds, geoms[live[g]], window, stats, (c0[g], r0[g], c1[g], r1[g]))
            for name in out:  # each group its own rows: threads never write the same element
                out[name][live[g]] = res[name]

        self._each_group(groups, measure)
        log.info("raster %r: %d polygon(s) measured in %d block read(s)", self.name, len(live), len(groups))
        return pd.DataFrame(out)

    def _each_group(self, groups: list[np.ndarray], fn) -> None:
        """``fn(ds, group)`` for every group, on :data:`siting.core.settings.THREADS` threads (GDAL's reads and
        shapely's tests release the GIL). Groups go in runs of neighbours; each run opens the file once."""
        if not groups:
            return
        runs = np.array_split(np.arange(len(groups)), min(len(groups), RUNS_PER_THREAD * settings.THREADS))

        def run(which: np.ndarray) -> None:
            with self._open() as ds:  # a rasterio dataset is not shared between threads
                for i in which:
                    fn(ds, groups[i])

        with ThreadPoolExecutor(max(settings.THREADS, 1)) as pool:
            for _ in iterate(pool.map(run, runs), f"raster {self.name!r} blocks", show=len(groups) > 20,
                             total=len(runs)):
                pass

    def _measure(self, ds, geoms: np.ndarray, window, stats, windows) -> dict[str, np.ndarray]:
        """The statistics of ``geoms`` (none missing or empty) from the pixels of ``window``, which holds each
        polygon's own pixel window (``windows``: col0, row0, col1, row1 on the whole grid).

        A derived layer is computed at the polygons' pixels only, from the elevations around them (a
        one-pixel halo, or the whole raster's edge padding at its edges): the same numbers as over the
        whole raster. A polygon holding no pixel centre is sampled at its representative point."""
        col0, row0, col1, row1 = window
        at = self._values_at(ds, window)
        grid = _Grid(self.transform @ Affine.translation(col0, row0), (row1 - row0, col1 - col0))
        c0, r0, c1, r1 = windows
        rows, cols, k = px.centres_in(grid.transform, geoms, np.arange(len(geoms)), c0 - col0, r0 - row0, c1 - col0,
                                      r1 - row0, _r.PIXEL_BATCH)
        v = at(rows, cols)
        ok = np.isfinite(v)

        def sample(x, y):
            c, r = ~grid.transform @ (np.asarray(x, float), np.asarray(y, float))
            c, r = np.floor(c).astype(np.int64), np.floor(r).astype(np.int64)
            inside = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
            found = np.full(len(c), np.nan)
            found[inside] = at(r[inside], c[inside])
            return found

        return px.summarise(v[ok], k[ok], geoms, stats, sample, found=k)

    def _values_at(self, ds, window):
        """``at(rows, cols)``: values (float, NaN for nodata) at pixels of ``window`` (window-relative indexes)."""
        col0, row0, col1, row1 = window
        if not self.derive:
            filled = self._scaled(ds, col0, row0, col1, row1)
            return lambda rows, cols: filled[rows, cols].astype(float)
        c0, r0, c1, r1 = max(col0 - 1, 0), max(row0 - 1, 0), min(col1 + 1, self.width), min(row1 + 1, self.height)
        p = self._scaled(ds, c0, r0, c1, r1).astype("float64")
        pad = ((int(row0 == 0), int(row1 == self.height)), (int(col0 == 0), int(col1 == self.width)))
        if any(map(any, pad)):  # the whole raster's edge: padded as the in-memory slope pads it
            p = np.pad(p, pad, mode="reflect", reflect_type="odd")
        dx, dy, derive = abs(self.transform.a), abs(self.transform.e), self.derive
        return lambda rows, cols: _r.slope_of(*px.horn(p, dx, dy, rows, cols), derive).astype(float)

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Values at points (NaN off the raster or on nodata), one block read per block touched."""
        col, row = ~self.transform @ (np.asarray(x, float), np.asarray(y, float))
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        out = np.full(len(col), np.nan)
        inside = np.flatnonzero((row >= 0) & (row < self.height) & (col >= 0) & (col < self.width))
        key = (row[inside] // BLOCK_PX) * (self.width // BLOCK_PX + 1) + col[inside] // BLOCK_PX
        with self._open() as ds:
            for k in np.unique(key):
                sel = inside[key == k]
                bc, br = int(col[sel].min()), int(row[sel].min())
                at = self._values_at(ds, (bc, br, int(col[sel].max()) + 1, int(row[sel].max()) + 1))
                out[sel] = at(row[sel] - br, col[sel] - bc)
        return out


@dataclass
class _Grid:
    """A window of the working grid: what :func:`siting.geo.raster.pixel_index` needs."""

    transform: Affine
    shape: tuple[int, int]


def _rio_crs(crs) -> CRS:
    """A rasterio CRS from any CRS-like (pyproj's included)."""
    return CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
