"""Format writers for deliverables: GeoJSON (RFC 7946), GeoPackage (styled), GeoParquet, Shapefile.

Every writer re-reads what it wrote and checks the feature count; :mod:`siting.deliver.outputs` writes them
into a temporary folder that is moved into place only when everything succeeded.

* GeoJSON: EPSG:4326, at most 7 decimals, counter-clockwise exteriors (GDAL ``RFC7946=YES``), and
  geometries crossing the antimeridian cut with the ``antimeridian`` package (A9);
* GeoPackage: a fresh file, one geometry type per layer, plain tables for non-spatial data, and a
  ``layer_styles`` table so QGIS opens the layers styled;
* GeoParquet: the analysis CRS kept (fast, compact; some GIS builds lack the Parquet driver);
* Shapefile: only on request, with a CSV crosswalk from the full field names to the 10-character
  DBF names (A13).

Examples
--------
>>> import tempfile, pathlib
>>> from shapely import box
>>> sites = gpd.GeoDataFrame({"site_id": ["a"], "suitability_score": [0.5], "suitability_rank": [1]},
...                          geometry=[box(0, 0, 100, 100)], crs=5070)
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_gpkg(d / "s.gpkg", {"sites": sites}).name
's.gpkg'
>>> shp, crosswalk = write_shapefile(sites, d / "sites.shp")
>>> shp.name, crosswalk.name
('sites.shp', 'sites_fields.csv')
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import warnings
from pathlib import Path

import antimeridian
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting.core import settings
from siting.core.errors import OutputError, warn
from siting.geo.geometry import keep_family
from siting.io.batches import gdal_stream, write_geoparquet

__all__ = ["FORMULA_START", "csv_safe", "gdal_crs", "layer_kind", "shapefile_names", "slug", "to_output_frame",
           "write_csv", "write_geojson", "write_gpkg", "write_parquet", "write_shapefile"]

log = logging.getLogger(__name__)

#: Characters a Shapefile's (DBF) text field holds; GDAL cuts longer values.
DBF_TEXT = 254


def slug(text: str) -> str:
    """A safe file-name part: letters, digits, ``_`` and ``-`` only (S4).

    Examples
    --------
    >>> slug("../../within substations")
    'within_substations'
    """
    out = re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)).strip("_.-")
    return out[:80] or "unnamed"


def _unique_names(columns) -> dict:
    """Rename columns that repeat another but for case (``Commodity`` after ``commodity``): ``_2``, ``_3``."""
    seen: dict[str, int] = {}
    renames = {}
    for col in columns:
        key = str(col).lower()
        if key in seen:
            seen[key] += 1
            renames[col] = f"{col}_{seen[key]}"
        else:
            seen[key] = 1
    return renames


def to_output_frame(gdf: gpd.GeoDataFrame, *, text_codes: bool = False) -> gpd.GeoDataFrame:
    """Make a frame writable by every driver: plain dtypes, no lists, field names unique but for case.

    Object columns become one Arrow type each: lists are joined with ``;``, booleans and integers
    with gaps become nullable ``boolean``/``Int64``, and columns mixing types (a ledger's values)
    become text. With ``text_codes``, categorical text columns are kept as they are, for the writers
    that decode them batch by batch (:mod:`siting.io.batches`): a national run's 1.7 M sites hold twenty
    such columns, half a GB as text at once.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"v": [1.5, "all"], "ok": [True, None], "tags": [["a", "b"], None]},
    ...                      geometry=[Point(0, 0), Point(1, 1)], crs=5070)
    >>> out = to_output_frame(g)
    >>> out["v"].tolist(), str(out["ok"].dtype), out["tags"].notna().tolist()
    (['1.5', 'all'], 'boolean', [True, False])
    """
    out = gdf.rename(columns=_unique_names(gdf.columns))
    for col in out.columns:
        if col != out.geometry.name and _needs_arrow_type(out[col]) and not (text_codes and _coded_text(out[col])):
            out[col] = _arrow_ready(out[col])
    return out


def _coded_text(s: pd.Series) -> bool:
    """Whether a column is categorical text (codes of string categories)."""
    return isinstance(s.dtype, pd.CategoricalDtype) and s.cat.categories.dtype != object and \
        pd.api.types.is_string_dtype(s.cat.categories.dtype)


def _needs_arrow_type(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype)


def _arrow_ready(s: pd.Series) -> pd.Series:
    """An object (or categorical) column as one Arrow-writable type (see :func:`to_output_frame`)."""
    if _coded_text(s):
        return s.astype(s.cat.categories.dtype)  # Arrow text, not a Python string per row
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty", "bytes", "datetime", "datetime64", "date", "time", "decimal"):
        return s
    if kind == "boolean":
        return s.astype("boolean")
    if kind == "integer":
        return s.astype("Int64")
    if kind in ("floating", "mixed-integer-float"):
        return pd.to_numeric(s)
    seq = (list, tuple, set, np.ndarray)
    present = s.notna()
    first = s[present].iloc[0] if present.any() else None
    if isinstance(first, seq):
        return s.map(lambda v: ";".join(map(str, v)) if isinstance(v, seq) else None if v is None else str(v))
    return s.astype(str).where(present, None)


def _promote(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One geometry type per layer: Polygon+MultiPolygon -> MultiPolygon (lines likewise)."""
    types = set(gdf.geometry.geom_type.dropna())
    for family, pair in (("polygon", {"Polygon", "MultiPolygon"}),
                         ("line", {"LineString", "MultiLineString"})):
        if len(types) > 1 and types <= pair:
            geoms = keep_family(np.asarray(gdf.geometry.values, dtype=object), family)
            return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def write_geojson(gdf: gpd.GeoDataFrame, path, members: dict | None = None) -> Path:
    """Write RFC 7946 GeoJSON (EPSG:4326, <= 7 decimals, CCW exteriors) and check it re-reads.

    ``members`` become top-level foreign members of the FeatureCollection (RFC 7946 6.1), such as
    siting's provenance.

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
    out = _cut_antimeridian(to_output_frame(gdf).to_crs(settings.OUTPUT_CRS))
    options = {"RFC7946": "YES", "COORDINATE_PRECISION": str(settings.GEOJSON_DECIMALS), "WRITE_NAME": "NO"}
    native = members and pyogrio.__gdal_version__ >= (3, 9, 0)
    if native:
        options["FOREIGN_MEMBERS_COLLECTION"] = json.dumps(members, default=str)
    pyogrio.write_dataframe(out, path, driver="GeoJSON", use_arrow=True, layer_options=options)
    if members and not native:  # older GDAL: add the members to the written collection
        doc = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**members, **doc}, default=str), encoding="utf-8")
    with _own_output():
        n = pyogrio.read_info(path)["features"]
    if n != len(gdf):
        raise OutputError(f"{path}: wrote {len(gdf)} features but re-read {n}")
    return path


@contextlib.contextmanager
def _own_output():
    """Lift GDAL's GeoJSON object-size limit while re-reading a file siting itself just wrote.

    The limit (200 MB per object) guards against hostile input; a real parcel of a million vertices
    makes a site larger than that, and our own output must re-read whatever its size.
    """
    old = pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE")
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "0"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": old})


def _cut_antimeridian(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut lon/lat geometries spanning more than 180 deg at the antimeridian (RFC 7946 3.1.9)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    b = shapely.bounds(geoms)
    wide = np.flatnonzero(np.nan_to_num(b[:, 2] - b[:, 0]) > 180)
    if not len(wide):
        return gdf
    geoms = geoms.copy()
    geoms[wide] = [shapely.geometry.shape(antimeridian.fix_shape(g)) for g in geoms[wide]]  # the few that cross
    log.info("cut %d geometr%s at the antimeridian", len(wide), "y" if len(wide) == 1 else "ies")
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def _plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    data = frame.rename(columns=_unique_names(frame.columns))
    for col in data.columns:
        if _needs_arrow_type(data[col]):
            data[col] = _arrow_ready(data[col])
    return data


def write_gpkg(path, layers: dict[str, pd.DataFrame], *, styles: bool = True, metadata: dict | None = None) -> Path:
    """Write a fresh GeoPackage with the given layers (spatial or plain tables) and check counts.

    Spatial layers get one geometry type each and, with ``styles``, a default QGIS style in the
    ``layer_styles`` table. ``metadata`` (a JSON document) goes to the file's ``gpkg_metadata`` table
    (the GeoPackage metadata extension, scope geopackage, ``md_standard_uri`` :data:`PROVENANCE_URI`).
    Written in this process; :class:`siting.io.gpkg_job.GpkgJob` writes big layers beside other work.
    """
    from siting.io.gpkg_job import GpkgJob  # the job builds on this module's layer writers

    return GpkgJob(path, layers, styles=styles, metadata=metadata, helper=False).finish()


#: ``md_standard_uri`` of siting's provenance record in a GeoPackage's ``gpkg_metadata`` table.
PROVENANCE_URI = "https://siting.invalid/provenance/1"
_METADATA_TABLES = """
CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT,
  column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL,
  md_parent_id INTEGER, CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""


def _gpkg_metadata(path: Path, text: str) -> None:
    """Add a JSON record to the GeoPackage metadata extension (its own tables, written with sqlite3).

    GDAL's dataset metadata would do, but reading such a file with GDAL then leaves a ``.aux.xml``
    beside it; a record under our own ``md_standard_uri`` reads back as ``GPKG_METADATA_ITEM_<n>``.
    """
    import sqlite3

    spec = "http://www.geopackage.org/spec120/#extension_metadata"
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.executescript(_METADATA_TABLES)
        row = con.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                          "VALUES ('dataset', ?, 'application/json', ?)", (PROVENANCE_URI, text)).lastrowid
        con.execute("INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) VALUES ('geopackage', ?)",
                    (row,))
        con.executemany("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                        [("gpkg_metadata", spec), ("gpkg_metadata_reference", spec)])


def _write_layer(path: Path, name: str, frame: gpd.GeoDataFrame) -> None:
    """One spatial GeoPackage layer.

    It goes to GDAL as one Arrow stream of batches (:func:`siting.io.batches.gdal_stream`): one layer
    creation, so GDAL builds the spatial index once at the end. pyogrio writes a layer mixing Polygon and
    MultiPolygon (or LineString and MultiLineString) as the Multi type, so each layer has one geometry type,
    decided over all rows; every column's type is decided once for the whole frame (:func:`to_output_frame`).
    """
    data = to_output_frame(frame, text_codes=True)
    stream, geometry_type = gdal_stream(data)
    pyogrio.write_arrow(stream, path, layer=name, driver="GPKG", geometry_name=data.geometry.name,
                        geometry_type=geometry_type, crs=gdal_crs(data.crs))


def gdal_crs(crs) -> str | None:
    """A CRS as GDAL is given it: ``EPSG:<code>`` where it has one, else WKT1 (None without a CRS).

    Examples
    --------
    >>> gdal_crs(gpd.GeoSeries([], crs=5070).crs), gdal_crs(None)
    ('EPSG:5070', None)
    """
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


def layer_kind(path: Path, name: str) -> str:
    """A written GeoPackage layer's geometry type as GDAL reads it (``Polygon`` where GDAL says Unknown).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import box
    >>> path = write_gpkg(pathlib.Path(tempfile.mkdtemp()) / "k.gpkg",
    ...                   {"a": gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=5070)}, styles=False)
    >>> layer_kind(path, "a")
    'Polygon'
    """
    kind = pyogrio.read_info(path, layer=name)["geometry_type"]
    return kind if kind and kind != "Unknown" else "Polygon"


def write_parquet(frame: pd.DataFrame, path) -> Path:
    """Write GeoParquet (analysis CRS kept; plain Parquet for a table) and check its row count.

    Examples
    --------
    >>> import tempfile
    >>> p = write_parquet(pd.DataFrame({"rule": ["a", "b"], "value": [1.0, "x"]}), tempfile.mkdtemp() + "/t.parquet")
    >>> pd.read_parquet(p)["value"].tolist()
    ['1.0', 'x']
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if isinstance(frame, gpd.GeoDataFrame):
        write_geoparquet(to_output_frame(frame, text_codes=True), path)
    else:
        _plain_table(frame).to_parquet(path, index=False)
    n = pq.read_metadata(path).num_rows
    if n != len(frame):
        raise OutputError(f"{path}: wrote {len(frame)} rows but re-read {n}")
    return path


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that a spreadsheet would run as formulas start with ``'`` (OWASP).

    Only text (and the index, when it is text) changes; numbers stay numbers. GeoPackage, GeoJSON and
    Parquet keep the raw values.

    Examples
    --------
    >>> csv_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "@SUM(A1)", "Tonopah", "-x"], "n": [1, -2, 3, 4]}))
                 name  n
    0  '=HYPERLINK(1)  1
    1       '@SUM(A1) -2
    2         Tonopah  3
    3             '-x  4
    """
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = _neutralise(out[col])
    if out.index.dtype == object:
        out.index = pd.Index(_neutralise(out.index.to_series()), name=out.index.name)
    return out


def _neutralise(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):  # text with new values: plain text
        values = values.astype(object)
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False).to_numpy(bool)
    return values.where(~risky, "'" + text.astype(object).where(risky, ""))


def write_csv(table: pd.DataFrame, path) -> Path:
    """Write a table as UTF-8 CSV with a header (text quoted), through Arrow (8 times faster than pandas).

    Text cells that a spreadsheet would run as formulas are neutralised (:func:`csv_safe`).

    Examples
    --------
    >>> import tempfile
    >>> p = write_csv(pd.DataFrame({"site_id": ["a", "b"], "score": [0.5, None]}), tempfile.mkdtemp() + "/s.csv")
    >>> p.read_text().splitlines()
    ['"site_id","score"', '"a",0.5', '"b",']
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    pacsv.write_csv(pa.Table.from_pandas(csv_safe(_plain_table(table)), preserve_index=False), path)
    return path


def shapefile_names(columns) -> dict[str, str]:
    """Unique DBF field names (at most 10 characters) for ``columns``, deterministic (A13).

    Examples
    --------
    >>> shapefile_names(["suitability_score", "suitability_rank", "site_id"])
    {'suitability_score': 'suitabilit', 'suitability_rank': 'suitabil_1', 'site_id': 'site_id'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(col))[:10] or "field"
        k = 0
        while name.lower() in used:
            k += 1
            suffix = f"_{k}"
            name = name[: 10 - len(suffix)] + suffix
            if k > 999:
                raise OutputError(f"cannot make a unique 10-character field name for {col!r}")
        used.add(name.lower())
        out[str(col)] = name
    return out


def _warn_long_text(data: pd.DataFrame, names, path: Path) -> None:
    """A :class:`SitingWarning` with the count of text values per column longer than a DBF field holds (254
    characters; GDAL cuts them). Text columns are object, pandas 3's ``str`` or categorical (kind ``O``)."""
    text = [c for c in names if data[c].dtype.kind == "O"]
    cut = {c: n for c in text if (n := int(data[c].dropna().astype(str).str.len().gt(DBF_TEXT).sum()))}
    if cut:
        warn(f"Shapefile {path.name}: a DBF field holds at most {DBF_TEXT} characters, so "
             + ", ".join(f"{n:,} value(s) of {c!r}" for c, n in cut.items())
             + " are cut there; the GeoPackage and GeoJSON keep them whole")


def write_shapefile(gdf: gpd.GeoDataFrame, path) -> tuple[Path, Path]:
    """Write a Shapefile (UTF-8, with .cpg) and its ``<stem>_fields.csv`` name crosswalk."""
    path = Path(path)
    data = to_output_frame(gdf)
    names = shapefile_names([c for c in data.columns if c != data.geometry.name])
    _warn_long_text(data, names, path)
    data = _promote(data.rename(columns=names))
    with warnings.catch_warnings():  # GDAL's own note of the first cut value: ours above counts them all
        warnings.filterwarnings("ignore", "(?s)Value .* has been truncated to 254 characters", RuntimeWarning)
        pyogrio.write_dataframe(data, path, driver="ESRI Shapefile", encoding="UTF-8", use_arrow=True)
    crosswalk = path.with_name(path.stem + "_fields.csv")
    csv_safe(pd.DataFrame({"field": list(names), "shapefile_field": list(names.values())})).to_csv(crosswalk,
                                                                                                    index=False)
    if pyogrio.read_info(path)["features"] != len(gdf):
        raise OutputError(f"{path}: row count changed on re-read")
    return path, crosswalk


