"""Hostile inputs, round two (issue 16 items 2, 4, 5, 7, 11-16): each built in code, each behaviour asserted."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from paths import SAMPLE, cli
from rasterio.transform import from_origin
from shapely import Polygon, box

import siting
from siting.core.errors import CRSError, InputFileError, RasterError, ScenarioError, SitingWarning
from siting.io.layers import load_layer
from siting.io.writers import write_geojson

LON0, LAT0 = -117.3, 38.0


def _padus(geoms, crs="EPSG:4326", **extra):
    n = len(geoms)
    return gpd.GeoDataFrame({"Mang_Name": ["BLM"] * n, "Unit_Nm": [f"u{i}" for i in range(n)],
                             "GAP_Sts": ["3"] * n, "OBJECTID": range(1, n + 1), **extra}, geometry=geoms, crs=crs)


# ------------------------------------------------------------------------------------------- 2 Z/M
def test_zm_parcels_are_read_in_2d_noted_and_give_real_site_geometries(tmp_path):
    wkt = [f"POLYGON ZM (({LON0 + i * .1} {LAT0} 1 {m}, {LON0 + i * .1 + .05} {LAT0} 1 {m}, "
           f"{LON0 + i * .1 + .05} {LAT0 + .05} 1 {m}, {LON0 + i * .1} {LAT0} 1 {m}))"
           for i, m in enumerate(["NaN", "2", "NaN"])]
    path = tmp_path / "zm.gpkg"
    with warnings.catch_warnings():  # GDAL notes the M values it stores
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(_padus(shapely.from_wkt(wkt)), path, use_arrow=True)
    with pytest.warns(SitingWarning, match="Z/M coordinates"):
        loaded = load_layer(path, name="parcels")
    geoms = loaded.frame.geometry.values
    assert not shapely.has_z(geoms).any() and not shapely.has_m(geoms).any()
    issue = next(i for i in loaded.report.issues if i["problem"] == "Z/M coordinates")
    assert issue["count"] == 3 and issue["action"].startswith("dropped")
    result = siting.run({"name": "zm", "layers": {"parcels": {"path": str(path)}},
                         "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}, progress=False)
    out = result.save(tmp_path / "out", formats=["geojson"])
    features = json.loads((out / "sites.geojson").read_text())["features"]
    assert len(features) == 3 and all(f["geometry"] is not None for f in features)


# ------------------------------------------------------------------------------------------- 4 VRT
def _vrt(path, source):
    path.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="lands"><SrcDataSource>{source}</SrcDataSource>'
                    '<SrcLayer>parcels</SrcLayer></OGRVRTLayer></OGRVRTDataSource>')
    return path


@pytest.mark.parametrize("remote", [pytest.param("http://127.0.0.1:9/lands.gpkg", marks=pytest.mark.slow),
                                    pytest.param("/vsicurl/https://example.invalid/x.gpkg", marks=pytest.mark.slow),
                                    pytest.param("/vsis3/bucket/lands.gpkg", marks=pytest.mark.slow)])
def test_a_vrt_reading_a_remote_source_is_refused_everywhere(tmp_path, remote):
    vrt = _vrt(tmp_path / "lands.vrt", remote)
    with pytest.raises(InputFileError, match=r"reads .* from the network; .*allow_network"):
        siting.read_layer(vrt, name="parcels")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"version: 1\nname: t\nlayers:\n  parcels: {{path: {vrt}}}\n")
    for args in (["info", vrt], ["validate", scenario], ["run", scenario, "--out", tmp_path / "out"]):
        r = cli(*args)
        assert r.returncode != 0 and "from the network" in (r.stdout + r.stderr), args


def test_allowing_the_network_lets_gdal_try_and_a_local_vrt_hashes_its_sources(tmp_path):
    with pytest.raises(Exception) as info:
        siting.read_layer(_vrt(tmp_path / "remote.vrt", "http://127.0.0.1:9/lands.gpkg"), name="p", allow_network=True)
    assert "from the network" not in str(info.value)  # our refusal is lifted; GDAL finds nothing listening
    lands = tmp_path / "lands.gpkg"
    pyogrio.write_dataframe(_padus([box(LON0, LAT0, LON0 + .05, LAT0 + .05)]), lands, layer="parcels")
    vrt = tmp_path / "local.vrt"
    vrt.write_text('<OGRVRTDataSource><OGRVRTLayer name="lands"><SrcDataSource relativeToVRT="1">lands.gpkg'
                   '</SrcDataSource><SrcLayer>parcels</SrcLayer></OGRVRTLayer></OGRVRTDataSource>')
    result = siting.run({"name": "v", "layers": {"parcels": {"path": str(vrt), "source": "padus"}}}, progress=False)
    entry = result.meta["inputs"][0]
    assert entry["sources"][0]["path"] == str(lands)
    assert len(entry["sources"][0]["sha256"]) == 64 and entry["sources"][0]["sha256"] != entry["sha256"]


# --------------------------------------------------------------------------------- 5 CSV injection
def test_formulas_are_neutralised_in_every_csv_and_kept_raw_elsewhere(tmp_path):
    names = ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "@SUM(A1)", "\t=1+1", "-2+3", "Tonopah"]
    geoms = [box(LON0 + i * .1, LAT0, LON0 + i * .1 + .05, LAT0 + .05) for i in range(len(names))]
    lands = tmp_path / "lands.gpkg"
    pyogrio.write_dataframe(_padus(geoms, Unit_Nm=names), lands)
    bad = pd.DataFrame({"name": ["=cmd|'/C calc'!A0", "+ok"], "latitude": ["91", "38.1"],
                        "longitude": ["-117", "-117.2"], "dev_stat": ["x", "Producer"]})
    bad.to_csv(tmp_path / "deps.csv", index=False)
    result = siting.run({"name": "csv", "layers": {"parcels": {"path": str(lands)}, "deposits": {
        "path": str(tmp_path / "deps.csv"), "source": "mrds"}}}, progress=False)
    out = result.save(tmp_path / "out", formats=["csv", "gpkg"])
    texts = {p.name: p.read_text() for p in out.glob("*.csv")}
    cells = [c.strip('"') for text in texts.values() for line in text.splitlines() for c in line.split('","')]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t")], "a cell a spreadsheet would run"
    kept = [n.strip() for n in names]  # the adapter trims text: "\t=1+1" is the formula "=1+1"
    sites = pd.read_csv(out / "sites.csv")
    assert sorted(sites["unit_name"]) == sorted("'" + n if n[0] in "=+@-" else n for n in kept)
    raw = gpd.read_file(out / "siting.gpkg", layer="sites")
    assert sorted(raw["unit_name"]) == sorted(kept)  # the GeoPackage keeps the values as they were
    assert "coordinates out of range" in texts["rejects.csv"]


# ---------------------------------------------------------------------------------- 7 huge geometry
@pytest.mark.slow
def test_a_site_of_1_25_million_vertices_is_written_and_checked(tmp_path):
    t = np.linspace(0, 2 * np.pi, 1_250_000, endpoint=False)
    r = 20_000 + 50 * np.sin(t * 5_000)
    poly = Polygon(np.column_stack([-1.7e6 + r * np.cos(t), 1.9e6 + r * np.sin(t)]))
    path = write_geojson(gpd.GeoDataFrame({"site_id": ["big"]}, geometry=[poly], crs=5070), tmp_path / "s.geojson")
    assert path.stat().st_size > 30e6
    assert pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE") is None  # the input limit is back


# -------------------------------------------------------------------------------- 11 custom tiles
@pytest.mark.slow
def test_custom_tiles_need_and_take_an_attribution(tmp_path, tiny_scenario, tiny_result):
    url = "https://tiles.example.invalid/{z}/{x}/{y}.png"
    with pytest.raises(ScenarioError, match="need an attribution"):
        tiny_result.map(tiles=url)
    html = tiny_result.map(tiles=url, attr="(c) Example tiles").get_root().render()
    assert url in html and "(c) Example tiles" in html
    d = copy.deepcopy(tiny_scenario)
    d["outputs"] = {"formats": ["html"], "map_tiles": url, "map_attribution": "(c) Example tiles"}
    out = siting.run(d, progress=False).save(tmp_path / "out")
    assert "(c) Example tiles" in (out / "map.html").read_text()


# ------------------------------------------------------------------ 12 warnings a notebook shows
def test_repairs_rejections_and_empty_layers_reach_python_as_one_warning_per_layer():
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    with pytest.warns(SitingWarning) as record:
        load_layer(_padus([bowtie, box(0, 0, 10, 10), Polygon()], crs=5070), name="parcels")
    assert len(record) == 1
    text = str(record[0].message)
    assert "layer 'parcels'" in text and "1 repaired" in text and "1 rejected" in text
    assert issubclass(SitingWarning, UserWarning)
    with pytest.warns(SitingWarning, match="the layer is empty"):
        load_layer(_padus([Polygon(), Polygon()], crs=5070), name="parcels")


# --------------------------------------------------------- 13 every coordinate out of range
def test_a_layer_whose_every_feature_is_out_of_range_names_the_file_and_the_likely_cause(tmp_path):
    projected = _padus([box(-1_700_000, 1_900_000, -1_690_000, 1_910_000)], crs="EPSG:5070").set_crs(4326,
                                                                                                     allow_override=True)
    path = tmp_path / "lost_prj.geojson"
    projected.to_file(path)
    with pytest.raises(CRSError, match=r"lost_prj\.geojson.*projected CRS whose definition was lost"):
        load_layer(path, name="parcels")


# ----------------------------------------------------------------- 14 repairs that change area
def test_repairs_that_change_area_are_measured_and_warned():
    spiked = Polygon([(0, 0), (1000, 0), (1000, 1000), (500, 1000), (500, 3000), (500, 1000), (0, 1000)])
    crossed = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])  # a bow-tie: its halves cancel
    with pytest.warns(SitingWarning, match="acres changed") as record:
        loaded = load_layer(_padus([spiked, crossed], crs=5070), name="parcels")
    assert loaded.report.repair_acres_changed >= 0.0
    big = [i for i in loaded.report.issues if "changed area by more than" in i["action"]]
    measured = sum(i["acres_changed"] for i in loaded.report.issues if "acres_changed" in i)
    assert measured == pytest.approx(loaded.report.repair_acres_changed, abs=1e-3)
    assert "acres changed" in str(record[0].message)
    assert all("rows" in i["action"] for i in big)


def test_a_bow_tie_repair_is_flagged_in_acres_not_an_absurd_percentage():
    # its signed area is 0 (the two triangles cancel); the repair makes two triangles of 500,000 m2 in all
    crossed = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    with pytest.warns(SitingWarning, match="acres changed"):
        loaded = load_layer(_padus([crossed], crs=5070), name="parcels")
    (entry,) = [i for i in loaded.report.issues if "changed area by more than" in i["action"]]
    after = shapely.area(shapely.make_valid(crossed)) / 4046.8564224
    assert f"0.0 acres before, {after:,.1f} after" in entry["action"]
    assert "%," not in entry["action"].split("(the most")[1]


_ARC_GML = """<?xml version="1.0" encoding="utf-8" ?>
<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="fc">
 <ogr:featureMember><ogr:parcels gml:id="p1"><ogr:geometryProperty>
  <gml:Polygon srsName="urn:ogc:def:crs:EPSG::5070" gml:id="g1"><gml:exterior><gml:Ring><gml:curveMember>
   <gml:Curve gml:id="c1"><gml:segments>
    <gml:Arc><gml:posList>-1700000 2000000 -1695000 2005000 -1690000 2000000</gml:posList></gml:Arc>
    <gml:LineStringSegment><gml:posList>-1690000 2000000 -1700000 2000000</gml:posList></gml:LineStringSegment>
   </gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:exterior></gml:Polygon>
 </ogr:geometryProperty><ogr:Mang_Name>BLM</ogr:Mang_Name></ogr:parcels></ogr:featureMember>
</ogr:FeatureCollection>
"""


def test_curved_geometries_are_read_as_fine_segments_and_said(tmp_path):
    # a half disc of radius 5 km whose rim is a circular arc (as Esri geodatabases store curves): Arrow cannot
    # carry arcs, and GDAL's default linearization (4 degrees) would put its chords 3 m inside the arc
    path = tmp_path / "arcs.gml"
    path.write_text(_ARC_GML, encoding="utf-8")
    with pytest.warns(SitingWarning, match=r"curved geometries .* straight segments every 0\.1 degrees"):
        loaded = load_layer(path, name="parcels")
    (geom,) = loaded.frame.geometry.values
    ring = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(geom)[0]))
    off_arc = np.abs(np.hypot(ring[:, 0] + 1_695_000, ring[:, 1] - 2_000_000) - 5_000)
    on_rim = ring[:, 1] > 2_000_000 + 1e-6
    assert on_rim.sum() > 1_000  # 180 degrees at 0.1 degree a segment
    midpoints = (ring[1:] + ring[:-1]) / 2
    sag = 5_000 - np.hypot(midpoints[:, 0] + 1_695_000, midpoints[:, 1] - 2_000_000)
    assert off_arc[on_rim].max() < 1e-6 and sag[(midpoints[:, 1] > 2_000_000 + 1)].max() < 0.002  # 2 mm at 5 km
    assert shapely.area(geom) == pytest.approx(np.pi * 5_000**2 / 2, rel=1e-6)


# ------------------------------------------------------------------ 15 memory estimate first
def test_tiny_cells_are_refused_with_the_figure_and_the_fix(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["candidates"] = {"method": "grid", "cell_acres": 0.5}
    with pytest.raises(ScenarioError, match=r"make about [\d,]+ candidates, which need about [\d.,]+ GiB.*at "
                                            r"least [\d.,]+ acres"):
        siting.run(d, progress=False)


# ------------------------------------------------------------------------ 16 all-nodata raster
def test_an_all_nodata_dem_is_said_to_be_all_nodata(tmp_path, tiny_scenario):
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=50, width=50, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(-120, 42.5, 0.15, 0.15), nodata=-9999.0) as ds:
        ds.write(np.full((1, 50, 50), -9999.0, dtype="float32"))
    d = copy.deepcopy(tiny_scenario)
    d["rasters"] = {"slope_pct": {"path": str(path), "derive": "slope_percent"}}
    with pytest.raises(RasterError, match=r"every pixel there is nodata \(nodata value -9999\)"):
        siting.run(d, progress=False)


def _dem_with_data_only(tmp_path, keep) -> Path:
    """The demo's DEM with every pixel nodata except where ``keep(rows, cols)`` (the pixel's indexes) is true."""
    with rasterio.open(SAMPLE / "dem.tif") as src:
        profile, z = src.profile, src.read(1)
    rows, cols = np.indices(z.shape)
    z = np.where(keep(rows, cols), z, profile["nodata"] if profile.get("nodata") is not None else -9999).astype(z.dtype)
    profile.update(nodata=profile.get("nodata") if profile.get("nodata") is not None else -9999)
    path = tmp_path / "dem_part.tif"
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(z, 1)
    return path


def _raster_factor_run(tiny_scenario, path: Path) -> dict:
    d = copy.deepcopy(tiny_scenario)
    d["rasters"] = {"slope_pct": {"path": str(path), "derive": "slope_percent"}}
    d["constraints"] = [c for c in d["constraints"] if c.get("raster") != "slope_pct"]  # the factor alone reads it
    d["analysis"] = {}  # what these tests look at comes before any analysis
    d["factors"] = [f for f in d["factors"] if f.get("raster") == "slope_pct"]  # the terrain factor alone
    return d


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_raster_factor_with_no_data_under_any_site_is_an_error(tmp_path, tiny_scenario, monkeypatch, on_disk):
    from siting.core import settings

    if on_disk:  # measured block by block, where no whole-raster check runs at load
        monkeypatch.setattr(settings, "RASTER_IN_MEMORY_PX", 1_000)
    path = _dem_with_data_only(tmp_path, lambda r, c: (r < 3) & (c < 3))  # a corner of 3 x 3 pixels
    with rasterio.open(path) as ds:
        corner = box(*rasterio.windows.bounds(rasterio.windows.Window(0, 0, 5, 5), ds.transform))
    parcels = gpd.read_file(SAMPLE / "federal_lands.gpkg").to_crs(rasterio.open(path).crs)
    assert not parcels.intersects(corner).any()  # no site can hold a pixel with data
    said = (r"factor 'terrain': raster 'slope_pct' has no data under any of the [\d,]+ sites" if on_disk
            else r"raster 'slope_pct' .* has no data over the study area")  # in memory: found when loaded
    with pytest.raises(RasterError, match=said):
        siting.run(_raster_factor_run(tiny_scenario, path), progress=False)


def test_a_raster_factor_warns_with_the_count_of_sites_without_data(tmp_path, tiny_scenario):
    with rasterio.open(SAMPLE / "dem.tif") as ds:
        half = ds.width // 2
    path = _dem_with_data_only(tmp_path, lambda r, c: c >= half)  # the western half nodata
    said = r"factor 'terrain': [\d,]+ of [\d,]+ site\(s\) have 'slope_pct' data on less than 90% of their area"
    with pytest.warns(SitingWarning, match=said):
        result = siting.run(_raster_factor_run(tiny_scenario, path), progress=False)
    missing = result.sites["terrain_mean"].isna()
    assert 0 < missing.sum() < len(missing)
    assert (result.sites.loc[missing, "terrain_score"] == 0).all()
    # a site across the data's edge is measured only when data covers 90 % of it
    sites = result.sites.to_crs(rasterio.open(path).crs)
    with rasterio.open(path) as ds:
        west, east = ds.bounds.left, ds.bounds.right
    edge = west + (east - west) * half / rasterio.open(path).width
    across = sites.bounds.minx.lt(edge) & sites.bounds.maxx.gt(edge)
    geoms = sites.geometry.values  # in degrees: a share of a site's area is all that is needed
    share_on_data = shapely.area(shapely.intersection(geoms, box(edge, -90, 180, 90))) / shapely.area(geoms)
    thin = across & (share_on_data < 0.85)
    assert thin.any() and missing[thin].all()


def test_sample_data_is_untouched_by_these_tests():
    assert (SAMPLE / "federal_lands.gpkg").exists()


def test_a_raster_vrt_reading_a_remote_source_is_refused_by_run_and_validate(tmp_path, tiny_scenario):
    vrt = tmp_path / "dem.vrt"
    vrt.write_text('<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Float32" band="1">'
                   '<SimpleSource><SourceFilename relativeToVRT="0">/vsicurl/https://example.invalid/dem.tif'
                   '</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>')
    d = copy.deepcopy(tiny_scenario)
    d["rasters"] = {"slope_pct": {"path": str(vrt), "derive": "slope_percent"}}
    with pytest.raises(InputFileError, match="from the network"):
        siting.run(d, progress=False)
    from siting.core.checks import check_scenario

    assert any("from the network" in p.message for p in check_scenario(d).errors)


@pytest.mark.parametrize(("change", "last"), [
    ({"rule": "within", "distance_m": 1}, r"'parts' \(connected parts of the eligible land.*\)"),  # generator
    ({"rule": "min_area", "acres": 1e9}, r"'min_area' \(eligible area >= [\d.e+]+ acres\)"),  # site stage
    ({"rule": "gap_status_not_in", "values": [1, 2, 3, 4]}, r"'gap_status_not_in' \(GAP status not in .*\)"),  # land
])
def test_a_run_that_excludes_every_candidate_says_so_in_a_warning_a_notebook_shows(tiny_scenario, change, last):
    # it was a log line only, which a notebook without logging set up never shows, and nothing at all when the
    # land rules left some land but no candidate could be made on it
    d = {**copy.deepcopy(tiny_scenario), "analysis": {}}
    rules = [r for r in d["constraints"] if r["rule"] == change["rule"]]
    if rules:
        rules[0].update(change)
    else:
        d["constraints"].append(change)
    with pytest.warns(SitingWarning, match=rf"all [\d,]+ candidates were excluded; rule {last} removed the last "
                                           r"[\d,]+; relax it or check its layer"):
        result = siting.run(d, progress=False)
    assert len(result.sites) == 0  # (tests/core/test_cli.py: the empty outputs are written)


@pytest.mark.slow  # a run with a relaxation (about 9 s)
def test_an_analysis_that_empties_the_run_stays_quiet(tiny_scenario):
    # relaxation re-screens the candidates at each value; a value at which no candidate is left is a point of the
    # curve, not a run that excluded everything
    d = {**copy.deepcopy(tiny_scenario),
         "analysis": {"relaxation": [{"rule": "within_substations", "values": [1, 50_000]}]}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = siting.run(d, progress=False)
    assert len(result.sites) > 0
    curve = result.analysis["relaxation"]["within_substations"]
    assert curve["sites"].tolist()[0] == 0  # at 1 m the generator made no candidate
    assert not [w for w in caught if "candidates were excluded" in str(w.message)]


def test_a_working_crs_that_does_not_keep_areas_is_refused_by_run_and_validate(tiny_scenario):
    # Web Mercator's areas are 1 / cos(lat)^2 times the ground's: every acre (min_area, footprints, eligible
    # acres) would be 1.5-1.8 times too large over Nevada, while distances are measured on the ellipsoid anyway
    from siting.core.checks import check_scenario

    d = copy.deepcopy(tiny_scenario)
    d["crs"] = "EPSG:3857"
    with pytest.raises(CRSError, match=r"EPSG:3857 .* does not keep areas") as caught:
        siting.run(d, progress=False)
    low, high = (float(v) for v in re.search(r"is ([\d.]+) to ([\d.]+) acres", str(caught.value)).groups())
    parcels = gpd.read_file(Path(d["base_dir"]) / d["layers"]["parcels"]["path"]).to_crs(4326)
    _, south, _, north = parcels.total_bounds
    def k2(lat):  # Mercator's areal scale on the WGS84 ellipsoid
        return (1 - 0.00669438 * np.sin(np.radians(lat)) ** 2) / np.cos(np.radians(lat)) ** 2

    # measured at the corners of the parcels' boxes (in EPSG:5070 they reach a little beyond the parcels)
    assert low == pytest.approx(k2(south), rel=0.01) and high == pytest.approx(k2(north), rel=0.01)
    assert any("does not keep areas" in p.message for p in check_scenario(d).errors)
    d["crs"] = "EPSG:5070"  # equal-area: no error from either
    assert not [p for p in check_scenario(d).errors if "keep areas" in p.message]
