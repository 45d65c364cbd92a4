"""What a deliverable was made from: the run, and every input with its hash, vintage and citation.

One dictionary, written into every output: the ``siting`` member of sites.geojson, the
GeoPackage's metadata table, ``PROVENANCE.json`` beside the CSVs, run.json, and (as one line of
text) the map, static map, report and fact-sheet footers. A fetched input carries its catalog
dataset, URL, fetch time, licence and citation (from the cache's manifest); a local file its
modification date.

Examples
--------
>>> class R:  # the least of a result
...     meta = {"run_id": "abc", "started": "2026-01-01T00:00:00+00:00",
...             "inputs": [{"layer": "parcels", "path": "/d/lands.gpkg", "sha256": "f00", "dataset": "padus_fee",
...                         "fetched": "2026-01-01T00:00:00+00:00", "citation": "USGS GAP, PAD-US 4"}]}
...     scenario = type("S", (), {"name": "demo"})()
...     reports = {}
>>> p = provenance(R())
>>> p["run_id"], p["inputs"][0]["file"], p["inputs"][0]["vintage"]
('abc', 'lands.gpkg', '2026-01-01')
>>> sources_line(p)
'parcels: padus_fee (lands.gpkg, 2026-01-01; USGS GAP, PAD-US 4)'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

__all__ = ["provenance", "sources_line"]


def provenance(result) -> dict:
    """The run and its inputs (layer or raster, file, SHA-256, vintage, source, and citation when fetched)."""
    meta = result.meta
    sources = {name: reps[0].source for name, reps in result.reports.items() if reps}
    inputs = []
    for entry in meta.get("inputs", []):
        path = Path(entry["path"])
        item = {k: entry[k] for k in ("layer", "raster") if k in entry}
        item.update(file=path.name, sha256=entry.get("sha256"), vintage=_vintage(entry, path))
        name = entry.get("layer")
        if name in sources:
            item["source"] = sources[name]
        for key in ("dataset", "url", "extent", "fetched", "licence", "citation"):
            if entry.get(key):
                item[key] = entry[key]
        inputs.append(item)
    return {"run_id": meta.get("run_id"), "scenario": result.scenario.name, "started": meta.get("started"),
            "siting": meta.get("versions", {}).get("siting"), "working_crs": str(meta.get("working_crs", "")),
            "inputs": inputs}


def _vintage(entry: dict, path: Path) -> str | None:
    if entry.get("fetched"):
        return str(entry["fetched"])[:10]
    if path.exists():
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    return None


def sources_line(prov: dict) -> str:
    """The inputs as one line for a footer: ``layer: source (file, vintage; citation)``."""
    parts = []
    for item in prov["inputs"]:
        what = item.get("layer") or item.get("raster")
        detail = ", ".join(v for v in (item["file"], item.get("vintage")) if v)
        cite = f"; {item['citation']}" if item.get("citation") else ""
        parts.append(f"{what}: {item.get('dataset') or item.get('source', '')} ({detail}{cite})")
    return "; ".join(parts)
