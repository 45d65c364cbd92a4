"""Factors (as Series on the candidate index), transforms, weighted sum and ranks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from oracle import agrees, ground_nearest
from shapely import Point

from siting.score import measures, scoring, transforms
from siting.score.factors import CountWithin, DistanceTo


def test_distance_to_is_exact_and_indexed(grid_parcels, substations):
    cands = grid_parcels.set_index(pd.Index(list("abcde")))
    d = measures.distance_to(cands, substations)
    assert list(d.index) == list("abcde")
    exp = [ground_nearest(g, substations) for g in cands.geometry]
    assert all(agrees(v, t) for v, t in zip(d, exp, strict=True))
    assert np.isinf(measures.distance_to(cands, substations, where="voltage_kv > 1000")).all()


def test_count_within_by_commodity_group(grid_parcels):
    deps = gpd.GeoDataFrame({"commodities": ["tungsten", "gold", "dysprosium;gold", "lithium"]},
                            geometry=[Point(5_000, 5_000), Point(5_000, 6_000), Point(15_000, 5_000),
                                      Point(100_000, 0)], crs=5070)
    all_ = measures.count_within(grid_parcels, deps, 1_000)
    china = measures.count_within(grid_parcels, deps, 1_000, commodities=["china_export_controls"])
    assert all_.tolist() == [2, 1, 0, 0, 0]
    assert china.tolist() == [1, 1, 0, 0, 0]


@pytest.mark.parametrize("spec,x,expected", [
    ({"linear": {"best": 0, "worst": 10}}, [0, 5, 20], [1, 0.5, 0]),
    ({"linear": {"best": 10, "worst": 0}}, [0, 5, 20], [0, 0.5, 1]),
    ({"sigmoid": {"mid": 10, "scale": 2}}, [10], [0.5]),
    ({"gaussian": {"optimum": 3, "sd": 1}}, [3], [1.0]),
    ({"piecewise": {"points": [[0, 0], [10, 1], [20, 0.5]]}}, [5, 15, 30], [0.5, 0.75, 0.5]),
    ({"log": {"best": 99, "worst": 0}}, [0, 99], [0, 1]),
    ({"minmax": {"direction": "cost"}}, [1, 2, 3], [1, 0.5, 0]),
])
def test_transforms(spec, x, expected):
    assert transforms.apply(spec, np.array(x, float)).tolist() == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["linear", "log"])
def test_a_transform_with_best_equal_to_worst_is_an_error_naming_its_kind(kind):
    from siting.core.errors import ScenarioError
    from siting.score.factors import make_factor

    with pytest.raises(ScenarioError, match=rf"factor 'x': .*{kind} transform needs best != worst \(both 5\)"):
        make_factor({"name": "x", "distance_to": "subs", "transform": {kind: {"best": 5, "worst": 5}}})


def test_transform_output_in_unit_interval(rng):
    x = rng.normal(0, 1e4, 1000)
    for spec in ({"linear": {"best": -5, "worst": 5}}, {"sigmoid": {"mid": 0, "scale": 3}},
                 {"log": {}}, {"minmax": {}}):
        s = transforms.apply(spec, x)
        assert (s >= 0).all() and (s <= 1).all()


def test_weighted_sum_by_hand_and_zero_weight():
    raw = pd.DataFrame({"a_m": [0.0, 50.0, 100.0], "b_count": [10.0, 0.0, 5.0]})
    fa = DistanceTo(name="a", distance_to="x", transform={"linear": {"best": 0, "worst": 100}}, weight=3)
    fb = CountWithin(name="b", count_within="y", radius_m=1, transform={"linear": {"best": 10, "worst": 0}},
                weight=1)
    t = scoring.score_table(raw, [fa, fb])
    assert t["score"].tolist() == pytest.approx([0.75 * 1 + 0.25 * 1, 0.75 * 0.5, 0.25 * 0.5])
    assert (t["a_contrib"] + t["b_contrib"]).tolist() == pytest.approx(t["score"].tolist())
    t0 = scoring.score_table(raw, [fa, fb.model_copy(update={"weight": 0})])
    assert t0["score"].tolist() == pytest.approx(t["a_score"].tolist())


def test_rank_is_a_permutation_with_deterministic_ties(rng):
    s = pd.Series(rng.integers(0, 5, 50).astype(float))
    ids = pd.Series([f"s{i:02d}" for i in range(50)])
    r = scoring.rank(s, ids)
    assert sorted(r) == list(range(1, 51))
    assert (np.diff(s.to_numpy()[np.argsort(r.to_numpy())]) <= 0).all()


def test_negative_weight_rejected():
    with pytest.raises(ValueError):
        DistanceTo(name="a", distance_to="x", weight=-1)


def test_factors_get_the_geometry_and_only_the_columns_they_read(tiny_scenario, monkeypatch):
    # a national run's candidates carry dozens of columns: the factors get their geometry and the columns
    # they declare (permitting: gap status, designation, agency), and score as they do with every column
    import copy

    import siting
    from siting.core.engine import LocalEngine, compute_factors

    seen = []
    real = LocalEngine.factors
    monkeypatch.setattr(LocalEngine, "factors", lambda self, sites, *a, **k: seen.append(sites) or real(self, sites,
                                                                                                        *a, **k))
    res = siting.run({**copy.deepcopy(tiny_scenario), "analysis": {}}, progress=False)
    (given,) = seen
    assert set(given.columns) == {"geometry", "gap_status", "designation", "agency"}
    assert len(res.candidates.columns) > 20
    full = res.candidates[res.candidates["eligible"].to_numpy(bool)]
    expected = compute_factors(full, res.scenario.factors, res.layers, res.rasters)
    got = res.sites.loc[expected.index, expected.columns]
    pd.testing.assert_frame_equal(got.astype(object), expected.astype(object), check_dtype=False)


def test_factors_forget_the_answers_no_later_factor_reads():
    # each factor's nearest answers are kept for a later factor on the same layer, then forgotten; the sites'
    # anchors stay for every factor
    import geopandas as gpd
    from shapely import Point, box

    from siting.core.engine import compute_factors
    from siting.geo.proximity import Reuse
    from siting.score.factors import make_factor

    sites = gpd.GeoDataFrame(geometry=[box(-1_700_000 + 3_000 * i, 2_000_000, -1_699_000 + 3_000 * i, 2_001_000)
                                       for i in range(5)], crs=5070)
    layers = {name: gpd.GeoDataFrame(geometry=[Point(-1_690_000 + k, 2_010_000 + k)], crs=5070)
              for k, name in enumerate(["roads", "rail"])}
    spec = [{"name": "road", "distance_to": "roads"}, {"name": "rail", "distance_to": "rail"},
            {"name": "road_again", "distance_to": "roads"}]
    factors = [make_factor(s) for s in spec]
    asked = []
    reuse = Reuse()
    real = reuse.keep
    reuse.keep = lambda key, *a, **k: asked.append(key) or real(key, *a, **k)
    out = compute_factors(sites, factors, layers, {}, reuse=reuse)
    nearest = [k for k in asked if k not in {"anchors", "hulls"}]
    assert len(nearest) == 2  # roads once (the third factor recalled it), rail once
    assert reuse.keys() <= {"anchors", "hulls"}  # after the last factor on each layer, its answers went
    np.testing.assert_array_equal(out["road_m"], out["road_again_m"])


def test_factors_run_heaviest_layer_first_and_give_their_columns_in_the_scenarios_order():
    # the factor on the layer with the most vertices runs first (its index is built while the least is held);
    # the columns and values are those of each factor computed alone
    from shapely import LineString, box

    from siting.core.engine import compute_factors
    from siting.score.factors import make_factor

    sites = gpd.GeoDataFrame(geometry=[box(-1_700_000 + 3_000 * i, 2_000_000, -1_699_000 + 3_000 * i, 2_001_000)
                                       for i in range(4)], crs=5070)
    rail = LineString([(-1_720_000 + 100 * k, 2_020_000 + (k % 7) * 50) for k in range(400)])
    layers = {"towns": gpd.GeoDataFrame(geometry=[Point(-1_690_000, 2_010_000)], crs=5070),
              "rail": gpd.GeoDataFrame(geometry=[rail], crs=5070)}
    specs = [{"name": "town", "distance_to": "towns"}, {"name": "rail", "distance_to": "rail"}]
    factors = [make_factor(spec) for spec in specs]
    ran = []
    for f in factors:
        measure = f.measure
        object.__setattr__(f, "measure", lambda *a, _m=measure, _n=f.name, **k: ran.append(_n) or _m(*a, **k))
    out = compute_factors(sites, factors, layers, {})
    assert ran == ["rail", "town"]
    assert [c for c in out.columns if c.endswith("_m")] == ["town_m", "rail_m"]
    alone = [compute_factors(sites, [make_factor(spec)], layers, {}) for spec in specs]
    pd.testing.assert_frame_equal(out, pd.concat(alone, axis=1))


@pytest.mark.parametrize("transform", [{"linear": {"best": 0, "worst": float("nan")}},
                                       {"log": {"best": float("inf"), "worst": 0}},
                                       {"step": {"thresholds": [1, 2], "scores": [1, float("nan"), 0]}},
                                       {"categorical": {"map": {"BLM": float("nan")}}}])
def test_a_factor_made_in_python_refuses_a_transform_number_that_is_not_finite(transform):
    # a scenario file's .nan is refused when read; make_factor, the API's way in, took it and scored every site 0
    from siting.core.errors import ScenarioError
    from siting.score.factors import make_factor

    name = next(iter(transform))
    with pytest.raises(ScenarioError, match=rf"factor 'x': .*transform {name}: \w+ holds .*give finite numbers"):
        make_factor({"name": "x", "distance_to": "roads", "transform": transform})
