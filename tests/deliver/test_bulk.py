"""Sites in bulk on a map: summary cells and outlines within a vertex budget."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.deliver.bulk import binned_sites, within_budget


def _sites(rng, n=5_000):
    x = rng.uniform(-2_000_000, 500_000, n)
    y = rng.uniform(300_000, 3_000_000, n)
    score = rng.random(n)
    score[::97] = np.nan
    return gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(n)], "score": score},
                            geometry=shapely.box(x, y, x + 500, y + 500), crs=5070)


def test_binned_sites_match_a_plain_groupby(rng):
    sites = _sites(rng)
    out = binned_sites(sites, cell_m=80_000)
    xy = shapely.get_coordinates(shapely.point_on_surface(sites.geometry.values))
    key = pd.Series(list(map(tuple, np.floor(xy / 80_000).astype(int))))
    plain = sites.assign(key=key).groupby("key")["score"].agg(["size", "max", "mean"])
    assert len(out) == len(plain) and out["n_sites"].sum() == len(sites)
    got = out.assign(key=[(round(b[0] / 80_000), round(b[1] / 80_000))
                          for b in shapely.bounds(out.geometry.values)]).set_index("key")
    np.testing.assert_array_equal(got.loc[plain.index, "n_sites"], plain["size"])
    np.testing.assert_allclose(got.loc[plain.index, "best_score"], plain["max"], equal_nan=True)
    np.testing.assert_allclose(got.loc[plain.index, "mean_score"], plain["mean"], equal_nan=True)
    best = sites.set_index("site_id").loc[got["best_site"], "score"].to_numpy()
    np.testing.assert_allclose(best, got["best_score"], equal_nan=True)


def test_binned_sites_grow_cells_to_the_limit(rng):
    out = binned_sites(_sites(rng), max_cells=50)
    assert len(out) <= 50 and out["cell_km"].iloc[0] > 5


def test_within_budget_reports_how_far_outlines_moved():
    ring = np.array([shapely.Point(0, 0).buffer(10_000, quad_segs=512)])
    out, moved = within_budget(ring, 1.0, 40)
    assert shapely.get_num_coordinates(out).sum() <= 40
    # every vertex of the simplified outline lies within `moved` of the original outline
    pts = shapely.points(shapely.get_coordinates(out))
    assert shapely.distance(pts, shapely.get_exterior_ring(ring[0])).max() <= moved
    assert shapely.hausdorff_distance(out[0], ring[0]) <= moved
