"""National benchmark: the whole pipeline on a synthetic country at 1-km2 hex cells.

    python benchmarks/national.py [--scales 0.25,0.5,1] [--dask-scale 0.25] [--baseline-scales 0.25]
                                  [--results FILE.md]

The country (benchmarks/synthetic.py) is written to real files with the federal datasets' field
names: real-shaped PAD-US parcels in a GeoPackage (the parts of Nevada's federal land in PAD-US 3,
read from SITING_REALDATA, drawn with replacement: their vertices, holes and parts follow the real
file's), HIFLD lines and substations, NARN-like rail, an MRDS CSV of deposits, exclusion zones and a
90 m DEM (a sparse tiled GeoTIFF over the land). ``siting.run`` screens it, cuts 1-km2 hexagons from
the eligible land, measures five factors (three distances, a deposit count, mean slope), scores and
writes sites and candidates to GeoPackage and GeoParquet (GeoJSON and the map for the best sites only).
Per scale it prints each step's seconds, rows and peak memory, the growth of the cost from one scale
to the next, the shape statistics of the real and the synthetic land, and, at ``--baseline-scales``,
the obvious pipeline's time on the same files (benchmarks/baseline.py) with the answers compared.

Targets (issue 20): at 1x on a 2-core machine, the whole run <= 90 s and <= 4 GB, >= 5x the obvious
pipeline, growth no worse than linear.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline as baseline_module
import synthetic
from common import machine, measure, table

import siting

M2_PER_ACRE = 4046.8564224


NEVADA = "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson"
DEM_M = 90.0  # the DEM's pixel size
DEM_BLOCK = 256


def nevada_features() -> np.ndarray:
    """Nevada's federal land in PAD-US 3 by manager (SITING_REALDATA), in EPSG:5070."""
    root = Path(os.environ.get("SITING_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))
    if not (root / NEVADA).exists():
        raise SystemExit(f"the real-shaped country needs {root / NEVADA}: set SITING_REALDATA to the realdata folder")
    return gpd.read_file(root / NEVADA, engine="pyogrio").to_crs(5070).geometry.to_numpy()


def shape_stats(geoms: np.ndarray, name: str) -> dict:
    """Vertices, parts and holes of a parcel layer: the distribution the synthetic land follows."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    holes = shapely.get_num_interior_rings(parts)
    v_feat, v_part = shapely.get_num_coordinates(geoms), shapely.get_num_coordinates(parts)
    n_parts = np.bincount(idx, minlength=len(geoms))
    pct = lambda a, q: int(np.percentile(a, q))  # noqa: E731
    return {"layer": name, "features": len(geoms), "parts": len(parts), "km2": shapely.area(geoms).sum() / 1e6,
            "parts_p50_p90_max": f"{pct(n_parts, 50)} / {pct(n_parts, 90)} / {n_parts.max():,}",
            "vertices_per_part_p50_p90_p99_max": f"{pct(v_part, 50)} / {pct(v_part, 90)} / {pct(v_part, 99)} / "
                                                 f"{v_part.max():,}",
            "vertices_per_feature_max": int(v_feat.max()), "share_parts_5_vertices": float((v_part == 5).mean()),
            "holes": int(holes.sum()), "holes_per_1000_km2": holes.sum() / (shapely.area(geoms).sum() / 1e9)}


def write_dem(path: Path, parcels: np.ndarray) -> int:
    """A 90 m DEM (int16, metres, EPSG:5070) over the parcels: a sparse tiled GeoTIFF; its pixel count.

    The grid covers the parcels' extent; only the 256-pixel blocks that some parcel's part touches
    are written (GDAL SPARSE_OK), from a seamless periodic terrain of slopes between 0 and about 12 %.
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    x0, y0, x1, y1 = shapely.total_bounds(parcels)
    width, height = int(np.ceil((x1 - x0) / DEM_M)) + 1, int(np.ceil((y1 - y0) / DEM_M)) + 1
    transform = from_origin(x0 - DEM_M / 2, y1 + DEM_M / 2, DEM_M, DEM_M)
    b = shapely.bounds(shapely.get_parts(parcels))
    span = DEM_M * DEM_BLOCK
    c0, c1 = ((b[:, 0] - x0) // span).astype(int), ((b[:, 2] - x0) // span).astype(int)
    r0, r1 = ((y1 - b[:, 3]) // span).astype(int), ((y1 - b[:, 1]) // span).astype(int)
    blocks = {(r, c) for a, z, e, f in zip(r0, r1, c0, c1, strict=True) for r in range(a, z + 1)
              for c in range(e, f + 1)}
    yy, xx = np.mgrid[0:4 * DEM_BLOCK, 0:4 * DEM_BLOCK] * (2 * np.pi / (4 * DEM_BLOCK))
    patch = (1500 + 300 * np.sin(2 * xx) * np.cos(3 * yy) + 60 * np.sin(11 * (xx + yy)) + 12 * np.cos(37 * xx)
             ).astype("int16")
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="int16", crs="EPSG:5070",
                   transform=transform, nodata=-32768, tiled=True, blockxsize=DEM_BLOCK, blockysize=DEM_BLOCK,
                   compress="deflate", predictor=2, zlevel=1, sparse_ok=True, bigtiff="yes")
    with rasterio.open(path, "w", **profile) as ds:
        for r, c in sorted(blocks):
            if r * DEM_BLOCK < height and c * DEM_BLOCK < width:
                pr, pc = (r % 4) * DEM_BLOCK, (c % 4) * DEM_BLOCK
                win = Window(c * DEM_BLOCK, r * DEM_BLOCK, min(DEM_BLOCK, width - c * DEM_BLOCK),
                             min(DEM_BLOCK, height - r * DEM_BLOCK))
                ds.write(patch[pr:pr + win.height, pc:pc + win.width], 1, window=win)
    return len(blocks) * DEM_BLOCK**2


def write_country(folder: Path, scale: float, seed: int = 0) -> dict:
    """Write the synthetic country's layers (real-shaped parcels, a 90 m DEM); return their sizes."""
    c = synthetic.country(scale, seed, templates=synthetic.shape_templates(shapely.get_parts(nevada_features())))
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
    dem_px = write_dem(folder / "dem.tif", c["parcels"])
    return {**{k: len(v) for k, v in c.items() if k != "agency"}, "dem_px": dem_px,
            "shape": shape_stats(c["parcels"], f"synthetic {scale:g}x")}


def scenario(folder: Path) -> dict:
    """The national scenario: land rules, 1-km2 hex cells, site rules, four factors."""
    return {
        "version": 1, "name": "national-synthetic", "crs": "EPSG:5070",
        "layers": {"parcels": {"path": str(folder / "federal.gpkg"), "source": "padus"},
                   "exclusions": {"path": str(folder / "exclusions.gpkg"), "source": "generic"},
                   "transmission": {"path": str(folder / "transmission.gpkg")},
                   "substations": {"path": str(folder / "substations.gpkg")},
                   "rail": {"path": str(folder / "rail.gpkg")},
                   "deposits": {"path": str(folder / "mrds.csv"), "source": "mrds"}},
        "rasters": {"slope": {"path": str(folder / "dem.tif"), "derive": "slope_percent"}},
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
             "weight": 2},
            {"name": "terrain", "raster": "slope", "stat": "mean", "transform": {"linear": {"best": 0, "worst": 10}},
             "weight": 1}],
        "scoring": {"method": "weighted_sum", "weights": {"method": "direct"}},
        "analysis": {"near_misses": True},
        # GeoJSON of 2 M polygons is a 2 GB file no one opens: siting.gpkg holds every site, candidates.parquet
        # every candidate with its ledger (more than outputs.gpkg_max_rows rows), sites.geojson the best 10,000,
        # the map the best 2,000 as polygons, the best 25,000 as clustered points and every site in summary
        # cells; run.json and the map say so
        "outputs": {"formats": ["gpkg", "geojson", "html"], "geoparquet": False, "geojson_max_sites": 10_000,
                    "map_max_sites": 2_000, "map_max_points": 25_000},
    }


PIPELINE = ("constraints", "factors")  # the partitioned steps (what the dask engine spreads over workers)


def run_scale(scale: float, engine: str, baseline: bool = False) -> tuple[dict, list[dict]]:
    """Generate the country, run and save it; the whole run's and each step's seconds, rows and peak.

    With ``baseline``, the obvious pipeline (benchmarks/baseline.py) runs afterwards on the same files,
    and its calls are checked against siting's answers on a sample of the sites."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        sizes = write_country(folder, scale)
        gen_s = time.perf_counter() - t0
        shape = sizes.pop("shape")
        total = {"scale": scale, "engine": engine, "generate_s": gen_s, "shape": shape,
                 **{f"n_{k}": v for k, v in sizes.items()}}
        save = {}
        with measure(total, children=engine == "dask"):
            result = siting.run(scenario(folder), engine=engine, progress=False)
            with measure(save, children=engine == "dask"):
                result.save(folder / "out", overwrite=True)
        timings = result.meta["timings"]
        total.update(cells=int(result.funnel.query("stage == 'generate'")["candidates_out"].iloc[0]),
                     sites=len(result.sites), pipeline_s=sum(s["seconds"] for s in timings if s["step"] in PIPELINE))
        steps = [{"scale": scale, "engine": engine, "step": s["step"], "seconds": s["seconds"],
                  "peak_mib": s["peak_mib"], "rows": _rows(s)} for s in timings]
        files = ", ".join(sorted(p.name for p in (folder / "out").iterdir()))
        steps.append({"scale": scale, "engine": engine, "step": "save outputs", "seconds": save["seconds"],
                      "peak_mib": save["peak_mib"], "rows": files})
        if baseline:
            total["answers"] = baseline_module.compare(folder, result.sites)
            total["eligible_km2"] = result.eligible_acres * M2_PER_ACRE / 1e6
            del result
            base, answers = baseline_module.run(folder, scenario(folder))
            total.update(baseline_s=sum(base.values()), ratio=sum(base.values()) / total["seconds"],
                         baseline_eligible_km2=answers["eligible_km2"], baseline_cells=len(answers["cells"]))
            steps += [{"scale": scale, "engine": "obvious", "step": k, "seconds": v} for k, v in base.items()]
        return total, steps


def _rows(step: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in step.items() if k not in ("step", "seconds", "peak_mib")
                     and isinstance(v, int))


def in_fresh_process(scale: float, engine: str, baseline: bool = False) -> tuple[dict, list[dict]]:
    """:func:`run_scale` in a new interpreter, so each scale's peak memory is its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_scale, scale, engine, baseline).result()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.25,0.5,1")
    ap.add_argument("--dask-scale", type=float, default=0.25,
                    help="Also run this scale on a 2-worker dask LocalCluster and report the speed-up (0: skip).")
    ap.add_argument("--baseline-scales", default="0.25",
                    help="Also run the obvious pipeline (benchmarks/baseline.py) at these scales ('' for none).")
    ap.add_argument("--results", default=None, help="Also write the tables to this markdown file.")
    args = ap.parse_args(argv)
    totals, steps = [], []
    runs = [(float(v), "local") for v in args.scales.split(",")]
    runs += [(args.dask_scale, "dask")] if args.dask_scale else []
    with_baseline = {float(v) for v in args.baseline_scales.split(",") if v}
    for scale, engine in runs:
        t, st = in_fresh_process(scale, engine, engine == "local" and scale in with_baseline)
        totals.append(t)
        steps.extend(st)
        print(f"scale {scale:g} ({engine}): {t['seconds']:.1f} s, peak {t['peak_mib']:.0f} MiB, {t['cells']:,} cells",
              flush=True)
    local = [t for t in totals if t["engine"] == "local"]
    for t in local:
        t["cost_per_cell_vs_first"] = (t["seconds"] / t["cells"]) / (local[0]["seconds"] / local[0]["cells"])
        if t["scale"] == 1:
            t["target"] = "<= 90 s, <= 4096 MiB"
            t["met"] = "yes" if t["seconds"] <= 90 and t["peak_mib"] <= 4096 else "NO"
    text = [f"# National benchmark ({machine()})\n", "## Whole runs\n",
            table(totals, ["scale", "engine", "n_parcels", "n_lines", "n_deposits", "cells", "sites", "seconds",
                           "pipeline_s", "peak_mib", "cost_per_cell_vs_first", "target", "met"]),
            "\n## Steps\n", table(steps, ["scale", "engine", "step", "seconds", "peak_mib", "rows"]),
            *_growth(local), *_speedup(totals), *_obvious(totals), *_shapes(totals)]
    print("\n".join(text))
    if args.results:
        Path(args.results).write_text("\n".join(text) + "\n")


def _growth(local: list[dict]) -> list[str]:
    """Cost per cell of each scale against the first: linear growth keeps it at or below about 1."""
    if len(local) < 2:
        return []
    worst = max(t["cost_per_cell_vs_first"] for t in local)
    verdict = "no worse than linear" if worst <= 1.15 else "WORSE than linear"
    return [f"\nGrowth from {local[0]['scale']:g}x to {local[-1]['scale']:g}x: cost per cell at most "
            f"{worst:.2f} times the first scale's ({verdict}; 15 % allowed for noise)."]


def _shapes(totals: list[dict]) -> list[str]:
    """The real Nevada file's vertices, parts and holes beside the synthetic land's."""
    rows = [shape_stats(nevada_features(), "PAD-US 3, Nevada federal (by manager)")]
    rows += [t["shape"] for t in totals if t["engine"] == "local"]
    return ["\n## Real-shaped land: the synthetic parcels against the real file\n", table(rows, list(rows[0])),
            "\nThe synthetic parts are the real Nevada parts drawn with replacement (so vertices per part and "
            "holes follow the file) and scaled by one factor so the land sums to 2.6 M km2 x scale; parts per "
            "parcel are heavy-tailed (discrete Pareto, shape 1.5, capped at Nevada BLM's 2,704). The real file is "
            "dissolved by manager (8 features), so its parts per feature are far higher than PAD-US's own "
            "features'; the synthetic country keeps PAD-US's national feature count (75,000 at 1x)."]


def _obvious(totals: list[dict]) -> list[str]:
    """siting against the obvious pipeline at the same scale, and the answers compared."""
    rows = [t for t in totals if "baseline_s" in t]
    if not rows:
        return []
    answers = [{"scale": t["scale"], **t["answers"]} for t in rows]
    return ["\n## Against the obvious pipeline (benchmarks/baseline.py)\n",
            table(rows, ["scale", "cells", "baseline_cells", "seconds", "baseline_s", "ratio", "eligible_km2",
                         "baseline_eligible_km2"]),
            "\nratio = obvious pipeline's seconds / siting's (run and save). Answers on a sample of siting's sites:\n",
            table(answers, list(answers[0]))]


def _speedup(totals: list[dict]) -> list[str]:
    """Dask (2 workers) against local at the same scale: whole run and the partitioned steps."""
    rows = []
    for d in (t for t in totals if t["engine"] == "dask"):
        loc = next((t for t in totals if t["engine"] == "local" and t["scale"] == d["scale"]), None)
        if loc is not None:
            rows.append({"scale": d["scale"], "local_s": loc["seconds"], "dask_s": d["seconds"],
                         "speedup": loc["seconds"] / d["seconds"], "local_pipeline_s": loc["pipeline_s"],
                         "dask_pipeline_s": d["pipeline_s"], "pipeline_speedup": loc["pipeline_s"] / d["pipeline_s"],
                         "local_peak_mib": loc["peak_mib"], "dask_peak_mib": d["peak_mib"]})
    if not rows:
        return []
    return ["\n## Dask, 2 workers (LocalCluster on this machine) against local\n",
            table(rows, list(rows[0])),
            "\npipeline = constraints + factors, the steps the dask engine partitions; the dask peak adds the "
            "workers' memory."]


if __name__ == "__main__":
    main()
