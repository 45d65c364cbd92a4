"""Sites in bulk on a map: summary cells and outlines within a vertex budget."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.deliver.bulk import binned_sites, least_vertices, within_budget


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
    out, moved, fit = within_budget(ring, 1.0, 40)
    assert shapely.get_num_coordinates(out).sum() <= 40 and fit == 1
    # every vertex of the simplified outline lies within `moved` of the original outline
    pts = shapely.points(shapely.get_coordinates(out))
    assert shapely.distance(pts, shapely.get_exterior_ring(ring[0])).max() <= moved
    assert shapely.hausdorff_distance(out[0], ring[0]) <= moved


def test_within_budget_keeps_the_first_features_whose_rings_fit_instead_of_bending_every_outline(rng):
    # 300 holed circles: simplification keeps every ring (4 vertices at least, 8 per feature), so no tolerance
    # brings 300 of them under 1,000 vertices; the first features whose floor takes half the budget are kept
    # and drawn with their shapes, instead of all 300 simplified by a tolerance of hundreds of kilometres
    centres = rng.uniform(0, 1e6, (300, 2))
    geoms = np.array([shapely.Polygon(shapely.Point(x, y).buffer(2_000, quad_segs=16).exterior.coords,
                                      [shapely.Point(x, y).buffer(500, quad_segs=16).exterior.coords[::-1]])
                      for x, y in centres])
    assert (least_vertices(geoms) == 8).all()
    out, moved, fit = within_budget(geoms, 10.0, 1_000)
    assert len(out) == fit == 500 // 8  # the floor of the first `fit` is at most half the budget
    assert shapely.get_num_coordinates(out).sum() <= 1_000
    assert moved < 2_000  # shapes kept: under the circles' size, not grown to a million metres
    assert all(shapely.hausdorff_distance(o, g) <= moved for o, g in zip(out, geoms, strict=False))
    assert shapely.is_valid(out).all() and (shapely.get_num_interior_rings(out) == 1).all()


def test_a_map_layer_whose_rings_are_over_the_vertex_budget_names_the_features_it_draws(rng):
    from siting.deliver.maps import site_map

    centres = rng.uniform(0, 200_000, (400, 2)) + np.array([-1_700_000, 2_000_000])
    parcels = gpd.GeoDataFrame({"unit_name": [f"u{i}" for i in range(400)], "agency": "BLM"},
                               geometry=shapely.buffer(shapely.points(centres), 800, quad_segs=8), crs=5070)
    sites = _sites(rng, n=20)
    html = site_map(sites, layers={"Parcels": (parcels, "parcels")}, tiles=None, basemap=False,
                    max_vertices=1_000).get_root().render()
    assert "Parcels (first 125 of 400 within 1,000 vertices)" in html  # 4 vertices at least each: 500 // 4 drawn
    assert "Parcels: u124 (BLM)" in html and "Parcels: u125 (BLM)" not in html
    said = re.search(r"Parcels \(first [^)]*\) \(outlines simplified to ([\d,]+) m\)", html)
    assert said and int(said[1].replace(",", "")) < 800  # the circles keep a shape: under their radius
