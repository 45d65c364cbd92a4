"""Deliverables: GeoJSON per RFC 7946, GeoPackage round trip, atomic writes, escaped maps."""

from __future__ import annotations

import html
import json
import re

import folium
import geopandas as gpd
import pyogrio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc7946 import problems
from shapely import Polygon, box

from siting.core.errors import OutputExistsError
from siting.deliver.folder import check_output_dir, write_marker
from siting.deliver.maps import escape, site_map
from siting.io.writers import write_geojson, write_gpkg

PAYLOADS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>", "`"]


def test_geojson_is_rfc7946_even_from_clockwise_input(tmp_path):
    cw = Polygon([(0, 0), (0, 1000), (1000, 1000), (1000, 0)])  # clockwise exterior
    assert not cw.exterior.is_ccw
    hole = Polygon(box(-1.5e6, 1.9e6, -1.48e6, 1.92e6).exterior.coords,
                   [box(-1.495e6, 1.905e6, -1.49e6, 1.91e6).exterior.coords])
    g = gpd.GeoDataFrame({"site_id": ["a", "b"], "score": [0.123456789, 0.5]},
                         geometry=[cw.buffer(0).union(box(0, 0, 10, 10)), hole], crs=5070)
    path = write_geojson(g, tmp_path / "s.geojson")
    assert problems(path) == []
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326 and back["site_id"].tolist() == ["a", "b"]


def test_gpkg_round_trip_with_table_layers(tmp_path, grid_parcels):
    import pandas as pd

    path = write_gpkg(tmp_path / "x.gpkg", {"sites": grid_parcels, "funnel": pd.DataFrame({"a": [1, 2]})})
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["funnel", "layer_styles", "sites"]
    back = gpd.read_file(path, layer="sites")
    assert len(back) == len(grid_parcels) and back.crs.to_epsg() == 5070


def test_output_dir_protection(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("old")
    with pytest.raises(OutputExistsError, match="exists and is not empty"):
        check_output_dir(tmp_path / "out")
    with pytest.raises(OutputExistsError, match=r"was not written by siting .*keep\.txt"):
        check_output_dir(tmp_path / "out", overwrite=True)
    write_marker(tmp_path / "out", "r1")  # now siting's: keep.txt is listed
    assert check_output_dir(tmp_path / "out", overwrite=True) == tmp_path / "out"


def test_escape_neutralises_html_and_template_literals():
    out = escape(PAYLOADS).tolist()
    for o in out:
        assert "<" not in o and "`" not in o and "${" not in o


@given(st.lists(st.one_of(st.text(), st.none(), st.floats(allow_nan=True)), max_size=20))
def test_escape_is_html_escape_plus_backtick_dollar_and_brace(values):
    def ref(v):
        v = "" if v is None or v != v else str(v)
        return html.escape(v, quote=True).replace("`", "&#96;").replace("$", "&#36;").replace("{", "&#123;")

    assert escape(values).tolist() == [ref(v) for v in values]


def test_map_html_contains_no_raw_payloads(grid_parcels):
    sites = grid_parcels.assign(site_id=[*PAYLOADS, "ok"], score=[0.1, 0.2, 0.3, 0.4, 0.5], rank=range(1, 6),
                                unit_name=[*PAYLOADS, "fine"])
    # cdn=True: the inlined libraries hold "<script" in their own code, which would blur the count below
    html = site_map(sites, tiles=None, cdn=True, title=PAYLOADS[0], footer=PAYLOADS[1]).get_root().render()
    for p in PAYLOADS[:3]:
        assert p not in html
    assert "onerror=alert(1)>" not in html
    assert html.count("</script>") == html.count("<script")  # no stray script terminator


def test_map_text_is_never_run_as_a_jinja_template(grid_parcels):
    jinja = ["Unit {{ 7*7 }}", "{% if x %}", "{# open comment", "{{ this.get_name() }}", "fine"]
    sites = grid_parcels.assign(site_id=jinja, score=[0.1, 0.2, 0.3, 0.4, 0.5], rank=range(1, 6), unit_name=jinja)
    html = site_map(sites, tiles=None, title="Plan {{ 6*7 }}").get_root().render()  # unbalanced tags: no error
    assert "Unit 49" not in html and "Plan 42" not in html
    assert re.search(r"Unit (&|\\u0026)#123;(&|\\u0026)#123; 7\*7 }}", html)  # shown as the text it is (JSON-encoded)


def test_map_feature_count_and_legend(grid_parcels):
    sites = grid_parcels.assign(site_id=list("abcde"), score=[0.1, 0.2, 0.3, 0.4, 0.5], rank=range(1, 6))
    def geojsons(m):
        out, todo = [], list(m._children.values())
        while todo:
            c = todo.pop()
            out += [c] if isinstance(c, folium.GeoJson) else []
            todo += list(getattr(c, "_children", {}).values())
        return out

    m = site_map(sites, tiles=None, basemap=False)
    html = m.get_root().render()
    data = geojsons(m)
    assert len(data) == 1 and len(data[0].data["features"]) == 5
    assert "Site score" in html
    top = site_map(sites, tiles=None, max_sites=2, basemap=False)
    feats = geojsons(top)[0].data["features"]
    assert [f["properties"]["site_id"] for f in feats] == ["a", "b"]
    assert "best 2 of 5 sites" in top.get_root().render()


def test_geojson_properties_keep_types(tmp_path, grid_parcels):
    g = grid_parcels.assign(flag=[True, False, True, False, True])
    doc = json.loads(write_geojson(g, tmp_path / "t.geojson").read_text())
    assert doc["features"][0]["properties"]["flag"] is True
    assert doc["features"][0]["properties"]["gap_status"] == 3
