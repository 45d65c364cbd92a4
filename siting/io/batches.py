"""Large layers to files in batches: each batch of rows becomes Arrow on its own.

``pyogrio.write_dataframe`` and ``GeoDataFrame.to_parquet`` convert a whole frame to Arrow before
writing it: a national run's 1.7 M sites (64 columns) or 1.86 M cells are then held twice over. Here
a layer goes in batches of :data:`WRITE_BATCH` rows: to GDAL as one Arrow stream (one layer creation,
so GDAL builds a GeoPackage's spatial index once, not row by row as appends would), to Parquet as row
groups. What must hold for the whole layer is decided on all rows first: the geometry type (single and
Multi parts of one kind mixed: Multi), GeoParquet's bbox and geometry types.
See :func:`gdal_stream` and :func:`write_geoparquet`.
"""

from __future__ import annotations

import itertools
import json
import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["WRITE_BATCH", "gdal_stream", "write_geoparquet"]

#: Rows per batch written (each converted to Arrow on its own).
WRITE_BATCH = 50_000


def gdal_stream(data: gpd.GeoDataFrame, batch: int | None = None):
    """An Arrow stream of ``data`` for ``pyogrio.write_arrow`` (geometry as ISO WKB) and the layer's
    geometry type; each batch of ``batch`` (default :data:`WRITE_BATCH`) rows is converted when read.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> frame = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2),
    ...                          MultiPolygon([box(5, 5, 6, 6)])], crs=5070)
    >>> stream, geometry_type = gdal_stream(frame, batch=2)
    >>> geometry_type, [b.num_rows for b in stream]
    ('MultiPolygon', [2, 1])
    """
    import pyarrow as pa

    size = batch or WRITE_BATCH
    kind, promote = _geometry_type(data.geometry)
    tables = (_arrow_table(data.iloc[start:start + size], promote) for start in range(0, max(len(data), 1), size))
    first = next(tables)
    stream = pa.RecordBatchReader.from_batches(first.schema, (
        part for table in itertools.chain([first], tables) for part in table.cast(first.schema).to_batches()))
    return stream, kind


def write_geoparquet(data: gpd.GeoDataFrame, path, batch: int | None = None) -> None:
    """GeoParquet 1.0 in row groups of ``batch`` (default :data:`WRITE_BATCH`) rows; the file's ``geo``
    metadata (geometry types, bbox, CRS as PROJJSON) describes all rows; the geometry column is ISO WKB,
    as geopandas writes it.

    Examples
    --------
    >>> import tempfile
    >>> from shapely import box
    >>> path = Path(tempfile.mkdtemp()) / "s.parquet"
    >>> write_geoparquet(gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=[box(0, 0, 1, 1)] * 3, crs=5070), path, 2)
    >>> len(gpd.read_parquet(path)), __import__("pyarrow.parquet").parquet.read_metadata(path).num_row_groups
    (3, 2)
    """
    import pyarrow.parquet as pq

    size = batch or WRITE_BATCH
    name = data.geometry.name
    geo = {"version": "1.0.0", "primary_column": name, "columns": {name: _geo_column(data.geometry)}}
    writer = None
    try:
        for start in range(0, max(len(data), 1), size):
            table = _arrow_table(data.iloc[start:start + size], promote=False)
            if writer is None:
                meta = {**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()}
                writer = pq.ParquetWriter(Path(path), table.schema.with_metadata(meta))
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def _arrow_table(part: gpd.GeoDataFrame, promote: bool):
    """Rows of a layer as an Arrow table: the columns as pandas gives them to Arrow (a column with no value
    as text, so later batches keep theirs; GDAL has no null type either; categorical text as plain text),
    the geometry as ISO WKB (single parts made Multi where the layer mixes them: ``promote``)."""
    import pyarrow as pa

    name = part.geometry.name
    geoms = np.asarray(part.geometry.array, dtype=object)
    wkb = shapely.to_wkb(geoms, flavor="iso", byte_order=1)
    if promote:
        wkb = _as_multi(wkb, geoms)
    table = pa.Table.from_pandas(pd.DataFrame(part.drop(columns=name)), preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(i, field.with_type(pa.string()), table.column(i).cast(pa.string()))
        elif pa.types.is_dictionary(field.type):  # categorical text, decoded batch by batch
            kind = field.type.value_type
            table = table.set_column(i, field.with_type(kind), table.column(i).cast(kind))
    wkb = pa.array(wkb, type=pa.binary())
    if not table.num_columns:  # a layer of geometry alone: Arrow counts no rows in a table of no columns
        return pa.table({name: wkb})
    return table.append_column(name, wkb)


def _as_multi(wkb: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Little-endian ISO WKB of single points, lines and polygons made Multi of one part, by prefixing the
    Multi header (byte order, type, one part) to their own WKB: no geometry is rebuilt.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> geoms = np.array([box(0, 0, 1, 1), MultiPolygon([box(2, 2, 3, 3)]), None], dtype=object)
    >>> [None if g is None else g.wkt for g in shapely.from_wkb(_as_multi(shapely.to_wkb(geoms, flavor="iso",
    ...                                                                     byte_order=1), geoms))][:1]
    ['MULTIPOLYGON (((1 0, 1 1, 0 1, 0 0, 1 0)))']
    """
    ids = shapely.get_type_id(geoms)
    z = shapely.has_z(geoms)
    out = wkb.copy()
    for single, multi in ((0, 4), (1, 5), (3, 6)):  # shapely's Point, LineString, Polygon; WKB's Multi types
        for has_z in (False, True):
            sel = np.flatnonzero((ids == single) & (z == has_z))
            if len(sel):
                head = b"\x01" + struct.pack("<II", multi + 1000 * has_z, 1)  # ISO Z types: + 1000
                out[sel] = [head + w for w in wkb[sel]]
    return out


def _geometry_type(geometry: gpd.GeoSeries) -> tuple[str, bool]:
    """A whole layer's geometry type for GDAL and whether single parts are made Multi: its one type; the
    Multi type where single and Multi parts of one kind mix; else ``Unknown``. ``Z`` where any has Z.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> _geometry_type(gpd.GeoSeries([box(0, 0, 1, 1), MultiPolygon([box(2, 2, 3, 3)]), None]))
    ('MultiPolygon', True)
    """
    live = geometry[geometry.notna() & ~geometry.is_empty]
    types = set(live.geom_type.unique())
    single = next(iter(types)) if len(types) == 1 else None
    multi = next((f"Multi{t}" for t in ("Point", "LineString", "Polygon") if types == {t, f"Multi{t}"}), None)
    kind = single or multi or "Unknown"
    if kind != "Unknown" and bool(live.has_z.any()):
        kind += " Z"
    return kind, multi is not None


def _geo_column(geometry: gpd.GeoSeries) -> dict:
    """The GeoParquet column metadata of a whole geometry column."""
    live = geometry[geometry.notna() & ~geometry.is_empty]
    kinds = pd.DataFrame({"t": live.geom_type.to_numpy(), "z": live.has_z.to_numpy()}).drop_duplicates()
    column: dict = {"encoding": "WKB", "geometry_types": sorted(f"{t} Z" if z else t
                                                               for t, z in kinds.itertuples(index=False))}
    if len(live):
        column["bbox"] = [float(v) for v in live.total_bounds]
    if geometry.crs is not None:
        column["crs"] = geometry.crs.to_json_dict()
    return column
