"""Documented defaults used across siting.

Everything here is a plain module-level constant or a tiny helper so that the
values are easy to find and to cite. Progress bars can be switched off for a
whole session with ``SITING_PROGRESS=0`` in the environment or
``siting.core.settings.set_progress(False)``.

Examples
--------
>>> from siting.core import settings
>>> round(settings.M2_PER_ACRE, 4)
4046.8564
>>> settings.OUTPUT_CRS
'EPSG:4326'
"""

from __future__ import annotations

import os

#: Square metres in one international acre.
M2_PER_ACRE = 4046.8564224
#: Square metres in one hectare.
M2_PER_HECTARE = 10_000.0
#: CRS of every web deliverable (GeoJSON, Folium maps).
OUTPUT_CRS = "EPSG:4326"
#: Scores are ranked after rounding to this many decimals, so sums that differ only by float noise tie
#: (and ties go to the smaller id) in the run and in every sensitivity draw alike.
RANK_DECIMALS = 9
#: Decimals kept in delivered GeoJSON (RFC 7946 recommends no more than 7).
GEOJSON_DECIMALS = 7
#: Working CRS for the conterminous US (NAD83 / Conus Albers, equal area).
CONUS_CRS = "EPSG:5070"
#: Working CRS for Alaska (NAD83 / Alaska Albers, equal area).
ALASKA_CRS = "EPSG:3338"
#: Working CRS for Hawaii (Hawaii Albers Equal Area Conic).
HAWAII_CRS = "ESRI:102007"
#: Largest scenario file accepted, in bytes (YAML/TOML bombs, BAD_INPUTS S2/S3).
MAX_SCENARIO_BYTES = 1_000_000
#: A geometry repair that changes a polygon's area by more than this (percent) is warned about, with its rows.
REPAIR_AREA_WARN_PCT = 1.0
#: Feature count above which read_layer logs a warning before loading.
LARGE_LAYER_FEATURES = 2_000_000
#: Threads for the heavy vectorized geometry calls (shapely releases the GIL): ``SITING_THREADS``, default
#: the number of CPUs. ``1`` runs everything in the calling thread.
THREADS = max(1, int(os.environ.get("SITING_THREADS", 0)) or os.cpu_count() or 1)
#: Memory a run may plan to use (bytes): ``SITING_MEMORY_GB``, default 70 % of the machine's memory.
MEMORY_BYTES = int(float(os.environ.get("SITING_MEMORY_GB", 0)) * 2**30) or int(
    0.7 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 8 * 2**30)
#: Peak memory per grid cell or footprint of a whole run (measured by benchmarks/national.py: 1.67 M cells
#: in 6.4 GB, about 4 KB each), used to refuse a run that cannot fit before it starts.
BYTES_PER_CANDIDATE = 4_096
#: A raster whose grid in the working CRS has more pixels than this (100 MB as float32) is not read whole:
#: it is measured block by block (:class:`siting.geo.raster_blocks.RasterOnDisk`).
RASTER_IN_MEMORY_PX = 25_000_000
#: GDAL's block cache (MB) while a raster is read block by block. GDAL's default is 5 % of the machine's
#: memory (1.2 GB here), which a national DEM read once fills and never gives back; each window is read
#: once, so a small cache loses nothing.
RASTER_CACHE_MB = 128
#: Rasters read whole that a process keeps for runs to come (MB, :mod:`siting.geo.raster_keep`):
#: ``SITING_RASTER_KEEP_MB``, default 512; 0 keeps none.
RASTER_KEEP_MB = float(os.environ.get("SITING_RASTER_KEEP_MB", 512))
#: Arrays shorter than this are not split across threads.
THREAD_MIN_ITEMS = 20_000

_progress = os.environ.get("SITING_PROGRESS", "1").lower() not in {"0", "false", "no", "off"}


def progress_enabled() -> bool:
    """Return whether progress bars are shown by default.

    Returns
    -------
    bool
        The session switch (``SITING_PROGRESS`` env var or :func:`set_progress`).

    Examples
    --------
    >>> isinstance(progress_enabled(), bool)
    True
    """
    return _progress


def set_progress(enabled: bool) -> None:
    """Switch progress bars on or off for this session.

    Parameters
    ----------
    enabled : bool
        ``False`` silences every bar siting would draw.

    Examples
    --------
    >>> old = progress_enabled()
    >>> set_progress(False); progress_enabled()
    False
    >>> set_progress(old)
    """
    global _progress
    _progress = bool(enabled)
