"""Load every real vector file in SITING_REALDATA and print what siting made of it.

    SITING_REALDATA=../shared/realdata python benchmarks/realdata_report.py

Prints, per file and layer: detected source, canonical kind, features read / kept / repaired /
rejected, load seconds; then, where the dataset reports its own acreage (PAD-US GIS_Acres and the
area fields of derived PAD-US products), the median and worst difference between that acreage and the
area siting measures in the equal-area working CRS.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table

from siting.core.errors import SitingError
from siting.io.layers import load_layer

ROOT = Path(os.environ.get("SITING_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))
#: files without a CRS as published, and the CRS their documentation gives
NO_CRS = {"us_atlas_counties-10m.topojson.json": "EPSG:4326",
          "us_atlas_states-10m.topojson.json": "EPSG:4326",
          "protected_area_1.json": "EPSG:4326", "protected_area_2.json": "EPSG:4326"}
#: relational tables of the lithium release without coordinates, and the minerals lists
TABLES = {"Dep_Model.csv", "Descr_Sum.csv", "GeolMinOcc.csv", "History.csv", "Loc_Poly.csv",
          "Loc_Poly_Sw.csv", "Production.csv", "References.csv", "Resources.csv",
          "critical_minerals_2022.csv", "critical_minerals_2025.csv"}


def vector_files(root: Path) -> list[Path]:
    """Every vector file of the folder (metadata XML, PMTiles and plain tables excluded)."""
    exts = {".geojson", ".gpkg", ".shp", ".csv", ".json"}
    files = [p for p in sorted(root.rglob("*")) if p.suffix.lower() in exts and p.name not in TABLES]
    return files + sorted(root.rglob("*.gml.xml"))


def layers_of(path: Path) -> list:
    from siting.io.info import _layer_names

    return _layer_names(path)


def load(path: Path, layer):
    return load_layer(path, layer=layer, name=layer or path.stem, crs=NO_CRS.get(path.name))


def acreage(frame) -> dict | None:
    if "reported_acres" not in frame or frame["reported_acres"].notna().sum() == 0:
        return None
    rep = frame["reported_acres"].to_numpy(float)
    got = frame.area.to_numpy() / 4046.8564224
    ok = np.isfinite(rep) & (rep > 0)
    rel = (got[ok] - rep[ok]) / rep[ok]
    worst = int(np.argmax(np.abs(rel)))
    big = rep[ok] >= 1000
    return {"n": int(ok.sum()), "median_pct": float(np.median(np.abs(rel)) * 100),
            "median_pct_1000ac+": float(np.median(np.abs(rel[big])) * 100) if big.any() else float("nan"),
            "total_pct": float((got[ok].sum() / rep[ok].sum() - 1) * 100),
            "worst_pct": float(rel[worst] * 100), "worst_reported": float(rep[ok][worst]),
            "worst_measured": float(got[ok][worst]), "total_reported": float(rep[ok].sum()),
            "total_measured": float(got[ok].sum())}


def main() -> None:
    if not ROOT.is_dir():
        raise SystemExit(f"no real data at {ROOT}; set SITING_REALDATA")
    rows, acres = [], []
    warnings.simplefilter("ignore")
    for path in vector_files(ROOT):
        for layer in layers_of(path):
            name = f"{path.relative_to(ROOT)}" + (f":{layer}" if layer else "")
            t = time.perf_counter()
            try:
                got = load(path, layer)
            except SitingError as exc:
                rows.append({"file": name, "source": "ERROR", "kind": type(exc).__name__, "read": 0})
                continue
            r = got.report
            rows.append({"file": name, "source": r.source, "kind": r.kind, "read": r.read, "kept": r.kept,
                         "repaired": r.repaired, "rejected": r.rejected, "sentinels/placeholders":
                         sum(i["count"] for i in r.issues if i["field"] != "geometry"),
                         "seconds": time.perf_counter() - t})
            a = acreage(got.frame)
            if a:
                acres.append({"file": name, **a})
    print(f"# Real data through read_layer ({machine()})\n")
    print(table(rows, ["file", "source", "kind", "read", "kept", "repaired", "rejected",
                       "sentinels/placeholders", "seconds"]))
    print("\n# Reported acreage vs area measured in the working CRS\n")
    print(table(acres, ["file", "n", "median_pct", "median_pct_1000ac+", "total_pct", "worst_pct",
                        "worst_reported", "worst_measured", "total_reported", "total_measured"]))
    print(f"\nmedian of medians: {statistics.median(a['median_pct'] for a in acres):.3f} %")


if __name__ == "__main__":
    main()
