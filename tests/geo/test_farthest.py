"""The farthest point of a footprint from a layer, on the ground (``within`` on cells and footprints)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from oracle import ground_distance, ground_farthest, outline_farthest
from shapely import LineString, Point, box

from siting.core.errors import SitingWarning
from siting.geo import farthest
from siting.geo.farthest import TOL_M, farthest_distance
from siting.score.relaxation import relaxation
from siting.screen.constraints import screen
from siting.screen.rules import RuleContext, Within

X, Y = -1_900_000, 1_800_000  # EPSG:5070, central Nevada


def _corners(geom, points):
    return max(min(ground_distance(Point(c), p, 5070) for p in points) for c in geom.exterior.coords)


def _xy(points):
    return np.array([p.x for p in points]), np.array([p.y for p in points])


def test_peak_between_two_features_on_a_long_edge():
    foot = box(X - 1_500, Y, X + 1_500, Y + 600)  # 3 km long, between two substations 8 km apart
    subs = [Point(X - 4_000, Y - 200), Point(X + 4_000, Y - 200)]
    value = farthest_distance(np.array([foot]), np.array(subs), 5070)[0]
    truth = ground_farthest(foot, 5070, _xy(subs), step=1.0)
    assert truth - 0.01 <= value <= truth + TOL_M   # an upper bound, never below the truth
    assert value > _corners(foot, subs) + 500       # the peak is mid-edge, far beyond the corners


def test_peak_inside_a_footprint_at_a_voronoi_vertex():
    # three substations around the footprint: the point equally far from all three is inside it
    subs = [Point(X, Y + 3_000), Point(X - 2_600, Y - 1_500), Point(X + 2_600, Y - 1_500), Point(X, Y + 40_000)]
    foot = box(X - 400, Y - 400, X + 400, Y + 400)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SitingWarning)  # the Newton steps settle the vertex: nothing to say
        value = farthest_distance(np.array([foot]), np.array(subs), 5070)[0]
    outline = ground_farthest(shapely.boundary(foot).buffer(1), 5070, _xy(subs))
    truth = ground_farthest(foot, 5070, _xy(subs), step=1.0)
    assert truth > outline + 100 and truth - 0.01 <= value <= truth + TOL_M


def test_an_unsettled_ground_voronoi_vertex_is_said_aloud(monkeypatch):
    # with no Newton step the map's Voronoi vertex is not equally far on the ground: the search says so
    subs = [Point(X, Y + 3_000), Point(X - 2_600, Y - 1_500), Point(X + 2_600, Y - 1_500), Point(X, Y + 40_000)]
    foot = box(X - 400, Y - 400, X + 400, Y + 400)
    newton = farthest._Search._equidistant
    monkeypatch.setattr(farthest._Search, "_equidistant", lambda self, v, sites: newton(self, v, sites, steps=0))
    with pytest.warns(SitingWarning, match="not settled to 1 m"):
        farthest_distance(np.array([foot]), np.array(subs), 5070)


def test_line_layer_and_multipart_footprints():
    road = LineString([(X - 10_000, Y + 5_000), (X, Y - 2_000), (X + 10_000, Y + 5_000)])  # a V below the sites
    feet = np.array([box(X - 3_000, Y + 2_000, X + 3_000, Y + 2_500),
                     shapely.union(box(X - 8_000, Y, X - 7_500, Y + 500), box(X + 7_500, Y, X + 8_000, Y + 500))])
    values = farthest_distance(feet, np.array([road]), 5070)
    for foot, value in zip(feet, values, strict=True):
        truth = outline_farthest(foot, road, 5070, step=0.5)
        assert truth - 0.01 <= value <= truth + TOL_M


def test_point_parts_and_holes_count_as_the_footprint_s_own_points():
    """A footprint's point parts (a collection's, a multipoint's) are measured; a hole's ring is an outline too."""
    sub = Point(X, Y)
    near = box(X + 1_000, Y, X + 1_500, Y + 500)
    far = Point(X + 9_000, Y)
    feet = np.array([shapely.GeometryCollection([near, far]), shapely.MultiPoint([(X + 500, Y), (X + 4_000, Y)]),
                     box(X - 3_000, Y - 3_000, X + 3_000, Y + 3_000).difference(box(X - 1, Y - 1, X + 1, Y + 1))])
    values = farthest_distance(feet, np.array([sub]), 5070)
    assert values[0] == pytest.approx(ground_distance(far, sub, 5070), abs=0.01)
    assert values[1] == pytest.approx(ground_distance(Point(X + 4_000, Y), sub, 5070), abs=0.01)
    assert values[2] == pytest.approx(_corners(feet[2], [sub]), abs=0.01)


def test_missing_footprints_and_empty_layer():
    out = farthest_distance(np.array([None, box(0, 0, 1, 1)]), np.array([], dtype=object), 5070)
    assert np.isnan(out[0]) and np.isinf(out[1])


def test_relaxing_within_on_footprints_equals_screening_again():
    """The ledger value does not depend on the threshold, so relaxation re-decides it exactly."""
    rng = np.random.default_rng(3)
    subs = gpd.GeoDataFrame(geometry=[Point(X + x, Y + y) for x, y in rng.uniform(0, 60_000, (12, 2))], crs=5070)
    cells = gpd.GeoDataFrame({"candidate_id": [f"c{i}" for i in range(300)]}, crs=5070, geometry=[
        box(X + x, Y + y, X + x + w, Y + y + 400) for (x, y), w in
        zip(rng.uniform(0, 60_000, (300, 2)), rng.uniform(400, 4_000, 300), strict=True)])
    ctx = RuleContext({"subs": subs})
    base = screen(cells, [Within(layer="subs", distance_m=10_000)], ctx)
    values = [4_000, 6_000, 8_000]
    curve = relaxation(base.frame, base.applied, "within_subs", values)
    for v, sites in zip(values, curve["sites"], strict=True):
        again = screen(cells, [Within(layer="subs", distance_m=v)], ctx).frame
        assert int(again["eligible"].sum()) == sites
        assert np.array_equal(again["within_subs__value"], base.frame["within_subs__value"])


def test_footprints_searched_in_batches_get_the_values_of_one_search(monkeypatch):
    # a grid of cells between lines and points: batches of 7 neighbours share corners across batch edges
    rng = np.random.default_rng(3)
    cells = np.array([box(X + i * 1_000, Y + j * 1_000, X + (i + 1) * 1_000, Y + (j + 1) * 1_000)
                      for i in range(8) for j in range(6)])
    rng.shuffle(cells)
    lines = np.array([LineString([(X - 2_000, Y + 2_500), (X + 12_000, Y - 3_000)]),
                      LineString([(X + 3_000, Y + 9_000), (X + 4_000, Y + 15_000)])])
    points = shapely.points(rng.uniform(X - 5_000, X + 13_000, 9), rng.uniform(Y - 5_000, Y + 11_000, 9))
    for layer in (lines, points):
        whole = farthest_distance(cells, layer, 5070)
        monkeypatch.setattr(farthest, "FOOT_BATCH", 7)
        batched = farthest_distance(cells, layer, 5070)
        monkeypatch.setattr(farthest, "FOOT_BATCH", 100_000)
        np.testing.assert_allclose(batched, whole, rtol=0, atol=1e-6)
        assert np.isfinite(whole).all()


def test_edges_between_substations_split_where_they_cross_on_the_ground(monkeypatch):
    # a long edge between two substations is settled by one measurement where it crosses from one's reach
    # to the other's (Newton on the ground), not by halving it twelve times down to 1 m
    calls = []
    nearest = farthest._Search.nearest
    monkeypatch.setattr(farthest._Search, "nearest", lambda self, x, y: calls.append(len(x)) or nearest(self, x, y))
    foot = box(X - 1_500, Y, X + 1_500, Y + 600)
    subs = [Point(X - 4_000, Y - 200), Point(X + 4_000, Y - 200)]
    value = farthest_distance(np.array([foot]), np.array(subs), 5070)[0]
    truth = ground_farthest(foot, 5070, _xy(subs), step=1.0)
    assert truth - 0.01 <= value <= truth + TOL_M / 2
    assert len(calls) <= 3, calls


@pytest.mark.parametrize("seed", [5, pytest.param(6, marks=pytest.mark.slow)])
def test_cells_among_substations_and_twins_hold_on_the_ground(seed):
    # cells among substations, two of them at the same place (equally far everywhere: no crossing to find)
    rng = np.random.default_rng(seed)
    subs = [Point(x, y) for x, y in zip(rng.uniform(X - 6_000, X + 10_000, 7), rng.uniform(Y - 6_000, Y + 8_000, 7),
                                        strict=True)]
    subs.append(Point(subs[0].x, subs[0].y))
    cells = [box(X + i * 1_000, Y + j * 1_000, X + (i + 1) * 1_000, Y + (j + 1) * 1_000)
             for i in range(4) for j in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SitingWarning)
        values = farthest_distance(np.array(cells), np.array(subs), 5070)
    for cell, value in zip(cells, values, strict=True):
        truth = ground_farthest(cell, 5070, _xy(subs), step=2.0)
        assert truth - 0.01 <= value <= truth + TOL_M, (value, truth)
