"""Load any input into a canonical layer in the working CRS, accounting for every feature.

:func:`read_layer` is the public entry point: a path or GeoDataFrame in, a
canonical GeoDataFrame out (see :mod:`siting.io.sources.base` for the columns),
reprojected to the working CRS. :func:`load_layer` does the same and also
returns the rejected features and a :class:`LayerReport` (read, kept,
repaired, rejected, and every repair) for the run report.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> raw = gpd.GeoDataFrame({"Mang_Name": ["BLM", "NPS"], "GAP_Sts": ["3", "1"]},
...                        geometry=[box(-117, 39, -116.9, 39.1), box(-116, 39, -115.9, 39.1)],
...                        crs="EPSG:4326")
>>> parcels = read_layer(raw, name="parcels")
>>> parcels.crs.to_string(), parcels["agency"].tolist(), parcels["gap_status"].tolist()
('EPSG:5070', ['BLM', 'NPS'], [3, 1])
>>> raw.columns.tolist()  # the input is never changed
['Mang_Name', 'GAP_Sts', 'geometry']
>>> loaded = load_layer(raw, name="parcels", working_crs="EPSG:5070")
>>> isinstance(loaded, LoadedLayer), isinstance(loaded.report, LayerReport), loaded.report.kept
(True, True, 2)
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core import settings
from siting.core.errors import CRSError, FieldError, GeometryError, warn
from siting.geo import geometry
from siting.io import crs as crs_mod
from siting.io import minerals, readers
from siting.io import sources as registry
from siting.io.sources.base import convert_tracked
from siting.schema import ID_COLUMN
from siting.screen import where as where_mod

__all__ = ["LayerReport", "LoadedLayer", "load_layer", "read_layer"]

log = logging.getLogger(__name__)

# plausible lon/lat boxes of US jurisdictions (CONUS/AK/HI/PR/VI, Aleutians east of 180, Guam/CNMI, Samoa)
_US_BOXES = ((-180.0, 17.0, -64.0, 72.0), (170.0, 50.0, 180.0, 56.0), (144.0, 13.0, 147.0, 21.0),
             (-171.5, -15.0, -168.0, -10.0))


@dataclass
class LayerReport:
    """Accounting for one input layer: every feature kept, repaired or rejected.

    ``read == kept + repaired + rejected + filtered`` always holds (``kept``
    counts features kept unchanged; ``filtered`` those left out on purpose by
    the layer's ``where`` filter).
    """

    layer: str
    path: str | None
    source: str
    kind: str
    input_crs: str | None
    working_crs: str
    geometry_family: str
    read: int = 0
    kept: int = 0
    repaired: int = 0
    rejected: int = 0
    filtered: int = 0
    encoding: str | None = None
    fields_mapped: list[str] = field(default_factory=list)
    fields_unmapped: list[str] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    repair_acres_changed: float = 0.0

    def to_dict(self) -> dict:
        """Return the report as plain JSON-ready data."""
        return asdict(self)


@dataclass
class LoadedLayer:
    """A canonical layer with its rejects and report."""

    name: str
    frame: gpd.GeoDataFrame
    rejects: pd.DataFrame
    report: LayerReport


def _assign_crs(raw: readers.RawLayer, crs, name: str) -> gpd.GeoDataFrame:
    frame = raw.frame
    if crs is not None:
        wanted = crs_mod.resolve_crs(crs)
        if frame.crs is not None and frame.crs != wanted:
            log.warning("layer %r: file CRS %s overridden by the given crs %s", name,
                        frame.crs.to_string(), wanted.to_string())
        return frame.set_crs(wanted, allow_override=True)
    if frame.crs is not None:
        return frame
    if raw.is_table:
        log.info("layer %r: table coordinates read as longitude/latitude (EPSG:4326)", name)
        return frame.set_crs("EPSG:4326")
    raise CRSError(
        "has no CRS (a .shp without .prj, or a GeoJSON/TopoJSON without one); say which CRS "
        "its coordinates are in with `crs:` in the scenario (e.g. crs: EPSG:4326) or "
        "read_layer(..., crs=...)",
        layer=name, path=raw.path,
    )


def _coordinate_checks(frame: gpd.GeoDataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (out-of-range mask, null-island mask) for geographic layers (A8)."""
    n = len(frame)
    if frame.crs is None or not frame.crs.is_geographic or n == 0:
        return np.zeros(n, bool), np.zeros(n, bool)
    bounds = shapely.bounds(frame.geometry.values)
    with np.errstate(invalid="ignore"):
        out = (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1) | (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
    pts = np.asarray(frame.geometry.geom_type == "Point")
    x, y = shapely.get_x(frame.geometry.values[pts]), shapely.get_y(frame.geometry.values[pts])
    zero = np.zeros(n, bool)
    zero[pts] = (x == 0) & (y == 0)
    return out, zero


def _plausibility(frame: gpd.GeoDataFrame, name: str, report: LayerReport) -> None:
    if not len(frame) or frame.crs is None:
        return
    pts = shapely.centroid(frame.geometry.values)
    if not frame.crs.is_geographic:
        t = crs_mod.transformer(frame.crs, "EPSG:4326")
        lon, lat = t.transform(shapely.get_x(pts), shapely.get_y(pts))
    else:
        lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    inside = np.zeros(len(pts), bool)
    for w, s, e, n in _US_BOXES:
        inside |= (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
    far = int((~inside).sum())
    if far:
        ids = frame.iloc[np.flatnonzero(~inside)[:5]]["src_row"].tolist()
        report.issues.append({"layer": name, "field": "geometry", "problem": "outside the US",
                              "count": far, "action": "kept; check lat/lon order and CRS",
                              "examples": [str(i) for i in ids]})
        log.warning("layer %r: %d feature(s) lie outside the US and its territories (rows %s); "
                    "kept, but check the lat/lon order and the CRS", name, far, ids)


def _reject_table(name, src_rows, ids, reasons, details=None, geoms=None) -> pd.DataFrame:
    n = len(src_rows)
    return pd.DataFrame({
        "layer": name, "src_row": np.asarray(src_rows), "feature_id": np.asarray(ids, dtype=object),
        "reason": np.asarray(reasons, dtype=object),
        "detail": np.asarray(details if details is not None else [""] * n, dtype=object),
        "wkt": shapely.to_wkt(np.asarray(geoms, dtype=object), rounding_precision=7)
        if geoms is not None else [None] * n,
    })


def _choose_source(frame: gpd.GeoDataFrame, source: str | None, family: str, name: str,
                   path) -> registry.Source:
    fields = [c for c in frame.columns if c not in ("geometry", "src_row")]
    if source is None:
        src = registry.detect(fields, family)
        log.info("layer %r: detected source %r (%s)", name, src.name, src.title)
        return src
    src = registry.get(source)
    if src.geometry != "any" and src.geometry != family:
        raise GeometryError(
            f"source {source!r} expects {src.geometry} geometries but the layer holds {family}s",
            layer=name, path=path,
        )
    return src


def _check_ids(frame: pd.DataFrame, id_col: str, name: str, path, dedupe: bool) -> np.ndarray:
    """Return a mask of duplicate-id rows to reject (dedupe) or raise (A14)."""
    ids = frame[id_col]
    null = ids.isna()
    if null.any():
        rows = frame.loc[null, "src_row"].tolist()[:5]
        raise FieldError(f"{int(null.sum())} feature(s) have no {id_col} (rows {rows}); "
                         "fill them or choose another id_field", layer=name, path=path, field=id_col)
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any() and not dedupe:
        examples = ids[ids.duplicated(keep=False)].unique()[:5].tolist()
        raise FieldError(
            f"{int(dup.sum())} duplicate {id_col} value(s), e.g. {examples}; ids must be unique: "
            "choose another id_field, or set `dedupe: true` to keep the first of each",
            layer=name, path=path, field=id_col, ids=examples,
        )
    return dup


def _canonical(frame: gpd.GeoDataFrame, src, ctx) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Canonical columns first, then the original attributes.

    An original whose name equals a canonical one but for case (``NAME`` beside ``name``) is kept as
    ``src_NAME``: GeoPackage and Shapefile field names are case-insensitive.
    """
    converted, used = convert_tracked(src, frame.drop(columns=["geometry"]), ctx)
    taken = {str(c).lower() for c in converted.columns}
    originals = [c for c in frame.columns if c not in converted.columns and c != "geometry"]
    renamed = {c: f"src_{c}" for c in originals if str(c).lower() in taken}
    out = pd.concat([converted, frame[originals].rename(columns=renamed)], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs), sorted(map(str, used))


class _Tally:
    """Collects rejected features (with reasons) while a layer is loaded."""

    def __init__(self, name: str, raw_rejects: pd.DataFrame) -> None:
        self.name = name
        self.tables = [_reject_table(name, raw_rejects["src_row"], [None] * len(raw_rejects),
                                     raw_rejects["reason"], raw_rejects["detail"])]

    def reject(self, frame: gpd.GeoDataFrame, mask: np.ndarray, reasons, ids=None) -> gpd.GeoDataFrame:
        """Record the rows of ``frame`` under ``mask`` as rejected and return the rest."""
        n = int(mask.sum())
        if n:
            reasons = reasons[mask] if isinstance(reasons, np.ndarray) else [reasons] * n
            self.tables.append(_reject_table(self.name, frame.loc[mask, "src_row"],
                                             ids[mask] if ids is not None else [None] * n, reasons,
                                             geoms=frame.geometry.values[mask]))
        return frame.loc[~mask]

    def table(self) -> pd.DataFrame:
        tables = [t for t in self.tables if len(t)]
        return pd.concat(tables, ignore_index=True) if tables else _reject_table(self.name, [], [], [])


def _drop_bad_locations(frame: gpd.GeoDataFrame, tally: _Tally, path) -> gpd.GeoDataFrame:
    out_range, null_island = _coordinate_checks(frame, tally.name)
    if len(frame) and out_range.all():
        x0, y0, x1, y1 = frame.total_bounds
        raise CRSError(f"every one of its {len(frame):,} features has coordinates outside longitude/latitude "
                       f"range (extent {x0:,.0f}, {y0:,.0f}, {x1:,.0f}, {y1:,.0f}) although its CRS is "
                       f"{frame.crs.to_string()}: the file is probably in a projected CRS whose definition "
                       "was lost (a missing or wrong .prj); give the layer's real `crs:`",
                       layer=tally.name, path=path)
    frame = tally.reject(frame, out_range, "coordinates out of range")
    return tally.reject(frame, null_island[~out_range], "suspect placeholder location (0, 0)")


def _clean(frame, source, on_invalid, tally, path):
    """Geometry verdicts in the working CRS; adds a ``_status`` column (ok / repaired)."""
    hint = registry.get(source).geometry if source else None
    cleaned = geometry.clean(frame.geometry.values, family=None if hint == "any" else hint,
                             on_invalid=on_invalid, ids=frame["src_row"].to_numpy(),
                             layer=tally.name, path=path)
    closed = frame["_closed"].to_numpy(dtype=bool)  # rings closed on reading (A2)
    bad_close = closed & (cleaned.status == "repaired")
    cleaned.status[bad_close] = "rejected"
    cleaned.reason[bad_close] = "unclosed ring; closing it does not give a valid polygon"
    good_close = closed & (cleaned.status == "ok")
    cleaned.status[good_close] = "repaired"
    cleaned.reason[good_close] = "unclosed ring closed by repeating its first vertex"
    area0 = np.where(cleaned.family == "polygon", shapely.area(frame.geometry.values), np.nan)
    frame = frame.assign(_status=cleaned.status, _reason=cleaned.reason, _area0=area0)
    frame = frame.set_geometry(gpd.GeoSeries(cleaned.geoms, index=frame.index, crs=frame.crs))
    bad = cleaned.status == "rejected"
    frame = tally.reject(frame, bad, cleaned.reason)
    return frame, cleaned.family


def _select(canon, where, commodities, name, path) -> np.ndarray:
    keep = np.ones(len(canon), dtype=bool)
    if where:
        keep &= where_mod.evaluate(where, canon, layer=name).to_numpy()
    if commodities:
        if "commodities" not in canon.columns:
            raise FieldError("has no commodities; `commodities:` needs a deposits layer", layer=name,
                             path=path, field="commodities")
        keep &= minerals.has_any(canon["commodities"], commodities)
    return keep


def load_layer(
    src, *, name: str | None = None, source: str | None = None, layer=None, crs=None,
    working_crs="auto", on_invalid: str = "repair", encoding: str | None = None,
    lat: str | None = None, lon: str | None = None, where: str | None = None,
    commodities=None, dedupe: bool = False, allow_network: bool = False, **options,
) -> LoadedLayer:
    """Read, check, map and reproject one layer; see :func:`read_layer` for the parameters.

    Steps: read -> CRS -> drop impossible locations -> reproject to the working CRS ->
    geometry checks (after reprojection, which can itself make a polygon invalid) -> source
    adapter -> ids -> ``where``/``commodities`` selection.

    Returns
    -------
    LoadedLayer
        ``frame`` (canonical, working CRS), ``rejects`` (one row per rejected
        feature with its reason) and ``report``.
    """
    if name is None:
        name = Path(os.fspath(src)).stem if isinstance(src, str | os.PathLike) else "layer"
    raw = readers.read_raw(src, name=name, layer=layer, encoding=encoding, lat=lat, lon=lon,
                           allow_network=allow_network)
    frame = _assign_crs(raw, crs, name)
    closed = raw.closed_rings if raw.closed_rings is not None else np.zeros(len(frame), dtype=bool)
    frame = frame.assign(_closed=closed)
    input_crs = frame.crs.to_string()
    n_read = len(frame) + len(raw.rejects)
    tally = _Tally(name, raw.rejects)
    frame, z_issues = _drop_z(frame, name)
    frame = _drop_bad_locations(frame, tally, raw.path)
    wcrs = _working_crs(frame, working_crs)
    frame = crs_mod.densify_edges(frame, wcrs).to_crs(wcrs)
    frame, family = _clean(frame, source, on_invalid, tally, raw.path)
    internal = ["_status", "_reason", "_closed", "_area0"]
    src_obj = _choose_source(frame.drop(columns=internal), source, family, name, raw.path)
    ctx = registry.Context(layer=name, path=raw.path, options=options)
    if raw.mojibake:
        ctx.note("text", "values that look wrongly decoded (e.g. 'Ã©' or U+FFFD)", raw.mojibake,
                 f"kept; the file was read as {raw.encoding}: set `encoding:` if that is wrong")
    canon, used = _canonical(frame.drop(columns=internal), src_obj, ctx)
    id_col = ID_COLUMN[src_obj.kind]
    dup = _check_ids(canon, id_col, name, raw.path, dedupe)
    canon = tally.reject(canon, dup, "duplicate id (dedupe: kept the first)", canon[id_col].to_numpy())
    keep = _select(canon, where, commodities, name, raw.path)
    canon = canon.loc[keep].reset_index(drop=True)
    status = frame["_status"].to_numpy()[~dup][keep]
    rej = tally.table()
    report = LayerReport(
        layer=name, path=raw.path, source=src_obj.name, kind=src_obj.kind, input_crs=input_crs,
        working_crs=wcrs.to_string(), geometry_family=family, read=n_read,
        kept=int((status == "ok").sum()), repaired=int((status == "repaired").sum()),
        rejected=len(rej), filtered=int((~keep).sum()), encoding=raw.encoding, fields_mapped=used,
        fields_unmapped=[str(c) for c in frame.columns
                         if c not in ("geometry", "src_row", *internal) and str(c) not in used],
        issues=ctx.issues + _repair_issues(name, frame) + z_issues,
        repair_acres_changed=_repair_acres(frame),
    )
    _plausibility(canon, name, report)
    _log_report(report)
    return LoadedLayer(name, canon, rej, report)


def _drop_z(frame: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """Drop Z and M coordinates (the analysis is 2-D; M values are often NaN), noted in the report."""
    geoms = frame.geometry.values
    has = shapely.has_z(geoms) | shapely.has_m(geoms)
    if not has.any():
        return frame, []
    out = frame.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=frame.index, crs=frame.crs))
    return out, [{"layer": name, "field": "geometry", "problem": "Z/M coordinates", "count": int(has.sum()),
                  "action": "dropped (2-D analysis)", "examples": [str(v) for v in frame.loc[has, "src_row"].head(5)]}]


def _repair_acres(frame: gpd.GeoDataFrame) -> float:
    """Acres the geometry repairs added or removed (sum over repaired polygons of |after - before|)."""
    fixed = (frame["_status"] == "repaired").to_numpy() & np.isfinite(frame["_area0"].to_numpy(float))
    if not fixed.any():
        return 0.0
    after = shapely.area(frame.geometry.values[fixed])
    return float(np.abs(after - frame["_area0"].to_numpy(float)[fixed]).sum() / settings.M2_PER_ACRE)


def _repair_issues(name: str, frame: gpd.GeoDataFrame) -> list[dict]:
    """One report entry per kind of geometry repair, with counts and up to 5 example rows."""
    fixed = frame[frame["_status"] == "repaired"]
    kinds = fixed["_reason"].astype(str).str.split(":").str[0]
    before, after = fixed["_area0"].to_numpy(float), shapely.area(fixed.geometry.values)
    change = np.abs(after - before)
    with np.errstate(divide="ignore", invalid="ignore"):  # from no area (a bow-tie's halves cancel): inf
        pct = pd.Series(np.where(change > 0, 100 * change / before, 0.0), index=fixed.index)
    out = []
    for kind, rows in fixed.groupby(kinds, sort=True):
        entry = {"layer": name, "field": "geometry", "problem": kind, "count": len(rows), "action": "repaired",
                 "examples": [str(e) for e in rows["src_row"].tolist()[:5]],
                 "acres_changed": round(float(change[fixed.index.get_indexer(rows.index)].sum())
                                        / settings.M2_PER_ACRE, 3)}
        big = pct.loc[rows.index] > settings.REPAIR_AREA_WARN_PCT
        if big.any():  # the worst in acres, not per cent: a bow-tie's area before is about 0
            worst = int(pct.loc[rows.index].to_numpy().argmax())
            at = fixed.index.get_indexer(rows.index)[worst]
            acres = before[at] / settings.M2_PER_ACRE, after[at] / settings.M2_PER_ACRE
            entry["action"] = (f"repaired; {int(big.sum())} changed area by more than "
                               f"{settings.REPAIR_AREA_WARN_PCT:g} % (the most: row {rows['src_row'].iloc[worst]}, "
                               f"{acres[0]:,.1f} acres before, {acres[1]:,.1f} after; rows "
                               f"{', '.join(map(str, rows.loc[big, 'src_row'].head(5)))}): check them")
        out.append(entry)
    return out


def _working_crs(frame: gpd.GeoDataFrame, working_crs):
    if working_crs is None or (isinstance(working_crs, str) and working_crs == "auto"):
        usable = ~(shapely.is_missing(frame.geometry.values) | shapely.is_empty(frame.geometry.values))
        if not usable.any():
            return crs_mod.resolve_crs("EPSG:5070")  # nothing to place: the layer will be reported empty
        return crs_mod.pick_working_crs(crs_mod.lonlat_bounds(frame.total_bounds, frame.crs))
    wcrs = crs_mod.resolve_crs(working_crs)
    crs_mod.check_projected(wcrs, what="the working CRS")
    return wcrs


def _log_report(r: LayerReport) -> None:
    """One log line per layer; and one :class:`SitingWarning` when anything was changed or dropped."""
    msg = "layer %r (%s, %s): read %d, kept %d, repaired %d, rejected %d"
    args = (r.layer, r.source, r.geometry_family, r.read, r.kept, r.repaired, r.rejected)
    notable = [i for i in r.issues if i["problem"] != "outside the US"] if r.issues else []
    if not (r.rejected or r.repaired or notable or r.kept + r.repaired == 0):
        log.info(msg, *args)
        return
    log.warning(msg, *args)
    parts = [f"{r.repaired:,} repaired" + (f" ({r.repair_acres_changed:,.1f} acres changed)"
                                           if r.repair_acres_changed else "")] if r.repaired else []
    parts += [f"{r.rejected:,} rejected (see result.rejects)"] if r.rejected else []
    parts += [f"{i['count']:,} {i['problem']} in {i['field']} ({i['action']})" for i in notable
              if i["action"] != "repaired"]
    parts += ["no feature left: the layer is empty"] if r.kept + r.repaired == 0 else []
    warn(f"layer {r.layer!r} ({Path(r.path).name if r.path else 'frame'}, {r.read:,} read): "
         + "; ".join(parts))


def read_layer(src, *, source: str | None = None, layer=None, crs=None, working_crs="auto",
               name: str | None = None, on_invalid: str = "repair", **options) -> gpd.GeoDataFrame:
    """Read a file or GeoDataFrame into a canonical layer in the working CRS.

    Parameters
    ----------
    src : str, Path, GeoDataFrame or DataFrame
        A vector file (GeoPackage, Shapefile, GeoJSON, FileGDB, zip...), a CSV
        with latitude/longitude (or WKT) columns, or a frame. Never modified.
    source : str, optional
        Dataset adapter (``"padus"``, ``"mrds"``, ``"hifld_transmission"``...);
        detected from the fields when omitted. See ``siting.io.sources.available()``.
    layer : str or int, optional
        Layer within a multi-layer file.
    crs : CRS-like, optional
        CRS of the coordinates when the file has none (required then, except
        for CSV lat/lon, which is EPSG:4326).
    working_crs : CRS-like or "auto"
        Target CRS; ``"auto"`` picks the equal-area CRS for where the data lie.
    name : str, optional
        Layer name used in messages (default: the file stem).
    on_invalid : {"repair", "drop", "raise"}
        What to do with invalid geometries.
    **options
        ``encoding``, ``lat``, ``lon``, ``where`` (a safe filter, see :mod:`siting.screen.where`),
        ``dedupe``, ``id_field``, ``kind``, ``critical_year``.

    Returns
    -------
    GeoDataFrame
        Canonical columns first, then the original attributes; ``src_row`` is
        the feature's row or FID in the file. ``attrs["siting"]`` holds the
        layer report.

    Raises
    ------
    CRSError, FieldError, GeometryError, InputFileError, LayerError
        With the layer, the file and what to do.
    """
    loaded = load_layer(src, name=name, source=source, layer=layer, crs=crs,
                        working_crs=working_crs, on_invalid=on_invalid, **options)
    frame = loaded.frame
    frame.attrs["siting"] = {k: v for k, v in loaded.report.to_dict().items() if k != "issues"}
    return frame
