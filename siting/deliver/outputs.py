"""Deliverables: GeoJSON (RFC 7946), GeoPackage, CSV, map and run report, written atomically.

:func:`save_result` writes everything into a temporary folder beside the
target, re-reads each file to check it, then moves the folder into place. A
failed or killed run leaves earlier outputs untouched and no partial files;
an existing output folder is never touched without ``overwrite=True``.

Files written (``formats`` selects):

* ``sites.geojson`` - RFC 7946: lon/lat (EPSG:4326), at most 7 decimals,
  counter-clockwise exterior rings, antimeridian cut (``outputs.geojson_max_sites``
  keeps only the best sites);
* ``siting.gpkg`` - layers ``sites`` and ``candidates`` (with the ledger),
  tables ``funnel``, ``ledger`` and ``rejects``; candidates and input layers
  above ``outputs.gpkg_max_rows`` go to ``<name>.parquet`` instead, and a
  long-form ledger that large is not written (the candidates hold it as columns);
* ``sites.parquet``, ``candidates.parquet`` - GeoParquet (``outputs.geoparquet``);
* ``map.html`` - the interactive map;
* ``sites.csv`` (lon/lat of a point inside each site) and ``funnel.csv``;
* ``run.json`` - resolved scenario, package versions, input hashes,
  timings, layer reports, a manifest (size, sha256) of every file, and
  ``notes`` on what was capped or moved.
* ``PROVENANCE.json`` - the run and every input with its hash, vintage and
  (for fetched datasets) citation; the same is in sites.geojson (``siting``
  member) and in siting.gpkg's metadata table.

Examples
--------
>>> import siting, tempfile
>>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}], "outputs": {"formats": ["csv"]}}
>>> out = save_result(siting.run(small, progress=False), tempfile.mkdtemp() + "/out")
>>> sorted(p.name for p in out.iterdir())
['.siting-output.json', 'PROVENANCE.json', 'candidates.parquet', 'funnel.csv', 'near_misses.csv', 'rejects.csv',
 'run.json', 'sites.csv', 'sites.parquet']
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core.errors import OutputError, SitingError, warn
from siting.core.progress import release_memory
from siting.deliver.folder import (
    check_output_dir,
    describe_os_error,
    new_folder,
    output_lock,
    replace_folder,
    write_marker,
)
from siting.deliver.provenance import provenance
from siting.geo.geometry import keep_family
from siting.io.batches import WRITE_BATCH
from siting.io.gpkg_job import GpkgJob
from siting.io.hashing import sha256_of
from siting.io.writers import (
    csv_safe,
    slug,
    to_output_frame,
    write_csv,
    write_geojson,
    write_gpkg,
    write_parquet,
    write_shapefile,
)

__all__ = ["check_output_dir", "polygons_only", "save_result", "to_output_frame", "write_geojson", "write_gpkg"]

log = logging.getLogger(__name__)

FORMATS = ("geojson", "gpkg", "html", "csv")


def polygons_only(frame: gpd.GeoDataFrame, layer: str) -> tuple[gpd.GeoDataFrame, int]:
    """The frame with only polygon parts in each geometry, and how many features lost line or point parts.

    Overlays can leave a site a GeometryCollection with slivers of lines or points; a deliverable holds
    (Multi)Polygons only. The parts dropped are counted and said aloud (a :class:`SitingWarning`).

    Examples
    --------
    >>> import warnings
    >>> from shapely import GeometryCollection, LineString, box
    >>> f = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), GeometryCollection([box(0, 0, 1, 1),
    ...                                LineString([(1, 1), (2, 2)])])], crs=5070)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out, n = polygons_only(f, "sites")
    >>> out.geom_type.tolist(), n
    (['Polygon', 'MultiPolygon'], 1)
    """
    geoms = np.asarray(frame.geometry.values, dtype=object)
    odd = ~shapely.is_missing(geoms) & ~np.isin(shapely.get_type_id(geoms), (3, 6))
    n = int(odd.sum())
    if not n:
        return frame, 0
    fixed = geoms.copy()
    fixed[odd] = keep_family(geoms[odd], "polygon")
    warn(f"layer {layer!r}: {n:,} feature(s) had line or point parts left by overlays; those parts "
         "are dropped from the outputs and the polygons kept")
    return frame.set_geometry(gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)), n


def _sites_csv(sites: gpd.GeoDataFrame, path: Path) -> None:
    pts = gpd.GeoSeries(shapely.point_on_surface(sites.geometry.values), crs=sites.crs).to_crs(4326)
    table = pd.DataFrame(to_output_frame(sites).drop(columns=sites.geometry.name))
    table.insert(1, "lon", np.round(pts.x.to_numpy(), 6))
    table.insert(2, "lat", np.round(pts.y.to_numpy(), 6))
    write_csv(table, path)


def site_columns(result) -> list[str]:
    """Columns of the delivered sites: ids, score, parcel attributes, factor breakdown."""
    base = ["site_id", "rank", "score", "tier", "median_rank", "rank_p05", "rank_p95", "p_top_k", "parcel_id",
            "candidate_class", "agency", "manager_name", "designation", "gap_status", "unit_name", "state",
            "installation",
            "installation_m", "plss_description", "overrides", "area_acres", "parcel_acres"]
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
        "rules": json.loads(result.rules.to_json(orient="records")),
        "audit": json.loads(result.audit().to_json(orient="records")),
        "layers": {name: [r.to_dict() for r in reps] for name, reps in result.reports.items()},
        "rejects_by_reason": result.rejects.groupby(["layer", "reason"]).size().rename("count")
        .reset_index().to_dict(orient="records") if len(result.rejects) else [],
        "rejects": json.loads(result.rejects.drop(columns="wkt").to_json(orient="records")),
        "repairs": [i for reps in result.reports.values() for r in reps for i in r.issues],
        "files": {name: {"bytes": p.stat().st_size, "sha256": sha256_of(p)} for name, p in files.items()},
    }


def _charts(result, tmp: Path) -> dict[str, Path]:
    from siting.deliver import plots

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log.info("matplotlib is not installed: analysis charts are not drawn (pip install 'siting[plot]')")
        return {}
    files = {}
    for rule, table in result.analysis.get("relaxation", {}).items():
        ax = plots.relaxation_plot(table, rule, ax=plots.figure_axes((6, 3.5)))
        files[f"relaxation_{slug(rule)}.png"] = tmp / f"relaxation_{slug(rule)}.png"
        plots.figure_of(ax).savefig(files[f"relaxation_{slug(rule)}.png"])
    table = result.analysis.get("sensitivity")
    if table is not None and len(table):
        ax = plots.sensitivity_plot(table, ax=plots.figure_axes((6, 0.25 * min(len(table), 25) + 1.5)))
        files["sensitivity.png"] = tmp / "sensitivity.png"
        plots.figure_of(ax).savefig(files["sensitivity.png"])
    return files


def _write_analysis(result, tmp: Path) -> dict[str, Path]:
    """near_misses.csv, sensitivity.csv, weight_sweeps.csv, relaxation_<rule>.csv (+ charts)."""
    files = {}
    tables = {k: v for k, v in result.analysis.items() if isinstance(v, pd.DataFrame)}
    for name, table in tables.items():
        path = tmp / f"{slug(name)}.csv"
        csv_safe(table).to_csv(path, index=name == "sensitivity")
        files[path.name] = path
    for rule, table in result.analysis.get("relaxation", {}).items():
        path = tmp / f"relaxation_{slug(rule)}.csv"
        csv_safe(table).to_csv(path, index=False)
        files[path.name] = path
    files.update(_charts(result, tmp))
    return files


def _input_layers(result) -> dict[str, gpd.GeoDataFrame]:
    """The run's canonical input layers, one geometry family per GeoPackage layer."""
    from siting.geo.geometry import family_of

    out = {}
    for name, frame in result.layers.items():
        fam = family_of(np.asarray(frame.geometry.values, dtype=object))
        for f in np.unique(fam.astype(str)):
            part = frame[fam == f]
            key = f"input_{slug(name)}" if len(np.unique(fam)) == 1 else f"input_{slug(name)}_{f}"
            out[key] = part
    return out


def gpkg_layers(result, max_rows: int | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Every layer of the run: sites, candidates with the ledger, inputs, and the tables.

    Returns the layers for siting.gpkg and, apart, the candidates, long-form ledger and input
    layers with more than ``max_rows`` rows (a GeoPackage of millions of rows is slow to write and
    to open): :func:`save_result` writes those as GeoParquet, except the long-form ledger, whose
    every entry the candidates already hold as columns (it comes apart as the result's
    :class:`~siting.screen.ledger.LongLedger`, counted but never made here).
    """
    tables = {k: v.reset_index() if k == "sensitivity" else v for k, v in result.analysis.items()
              if isinstance(v, pd.DataFrame) and len(v)}
    land = {"eligible_land": result.eligible_land} if result.eligible_land is not None else {}
    inputs = _input_layers(result)
    polygonal = {name: polygons_only(frame, name)[0] for name, frame in
                 (("sites", result.sites.drop(columns=["candidate_id"], errors="ignore")),
                  ("candidates", result.candidates), *land.items())}
    big = max_rows is not None and len(result.long_ledger) > max_rows  # then never made here
    layers = {**polygonal, **inputs, "funnel": result.funnel,
              "ledger": result.long_ledger if big else result.ledger, "rejects": result.rejects, **tables}
    movable = {"candidates", "ledger", *inputs}
    moved = {k: v for k, v in layers.items() if max_rows is not None and k in movable and len(v) > max_rows}
    return {k: v for k, v in layers.items() if k not in moved}, moved


def _write_all(result, tmp: Path, formats, offline_map: bool | None) -> None:
    spec, prov = result.scenario.outputs, provenance(result)
    files: dict[str, Path] = {}
    notes: list[str] = []
    parquet = {"sites": result.sites, "candidates": result.candidates} if spec.geoparquet else {}
    job = None
    if "gpkg" in formats:  # started first: its big layers are written by a helper process meanwhile
        layers, moved = gpkg_layers(result, spec.gpkg_max_rows)
        job = GpkgJob(tmp / "siting.gpkg", layers, metadata=prov)
        ledger = moved.pop("ledger", None)
        parquet.update(moved)
        notes += [f"{name} ({len(frame):,} rows) is written to {slug(name)}.parquet instead of siting.gpkg "
                  f"(more than outputs.gpkg_max_rows = {spec.gpkg_max_rows:,})" for name, frame in moved.items()]
        if ledger is not None:
            notes.append(f"the long-form ledger ({len(ledger):,} rows, more than outputs.gpkg_max_rows) is not "
                         "written: every entry is in the candidates' <rule>__value, <rule>__threshold and "
                         "<rule>__pass columns (and in result.ledger in Python)")
    try:
        notes += _write_files(result, tmp, formats, offline_map, parquet, files, prov)
        if job is not None:
            files["siting.gpkg"] = job.finish()
    finally:
        if job is not None:
            job.close()
    if not _have_matplotlib():
        notes.append("matplotlib is not installed: the report's charts and map, static maps and fact-sheet maps "
                      "are left out (pip install 'siting[plot]')")
    for note in notes:
        log.info("%s", note)
    report = {**_run_report(result, files), "provenance": prov, "notes": notes}
    (tmp / "run.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


def _write_files(result, tmp: Path, formats, offline_map, parquet: dict, files: dict[str, Path], prov) -> list[str]:
    """Every file but siting.gpkg (added to ``files``); the notes on what was left out."""
    spec = result.scenario.outputs
    sites, dropped = polygons_only(result.sites, "sites")
    cols = site_columns(result)  # taken by each file as it is written (held for the whole save: 300 MB at 1x)
    notes = [f"{dropped:,} site(s) had line or point parts left by overlays: dropped from the outputs"] \
        if dropped else []
    if "geojson" in formats:
        top = spec.geojson_max_sites
        if top is not None and len(sites) > top:
            notes.append(f"sites.geojson holds the best {top:,} of {len(sites):,} sites "
                         "(outputs.geojson_max_sites); every site is in siting.gpkg")
        files["sites.geojson"] = write_geojson(sites.head(top)[cols], tmp / "sites.geojson", members={"siting": prov})
    for name, frame in parquet.items():
        files[f"{slug(name)}.parquet"] = write_parquet(frame, tmp / f"{slug(name)}.parquet")
    if spec.shapefile:
        shp, crosswalk = write_shapefile(sites[cols], tmp / "sites.shp")
        files.update({p.name: p for p in tmp.glob(f"{shp.stem}.*")})
        files[crosswalk.name] = crosswalk
    if "csv" in formats:
        _sites_csv(sites[cols], tmp / "sites.csv")
        files["sites.csv"] = tmp / "sites.csv"
    for name, table in (("funnel", result.funnel), ("rejects", result.rejects)):
        csv_safe(table).to_csv(tmp / f"{name}.csv", index=False)
        files[f"{name}.csv"] = tmp / f"{name}.csv"
    files.update(_write_analysis(result, tmp))
    (tmp / "PROVENANCE.json").write_text(json.dumps(prov, indent=2, default=str), encoding="utf-8")  # for the CSVs
    files["PROVENANCE.json"] = tmp / "PROVENANCE.json"
    if "html" in formats:
        release_memory()  # the writers' freed buffers go back before the map's
        offline = spec.offline_map if offline_map is None else offline_map
        page = result.map(offline=offline, cdn=spec.map_cdn and not offline, tiles=spec.map_tiles,
                          attr=spec.map_attribution, color_by=spec.color_by)
        page.save(str(tmp / "map.html"))
        files["map.html"] = tmp / "map.html"
    return notes


def _have_matplotlib() -> bool:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def save_result(result, out_dir, *, overwrite: bool = False, formats=None, offline_map: bool | None = None) -> Path:
    """Write a run's deliverables into ``out_dir`` (atomically; see the module docstring).

    Parameters
    ----------
    result : SitingResult
    out_dir : str or Path
    overwrite : bool
        Replace an existing, non-empty folder.
    formats : sequence of str, optional
        Subset of ``geojson``, ``gpkg``, ``html``, ``csv`` (default: the scenario's).
    offline_map : bool, optional
        Leave the web-tiles layer out of map.html (default: the scenario's ``outputs.offline_map``).

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
    _check_site_geometries(result.sites)
    try:
        with output_lock(out):
            out = check_output_dir(out_dir, overwrite=overwrite, inputs=inputs)  # again, under the lock
            tmp = new_folder(out)
            try:
                _write_all(result, tmp, formats, offline_map)
                write_marker(tmp, str(result.meta.get("run_id", "")))
                replace_folder(tmp, out)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except SitingError:
        raise
    except OSError as exc:
        raise describe_os_error(exc, out) from None
    log.info("wrote %s (%s)", out, ", ".join(sorted(p.name for p in out.iterdir())))
    return out


def _check_site_geometries(sites: gpd.GeoDataFrame) -> None:
    """A site without a geometry (null, empty, or NaN coordinates) is an error, never a silent output."""
    geoms = np.asarray(sites.geometry.array, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    ok = geoms[~bad]
    finite = all(np.isfinite(shapely.get_coordinates(ok[i:i + WRITE_BATCH])).all()  # bounded: 1.7 M sites' corners
                 for i in range(0, len(ok), WRITE_BATCH))
    if bad.any() or not finite:
        ids = sites.loc[bad, "site_id"].head(5).tolist() if bad.any() else ["(a site with NaN coordinates)"]
        raise OutputError(f"{int(bad.sum()) or 1} site(s) have no usable geometry (e.g. {', '.join(map(str, ids))}); "
                          "this is a bug or a bad input geometry: report it with the scenario")
