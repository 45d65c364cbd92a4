"""Rasters too large to hold are measured block by block, with the same numbers as in memory."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from siting.core import settings
from siting.geo import raster_blocks
from siting.geo.raster import Raster, load_raster, zonal_stats
from siting.geo.raster_blocks import RasterOnDisk

STATS = ["mean", "p90", "std", "count", "min"]


def _dem(path, crs, transform, shape=(300, 400), nodata_rows=(), dtype="float32"):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    z = (200 * np.sin(xx / 23.0) * np.cos(yy / 31.0) + 3 * xx + 1500).astype(dtype)
    z[list(nodata_rows)] = -9999
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype=dtype,
                       crs=crs, transform=transform, nodata=-9999, tiled=True, blockxsize=64, blockysize=64) as ds:
        ds.write(z, 1)
    return path


def _cells(bounds, n, rng, size):
    x = rng.uniform(bounds[0] - size, bounds[2], n)
    y = rng.uniform(bounds[1] - size, bounds[3], n)
    return shapely.box(x, y, x + size * rng.uniform(0.3, 1.5, n), y + size * rng.uniform(0.3, 1.5, n))


def _both(path, aoi, monkeypatch, **kw):
    in_memory = load_raster(path, working_crs="EPSG:5070", aoi_bounds=aoi, **kw)
    monkeypatch.setattr(raster_blocks, "BLOCK_PX", 32)
    monkeypatch.setattr(settings, "RASTER_IN_MEMORY_PX", 1_000)
    on_disk = load_raster(path, working_crs="EPSG:5070", aoi_bounds=aoi, **kw)
    assert isinstance(in_memory, Raster) and isinstance(on_disk, RasterOnDisk)
    return in_memory, on_disk


@pytest.mark.parametrize("dtype", ["float32", "int16"])  # int16: nodata found by value, without GDAL's mask
def test_slope_by_blocks_equals_slope_in_memory(tmp_path, rng, monkeypatch, dtype):
    t = from_origin(-1_500_000, 2_000_000, 90, 90)
    path = _dem(tmp_path / "dem.tif", "EPSG:5070", t, nodata_rows=(150,), dtype=dtype)
    aoi = (-1_490_000, 1_975_000, -1_470_000, 1_995_000)
    mem, disk = _both(path, aoi, monkeypatch, derive="slope_percent")
    assert disk.shape == mem.shape and disk.transform == mem.transform
    geoms = np.concatenate([_cells(mem.bounds, 400, rng, 1_000), _cells(mem.bounds, 5, rng, 6_000),
                            _cells(mem.bounds, 60, rng, 40)])  # slivers with no pixel centre: sampled
    expected, got = zonal_stats(mem, geoms, STATS), zonal_stats(disk, geoms, STATS)
    assert (expected["px_count"] > 0).sum() > 300  # most polygons hold pixels; some lie off the raster
    sampled = (expected["px_count"] == 0) & expected["mean"].notna()
    assert sampled.sum() >= 10
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6, equal_nan=True)
    x, y = rng.uniform(mem.bounds[0] - 500, mem.bounds[2] + 500, (2, 500))
    np.testing.assert_allclose(disk.sample(x, y), mem.sample(x, y), rtol=1e-6, equal_nan=True)
    row = np.linspace(mem.bounds[0] + 200, mem.bounds[2] - 200, 20), np.full(20, 2_000_000 - 150.5 * 90)
    assert np.isnan(disk.sample(*row)).all() and np.isnan(mem.sample(*row)).all()  # the nodata row has no slope


def test_geographic_dem_warped_by_blocks_equals_the_whole_warp(tmp_path, rng, monkeypatch):
    path = _dem(tmp_path / "geo.tif", "EPSG:4326", from_origin(-117.0, 39.0, 0.001, 0.001), shape=(200, 260))
    mem, disk = _both(path, None, monkeypatch, derive="slope_degrees", z_factor=0.3048)
    assert disk.shape == mem.shape and disk.units == mem.units == "degrees"
    geoms = _cells(mem.bounds, 300, rng, 800)
    expected, got = zonal_stats(mem, geoms, STATS), zonal_stats(disk, geoms, STATS)
    assert np.isfinite(expected["mean"]).sum() > 200
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-4, atol=1e-4, equal_nan=True)


@pytest.mark.slow  # a run of the tiny scenario (its slope rule and terrain factor) beside the session's
def test_a_run_with_a_raster_factor_scores_the_same_on_disk(tmp_path, monkeypatch, tiny_result, tiny_scenario):
    import copy

    import siting

    before = tiny_result.sites.set_index("site_id")["score"]  # the slope raster held in memory
    monkeypatch.setattr(settings, "RASTER_IN_MEMORY_PX", 1_000)
    monkeypatch.setattr(raster_blocks, "BLOCK_PX", 256)
    reads, values = [], RasterOnDisk._values
    monkeypatch.setattr(RasterOnDisk, "_values", lambda self, *a: reads.append(1) or values(self, *a))
    after = siting.run(copy.deepcopy(tiny_scenario), progress=False).sites.set_index("site_id")["score"]
    assert len(reads) > 1  # the slope was read block by block
    assert len(after) == len(before) > 0
    np.testing.assert_allclose(after.loc[before.index], before, rtol=1e-9)


def test_reading_by_blocks_holds_gdals_cache_and_frees_the_cells_preparation(tmp_path, rng, monkeypatch):
    t = from_origin(-1_500_000, 2_000_000, 90, 90)
    path = _dem(tmp_path / "dem.tif", "EPSG:5070", t)
    _, disk = _both(path, (-1_490_000, 1_975_000, -1_470_000, 1_995_000), monkeypatch)
    seen = []
    values = RasterOnDisk._values
    monkeypatch.setattr(RasterOnDisk, "_values", lambda self, *a: seen.append(rasterio.env.getenv()["GDAL_CACHEMAX"])
                        or values(self, *a))
    cells = _cells(disk.bounds, 200, rng, 1_000)
    zonal_stats(disk, cells, ["mean"])
    assert seen and set(seen) == {settings.RASTER_CACHE_MB}
    assert not shapely.is_prepared(cells).any()  # a run's 2 M cells do not keep a prepared index each


def test_each_thread_reads_through_a_gdal_handle_of_its_own(tmp_path, rng, monkeypatch):
    # rasterio opens read-only files as shared GDAL datasets by default: two threads would read through one
    # handle at once (GDAL datasets are not thread-safe; a rare wrong block otherwise)
    path = _dem(tmp_path / "dem.tif", "EPSG:5070", from_origin(-1_500_000, 2_000_000, 90, 90))
    _, disk = _both(path, (-1_490_000, 1_975_000, -1_470_000, 1_995_000), monkeypatch)
    opened = []
    real_open = rasterio.open
    monkeypatch.setattr(raster_blocks.rasterio, "open", lambda *a, **k: opened.append(k) or real_open(*a, **k))
    monkeypatch.setattr(settings, "THREADS", 2)
    zonal_stats(disk, _cells(disk.bounds, 200, rng, 1_000), ["mean"])
    assert len(opened) > 1 and all(k.get("sharing") is False for k in opened)
