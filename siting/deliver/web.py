"""Leaflet building blocks shared by the maps: escaping, number formatting, web geometries, GeoJSON layers.

Every value that reaches a page goes through :func:`escape`; GeoJSON layers are written by C encoders
(:func:`_feature_collection`) and bind their popups and tooltips from escaped properties with one fixed
script (``_BIND``), never through folium's ``GeoJsonPopup``/``Tooltip``.

Examples
--------
>>> escape(["<b>"]).tolist()
['&lt;b&gt;']
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from siting.core import settings
from siting.deliver.folium_adapter import GeoJson
from siting.geo.parallel import chunked

__all__ = ["escape"]

# binds popups and tooltips from escaped properties, and styles each feature from the layer's style table
# (the table holds only siting's own style dicts: ``properties.s`` is an index into it)
_BIND = """
function(feature, layer) {
  var S = %s, p = feature.properties || {};
  if (p.s !== undefined && layer.setStyle) { layer.setStyle(S[p.s]); }
  if (p.popup_html) { layer.bindPopup(p.popup_html, {maxWidth: 460, maxHeight: 380}); }
  if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}
"""
#: What :func:`escape` replaces: ``html.escape(quote=True)``'s five, then ``` ` ```, ``$`` and ``{``.
_ENTITIES = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"), ("`", "&#96;"),
             ("$", "&#36;"), ("{", "&#123;")]


def escape(values) -> pd.Series:
    """HTML-escape values and neutralise ``` ` ```, ``$`` and ``{`` (safe in HTML, JS template literals and Jinja).

    branca renders each map element and compiles the output as a Jinja template again, so a value
    holding ``{{ 7*7 }}`` would show ``49`` and an unbalanced ``{%`` would stop the map being saved.

    Examples
    --------
    >>> escape(["<img src=x onerror=alert(1)>", "${alert(1)}`", "Unit {{ 7*7 }}"]).tolist()
    ['&lt;img src=x onerror=alert(1)&gt;', '&#36;&#123;alert(1)}&#96;', 'Unit &#123;&#123; 7*7 }}']
    """
    s = pd.Series(np.asarray(values, dtype=object))  # positional index
    out = s.where(s.notna(), "").astype(str)
    for char, entity in _ENTITIES:  # vectorized; "&" first
        out = out.str.replace(char, entity, regex=False)
    return out


def _fmt(values) -> pd.Series:
    """Numbers readable (4 significant digits, thousands separated), text escaped; positional index."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        num = arr.astype(float)
        big = pd.Series(num).map("{:,.0f}".format)
        small = pd.Series(np.char.mod("%.4g", num))
        return pd.Series(np.where(np.isnan(num), "NA", np.where(np.abs(num) >= 1000, big, small)))
    return escape(arr)


def _unwrap(geoms: np.ndarray) -> np.ndarray:
    """Shift western longitudes by +360 when the data straddle the antimeridian (Aleutians).

    Leaflet draws longitudes beyond 180 continuously, so shapes stay whole and bounds stay small.
    """
    xy = shapely.get_coordinates(geoms)
    if not len(xy) or not ((xy[:, 0] > 90).any() and (xy[:, 0] < -90).any()):
        return geoms
    return shapely.transform(geoms, lambda c: np.column_stack([np.where(c[:, 0] < 0, c[:, 0] + 360, c[:, 0]),
                                                                c[:, 1]]))


def _to_web(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    out = gdf
    if tolerance_m > 0 and out.crs is not None and not out.crs.is_geographic:
        simple = chunked(shapely.simplify, np.asarray(out.geometry.values), tolerance=tolerance_m,
                         preserve_topology=True, min_items=2)  # each outline is heavy work
        out = out.set_geometry(gpd.GeoSeries(simple, index=out.index, crs=out.crs))
    out = out.to_crs(settings.OUTPUT_CRS)
    geoms = _unwrap(shapely.set_precision(out.geometry.values, 1e-5, mode="pointwise"))  # 1 m
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))


def _style(color, fill=None, weight=1.5, opacity=0.9, fill_opacity=0.35, radius=None) -> dict:
    st = {"color": color, "weight": weight, "opacity": opacity, "fillColor": fill or color,
          "fillOpacity": fill_opacity}
    if radius:
        st["radius"] = radius
    return st


def _group(m, name: str, show: bool = True) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=escape([name]).iloc[0], show=show)
    group.add_to(m)
    return group


def _geojson(gdf: gpd.GeoDataFrame, props: pd.DataFrame, marker=None) -> folium.GeoJson:
    """A GeoJSON layer; a ``style`` column becomes a per-layer table of distinct styles and an index per feature."""
    table: list = []
    if "style" in props:
        keys = [json.dumps(st, sort_keys=True) for st in props["style"]]
        distinct, index = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True)
        table = [json.loads(k) for k in distinct]
        props = props.drop(columns="style").assign(s=index.ravel())
    return GeoJson(_feature_collection(gdf.geometry.values, props), on_each_feature=JsCode(_BIND % json.dumps(table)),
                   marker=marker, zoom_on_click=False)


def _feature_collection(geoms, props: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection of ``geoms`` with ``props`` as properties, written by C encoders.

    ``shapely.to_geojson`` and pandas' JSON writer do in well under a second what
    ``GeoDataFrame.__geo_interface__`` does feature by feature in Python (5 s for 37,000 features).

    Examples
    --------
    >>> from shapely import Point
    >>> fc = _feature_collection([Point(1, 2), None], pd.DataFrame({"name": ["a", None], "n": [1.5, np.nan]}))
    >>> [(f["properties"], f["geometry"]) for f in fc["features"]]
    [({'name': 'a', 'n': 1.5}, {'type': 'Point', 'coordinates': [1.0, 2.0]}), ({'name': None, 'n': None}, None)]
    """
    geo = shapely.to_geojson(np.asarray(geoms, dtype=object))
    rows = props.reset_index(drop=True).to_json(orient="records", lines=True, double_precision=15).splitlines()
    rows = rows if len(props) else []  # pandas writes one empty line for no rows
    text = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{"null" if g is None else g}}}'
                    for p, g in zip(rows, geo, strict=True))
    return json.loads('{"type":"FeatureCollection","features":[' + text + "]}")


def _bounds(gdf: gpd.GeoDataFrame):
    """Leaflet bounds [[S, W], [N, E]], computed after unwrapping at the antimeridian."""
    geoms = _unwrap(np.asarray(gdf.to_crs(settings.OUTPUT_CRS).geometry.values, dtype=object))
    w, s, e, n = shapely.total_bounds(geoms)
    return [[float(s), float(w)], [float(n), float(e)]]


def _html(m: folium.Map):
    """The page's ``<body>`` element (a branca Figure's ``html``)."""
    return m.get_root().html  # type: ignore[attr-defined]
