"""Rasters read whole, kept for the process: a scenario run again reads and warps its rasters once.

A notebook trying one threshold after another, or a test suite, runs the same scenario many times;
warping a DEM to the working grid and deriving its slope is the same work each time (2 s for the
sample DEM). :func:`kept` keeps each such raster, keyed by the file's identity (its path, device,
inode, size and modification time, and those of every file beside it named after it: the sidecars
GDAL may read with it, ``dem.tif.aux.xml``, ``.ovr``, ``.msk``, a ``dem.tfw`` world file, a ``.prj``
or ``.hdr``) and by everything else that makes the pixels (the working grid, the encoding, the
derivation). A file that changes is read again. Rasters GDAL assembles from other
files (a ``.vrt``) or reads from a virtual file system (``/vsi...``) are never kept: their sources'
changes would not show. At most :data:`siting.core.settings.RASTER_KEEP_MB` are held, the least
recently used dropped first (``SITING_RASTER_KEEP_MB=0`` keeps none). The arrays handed out are
read-only, so no run can change the pixels another run reads.

Examples
--------
>>> import tempfile, rasterio
>>> from affine import Affine
>>> path = tempfile.mkdtemp() + "/z.tif"
>>> with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
...                    crs="EPSG:5070", transform=Affine(1, 0, 0, 0, -1, 2)) as ds:
...     ds.write(np.ones((1, 2, 2), "float32"))
>>> calls = []
>>> def make():
...     calls.append(1)
...     return Raster(np.ma.masked_invalid(np.ones((2, 2), "float32")), Affine(1, 0, 0, 0, -1, 2), "EPSG:5070", "z")
>>> a, b = kept(path, ("grid",), make), kept(path, ("grid",), make)
>>> a is b, len(calls), a.values.flags.writeable
(True, 1, False)
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

from siting.core import settings
from siting.geo.raster import Raster

__all__ = ["clear", "kept"]

log = logging.getLogger(__name__)

_KEPT: OrderedDict[Hashable, Raster] = OrderedDict()
_LOCK = threading.Lock()


def identity(path: str | os.PathLike) -> tuple | None:
    """The file's identity (path, device, inode, size, modification time) and that of every file beside it
    whose name starts with its stem and a dot (its sidecars), or None where it is not a plain local file
    whose changes these show (a ``.vrt``, a ``/vsi`` path, a file that is not there).

    Examples
    --------
    >>> identity("/vsicurl/https://example.invalid/dem.tif") is None, identity("dem.vrt") is None
    (True, True)
    """
    text = str(path)
    if text.startswith("/vsi") or text.lower().endswith(".vrt"):
        return None
    try:
        real = Path(text).resolve(strict=True)
        beside = [e for e in os.scandir(real.parent) if e.name.startswith(real.stem + ".")]
        return tuple(sorted((e.path, *_stat(e)) for e in beside))
    except OSError:
        return None


def _stat(entry: os.DirEntry) -> tuple:
    st = entry.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def kept(path: str | os.PathLike, grid: Hashable, make: Callable[[], Raster]) -> Raster:
    """The raster ``make()`` reads from ``path`` onto ``grid`` (anything that tells the pixels apart), made
    once while the file is unchanged, with read-only arrays."""
    who = identity(path)
    key = None if who is None else (who, grid)
    with _LOCK:
        if key is not None and key in _KEPT:
            _KEPT.move_to_end(key)
            log.debug("raster %s: pixels kept from an earlier read", path)
            return _KEPT[key]
    raster = _read_only(make())
    limit = settings.RASTER_KEEP_MB * 2**20
    size = _nbytes(raster)
    if key is None or size > limit:
        return raster
    with _LOCK:
        _KEPT[key] = raster
        while sum(_nbytes(r) for r in _KEPT.values()) > limit:
            _KEPT.popitem(last=False)
    return raster


def clear() -> None:
    """Forget every kept raster (their memory goes back once no result holds them).

    Examples
    --------
    >>> clear()
    >>> len(_KEPT)
    0
    """
    with _LOCK:
        _KEPT.clear()


def _read_only(raster: Raster) -> Raster:
    values = raster.values
    values.flags.writeable = False  # the masked array itself (its .data is a new view each time)
    if values.mask is not np.ma.nomask:
        values.mask.flags.writeable = False
    return raster


def _nbytes(raster: Raster) -> int:
    values = raster.values
    mask = np.ma.getmask(values)
    return np.ma.getdata(values).nbytes + (mask.nbytes if mask is not np.ma.nomask else 0)
