"""read_layer: formats, CRS handling, canonical columns, accounting, errors."""

from __future__ import annotations

import inspect

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import Point, Polygon, box

import siting
from siting.core.errors import CRSError, FieldError, GeometryError, InputFileError, LayerError, SitingWarning
from siting.io.layers import load_layer


@pytest.mark.parametrize("suffix,driver", [(".gpkg", "GPKG"), (".geojson", "GeoJSON"),
                                           (".shp", "ESRI Shapefile")])
def test_formats_give_same_canonical_parcels(tmp_path, padus_raw, suffix, driver):
    path = tmp_path / f"parcels{suffix}"
    pyogrio.write_dataframe(padus_raw, path, driver=driver)
    out = siting.read_layer(path, name="parcels")
    assert out.crs.to_epsg() == 5070
    assert out["agency"].tolist() == ["BLM", "BLM", "NPS", "DOD"]
    assert out["gap_status"].tolist() == [3, 2, 1, 4]
    assert out["parcel_id"].tolist() == ["1", "2", "3", "4"]
    assert set(out.geom_type) == {"MultiPolygon"}
    # area in the equal-area CRS agrees with the reported acreage order of magnitude (5 x 5 km)
    acres = out.area / 4046.8564224
    assert ((acres > 4000) & (acres < 9000)).all()


def test_input_frame_not_mutated(padus_raw):
    before = padus_raw.copy()
    siting.read_layer(padus_raw, name="parcels")
    pd.testing.assert_frame_equal(padus_raw.drop(columns="geometry"), before.drop(columns="geometry"))
    assert padus_raw.geometry.equals(before.geometry)
    assert padus_raw.crs == before.crs


def test_working_crs_override_and_auto(padus_raw):
    assert siting.read_layer(padus_raw, working_crs="EPSG:32611").crs.to_epsg() == 32611
    ak = padus_raw.set_geometry(padus_raw.translate(-150 - (-117.3), 61 - 38.0))
    assert siting.read_layer(ak, name="ak").crs.to_epsg() == 3338


def test_geographic_working_crs_refused(padus_raw):
    with pytest.raises(CRSError, match="projected"):
        siting.read_layer(padus_raw, working_crs="EPSG:4326")


def test_missing_crs_names_layer_and_file(tmp_path, padus_raw):
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(padus_raw, path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError) as exc:
        siting.read_layer(path, name="parcels")
    msg = str(exc.value)
    assert "parcels" in msg and "noprj.shp" in msg and "crs:" in msg
    # giving the CRS fixes it
    assert len(siting.read_layer(path, name="parcels", crs="EPSG:4326")) == 4


def test_missing_required_field_lists_missing_and_available(padus_raw):
    raw = padus_raw.drop(columns=["OBJECTID"])
    with pytest.raises(FieldError) as exc:
        siting.read_layer(raw, name="parcels", id_field="PARCEL_NO")
    msg = str(exc.value)
    assert "PARCEL_NO" in msg and "Mang_Name" in msg and "available fields" in msg


def test_source_override_and_wrong_geometry_family():
    pts = gpd.GeoDataFrame({"Mang_Name": ["BLM"]}, geometry=[Point(-117, 38)], crs=4326)
    with pytest.raises(GeometryError, match="polygon"):
        siting.read_layer(pts, source="padus", name="parcels")
    assert siting.read_layer(pts, source="generic", name="pts")["kind"].tolist() == ["pts"]


def test_csv_latlon_default_crs_and_rejects(tmp_path):
    csv = tmp_path / "deposits.csv"
    csv.write_text("dep_id,site_name,latitude,longitude,commod1,dev_stat\n"
                   "1,A,39.5,-117.2,Tungsten,Producer\n"
                   "2,B,N/A,-117.0,Gold,Prospect\n"
                   "3,C,0,0,Gold,Prospect\n"
                   "4,D,38.1,-116.9,\"Lithium, Boron-Borates\",Occurrence\n")
    loaded = load_layer(csv, name="deposits")
    assert loaded.report.source == "mrds"
    assert loaded.frame["deposit_id"].tolist() == ["1", "4"]
    assert loaded.frame["commodities"].tolist() == ["tungsten", "lithium;boron"]
    reasons = dict(zip(loaded.rejects["src_row"], loaded.rejects["reason"], strict=True))
    assert reasons[1] == "coordinates not numeric" and "placeholder" in reasons[2]
    r = loaded.report
    assert (r.read, r.kept + r.repaired, r.rejected) == (4, 2, 2)


def test_multilayer_gpkg_needs_layer(tmp_path, padus_raw):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(padus_raw, path, layer="a")
    pyogrio.write_dataframe(padus_raw, path, layer="b")
    with pytest.raises(LayerError, match="a, b"):
        siting.read_layer(path, name="parcels")
    assert len(siting.read_layer(path, name="parcels", layer="b")) == 4


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        siting.read_layer(tmp_path / "nope.gpkg")


def test_duplicate_ids_error_or_dedupe(padus_raw):
    dup = padus_raw.assign(OBJECTID=[1, 1, 2, 3])
    with pytest.raises(FieldError, match="duplicate"):  # a configured id must be unique
        siting.read_layer(dup, name="parcels", id_field="OBJECTID")
    loaded = load_layer(dup, name="parcels", id_field="OBJECTID", dedupe=True)
    assert len(loaded.frame) == 3 and loaded.rejects["reason"].str.contains("duplicate").sum() == 1
    # a natural id that repeats is replaced by row numbers, and the report says so
    natural = load_layer(dup, name="parcels")
    assert natural.frame["parcel_id"].is_unique and len(natural.frame) == 4
    assert any(i["problem"] == "missing or repeated ids" and i["count"] == 2 for i in natural.report.issues)


def test_invalid_geometry_repaired_and_counted():
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    raw = gpd.GeoDataFrame({"Mang_Name": ["BLM", "BLM"], "OBJECTID": [1, 2]},
                           geometry=[bowtie, box(0, 0, 10, 10)], crs=5070)
    loaded = load_layer(raw, name="parcels")
    assert loaded.report.repaired == 1 and loaded.report.kept == 1
    assert loaded.frame.is_valid.all() and (loaded.frame.area > 0).all()
    with pytest.raises(GeometryError, match="invalid"):
        load_layer(raw, name="parcels", on_invalid="raise")
    dropped = load_layer(raw, name="parcels", on_invalid="drop")
    assert len(dropped.frame) == 1 and dropped.report.rejected == 1


def test_a_warning_points_at_the_users_own_line():
    # a notebook shows the file and line a warning is attributed to: the call the user wrote, not siting's insides
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    raw = gpd.GeoDataFrame({"Mang_Name": ["BLM"]}, geometry=[bowtie], crs=5070)
    with pytest.warns(SitingWarning, match="repaired") as caught:
        line = inspect.currentframe().f_lineno + 1
        load_layer(raw, name="parcels")
    said = [w for w in caught if issubclass(w.category, SitingWarning)]
    assert [(w.filename, w.lineno) for w in said] == [(__file__, line)] * len(said)


def test_layer_where_filter_is_safe_and_counted(padus_raw):
    loaded = load_layer(padus_raw, name="parcels", where="agency == 'BLM'")
    assert loaded.report.filtered == 2 and len(loaded.frame) == 2
    r = loaded.report
    assert r.read == r.kept + r.repaired + r.rejected + r.filtered


def test_sentinels_become_na_with_counts():
    raw = gpd.GeoDataFrame({"VOLTAGE": [345.0, -999999.0], "VOLT_CLASS": ["345", "NOT AVAILABLE"],
                            "STATUS": ["IN SERVICE", "IN SERVICE"], "OBJECTID": [1, 2]},
                           geometry=[Point(0, 0).buffer(1).exterior, Point(5, 5).buffer(1).exterior],
                           crs=5070)
    loaded = load_layer(raw, name="lines")
    assert loaded.report.source == "hifld_transmission"
    assert np.isnan(loaded.frame["voltage_kv"].iloc[1])
    counts = {i["problem"]: i["count"] for i in loaded.report.issues}
    assert counts["sentinel -999999"] == 1


def test_a_semicolon_csv_with_decimal_commas_loads_the_same_features_as_its_original(tmp_path):
    from paths import SAMPLE

    original = pd.read_csv(SAMPLE / "mrds_deposits.csv", dtype=str, keep_default_na=False)
    for col in ("latitude", "longitude"):  # as a European spreadsheet saves it: decimal commas, ';' between fields
        original[col] = original[col].str.replace(".", ",", regex=False)
    original.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    comma, semi = load_layer(SAMPLE / "mrds_deposits.csv", name="d"), load_layer(tmp_path / "semi.csv", name="d")
    assert semi.report.source == "mrds" and len(semi.frame) == len(comma.frame) > 500
    assert semi.frame["deposit_id"].tolist() == comma.frame["deposit_id"].tolist()
    assert semi.frame.geometry.geom_equals(comma.frame.geometry).all()


def test_a_table_pandas_cannot_parse_is_an_error_naming_layer_and_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("dep_id,latitude,longitude\n1,39.5,-117.2\n2,38.0,-117.0,extra,fields\n")
    with pytest.raises(InputFileError, match=r"layer 'd': .*bad.csv cannot be read as a table with delimiter ','"):
        load_layer(bad, name="d")


def test_a_csv_that_is_not_utf8_is_read_as_latin1_with_a_warning(tmp_path):
    from siting.core.errors import SitingWarning

    p = tmp_path / "latin.csv"
    p.write_bytes("dep_id,site_name,latitude,longitude\n1,Peña Blanca,39.5,-117.2\n".encode("latin-1"))
    with pytest.warns(SitingWarning, match=r"layer 'd': latin.csv is not UTF-8; read as Latin-1"):
        loaded = load_layer(p, name="d")
    assert "Peña Blanca" in loaded.frame.to_string()
