"""Interactive deliverable maps (the only module that imports folium).

:func:`site_map` draws any sites GeoDataFrame: sites coloured by score with a
legend, popups with the score breakdown and the ledger, tooltips, and one
toggleable layer per input layer (parcels, deposits, infrastructure,
exclusions) under a layer control.

Attribute values are never run as code: every value, field name and caption
is HTML-escaped and backticks and ``${`` are neutralised before it reaches
the page. Popups and tooltips are bound from escaped feature properties by a
fixed script, not through folium's ``GeoJsonPopup``/``Tooltip`` (which insert
raw values; see BAD_INPUTS S1). Styles are static per feature (no O(n^2)
``style_function``).

Network: the HTML loads Leaflet/folium scripts from CDNs, and basemap tiles
unless ``tiles=None``.

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
from datetime import UTC, datetime

import branca
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from siting import settings

__all__ = ["escape", "result_map", "site_map"]

_BIND = JsCode("""
function(feature, layer) {
  var p = feature.properties || {};
  if (p.popup_html) { layer.bindPopup(p.popup_html, {maxWidth: 460, maxHeight: 380}); }
  if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}
""")
_AGENCY_COLOURS = {"BLM": "#e8b04b", "USFS": "#3a7d44", "DOD": "#7d5ba6", "DOE": "#c0504d",
                   "FWS": "#4f81bd", "NPS": "#2e8b57", "BOR": "#8c6d31", "USACE": "#636363"}
_VOLT_COLOURS = [(345, "#b2182b"), (230, "#ef8a62"), (115, "#fdae61"), (0, "#999999")]


def escape(values) -> pd.Series:
    """HTML-escape values and neutralise ``` ` ``` and ``${`` (safe in HTML and JS template literals).

    Examples
    --------
    >>> escape(["<img src=x onerror=alert(1)>", "${alert(1)}`"]).tolist()
    ['&lt;img src=x onerror=alert(1)&gt;', '&#36;{alert(1)}&#96;']
    """
    s = pd.Series(np.asarray(values, dtype=object))  # positional index
    s = s.where(s.notna(), "")
    out = s.astype(str).map(lambda v: html_mod.escape(v, quote=True))
    return out.str.replace("`", "&#96;", regex=False).str.replace("$", "&#36;", regex=False)


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


def _popups(sites: pd.DataFrame, factors, rules) -> pd.Series:
    idx = sites.index
    head = ("<h4>Site " + escape(sites["site_id"]).set_axis(idx) + "</h4><p>score <b>"
            + _fmt(sites.get("score", pd.Series(np.nan, index=idx))).set_axis(idx) + "</b>, rank "
            + _fmt(sites.get("rank", pd.Series(np.nan, index=idx))).set_axis(idx))
    if "tier" in sites:
        head = head + ", tier " + escape(sites["tier"]).set_axis(idx)
    for col, label in (("agency", "agency"), ("unit_name", "unit"), ("installation", "installation"),
                       ("area_acres", "eligible acres")):
        if col in sites:
            head = head + f"<br>{label}: " + _fmt(sites[col]).set_axis(idx)
    if "median_rank" in sites:
        head = (head + "<br>weights perturbed: median rank " + _fmt(sites["median_rank"]).set_axis(idx)
                + " (5-95 %: " + _fmt(sites["rank_p05"]).set_axis(idx) + "-" + _fmt(sites["rank_p95"]).set_axis(idx)
                + "), P(top k) " + _fmt(sites["p_top_k"]).set_axis(idx))
    head = head + "</p>"
    if factors:
        rows = [[escape([f"{f.name} ({f.unit})"] * len(idx)), _fmt(sites[f.raw_column]).set_axis(idx),
                 _fmt(sites[f"{f.name}_score"]).set_axis(idx),
                 _fmt(sites[f"{f.name}_weight"]).set_axis(idx),
                 _fmt(sites[f"{f.name}_contrib"]).set_axis(idx)] for f in factors]
        head = head + ("<b>Score breakdown</b><table><tr><th>factor</th><th>value</th><th>score</th>"
                       "<th>weight</th><th>contrib.</th></tr>") + _rows(idx, rows) + "</table>"
    if len(rules):
        rrows = []
        for label, op, thr in zip(rules["rule"], rules["op"], rules["threshold"], strict=True):
            col = f"{label}__value"
            if col not in sites:
                continue
            ok = np.where(sites[f"{label}__pass"].to_numpy(bool), "pass", "FAIL")
            rrows.append([escape([label] * len(idx)), _fmt(sites[col]).set_axis(idx),
                          escape([f"{op} {thr}"] * len(idx)), pd.Series(ok, index=idx)])
        if rrows:
            head = head + ("<b>Rules</b><table><tr><th>rule</th><th>value</th><th>needs</th>"
                           "<th></th></tr>") + _rows(idx, rrows) + "</table>"
    return head


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


def _geojson(gdf: gpd.GeoDataFrame, props: pd.DataFrame, name: str, show=True, marker=None):
    data = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=gdf.geometry.values, crs=gdf.crs)
    return folium.GeoJson(data.__geo_interface__, name=html_mod.escape(name), show=show,
                          on_each_feature=_BIND, marker=marker, zoom_on_click=False)


def _style(color, fill=None, weight=1.5, opacity=0.9, fill_opacity=0.35, radius=None) -> dict:
    st = {"color": color, "weight": weight, "opacity": opacity, "fillColor": fill or color,
          "fillOpacity": fill_opacity}
    if radius:
        st["radius"] = radius
    return st


def _sites_layer(sites, factors, rules, cmap, name):
    web = _to_web(sites, 10.0)
    colours = [cmap(v) if np.isfinite(v) else "#999999" for v in sites["score"].to_numpy(float)]
    props = pd.DataFrame({
        "site_id": escape(sites["site_id"]).to_numpy(),
        "score": np.round(sites["score"].to_numpy(float), 4),
        "popup_html": _popups(sites, factors, rules).to_numpy(),
        "tooltip": ("Site " + escape(sites["site_id"]) + " — score " + _fmt(sites["score"])).to_numpy(),
        "style": [_style(c, weight=2, fill_opacity=0.6) for c in colours],
    })
    return _geojson(web, props, name)


def _context_layer(frame: gpd.GeoDataFrame, name: str, kind: str, max_features: int = 5000):
    if frame is None or not len(frame):
        return None
    frame = frame.head(max_features).reset_index(drop=True)
    family = frame.geometry.geom_type.iloc[0]
    label = frame["name"] if "name" in frame else frame.get("unit_name", pd.Series("", index=frame.index))
    tip = escape(name + ": ") + escape(label.fillna("").astype(str)).set_axis(frame.index)
    if "agency" in frame:
        tip = tip + " (" + escape(frame["agency"]).set_axis(frame.index) + ")"
        colours = frame["agency"].map(_AGENCY_COLOURS).fillna("#bbbbbb")
        styles = [_style(c, weight=0.8, fill_opacity=0.15) for c in colours]
    elif "voltage_kv" in frame and frame["voltage_kv"].notna().any():
        kv = frame["voltage_kv"].fillna(0).to_numpy(float)
        colours = np.select([kv >= v for v, _ in _VOLT_COLOURS], [c for _, c in _VOLT_COLOURS], "#999999")
        styles = [_style(c, weight=2, radius=4) for c in colours]
        tip = tip + " " + _fmt(frame["voltage_kv"]).set_axis(frame.index) + " kV"
    elif "critical" in frame:
        colours = np.where(frame["critical"].fillna(False).to_numpy(bool), "#d7301f", "#6a6a6a")
        styles = [_style(c, weight=1, radius=3, fill_opacity=0.8) for c in colours]
        tip = tip + " [" + escape(frame["commodities"]).set_axis(frame.index) + "]"
    else:
        colour = "#d62728" if kind == "exclusion" else "#555555"
        styles = [_style(colour, weight=1.2, radius=3, fill_opacity=0.25)] * len(frame)
    props = pd.DataFrame({"tooltip": tip.to_numpy(), "style": styles})
    marker = folium.CircleMarker(radius=3) if "Point" in family else None
    return _geojson(_to_web(frame, 30.0), props, name, show=kind != "context", marker=marker)


def _bounds(gdf: gpd.GeoDataFrame):
    """Leaflet bounds [[S, W], [N, E]], computed after unwrapping at the antimeridian."""
    geoms = _unwrap(np.asarray(gdf.to_crs(settings.OUTPUT_CRS).geometry.values, dtype=object))
    w, s, e, n = shapely.total_bounds(geoms)
    return [[float(s), float(w)], [float(n), float(e)]]


def site_map(sites: gpd.GeoDataFrame, *, layers: dict | None = None, m: folium.Map | None = None,
             tiles: str | None = "OpenStreetMap", factors=(), rules=None, title: str | None = None,
             footer: str | None = None, max_sites: int = 2000, **style) -> folium.Map:
    """Build the interactive map of scored sites.

    Parameters
    ----------
    sites : GeoDataFrame
        With ``site_id`` and ``score`` (and ``rank``, factor and ledger columns).
    layers : dict, optional
        ``{name: (GeoDataFrame, kind)}`` with kind ``parcels``, ``context`` or
        ``exclusion``, drawn as toggleable layers.
    m : folium.Map, optional
        A map to add to (the sites layer and legend are added).
    tiles : str or None
        Basemap; ``None`` draws no tiles (no network for tiles).
    factors : sequence of Factor
        For the score breakdown in popups.
    rules : DataFrame, optional
        ``SitingResult.rules``, for the ledger in popups.
    title, footer : str, optional
        Escaped text shown on the map.
    max_sites : int
        Only the best ``max_sites`` by rank are drawn (a note says so).
    **style
        ``cmap`` (a list of colours for the score legend).

    Returns
    -------
    folium.Map
    """
    rules = rules if rules is not None else pd.DataFrame(columns=["rule", "op", "threshold"])
    shown = sites.sort_values("rank").head(max_sites) if "rank" in sites else sites.head(max_sites)
    shown = shown.reset_index(drop=True)
    if m is None:
        m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    cmap = branca.colormap.LinearColormap(style.get("cmap", ["#d73027", "#fee08b", "#1a9850"]),
                                          vmin=0.0, vmax=1.0, caption="Site score (0 = worst, 1 = best)")
    for name, (frame, kind) in (layers or {}).items():
        layer = _context_layer(frame, name, kind)
        if layer is not None:
            layer.add_to(m)
    if len(shown):
        _sites_layer(shown, factors, rules, cmap, f"Sites ({len(shown):,})").add_to(m)
    cmap.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    extent = shown if len(shown) else next((f for f, _ in (layers or {}).values() if len(f)), None)
    if extent is not None and len(extent):
        m.fit_bounds(_bounds(extent))
    note = f"Showing the top {len(shown):,} of {len(sites):,} sites. " if len(shown) < len(sites) else ""
    _add_text(m, title, (note + (footer or "")).strip())
    return m


def _add_text(m: folium.Map, title: str | None, footer: str | None) -> None:
    if title:
        m.get_root().html.add_child(folium.Element(
            '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;'
            'padding:4px 10px;border-radius:4px;font:16px sans-serif;box-shadow:0 1px 4px #888">'
            f"{escape([title]).iloc[0]}</div>"))
    if footer:
        m.get_root().html.add_child(folium.Element(
            '<div style="position:fixed;bottom:4px;left:60px;z-index:9999;background:white;'
            'padding:2px 8px;font:11px sans-serif;opacity:0.9;max-width:70%">'
            f"{escape([footer]).iloc[0]}</div>"))


def _near_miss_layer(result):
    """Candidates failing exactly one rule, with the rule and the gap in the tooltip."""
    nm = result.analysis.get("near_misses")
    if nm is None or not len(nm):
        return None
    cands = result.candidates.set_index("candidate_id").loc[nm["candidate_id"]].reset_index()
    cands = cands[~cands.geometry.is_empty & cands.geometry.notna()]
    nm = nm.set_index("candidate_id").loc[cands["candidate_id"]].reset_index()
    tip = ("Near miss " + escape(nm["candidate_id"]) + ": fails only " + escape(nm["rule"]) + " ("
           + escape(nm["measure"]) + " = " + _fmt(pd.to_numeric(nm["value"], errors="coerce")) + ", needs "
           + escape(nm["op"]) + " " + escape(nm["threshold"].astype(str)) + ")")
    props = pd.DataFrame({"tooltip": tip.to_numpy(),
                          "style": [_style("#fd8d3c", weight=2, fill_opacity=0.1)] * len(nm)})
    return _geojson(_to_web(gpd.GeoDataFrame(cands, geometry="geometry", crs=result.candidates.crs), 30.0), props,
                    f"Near misses ({len(nm):,}, fail one rule)", show=False)


def result_map(result, **kwargs) -> folium.Map:
    """Map of a :class:`SitingResult`: sites, parcels, exclusions, near misses and the other input layers."""
    layers: dict = {"Parcels": (result.layers["parcels"], "parcels")}
    excluded = {r.layer for r in result.scenario.constraints if r.rule == "outside"}
    for name, frame in result.layers.items():
        if name == "parcels":
            continue
        kind = "exclusion" if name in excluded else "context"
        layers[f"{'Excluded: ' if kind == 'exclusion' else ''}{name}"] = (frame, kind)
    sc = result.scenario
    footer = (f"Scenario {sc.name}; run {result.meta.get('started', datetime.now(UTC).isoformat())}; "
              f"analysis CRS {result.meta.get('working_crs')}; map EPSG:4326. Sources: "
              + ", ".join(sorted({r.source for reps in result.reports.values() for r in reps})))
    opts = {"layers": layers, "factors": sc.factors, "rules": result.rules,
            "title": sc.outputs.title or sc.name, "footer": footer,
            "max_sites": sc.outputs.map_max_sites}
    opts.update(kwargs)
    m = site_map(result.sites, **opts)
    near = _near_miss_layer(result)
    if near is not None:
        near.add_to(m)
        _move_layer_control_last(m)
    return m


def _move_layer_control_last(m: folium.Map) -> None:
    """Keep the layer control after every layer so that it lists them all."""
    controls = [(k, c) for k, c in m._children.items() if isinstance(c, folium.LayerControl)]
    for key, control in controls:
        del m._children[key]
        m._children[key] = control
