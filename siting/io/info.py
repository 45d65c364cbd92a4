"""``siting info PATH``: what a file is, before it goes into a run.

For each layer of a file: the detected source (dataset), the canonical layer it maps to, the CRS,
the feature count, the geometry family and validity, which fields were mapped and which were not,
and the sentinels and placeholders found. Works on files without a CRS (it says so) and never
changes anything.

Examples
--------
>>> d = describe("sample_data/infrastructure.gpkg")  # doctest: +SKIP
>>> [x["layer"] for x in d]  # doctest: +SKIP
['substations', 'towns']
>>> print(format_info(describe("sample_data/water.geojson")))  # doctest: +ELLIPSIS
sample_data/water.geojson...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio

from siting.geo import geometry
from siting.io import readers
from siting.io import sources as registry
from siting.io.sources.base import convert_tracked
from siting.io.virtual import check_local

__all__ = ["describe", "format_info"]


def _layer_names(path: Path) -> list:
    check_local(path, what=str(path))  # a .vrt naming a remote source is refused before GDAL opens it
    if path.suffix.lower() in {".csv", ".txt", ".tsv"} or readers._esri_features(path) is not None:
        return [None]
    try:
        return [str(n) for n in pyogrio.list_layers(readers._gdal_path(path))[:, 0]]
    except Exception:
        return [None]


def _describe_layer(path: Path, layer, source: str | None, options: dict) -> dict:
    raw = readers.read_raw(path, name=layer or path.stem, layer=layer, encoding=options.get("encoding"),
                           lat=options.get("lat"), lon=options.get("lon"))
    frame = raw.frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    family = geometry.dominant_family(geoms) or "none"
    fields = [c for c in frame.columns if c not in ("geometry", "src_row")]
    src = registry.get(source) if source else registry.detect(fields, family)
    ctx = registry.Context(layer=layer or path.stem, path=str(path), options=options, quiet=True)
    _, used = convert_tracked(src, frame.drop(columns="geometry"), ctx)
    valid = geometry.clean(geoms, family=family if family in geometry.FAMILIES else None,
                           on_wrong_type="drop", layer=layer, path=str(path))
    statuses, counts = np.unique(valid.status.astype(str), return_counts=True)
    crs = frame.crs.to_string() if frame.crs is not None else None
    return {
        "file": str(path), "layer": layer, "features": len(frame) + len(raw.rejects),
        "unplaced_rows": len(raw.rejects), "geometry": family, "crs": crs,
        "crs_note": None if crs else ("CSV lat/lon: read as EPSG:4326" if raw.is_table
                                      else "no CRS: give `crs:` for this layer"),
        "source": src.name, "title": src.title, "canonical": src.kind,
        "fields_mapped": sorted(map(str, used)),
        "fields_unmapped": [str(f) for f in fields if str(f) not in used],
        "geometry_checks": dict(zip(statuses.tolist(), counts.tolist(), strict=True)),
        "issues": ctx.issues, "bounds": [float(v) for v in frame.total_bounds] if len(frame) else None,
    }


def describe(path, *, layer=None, source: str | None = None, **options) -> list[dict]:
    """Describe every layer of ``path`` (or one ``layer``).

    Parameters
    ----------
    path : str or Path
    layer : str, optional
    source : str, optional
        Force an adapter instead of detecting one.
    **options
        ``encoding``, ``lat``, ``lon`` as for :func:`siting.read_layer`.

    Returns
    -------
    list of dict
        One description per layer (see the module docstring).
    """
    path = Path(path)
    layers = [layer] if layer is not None else _layer_names(path)
    return [_describe_layer(path, name, source, options) for name in layers]


def format_info(descriptions: list[dict]) -> str:
    """Human-readable text of :func:`describe`'s output."""
    out = []
    for d in descriptions:
        name = f" layer {d['layer']!r}" if d["layer"] else ""
        out.append(f"{d['file']}{name}")
        out.append(f"  {d['features']:,} features, {d['geometry']}, CRS {d['crs'] or 'NONE'}"
                   + (f" ({d['crs_note']})" if d["crs_note"] else ""))
        if d["unplaced_rows"]:
            out.append(f"  {d['unplaced_rows']:,} rows without usable coordinates")
        out.append(f"  source: {d['source']} ({d['title']}) -> canonical {d['canonical']}")
        out.append(f"  fields mapped: {', '.join(d['fields_mapped']) or '-'}")
        out.append(f"  fields not used: {', '.join(d['fields_unmapped']) or '-'}")
        checks = ", ".join(f"{k} {v:,}" for k, v in d["geometry_checks"].items())
        out.append(f"  geometry: {checks}")
        for i in d["issues"]:
            out.append(f"  {i['problem']} in {i['field']}: {i['count']:,} ({i['action']})")
    return "\n".join(out)
