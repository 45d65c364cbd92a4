"""Raw reading of vector files and CSV tables, before any schema mapping.

* Vector files go through pyogrio (GDAL) with Arrow; a file with several
  layers needs ``layer=``, and the error lists them.
* ``.zip`` archives are read in place through GDAL's ``/vsizip/`` after
  checks on size, member count, compression ratio and member names.
* CSV tables need named coordinate columns (``latitude``/``longitude``,
  ``LAT``/``LON``, ``Lat_WGS84``/``Long_WGS84``, ...) or a WKT column
  (``geometry``, ``wkt``, ``location``). Coordinates are parsed with
  ``pd.to_numeric(errors="coerce")``; blanks never become 0. Rows that cannot
  be placed are returned as rejects with their row number and raw text.

Examples
--------
>>> import io, pandas as pd
>>> text = "dep_id,latitude,longitude\\n1,39.5,-117.2\\n2,N/A,-116.0\\n"
>>> frame, rejects = points_from_table(pd.read_csv(io.StringIO(text), dtype=str), layer="d")
>>> len(frame), rejects["reason"].tolist()
(1, ['coordinates not numeric'])
>>> raw = read_raw("sample_data/water.geojson", name="water")
>>> isinstance(raw, RawLayer), raw.frame.crs.to_epsg()
(True, 4326)
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting.core import settings
from siting.core.errors import CRSError, InputFileError, LayerError, warn
from siting.io.virtual import check_local

__all__ = ["RawLayer", "points_from_table", "read_raw"]

log = logging.getLogger(__name__)

LAT_NAMES = ("latitude", "lat", "lat_wgs84", "approx_lat", "lat_dd", "y_coord", "point_y")
LON_NAMES = ("longitude", "lon", "long", "lng", "long_wgs84", "approx_lon", "lon_dd",
             "x_coord", "point_x")
WKT_NAMES = ("geometry", "wkt", "geom", "location", "the_geom")
#: Degrees of arc per straight segment where GDAL turns circular arcs into lines (its default: 4).
ARC_STEP_DEG = 0.1
ZIP_MAX_BYTES = 4 * 1024**3
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_RATIO = 200.0


@dataclass
class RawLayer:
    """A file as read, before canonical mapping.

    Attributes
    ----------
    frame : GeoDataFrame
        Attributes and geometry as in the file (CRS may be None).
    rejects : DataFrame
        Rows that could not be given a geometry (CSV), with ``src_row`` and ``reason``.
    path : str or None
        What was opened (for messages).
    is_table : bool
        True for CSV tables (lat/lon defaults to EPSG:4326).
    encoding : str or None
        Encoding GDAL reported or was told to use.
    closed_rings : ndarray of bool or None
        Rows whose polygon rings were not closed in the file and were closed on reading (A2).
    mojibake : int
        Text values that look wrongly decoded (U+FFFD, "Ã©"...), a sign of a wrong encoding.
    """

    frame: gpd.GeoDataFrame
    rejects: pd.DataFrame
    path: str | None
    is_table: bool = False
    encoding: str | None = None
    closed_rings: np.ndarray | None = None
    mojibake: int = 0


def read_table(path: Path, name: str, encoding: str | None = None) -> pd.DataFrame:
    """A CSV/TSV file as text columns: the delimiter sniffed from its first lines (``,``, ``;``, tab or ``|``;
    a tab for ``.tsv``), UTF-8 unless ``encoding`` says otherwise (a file that is not UTF-8 is read as
    Latin-1 with a :class:`~siting.core.errors.SitingWarning`).

    Raises
    ------
    InputFileError
        The file is not a table pandas can parse, naming the file and the line.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("name;latitude;longitude\\nMine A;38,5;-117,1\\n", encoding="utf-8")
    >>> read_table(p, "deposits").columns.tolist()
    ['name', 'latitude', 'longitude']
    """
    with open(path, "rb") as fh:
        head = fh.read(65_536).decode(encoding or "utf-8", errors="replace")
    sep = "\t" if path.suffix.lower() == ".tsv" else _delimiter(head)
    kw = dict(dtype=str, keep_default_na=False, na_values=[""], sep=sep)
    try:
        try:
            return pd.read_csv(path, encoding=encoding or "utf-8", **kw)
        except UnicodeDecodeError:
            if encoding:
                raise
            table = pd.read_csv(path, encoding="latin-1", **kw)
            said = f"layer {name!r}: {path.name} is not UTF-8; read as Latin-1 (set `encoding:` to choose)"
            log.warning(said)
            warn(said)
            return table
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFileError(f"layer {name!r}: {path} cannot be read as a table with delimiter {sep!r}: {exc}; "
                             "check its delimiter, quoting and `encoding:`") from exc


def _degrees(column: pd.Series) -> pd.Series:
    """Numbers from a coordinate column; a decimal comma (``38,5``, as European spreadsheets write) is read as a
    point: a coordinate has no thousands separator, so the comma is unambiguous."""
    text = column.astype("string").str.strip()
    comma = text.str.fullmatch(r"[+-]?\d+,\d+", na=False)
    return pd.to_numeric(text.where(~comma, text.str.replace(",", ".", regex=False)), errors="coerce").astype(float)


def _delimiter(head: str) -> str:
    """The delimiter of a table's first lines: the first of comma, semicolon, tab and bar that splits every full
    line into the same number (more than one) of fields; a comma when none does."""
    lines = [ln for ln in head.splitlines()[:50] if ln.strip()][:-1] or head.splitlines()[:1]
    for sep in (",", ";", "\t", "|"):
        counts = {len(next(csv.reader([ln], delimiter=sep))) for ln in lines}
        if len(counts) == 1 and counts.pop() > 1:
            return sep
    return ","


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"src_row": pd.Series(dtype="int64"), "reason": pd.Series(dtype="object"),
                         "detail": pd.Series(dtype="object")})


def _check_zip(path: Path) -> None:
    """Refuse zip bombs and path traversal before GDAL opens the archive (S5)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise InputFileError(f"{path} is not a valid zip archive: {exc}") from None
    if len(infos) > ZIP_MAX_MEMBERS:
        raise InputFileError(f"{path} has {len(infos)} members (limit {ZIP_MAX_MEMBERS}); unpack it yourself")
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if total > ZIP_MAX_BYTES or total / packed > ZIP_MAX_RATIO:
        raise InputFileError(
            f"{path} expands to {total:,} bytes (ratio {total / packed:.0f}:1); refusing a "
            f"possible zip bomb (limits {ZIP_MAX_BYTES:,} bytes, {ZIP_MAX_RATIO:.0f}:1)"
        )
    bad = [i.filename for i in infos if i.filename.startswith(("/", "\\")) or ".." in Path(i.filename).parts]
    if bad:
        raise InputFileError(f"{path} has unsafe member names {bad[:3]}; refusing to read it")


_ESRI_TYPES = {"rings": "esriGeometryPolygon", "paths": "esriGeometryPolyline",
               "points": "esriGeometryMultipoint", "x": "esriGeometryPoint"}


def _esri_features(path: Path) -> bytes | None:
    """Esri JSON feature(s) not wrapped in a FeatureSet (as the PAD-US service returns them).

    GDAL reads Esri JSON FeatureSets only; a bare feature ``{"attributes", "geometry"}`` or a list
    of them is wrapped into one. Returns None for anything else.
    """
    if path.suffix.lower() not in {".json", ".esrijson"} or path.stat().st_size > 512 * 1024**2:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    feats = doc if isinstance(doc, list) else [doc] if isinstance(doc, dict) else []
    if not feats or not all(isinstance(f, dict) and "attributes" in f and "geometry" in f for f in feats):
        return None
    kind = next((t for k, t in _ESRI_TYPES.items() if k in (feats[0]["geometry"] or {})), None)
    wrapped = {"geometryType": kind, "features": feats}
    sr = (feats[0]["geometry"] or {}).get("spatialReference")
    if sr:
        wrapped["spatialReference"] = sr
    return json.dumps(wrapped).encode("utf-8")


def _gdal_path(path: Path) -> str:
    if path.suffix.lower() == ".zip":
        _check_zip(path)
        return f"/vsizip/{path}"
    return str(path)


def _pick_layer(gdal_path: str, layer, name: str) -> str | int | None:
    try:
        layers = pyogrio.list_layers(gdal_path)
    except Exception as exc:
        raise InputFileError(f"layer {name!r}: cannot open {gdal_path}: {exc}") from None
    names = [str(n) for n in layers[:, 0]]
    if layer is not None:
        if isinstance(layer, int) or layer in names:
            return layer
        raise LayerError(f"has no layer {layer!r}; layers: {', '.join(names)}",
                         layer=name, path=gdal_path)
    if len(names) > 1:
        raise LayerError(f"holds {len(names)} layers; say which with `layer:` "
                         f"(one of {', '.join(names)})", layer=name, path=gdal_path)
    return None


def _read_vector(path: Path, layer, name: str, encoding: str | None, bbox) -> RawLayer:
    esri = _esri_features(path)
    if esri is not None:
        log.info("layer %r: %s holds bare Esri JSON features; read as one FeatureSet", name, path)
        with warnings.catch_warnings():  # GDAL's note that organizing many rings may be slow
            warnings.filterwarnings("ignore", message="organizePolygons", category=RuntimeWarning)
            frame = pyogrio.read_dataframe(io.BytesIO(esri), use_arrow=True, fid_as_index=True)
        return RawLayer(frame, _empty_rejects(), str(path), encoding="utf-8")
    gdal_path = _gdal_path(path)
    with warnings.catch_warnings():  # M values: dropped with Z on loading, and reported there
        warnings.filterwarnings("ignore", message="Measured \\(M\\) geometry types", category=UserWarning)
        chosen = _pick_layer(gdal_path, layer, name)
    try:
        with warnings.catch_warnings():  # M values: dropped with Z on loading, and reported there
            warnings.filterwarnings("ignore", message="Measured \\(M\\) geometry types", category=UserWarning)
            info = pyogrio.read_info(gdal_path, layer=chosen, encoding=encoding)
        enc = encoding or info.get("encoding")
        if info.get("features", 0) > settings.LARGE_LAYER_FEATURES:
            log.warning("layer %r: %s holds %s features; loading them all", name, path,
                        f"{info['features']:,}")
        # Arrow hands text over as UTF-8: other encodings are decoded by GDAL instead (A12)
        opts = {"layer": chosen, "encoding": encoding, "bbox": bbox, "fid_as_index": True,
                "use_arrow": (enc or "UTF-8").upper().replace("-", "") == "UTF8"}
        try:
            frame, closed = _read_fixing_rings(gdal_path, opts)
        except NotImplementedError as exc:  # Arrow cannot carry arcs (Esri geodatabases, GML): GDAL's own reader
            if "Nonlinear" not in str(exc):
                raise
            frame, closed = _read_linearized(gdal_path, opts, name, path)
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(f"layer {name!r}: cannot read {path}: {exc}") from None
    except Exception as exc:
        raise LayerError(f"GDAL could not read the file: {exc}", layer=name, path=str(path)) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerError("has no geometry column; for a table give a CSV with lat/lon columns",
                         layer=name, path=str(path))
    return RawLayer(frame, _empty_rejects(), str(path), encoding=enc, closed_rings=closed,
                    mojibake=_mojibake(frame))


def _read_linearized(gdal_path: str, opts: dict, name: str, path: Path):
    """Read a layer with curved geometries (circular arcs) as straight segments every :data:`ARC_STEP_DEG`
    of arc, and say so: GDAL's default (4 degrees) would put a 5 km arc's chords 3 m inside it, land
    kept 3 m nearer an excluded area than its buffer."""
    old = pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(ARC_STEP_DEG)})
    try:
        frame, closed = _read_fixing_rings(gdal_path, {**opts, "use_arrow": False})
    finally:
        pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": old})
    sag = 1e3 * (1 - np.cos(np.radians(ARC_STEP_DEG / 2)))
    warn(f"layer {name!r} ({path}): curved geometries (circular arcs, as in Esri geodatabases) are read "
         f"as straight segments every {ARC_STEP_DEG:g} degrees of arc (at most {sag * 1e3:.2f} mm from the "
         "arc per km of its radius)")
    return frame, closed


def _read_fixing_rings(gdal_path: str, opts: dict):
    """Read; if some polygon rings are not closed (A2), close them and say which rows."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        warnings.simplefilter("always", UserWarning)
        try:
            frame = pyogrio.read_dataframe(gdal_path, **opts)
        except (shapely.errors.GEOSException, ValueError):
            frame = None  # GDAL warned "Non closed ring": handled below
    unclosed = any("Non closed ring" in str(w.message) for w in caught)
    for w in caught:
        if "Non closed ring" not in str(w.message) and "Measured (M) geometry types" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if frame is not None and not unclosed:
        return frame, None
    if frame is None and not unclosed:
        return pyogrio.read_dataframe(gdal_path, **opts), None  # raise the real error
    opts = {**opts, "use_arrow": False}  # pyogrio's Arrow path cannot combine on_invalid and FIDs
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non closed ring", category=RuntimeWarning)
        fixed = pyogrio.read_dataframe(gdal_path, **opts, on_invalid="fix")
        plain = pyogrio.read_dataframe(gdal_path, **opts, on_invalid="ignore")
    closed = np.asarray(shapely.is_missing(plain.geometry.values) & ~shapely.is_missing(fixed.geometry.values))
    return fixed, closed


_MOJIBAKE = re.compile("\ufffd|\u00c3[\u0080-\u00bf]|\u00c2[\u00a0-\u00bf]")


def _mojibake(frame: pd.DataFrame) -> int:
    """Count text values that look wrongly decoded (U+FFFD, UTF-8 read as Latin-1)."""
    count = 0
    for col in frame.columns:
        if col != "geometry" and (frame[col].dtype == object or str(frame[col].dtype) in ("str", "string")):
            count += int(frame[col].astype("object").map(
                lambda v: isinstance(v, str) and bool(_MOJIBAKE.search(v))).sum())
    return count


def _find(columns, names) -> str | None:
    lookup = {str(c).lower(): c for c in columns}
    return next((lookup[n] for n in names if n in lookup), None)


def _swap_check(lat: pd.Series, lon: pd.Series, layer: str, path) -> None:
    ok = lat.notna() & lon.notna()
    if not ok.any():
        return
    bad_lat = (lat[ok].abs() > 90).mean()
    if bad_lat > 0.5 and (lon[ok].abs() <= 90).all():
        raise CRSError(
            f"{bad_lat:.0%} of rows have |latitude| > 90 but every longitude is within +-90: "
            "the latitude and longitude columns look swapped; fix the column names or pass "
            "lat=/lon= explicitly (siting never swaps them silently)",
            layer=layer, path=path,
        )


def points_from_table(
    table: pd.DataFrame, *, layer: str, path: str | None = None, lat: str | None = None,
    lon: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Build point (or WKT) geometries from a table; return (frame, rejects).

    Parameters
    ----------
    table : DataFrame
        Raw text as read from the CSV (``dtype=str`` keeps the raw values).
    layer : str
        Layer name for messages.
    path : str, optional
        File name for messages.
    lat, lon : str, optional
        Column names; detected from common names when omitted.

    Returns
    -------
    frame : GeoDataFrame
        Placed rows (no CRS yet), original index kept as ``src_row``.
    rejects : DataFrame
        ``src_row``, ``reason`` and ``detail`` (the raw text) of rows not placed.
    """
    table = table.reset_index(drop=True)
    lat_col = lat or _find(table.columns, LAT_NAMES)
    lon_col = lon or _find(table.columns, LON_NAMES)
    if lat_col is None or lon_col is None:
        wkt_col = _find(table.columns, WKT_NAMES)
        if wkt_col is None:
            raise LayerError(
                "is a table without coordinates: expected latitude/longitude columns "
                f"(e.g. {', '.join(LAT_NAMES[:3])} / {', '.join(LON_NAMES[:3])}) or a WKT column "
                f"({', '.join(WKT_NAMES)}); available fields: {', '.join(map(str, table.columns))}",
                layer=layer, path=path,
            )
        return _from_wkt(table, wkt_col)
    for col in (lat_col, lon_col):
        if col not in table.columns:
            raise LayerError(f"has no column {col!r}", layer=layer, path=path, field=col)
    ylat, xlon = _degrees(table[lat_col]), _degrees(table[lon_col])
    _swap_check(ylat, xlon, layer, path)
    bad = ylat.isna() | xlon.isna()
    detail = table[lat_col].fillna("").astype(str) + ", " + table[lon_col].fillna("").astype(str)
    rejects = pd.DataFrame({"src_row": np.flatnonzero(bad), "reason": "coordinates not numeric",
                            "detail": detail[bad].to_numpy()})
    keep = table.loc[~bad].copy()
    keep["src_row"] = keep.index.to_numpy()
    geoms = shapely.points(xlon[~bad].to_numpy(), ylat[~bad].to_numpy())
    return gpd.GeoDataFrame(keep, geometry=geoms, crs=None), rejects


def _from_wkt(table: pd.DataFrame, col: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    raw = table[col].astype(object)
    geoms = shapely.from_wkt(raw.where(raw.notna(), None).to_numpy(), on_invalid="ignore")
    bad = pd.isna(geoms) | shapely.is_missing(geoms)
    rejects = pd.DataFrame({"src_row": np.flatnonzero(bad), "reason": "WKT geometry not readable",
                            "detail": raw[bad].astype(str).to_numpy()})
    keep = table.loc[~bad].drop(columns=[col]).copy()
    keep["src_row"] = keep.index.to_numpy()
    return gpd.GeoDataFrame(keep, geometry=geoms[~bad], crs=None), rejects


def read_raw(src, *, name: str, layer=None, encoding: str | None = None, lat=None, lon=None,
             bbox=None, allow_network: bool = False) -> RawLayer:
    """Read a path or a (Geo)DataFrame into a :class:`RawLayer`.

    Parameters
    ----------
    src : str, Path, GeoDataFrame or DataFrame
    name : str
        Layer name for messages.
    layer : str or int, optional
        Layer inside a multi-layer file (GeoPackage, FileGDB).
    encoding : str, optional
        Attribute encoding override (e.g. ``"latin1"`` for a Shapefile without ``.cpg``).
    lat, lon : str, optional
        Coordinate columns of a CSV table.
    bbox : tuple, optional
        Pushed down to GDAL (in the file's CRS). Attribute filters are never
        passed to GDAL as SQL; :func:`siting.screen.where.evaluate` applies them.

    Returns
    -------
    RawLayer
    """
    if isinstance(src, gpd.GeoDataFrame):
        frame = src.copy()
        frame["src_row"] = np.arange(len(frame))
        return RawLayer(frame, _empty_rejects(), None)
    if isinstance(src, pd.DataFrame):
        frame, rejects = points_from_table(src, layer=name, lat=lat, lon=lon)
        return RawLayer(frame, rejects, None, is_table=True)
    text = os.fspath(src)
    check_local(text, allow_network=allow_network, what=f"layer {name!r}")  # also what a .vrt points at
    path = Path(text).expanduser()
    if not path.exists():
        raise InputFileError(f"layer {name!r}: file not found: {path}")
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        table = read_table(path, name, encoding)
        frame, rejects = points_from_table(table, layer=name, path=str(path), lat=lat, lon=lon)
        return RawLayer(frame, rejects, str(path), is_table=True, encoding=encoding or "utf-8")
    raw = _read_vector(path, layer, name, encoding, bbox)
    raw.frame["src_row"] = raw.frame.index.to_numpy()  # the feature id (FID) in the file
    raw.frame = raw.frame.reset_index(drop=True)
    return raw
