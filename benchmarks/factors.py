"""Factor engine benchmark: siting's fast paths against the straightforward calls, side by side.

    python benchmarks/factors.py [--scale 1.0] [--mask-sample 1000] [--exact-sample 20000]

At ``--scale 1`` (issue 8 targets):

* nearest line: 1,000,000 candidates x 100,000 lines, ``siting.geo.proximity.nearest`` against
  ``geopandas.sjoin_nearest``: >= 5x, max error < 1 m (both exact: the error is 0);
* counts within 25 km: 1,000,000 candidates x 300,000 deposits, ``siting.geo.proximity.count_within``
  against ``STRtree.query(predicate="dwithin")`` + ``bincount`` (100,000-candidate chunks): >= 10x;
* zonal mean of a 250 m raster over 1,000,000 1-km2 hex cells, ``siting.geo.raster.zonal_stats`` against a
  per-polygon ``rasterio.mask`` loop (timed on ``--mask-sample`` cells, scaled): >= 20x; the
  difference to ``exactextract``'s coverage-weighted mean is reported;
* exclusion clipping: 50,000 polygons minus 20,000 exclusion disks, ``siting.geo.spatial.subtract``
  against ``geopandas.overlay(how="difference")``: >= 3x, same area.

The nearest and count rows are also run "on the ground" (``siting.geo.spatial`` with the CRS: geodesic
distances and counts, issue 15), against the same planar baselines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic
from common import machine, measure, table

from siting.candidates.grid import grid_cells
from siting.geo import proximity, spatial
from siting.geo.raster import Raster, zonal_stats
from siting.geo.spatial import subtract

CRS = 5070


def _row(step, size, ours, base, ratio_target, **extra) -> dict:
    ratio = base["seconds"] / ours["seconds"]
    return {"step": step, "size": size, "siting_s": ours["seconds"], "siting_peak_mib": ours["peak_mib"],
            "baseline_s": base["seconds"], "ratio": ratio, "target": f">= {ratio_target}x",
            "met": "yes" if ratio >= ratio_target and extra.pop("ok", True) else "NO", **extra}


def candidates(rng, n: int) -> np.ndarray:
    return shapely.points(synthetic._region_points(rng, n, west_share=0.9, alaska_share=0.05))


def bench_nearest(cands, targets, label: str, *, ground: bool = False) -> dict:
    ours = {}
    with measure(ours):
        d = spatial.nearest_distance(cands, targets, crs=CRS) if ground else proximity.nearest(cands, targets)[0]
    base = {}
    left = gpd.GeoDataFrame(geometry=cands, crs=CRS)
    right = gpd.GeoDataFrame(geometry=targets, crs=CRS)
    with measure(base):
        joined = gpd.sjoin_nearest(left, right, distance_col="d")
    ref = joined["d"].groupby(level=0).first().reindex(range(len(cands))).to_numpy()
    err = float(np.nanmax(np.abs(d - ref)))
    if ground:  # geodesic against the planar baseline: they differ by the projection's scale
        rel = float(np.nanmax(np.abs(d / np.maximum(ref, 1.0) - 1)))
        return _row(f"nearest {label} (ground)", f"{len(cands):,} x {len(targets):,}", ours, base, 5,
                    max_error_m=err, ok=rel < 0.011, note=f"geodesic vs planar baseline: at most {rel:.2%}")
    return _row(f"nearest {label}", f"{len(cands):,} x {len(targets):,}", ours, base, 5,
                max_error_m=err, ok=err < 1.0)


def bench_counts(cands, deposits, radius: float = 25_000.0, chunk: int = 100_000, *, ground: bool = False) -> dict:
    ours = {}
    with measure(ours):
        got = spatial.count_within(cands, deposits, radius, crs=CRS) if ground else \
            proximity.count_within(cands, deposits, radius)
    base = {}
    with measure(base):
        tree = STRtree(deposits)
        ref = np.zeros(len(cands))
        for s in range(0, len(cands), chunk):
            i, _ = tree.query(cands[s:s + chunk], predicate="dwithin", distance=radius)
            ref[s:s + chunk] = np.bincount(i, minlength=len(cands[s:s + chunk]))
    diff = int(np.abs(got - ref).max())
    if ground:  # the ring between the map's and the ground's 25 km differs from the planar baseline
        return _row("deposits within 25 km (ground)", f"{len(cands):,} x {len(deposits):,}", ours, base, 10,
                    max_error_m=diff, note="max count difference to the planar baseline")
    return _row("deposits within 25 km", f"{len(cands):,} x {len(deposits):,}", ours, base, 10,
                max_error_m=diff, ok=diff == 0, note="max count difference")


def hex_cells(n: int) -> np.ndarray:
    """About ``n`` 1-km2 hexagons over a square block in Nevada."""
    side = float(np.sqrt(n) * 1_000)
    x0, y0 = -2_000_000.0, 1_500_000.0
    cells, _, _ = grid_cells((x0, y0, x0 + side, y0 + side), np.sqrt(2 / np.sqrt(3)) * 1_000, "hex")
    return cells


def slope_raster(cells: np.ndarray, res: float = 250.0) -> Raster:
    from affine import Affine

    x0, y0, x1, y1 = shapely.total_bounds(cells)
    w, h = int(np.ceil((x1 - x0) / res)), int(np.ceil((y1 - y0) / res))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(3)
    field = 5 + 4 * np.sin(xx / 97.0) * np.cos(yy / 61.0) + rng.gamma(2.0, 1.0, (h, w)).astype(np.float32)
    return Raster(np.ma.masked_invalid(field.astype(np.float32)), Affine(res, 0, x0, 0, -res, y1), f"EPSG:{CRS}",
                  "slope_pct")


def bench_zonal(n_cells: int, mask_sample: int, exact_sample: int) -> dict:
    import rasterio
    import rasterio.mask

    cells = hex_cells(n_cells)
    raster = slope_raster(cells)
    ours = {}
    with measure(ours):
        stats = zonal_stats(raster, cells, ["mean"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slope.tif"
        h, w = raster.values.shape
        with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=raster.crs,
                           transform=raster.transform, tiled=True, blockxsize=512, blockysize=512) as ds:
            ds.write(raster.values.filled(np.nan), 1)
        sample = np.random.default_rng(0).choice(len(cells), min(mask_sample, len(cells)), replace=False)
        base = {}
        with rasterio.open(path) as ds, measure(base):
            means = [np.nanmean(rasterio.mask.mask(ds, [cells[k]], crop=True, nodata=np.nan)[0]) for k in sample]
        base["seconds"] *= len(cells) / len(sample)
        loop_diff = float(np.nanmax(np.abs(np.asarray(means) - stats["mean"].to_numpy()[sample])))
        exact = _exactextract_diff(path, cells, stats["mean"].to_numpy(), exact_sample)
    return _row("zonal mean, 250 m raster", f"{len(cells):,} cells, {raster.values.size:,} px", ours, base, 20,
                max_error_m=loop_diff, note=f"max diff to the mask loop; mean |diff| to exactextract {exact}")


def _exactextract_diff(path: Path, cells: np.ndarray, ours: np.ndarray, sample: int) -> str:
    try:
        from exactextract import exact_extract
    except ImportError:
        return "n/a (exactextract not installed)"
    pick = np.random.default_rng(1).choice(len(cells), min(sample, len(cells)), replace=False)
    frame = gpd.GeoDataFrame({"k": pick}, geometry=cells[pick], crs=CRS)
    res = exact_extract(str(path), frame, "mean", include_cols=["k"], output="pandas")
    diff = np.abs(res["mean"].to_numpy() - ours[res["k"].to_numpy()])
    return f"{diff.mean():.4f} (p99 {np.quantile(diff, 0.99):.4f}, slope units)"


def bench_clip(rng, n_polys: int, n_excl: int) -> dict:
    polys, _ = synthetic.parcels(rng, n_polys, 2_600_000.0 * n_polys / 75_000)
    excl = synthetic.exclusions(rng, n_excl)
    ours = {}
    with measure(ours):
        out = subtract(polys, excl)
    base = {}
    with measure(base):
        ref = gpd.overlay(gpd.GeoDataFrame(geometry=polys, crs=CRS), gpd.GeoDataFrame(geometry=excl, crs=CRS),
                          how="difference")
    a, b = float(np.nansum(shapely.area(out))), float(ref.area.sum())
    rel = abs(a - b) / b
    return _row("exclusion clipping", f"{n_polys:,} polygons - {n_excl:,} zones", ours, base, 3,
                max_error_m=rel, ok=rel < 1e-9, note="relative area difference")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--mask-sample", type=int, default=1_000)
    ap.add_argument("--exact-sample", type=int, default=20_000)
    args = ap.parse_args(argv)
    s = args.scale
    rng = np.random.default_rng(0)
    n = int(1_000_000 * s)
    cands = candidates(rng, n)
    tx = synthetic.lines(rng, int(100_000 * s))
    subs = synthetic.line_ends(tx, int(75_000 * s), rng)
    deposits = synthetic.deposits(rng, int(300_000 * s))
    rows = [bench_nearest(cands, tx, "line"), bench_nearest(cands, tx, "line", ground=True),
            bench_nearest(cands, subs, "substation"), bench_nearest(cands, subs, "substation", ground=True),
            bench_counts(cands, deposits), bench_counts(cands, deposits, ground=True),
            bench_zonal(n, args.mask_sample, args.exact_sample),
            bench_clip(rng, int(50_000 * s), int(20_000 * s))]
    print(f"# Factor engine ({machine()})\n")
    print(table(rows, ["step", "size", "siting_s", "siting_peak_mib", "baseline_s", "ratio", "target", "met",
                       "max_error_m", "note"]))
    print("\nmax_error_m: the largest difference to the baseline's answer (metres for distances; see note).")


if __name__ == "__main__":
    main()
