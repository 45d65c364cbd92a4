"""Interactive deliverable maps (the only module that imports folium).

:func:`site_map` draws any sites GeoDataFrame: sites coloured by score (or tier) with a legend,
popups with the score breakdown, the ledger and the weight sensitivity, tooltips, and one toggleable
FeatureGroup per input layer (parcels, excluded land per rule, near misses, deposits by commodity
group, power lines by voltage, ...) under a layer control, with fullscreen, minimap and measure
controls, a title, and a footer with the sources, data dates, run date and CRS.

Large results stay usable: beyond ``max_sites`` polygons only the best ``max_sites`` are drawn as
polygons, the sites (at most the best ``max_points``) are shown as clustered points, and the layer
names say how many of how many are drawn.

Attribute values are never run as code: every value, field name, caption, title and footer is
HTML-escaped and backticks and ``${`` are neutralised before reaching the page. Popups and
tooltips are bound from escaped feature properties by a fixed script, never through folium's
``GeoJsonPopup``/``Tooltip`` (which insert raw values, see BAD_INPUTS S1). Styles are static per
feature (no O(n^2) ``style_function``).

Network: a map loads Leaflet, jQuery, Bootstrap, d3 and the plugins from public CDNs, and basemap
tiles unless ``tiles=None``. ``offline=True`` inlines every script and stylesheet (from the
``folium-offline`` package, ``pip install 'siting[offline]'``) and draws no web tiles: the HTML then
makes no network request at all.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> sites = gpd.GeoDataFrame({"site_id": ["<b>x</b>"], "score": [0.8], "rank": [1]},
...                          geometry=[box(-1.5e6, 1.9e6, -1.49e6, 1.91e6)], crs=5070)
>>> html = site_map(sites, tiles=None).get_root().render()
>>> "<b>x</b>" in html, "&lt;b&gt;x&lt;/b&gt;" in html or "\\\\u003cb\\\\u003e" in html
(False, True)
"""

from __future__ import annotations

import html as html_mod
import json
import re

import branca
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins
from folium.utilities import JsCode

from siting.core import settings
from siting.core.errors import ScenarioError
from siting.deliver.folium_adapter import GeoJson, MarkerCluster, OfflineFigure
from siting.io import minerals
from siting.schema import AGENCY_COLOURS, SCORE_RAMP, TIER_COLOURS

__all__ = ["escape", "score_colours", "site_map"]

_BIND = JsCode("""
function(feature, layer) {
  var p = feature.properties || {};
  if (p.popup_html) { layer.bindPopup(p.popup_html, {maxWidth: 460, maxHeight: 380}); }
  if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}
""")
# every site as a clustered point: row = [lat, lon, escaped tooltip, colour]
_CLUSTER_POINT = """
function (row) {
  var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 5, color: row[3], fillColor: row[3],
                                                         fillOpacity: 0.8, weight: 1});
  m.on('mouseover', function () { if (!this.getTooltip()) { this.bindTooltip(row[2]).openTooltip(); } });
  return m;
};
"""
# cluster bubbles in a neutral grey with their count: green-to-red bubbles would read as the score ramp
_CLUSTER_ICON = """
function (cluster) {
  var n = cluster.getChildCount(), size = n < 100 ? 30 : (n < 1000 ? 36 : 44);
  return L.divIcon({html: '<div style="background:rgba(82,82,82,0.78);color:#fff;border:2px solid #fff;'
    + 'border-radius:50%;box-sizing:border-box;width:' + size + 'px;height:' + size + 'px;display:flex;'
    + 'align-items:center;justify-content:center;font:bold 11px sans-serif">' + n + '</div>',
    className: 'siting-cluster', iconSize: L.point(size, size)});
}
"""
_VOLT_COLOURS = [(345, "#b2182b"), (230, "#ef8a62"), (115, "#fdae61"), (0, "#999999")]
_GROUP_COLOURS = [("china_export_controls", "#d7301f", "China export controls"),
                  ("rare_earths", "#7a0177", "rare earths"), ("battery", "#2171b5", "battery minerals")]
CLUSTER_ABOVE = 1500
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


def _rows(index, cells: list[list]) -> pd.Series:
    """Join per-row table rows: cells is a list of rows, each a list of per-site strings."""
    out = pd.Series("", index=index, dtype=object)
    for row in cells:
        out = out + "<tr>" + pd.concat([("<td>" + pd.Series(c, index=index).astype(str) + "</td>")
                                        for c in row], axis=1).sum(axis=1) + "</tr>"
    return out


def _head(sites: pd.DataFrame) -> pd.Series:
    idx = sites.index
    head = ("<h4>Site " + escape(sites["site_id"]).set_axis(idx) + "</h4><p>score <b>"
            + _fmt(sites.get("score", pd.Series(np.nan, index=idx))).set_axis(idx) + "</b>, rank "
            + _fmt(sites.get("rank", pd.Series(np.nan, index=idx))).set_axis(idx))
    if "tier" in sites:
        head = head + ", tier " + escape(sites["tier"]).set_axis(idx)
    for col, label in (("candidate_class", "class"), ("agency", "agency"), ("unit_name", "unit"),
                       ("installation", "installation"), ("plss_description", "legal description"),
                       ("installation_m", "installation point (m)"), ("area_acres", "eligible acres")):
        if col in sites:
            head = head + f"<br>{label}: " + _fmt(sites[col]).set_axis(idx)
    if "overrides" in sites:  # the analyst's include/exclude and its reason, where one decided
        note = sites["overrides"].fillna("").astype(str)
        head = head + pd.Series(np.where(note != "", "<br><b>override</b>: " + escape(note).to_numpy(dtype=str), ""),
                                index=idx)
    if "median_rank" in sites:
        head = (head + "<br>weights perturbed: median rank " + _fmt(sites["median_rank"]).set_axis(idx)
                + " (5-95 %: " + _fmt(sites["rank_p05"]).set_axis(idx) + "-" + _fmt(sites["rank_p95"]).set_axis(idx)
                + "), P(top k) " + _fmt(sites["p_top_k"]).set_axis(idx))
    return head + "</p>"


def _popups(sites: pd.DataFrame, factors, rules) -> pd.Series:
    idx = sites.index
    html = _head(sites)
    if factors:
        rows = [[escape([f"{f.name} ({f.unit})"] * len(idx)), _fmt(sites[f.raw_column]).set_axis(idx),
                 _fmt(sites[f"{f.name}_score"]).set_axis(idx), _fmt(sites[f"{f.name}_weight"]).set_axis(idx),
                 _fmt(sites[f"{f.name}_contrib"]).set_axis(idx)] for f in factors]
        html = html + ("<b>Score breakdown</b><table><tr><th>factor</th><th>value</th><th>score</th>"
                       "<th>weight</th><th>contrib.</th></tr>") + _rows(idx, rows) + "</table>"
    rrows = []
    for label, op, thr in zip(rules["rule"], rules["op"], rules["threshold"], strict=True):
        if f"{label}__value" in sites:
            ok = np.where(sites[f"{label}__pass"].to_numpy(bool), "pass", "FAIL")
            rrows.append([escape([label] * len(idx)), _fmt(sites[f"{label}__value"]).set_axis(idx),
                          escape([f"{op} {thr}"] * len(idx)), pd.Series(ok, index=idx)])
    if rrows:
        html = html + ("<b>Rules</b><table><tr><th>rule</th><th>value</th><th>needs</th>"
                       "<th></th></tr>") + _rows(idx, rrows) + "</table>"
    return html


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
        out = out.set_geometry(out.geometry.simplify(tolerance_m, preserve_topology=True))
    out = out.to_crs(settings.OUTPUT_CRS)
    geoms = _unwrap(shapely.set_precision(out.geometry.values, 1e-6, mode="pointwise"))
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
    return GeoJson(_feature_collection(gdf.geometry.values, props), on_each_feature=_BIND, marker=marker,
                    zoom_on_click=False)


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
    text = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{"null" if g is None else g}}}'
                    for p, g in zip(rows, geo, strict=True))
    return json.loads('{"type":"FeatureCollection","features":[' + text + "]}")


def _colours(drawn: pd.DataFrame, color_by: str, cmap, all_tiers=None) -> list[str]:
    """Colours of the drawn sites (tier colours follow the order of every site's tiers)."""
    if color_by == "tier" and "tier" in drawn:
        tiers = sorted(pd.Series(all_tiers if all_tiers is not None else drawn["tier"]).dropna().astype(str).unique())
        table = dict(zip(tiers, TIER_COLOURS, strict=False))
        return [table.get(str(t), "#999999") for t in drawn["tier"]]
    return score_colours(drawn["score"].to_numpy(float), cmap)


def score_colours(values: np.ndarray, cmap) -> list[str]:
    """``cmap(v)`` for every value at once ("#rrggbbaa", as branca gives it); grey where not finite.

    Examples
    --------
    >>> cmap = branca.colormap.LinearColormap(["#d73027", "#1a9850"], vmin=0.0, vmax=1.0)
    >>> score_colours(np.array([0.0, 0.25, np.nan]), cmap) == [cmap(0.0), cmap(0.25), "#999999"]
    True
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    rgba = np.column_stack([np.interp(np.where(ok, v, 0.0), cmap.index, [c[j] for c in cmap.colors])
                            for j in range(4)])
    codes = (rgba * 255.9999).astype(np.int64)
    hexes = np.char.add("#", np.char.add(np.char.add(_hex2(codes[:, 0]), _hex2(codes[:, 1])),
                                         np.char.add(_hex2(codes[:, 2]), _hex2(codes[:, 3]))))
    return np.where(ok, hexes, "#999999").tolist()


def _hex2(codes: np.ndarray) -> np.ndarray:
    return np.array([f"{i:02x}" for i in range(256)])[codes]


def _sites_layer(m, sites, factors, rules, colours, name):
    web = _to_web(sites, 10.0)
    props = pd.DataFrame({
        "site_id": escape(sites["site_id"]).to_numpy(),
        "score": np.round(sites["score"].to_numpy(float), 4),
        "popup_html": _popups(sites, factors, rules).to_numpy(),
        "tooltip": ("Site " + escape(sites["site_id"]) + " - score " + _fmt(sites["score"])).to_numpy(),
        "style": [_style(c, weight=2, fill_opacity=0.6) for c in colours],
    })
    _geojson(web, props).add_to(_group(m, name))


def _all_sites_points(m, sites, colours, name):
    """Sites as clustered points (cheap in the browser even for 100,000 sites)."""
    pts = gpd.GeoSeries(shapely.point_on_surface(sites.geometry.values), crs=sites.crs).to_crs(4326)
    tips = ("Site " + escape(sites["site_id"]) + " - score " + _fmt(sites["score"]) + ", rank "
            + _fmt(sites["rank"] if "rank" in sites else np.arange(1, len(sites) + 1))).to_numpy()
    data = [[round(float(y), 5), round(float(x), 5), t, c]
            for x, y, t, c in zip(pts.x.to_numpy(), pts.y.to_numpy(), tips, colours, strict=True)]
    MarkerCluster(data, callback=_CLUSTER_POINT, icon_create_function=_CLUSTER_ICON).add_to(_group(m, name, show=True))


def _deposit_colours(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    colours = np.where(frame["critical"].fillna(False).to_numpy(bool), "#fd8d3c", "#6a6a6a").astype(object)
    labels = pd.Series(np.where(colours == "#fd8d3c", "other critical", "not critical"), index=frame.index)
    for group, colour, label in reversed(_GROUP_COLOURS):
        hit = minerals.has_any(frame["commodities"], [group])
        colours[hit] = colour
        labels[hit] = label
    return colours, labels


def _context_props(frame: gpd.GeoDataFrame, name: str, kind: str) -> pd.DataFrame:
    label = frame["name"] if "name" in frame else frame.get("unit_name", pd.Series("", index=frame.index))
    tip = escape(name + ": ") + escape(label.fillna("").astype(str)).set_axis(frame.index)
    if "agency" in frame:
        tip = tip + " (" + escape(frame["agency"]).set_axis(frame.index) + ")"
        styles = [_style(c, weight=0.8, fill_opacity=0.15) for c in frame["agency"].map(AGENCY_COLOURS).fillna("#bbb")]
    elif "commodities" in frame:
        colours, groups = _deposit_colours(frame)
        styles = [_style(c, weight=1, radius=3, fill_opacity=0.85) for c in colours]
        tip = tip + " [" + escape(frame["commodities"]).set_axis(frame.index) + "; " + escape(groups).set_axis(
            frame.index) + "]"
    elif "voltage_kv" in frame and frame["voltage_kv"].notna().any():
        kv = frame["voltage_kv"].fillna(0).to_numpy(float)
        colours = np.select([kv >= v for v, _ in _VOLT_COLOURS], [c for _, c in _VOLT_COLOURS], "#999999")
        styles = [_style(c, weight=2, radius=4) for c in colours]
        tip = tip + " " + _fmt(frame["voltage_kv"]).set_axis(frame.index) + " kV"
    else:
        colour = {"exclusion": "#d62728", "near_miss": "#fd8d3c"}.get(kind, "#555555")
        styles = [_style(colour, weight=1.2, radius=3, fill_opacity=0.25)] * len(frame)
    if "tooltip" in frame:  # prepared, already escaped
        tip = frame["tooltip"].astype(str)
    return pd.DataFrame({"tooltip": tip.to_numpy(), "style": styles})


def _context_layer(m, frame: gpd.GeoDataFrame | None, name: str, kind: str, max_features: int = 5000):
    if frame is None or not len(frame):
        return
    note = f" (first {max_features:,} of {len(frame):,})" if len(frame) > max_features else ""
    frame = frame.head(max_features).reset_index(drop=True)
    family = str(frame.geometry.geom_type.iloc[0])
    group = _group(m, name + note, show=kind in ("parcels", "eligible"))
    props = _context_props(frame, name, kind)
    if "Point" in family and len(frame) > CLUSTER_ABOVE:
        pts = frame.to_crs(4326)
        data = [[round(float(y), 5), round(float(x), 5), t, s["color"]] for x, y, t, s in
                zip(pts.geometry.x, pts.geometry.y, props["tooltip"], props["style"], strict=True)]
        MarkerCluster(data, callback=_CLUSTER_POINT, icon_create_function=_CLUSTER_ICON).add_to(group)
        return
    marker = folium.CircleMarker(radius=3) if "Point" in family else None
    _geojson(_to_web(frame, 30.0), props, marker=marker).add_to(group)


def _bounds(gdf: gpd.GeoDataFrame):
    """Leaflet bounds [[S, W], [N, E]], computed after unwrapping at the antimeridian."""
    geoms = _unwrap(np.asarray(gdf.to_crs(settings.OUTPUT_CRS).geometry.values, dtype=object))
    w, s, e, n = shapely.total_bounds(geoms)
    return [[float(s), float(w)], [float(n), float(e)]]


def _html(m: folium.Map):
    """The page's ``<body>`` element (a branca Figure's ``html``)."""
    return m.get_root().html  # type: ignore[attr-defined]


def _add_text(m: folium.Map, title: str | None, footer: str | None) -> None:
    if title:
        _html(m).add_child(folium.Element(
            '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;'
            'padding:4px 10px;border-radius:4px;font:16px sans-serif;box-shadow:0 1px 4px #888">'
            f"{escape([title]).iloc[0]}</div>"))
    if footer:
        _html(m).add_child(folium.Element(
            '<div style="position:fixed;bottom:4px;left:60px;z-index:9999;background:white;'
            'padding:2px 8px;font:11px sans-serif;opacity:0.9;max-width:70%">'
            f"{escape([footer]).iloc[0]}</div>"))


def _deposit_legend(m: folium.Map) -> None:
    items = "".join(f'<div><span style="color:{c}">&#9679;</span> {html_mod.escape(lab)}</div>'
                    for _, c, lab in [*_GROUP_COLOURS, ("", "#fd8d3c", "other critical"),
                                      ("", "#6a6a6a", "not critical")])
    _html(m).add_child(folium.Element(
        '<div style="position:fixed;bottom:40px;right:10px;z-index:9999;background:white;padding:4px 8px;'
        f'font:11px sans-serif;border-radius:4px;box-shadow:0 1px 4px #888"><b>Deposits</b>{items}</div>'))


def _new_map(tiles, offline: bool, location=None, attr: str | None = None) -> folium.Map:
    custom = tiles is not None and "/" in str(tiles)  # a URL template, not a named basemap
    web_tiles = tiles is not None and (not custom or re.match(r"^(https?:)?//", str(tiles)))
    if offline and web_tiles:
        raise ScenarioError("offline maps draw no web tiles: give tiles=None, or a local tile URL template "
                            "(e.g. 'tiles/{z}/{x}/{y}.png') with attr=")
    if custom and web_tiles and not attr:
        raise ScenarioError(f"custom tiles {tiles!r} need an attribution (their licence asks for it): give "
                            "attr='(c) provider' (scenario: outputs.map_attribution)")
    m = folium.Map(location=location, zoom_start=6, tiles=tiles, control_scale=True, prefer_canvas=True,
                   max_zoom=19, attr=attr or ("local tiles" if custom else None))
    m.options["max_zoom"] = 19  # marker clusters need the map's own maxZoom (tiles=None sets none)
    if offline:
        fig = OfflineFigure()
        fig.add_child(m)
    return m


def _controls(m: folium.Map, tiles) -> None:
    """Fullscreen, minimap (for a named basemap) and measure controls."""
    plugins.Fullscreen().add_to(m)
    if tiles and "/" not in str(tiles):  # a named basemap (custom tile URLs need their attribution)
        plugins.MiniMap(tile_layer=tiles, toggle_display=True).add_to(m)
    plugins.MeasureControl(primary_length_unit="kilometers", primary_area_unit="hectares").add_to(m)


def site_map(sites: gpd.GeoDataFrame, *, layers: dict | None = None, m: folium.Map | None = None,
             tiles: str | None = "OpenStreetMap", factors=(), rules=None, title: str | None = None,
             footer: str | None = None, max_sites: int = 2000, max_points: int = 100_000, color_by: str = "score",
             offline: bool = False, controls: bool = True, attr: str | None = None, **style) -> folium.Map:
    """Build the interactive map of scored sites.

    Parameters
    ----------
    sites : GeoDataFrame
        With ``site_id`` and ``score`` (and ``rank``, ``tier``, factor and ledger columns).
    layers : dict, optional
        ``{name: (GeoDataFrame, kind)}``; kind ``parcels`` (shown), ``exclusion``, ``near_miss``
        or ``context`` (hidden at first); each becomes a toggleable FeatureGroup.
    m : folium.Map, optional
        A map to add to.
    tiles : str or None
        Basemap: a named one (``"OpenStreetMap"``, ``"CartoDB positron"``), a tile URL template
        (``"https://host/{z}/{x}/{y}.png"``, which needs ``attr``; a local ``"tiles/{z}/{x}/{y}.png"``
        works offline), or ``None`` for no tiles (no network for tiles).
    factors : sequence of Factor
        For the score breakdown in popups.
    rules : DataFrame, optional
        ``SitingResult.rules``, for the ledger in popups.
    title, footer : str, optional
        Escaped text shown on the map.
    max_sites : int
        Only the best ``max_sites`` by rank are drawn as polygons; the rest also as clustered points, noted.
    max_points : int
        At most this many sites (the best by rank) are drawn as points; the layer's name says how
        many of how many are shown (every site is in the GeoPackage and GeoParquet outputs).
    color_by : {"score", "tier"}
    offline : bool
        Inline every script and stylesheet (needs folium-offline) and refuse web tiles.
    controls : bool
        Add fullscreen, minimap and measure controls.
    attr : str, optional
        The tiles' attribution (required for web tile URL templates).
    **style
        ``cmap`` (a list of colours for the score legend).

    Returns
    -------
    folium.Map
    """
    if color_by not in ("score", "tier"):
        raise ScenarioError(f"color_by must be 'score' or 'tier', not {color_by!r}")
    rules = rules if rules is not None else pd.DataFrame(columns=["rule", "op", "threshold"])
    n_sites, n_drawn = len(sites), min(len(sites), max(max_sites, max_points))
    ranked = sites.nsmallest(n_drawn, "rank", keep="first") if "rank" in sites else sites.head(n_drawn)
    ranked = ranked.reset_index(drop=True)  # the drawn sites only: a national result is not copied
    shown = ranked.head(max_sites)
    extent = shown if len(shown) else next((f for f, _ in (layers or {}).values() if f is not None and len(f)), None)
    bounds = _bounds(extent) if extent is not None and len(extent) else None
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    m = m if m is not None else _new_map(tiles, offline, centre, attr)  # a view from the start (clusters need one)
    cmap = branca.colormap.LinearColormap(style.get("cmap", SCORE_RAMP),
                                          vmin=0.0, vmax=1.0, caption="Site score (0 = worst, 1 = best)")
    for name, (frame, kind) in (layers or {}).items():
        _context_layer(m, frame, name, kind)
        if frame is not None and "commodities" in frame and len(frame):
            _deposit_legend(m)
    colours = _colours(ranked, color_by, cmap, sites.get("tier"))
    if n_sites > max_sites:
        label = f"All {n_sites:,} sites (points)" if n_sites <= max_points else \
            f"Best {max_points:,} of {n_sites:,} sites (points; all are in siting.gpkg)"
        _all_sites_points(m, ranked.head(max_points), colours[:max_points], label)
    if len(shown):
        _sites_layer(m, shown, factors, rules, colours[:len(shown)], f"Sites ({len(shown):,})")
    cmap.add_to(m)
    if controls:
        _controls(m, tiles)
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds:
        m.fit_bounds(bounds)
    points = "every site" if n_sites <= max_points else f"the best {max_points:,}"
    note = (f"Showing the best {len(shown):,} of {n_sites:,} sites as polygons; {points} as clustered points "
            "(raise outputs.map_max_sites / map_max_points to draw more; every site is in siting.gpkg). "
            if len(shown) < n_sites else "")
    _add_text(m, title, (note + (footer or "")).strip())
    return m
