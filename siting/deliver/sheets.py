"""Site fact sheets: one page per site, HTML and PDF, with what an agency asks for first.

``siting sheets RESULT_DIR --top 20`` (or ``result.sheets(...)``) writes ``sheets/<site>.html`` and
``sheets/<site>.pdf`` for the best sites, and ``sheets/index.html``. Each page has: the locator and
site maps, land status (agency, unit, designation, class, installation, legal description, overrides),
every rule with its value, threshold and margin, every factor with its raw value, score, weight and
contribution (and its parts), the nearest infrastructure with names and distances, the deposits within
the feedstock haul radius by commodity and critical-mineral group, rank stability under perturbed
weights, and the sources. Pages are self-contained (maps embedded) and print on Letter paper
(:mod:`siting.deliver.pdf`).

Examples
--------
>>> margin(4_000.0, "<=", 5_000.0), margin(7.0, ">=", 5.0), margin("BLM", "in", "[BLM]")
(1000.0, 2.0, None)
"""

from __future__ import annotations

import base64
import html
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.core.errors import MissingDependencyError, warn
from siting.deliver.pdf import print_pdf
from siting.deliver.provenance import provenance
from siting.deliver.sheet_maps import site_maps
from siting.geo import geodesy
from siting.io import minerals

__all__ = ["margin", "write_sheets"]

log = logging.getLogger(__name__)

_LAND = [("agency", "land manager"), ("manager_name", "manager"), ("unit_name", "unit"),
         ("designation", "designation"), ("gap_status", "GAP status"), ("candidate_class", "class"),
         ("installation", "DoD installation"), ("installation_m", "to the installation (m)"),
         ("plss_description", "legal description"), ("overrides", "override"), ("area_acres", "eligible acres")]
_CSS = """body{font-family:Helvetica,Arial,sans-serif;font-size:10pt;margin:1.2em;color:#222}
h1{font-size:15pt;margin:0}h2{font-size:11pt;margin:1em 0 .3em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;font-size:8.5pt}td,th{border:1px solid #ccc;padding:2px 4px;
text-align:left;vertical-align:top}th{background:#f0f0f0}.fail{color:#b00;font-weight:bold}
.note{color:#555;font-size:8pt}img{width:100%}@page{size:Letter;margin:12mm}"""


def margin(value, op: str, threshold):
    """How far a value is inside its threshold (positive: passes with room), or None for non-numbers."""
    try:
        v, t = float(value), float(threshold)
    except (TypeError, ValueError):
        return None
    if np.isnan(v) or op not in ("<=", ">="):
        return None
    return t - v if op == "<=" else v - t


def write_sheets(result, out=None, *, top: int = 20, pdf: bool = True) -> list[Path]:
    """Write the fact sheets of the best ``top`` sites; returns the HTML files (PDFs beside them).

    Parameters
    ----------
    result : SitingResult
    out : str or Path, optional
        Folder for the sheets (default: ``sheets`` in the result's folder, else ``./sheets``).
    top : int
    pdf : bool
        Also print each sheet to PDF with Chromium (a warning, and HTML only, without it).

    Examples
    --------
    >>> import siting, tempfile
    >>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
    ...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
    >>> pages = write_sheets(siting.run(small, progress=False), tempfile.mkdtemp(), top=2, pdf=False)
    >>> [p.suffix for p in pages]
    ['.html', '.html']
    """
    folder = Path(out) if out is not None else Path(result.meta.get("folder", ".")) / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    sites = result.sites.sort_values("rank").reset_index(drop=True) if "rank" in result.sites else result.sites
    pages = []
    for row in range(min(top, len(sites))):
        page = folder / f"{_safe(sites['site_id'].iloc[row])}.html"
        page.write_text(_page(result, sites, row), encoding="utf-8")
        pages.append(page)
    (folder / "index.html").write_text(_index(sites.head(len(pages)), pages), encoding="utf-8")
    if pdf:
        _print_all(pages)
    log.info("wrote %d fact sheets to %s", len(pages), folder)
    return pages


def _print_all(pages: list[Path]) -> None:
    try:
        for page in pages:
            print_pdf(page, page.with_suffix(".pdf"))
    except MissingDependencyError as exc:
        warn(str(exc))


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def _esc(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "NA"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}" if abs(float(value)) >= 1000 else f"{float(value):.4g}"
    return html.escape(str(value))


def _num(value):
    """A ledger value as a number where it is one (the long ledger keeps values as text)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _table(headers: list[str], rows: list[list], fail_col: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = ""
    for r in rows:
        cls = ' class="fail"' if fail_col is not None and r[fail_col] is False else ""
        body += "<tr>" + "".join(f"<td{cls if i == fail_col else ''}>{_esc(v)}</td>" for i, v in enumerate(r)) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(result, sites: pd.DataFrame, row: int) -> str:
    site = sites.iloc[row]
    centre = gpd.GeoSeries([site.geometry.centroid], crs=sites.crs).to_crs(4326).iloc[0]
    lon, lat = centre.x, centre.y
    title = f"Site {site['site_id']}"
    parts = [f"<h1>{html.escape(title)}</h1><p>rank {_esc(site.get('rank'))}, score {_esc(site.get('score'))}"
             f", tier {_esc(site.get('tier'))}; centre {float(lat):.5f}, {float(lon):.5f} (lat, lon)</p>",
             _maps(result, sites, row), "<h2>Land status</h2>" + _land(site), "<h2>Rules</h2>" + _rules(result, site),
             "<h2>Factors</h2>" + _factors(result, site), "<h2>Nearest infrastructure</h2>" + _nearest(result, site),
             "<h2>Deposits within the haul radius</h2>" + _deposits(result, sites, row),
             "<h2>Rank stability</h2>" + _stability(site), "<h2>Sources</h2>" + _sources(result)]
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")


def _maps(result, sites, row) -> str:
    try:
        png = site_maps(sites, row, result.layers)
    except MissingDependencyError as exc:
        return f"<p class='note'>No maps: {html.escape(str(exc))}</p>"
    return f"<img alt='locator and site maps' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _land(site) -> str:
    rows = [[label, site[col]] for col, label in _LAND if col in site.index and _esc(site[col]) not in ("", "NA")]
    return _table(["", ""], rows)


def _rules(result, site) -> str:
    ledger = result.ledger[result.ledger["candidate_id"] == site["site_id"]] if len(result.ledger) else result.ledger
    if not len(ledger):
        return "<p class='note'>The ledger of this run was not saved.</p>"
    rows = [[r["rule"], _num(r["value"]), f"{r['op']} {_esc(_num(r['threshold']))}",
             margin(r["value"], r["op"], r["threshold"]),
             bool(r["passed"]), (r.get("override") or "") + ("" if r.get("applies", True) else "not applicable")]
            for _, r in ledger.iterrows()]
    return _table(["rule", "value", "needs", "margin", "passed", "note"], rows, fail_col=4)


def _factors(result, site) -> str:
    rows = []
    for f in result.scenario.factors:
        rows.append([f.name, f.describe(), site.get(f.raw_column), site.get(f"{f.name}_score"),
                     site.get(f"{f.name}_weight"), site.get(f"{f.name}_contrib")])
        own = {f.raw_column, f"{f.name}_score", f"{f.name}_weight", f"{f.name}_contrib"}
        rows += [["", f"  {col}", site[col], "", "", ""] for col in site.index
                 if str(col).startswith(f"{f.name}_") and col not in own]
    return _table(["factor", "measures", "raw", "score", "weight", "contribution"], rows)


def _nearest(result, site) -> str:
    rows = [[f.distance_to, site.get(f"{f.name}_nearest"), site.get(f.raw_column)]
            for f in result.scenario.factors if f.kind == "distance_to" and f.raw_column in site.index]
    if not rows:
        return "<p class='note'>No distance factor in this scenario.</p>"
    return _table(["layer", "nearest", "distance on the ground (m)"], rows)


def _deposits(result, sites, row) -> str:
    feed = [f for f in result.scenario.factors if f.kind == "feedstock"]
    if not feed or feed[0].feedstock not in result.layers:
        return "<p class='note'>No feedstock factor (or its deposit layer) in this result.</p>"
    f = feed[0]
    deps = result.layers[f.feedstock]
    geom = sites.geometry.values[row]
    ground = geodesy.ground_of(sites.crs)
    x0, y0, x1, y1 = geom.bounds
    r = f.radius_m
    s_max = ground.scale_range((x0 - 2 * r, y0 - 2 * r, x1 + 2 * r, y1 + 2 * r))[1] if ground is not None else 1.0
    near = deps[np.asarray(deps.distance(geom)) <= r * s_max]  # certified: nothing nearer on the ground is left out
    if len(near) and ground is not None:  # measured on the ellipsoid
        d = geodesy.pair_distance(np.repeat(np.array([geom], dtype=object), len(near)),
                                  np.asarray(near.geometry.values, dtype=object), ground)
        near = near[d <= f.radius_m]
    commodities = near["commodities"].fillna("").str.split(";").explode()
    counts = commodities[commodities != ""].value_counts()
    groups = {g: minerals.expand([g]) for g in minerals.group_names()}
    rows = [[c, int(n), "yes" if minerals.is_critical([c]) else "no",
             ", ".join(g for g, members in groups.items() if c in members)] for c, n in counts.items()]
    head = f"<p>{len(near):,} deposits within {f.radius_m / 1000:g} km on the ground ({f.feedstock}).</p>"
    return head + _table(["commodity", "deposits", "critical (2025 list)", "groups"], rows)


def _stability(site) -> str:
    if "median_rank" not in site.index:
        return "<p class='note'>No weight sensitivity in this run (analysis.sensitivity).</p>"
    return _table(["median rank", "5-95 % range", "P(top k)"],
                  [[site["median_rank"], f"{_esc(site['rank_p05'])}-{_esc(site['rank_p95'])}", site["p_top_k"]]])


def _sources(result) -> str:
    rows = [[e.get("layer") or e.get("raster"), e["file"], e.get("vintage") or "", (e.get("sha256") or "")[:12],
             e.get("citation") or e.get("source") or ""] for e in provenance(result)["inputs"]]
    note = ("<p class='note'>Distances and rule decisions hold on the WGS84 ellipsoid; areas are in the working "
            f"CRS ({html.escape(str(result.meta.get('working_crs', '')))}).</p>")
    return _table(["layer", "file", "vintage", "SHA-256 (first 12)", "source / citation"], rows) + note


def _index(sites: pd.DataFrame, pages: list[Path]) -> str:
    rows = "".join(f"<tr><td>{_esc(s.get('rank'))}</td><td><a href='{p.name}'>{html.escape(str(s['site_id']))}</a>"
                   f"</td><td>{_esc(s.get('score'))}</td><td>{_esc(s.get('area_acres'))}</td></tr>"
                   for (_, s), p in zip(sites.iterrows(), pages, strict=True))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Fact sheets</title><style>{_CSS}</style>"
            f"</head><body><h1>Fact sheets</h1><table><tr><th>rank</th><th>site</th><th>score</th><th>acres</th>"
            f"</tr>{rows}</table></body></html>")
