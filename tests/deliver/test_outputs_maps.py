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


def test_gpkg_layers_written_in_batches_read_back_whole_with_one_type(tmp_path, monkeypatch):
    # a national layer is written in batches; the batches agree on the layer's geometry type (the first
    # batch holds only polygons, a later one a multipolygon) and on each column's type (a ledger value
    # column is numbers in the first batch and text later), and every row reads back in order
    import sqlite3
    from contextlib import closing

    import numpy as np
    import pandas as pd
    from shapely import MultiPolygon

    monkeypatch.setattr("siting.io.batches.WRITE_BATCH", 3)
    geoms = [box(i, 0, i + 0.5, 1) for i in range(7)] + [MultiPolygon([box(20, 0, 21, 1), box(22, 0, 23, 1)])]
    g = gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(8)], "value": [1.5, 2.5, 3.5, 4, "all", 6, 7, 8],
                          "ok": [True, None, False, True, True, True, None, False],
                          "note": pd.Series([None, None, None, "x", None, "y", None, None], dtype=object)},
                         geometry=geoms, crs=5070)
    table = pd.DataFrame({"n": np.arange(10)})
    path = write_gpkg(tmp_path / "b.gpkg", {"sites": g, "ledger": table})
    assert pyogrio.read_info(path, layer="sites")["geometry_type"] == "MultiPolygon"
    back = gpd.read_file(path, layer="sites")
    assert back["site_id"].tolist() == g["site_id"].tolist()
    assert back["value"].tolist() == [str(v) for v in g["value"]]
    assert back["note"].fillna("-").tolist() == g["note"].fillna("-").tolist()
    assert back.geometry.geom_type.eq("MultiPolygon").all() and back.geometry.area.round(6).tolist() == \
        g.geometry.area.round(6).tolist()
    assert gpd.read_file(path, layer="ledger")["n"].tolist() == list(range(10))
    with closing(sqlite3.connect(path)) as con:  # one layer creation: GDAL's spatial index holds every row
        assert con.execute("SELECT count(*) FROM rtree_sites_geom").fetchone()[0] == len(g)


def test_geoparquet_written_in_batches_reads_back_as_geopandas_writes_it(tmp_path, monkeypatch):
    # row groups of WRITE_BATCH rows, each converted on its own; the file's geo metadata covers all rows
    import json

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    from geopandas.testing import assert_geodataframe_equal
    from shapely import MultiPolygon

    from siting.io.writers import to_output_frame, write_parquet

    monkeypatch.setattr("siting.io.batches.WRITE_BATCH", 3)
    geoms = [box(i, 0, i + 0.5, 1) for i in range(6)] + [MultiPolygon([box(50, 7, 51, 9)]), None]
    g = gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(8)], "value": [1.5, 2, "all", 4, 5, 6, 7, 8],
                          "n": np.arange(8),
                          "note": pd.Series([None, None, None, "x", None, "y", None, None], dtype=object)},
                         geometry=geoms, crs=5070)  # no note in the first batch, some later
    ours = write_parquet(g, tmp_path / "ours.parquet")
    to_output_frame(g).to_parquet(tmp_path / "theirs.parquet", index=False)
    assert pq.read_metadata(ours).num_row_groups == 3
    assert_geodataframe_equal(gpd.read_parquet(ours), gpd.read_parquet(tmp_path / "theirs.parquet"))
    meta = json.loads(pq.read_schema(ours).metadata[b"geo"])["columns"]["geometry"]
    assert meta["bbox"] == [0.0, 0.0, 51.0, 9.0] and meta["geometry_types"] == ["MultiPolygon", "Polygon"]


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


def test_context_layers_with_missing_names_and_unknown_agencies_held_as_categoricals(grid_parcels):
    # the eligible land comes from the candidates, whose repeated text is categorical; a parcel without a unit
    # name or with an agency the palette lacks made `fillna` refuse a value outside the categories
    import pandas as pd

    sites = grid_parcels.assign(site_id=list("abcde"), score=[0.1, 0.2, 0.3, 0.4, 0.5], rank=range(1, 6))
    land = grid_parcels.assign(unit_name=pd.Categorical(["Unit A", None, "Unit A", None, "Unit B"]),
                               agency=pd.Categorical(["BLM", "XYZ", None, "BLM", "BLM"]))
    html = site_map(sites, layers={"Eligible land": (land, "eligible")}, tiles=None,
                    basemap=False).get_root().render()
    tips = re.findall(r'"tooltip": ?"(Eligible land: [^"]*)"', html)
    assert len(tips) == 5 and "Eligible land: Unit A (BLM)" in tips
    assert not any(re.search(r"\bnan\b|None|<NA>", t) for t in tips)
    assert "#bbb" in html  # the unknown and missing agencies drawn in the neutral colour


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
