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

# the last is a literal backslash-u escape: the page's compact JSON (folium_adapter.compact_escapes) keeps it text
PAYLOADS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>", "a`b",
            r"\u003cimg src=x onerror=alert(3)\u003e"]


def _payload_sites() -> gpd.GeoDataFrame:
    x0, y0 = -1.7e6, 1.9e6
    n = len(PAYLOADS)
    return gpd.GeoDataFrame({"site_id": PAYLOADS, "score": np.linspace(0.2, 0.9, n), "rank": range(1, n + 1),
                             "unit_name": PAYLOADS[::-1], "agency": PAYLOADS},
                            geometry=[box(x0 + i * 5000, y0, x0 + i * 5000 + 3000, y0 + 3000) for i in range(n)],
                            crs=5070)


BASEMAP_JS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  let counties = 0, towns = 0;
  map.eachLayer(l => {
    const tip = l.feature && l.feature.properties.tooltip;
    if (tip && / County$/.test(tip)) counties++;
    if (tip && /\\(pop\\. \\d+\\)$/.test(tip)) towns++;
  });
  return {counties, towns};
}"""


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
        facts.update(page.evaluate(BASEMAP_JS))
        facts["popup_html"] = page.evaluate(OPEN_POPUP_JS)
        facts["img_x"] = page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length")
        page.wait_for_timeout(300)
        b.close()
    return asked, facts


@pytest.mark.browser
@pytest.mark.parametrize("how", ["map.html", {}, {"offline": True}])
def test_demo_map_draws_basemap_and_every_site_with_the_network_blocked(demo_result, demo_out, tmp_path, how):
    path = demo_out / "map.html" if how == "map.html" else tmp_path / "map.html"  # siting run's, or made here
    if how != "map.html":
        demo_result.map(**how).save(str(path))  # the defaults, and offline=True on its own
    asked, facts = _offline_requests(path)
    assert asked == [] and facts["errors"] == [] and facts["dialogs"] == []
    n, cap = len(demo_result.sites), demo_result.scenario.outputs.map_max_sites
    assert facts["sites"] == min(n, cap)  # the best as polygons ...
    assert facts["clustered"] == (n if n > cap else 0)  # ... and beyond the cap every site as a clustered point
    assert facts["counties"] > 0 and facts["towns"] > 0  # the packaged basemap, drawn
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


def test_maps_are_self_contained_with_web_tiles_off_until_ticked():
    sites = _payload_sites()  # in Nevada
    html = site_map(sites).get_root().render()  # the defaults
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)  # every asset inlined
    assert "tile.openstreetmap.org" in html  # offered as a layer ...
    assert re.search(r'"Web tiles: OpenStreetMap \(needs internet\)"', html)  # ... listed, not added to the map
    offline = site_map(sites, offline=True).get_root().render()
    assert "tile.openstreetmap" not in offline and "Nevada" in offline  # no web tiles at all; the basemap is there
    local = site_map(sites, tiles="tiles/{z}/{x}/{y}.png", offline=True).get_root().render()  # local tiles are fine
    assert '"tiles/{z}/{x}/{y}.png"' in local
    cdn = site_map(sites, cdn=True).get_root().render()
    assert re.search(r'<script src="https://', cdn)
    with pytest.raises(ScenarioError, match="choose one"):
        site_map(sites, offline=True, cdn=True)


def test_map_options_tier_colours_and_layer_groups(demo_result):
    html = demo_result.map(tiles=None, color_by="tier").get_root().render()
    assert html.count("L.featureGroup(") >= len(demo_result.layers) + 1
    assert "Failed agency_in" in html and "Excluded by outside_wilderness" in html
    assert "Control.FullScreen" in html and "leaflet-measure" in html
    with pytest.raises(ScenarioError):
        site_map(demo_result.sites, color_by="price")


def test_a_map_says_what_each_cap_left_out_and_how_to_lift_it(demo_result):
    html = demo_result.map(max_failures=1_000, max_features=100, basemap=False).get_root().render()
    assert "Not drawn: the failures of agency_in" in html and "every decision is in the ledger" in html
    assert "result.map(max_failures=...) draws them" in html  # the demo's 4,738 candidates: over this cap
    assert "Failed agency_in" not in html and "Excluded by outside_wilderness" in html  # zones are still drawn
    n_parcels = len(demo_result.layers["parcels"])
    assert f"Parcels (first 100 of {n_parcels:,})" in html  # an input layer over its feature cap says so ...
    assert "result.map(max_features=..., max_vertices=...) draws more" in html  # ... and the footer how to lift it


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


@pytest.mark.slow  # saves the demo
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


@pytest.mark.parametrize("kind", ["str", "object", "category"])
def test_shapefile_text_cut_at_254_characters_is_a_warning_with_the_count(tmp_path, grid_parcels, kind):
    # pandas 3 reads text as its `str` dtype, which a check for object columns missed: the cut was silent
    from siting.core.errors import SitingWarning

    frame = grid_parcels.copy()
    frame["note"] = pd.Series(["x" * 300, "short", "y" * 255, None, "z"], dtype=kind, index=frame.index)
    assert str(frame["note"].dtype) == kind
    with pytest.warns(SitingWarning, match=r"2 value\(s\) of 'note' are cut"):
        shp, _ = write_shapefile(frame, tmp_path / "sites.shp")
    assert gpd.read_file(shp)["note"].str.len().max() == 254


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


@pytest.mark.slow  # a subprocess drawing the report's charts and map
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
def test_run_with_offline_map_flag(tmp_path, tiny_yaml):
    out = tmp_path / "off"
    r = subprocess.run([sys.executable, "-m", "siting.cli", "-q", "run", str(tiny_yaml), "--out", str(out),
                        "--offline-map"], capture_output=True, text=True, timeout=300, cwd=ROOT)
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


def test_report_tables_by_rank_scroll_and_say_why_a_chart_is_missing(tiny_result, tmp_path, monkeypatch):
    import siting.deliver.report as report

    sites = report._sites(tiny_result)
    assert sites["rank"].is_monotonic_increasing  # sorted by rank, not by id
    decimals = sites["lon"].astype(str).str.split(".").str[1].str.len()
    assert decimals.max() == 5  # coordinates to 5 decimals (about 1 m)
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.pyplot"):  # as if siting[plot] were not installed
        monkeypatch.setitem(sys.modules, name, None)
    html = report.write_report(tiny_result, tmp_path / "report.html").read_text()
    assert "data:image/png" not in html
    curves = len(tiny_result.analysis.get("relaxation", {}))
    charts = curves + int(tiny_result.analysis.get("sensitivity") is not None) + 1  # and the static map
    assert html.count("chart not drawn: pip install") == charts  # each chart, or a note saying why not
    assert html.count("<div class='scroll'><table") >= 3  # wide tables scroll inside the page
    out = tiny_result.save(tmp_path / "out", formats=["geojson"])
    notes = json.loads((out / "run.json").read_text())["notes"]
    assert any("matplotlib is not installed" in n and "siting[plot]" in n for n in notes)


def test_report_says_when_a_run_asked_for_no_chart(tmp_path):
    import siting
    from siting.deliver.report import write_report

    result = siting.run({"name": "bare", "base_dir": str(ROOT / "sample_data"),
                         "layers": {"parcels": {"path": "federal_lands.gpkg"}},
                         "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}, progress=False)
    html = write_report(result, tmp_path / "report.html").read_text()
    assert "none: the scenario asks for no relaxation curve" in html
    assert "none: the scenario asks for no weight sensitivity" in html
