"""Interactive deliverable maps.

:func:`site_map` draws any sites GeoDataFrame: sites coloured by score (or tier) with a legend,
popups with the score breakdown, the ledger and the weight sensitivity, tooltips, and one toggleable
FeatureGroup per input layer (parcels, excluded land per rule, near misses, deposits by commodity
group, power lines by voltage, ...) under a layer control, over the packaged basemap (state and
county outlines, towns), with fullscreen and measure controls, a title, and a footer with the
sources, data dates, run date and CRS.

Large results stay usable: beyond ``max_sites`` polygons only the best ``max_sites`` are drawn as
polygons, the sites (at most the best ``max_points``) are shown as clustered points, and the layer
names say how many of how many are drawn.

Attribute values are never run as code: every value, field name, caption, title and footer is
HTML-escaped and backticks and ``${`` are neutralised before reaching the page. Popups and
tooltips are bound from escaped feature properties by a fixed script, never through folium's
``GeoJsonPopup``/``Tooltip`` (which insert raw values, see BAD_INPUTS S1). Styles are static per
feature (no O(n^2) ``style_function``).

Network: none by default. Leaflet, jQuery, Bootstrap and the plugins are inlined (from the
``folium-offline`` package, maintained for folium's releases), the basemap is vector data in the
page, and web tiles are an extra layer that requests nothing until the reader ticks it.
``offline=True`` leaves web tiles out altogether; ``cdn=True`` loads the scripts from public CDNs
instead (a smaller file that is blank without internet).

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
import re

import branca
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins

from siting.core.errors import ScenarioError
from siting.deliver.basemap import CREDIT, add_basemap
from siting.deliver.bulk import binned_sites, cluster_points, site_rows, within_budget
from siting.deliver.folium_adapter import OfflineFigure
from siting.deliver.web import _bounds, _fmt, _geojson, _group, _html, _style, _to_web, escape
from siting.io import minerals
from siting.schema import AGENCY_COLOURS, SCORE_RAMP, TIER_COLOURS

__all__ = ["escape", "score_colours", "site_map"]

_VOLT_COLOURS = [(345, "#b2182b"), (230, "#ef8a62"), (115, "#fdae61"), (0, "#999999")]
_GROUP_COLOURS = [("china_export_controls", "#d7301f", "China export controls"),
                  ("rare_earths", "#7a0177", "rare earths"), ("battery", "#2171b5", "battery minerals")]
CLUSTER_ABOVE = 1500






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
        note = sites["overrides"].astype(object).fillna("").astype(str)
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
    pts = gpd.GeoSeries(shapely.point_on_surface(sites.geometry.values), crs=sites.crs)
    cluster_points(pts, site_rows(sites, escape(sites["site_id"]).tolist()), colours).add_to(_group(m, name))


def _binned_layer(m, sites, cmap) -> None:
    """Every site, binned in equal-area cells coloured by their best score (for results beyond max_points)."""
    bins = binned_sites(sites)
    tips = (_fmt(bins["n_sites"]) + " sites; best score " + _fmt(bins["best_score"]) + " (site "
            + escape(bins["best_site"]) + "), mean " + _fmt(bins["mean_score"]))
    styles = [_style(c, weight=0.5, fill_opacity=0.45) for c in score_colours(bins["best_score"].to_numpy(), cmap)]
    props = pd.DataFrame({"tooltip": tips.to_numpy(), "style": styles})
    name = f"All {len(sites):,} sites in {bins['cell_km'].iloc[0]:g} km cells (colour: best score)"
    _geojson(_to_web(bins, 0.0), props).add_to(_group(m, name))


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
    tip = escape([name + ": "]).iloc[0] + escape(label).set_axis(frame.index)  # one prefix; a missing name: ""
    if "agency" in frame:
        tip = tip + " (" + escape(frame["agency"]).set_axis(frame.index) + ")"
        colours = frame["agency"].astype(object).map(AGENCY_COLOURS).fillna("#bbb")  # categorical: as text first
        styles = [_style(c, weight=0.8, fill_opacity=0.15) for c in colours]
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


def _context_layer(m, frame: gpd.GeoDataFrame | None, name: str, kind: str, max_features: int,
                   max_vertices: int) -> bool:
    """Draw one input layer; True when a cap (features or vertices) left something out or coarser."""
    if frame is None or not len(frame):
        return False
    n = len(frame)
    note = f" (first {max_features:,} of {n:,})" if n > max_features else ""
    frame = frame.head(max_features).reset_index(drop=True)
    family = str(frame.geometry.geom_type.iloc[0])
    props = _context_props(frame, name, kind)
    if "Point" in family and len(frame) > CLUSTER_ABOVE:
        cluster_points(frame.geometry, [[t] for t in props["tooltip"]], [st["color"] for st in props["style"]]).add_to(
            _group(m, name + note, show=False))
        return bool(note)
    metres = 1.0 if frame.crs is not None and not frame.crs.is_geographic else 1 / 111_000
    geoms, tol, fit = within_budget(frame.geometry.values, 30.0 * metres, max_vertices)
    if fit < len(frame):  # the outlines' rings alone are over the vertex budget: the first that fit
        note = f" (first {fit:,} of {n:,} within {max_vertices:,} vertices)"
        frame, props = frame.iloc[:fit], props.iloc[:fit]
    if tol > 30.0 * metres:
        note += f" (outlines simplified to {tol / metres:,.0f} m)"
    group = _group(m, name + note, show=kind in ("parcels", "eligible"))
    marker = folium.CircleMarker(radius=3) if "Point" in family else None
    _geojson(_to_web(frame.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs)), 0.0), props, marker=marker).add_to(group)
    return bool(note)


def _bounds_of(shown, layers):
    extent = shown if len(shown) else next((f for f, _ in (layers or {}).values() if f is not None and len(f)), None)
    return _bounds(extent) if extent is not None and len(extent) else None


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


def _tile_kind(tiles, attr: str | None) -> str | None:
    """``None`` (no tiles), ``"web"`` (named basemap or an http(s) template) or ``"local"`` (a local template)."""
    if tiles is None:
        return None
    custom = "/" in str(tiles)  # a URL template, not a named basemap
    web = not custom or bool(re.match(r"^(https?:)?//", str(tiles)))
    if custom and web and not attr:
        raise ScenarioError(f"custom tiles {tiles!r} need an attribution (their licence asks for it): give "
                            "attr='(c) provider' (scenario: outputs.map_attribution)")
    return "web" if web else "local"


def _new_map(tiles, offline: bool, cdn: bool, location=None, attr: str | None = None) -> folium.Map:
    """A map whose assets are inlined (unless ``cdn``); web tiles an extra layer, off until ticked."""
    if offline and cdn:
        raise ScenarioError("offline=True inlines every script; cdn=True asks for the opposite: choose one")
    kind = _tile_kind(tiles, attr)
    m = folium.Map(location=location, zoom_start=6, tiles=None, control_scale=True, prefer_canvas=True, max_zoom=19)
    m.options["max_zoom"] = 19  # marker clusters need the map's own maxZoom (tiles=None sets none)
    if kind == "local":
        folium.TileLayer(tiles, attr=attr or "local tiles", name="Local tiles", overlay=True).add_to(m)
    elif kind == "web" and not offline:  # requested only once the reader ticks the layer
        folium.TileLayer(tiles, attr=attr, name=f"Web tiles: {escape([tiles]).iloc[0]} (needs internet)",
                         overlay=True, show=False).add_to(m)
    if not cdn:
        OfflineFigure().add_child(m)
    return m


def _controls(m: folium.Map, tiles, cdn: bool) -> None:
    """Fullscreen and measure controls, and a minimap of a named web basemap when the page is online anyway."""
    plugins.Fullscreen().add_to(m)
    if cdn and tiles and "/" not in str(tiles):  # a minimap loads its tiles at once: only on an online page
        plugins.MiniMap(tile_layer=tiles, toggle_display=True).add_to(m)
    plugins.MeasureControl(primary_length_unit="kilometers", primary_area_unit="hectares").add_to(m)


def site_map(sites: gpd.GeoDataFrame, *, layers: dict | None = None, m: folium.Map | None = None,
             tiles: str | None = "OpenStreetMap", factors=(), rules=None, title: str | None = None,
             footer: str | None = None, max_sites: int = 2000, max_points: int = 25_000, color_by: str = "score",
             offline: bool = False, cdn: bool = False, basemap: bool = True, controls: bool = True,
             attr: str | None = None, max_features: int = 3000, max_vertices: int = 30_000, **style) -> folium.Map:
    """Build the interactive map of scored sites (self-contained: it opens with no network).

    Parameters
    ----------
    sites : GeoDataFrame
        With ``site_id`` and ``score`` (and ``rank``, ``tier``, factor and ledger columns).
    layers : dict, optional
        ``{name: (GeoDataFrame, kind)}``; kind ``parcels`` (shown), ``exclusion``, ``near_miss``
        or ``context`` (hidden at first); each becomes a toggleable FeatureGroup.
    m : folium.Map, optional
        A map to add to (no basemap is added to it).
    tiles : str or None
        Web tiles as an extra layer, off until the reader ticks it (so nothing is requested before):
        a named basemap (``"OpenStreetMap"``, ``"CartoDB positron"``), a tile URL template
        (``"https://host/{z}/{x}/{y}.png"``, which needs ``attr``), or ``None``. A local template
        (``"tiles/{z}/{x}/{y}.png"``) is drawn from the start (it works offline).
    factors, rules : sequence of Factor, DataFrame
        For the score breakdown and the ledger (``SitingResult.rules``) in popups.
    title, footer : str, optional
        Escaped text shown on the map.
    max_sites, max_points : int
        The best ``max_sites`` by rank are drawn as polygons, the best ``max_points`` as clustered points,
        and beyond that every site in equal-area cells coloured by their best score (the layers' names
        and the footer say so; every site is in the GeoPackage and GeoParquet outputs).
    max_features, max_vertices : int
        Each input layer draws at most ``max_features`` features, its outlines simplified until it has
        at most ``max_vertices`` vertices (the layer's name and the footer say so).
    color_by : {"score", "tier"}
    offline : bool
        Leave web tiles out altogether (a page that can never make a request).
    cdn : bool
        Load Leaflet and the plugins from public CDNs instead of inlining them (a smaller file that is
        blank without internet; it also adds a minimap of ``tiles``).
    basemap, controls : bool
        Draw the packaged basemap (state and county outlines, towns; :mod:`siting.deliver.basemap`)
        under the sites; add fullscreen and measure controls.
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
    n_drawn = min(len(sites), max(max_sites, max_points))
    ranked = sites.nsmallest(n_drawn, "rank", keep="first") if "rank" in sites else sites.head(n_drawn)
    ranked = ranked.reset_index(drop=True)  # the drawn sites only: a national result is not copied
    bounds = _bounds_of(ranked.head(max_sites), layers)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    new = m is None
    if m is None:
        m = _new_map(tiles, offline, cdn, centre, attr)  # a view from the start (clusters need one)
    if new and basemap:
        add_basemap(m, bounds or [[24.0, -125.0], [50.0, -66.0]])
    capped = False
    for name, (frame, kind) in (layers or {}).items():
        capped |= _context_layer(m, frame, name, kind, max_features, max_vertices)
        if frame is not None and "commodities" in frame and len(frame):
            _deposit_legend(m)
    cmap = branca.colormap.LinearColormap(style.get("cmap", SCORE_RAMP),
                                          vmin=0.0, vmax=1.0, caption="Site score (0 = worst, 1 = best)")
    _draw_sites(m, sites, ranked, cmap, color_by, factors, rules, max_sites, max_points)
    cmap.add_to(m)
    if controls:
        _controls(m, tiles, cdn)
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds:
        m.fit_bounds(bounds)
    notes = _cap_notes(len(sites), max_sites, max_points, capped, max_features, max_vertices)
    credit = f". {CREDIT}." if new and basemap else ""
    _add_text(m, title, (notes + (footer or "") + credit).strip())
    return m


def _draw_sites(m, sites, ranked, cmap, color_by, factors, rules, max_sites: int, max_points: int) -> None:
    """Bins of every site (beyond max_points), the best as clustered points (beyond max_sites), the best as polygons."""
    n_sites, shown = len(sites), ranked.head(max_sites)
    rules = rules if rules is not None else pd.DataFrame(columns=["rule", "op", "threshold"])
    colours = _colours(ranked, color_by, cmap, sites.get("tier"))
    if n_sites > max_points:
        _binned_layer(m, sites, cmap)
    if n_sites > max_sites:
        label = f"All {n_sites:,} sites (points)" if n_sites <= max_points else \
            f"Best {max_points:,} of {n_sites:,} sites (points; all are in siting.gpkg)"
        _all_sites_points(m, ranked.head(max_points), colours[:max_points], label)
    if len(shown):
        _sites_layer(m, shown, factors, rules, colours[:len(shown)], f"Sites ({len(shown):,})")


def _cap_notes(n_sites: int, max_sites: int, max_points: int, capped: bool, max_features: int,
               max_vertices: int) -> str:
    """What the map leaves out or draws coarser, and how to lift each cap."""
    notes = ""
    if n_sites > max_sites:
        points = "every site" if n_sites <= max_points else \
            f"the best {max_points:,} (and every site in summary cells)"
        notes += (f"Showing the best {max_sites:,} of {n_sites:,} sites as polygons; {points} as clustered points "
                  "(raise outputs.map_max_sites / map_max_points to draw more; every site is in siting.gpkg). ")
    if capped:
        notes += (f"Input layers show at most {max_features:,} features and {max_vertices:,} vertices each, as "
                  "their names say (result.map(max_features=..., max_vertices=...) draws more). ")
    return notes
