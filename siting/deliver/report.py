"""``siting report RESULT_DIR``: one self-contained HTML report of a run.

Sections: summary, the funnel of rules, the top sites with their scores, the static map (embedded
PNG) and a link to the interactive map, weight sensitivity, relaxation curves, near misses, and
every repair and rejection of the input data. Everything shown is HTML-escaped; images are embedded,
so the file opens anywhere without the network.

Examples
--------
>>> write_report("out/nevada")  # doctest: +SKIP
PosixPath('out/nevada/report.html')
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pandas as pd

from siting.core.errors import InputFileError

__all__ = ["write_report"]

MAX_REJECT_ROWS = 2000
_CSS = ("body{font:14px/1.4 sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
        "th{background:#f3f3f3}h2{border-bottom:2px solid #1a9850;margin-top:2em}.note{color:#666;font-size:12px}"
        "img{max-width:100%}")


def _table(df: pd.DataFrame, max_rows: int | None = None) -> str:
    if df is None or not len(df):
        return "<p class='note'>none</p>"
    shown = df.head(max_rows) if max_rows else df
    note = f"<p class='note'>first {len(shown):,} of {len(df):,} rows</p>" if len(shown) < len(df) else ""
    return shown.to_html(index=False, escape=True, float_format=_num, na_rep="") + note


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _img(path: Path) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _csv(result_dir: Path, name: str) -> pd.DataFrame | None:
    p = result_dir / name
    return pd.read_csv(p) if p.exists() and p.stat().st_size else None


def _summary(run: dict) -> str:
    s, meta = run.get("summary", {}), run.get("meta", {})
    w = meta.get("weights", {})
    rows = [("sites", f"{s.get('sites', 0):,}"), ("candidates", f"{s.get('candidates', 0):,}"),
            ("input acres", f"{s.get('input_acres', 0):,.0f}"),
            ("eligible acres", f"{s.get('eligible_acres', 0):,.0f}"),
            ("rejected input features", f"{s.get('rejected_features', 0):,}"),
            ("analysis CRS", str(meta.get("working_crs", ""))), ("run", str(meta.get("started", ""))),
            ("weights", f"{w.get('method', '')} {json.dumps(w.get('weights', {}))}"),
            ("AHP consistency ratio", str(w.get("consistency_ratio", "-"))),
            ("siting version", str(meta.get("versions", {}).get("siting", "")))]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _sites(result_dir: Path) -> pd.DataFrame | None:
    sites = _csv(result_dir, "sites.csv")
    if sites is None:
        return None
    keep = [c for c in sites.columns if c in ("site_id", "rank", "score", "tier", "median_rank", "rank_p05",
                                              "rank_p95", "p_top_k", "agency", "unit_name", "installation",
                                              "area_acres", "lon", "lat") or c.endswith(("_score",))]
    return sites.sort_values("rank")[keep]


def _repairs(run: dict) -> pd.DataFrame:
    rows = run.get("repairs", [])
    return pd.DataFrame(rows)[["layer", "field", "problem", "count", "action", "examples"]] if rows else pd.DataFrame()


def write_report(result_dir, path=None) -> Path:
    """Write ``report.html`` for a result folder (see the module docstring); returns its path."""
    result_dir = Path(result_dir)
    run_path = result_dir / "run.json"
    if not run_path.exists():
        raise InputFileError(f"{result_dir} has no run.json; run `siting run` first")
    run = json.loads(run_path.read_text())
    path = Path(path) if path else result_dir / "report.html"
    static = result_dir / "map.png"
    if not static.exists() and (result_dir / "siting.gpkg").exists():
        from siting.deliver.static import static_map

        static = static_map(result_dir, result_dir / ".report_map.png", dpi=110)
    rejects = _csv(result_dir, "rejects.csv")
    name = html.escape(run.get("scenario", {}).get("name", "siting"))
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>siting report: {name}</title>"
        f"<style>{_CSS}</style></head><body><h1>Siting report: {name}</h1>",
        "<h2>Summary</h2>", _summary(run),
        "<h2>Funnel of rules</h2>", _table(_csv(result_dir, "funnel.csv")),
        "<h2>Top sites</h2>", _table(_sites(result_dir), 25),
        "<h2>Map</h2><p><a href='map.html'>Open the interactive map</a> (map.html, beside this report).</p>",
        _img(static),
        "<h2>Weight sensitivity</h2>", _img(result_dir / "sensitivity.png"),
        _table(_csv(result_dir, "sensitivity.csv"), 25),
        "<h2>Relaxation curves</h2>", "".join(_img(p) for p in sorted(result_dir.glob("relaxation_*.png"))),
        "<h2>Near misses</h2><p class='note'>Candidates that fail exactly one rule.</p>",
        _table(_csv(result_dir, "near_misses.csv"), 50),
        "<h2>Input data: repairs</h2>", _table(_repairs(run)),
        "<h2>Input data: rejected features</h2>", _table(rejects, MAX_REJECT_ROWS),
        "</body></html>"]
    if static.name.startswith(".report_map"):
        static.unlink()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
