"""National benchmark: the whole pipeline on a synthetic country at 1-km2 hex cells.

    python benchmarks/national.py [--scales 0.25,0.5,1] [--engine local|dask] [--results benchmarks/RESULTS.md]

The country (benchmarks/synthetic.py) is written to real files with the federal datasets' field
names (PAD-US parcels in a GeoPackage, HIFLD lines and substations, NARN-like rail, an MRDS CSV of
deposits, exclusion zones), then ``siting.run`` screens it, cuts 1-km2 hexagons from the eligible
land, measures five factors, scores and writes sites and candidates to GeoPackage and GeoParquet
(GeoJSON and the map for the best sites only). Per scale it prints each step's seconds, rows and
the peak memory, and the growth of the cost from one scale to the next.

Targets (issue 8): the 1x run under 5 minutes and 8 GB; cost growing no worse than linearly.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic
from common import machine, measure, table

import siting

M2_PER_ACRE = 4046.8564224


def write_country(folder: Path, scale: float, seed: int = 0) -> dict:
    """Write the synthetic country's layers; return their feature counts."""
    c = synthetic.country(scale, seed)
    rng = np.random.default_rng(seed + 1)
    n = len(c["parcels"])
    gap = np.where(rng.random(n) < 0.1, "2", "3")
    parcels = gpd.GeoDataFrame({
        "OBJECTID": np.arange(1, n + 1), "FeatClass": "Fee", "Category": "Fee", "Own_Type": "FED",
        "Own_Name": c["agency"], "Mang_Type": "FED", "Mang_Name": c["agency"],
        "Des_Tp": np.where(gap == "2", "ACEC", "PUB"), "Unit_Nm": [f"Unit {i}" for i in range(n)],
        "State_Nm": "XX", "GAP_Sts": gap, "GIS_Acres": np.round(shapely.area(c["parcels"]) / M2_PER_ACRE)},
        geometry=c["parcels"], crs=5070)
    parcels.to_file(folder / "federal.gpkg", layer="parcels", engine="pyogrio")
    kv = rng.choice([69.0, 115.0, 138.0, 230.0, 345.0, 500.0], len(c["lines"]))
    lines = gpd.GeoDataFrame({"ID": np.arange(len(kv)).astype(str), "VOLTAGE": kv,
                              "VOLT_CLASS": np.where(kv >= 345, "345-499", "100-161"), "STATUS": "IN SERVICE"},
                             geometry=c["lines"], crs=5070)
    lines.to_file(folder / "transmission.gpkg", engine="pyogrio")
    subs = gpd.GeoDataFrame({"ID": np.arange(len(c["substations"])).astype(str),
                             "NAME": [f"SUB {i}" for i in range(len(c["substations"]))],
                             "MAX_VOLT": rng.choice([69.0, 115.0, 230.0, 345.0], len(c["substations"])),
                             "STATUS": "IN SERVICE"}, geometry=c["substations"], crs=5070)
    subs.to_file(folder / "substations.gpkg", engine="pyogrio")
    rail = gpd.GeoDataFrame({"FRAARCID": np.arange(len(c["rail"])), "RROWNER1": "BNSF"}, geometry=c["rail"],
                            crs=5070)
    rail.to_file(folder / "rail.gpkg", engine="pyogrio")
    lonlat = gpd.GeoSeries(c["deposits"], crs=5070).to_crs(4326)
    pd.DataFrame({"dep_id": np.arange(len(lonlat)), "site_name": "Deposit", "latitude": lonlat.y.round(6),
                  "longitude": lonlat.x.round(6),
                  "commod1": rng.choice(["Tungsten", "Lithium", "Gold", "Copper", "Antimony"], len(lonlat)),
                  "dev_stat": rng.choice(["Producer", "Past Producer", "Prospect", "Occurrence"], len(lonlat))},
                 ).to_csv(folder / "mrds.csv", index=False)
    zones = gpd.GeoDataFrame({"NAME": [f"Zone {i}" for i in range(len(c["exclusions"]))]}, geometry=c["exclusions"],
                             crs=5070)
    zones.to_file(folder / "exclusions.gpkg", engine="pyogrio")
    return {k: len(v) for k, v in c.items() if k != "agency"}


def scenario(folder: Path) -> dict:
    """The national scenario: land rules, 1-km2 hex cells, site rules, five factors."""
    return {
        "version": 1, "name": "national-synthetic", "crs": "EPSG:5070",
        "layers": {"parcels": {"path": str(folder / "federal.gpkg"), "source": "padus"},
                   "exclusions": {"path": str(folder / "exclusions.gpkg"), "source": "generic"},
                   "transmission": {"path": str(folder / "transmission.gpkg")},
                   "substations": {"path": str(folder / "substations.gpkg")},
                   "rail": {"path": str(folder / "rail.gpkg")},
                   "deposits": {"path": str(folder / "mrds.csv"), "source": "mrds"}},
        "constraints": [{"rule": "agency_in", "values": ["BLM", "USFS", "DOD", "DOE", "BOR"]},
                        {"rule": "gap_status_not_in", "values": [1, 2]},
                        {"rule": "outside", "layer": "exclusions", "buffer_m": 1000},
                        {"rule": "within", "layer": "substations", "distance_m": 50_000}],
        "candidates": {"method": "grid", "cell_acres": 247.105, "shape": "hex"},
        "factors": [
            {"name": "power", "distance_to": "substations", "transform": {"linear": {"best": 0, "worst": 50_000}},
             "weight": 3},
            {"name": "grid", "distance_to": "transmission", "where": "voltage_kv >= 230",
             "transform": {"linear": {"best": 0, "worst": 60_000}}, "weight": 1},
            {"name": "feedstock", "feedstock": "deposits", "radius_m": 25_000, "commodities": ["tungsten", "lithium"],
             "transform": {"log": {"best": 25, "worst": 0}}, "weight": 4},
            {"name": "rail", "distance_to": "rail", "transform": {"linear": {"best": 0, "worst": 50_000}},
             "weight": 2}],
        "scoring": {"method": "weighted_sum", "weights": {"method": "direct"}},
        "analysis": {"near_misses": True},
        # GeoJSON of 2.6 M polygons is a 2 GB file no one opens: the GeoPackage and GeoParquet hold them all,
        # the map the best 2,000 (the rest as clustered points)
        "outputs": {"formats": ["gpkg", "html", "csv"], "geoparquet": True, "map_max_sites": 2_000},
    }


def run_scale(scale: float, engine: str, keep: Path | None) -> tuple[dict, list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        sizes = write_country(folder, scale)
        gen_s = time.perf_counter() - t0
        total = {"scale": scale, "engine": engine, "generate_s": gen_s, **{f"n_{k}": v for k, v in sizes.items()}}
        with measure(total):
            result = siting.run(scenario(folder), engine=engine, progress=False)
            out = keep or folder / "out"
            save = {}
            with measure(save):
                result.save(out, overwrite=True)
        total.update(cells=int(result.funnel.query("stage == 'generate'")["candidates_out"].iloc[0]),
                     sites=len(result.sites))
        steps = [{"scale": scale, "step": s["step"], "seconds": s["seconds"],
                  **{k: v for k, v in s.items() if k not in ("step", "seconds")}} for s in result.meta["timings"]]
        steps.append({"scale": scale, "step": "save outputs", "seconds": save["seconds"]})
        return total, steps


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.25,0.5,1")
    ap.add_argument("--engine", default="local", choices=["local", "dask"])
    ap.add_argument("--results", default=None, help="Also write the tables to this markdown file.")
    args = ap.parse_args(argv)
    totals, steps = [], []
    for s in (float(v) for v in args.scales.split(",")):
        t, st = run_scale(s, args.engine, None)
        totals.append(t)
        steps.extend(st)
        print(f"scale {s:g}: {t['seconds']:.1f} s, peak {t['peak_mib']:.0f} MiB, {t['cells']:,} cells", flush=True)
    base = totals[0]
    for t in totals:
        t["cost_per_cell_vs_first"] = (t["seconds"] / t["cells"]) / (base["seconds"] / base["cells"])
        t["target"] = "< 300 s, < 8192 MiB" if t["scale"] == 1 else ""
        t["met"] = ("yes" if t["seconds"] < 300 and t["peak_mib"] < 8192 else "NO") if t["scale"] == 1 else ""
    text = [f"# National benchmark ({machine()})\n", "## Whole runs\n",
            table(totals, ["scale", "engine", "n_parcels", "n_lines", "n_deposits", "cells", "sites", "seconds",
                           "peak_mib", "cost_per_cell_vs_first", "target", "met"]),
            "\n## Steps\n", table(steps, ["scale", "step", "seconds"])]
    print("\n".join(text))
    if args.results:
        Path(args.results).write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
