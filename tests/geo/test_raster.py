"""Rasters: reading GeoTIFFs, reprojection, slope, nodata, zonal statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely import box

from siting.core.errors import RasterError
from siting.geo.raster import load_raster, slope_percent, zonal_stats


def _write(path, data, transform, crs, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data, 1)
    return path


def test_slope_of_a_plane_in_projected_crs(tmp_path):
    # elevation rises 5 m per 100 m pixel eastwards -> 5 % slope everywhere
    z = (np.arange(40)[None, :] * 5.0).repeat(30, 0).astype("float32")
    p = _write(tmp_path / "plane.tif", z, from_origin(-1_500_000, 2_000_000, 100, 100), "EPSG:5070")
    s = load_raster(p, working_crs="EPSG:5070", derive="slope_percent")
    assert np.allclose(s.values.compressed(), 5.0, atol=1e-4)


def test_geographic_dem_is_warped_to_metres_and_feet_converted(tmp_path):
    # a plane rising 0.001 deg of latitude ~ 111 m per pixel by 3.28084 ft -> ~0.9 % slope
    ny, nx = 60, 60
    z = (np.arange(ny)[::-1, None] * 3.28084).repeat(nx, 1).astype("float32")
    p = _write(tmp_path / "geo.tif", z, from_origin(-117.0, 39.0, 0.001, 0.001), "EPSG:4326")
    s = load_raster(p, working_crs="EPSG:5070", derive="slope_percent", z_factor=0.3048)
    assert s.crs.to_epsg() == 5070 if hasattr(s.crs, "to_epsg") else True
    core = s.values[10:-10, 10:-10].compressed()
    assert np.median(core) == pytest.approx(100 / 111.0, rel=0.05)


def test_nodata_never_enters_statistics(tmp_path):
    z = np.full((10, 10), 7, dtype="int16")
    z[:5, :] = -32768
    p = _write(tmp_path / "nd.tif", z, from_origin(0, 1000, 100, 100), "EPSG:5070", nodata=-32768)
    r = load_raster(p, working_crs="EPSG:5070")
    st = zonal_stats(r, [box(0, 0, 1000, 1000), box(0, 600, 1000, 1000)], ["mean", "max", "count"])
    assert st["mean"].iloc[0] == 7 and st["max"].iloc[0] == 7 and st["count"].iloc[0] == 50
    assert np.isnan(st["mean"].iloc[1])  # all nodata -> NA, never -32768


def test_percentiles_match_numpy(rng):
    from affine import Affine

    from siting.geo.raster import Raster

    vals = rng.normal(size=(20, 20)).astype("float32")
    r = Raster(np.ma.masked_invalid(vals), Affine(1, 0, 0, 0, -1, 20), "EPSG:5070", "r")
    st = zonal_stats(r, [box(0, 0, 10, 20), box(5, 5, 20, 20)], ["p90", "median", "std"])
    assert st["p90"].iloc[0] == pytest.approx(np.percentile(vals[:, :10], 90), rel=1e-6)
    assert st["median"].iloc[1] == pytest.approx(np.median(vals[:15, 5:]), rel=1e-6)
    assert st["std"].iloc[0] == pytest.approx(vals[:, :10].std(), rel=1e-5)


def test_no_overlap_is_an_error(tmp_path):
    p = _write(tmp_path / "far.tif", np.ones((5, 5), "float32"), from_origin(10, 50, 0.1, 0.1), "EPSG:4326")
    with pytest.raises(RasterError, match="does not overlap"):
        load_raster(p, working_crs="EPSG:5070", aoi_bounds=(-2e6, 1.5e6, -1.9e6, 1.6e6))


def test_slope_function_directly():
    from affine import Affine

    from siting.geo.raster import Raster

    z = np.ma.masked_invalid((np.arange(8)[:, None] * 10.0).repeat(8, 1))
    s = slope_percent(Raster(z, Affine(100, 0, 0, 0, -100, 800), "EPSG:5070", "d"))
    assert np.allclose(s.values, 10.0)


def test_zonal_stats_in_batches_equals_one_batch(monkeypatch):
    """Small polygons are measured in batches of pixel tests; batch edges must not matter."""
    from affine import Affine

    from siting.geo import raster as raster_mod

    values = np.ma.masked_invalid(np.random.default_rng(0).random((60, 80)).astype("float32"))
    r = raster_mod.Raster(values, Affine(10, 0, 0, 0, -10, 600), "EPSG:5070", "r")
    cells = shapely.buffer(shapely.points(np.random.default_rng(1).uniform(0, 600, (300, 2))), 25)
    whole = raster_mod.zonal_stats(r, cells, ["mean", "count"])
    monkeypatch.setattr(raster_mod, "PIXEL_BATCH", 37)  # many batches, edges inside polygons' windows
    batched = raster_mod.zonal_stats(r, cells, ["mean", "count"])
    pd.testing.assert_frame_equal(whole, batched)
