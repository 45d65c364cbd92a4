"""BAD_INPUTS.md Part A (A1-A20) and S1-S6: one fixture built in code per case, and its behaviour."""

from __future__ import annotations

import json
import logging
import math
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

import siting
from siting.core.errors import CRSError, GeometryError, InputFileError, OutputError, RasterError, ScenarioError
from siting.io.layers import load_layer
from siting.io.writers import write_geojson, write_gpkg

BOWTIE = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])


def _parcels(geoms, crs=5070):
    return gpd.GeoDataFrame({"Mang_Name": ["BLM"] * len(geoms), "OBJECTID": range(1, len(geoms) + 1)},
                            geometry=geoms, crs=crs)


# ---------------------------------------------------------------- A1 invalid polygons
def test_a1_bowtie_repaired_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="siting"):
        got = load_layer(_parcels([BOWTIE]), name="parcels")
    assert got.report.repaired == 1 and got.frame.is_valid.all()
    assert got.frame.area.iloc[0] == pytest.approx(500_000)  # both triangles kept, not buffer(0)
    assert sum("repaired 1" in r.message for r in caplog.records) == 1


def test_a1_repair_keeps_holes_and_leaves_no_collections():
    shell = [(0, 0), (100, 0), (100, 100), (0, 100)]
    hole = [(40, 40), (60, 40), (60, 60), (40, 60)]
    with_hole = Polygon(shell, [hole])
    spike = Polygon([(200, 0), (300, 0), (300, 100), (250, 150), (250, 100), (250, 150), (200, 100)])
    got = load_layer(_parcels([with_hole, spike]), name="parcels").frame
    assert got.geometry.iloc[0].area == pytest.approx(100 * 100 - 20 * 20)
    assert set(got.geom_type) == {"MultiPolygon"} and got.is_valid.all()


# ---------------------------------------------------------------- A2 unclosed rings
def test_a2_unclosed_ring_closed_or_rejected(tmp_path):
    ring = [[-117, 38], [-116.9, 38], [-116.9, 38.1], [-117, 38.1]]
    twisted = [[-117, 38], [-116.9, 38.1], [-116.9, 38], [-117, 38.1]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"OBJECTID": i, "Mang_Name": "BLM"},
         "geometry": {"type": "Polygon", "coordinates": [r]}} for i, r in ((1, ring), (2, twisted))]}
    p = tmp_path / "open.geojson"
    p.write_text(json.dumps(doc))
    got = load_layer(p, name="parcels")
    assert got.report.repaired == 1 and len(got.frame) == 1
    assert got.rejects["reason"].tolist() == ["unclosed ring; closing it does not give a valid polygon"]
    assert got.rejects["src_row"].tolist() == [got.rejects["src_row"].iloc[0]]  # feature id given


# ---------------------------------------------------------------- A3 null, empty, NaN
def test_a3_missing_empty_nan_rejected_and_never_written(tmp_path):
    with np.errstate(invalid="ignore"):  # building a NaN geometry on purpose
        nan_poly = Polygon([(0, 0), (1, math.nan), (1, 1)])
    raw = _parcels([None, Polygon(), nan_poly, box(0, 0, 1000, 1000)])
    got = load_layer(raw, name="parcels")
    assert got.report.rejected == 3 and len(got.frame) == 1
    assert set(got.rejects["reason"]) == {"no geometry (missing, empty or NaN coordinates)"}
    pts = gpd.GeoDataFrame({"x": [1, 2]}, geometry=[Point(math.nan, math.nan), Point(-117, 38)], crs=4326)
    assert load_layer(pts, name="pts").report.rejected == 1

    def no_nan(c):
        raise ValueError(c)

    out = write_geojson(got.frame[["parcel_id", "geometry"]], tmp_path / "o.geojson")
    json.loads(out.read_text(), parse_constant=no_nan)


# ---------------------------------------------------------------- A4 mixed geometry types
def test_a4_polygon_and_multipolygon_promoted_and_stray_point_refused(tmp_path):
    mixed = _parcels([box(0, 0, 10, 10), MultiPolygon([box(20, 0, 30, 10), box(40, 0, 50, 10)])])
    frame = load_layer(mixed, name="parcels").frame
    path = write_gpkg(tmp_path / "m.gpkg", {"parcels": frame})
    assert pyogrio.read_info(path, layer="parcels")["geometry_type"] == "MultiPolygon"
    stray = _parcels([box(0, 0, 10, 10), box(20, 0, 30, 10), Point(5, 5)])
    with pytest.raises(GeometryError) as exc:
        load_layer(stray, name="parcels")
    assert "point" in str(exc.value) and "rows 2" in str(exc.value)  # row of the point


def test_a4_geometry_collection_keeps_matching_parts():
    gc = GeometryCollection([box(0, 0, 10, 10), LineString([(0, 0), (5, 5)]), Point(1, 1)])
    got = load_layer(_parcels([gc, box(20, 0, 30, 10)]), name="parcels")
    assert got.frame.geometry.iloc[0].geom_type == "MultiPolygon"
    assert got.frame.geometry.iloc[0].area == pytest.approx(100)
    assert got.report.repaired == 1


# ---------------------------------------------------------------- A5 missing CRS
def test_a5_shapefile_without_prj_names_layer(tmp_path):
    p = tmp_path / "federal.shp"
    pyogrio.write_dataframe(_parcels([box(-117, 38, -116.9, 38.1)], crs=4326), p)
    p.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="layer 'parcels'"):
        load_layer(p, name="parcels")


# ---------------------------------------------------------------- A6 CRS mismatch, AOI in another CRS
def test_a6_layers_in_different_crs_reprojected_and_mismatch_refused(grid_parcels, substations):
    ll = substations.to_crs(4326)
    got = siting.read_layer(ll, name="subs", working_crs=grid_parcels.crs)
    assert got.crs == grid_parcels.crs
    assert np.allclose(shapely.get_coordinates(got.geometry.values),
                       shapely.get_coordinates(substations.geometry.values), atol=1e-3)
    from siting.score import measures

    with pytest.raises(CRSError, match="different CRSs"):
        measures.distance_to(grid_parcels, ll)


def test_a6_layer_far_from_parcels_warns(tmp_path, caplog):
    from paths import SAMPLE

    far = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(10.0, 50.0)], crs=4326)  # in Germany
    far.to_file(tmp_path / "far.geojson")
    sc = {"version": 1, "name": "far", "layers": {
        "parcels": {"path": str(SAMPLE / "federal_lands.gpkg")}, "far": {"path": str(tmp_path / "far.geojson")}}}
    with caplog.at_level(logging.WARNING, logger="siting"):
        siting.run(sc, progress=False)
    assert "check its CRS" in caplog.text and "'far'" in caplog.text


# ---------------------------------------------------------------- A7 axis order
def test_a7_swapped_csv_is_an_error_suggesting_the_swap(tmp_path):
    p = tmp_path / "swapped.csv"
    p.write_text("dep_id,latitude,longitude,commod1\n1,-117.2,39.5,Gold\n2,-116.5,38.1,Tungsten\n")
    with pytest.raises(CRSError, match="swapped"):
        load_layer(p, name="deposits")


def test_a7_transformer_round_trip_and_folium_bounds_order():
    from siting.deliver.maps import _bounds
    from siting.io.crs import transformer

    fwd, back = transformer(4326, 5070), transformer(5070, 4326)
    x, y = fwd.transform(-117.0, 39.0)
    assert back.transform(x, y) == pytest.approx((-117.0, 39.0))
    g = gpd.GeoDataFrame(geometry=[box(-117, 38, -116, 39)], crs=4326).to_crs(5070)
    (s, w), (n, e) = _bounds(g)
    assert s == pytest.approx(38, abs=0.05) and w == pytest.approx(-117, abs=0.05) and n > s and e > w


# ---------------------------------------------------------------- A8 out of range, null island
def test_a8_out_of_range_and_null_island_dropped_with_rows(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("dep_id,latitude,longitude,commod1\n1,39.5,-117.2,Gold\n2,95,-117,Gold\n"
                 "3,38,-200,Gold\n4,0,0,Gold\n5,38.5,-116.0,Gold\n")
    got = load_layer(p, name="deposits")
    assert got.frame["deposit_id"].tolist() == ["1", "5"]
    reasons = dict(zip(got.rejects["src_row"], got.rejects["reason"], strict=True))
    assert reasons == {1: "coordinates out of range", 2: "coordinates out of range",
                       3: "suspect placeholder location (0, 0)"}


# ---------------------------------------------------------------- A9 antimeridian
def test_a9_aleutian_polygon_cut_in_geojson_and_map_bounds_local(tmp_path):
    from siting.deliver.maps import _bounds
    from siting.io.crs import transformer

    x, y = transformer(4326, 3338).transform(180.0, 52.0)
    ak = gpd.GeoDataFrame({"site_id": ["ak"]}, geometry=[box(x - 50_000, y - 30_000, x + 50_000, y + 30_000)],
                          crs=3338)
    doc = json.loads(write_geojson(ak, tmp_path / "ak.geojson").read_text())
    geom = shapely.geometry.shape(doc["features"][0]["geometry"])
    parts = list(getattr(geom, "geoms", [geom]))
    assert len(parts) == 2 and all(p.bounds[2] - p.bounds[0] < 180 for p in parts)
    back = gpd.GeoDataFrame(geometry=[geom], crs=4326).to_crs(3338)
    assert back.area.iloc[0] == pytest.approx(ak.area.iloc[0], rel=1e-3)
    (s, w), (n, e) = _bounds(ak)
    assert e - w < 5 and n - s < 5  # not world-wide


# ---------------------------------------------------------------- A10, A11 winding, precision
def test_a10_a11_ccw_seven_decimals_and_still_valid(tmp_path, grid_parcels):
    from rfc7946 import problems

    p = write_geojson(grid_parcels, tmp_path / "g.geojson")
    assert problems(p) == []
    assert gpd.read_file(p).is_valid.all()


# ---------------------------------------------------------------- A12 encodings
def test_a12_latin1_shapefile_with_and_without_cpg(tmp_path):
    g = gpd.GeoDataFrame({"Unit_Nm": ["Peñasco"], "Mang_Name": ["BLM"]}, geometry=[box(0, 0, 9, 9)], crs=5070)
    p = tmp_path / "latin.shp"
    pyogrio.write_dataframe(g, p, encoding="latin1")
    assert load_layer(p, name="p").frame["unit_name"].tolist() == ["Peñasco"]
    p.with_suffix(".cpg").unlink()  # GDAL then assumes ISO-8859-1 for the DBF
    got = load_layer(p, name="p")
    assert got.frame["unit_name"].tolist() == ["Peñasco"] and got.report.encoding == "ISO-8859-1"


def test_a12_wrong_encoding_warns_about_mojibake(tmp_path):
    g = gpd.GeoDataFrame({"Unit_Nm": ["Peñasco"], "Mang_Name": ["BLM"]}, geometry=[box(0, 0, 9, 9)], crs=5070)
    p = tmp_path / "utf8.shp"
    pyogrio.write_dataframe(g, p, encoding="UTF-8")
    got = load_layer(p, name="p", encoding="latin1")  # the user says Latin-1, wrongly
    assert got.frame["unit_name"].iloc[0] == "PeÃ±asco"
    assert any("wrongly decoded" in i["problem"] for i in got.report.issues)


# ---------------------------------------------------------------- A13 truncated names (input side)
def test_a13_truncated_padus_shapefile_names_are_read(tmp_path):
    g = gpd.GeoDataFrame({"Mng_Typ": ["FED"], "Mang_Nm": ["DOD"], "GAP_Sts": [4]}, geometry=[box(0, 0, 9, 9)],
                         crs=5070)
    got = siting.read_layer(g, name="p")
    assert got["agency"].tolist() == ["DOD"] and got.attrs["siting"]["source"] == "padus"


# ---------------------------------------------------------------- A14 ids
def test_a14_null_configured_id_is_an_error_and_gpkg_keeps_rows(tmp_path):
    from siting.core.errors import FieldError

    raw = _parcels([box(0, 0, 9, 9), box(10, 0, 19, 9)]).assign(PID=["a", None])
    with pytest.raises(FieldError, match="no parcel_id"):
        load_layer(raw, name="parcels", id_field="PID")
    frame = load_layer(raw, name="parcels").frame
    p = write_gpkg(tmp_path / "x.gpkg", {"p": frame})
    assert len(gpd.read_file(p, layer="p")) == 2


# ---------------------------------------------------------------- A15 text coordinates, lists
def test_a15_blank_na_and_dms_text_rejected_never_zero(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("dep_id,latitude,longitude,commod1\n1,,-117,Gold\n2,N/A,-117,Gold\n3,45°30'N,-117,Gold\n"
                 "4,39.1,-117.1,\"Uranium, Vanadium\"\n")
    got = load_layer(p, name="deposits")
    assert got.frame["deposit_id"].tolist() == ["4"]
    assert got.frame["commodities"].tolist() == ["uranium;vanadium"]
    assert sorted(got.rejects["detail"]) == sorted([", -117", "N/A, -117", "45°30'N, -117"])


# ---------------------------------------------------------------- A16 sentinels
def test_a16_hifld_sentinels():
    raw = gpd.GeoDataFrame({"NAME": ["UNKNOWN12", "TAP3", "Reno"], "MAX_VOLT": [-999999.0, 138.0, 345.0]},
                           geometry=[Point(0, 0), Point(1, 1), Point(2, 2)], crs=5070)
    got = load_layer(raw, name="subs")
    assert got.frame["name"].isna().tolist() == [True, True, False]
    assert np.isnan(got.frame["voltage_kv"].iloc[0])


# ---------------------------------------------------------------- A17, A18 rasters
def _tif(path, data, transform, crs, nodata=None):
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data, 1)
    return path


def test_a17_nodata_sample_is_na_and_no_nodata_warns(tmp_path, caplog):
    from rasterio.transform import from_origin

    from siting.core.errors import SitingWarning
    from siting.geo.raster import load_raster

    data = np.arange(25, dtype="float32").reshape(5, 5)
    data[2, 2] = -9999
    r = load_raster(_tif(tmp_path / "nd.tif", data, from_origin(0, 500, 100, 100), "EPSG:5070", -9999),
                    working_crs="EPSG:5070")
    assert np.isnan(r.sample(np.array([250.0]), np.array([250.0]))[0])
    with pytest.warns(SitingWarning, match="declares no nodata value, and 1 of its pixels"):
        load_raster(_tif(tmp_path / "plain.tif", data, from_origin(0, 500, 100, 100), "EPSG:5070"),
                    working_crs="EPSG:5070")  # -9999 as data: a usual void value, said
    data[2, 2] = 3
    with caplog.at_level(logging.WARNING, logger="siting"):
        load_raster(_tif(tmp_path / "plain2.tif", data, from_origin(0, 500, 100, 100), "EPSG:5070"),
                    working_crs="EPSG:5070")
    assert "no nodata value" in caplog.text


def test_a18_points_in_4326_on_a_5070_raster(tmp_path):
    from rasterio.transform import from_origin

    from siting.geo.raster import load_raster
    from siting.score.factors import raster_stat

    # raster in EPSG:5070 whose value is the pixel's column index
    data = np.tile(np.arange(100, dtype="float32"), (100, 1))
    r = load_raster(_tif(tmp_path / "c.tif", data, from_origin(-1_500_000, 2_000_000, 1000, 1000), "EPSG:5070"),
                    working_crs="EPSG:5070")
    x, y = -1_500_000 + 42_500, 2_000_000 - 10_500  # centre of column 42
    pt = gpd.GeoDataFrame(geometry=[Point(x, y)], crs=5070).to_crs(4326)
    back = siting.read_layer(pt, name="p", working_crs="EPSG:5070")
    assert raster_stat(back, r, "mean").iloc[0] == 42
    off = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=5070)
    assert np.isnan(raster_stat(off, r, "mean").iloc[0])
    with pytest.raises(RasterError, match="does not overlap"):
        load_raster(tmp_path / "c.tif", working_crs="EPSG:3338", aoi_bounds=(0, 0, 1000, 1000))


# ---------------------------------------------------------------- A19 never measure in degrees
def test_a19_known_square_acreage(tmp_path):
    sq = gpd.GeoDataFrame({"Mang_Name": ["BLM"]}, geometry=[box(500_000, 4_200_000, 501_000, 4_201_000)],
                          crs="EPSG:26911")  # exactly 1 km2 in UTM 11N
    got = siting.read_layer(sq, name="p")
    assert got.area.iloc[0] / 4046.8564224 == pytest.approx(247.105, rel=0.005)


# ---------------------------------------------------------------- A20 big inputs
@pytest.mark.slow
def test_a20_a_million_points_load_within_a_memory_budget(tmp_path):
    import psutil

    rng = np.random.default_rng(1)
    n = 1_000_000
    pts = gpd.GeoDataFrame({"dep_id": np.arange(n), "commod1": "Gold"},
                           geometry=shapely.points(rng.uniform(-120, -114, n), rng.uniform(35, 42, n)), crs=4326)
    p = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(pts, p, use_arrow=True)
    del pts
    proc = psutil.Process()
    before = proc.memory_info().rss
    got = load_layer(p, name="deposits")
    grown = (proc.memory_info().rss - before) / 2**30
    assert len(got.frame) == n and grown < 3.0, f"grew {grown:.2f} GiB"


# ---------------------------------------------------------------- S2, S3 scenario files
def test_s3_oversized_toml_refused(tmp_path, monkeypatch):
    from siting.core import settings

    monkeypatch.setattr(settings, "MAX_SCENARIO_BYTES", 50)
    p = tmp_path / "s.toml"
    p.write_text('version = 1\nname = "x"\n# ' + "y" * 100)
    with pytest.raises(ScenarioError, match="limit"):
        siting.load_scenario(p)


# ---------------------------------------------------------------- S4 output paths
def test_s4_scenario_name_traversal_and_output_holding_inputs(tmp_path):
    from siting.deliver.folder import check_output_dir

    with pytest.raises(ScenarioError, match="name"):
        siting.load_scenario({"version": 1, "name": "../../x", "layers": {"parcels": {"path": "p"}}})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "p.gpkg").write_text("x")
    with pytest.raises(OutputError, match="holds the input"):
        check_output_dir(tmp_path / "data", overwrite=True, inputs=[tmp_path / "data" / "p.gpkg"])


def test_s4_run_refuses_output_over_inputs(tmp_path):
    import shutil
    import subprocess
    import sys

    from paths import SAMPLE

    work = tmp_path / "copy"
    shutil.copytree(SAMPLE, work)
    r = subprocess.run([sys.executable, "-m", "siting.cli", "run", str(work / "nevada_demo.yaml"), "--out",
                        str(work), "--overwrite"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "holds the input" in r.stderr
    assert (work / "federal_lands.gpkg").exists()


# ---------------------------------------------------------------- S5 zips and network
def test_s5_zip_bomb_and_traversal_refused_normal_zip_read(tmp_path, grid_parcels):
    pyogrio.write_dataframe(grid_parcels.rename(columns={"agency": "Mang_Name"}), tmp_path / "p.gpkg")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(tmp_path / "p.gpkg", "p.gpkg")
    assert len(siting.read_layer(good, name="parcels")) == 5
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.geojson", b"0" * 50_000_000)
    with pytest.raises(InputFileError, match="zip bomb"):
        siting.read_layer(bomb)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.geojson", b"{}")
    with pytest.raises(InputFileError, match="unsafe member"):
        siting.read_layer(evil)


def test_s5_no_network_paths():
    for url in ("https://example.com/padus.gpkg", "/vsicurl/https://x/y.tif", "s3://bucket/x.gpkg"):
        with pytest.raises(InputFileError, match="network"):
            siting.read_layer(url)


# ---------------------------------------------------------------- S6 interrupted writes
@pytest.mark.slow  # saves the demo twice
def test_s6_writer_failure_leaves_earlier_outputs_and_no_temps(tmp_path, demo_result, monkeypatch):
    out = tmp_path / "out"
    demo_result.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("siting.io.writers._write_layer", boom)  # the GeoPackage, mid-save
    with pytest.raises(OSError, match="disk full"):
        demo_result.save(out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.slow
def test_s6_a_failing_geopackage_helper_leaves_earlier_outputs_and_no_temps(tmp_path, demo_result, monkeypatch):
    from siting.core.errors import OutputError
    from siting.io import gpkg_job

    out = tmp_path / "out"
    demo_result.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(gpkg_job, "HELPER_ROWS", 1)  # the helper writes the demo's layers
    monkeypatch.setattr("siting.io.writers.gdal_crs", lambda crs: "EPSG:999999")  # and GDAL fails there
    with pytest.raises(OutputError, match="the helper process writing its layers failed"):
        demo_result.save(out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.slow
def test_s6_sigkill_mid_write_then_rerun(tmp_path, tiny_yaml, tiny_result):
    """The tiny scenario: what is tested is the folder's fate, not the run. The folders before and after are
    saved in this process (the session's run); only the killed save is a process of its own."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    tiny_result.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # a second run whose map writer hangs, so that it is killed while writing
    marker, demo, target = str(tmp_path / "writing"), str(tiny_yaml), str(out)
    code = ("import time, siting, siting.deliver.result_map as m\n"
            "orig = m.result_map\n"
            f"def slow(*a, **k):\n    open({marker!r}, 'w').close(); time.sleep(60); return orig(*a, **k)\n"
            "m.result_map = slow\n"
            f"siting.run({demo!r}, progress=False).save({target!r}, overwrite=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while not (tmp_path / "writing").exists() and time.time() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".st-tmp-")]
    assert leftovers  # the killed run's temp folder is hidden beside the output...
    tiny_result.save(out, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".st-")]  # ...cleaned by the next save


def test_run_report_lists_every_repair_and_rejection(demo_out, demo_result):
    run = json.loads((demo_out / "run.json").read_text())
    assert len(run["rejects"]) == len(demo_result.rejects) == 2
    assert {r["reason"] for r in run["rejects"]} == set(demo_result.rejects["reason"])
    assert sum(i["count"] for i in run["repairs"]) == sum(
        i["count"] for reps in demo_result.reports.values() for r in reps for i in r.issues)
    assert pd.read_csv(demo_out / "rejects.csv")["reason"].tolist() == demo_result.rejects["reason"].tolist()


def test_a_layer_with_no_feature_near_the_parcels_gives_a_warning_a_notebook_shows(tmp_path, tiny_scenario):
    import copy

    from paths import SAMPLE

    from siting.core.errors import SitingWarning

    towns = gpd.read_file(SAMPLE / "infrastructure.gpkg", layer="towns").to_crs(4326)
    towns = towns.set_geometry(shapely.transform(towns.geometry.values, lambda xy: xy + np.array([9.0, 0])))  # east
    pyogrio.write_dataframe(towns, tmp_path / "towns.gpkg")
    d = copy.deepcopy(tiny_scenario)
    d["layers"]["towns"] = {"path": str(tmp_path / "towns.gpkg"), "kind": "town"}
    d.update(factors=[], analysis={})  # the warning comes with the layers: the rest of the run is not needed
    with pytest.warns(SitingWarning, match=rf"layer 'towns': none of its {len(towns)} features lies within 200 km "
                                           "of the parcels; check its CRS"):
        siting.run(d, progress=False)
