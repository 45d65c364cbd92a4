"""Rasters read whole are kept for the process, and read again when their file changes."""

from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from siting.core import settings
from siting.geo import raster_keep
from siting.geo.raster import load_raster


def _dem(path, rise: float) -> str:
    z = (np.arange(40)[None, :] * rise).repeat(30, 0).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=40, height=30, count=1, dtype="float32", crs="EPSG:5070",
                       transform=from_origin(-1_500_000, 2_000_000, 100, 100), nodata=-9999) as ds:
        ds.write(z, 1)
    return str(path)


def _slope(path):
    return load_raster(path, working_crs="EPSG:5070", derive="slope_percent")


def test_a_raster_read_again_is_the_kept_one_and_cannot_be_written(tmp_path):
    path = _dem(tmp_path / "dem.tif", 5.0)
    first, again = _slope(path), _slope(path)
    assert again is first
    with pytest.raises(ValueError, match="read-only"):
        again.values[0, 0] = 0.0


def test_a_changed_file_is_read_again(tmp_path):
    path = _dem(tmp_path / "dem.tif", 5.0)
    before = float(_slope(path).values.mean())
    _dem(path, 10.0)
    os.utime(path, ns=(1, 1))  # a rewrite within the clock's resolution still changes size, inode or time
    after = float(_slope(path).values.mean())
    assert before == pytest.approx(5.0, rel=0.05) and after == pytest.approx(10.0, rel=0.05)


@pytest.mark.parametrize("sidecar", ["dem.tif.aux.xml", "dem.tfw", "dem.prj"])
def test_a_sidecar_file_changes_the_identity(tmp_path, sidecar):
    path = _dem(tmp_path / "dem.tif", 5.0)
    (tmp_path / "other.tif.aux.xml").write_text("<PAMDataset/>")
    before = raster_keep.identity(path)
    (tmp_path / "other.tfw").write_text("1\n0\n0\n-1\n0\n0\n")  # another raster's sidecar: no change
    assert raster_keep.identity(path) == before
    (tmp_path / sidecar).write_text("<PAMDataset/>")
    assert raster_keep.identity(path) != before


def test_nothing_is_kept_with_a_limit_of_zero(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "RASTER_KEEP_MB", 0)
    path = _dem(tmp_path / "dem.tif", 5.0)
    first, again = _slope(path), _slope(path)
    assert again is not first
    np.testing.assert_array_equal(again.values.filled(np.nan), first.values.filled(np.nan))
