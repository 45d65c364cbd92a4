"""Rasters: reading GeoTIFFs, reprojection, slope, nodata, zonal statistics."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin
from shapely import box

from siting.core.errors import RasterError, SitingWarning
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


@pytest.mark.parametrize("where", ["in memory", "block by block", "warped"])
def test_voids_in_a_file_without_nodata_are_said_and_a_given_nodata_masks_them(tmp_path, monkeypatch, where):
    # an SRTM-like int16 DEM whose voids hold -32768 but whose header declares no nodata value
    z = np.full((10, 10), 1_200, dtype="int16")
    z[:5, :] = -32768
    p = _write(tmp_path / "void.tif", z, from_origin(-1_700_000, 2_001_000, 100, 100), "EPSG:5070")
    if where == "block by block":
        monkeypatch.setattr("siting.core.settings.RASTER_IN_MEMORY_PX", 10)
    crs = "EPSG:5070" if where != "warped" else "EPSG:26911"
    shapes = gpd.GeoSeries([box(-1_700_000, 2_000_000, -1_699_000, 2_000_400),  # the data half's lower part
                            box(-1_700_000, 2_000_600, -1_699_000, 2_001_000)], crs=5070).to_crs(crs)  # the voids
    with pytest.warns(SitingWarning, match=r"declares no nodata value, and 50 of its pixels .* hold -32768.*"
                                           r"`nodata: -32768`"):
        read_as_is = load_raster(p, working_crs=crs)
    assert _stats(read_as_is, shapes)["min"].iloc[1] == -32768  # counted as data, as the warning says
    with warnings.catch_warnings():
        warnings.simplefilter("error", SitingWarning)  # said once the nodata is given: no warning
        masked = load_raster(p, working_crs=crs, nodata=-32768)
    st = _stats(masked, shapes)
    assert np.isnan(st["mean"].iloc[1]) and st["min"].iloc[0] == pytest.approx(1_200)


def _stats(raster, shapes) -> pd.DataFrame:
    if hasattr(raster, "zonal_stats"):  # on disk
        return raster.zonal_stats(np.asarray(shapes.values), ["mean", "min"])
    return zonal_stats(raster, np.asarray(shapes.values), ["mean", "min"])


def test_void_pixels_counts_the_usual_void_values_only(tmp_path):
    from siting.geo.raster import void_pixels

    def found(data):
        path = _write(tmp_path / f"v{len(list(tmp_path.iterdir()))}.tif", data, from_origin(0, 100, 10, 10),
                      "EPSG:5070")
        with rasterio.open(path) as ds:
            return void_pixels(ds, rasterio.windows.Window(0, 0, data.shape[1], data.shape[0]))

    assert found(np.array([[5, -9999, -9999]], "int32")) == (-9999.0, 2)
    assert found(np.array([[5, -32767, 7]], "int16")) is None  # not a usual void value
    assert found(np.array([[0, 0, 255]], "uint8")) is None  # unsigned: 0 is data (a class, a slope)
    lowest = float(np.finfo("float32").min)
    assert found(np.array([[1.5, lowest, lowest]], "float32")) == (lowest, 2)


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


def _odd_polygons(n: int, seed: int = 1) -> np.ndarray:
    """Stars of 3-40 vertices, every third with a hole, every fifth with a second part."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        cx, cy = rng.uniform(0, 5000, 2)
        k = rng.integers(3, 40)
        ang, rad = np.sort(rng.uniform(0, 2 * np.pi, k)), rng.uniform(50, 400, k)
        p = shapely.make_valid(shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
        if i % 3 == 0:
            p = p.difference(shapely.Point(cx, cy).buffer(40))
        if i % 5 == 0:
            p = p.union(box(cx + 500, cy, cx + 600, cy + 90))
        out.append(p)
    return np.array(out, dtype=object)


@pytest.mark.parametrize("transform", [Affine(30, 0, -100, 0, -30, 5600), Affine(30, 0, -100, 0, 30, -500),
                                       Affine(-30, 0, 5600, 0, -30, 5600), Affine(17.3, 0, 3.1, 0, -23.9, 5507.7)])
def test_scanned_pixel_centres_are_those_contains_xy_finds(transform):
    """Row scanning gives every pixel whose centre lies in the polygon (holes, several parts), in order."""
    from siting.geo import pixels as px

    geoms = _odd_polygons(600)
    ids = np.arange(len(geoms))
    win = px.windows(transform, (300, 300), geoms)
    got = px.centres_in(transform, geoms, ids, *win, batch=5_000)
    want = _every_centre(transform, geoms, win)
    assert len(want[0]) > 10_000
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)


def _every_centre(transform, geoms, win):
    """The oracle: each polygon's window, every centre tested on its own (row, column, polygon)."""
    rows, cols, poly = [], [], []
    for i, (g, c0, r0, c1, r1) in enumerate(zip(geoms, *win, strict=True)):
        r, c = (a.ravel() for a in np.mgrid[r0:r1, c0:c1])
        ok = shapely.contains_xy(g, *(transform @ (c + 0.5, r + 0.5)))
        rows.append(r[ok]), cols.append(c[ok]), poly.append(np.full(ok.sum(), i))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(poly)


def test_a_centre_on_an_edge_two_cells_share_belongs_to_one_of_them():
    """Squares whose edges run through pixel centres: every centre is counted once (none twice or lost)."""
    from siting.geo import pixels as px

    xs = np.arange(10) * 180 + 45
    geoms = np.array([box(x, y, x + 180, y + 180) for x in xs for y in xs], dtype=object)
    transform = Affine(90, 0, 0, 0, -90, 2000)
    rows, cols, _ = px.centres_in(transform, geoms, np.arange(len(geoms)), *px.windows(transform, (40, 40), geoms))
    _, times = np.unique(np.c_[rows, cols], axis=0, return_counts=True)
    assert len(times) == 20 * 20 and times.max() == 1  # the 20 x 20 centres in or on the tiles' union


def test_a_rotated_grid_tests_each_centre():
    from siting.geo import pixels as px

    geoms = _odd_polygons(50)
    transform = Affine(30, 2, -100, 1, -30, 5600)
    win = px.windows(transform, (300, 300), geoms)
    rows, cols, poly = px.centres_in(transform, geoms, np.arange(len(geoms)), *win)
    x, y = transform @ (cols + 0.5, rows + 0.5)
    assert len(rows) > 1000 and shapely.contains_xy(geoms[poly], x, y).all()


@pytest.mark.parametrize("transform", [Affine(30, 0, -3000, 0, -30, 9000), Affine(30, 3, -3000, 2, -30, 9000)],
                         ids=["north-up", "rotated"])
def test_large_polygons_get_exactly_the_centres_contains_xy_finds(transform):
    # parcel-sized polygons (thousands of pixels), holed and in parts, overlapping: each gets exactly the
    # pixel centres inside it, by the row scan on a north-up grid and by testing on a rotated one
    from siting.geo.raster import Raster, pixel_index

    grid = Raster(np.ma.masked_invalid(np.zeros((400, 400))), transform, "EPSG:5070", "r")
    ring = shapely.Point(1500, 3000).buffer(4000).difference(shapely.Point(1500, 3000).buffer(1500))
    parts = shapely.MultiPolygon([box(-2900, -2900, 2000, 0), box(4000, -2000, 8000, 8000)])
    geoms = np.array([ring, parts, box(-2500, 500, 7000, 6000)])
    rows, cols, poly = pixel_index(grid, geoms)
    assert np.bincount(poly).min() > 4096
    rr, cc = np.mgrid[0:400, 0:400]
    x, y = transform @ (cc.ravel() + 0.5, rr.ravel() + 0.5)
    for k, g in enumerate(geoms):
        inside = np.flatnonzero(shapely.contains_xy(g, x, y))
        got = np.sort(rows[poly == k] * 400 + cols[poly == k])
        assert np.array_equal(got, inside), k


@pytest.mark.parametrize("shuffled", [False, True])
def test_group_minimum_and_maximum_are_those_of_pandas(rng, shuffled):
    from siting.geo.pixels import group_stat

    groups = np.sort(rng.integers(0, 500, 20_000)) * 2  # odd groups hold nothing
    if shuffled:
        groups = rng.permutation(groups)
    values = rng.normal(size=len(groups))
    for stat in ("min", "max"):
        expected = np.full(1001, np.nan)
        agg = pd.Series(values).groupby(groups).agg(stat)
        expected[agg.index.to_numpy()] = agg.to_numpy()
        assert np.array_equal(group_stat(values, groups, 1001, stat), expected, equal_nan=True)


def _plane(path, rise_per_px, dtype="int16", **band):
    """A 40 x 30 DEM in EPSG:5070 rising ``rise_per_px`` stored units per 100 m pixel eastwards, with the band's
    ``scales``, ``offsets`` or ``units`` set as given."""
    z = (np.arange(40)[None, :] * rise_per_px).repeat(30, 0).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=40, height=30, count=1, dtype=dtype, crs="EPSG:5070",
                       transform=from_origin(-1_500_000, 2_000_000, 100, 100), nodata=-32768) as ds:
        ds.write(z, 1)
        for key, value in band.items():
            setattr(ds, key, value)
    return path


def test_a_band_scale_and_offset_are_applied_before_measuring(tmp_path):
    # decimetres above 1,000 m: 50 stored units a pixel are 5 m per 100 m, a 5 % slope (50 % if the scale were lost)
    p = _plane(tmp_path / "dm.tif", 50, scales=(0.1,), offsets=(1000.0,))
    slope = load_raster(p, working_crs="EPSG:5070", derive="slope_percent")
    assert np.allclose(slope.values.compressed(), 5.0, atol=1e-3)
    elevation = load_raster(p, working_crs="EPSG:5070")
    assert np.allclose(elevation.values[0, :3], [1000.0, 1005.0, 1010.0])


@pytest.mark.parametrize("unit, to_metres", [("ft", 0.3048), ("US survey foot", 1200 / 3937)])
def test_a_dem_that_declares_feet_is_converted_for_the_slope_and_says_so(tmp_path, unit, to_metres):
    from siting.core.errors import SitingWarning

    p = _plane(tmp_path / "ft.tif", 10, units=(unit,))  # 10 ft per 100 m
    with pytest.warns(SitingWarning, match=rf"raster 'ft': the band's values are in '{unit.lower()}'; multiplied by"):
        slope = load_raster(p, working_crs="EPSG:5070", derive="slope_percent")
    assert np.allclose(slope.values.compressed(), 10 * to_metres, atol=1e-4)
    given = load_raster(p, working_crs="EPSG:5070", derive="slope_percent", z_factor=0.5)  # the scenario decides
    assert np.allclose(given.values.compressed(), 5.0, atol=1e-4)
    assert load_raster(p, working_crs="EPSG:5070").values[0, 1] == 10  # read as is: the file's own unit


def test_a_dem_with_a_unit_siting_does_not_know_warns_and_is_taken_as_metres(tmp_path):
    from siting.core.errors import SitingWarning

    p = _plane(tmp_path / "odd.tif", 10, units=("furlong",))
    with pytest.warns(SitingWarning, match=r"raster 'odd': the band's unit 'furlong' is not a length siting knows"):
        slope = load_raster(p, working_crs="EPSG:5070", derive="slope_percent")
    assert np.allclose(slope.values.compressed(), 10.0, atol=1e-4)


def test_a_line_part_of_a_collection_toggles_no_pixel_in_the_row_scan():
    """Only polygon rings are scanned: a collection's line part, even along the pixel centres, adds or removes
    nothing, and a holed polygon's rings are read apart (no edge joins its shell to its hole)."""
    from shapely import GeometryCollection, LineString

    from siting.geo import pixels as px

    transform = Affine(10, 0, 0, 0, -10, 200)
    holed = box(20, 20, 160, 160).difference(box(60, 60, 100, 100))
    line = LineString([(5, 115), (35, 115), (35, 195), (35, 5)])  # along centres, across the rows and the hole
    geoms = np.array([holed, GeometryCollection([holed, line])], dtype=object)
    rows, cols, poly = px.centres_in(transform, geoms, np.arange(2), *px.windows(transform, (20, 20), geoms))
    alone = np.c_[rows, cols][poly == 0]
    assert len(alone) == 14 * 14 - 4 * 4 and np.array_equal(alone, np.c_[rows, cols][poly == 1])
