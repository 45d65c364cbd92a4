"""Deliverables that open cleanly: maps in a real browser, GeoJSON, styled GeoPackage, static map, report."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from browser import CHROMIUM, inspect_map
from paths import ROOT
from rfc7946 import problems
from shapely import box

from siting.core.errors import ScenarioError
from siting.deliver.maps import site_map
from siting.io.writers import shapefile_names, write_shapefile

PAYLOADS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>", "a`b"]


def _payload_sites() -> gpd.GeoDataFrame:
    x0, y0 = -1.7e6, 1.9e6
    n = len(PAYLOADS)
    return gpd.GeoDataFrame({"site_id": PAYLOADS, "score": np.linspace(0.2, 0.9, n), "rank": range(1, n + 1),
                             "unit_name": PAYLOADS[::-1], "agency": PAYLOADS},
                            geometry=[box(x0 + i * 5000, y0, x0 + i * 5000 + 3000, y0 + 3000) for i in range(n)],
                            crs=5070)


def _offline_requests(path) -> tuple[list, dict]:
    """Open an offline map with every non-file request refused; return the requests and the page facts."""
    from browser import ARGS, COUNT_JS, OPEN_POPUP_JS, READY_JS
    from playwright.sync_api import sync_playwright

    asked, facts = [], {"errors": [], "dialogs": []}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page()
        page.on("request", lambda r: asked.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.on("console", lambda m: facts["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: facts["errors"].append(str(e)))
        page.on("dialog", lambda d: (facts["dialogs"].append(d.message), d.dismiss()))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_function(READY_JS, timeout=60_000)
        facts.update(page.evaluate(COUNT_JS))
        facts["popup_html"] = page.evaluate(OPEN_POPUP_JS)
        facts["img_x"] = page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length")
        page.wait_for_timeout(300)
        b.close()
    return asked, facts


@pytest.mark.browser
def test_offline_demo_map_needs_no_network(demo_result, tmp_path):
    path = tmp_path / "offline.html"
    demo_result.map(offline=True, tiles=None).save(str(path))
    asked, facts = _offline_requests(path)
    assert asked == [] and facts["errors"] == [] and facts["dialogs"] == []
    drawn = min(len(demo_result.sites), demo_result.scenario.outputs.map_max_sites)
    assert facts["sites"] == drawn  # the best as polygons; beyond max_sites every site is a clustered point
    assert "Score breakdown" in facts["popup_html"] and "weights perturbed" in facts["popup_html"]


@pytest.mark.browser
def test_payloads_neither_run_nor_break_the_page(tmp_path):
    path = tmp_path / "payload.html"
    m = site_map(_payload_sites(), tiles=None, offline=True, title=PAYLOADS[0], footer=PAYLOADS[1],
                 layers={PAYLOADS[0]: (_payload_sites(), "context")})
    m.save(str(path))
    asked, facts = _offline_requests(path)
    assert asked == [] and facts["dialogs"] == [] and facts["errors"] == [] and facts["img_x"] == 0
    assert facts["sites"] == len(PAYLOADS)
    assert "&lt;img src=x onerror=alert(1)&gt;" in facts["popup_html"]  # shown as text


@pytest.mark.browser
def test_online_map_loads_with_cdn_assets_and_draws_the_best_sites(demo_result, tmp_path):
    path = tmp_path / "online.html"
    demo_result.map(tiles=None).save(str(path))
    res = inspect_map(path)
    drawn = min(len(demo_result.sites), demo_result.scenario.outputs.map_max_sites)
    assert res["errors"] == [] and res["sites"] == drawn and res["dialogs"] == []


def test_large_results_stay_small_with_top_n_and_points(tmp_path):
    n = 100_000
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2e6, -1.4e6, n), rng.uniform(1.5e6, 2.3e6, n)
    score = rng.random(n)
    sites = gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(n)], "score": score,
                              "rank": (-score).argsort().argsort() + 1},
                             geometry=shapely.box(x, y, x + 1000, y + 1000), crs=5070)
    path = tmp_path / "big.html"
    site_map(sites, tiles=None, offline=True).save(str(path))
    html = path.read_text()
    assert path.stat().st_size < 25e6
    assert "best 2,000 of 100,000 sites" in html and html.count('"site_id"') == 2000
    assert "raise outputs.map_max_sites / map_max_points to draw more" in html  # how to lift the cap
    assert "siting-cluster" in html and "rgba(82,82,82" in html  # neutral bubbles, not a second score ramp


def test_offline_maps_refuse_web_tiles(grid_parcels):
    sites = grid_parcels.assign(site_id=list("abcde"), score=0.5, rank=range(1, 6))
    with pytest.raises(ScenarioError, match="no web tiles"):
        site_map(sites, tiles="OpenStreetMap", offline=True)
    html = site_map(sites, tiles="tiles/{z}/{x}/{y}.png", offline=True).get_root().render()  # local tiles are fine
    assert '"tiles/{z}/{x}/{y}.png"' in html and "tile.openstreetmap" not in html
    assert not re.search(r'<script src="https?://', html)  # and the page is still self-contained


def test_map_options_tier_colours_and_layer_groups(demo_result):
    html = demo_result.map(tiles=None, color_by="tier").get_root().render()
    assert html.count("L.featureGroup(") >= len(demo_result.layers) + 1
    assert "Failed agency_in" in html and "Excluded by outside_wilderness" in html
    assert "Control.FullScreen" in html and "leaflet-measure" in html
    with pytest.raises(ScenarioError):
        site_map(demo_result.sites, color_by="price")


def test_a_map_says_which_failure_layers_its_cap_left_out(demo_result, monkeypatch):
    from siting.deliver import result_map as rm

    monkeypatch.setattr(rm, "FAILURE_CAP", 1_000)  # the demo's 4,738 candidates: over this cap
    html = demo_result.map(tiles=None).get_root().render()
    assert "Not drawn: the failures of agency_in" in html and "every decision is in the ledger" in html
    assert "Failed agency_in" not in html and "Excluded by outside_wilderness" in html  # zones are still drawn


def test_geojson_passes_an_independent_validator(demo_out):
    import geojson

    text = (demo_out / "sites.geojson").read_text()
    doc = geojson.loads(text)
    assert doc.is_valid, doc.errors()
    assert problems(demo_out / "sites.geojson") == []


def test_geopackage_has_every_layer_and_qgis_styles(demo_result, demo_out):
    path = demo_out / "siting.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert {"sites", "candidates", "input_parcels", "input_deposits", "funnel", "ledger", "layer_styles"} <= set(layers)
    assert all(g is None or "Geometry" not in g for g in layers.values())  # one geometry type per layer
    styles = pyogrio.read_dataframe(path, layer="layer_styles")
    spatial = {n for n, g in layers.items() if g}
    assert set(styles["f_table_name"]) == spatial and styles["useAsDefault"].all()
    qml = styles.set_index("f_table_name").loc["sites", "styleQML"]
    root = ET.fromstring(qml.split(">", 1)[1])  # drop the DOCTYPE line
    assert root.find("renderer-v2").get("attr") == "score" and len(root.findall(".//range")) == 5
    assert len(gpd.read_file(path, layer="input_parcels")) == len(demo_result.layers["parcels"])


def test_geoparquet_and_csv_outputs(demo_result, demo_out):
    sites = gpd.read_parquet(demo_out / "sites.parquet")
    assert len(sites) == len(demo_result.sites) and sites.crs == demo_result.sites.crs
    csv = pd.read_csv(demo_out / "sites.csv")
    assert csv["lon"].between(-120.1, -114).all() and csv["lat"].between(35, 42.1).all()


def test_large_tables_go_to_geoparquet_and_caps_are_noted(demo_result, tmp_path):
    result = copy.copy(demo_result)
    caps = {"gpkg_max_rows": 300, "geojson_max_sites": 3, "map_max_sites": 5, "map_max_points": 10}
    outputs = demo_result.scenario.outputs.model_copy(update=caps)
    result.scenario = demo_result.scenario.model_copy(update={"outputs": outputs})
    out = result.save(tmp_path / "out", formats=["geojson", "gpkg", "html"])
    in_gpkg = {name for name, _ in pyogrio.list_layers(out / "siting.gpkg")}
    big = {"candidates": result.candidates, **{f"input_{k}": v for k, v in result.layers.items() if len(v) > 300}}
    assert len(big) >= 2 and "sites" in in_gpkg and "ledger" not in in_gpkg
    for name, frame in big.items():
        assert name not in in_gpkg
        assert pq.read_metadata(out / f"{name}.parquet").num_rows == len(frame)
    rule_cols = [c for c in result.candidates if c.endswith("__pass")]
    assert len(rule_cols) == result.ledger["rule"].nunique()  # the ledger's entries, as candidate columns
    small = [f"input_{k}" for k, v in result.layers.items() if len(v) <= 300]
    assert set(small) <= in_gpkg
    back = gpd.read_parquet(out / "candidates.parquet")
    assert back.crs == result.candidates.crs
    assert back["candidate_id"].tolist() == result.candidates["candidate_id"].tolist()
    top = gpd.read_file(out / "sites.geojson")
    assert top["site_id"].tolist() == result.sites.nsmallest(3, "rank")["site_id"].tolist()
    notes = json.loads((out / "run.json").read_text())["notes"]
    assert any("best 3 of" in n for n in notes)
    assert sum("parquet instead of siting.gpkg" in n for n in notes) == len(big)
    assert any("long-form ledger" in n and "__pass" in n for n in notes)
    assert f"Best 10 of {len(result.sites):,} sites" in (out / "map.html").read_text()


def test_shapefile_only_on_request_with_crosswalk(tmp_path, grid_parcels):
    assert shapefile_names(["suitability_score", "suitability_rank"]) == {
        "suitability_score": "suitabilit", "suitability_rank": "suitabil_1"}
    frame = grid_parcels.assign(suitability_score=0.5, suitability_rank=range(1, 6))
    shp, crosswalk = write_shapefile(frame, tmp_path / "sites.shp")
    back = gpd.read_file(shp)
    cw = pd.read_csv(crosswalk)
    assert dict(zip(cw["field"], cw["shapefile_field"], strict=True))["suitability_rank"] == "suitabil_1"
    assert back["suitabil_1"].tolist() == [1, 2, 3, 4, 5]
    assert (tmp_path / "sites.cpg").read_text().strip().upper().replace("-", "") == "UTF8"


@pytest.mark.slow
def test_static_map_png_and_pdf_from_the_cli(demo_out, tmp_path):
    from PIL import Image

    png, pdf = tmp_path / "map.png", tmp_path / "map.pdf"
    for out in (png, pdf):
        r = subprocess.run([sys.executable, "-m", "siting.cli", "map", str(demo_out), "--static", str(out)],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert r.returncode == 0, r.stderr
    with Image.open(png) as im:
        assert min(im.size) >= 1500  # 300 dpi
        arr = np.asarray(im.convert("RGB"), dtype=float)
    assert arr.std() > 20 and len(np.unique(arr.reshape(-1, 3), axis=0)) > 50  # not blank
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_html_report_from_the_cli(demo_out, demo_result):
    r = subprocess.run([sys.executable, "-m", "siting.cli", "report", str(demo_out)], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    html = (demo_out / "report.html").read_text()
    for section in ("Summary", "Funnel of rules", "Top sites", "Weight sensitivity", "Near misses",
                    "Input data: repairs", "Input data: rejected features"):
        assert f"<h2>{section}</h2>" in html
    assert demo_result.sites["site_id"].iloc[0] in html and "data:image/png;base64," in html
    assert "coordinates not numeric" in html  # every rejection is listed


def test_notebook_repr_is_compact(demo_result):
    html = demo_result._repr_html_()
    assert len(html) < 20_000 and "<table" in html and "SitingResult" in html


@pytest.mark.slow
def test_run_with_offline_map_flag(tmp_path):
    from paths import DEMO

    out = tmp_path / "off"
    r = subprocess.run([sys.executable, "-m", "siting.cli", "-q", "run", str(DEMO), "--out", str(out), "--offline-map"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    html = (out / "map.html").read_text()
    assert "cdn.jsdelivr.net" not in html.split("<body>")[0] and 'src="https://' not in html
    assert json.loads((out / "run.json").read_text())["files"]["map.html"]["bytes"] > 1e6


@pytest.mark.slow
def test_line_and_point_parts_left_by_overlays_are_dropped_and_counted(tmp_path, tiny_result):
    import dataclasses

    from shapely import GeometryCollection, LineString, Point

    from siting.core.errors import SitingWarning

    sites = tiny_result.sites.copy()
    first = sites.geometry.iloc[0]
    x, y = first.exterior.coords[0]
    sites.loc[sites.index[0], "geometry"] = GeometryCollection([first, LineString([(x, y), (x + 50, y)]), Point(x, y)])
    result = dataclasses.replace(tiny_result, sites=sites)
    with pytest.warns(SitingWarning, match="1 feature"):
        out = result.save(tmp_path / "out", formats=["geojson", "gpkg"])
    for frame in (gpd.read_file(out / "sites.geojson"), gpd.read_file(out / "siting.gpkg", layer="sites")):
        assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"} and len(frame) == len(sites)
    back = gpd.read_file(out / "siting.gpkg", layer="sites").to_crs(sites.crs).set_index("site_id")
    assert back.loc[sites["site_id"].iloc[0]].geometry.area == pytest.approx(first.area, rel=1e-6)
    notes = json.loads((out / "run.json").read_text())["notes"]
    assert any("1 site(s) had line or point parts" in n for n in notes)
    assert sites.geom_type.iloc[0] == "GeometryCollection"  # the result itself is untouched
