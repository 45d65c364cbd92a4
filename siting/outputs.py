"""Deliverables: GeoJSON (RFC 7946), GeoPackage, CSV, map and run report, written atomically.

:func:`save_result` writes everything into a temporary folder beside the
target, re-reads each file to check it, then moves the folder into place. A
failed or killed run leaves earlier outputs untouched and no partial files;
an existing output folder is never touched without ``overwrite=True``.

Files written (``formats`` selects):

* ``sites.geojson`` - RFC 7946: lon/lat (EPSG:4326), at most 7 decimals,
  counter-clockwise exterior rings, antimeridian cut by GDAL;
* ``siting.gpkg`` - layers ``sites`` and ``candidates`` (with the ledger),
  tables ``funnel``, ``ledger`` and ``rejects``;
* ``map.html`` - the interactive map;
* ``sites.csv`` (lon/lat of a point inside each site) and ``funnel.csv``;
* ``run.json`` - resolved scenario, package versions, input hashes,
  timings, layer reports, and a manifest (size, sha256) of every file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting import settings
from siting.errors import OutputError, OutputExistsError
from siting.geometry import keep_family

__all__ = ["check_output_dir", "save_result", "to_output_frame", "write_geojson", "write_gpkg"]

log = logging.getLogger(__name__)

FORMATS = ("geojson", "gpkg", "html", "csv")


def check_output_dir(out_dir, *, overwrite: bool = False, inputs=()) -> Path:
    """Refuse an existing, non-empty output folder unless ``overwrite`` (checked before a run).

    Also refuses a folder that holds any of the run's ``inputs`` (replacing it would delete them).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "x").write_text("1")
    1
    >>> check_output_dir(d)
    Traceback (most recent call last):
    ...
    siting.errors.OutputExistsError: output folder ... exists and is not empty; use --overwrite ...
    """
    out = Path(out_dir)
    if "\x00" in str(out_dir):
        raise OutputError("output path contains a NUL character")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output {out} exists and is a file; give a folder")
    root = out.resolve()
    for p in inputs:
        p = Path(p).resolve()
        if p == root or root in p.parents:
            raise OutputError(f"output folder {out} holds the input {p}; choose another output folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(f"output folder {out} exists and is not empty; use --overwrite "
                                "(overwrite=True) to replace it")
    return out


def to_output_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make a frame writable by every driver: plain dtypes, no lists, nullable ints kept."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object or str(s.dtype) in ("string", "str"):
            first = s.dropna().iloc[0] if s.notna().any() else None
            if isinstance(first, list | tuple | set | np.ndarray):
                s = s.map(lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray)
                          else v)
            out[col] = s.astype(object).where(s.notna(), None)
    return out


def _promote(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One geometry type per layer: Polygon+MultiPolygon -> MultiPolygon (lines likewise)."""
    types = set(gdf.geometry.geom_type.dropna())
    for family, pair in (("polygon", {"Polygon", "MultiPolygon"}),
                         ("line", {"LineString", "MultiLineString"})):
        if len(types) > 1 and types <= pair:
            geoms = keep_family(np.asarray(gdf.geometry.values, dtype=object), family)
            return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def write_geojson(gdf: gpd.GeoDataFrame, path) -> Path:
    """Write RFC 7946 GeoJSON (EPSG:4326, <= 7 decimals, CCW exteriors) and check it re-reads.

    Examples
    --------
    >>> import tempfile, json, geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[box(0, 0, 1000, 1000)], crs=5070)
    >>> p = write_geojson(g, tempfile.mkdtemp() + "/s.geojson")
    >>> json.loads(p.read_text())["features"][0]["properties"]
    {'site_id': 'a'}
    """
    path = Path(path)
    # GDAL reprojects to lon/lat itself and so can cut geometries at the antimeridian (A9)
    out = to_output_frame(gdf)
    pyogrio.write_dataframe(out, path, driver="GeoJSON", layer_options={
        "RFC7946": "YES", "COORDINATE_PRECISION": str(settings.GEOJSON_DECIMALS), "WRITE_NAME": "NO"})
    n = pyogrio.read_info(path)["features"]
    if n != len(gdf):
        raise OutputError(f"{path}: wrote {len(gdf)} features but re-read {n}")
    return path


def write_gpkg(path, layers: dict[str, pd.DataFrame]) -> Path:
    """Write a fresh GeoPackage with the given layers (spatial or plain tables) and check counts."""
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            data = _promote(to_output_frame(frame))
        else:
            data = frame.copy()
            for col in data.columns:
                if data[col].dtype == object:
                    data[col] = data[col].map(lambda v: None if v is None or v is pd.NA else
                                              (v if isinstance(v, str | bool | int | float) else str(v)))
        pyogrio.write_dataframe(data, path, layer=name, driver="GPKG")
    for name, frame in layers.items():
        n = pyogrio.read_info(path, layer=name)["features"]
        if n != len(frame):
            raise OutputError(f"{path} layer {name}: wrote {len(frame)} rows but re-read {n}")
    return path


def _sites_csv(sites: gpd.GeoDataFrame, path: Path) -> None:
    pts = gpd.GeoSeries(shapely.point_on_surface(sites.geometry.values), crs=sites.crs).to_crs(4326)
    table = to_output_frame(sites).drop(columns=sites.geometry.name)
    table.insert(1, "lon", np.round(pts.x.to_numpy(), 6))
    table.insert(2, "lat", np.round(pts.y.to_numpy(), 6))
    table.to_csv(path, index=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_columns(result) -> list[str]:
    """Columns of the delivered sites: ids, score, parcel attributes, factor breakdown."""
    base = ["site_id", "rank", "score", "tier", "median_rank", "rank_p05", "rank_p95", "p_top_k", "parcel_id",
            "agency", "manager_name", "designation", "gap_status", "unit_name", "state", "installation",
            "area_acres", "parcel_acres"]
    factor_cols = []
    for f in result.scenario.factors:
        extra = [c for c in result.sites.columns if c.startswith(f"{f.name}_")
                 and c not in (f.raw_column, f"{f.name}_score", f"{f.name}_weight", f"{f.name}_contrib")]
        factor_cols += [c for c in (f.raw_column, *extra, f"{f.name}_score", f"{f.name}_weight",
                                    f"{f.name}_contrib") if c in result.sites]
    return [c for c in base if c in result.sites.columns] + factor_cols + ["geometry"]


def _run_report(result, files: dict[str, Path]) -> dict:
    return {
        "scenario": result.scenario.model_dump(mode="json"),
        "summary": result.summary(),
        "meta": result.meta,
        "funnel": json.loads(result.funnel.to_json(orient="records")),
        "audit": json.loads(result.audit().to_json(orient="records")),
        "layers": {name: [r.to_dict() for r in reps] for name, reps in result.reports.items()},
        "rejects_by_reason": result.rejects.groupby(["layer", "reason"]).size().rename("count")
        .reset_index().to_dict(orient="records") if len(result.rejects) else [],
        "rejects": json.loads(result.rejects.drop(columns="wkt").to_json(orient="records")),
        "repairs": [i for reps in result.reports.values() for r in reps for i in r.issues],
        "files": {name: {"bytes": p.stat().st_size, "sha256": _sha256(p)} for name, p in files.items()},
    }


def slug(text: str) -> str:
    """A safe file-name part: letters, digits, ``_`` and ``-`` only (S4).

    Examples
    --------
    >>> slug("../../within substations")
    'within_substations'
    """
    out = re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)).strip("_.-")
    return out[:80] or "unnamed"


def _charts(result, tmp: Path) -> dict[str, Path]:
    try:
        from siting import plots

        plots._plt()
    except ImportError:
        log.info("matplotlib is not installed: analysis charts are not drawn (pip install 'siting[plot]')")
        return {}
    import matplotlib.pyplot as plt

    files = {}
    for rule, table in result.analysis.get("relaxation", {}).items():
        ax = plots.relaxation_plot(table, rule)
        files[f"relaxation_{slug(rule)}.png"] = tmp / f"relaxation_{slug(rule)}.png"
        ax.figure.savefig(files[f"relaxation_{slug(rule)}.png"])
        plt.close(ax.figure)
    if "sensitivity" in result.analysis and len(result.analysis["sensitivity"]):
        ax = plots.sensitivity_plot(result.analysis["sensitivity"])
        files["sensitivity.png"] = tmp / "sensitivity.png"
        ax.figure.savefig(files["sensitivity.png"])
        plt.close(ax.figure)
    return files


def _write_analysis(result, tmp: Path) -> dict[str, Path]:
    """near_misses.csv, sensitivity.csv, weight_sweeps.csv, relaxation_<rule>.csv (+ charts)."""
    files = {}
    tables = {k: v for k, v in result.analysis.items() if isinstance(v, pd.DataFrame)}
    for name, table in tables.items():
        path = tmp / f"{slug(name)}.csv"
        table.to_csv(path, index=name == "sensitivity")
        files[path.name] = path
    for rule, table in result.analysis.get("relaxation", {}).items():
        path = tmp / f"relaxation_{slug(rule)}.csv"
        table.to_csv(path, index=False)
        files[path.name] = path
    files.update(_charts(result, tmp))
    return files


def _write_all(result, tmp: Path, formats) -> None:
    sites = result.sites[site_columns(result)]
    files: dict[str, Path] = {}
    if "geojson" in formats:
        files["sites.geojson"] = write_geojson(sites, tmp / "sites.geojson")
    if "gpkg" in formats:
        files["siting.gpkg"] = write_gpkg(tmp / "siting.gpkg", {
            "sites": result.sites.drop(columns=["candidate_id"], errors="ignore"),
            "candidates": result.candidates, "funnel": result.funnel, "ledger": result.ledger,
            "rejects": result.rejects, **{k: v.reset_index() if k == "sensitivity" else v
                                          for k, v in result.analysis.items()
                                          if isinstance(v, pd.DataFrame) and len(v)}})
    if "csv" in formats:
        _sites_csv(sites, tmp / "sites.csv")
        files["sites.csv"] = tmp / "sites.csv"
    result.funnel.to_csv(tmp / "funnel.csv", index=False)
    files["funnel.csv"] = tmp / "funnel.csv"
    result.rejects.to_csv(tmp / "rejects.csv", index=False)
    files["rejects.csv"] = tmp / "rejects.csv"
    files.update(_write_analysis(result, tmp))
    if "html" in formats:
        result.map().save(str(tmp / "map.html"))
        files["map.html"] = tmp / "map.html"
    report = _run_report(result, files)
    (tmp / "run.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


def _remove_stale(out: Path) -> None:
    """Remove temporary folders left beside ``out`` by runs that were killed (their PID is gone)."""
    for p in out.parent.glob(f".{out.name}.*-*"):
        parts = p.name[len(out.name) + 2:].split("-")
        if len(parts) < 2 or parts[0] not in ("tmp", "old") or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        try:
            os.kill(pid, 0)
            alive = pid != os.getpid()
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive and p.is_dir():
            log.info("removing %s left by an interrupted run", p)
            shutil.rmtree(p, ignore_errors=True)


def save_result(result, out_dir, *, overwrite: bool = False, formats=None) -> Path:
    """Write a run's deliverables into ``out_dir`` (atomically; see the module docstring).

    Parameters
    ----------
    result : SitingResult
    out_dir : str or Path
    overwrite : bool
        Replace an existing, non-empty folder.
    formats : sequence of str, optional
        Subset of ``geojson``, ``gpkg``, ``html``, ``csv`` (default: the scenario's).

    Returns
    -------
    Path
        The output folder.
    """
    inputs = [i["path"] for i in result.meta.get("inputs", [])]
    out = check_output_dir(out_dir, overwrite=overwrite, inputs=inputs)
    formats = list(formats or result.scenario.outputs.formats)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise OutputError(f"unknown output format(s) {sorted(unknown)}; use {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual permissions
    try:
        _write_all(result, tmp, formats)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s (%s)", out, ", ".join(sorted(p.name for p in out.iterdir())))
    return out
