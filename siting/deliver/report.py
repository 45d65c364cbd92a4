"""``siting report RESULT_DIR``: one self-contained HTML report of a run.

Sections: summary, the funnel of rules, the top sites with their scores, the static map (embedded
PNG) and a link to the interactive map, weight sensitivity, relaxation curves, near misses, and
every repair and rejection of the input data. Everything shown is HTML-escaped; images are embedded,
so the file opens anywhere without the network.

Examples
--------
>>> write_report("out/nevada")  # doctest: +SKIP
PosixPath('out/nevada/report.html')

The report is drawn from a :class:`~siting.SitingResult`; a folder is read with :func:`siting.load_result`.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from siting.core.errors import InputFileError, MissingDependencyError
from siting.deliver.provenance import provenance
from siting.deliver.static import static_map

__all__ = ["write_report"]

MAX_REJECT_ROWS = 2000
_CSS = ("body{font:14px/1.4 sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
        "th{background:#f3f3f3}h2{border-bottom:2px solid #1a9850;margin-top:2em}.note{color:#666;font-size:12px}"
        "img{max-width:100%}.scroll{overflow-x:auto;max-width:100%}")


def _table(df: pd.DataFrame, max_rows: int | None = None) -> str:
    if df is None or not len(df):
        return "<p class='note'>none</p>"
    shown = df.head(max_rows) if max_rows else df
    note = f"<p class='note'>first {len(shown):,} of {len(df):,} rows</p>" if len(shown) < len(df) else ""
    table = shown.to_html(index=False, escape=True, float_format=_num, na_rep="")
    return f"<div class='scroll'>{table}</div>" + note  # wide tables scroll instead of overflowing the page


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _png(draw) -> str:
    """``draw(path)`` into a temporary PNG, embedded as a data URI ("" when matplotlib is missing)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "chart.png"
        try:
            draw(target)
        except MissingDependencyError:
            return "<p class='note'>chart not drawn: pip install 'siting[plot]'</p>"
        data = base64.b64encode(target.read_bytes()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _chart(plot, table: pd.DataFrame, *args, size=(6, 3.5)) -> str:
    def draw(path):
        from siting.deliver import plots

        plots.figure_of(getattr(plots, plot)(table, *args, ax=plots.figure_axes(size))).savefig(path)

    return _png(draw)


def _summary(result) -> str:
    s, meta = result.summary(), result.meta
    w = meta.get("weights", {})
    rows = [("sites", f"{s['sites']:,}"), ("candidates", f"{s['candidates']:,}"),
            ("input acres", f"{s['input_acres']:,.0f}"),
            ("eligible acres (land passing the land rules)", f"{s['eligible_acres']:,.0f}"),
            ("site acres (the sites)", f"{s['site_acres']:,.0f}"),
            ("rejected input features", f"{s['rejected_features']:,}"),
            ("analysis CRS", str(meta.get("working_crs", ""))), ("run", str(meta.get("started", ""))),
            ("weights", f"{w.get('method', '')} {json.dumps(w.get('weights', {}))}"),
            ("AHP consistency ratio", str(w.get("consistency_ratio", "-"))),
            ("siting version", str(meta.get("versions", {}).get("siting", "")))]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _sites(result) -> pd.DataFrame:
    sites = result.sites.sort_values("rank") if "rank" in result.sites else result.sites
    keep = [c for c in sites.columns if c in ("site_id", "rank", "score", "tier", "median_rank", "rank_p05",
                                              "rank_p95", "p_top_k", "agency", "unit_name", "installation",
                                              "installation_m", "area_acres") or c.endswith(("_score",))]
    table = pd.DataFrame(sites[keep])
    if len(sites):
        pts = gpd.GeoSeries(shapely.point_on_surface(sites.geometry.values), crs=sites.crs).to_crs(4326)
        table["lon"], table["lat"] = pts.x.round(5).to_numpy(), pts.y.round(5).to_numpy()
    return table


def _repairs(result) -> pd.DataFrame:
    rows = [i for reps in result.reports.values() for r in reps for i in r.issues]
    return pd.DataFrame(rows)[["layer", "field", "problem", "count", "action", "examples"]] if rows else pd.DataFrame()


def write_report(result, path=None) -> Path:
    """Write the HTML report of a result (see the module docstring); returns its path.

    Parameters
    ----------
    result : SitingResult, str or Path
        A result, or a folder written by ``siting run`` (read with :func:`siting.load_result`).
    path : str or Path, optional
        Where to write; default ``report.html`` in the result's folder (needed for a result that
        was not loaded from a folder).

    Examples
    --------
    >>> import siting, tempfile
    >>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
    ...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
    >>> out = write_report(siting.run(small, progress=False), tempfile.mkdtemp() + "/report.html")
    >>> "Funnel of rules" in out.read_text()
    True
    """
    if not hasattr(result, "sites"):
        from siting.core.saved import load_result

        result = load_result(result)
    if path is None:
        if "folder" not in result.meta:
            raise InputFileError("give the report's path: this result was not loaded from an output folder")
        path = Path(result.meta["folder"]) / "report.html"
    path = Path(path)
    name = html.escape(result.scenario.name)
    sens = result.analysis.get("sensitivity")
    relax = result.analysis.get("relaxation", {})
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>siting report: {name}</title>"
        f"<style>{_CSS}</style></head><body><h1>Siting report: {name}</h1>",
        "<h2>Summary</h2>", _summary(result),
        "<h2>Funnel of rules</h2>", _table(result.funnel),
        "<h2>Top sites</h2>", _table(_sites(result), 25),
        "<h2>Map</h2><p><a href='map.html'>Open the interactive map</a> (map.html, beside this report).</p>",
        _png(lambda p: static_map(result, p, dpi=110)) if len(result.sites) else "",
        "<h2>Weight sensitivity</h2>",
        _chart("sensitivity_plot", sens, size=(6, 0.25 * min(len(sens), 25) + 1.5)) if sens is not None and len(sens)
        else "<p class='note'>none: the scenario asks for no weight sensitivity (analysis: sensitivity)</p>",
        _table(sens.reset_index() if sens is not None else None, 25),
        "<h2>Relaxation curves</h2>", "".join(_chart("relaxation_plot", tab, rule) for rule, tab in relax.items())
        or "<p class='note'>none: the scenario asks for no relaxation curve (analysis: relaxation: [...])</p>",
        "<h2>Near misses</h2><p class='note'>Candidates that fail exactly one rule.</p>",
        _table(result.analysis.get("near_misses"), 50),
        "<h2>Sources</h2>", _table(pd.DataFrame(provenance(result)["inputs"])),
        "<h2>Input data: repairs</h2>", _table(_repairs(result)),
        "<h2>Input data: rejected features</h2>", _table(result.rejects, MAX_REJECT_ROWS),
        "</body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
