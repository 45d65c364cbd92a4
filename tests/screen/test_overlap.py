"""Overlap rules (share of a site a polygon layer covers) and the overlay factor (issue 19 item 1)."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import Point, box

import siting
from siting.core.errors import FieldError, GeometryError, ScenarioError
from siting.score.factors import make_factor
from siting.screen.constraints import screen
from siting.screen.overlap import OverlapMax, OverlapMin
from siting.screen.rules import RuleContext

X, Y = -1_900_000.0, 1_800_000.0  # EPSG:5070, Nevada


def _sites(*geoms):
    return gpd.GeoDataFrame({"candidate_id": [f"c{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=5070)


def _split_at(geom, share):
    """The part of ``geom`` west of the vertical line that leaves ``share`` of its area to the west (bisection)."""
    minx, miny, maxx, maxy = geom.bounds
    lo, hi = minx, maxx
    for _ in range(80):
        mid = (lo + hi) / 2
        west = geom.intersection(box(minx - 1, miny - 1, mid, maxy + 1)).area / geom.area
        lo, hi = (mid, hi) if west < share else (lo, mid)
    return geom.intersection(box(minx - 1, miny - 1, (lo + hi) / 2, maxy + 1))


def test_a_half_withdrawn_site_shows_half_and_fails_a_quarter():
    parcel = shapely.Polygon([(X, Y), (X + 9_000, Y), (X + 7_000, Y + 6_000), (X + 500, Y + 4_000)])
    half = _split_at(parcel, 0.5)
    clear = box(X + 20_000, Y, X + 22_000, Y + 2_000)
    # two overlapping withdrawal features over the same half: counted once
    withdrawals = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[half, half.buffer(-10)], crs=5070)
    res = screen(_sites(parcel, clear), [OverlapMax(layer="withdrawals", fraction=0.25)],
                 RuleContext({"withdrawals": withdrawals}))
    value = res.frame["overlap_max_withdrawals__value"].to_numpy()
    assert value[0] == pytest.approx(0.5, abs=1e-9) and value[1] == 0.0
    assert res.frame["eligible"].tolist() == [False, True]
    assert OverlapMax(layer="withdrawals", fraction=0.6).decide(value).tolist() == [True, True]  # relaxed
    assert OverlapMax(layer="withdrawals", fraction=0).decide([1e-6, 0.0]).tolist() == [False, True]  # 0: none


def test_overlap_min_keeps_sites_inside_a_layer():
    a, b = box(X, Y, X + 1_000, Y + 1_000), box(X + 5_000, Y, X + 6_000, Y + 1_000)
    corridor = gpd.GeoDataFrame(geometry=[box(X - 100, Y - 100, X + 800, Y + 2_000)], crs=5070)
    res = screen(_sites(a, b), [OverlapMin(layer="corridor", fraction=0.75)], RuleContext({"corridor": corridor}))
    assert res.frame["overlap_min_corridor__value"].round(9).tolist() == [0.8, 0.0]
    assert res.frame["eligible"].tolist() == [True, False]


def test_an_overlap_with_points_cannot_be_judged_and_says_so():
    pts = gpd.GeoDataFrame(geometry=[Point(X, Y)], crs=5070)
    rule = OverlapMax(layer="habitat", fraction=0)
    with pytest.raises(GeometryError, match=r"layer 'habitat'.*points or lines.*needs polygons"):
        screen(_sites(box(X, Y, X + 10, Y + 10)), [rule], RuleContext({"habitat": pts}))
    assert any("needs polygons" in m for _, m in rule.check({"habitat": [pts]}, []))


def _hand_weighted(site, polys, values):
    areas = [site.intersection(p).area for p in polys]
    return sum(a * v for a, v in zip(areas, values, strict=True)) / sum(areas)


@pytest.mark.parametrize("how", ["area_weighted", "majority", "max"])
def test_overlay_factor_equals_a_hand_calculation(how):
    site = box(X, Y, X + 3_000, Y + 2_000)
    polys = [box(X - 500, Y - 500, X + 1_000, Y + 3_000), box(X + 1_000, Y - 500, X + 1_800, Y + 3_000),
             box(X + 2_000, Y + 1_500, X + 9_000, Y + 9_000)]
    stress = [1.0, 5.0, 3.0]
    sheds = gpd.GeoDataFrame({"stress": stress, "basin": ["A", "B", "A"]}, geometry=polys, crs=5070)
    f = make_factor({"name": "water", "overlay": "sheds", "field": "stress", "how": how})
    got = f.compute(_sites(site), {"sheds": sheds}, {})
    covered = sum(site.intersection(p).area for p in polys) / site.area
    expected = {"area_weighted": _hand_weighted(site, polys, stress),
                "majority": max(zip((site.intersection(p).area for p in polys), stress, strict=True))[1],
                "max": max(stress)}[how]
    assert got["water_value"].iloc[0] == pytest.approx(expected)
    assert got["water_share"].iloc[0] == pytest.approx(covered)


def test_overlay_of_categories_needs_a_categorical_transform():
    site = box(X, Y, X + 3_000, Y + 2_000)
    plans = gpd.GeoDataFrame({"alloc": ["open", "closed"]}, crs=5070,
                             geometry=[box(X, Y, X + 2_000, Y + 2_000), box(X + 2_000, Y, X + 3_000, Y + 2_000)])
    with pytest.raises(FieldError, match=r"'alloc' holds text such as 'open'.*majority"):
        make_factor({"name": "plan", "overlay": "plans", "field": "alloc"}).compute(_sites(site), {"plans": plans}, {})
    with pytest.raises(ScenarioError, match=r"holds categories such as 'open'.*categorical"):
        make_factor({"name": "plan", "overlay": "plans", "field": "alloc", "how": "majority"}).compute(
            _sites(site), {"plans": plans}, {})
    f = make_factor({"name": "plan", "overlay": "plans", "field": "alloc", "how": "majority",
                     "transform": {"categorical": {"map": {"open": 1, "closed": 0}}}})
    raw = f.compute(_sites(site), {"plans": plans}, {})["plan_value"]
    assert raw.tolist() == ["open"] and f.score(raw).tolist() == [1.0]


@pytest.fixture(scope="module")
def with_overlaps(tiny_scenario, tiny_result, tmp_path_factory):
    """The tiny run with a withdrawal over half of its first site (overlap_max 0.25) and two basins (overlay)."""
    tmp = tmp_path_factory.mktemp("overlap")
    site = tiny_result.sites.iloc[0]
    withdrawn = gpd.GeoDataFrame({"WD_NAME": ["Test withdrawal"]}, geometry=[_split_at(site.geometry, 0.5)], crs=5070)
    minx, miny, maxx, maxy = tiny_result.sites.total_bounds
    mid = (minx + maxx) / 2
    sheds = gpd.GeoDataFrame({"stress": [1.0, 4.0]}, crs=5070,
                             geometry=[box(minx - 1, miny - 1, mid, maxy + 1), box(mid, miny - 1, maxx + 1, maxy + 1)])
    for name, frame in (("withdrawals", withdrawn), ("sheds", sheds)):
        pyogrio.write_dataframe(frame, tmp / f"{name}.gpkg")
    d = copy.deepcopy(tiny_scenario)
    d["layers"].update(withdrawals={"path": str(tmp / "withdrawals.gpkg")}, sheds={"path": str(tmp / "sheds.gpkg")})
    d["constraints"] = [*d["constraints"], {"rule": "overlap_max", "layer": "withdrawals", "fraction": 0.25}]
    d["factors"] = [*d["factors"], {"name": "water", "overlay": "sheds", "field": "stress", "direction": "cost"}]
    d["analysis"] = {}
    return siting.run(d, progress=False), site, sheds


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_a_run_reports_the_overlap_in_the_ledger_and_explains_it(with_overlaps, tiny_result):
    result, site, _ = with_overlaps
    row = result.explain(site["site_id"]).set_index("name").loc["overlap_max_withdrawals"]
    assert row["value"] == pytest.approx(0.5, abs=1e-6) and row["threshold"] == 0.25 and not row["passed"]
    assert site["site_id"] not in set(result.sites["site_id"])
    assert len(result.sites) == len(tiny_result.sites) - 1
    step = result.funnel.set_index("rule").loc["overlap_max_withdrawals"]
    assert step["description"] == "share of area in withdrawals <= 0.25" and step["candidates_removed"] == 1


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_the_overlay_factor_reaches_the_sites_and_their_breakdown(with_overlaps):
    result, _, sheds = with_overlaps
    s = result.sites
    west = shapely.area(shapely.intersection(s.geometry.values, sheds.geometry.iloc[0])) / s.area.to_numpy()
    expected = west * 1.0 + (1 - west) * 4.0  # every site lies inside the two basins
    assert np.allclose(s["water_value"], expected) and np.allclose(s["water_share"], 1.0)
    assert "water" in set(result.explain(s["site_id"].iloc[0])["name"])


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_overlay_majority_tie_goes_to_the_least_value_whatever_the_features_order(order):
    """A site split exactly in half by two plans: the same value whichever feature comes first."""
    site = box(X, Y, X + 2_000, Y + 2_000)
    plans = gpd.GeoDataFrame({"alloc": ["open", "closed"]}, crs=5070,
                             geometry=[box(X, Y, X + 1_000, Y + 2_000), box(X + 1_000, Y, X + 2_000, Y + 2_000)])
    f = make_factor({"name": "plan", "overlay": "plans", "field": "alloc", "how": "majority",
                     "transform": {"categorical": {"map": {"open": 1, "closed": 0}}}})
    raw = f.compute(_sites(site), {"plans": plans.iloc[order]}, {})["plan_value"]
    assert raw.tolist() == ["closed"]


def test_sites_outside_every_overlay_feature_are_counted_and_none_inside_is_an_error():
    from siting.core.errors import SitingWarning

    inside, outside = box(X, Y, X + 1_000, Y + 1_000), box(X + 50_000, Y, X + 51_000, Y + 1_000)
    sheds = gpd.GeoDataFrame({"stress": [2.0]}, geometry=[box(X - 10, Y - 10, X + 2_000, Y + 2_000)], crs=5070)
    f = make_factor({"name": "water", "overlay": "sheds", "field": "stress"})
    raw = f.compute(_sites(inside, outside), {"sheds": sheds}, {})
    with pytest.warns(SitingWarning, match=r"factor 'water': 1 of 2 site\(s\) overlap no feature of layer 'sheds' "
                                           r"with a stress value; they score 0 on it"):
        f.judge(raw)
    assert f.score(raw["water_value"])[1] == 0
    raw = f.compute(_sites(outside, outside), {"sheds": sheds}, {})
    with pytest.raises(ScenarioError, match=r"factor 'water': none of the 2 sites overlaps a feature of layer 'sheds'"):
        f.judge(raw)


def test_an_attribute_factor_counts_the_sites_without_a_value():
    from siting.core.errors import SitingWarning

    f = make_factor({"name": "gap", "attribute": "gap_status", "transform": {"categorical": {"map": {"3": 1}}}})
    sites = gpd.GeoDataFrame({"gap_status": [3, None, None]}, geometry=[None] * 3, crs=5070)
    with pytest.warns(SitingWarning, match=r"factor 'gap': 2 of 3 site\(s\) have no gap_status value"):
        f.judge(f.compute(sites, {}, {}))
