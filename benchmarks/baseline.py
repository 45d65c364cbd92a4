"""The obvious pipeline: what an analyst writes with plain geopandas, rasterio and folium calls.

    python benchmarks/national.py   # runs it beside siting on the same files (``--baseline-scales``)

Each step is the plain call for the job, on the files :mod:`national` writes:
``gpd.read_file``; a filter and ``gpd.overlay(how="difference")`` against the buffered exclusions;
a hexagon grid over each eligible polygon's box and ``gpd.overlay(how="intersection")``;
``sjoin_nearest`` to substations (then the 50 km rule), transmission lines (>= 230 kV) and rail;
``sjoin(predicate="dwithin")`` and a groupby for deposits within 25 km; a ``rasterio.mask`` loop
for mean slope (on a sample of cells, timed and scaled: the loop over every cell takes hours);
``to_file`` GeoJSON and GeoPackage; a folium map of the best sites with a ``style_function``.
Distances are planar in EPSG:5070, as such a pipeline's are.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ZONAL_SAMPLE = 1_000
HEX_KM2 = 1.0


def _hex_centres(poly, side: float) -> np.ndarray:
    """Centres (column, row indexes) of the flat-topped hexagons of side ``side`` over the box of ``poly``, on
    one lattice anchored at the origin (neighbouring boxes share their hexagons)."""
    x0, y0, x1, y1 = poly.bounds
    dx, dy = 1.5 * side, np.sqrt(3) * side
    i, j = np.meshgrid(np.arange(np.floor(x0 / dx) - 1, np.ceil(x1 / dx) + 1),
                       np.arange(np.floor(y0 / dy) - 1, np.ceil(y1 / dy) + 1))
    return np.column_stack([i.ravel(), j.ravel()]).astype(np.int64)


def _hexes(ij: np.ndarray, side: float) -> np.ndarray:
    """The hexagons at lattice indexes ``ij``."""
    dx, dy = 1.5 * side, np.sqrt(3) * side
    cx, cy = ij[:, 0] * dx, ij[:, 1] * dy + np.where(ij[:, 0] % 2 == 1, dy / 2, 0)
    ang = np.arange(6) * np.pi / 3
    ring = np.stack([cx[:, None] + side * np.cos(ang), cy[:, None] + side * np.sin(ang)], -1)
    return shapely.polygons(ring)


def run(folder: Path, spec: dict, sample_seed: int = 0) -> tuple[dict, dict]:
    """Time each step of the obvious pipeline; return (seconds per step, answers to compare)."""
    t: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        t[name] = now - clock
        clock = now

    parcels = gpd.read_file(folder / "federal.gpkg")
    zones = gpd.read_file(folder / "exclusions.gpkg")
    subs = gpd.read_file(folder / "substations.gpkg")
    lines = gpd.read_file(folder / "transmission.gpkg")
    rail = gpd.read_file(folder / "rail.gpkg")
    dep = pd.read_csv(folder / "mrds.csv")
    deposits = gpd.GeoDataFrame(dep, geometry=gpd.points_from_xy(dep.longitude, dep.latitude), crs=4326).to_crs(5070)
    lap("load layers")

    agency = parcels["Mang_Name"].isin(["BLM", "USFS", "DOD", "DOE", "BOR"])
    keep = parcels[agency & ~parcels["GAP_Sts"].isin(["1", "2"])]
    buffered = gpd.GeoDataFrame(geometry=zones.buffer(1000), crs=zones.crs)
    eligible = gpd.overlay(keep, buffered, how="difference")
    lap("exclusions (overlay)")

    side = np.sqrt(2 * HEX_KM2 * 1e6 / (3 * np.sqrt(3)))
    ij = np.unique(np.concatenate([_hex_centres(p, side) for p in eligible.geometry]), axis=0)
    grid = gpd.GeoDataFrame(geometry=_hexes(ij, side), crs=5070)
    cells = gpd.overlay(grid, eligible[["geometry"]], how="intersection", keep_geom_type=True)
    cells = cells[cells.area > 0].reset_index(drop=True)  # every piece of land, as siting keeps
    lap("grid (overlay)")

    near = gpd.sjoin_nearest(cells, subs[["geometry"]], distance_col="power_m").groupby(level=0)["power_m"].min()
    cells = cells.assign(power_m=near).loc[lambda c: c.power_m <= 50_000]
    lap("within substations (sjoin_nearest)")

    hv = lines[lines["VOLTAGE"] >= 230][["geometry"]]
    factors = {}
    for name, layer in (("grid_m", hv), ("rail_m", rail[["geometry"]])):
        factors[name] = gpd.sjoin_nearest(cells, layer, distance_col=name).groupby(level=0)[name].min()
    cells = cells.assign(**factors)
    lap("distances (sjoin_nearest)")

    tw = deposits[deposits["commod1"].isin(["Tungsten", "Lithium"])]
    tw = tw.assign(w=tw["dev_stat"].str.lower().map(dev_weights()))[["geometry", "w"]]
    pairs = gpd.sjoin(cells[["geometry"]], tw, predicate="dwithin", distance=25_000)
    cells = cells.assign(feedstock_wcount=pairs.groupby(level=0)["w"].sum().reindex(cells.index, fill_value=0))
    lap("counts (sjoin dwithin + groupby)")

    sample = cells.sample(min(ZONAL_SAMPLE, len(cells)), random_state=sample_seed)
    slope = _zonal_loop(folder / "dem.tif", sample.geometry)
    t["zonal (rasterio.mask loop)"] = (time.perf_counter() - clock) * len(cells) / max(len(sample), 1)
    clock = time.perf_counter()

    out = folder / "baseline"
    out.mkdir(exist_ok=True)
    cells.to_file(out / "sites.gpkg", driver="GPKG")
    cells.head(spec["outputs"]["geojson_max_sites"]).to_crs(4326).to_file(out / "sites.geojson", driver="GeoJSON")
    _folium(cells.head(spec["outputs"]["map_max_sites"]), out / "map.html")
    lap("outputs (to_file, folium)")
    answers = {"eligible_km2": float(eligible.area.sum() / 1e6), "cells": cells,
               "slope_sample": pd.Series(slope, index=sample.index)}
    return t, answers


def _geodesic_counts(geoms: np.ndarray, deposits: gpd.GeoDataFrame, radius: float) -> np.ndarray:
    """Weighted counts within ``radius`` on the ellipsoid: each pair's map-nearest points measured with
    ``pyproj.Geod`` (an oracle written without siting; pairs searched to 1.4 x the radius on the map)."""
    from pyproj import Geod, Transformer

    pts = deposits.geometry.to_numpy()
    a, b = shapely.STRtree(pts).query(geoms, predicate="dwithin", distance=radius * 1.4)
    planar = shapely.distance(geoms[a], pts[b])
    xy = shapely.get_coordinates(shapely.shortest_line(geoms[a], pts[b])).reshape(-1, 4)
    to_ll = Transformer.from_crs(5070, 4326, always_xy=True)
    lon0, lat0 = to_ll.transform(xy[:, 0], xy[:, 1])
    lon1, lat1 = to_ll.transform(xy[:, 2], xy[:, 3])
    geo = np.where(planar == 0, 0.0, Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2])
    return np.bincount(a, weights=deposits["w"].to_numpy()[b] * (geo <= radius), minlength=len(geoms))


def dev_weights() -> dict:
    """Deposit weights by development status: siting's documented defaults (the count's definition)."""
    from siting.score.readiness import dev_status_weights

    return dev_status_weights(None)


def _zonal_loop(dem: Path, geoms) -> np.ndarray:
    """Mean slope (percent, Horn) of the pixels whose centres fall in each polygon: one ``mask`` per polygon."""
    import rasterio
    from rasterio.mask import mask

    out = []
    with rasterio.open(dem) as ds:
        for g in geoms:
            z, tr = mask(ds, [g.buffer(2 * ds.res[0])], crop=True, filled=False)  # a margin for the 3 x 3 window
            z = z[0].astype("float64").filled(np.nan)
            p = np.pad(z, 1, mode="reflect", reflect_type="odd")
            dzdx = ((p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])) / (
                8 * tr.a)
            dzdy = ((p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])) / (
                8 * -tr.e)
            s = 100 * np.hypot(dzdx, dzdy)
            rows, cols = np.mgrid[0:s.shape[0], 0:s.shape[1]]
            x, y = tr * (cols + 0.5, rows + 0.5)
            inside = shapely.contains_xy(g, x, y) & np.isfinite(s)
            out.append(float(s[inside].mean()) if inside.any() else np.nan)
    return np.array(out)


def _folium(cells: gpd.GeoDataFrame, path: Path) -> None:
    import folium

    m = folium.Map(tiles=None)
    web = cells.to_crs(4326)
    folium.GeoJson(web[["geometry", "power_m"]], style_function=lambda f: {
        "color": "#2c7fb8" if f["properties"]["power_m"] < 25_000 else "#fdae61", "weight": 1}).add_to(m)
    m.fit_bounds([[web.total_bounds[1], web.total_bounds[0]], [web.total_bounds[3], web.total_bounds[2]]])
    m.save(str(path))


def compare(folder: Path, sites: gpd.GeoDataFrame, n: int = 2_000, seed: int = 0) -> dict:
    """The obvious calls on a sample of siting's own sites, against siting's values for them.

    Planar distances in EPSG:5070 differ from siting's geodesic ones by the projection's scale
    (``pyproj`` ``get_factors``: h and k at the site), so each distance is also checked against that
    bound; counts may differ only where a deposit lies between 25 km on the map and on the ground.
    """
    from pyproj import Proj

    s = sites.sample(min(n, len(sites)), random_state=seed).to_crs(5070)
    cells = gpd.GeoDataFrame(geometry=s.geometry.to_numpy(), crs=5070)
    named = gpd.read_file(folder / "substations.gpkg")
    subs = named[["geometry"]]
    plain = gpd.sjoin_nearest(cells, subs, distance_col="d").groupby(level=0)["d"].min().to_numpy()
    ours = s["power_m"].to_numpy()
    lo, hi = np.full(len(s), np.inf), np.zeros(len(s))
    at_nearest = s["power_nearest"].map(dict(zip(named["NAME"], named.geometry, strict=True)))
    for pts in (cells.geometry.representative_point(), at_nearest):
        ll = gpd.GeoSeries(pts.to_numpy(), crs=5070).to_crs(4326)
        f = Proj("EPSG:5070").get_factors(ll.x.to_numpy(), ll.y.to_numpy())
        lo = np.minimum(lo, np.minimum(f.meridional_scale, f.parallel_scale))
        hi = np.maximum(hi, np.maximum(f.meridional_scale, f.parallel_scale))
    rel = np.abs(plain - ours) / np.maximum(ours, 1.0)
    bound = np.maximum(np.abs(hi - 1), np.abs(1 - lo)) * 1.001 + 1.0 / np.maximum(ours, 1.0)
    dep = pd.read_csv(folder / "mrds.csv")
    tw = dep[dep["commod1"].isin(["Tungsten", "Lithium"])]
    tw = gpd.GeoDataFrame({"w": tw["dev_stat"].str.lower().map(dev_weights()).to_numpy()},
                          geometry=gpd.points_from_xy(tw.longitude, tw.latitude), crs=4326).to_crs(5070)
    counts = gpd.sjoin(cells, tw, predicate="dwithin", distance=25_000).groupby(level=0)["w"].sum()
    counts = counts.reindex(cells.index, fill_value=0).to_numpy()
    feed = "feedstock_wcount"
    oracle = _geodesic_counts(cells.geometry.to_numpy(), tw, 25_000)
    slope = _zonal_loop(folder / "dem.tif", cells.geometry.head(300))
    ours_slope = s["terrain_mean"].to_numpy()[:300]
    return {"sites_compared": len(s), "power_m_median_rel_diff": float(np.median(rel)),
            "power_m_max_rel_diff": float(rel.max()), "power_m_within_scale_bound": float((rel <= bound).mean()),
            "feedstock_equal": float(np.isclose(counts, s[feed].to_numpy()).mean()),
            "feedstock_equal_geodesic_oracle": float(np.isclose(oracle, s[feed].to_numpy()).mean()),
            "slope_max_abs_diff": float(np.nanmax(np.abs(slope - ours_slope))),
            "slope_both_nan": int((np.isnan(slope) & np.isnan(ours_slope)).sum())}
