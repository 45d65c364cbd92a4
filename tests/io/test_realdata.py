"""Every real federal file in SITING_REALDATA through read_layer, and the real-data scenario.

Skipped with a reason when the folder is absent; CI sets SITING_REALDATA.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyogrio
import pytest
from oracle import agrees, ground_distance

from siting.core.errors import CRSError
from siting.io.layers import load_layer
from siting.io.sources import CANONICAL

pytestmark = pytest.mark.realdata

# files published without a CRS, and the CRS their documentation gives
NO_CRS = {"census_boundaries/us_atlas_counties-10m.topojson.json": "EPSG:4326",
          "census_boundaries/us_atlas_states-10m.topojson.json": "EPSG:4326",
          "padus_sample_yosemite/protected_area_1.json": "EPSG:4326",
          "padus_sample_yosemite/protected_area_2.json": "EPSG:4326"}
# relational tables without coordinates (not vector files)
TABLES = {"Dep_Model.csv", "Descr_Sum.csv", "GeolMinOcc.csv", "History.csv", "Loc_Poly.csv",
          "Loc_Poly_Sw.csv", "Production.csv", "References.csv", "Resources.csv",
          "critical_minerals_2022.csv", "critical_minerals_2025.csv"}
# file[:layer] -> (source, canonical kind, features read) ; counts from the PROVENANCE files
EXPECTED = {
    "census_boundaries/nv_counties.geojson": ("generic", "features", 17),
    "census_boundaries/nv_state.geojson": ("generic", "features", 1),
    "census_boundaries/us_atlas_counties-10m.topojson.json:counties": ("generic", "features", 3231),
    "census_boundaries/us_atlas_counties-10m.topojson.json:states": ("generic", "features", 56),
    "census_boundaries/us_atlas_counties-10m.topojson.json:nation": ("generic", "features", 1),
    "census_boundaries/us_atlas_states-10m.topojson.json:states": ("generic", "features", 56),
    "census_boundaries/us_atlas_states-10m.topojson.json:nation": ("generic", "features", 1),
    "dem_zion_srtm/zion_nps_boundary.gpkg": ("generic", "features", 1),
    "hifld_transmission_indiana_sample/transmission_lines_indiana.geojson":
        ("hifld_transmission", "infrastructure", 1095),
    "inl_doe_idaho/inl_cities.geojson": ("generic", "features", 11),
    "inl_doe_idaho/inl_esrp.geojson": ("generic", "features", 1),
    "inl_doe_idaho/inl_facilities.geojson": ("generic", "features", 7),
    "inl_doe_idaho/inl_inl.geojson": ("generic", "features", 1),
    "inl_doe_idaho/inl_vectors_idaho_aea.gpkg:inl": ("generic", "features", 1),
    "inl_doe_idaho/inl_vectors_idaho_aea.gpkg:facilities": ("generic", "features", 7),
    "inl_doe_idaho/inl_vectors_idaho_aea.gpkg:cities": ("generic", "features", 11),
    "inl_doe_idaho/inl_vectors_idaho_aea.gpkg:esrp": ("generic", "features", 1),
    "mirta_dod_sites/FY18_MIRTA_Points.csv": ("mirta_points", "infrastructure", 810),
    "mirta_dod_sites/mirta_points_nv.geojson": ("mirta_points", "infrastructure", 13),
    "mrds_tungsten_minmod/full_MRDS.csv": ("mrds_minmod", "deposits", 1694),
    "mrds_tungsten_minmod/mrds_tungsten_nv.geojson": ("mrds_minmod", "deposits", 1062),
    "narn_rail_siskiyou_ca/narn_rail_lines_siskiyou_ca.geojson": ("narn", "infrastructure", 193),
    "natural_earth/ne_10m_lakes_north_america_nv.geojson": ("natural_earth", "infrastructure", 3),
    "natural_earth/ne_10m_lakes_nv.geojson": ("natural_earth", "infrastructure", 5),
    "natural_earth/ne_10m_parks_and_protected_lands_area.geojson": ("natural_earth", "infrastructure", 61),
    "natural_earth/ne_10m_populated_places_nv.geojson": ("natural_earth", "infrastructure", 10),
    "natural_earth/ne_10m_railroads_nv.geojson": ("natural_earth", "infrastructure", 7),
    "natural_earth/ne_10m_rivers_lake_centerlines_nv.geojson": ("natural_earth", "infrastructure", 6),
    "natural_earth/ne_10m_rivers_north_america_nv.geojson": ("natural_earth", "infrastructure", 21),
    "natural_earth/ne_50m_us_states.geojson": ("natural_earth", "infrastructure", 51),
    "norcal_mrds_usmin_claims/blm_mining_claims_active_nw_california.geojson":
        ("blm_claims", "infrastructure", 823),
    "norcal_mrds_usmin_claims/mrds_wfs_nw_california.csv": ("mrds_wfs", "deposits", 4330),
    "norcal_mrds_usmin_claims/mrds_wfs_nw_california.geojson": ("mrds_wfs", "deposits", 4330),
    "norcal_mrds_usmin_claims/mrds_wfs_nw_california.gml.xml": ("mrds_wfs", "deposits", 4330),
    "norcal_mrds_usmin_claims/usmin_topo_features_klamath_norcal.shp": ("usmin", "infrastructure", 4404),
    "padus_fee_managers_norcal/padus_fee_managers_siskiyou.geojson": ("padus", "parcels", 44),
    "padus_great_basin_managers/great_basin_desert_boundary.geojson": ("generic", "features", 1),
    "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson": ("padus", "parcels", 8),
    "padus_great_basin_managers/padus3_great_basin_by_manager.geojson": ("padus", "parcels", 26),
    "padus_great_basin_managers/padus3_great_basin_by_manager_aea.gpkg": ("padus", "parcels", 26),
    "padus_great_basin_managers/padus3_saline_lake_watersheds_by_manager.geojson": ("padus", "parcels", 190),
    "padus_great_basin_managers/saline_lakes.geojson": ("nhd", "infrastructure", 20),
    "padus_hifld_kansas_sample/hifld_transmission_lines_el_dorado_ks.geojson":
        ("hifld_transmission", "infrastructure", 16),
    "padus_hifld_kansas_sample/padus_protected_areas_el_dorado_ks.geojson": ("padus", "parcels", 17),
    "padus_sample_yosemite/padus_yosemite.geojson": ("generic", "features", 2),  # no attributes kept
    "padus_sample_yosemite/protected_area_1.json": ("padus", "parcels", 1),
    "padus_sample_yosemite/protected_area_2.json": ("padus", "parcels", 1),
    "tiger_roads_nv/tl_2016_32_prisecroads.shp": ("tiger_roads", "infrastructure", 1257),
    "usgs_lithium_deposits_us/Loc_Pt.csv": ("usgs_lithium", "deposits", 61),
    "usgs_lithium_deposits_us/Site.csv": ("usgs_lithium", "deposits", 21),
    "usgs_lithium_deposits_us/lithium_features_nv.geojson": ("usgs_lithium", "deposits", 14),
    "usgs_lithium_deposits_us/lithium_sites_us.geojson": ("usgs_lithium", "deposits", 21),
    "usgs_tungsten_great_basin/GBW_MRDS.csv": ("mrds_groups", "deposits", 764),
    "usgs_tungsten_great_basin/gbw_tungsten_nv.geojson": ("mrds_groups", "deposits", 416),
}


def _split(key):
    path, _, layer = key.partition(":")
    return path, layer or None


def _load(realdata, key, **kw):
    path, layer = _split(key)
    return load_layer(realdata / path, layer=layer, name=layer or os.path.basename(path),
                      crs=NO_CRS.get(path), **kw)


def test_expected_table_covers_every_vector_file(realdata):
    exts = {".geojson", ".gpkg", ".shp", ".csv", ".json"}
    found = {str(p.relative_to(realdata)) for p in realdata.rglob("*")
             if (p.suffix.lower() in exts or p.name.endswith(".gml.xml")) and p.name not in TABLES}
    listed = {_split(k)[0] for k in EXPECTED}
    assert found == listed and set(EXPECTED) >= HEAVY


#: The files that take about 3 s each to load: CI loads them with the slow tests.
HEAVY = {"census_boundaries/us_atlas_counties-10m.topojson.json:counties",
         "padus_great_basin_managers/padus3_great_basin_by_manager.geojson",
         "padus_great_basin_managers/padus3_great_basin_by_manager_aea.gpkg"}


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.slow) if k in HEAVY else k
                                 for k in sorted(EXPECTED)])
def test_every_file_loads_with_source_columns_and_counts(realdata, key):
    source, kind, n = EXPECTED[key]
    got = _load(realdata, key)
    r = got.report
    assert (r.source, r.kind, r.read) == (source, kind, n)
    assert r.read == r.kept + r.repaired + r.rejected + r.filtered
    assert len(got.frame) == r.kept + r.repaired
    assert set(CANONICAL[kind]) <= set(got.frame.columns)
    assert got.frame.crs.is_projected and got.frame.is_valid.all()
    assert len(got.rejects) == r.rejected and got.rejects["reason"].notna().all()


@pytest.mark.parametrize("path", sorted(NO_CRS))
def test_files_without_crs_are_an_error_naming_layer_and_file(realdata, path):
    layer = "states" if path.endswith("topojson.json") else None
    with pytest.raises(CRSError) as exc:
        load_layer(realdata / path, layer=layer, name="boundaries")
    assert "boundaries" in str(exc.value) and os.path.basename(path) in str(exc.value)
    assert "crs:" in str(exc.value)


@pytest.mark.slow  # 4-8 s on the real files; runs in CI's slow set
def test_agency_vocabulary_on_real_padus(realdata):
    nv = _load(realdata, "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson").frame
    assert dict(zip(nv["manager_name"], nv["agency"], strict=True)) == {
        "Bureau of Land Management": "BLM", "Forest Service": "USFS", "Department of Defense": "DOD",
        "Department of Energy": "DOE", "U.S. Fish and Wildlife Service": "FWS",
        "Bureau of Reclamation": "BOR", "National Park Service": "NPS",
        "Natural Resources Conservation Service": "NRCS"}
    gb = _load(realdata, "padus_great_basin_managers/padus3_great_basin_by_manager.geojson").frame
    m = dict(zip(gb["manager_name"], gb["agency"], strict=True))
    assert m["State Fish and Wildlife"] == "STATE" and m["Army Corps of Engineers"] == "USACE"
    assert m["American Indian Lands"] == "TRIB" and m["Private"] == "PRIVATE"
    ks = _load(realdata, "padus_hifld_kansas_sample/padus_protected_areas_el_dorado_ks.geojson").frame
    assert ks.loc[ks["unit_name"] == "El Dorado Lake", "agency"].tolist() == ["USACE"]
    assert ks["gap_status"].tolist() == [4] * 17  # GAP_Sts arrives as text "4"
    norcal = _load(realdata, "padus_fee_managers_norcal/padus_fee_managers_siskiyou.geojson").frame
    assert set(norcal["agency"]) == {"BLM", "USFS", "FWS", "NPS", "TRIB"}


def _rel(frame) -> np.ndarray:
    rep = frame["reported_acres"].to_numpy(float)
    return frame.area.to_numpy() / 4046.8564224 / rep - 1


@pytest.mark.slow  # 4-8 s on the real files; runs in CI's slow set
def test_reported_acreage_matches_measured_area(realdata):
    nv = _load(realdata, "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson").frame
    assert np.abs(_rel(nv)).max() < 0.001  # producer measured in EPSG:5070 too
    yos = _load(realdata, "padus_sample_yosemite/protected_area_1.json").frame
    assert abs(_rel(yos)[0]) < 0.001
    ks = _load(realdata, "padus_hifld_kansas_sample/padus_protected_areas_el_dorado_ks.geojson").frame
    big = ks["reported_acres"] >= 1000  # GIS_Acres are whole acres: small parks differ by rounding
    assert np.abs(_rel(ks[big])).max() < 0.01
    gb = _load(realdata, "padus_great_basin_managers/padus3_great_basin_by_manager.geojson").frame
    total = gb.area.sum() / 4046.8564224 / gb["reported_acres"].sum() - 1
    assert abs(total) < 0.001  # simplified outlines: per-feature areas drift, the total holds


@pytest.mark.slow  # 4-8 s on the real files; runs in CI's slow set
def test_invalid_polygons_as_published_are_repaired_with_counts(realdata):
    key = "padus_great_basin_managers/padus3_great_basin_by_manager.geojson"
    got = _load(realdata, key)
    raw = pyogrio.read_dataframe(realdata / key)
    assert got.report.repaired == int((~raw.is_valid).sum()) == 9
    issue = next(i for i in got.report.issues if i["field"] == "geometry")
    assert issue["count"] == 9 and 0 < len(issue["examples"]) <= 5
    assert got.frame.is_valid.all()


def test_hifld_sentinels_become_na_with_counts(realdata):
    path = realdata / "hifld_transmission_indiana_sample/transmission_lines_indiana.geojson"
    raw = pyogrio.read_dataframe(path)
    got = load_layer(path, name="lines")
    n_sentinel = int((raw["VOLTAGE"] == -999999).sum())
    assert n_sentinel > 0
    assert int(got.frame["voltage_kv"].isna().sum()) == n_sentinel
    counts = {i["problem"]: i["count"] for i in got.report.issues}
    assert counts["sentinel -999999"] == n_sentinel
    assert counts["placeholder 'NOT AVAILABLE'"] == int((raw["VOLT_CLASS"] == "NOT AVAILABLE").sum())


def test_mrds_code_list_commodities(realdata):
    path = realdata / "norcal_mrds_usmin_claims/mrds_wfs_nw_california.csv"
    raw = pd.read_csv(path)
    got = load_layer(path, name="mrds", commodities=["W"])
    n_w = int(raw["code_list"].fillna("").str.split().map(lambda c: "W" in c).sum())
    assert len(got.frame) == n_w and got.report.filtered == len(raw) - n_w
    assert got.frame["commodities"].str.contains("tungsten").all() and got.frame["critical"].all()


def test_mirta_names_dod_parcels(realdata):
    import geopandas as gpd

    from siting.io.sources import name_installations

    nv = _load(realdata, "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson").frame
    pts = load_layer(realdata / "mirta_dod_sites/mirta_points_nv.geojson", name="dod",
                     working_crs=nv.crs).frame
    assert name_installations(nv, pts, crs=nv.crs)[nv["agency"] != "DOD"].isna().all().all()
    # each part of the DoD holding gets one name: the installation inside it, else the nearest, with the distance
    parts = nv[nv["agency"] == "DOD"].explode(index_parts=False).reset_index(drop=True)
    named = name_installations(parts, pts, crs=parts.crs)
    names, dist = named["installation"], named["installation_m"]
    assert names.notna().all() and not names.str.contains(";").any()
    assert names.str.contains("Nellis").any() and names.str.contains("Fallon").any()
    inside, point = pts.sindex.query(parts.geometry, predicate="contains")
    alone = pd.Series(inside).map(pd.Series(inside).value_counts()) == 1
    for part, pt in zip(inside[alone], point[alone], strict=True):
        assert names.iloc[part] == pts["name"].iloc[pt] and dist.iloc[part] == 0
    assert alone.any() and isinstance(pts, gpd.GeoDataFrame)
    outside = np.setdiff1d(np.arange(len(parts)), inside)
    for part in outside[:25]:  # named from afar: the distance to that point, on the ground
        pt = pts.geometry[pts["name"] == names.iloc[part]].iloc[0]
        assert agrees(dist.iloc[part], ground_distance(parts.geometry.iloc[part], pt, parts.crs))


def test_dem_in_feet_and_geographic_dem(realdata):
    from siting.geo.raster import load_raster, zonal_stats

    inl = load_raster(realdata / "inl_doe_idaho/inl_dem_100m_ft.tif", working_crs="EPSG:5070",
                      z_factor=0.3048)
    lo, hi = float(inl.values.min()), float(inl.values.max())
    assert 1300 < lo < 1400 and 3600 < hi < 3750  # 4413-12128 ft
    zion = load_raster(realdata / "dem_zion_srtm/srtm_zion.tif", working_crs="EPSG:5070",
                       derive="slope_percent")
    park = load_layer(realdata / "dem_zion_srtm/zion_nps_boundary.gpkg", name="zion").frame
    st = zonal_stats(zion, park.geometry.values, ["median", "p90", "count"])
    assert 10 < st["median"].iloc[0] < 80 and st["p90"].iloc[0] > st["median"].iloc[0]
    assert st["count"].iloc[0] > 10_000  # ~590 km2 at ~85 m pixels


@pytest.mark.slow
def test_nevada_real_scenario_end_to_end(realdata, tmp_path, monkeypatch):
    import json

    from paths import SAMPLE

    import siting

    monkeypatch.setenv("SITING_REALDATA", str(realdata))
    result = siting.run(SAMPLE / "nevada_real.yaml", progress=False)
    assert len(result.sites) > 10
    f = result.funnel
    assert f["acres_in"].iloc[0] == pytest.approx(f["acres_out"].iloc[-1] + f["acres_removed"].sum())
    assert result.audit()["balanced"].all()
    assert result.layers["deposits"]["source"].nunique() == 2
    assert result.candidates["installation"].dropna().str.contains("Nellis").any()
    out = result.save(tmp_path / "nv")
    run = json.loads((out / "run.json").read_text())
    assert {r["source"] for reps in run["layers"].values() for r in reps} >= {"padus", "mrds_minmod",
                                                                               "usgs_lithium", "tiger_roads"}
