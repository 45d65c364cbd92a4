"""The folium/branca/folium-offline internals siting leans on (siting/deliver/folium_adapter.py).

Each test fails when one of those libraries changes a name or a behaviour the adapter needs, so an
upgrade shows here first instead of as a broken map.
"""

from __future__ import annotations

import json
import re

import branca
import folium
import pytest
from folium import plugins

from siting.deliver.folium_adapter import (
    GeoJson,
    MarkerCluster,
    OfflineFigure,
    RenderOnce,
    compact_escapes,
    inline_assets,
)

DATA = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"tooltip": "{{ 7*7 }}"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}


def _page(geojson, cluster) -> str:
    m = folium.Map(tiles=None)
    m._id = "map"
    for el, name in ((geojson(DATA), "g"), (cluster([[1.0, 2.0]]), "c")):
        el._id = name
        el.add_to(m)
    return m.get_root().render()


def test_branca_internals_the_adapter_reads_are_there():
    el = folium.GeoJson(DATA)
    assert hasattr(el, "_template") and hasattr(el, "_children")
    macros = el._template.module.__dict__
    assert {"header", "html", "script"} & set(macros), "MacroElement templates define these macros"
    assert issubclass(GeoJson, folium.GeoJson) and issubclass(GeoJson, RenderOnce)
    assert issubclass(RenderOnce, branca.element.MacroElement)


def test_layers_rendered_once_give_the_page_folium_gives():
    ours = _page(GeoJson, MarkerCluster)
    theirs = _page(folium.GeoJson, plugins.FastMarkerCluster)
    assert "geo_json_g" in ours and "fast_marker_cluster_c" in ours
    # folium compiles the data a second time as a template ({{ 7*7 }} -> 49); rendered once it stays text
    assert "{{ 7*7 }}" in ours and "49" not in ours
    # and ours is compact JSON ("<" not "\\u003c", no spaces after separators); otherwise the same page
    def same(text: str) -> str:
        return re.sub(r"\s+", "", compact_escapes(text))

    assert same(ours.replace("{{ 7*7 }}", "49")) == same(theirs)
    data = json.loads(re.search(r"geo_json_g_add\((\{.*?\})\);", ours).group(1))
    assert data == DATA  # the compact JSON is the same data


def test_folium_offline_holds_every_asset_folium_loads():
    pytest.importorskip("offlinefolium")
    from offlinefolium.elements import _res

    m = folium.Map(tiles=None)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.FastMarkerCluster([[1.0, 2.0]]).add_to(m)
    page = m.get_root().render()
    urls = re.findall(r'<script src="(https?://[^"]+)"', page)
    urls += re.findall(r'<link rel="stylesheet" href="(https?://[^"]+)"', page)
    assert urls and all(u in _res for u in urls), [u for u in urls if u not in _res]
    inlined = inline_assets(page)
    assert "<script src=\"http" not in inlined and "<link rel=\"stylesheet\" href=\"http" not in inlined


def test_offline_figure_inlines_on_render():
    pytest.importorskip("offlinefolium")
    fig = OfflineFigure()
    m = folium.Map(tiles=None)
    fig.add_child(m)
    html = fig.render()
    assert "leaflet" in html.lower() and not re.search(r'<script src="https?://', html)
