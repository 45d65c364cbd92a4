"""Scoring an analyst can defend: cross-checks, invariants, sensitivity, relaxation, composite factors."""

from __future__ import annotations

import copy
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import ground_distance
from shapely import Point, box

import siting
from siting.core.errors import ScenarioError
from siting.score import scoring
from siting.score.readiness import PermittingSpec, feedstock, permitting
from siting.score.scoring import aggregate, topsis
from siting.score.sensitivity import dirichlet_draws, rank_stability
from siting.score.weights import WeightSpec, ahp_weights, rank_order_centroid, resolve_weights

# Wikipedia, "Analytic hierarchy process - leader example": criteria Experience, Education,
# Charisma, Age; published priorities .547, .127, .270, .056 (from the pairwise judgements below).
LEADER = np.array([[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]])
LEADER_W = np.array([0.547, 0.127, 0.270, 0.056])


@pytest.mark.parametrize("seed", range(20))
def test_topsis_matches_pymcdm(seed):
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    rng = np.random.default_rng(seed)
    n, m = rng.integers(3, 40), rng.integers(2, 8)
    x = rng.uniform(0.1, 100, (n, m))
    w = rng.uniform(0.05, 1, m)
    types = rng.choice([1, -1], m)
    with warnings.catch_warnings():  # pymcdm's advisory about dominant alternatives
        warnings.simplefilter("ignore", UserWarning)
        ref = TOPSIS(normalization_function=vector_normalization)(x, w / w.sum(), types)
    got = topsis(x, w, benefit=types == 1)
    assert got == pytest.approx(ref, abs=1e-10)


def test_ahp_reproduces_published_leader_example():
    w, cr = ahp_weights(LEADER)
    assert w == pytest.approx(LEADER_W, abs=0.002)
    lam = float(np.mean(LEADER @ w / w))
    assert cr == pytest.approx((lam - 4) / 3 / 0.90, rel=1e-3) and cr < 0.1
    g, cr_g = ahp_weights(LEADER, method="geometric_mean")
    assert g == pytest.approx(LEADER_W, abs=0.005) and cr_g < 0.1


def test_ahp_consistent_matrix_gives_exact_ratios_and_zero_cr():
    true = np.array([0.5, 0.3, 0.2])
    a = true[:, None] / true[None, :]
    for method in ("eigenvector", "geometric_mean"):
        w, cr = ahp_weights(a, method=method)
        assert w == pytest.approx(true) and cr == pytest.approx(0, abs=1e-9)


def test_ahp_inconsistency_names_the_pair_unless_allowed():
    names = ["power", "rail", "feed", "roads"]
    judgements = {"power": {"rail": 2, "feed": 4, "roads": 1 / 8}, "rail": {"feed": 2, "roads": 4},
                  "feed": {"roads": 2}}
    with pytest.raises(ScenarioError, match="power vs roads"):
        resolve_weights(WeightSpec(method="ahp", pairwise=judgements), names, [1] * 4)
    w, note = resolve_weights(WeightSpec(method="ahp", pairwise=judgements, allow_inconsistent=True), names, [1] * 4)
    assert note["consistency_ratio"] > 0.1 and sum(w.values()) == pytest.approx(1)
    with pytest.raises(ScenarioError, match="missing: rail vs roads"):
        resolve_weights(WeightSpec(method="ahp", pairwise={"power": {"rail": 2, "feed": 1, "roads": 1},
                                                           "rail": {"feed": 1}, "feed": {"roads": 1}}), names, [1] * 4)


def test_rank_order_centroid_formula():
    assert rank_order_centroid(4) == pytest.approx([25 / 48, 13 / 48, 7 / 48, 3 / 48])
    w, _ = resolve_weights(WeightSpec(method="rank_order_centroid", order=["b", "a"]), ["a", "b"], [1, 1])
    assert w == {"b": 0.75, "a": 0.25}


def test_aggregations_semantics_and_contributions():
    from siting.score.factors import CountWithin, DistanceTo

    raw = pd.DataFrame({"a_m": [0.0, 50.0, 100.0], "b_count": [10.0, 0.0, 5.0]})
    fa = DistanceTo(name="a", distance_to="x", transform={"linear": {"best": 0, "worst": 100}}, weight=3)
    fb = CountWithin(name="b", count_within="y", radius_m=1, transform={"linear": {"best": 10, "worst": 0}}, weight=1)
    s = np.array([[1.0, 1.0], [0.5, 0.0], [0.0, 0.5]])
    ws = scoring.score_table(raw, [fa, fb])
    assert (ws["a_contrib"] + ws["b_contrib"]).tolist() == pytest.approx(ws["score"].tolist())
    wp = scoring.score_table(raw, [fa, fb], method="weighted_product")
    assert wp["score"].tolist() == pytest.approx([1.0, 0.0, 0.0])  # a zero on a weighted factor
    assert np.exp(wp["a_contrib"] + wp["b_contrib"]).iloc[0] == pytest.approx(1.0)
    mn = scoring.score_table(raw, [fa, fb], method="minimum")
    assert mn["score"].tolist() == pytest.approx(s.min(axis=1).tolist())
    tp = scoring.score_table(raw, [fa, fb], method="topsis")
    assert tp["score"].tolist() == pytest.approx(topsis(s, [0.75, 0.25]).tolist())
    # leave-one-out: the score minus the score from b alone
    assert tp["a_contrib"].tolist() == pytest.approx((tp["score"] - topsis(s[:, [1]], [1.0])).tolist())


@settings(max_examples=60, deadline=None)
@given(s=st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=2, max_size=30),
       w=st.lists(st.floats(0.01, 5), min_size=3, max_size=3),
       method=st.sampled_from(scoring.METHODS))
def test_zero_weight_factor_changes_nothing_and_scores_in_unit_interval(s, w, method):
    s = np.array(s)
    base = aggregate(s[:, :2], w[:2], method)
    with_zero = aggregate(s, [w[0], w[1], 0.0], method)
    assert with_zero == pytest.approx(base, abs=1e-9)
    assert ((base >= -1e-12) & (base <= 1 + 1e-12)).all()


def test_dirichlet_and_rank_stability_invariants():
    rng = np.random.default_rng(3)
    s = rng.random((300, 5))
    w = np.array([0.4, 0.3, 0.2, 0.1, 0.0])
    d = dirichlet_draws(w, 5000, 0.2, seed=1)
    assert d.mean(axis=0) == pytest.approx(w, abs=0.01) and (d[:, 4] == 0).all()
    t = rank_stability(s, w, ids=np.arange(300).astype(str), n=500, top_k=10)
    assert t["p_top_k"].sum() == pytest.approx(10)  # every draw has exactly 10 sites in its top 10
    assert (t["rank_p05"] <= t["median_rank"]).all() and (t["median_rank"] <= t["rank_p95"]).all()
    tight = rank_stability(s, w, ids=np.arange(300).astype(str), n=50, spread=1e-4)
    assert (tight["median_rank"] == tight["base_rank"]).all()


def test_ranks_among_all_sites_equal_the_full_ranks_ties_included():
    from siting.score.sensitivity import ranks_among, ranks_of

    rng = np.random.default_rng(5)
    scores = np.round(rng.random((40, 500)), 2)  # few distinct values: many ties, broken by the lower column
    scores[3] = 0.5  # a row of one tie
    rows = rng.choice(500, 60, replace=False)
    assert (ranks_among(scores, rows) == ranks_of(scores)[:, rows]).all()
    scores[7, 10] = np.nan  # not a key: the full ranks are used
    assert (ranks_among(scores, rows) == ranks_of(scores)[:, rows]).all()


@pytest.mark.parametrize("draws", [1, 2, 19, 20, 21, 100, 101, 1000])
def test_rank_quantiles_sorted_in_place_equal_numpys_nearest(draws):
    from siting.score.sensitivity import _nearest_quantiles

    ranks = np.random.default_rng(draws).integers(1, 500, (draws, 200)).astype(np.int32)
    want = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0, method="nearest")
    assert (_nearest_quantiles(ranks.copy(), [0.05, 0.5, 0.95]) == want).all()


def test_rank_stability_of_the_best_sites_only_equals_their_rows_of_all():
    rng = np.random.default_rng(8)
    s = np.round(rng.random((400, 4)), 3)
    w = np.array([0.4, 0.3, 0.2, 0.1])
    ids = np.array([f"s{i:03d}" for i in rng.permutation(400)])
    whole = rank_stability(s, w, ids=ids, n=120, top_k=10, seed=2)
    best = rank_stability(s, w, ids=ids, n=120, top_k=10, seed=2, top=25)
    assert len(best) == 25 and set(best["base_rank"]) == set(range(1, 26))
    pd.testing.assert_frame_equal(best, whole.loc[best.index])


def test_a_weight_sweep_of_the_best_sites_only_equals_their_rows_of_all():
    from siting.score.sensitivity import weight_sweep

    rng = np.random.default_rng(9)
    s = np.round(rng.random((300, 3)), 2)  # ties among all sites
    ids = np.array([f"s{i:03d}" for i in rng.permutation(300)])
    kw = {"ids": ids, "names": ["a", "b", "c"], "multipliers": (0.0, 1.0, 2.0), "top_k": 5}
    whole = weight_sweep(s, np.array([0.5, 0.3, 0.2]), **kw)
    best = weight_sweep(s, np.array([0.5, 0.3, 0.2]), top=20, **kw)
    assert best["site_id"].nunique() == 20 and len(best) == 3 * 3 * 20
    keys = ["factor", "multiplier", "site_id"]
    merged = best.merge(whole, on=keys, suffixes=("", "_all"))
    assert len(merged) == len(best) and (merged["rank"] == merged["rank_all"]).all()
    base = whole[(whole["multiplier"] == 1.0) & (whole["factor"] == "a")].nsmallest(20, "rank")
    assert set(best["site_id"]) == set(base["site_id"])  # the best twenty with the chosen weights


def test_sensitivity_that_cannot_fit_in_memory_is_refused_with_advice(monkeypatch):
    from siting.core import settings

    monkeypatch.setattr(settings, "MEMORY_BYTES", 2 * 4 * 100 * 299)  # half: the ranks of 100 draws x 299 sites
    s = np.random.default_rng(1).random((300, 3))
    with pytest.raises(ScenarioError, match=r"100 weight draws for 300 of 300 sites need .*\(top: e\.g\. 10000"):
        rank_stability(s, np.array([0.5, 0.3, 0.2]), ids=np.arange(300).astype(str), n=100)
    assert len(rank_stability(s, np.array([0.5, 0.3, 0.2]), ids=np.arange(300).astype(str), n=100, top=299)) == 299


def test_a_weight_sweep_that_cannot_fit_in_memory_is_refused_with_advice(monkeypatch):
    from siting.core import settings
    from siting.score.sensitivity import SWEEP_ROW_BYTES, weight_sweep

    monkeypatch.setattr(settings, "MEMORY_BYTES", 2 * SWEEP_ROW_BYTES * 3 * 2 * 299)  # half: 299 sites' rows
    s = np.random.default_rng(1).random((300, 3))
    kw = {"ids": np.arange(300).astype(str), "names": ["a", "b", "c"], "multipliers": (0.5, 2.0)}
    with pytest.raises(ScenarioError, match=r"weight sweeps: 1,800 rows \(3 factors x 2 multipliers x 300 sites\).*"
                                            r"\(top: e\.g\. 10000"):
        weight_sweep(s, np.array([0.5, 0.3, 0.2]), **kw)
    assert len(weight_sweep(s, np.array([0.5, 0.3, 0.2]), top=299, **kw)) == 3 * 2 * 299


def test_a_runs_sensitivity_of_its_best_sites_only(tiny_scenario):
    import copy

    import siting

    scenario = copy.deepcopy(tiny_scenario)
    scenario["analysis"] = {"sensitivity": {"n": 50, "seed": 0, "top_k": 2, "top": 3}}
    result = siting.run(scenario, progress=False)
    assert len(result.analysis["sensitivity"]) == 3 < len(result.sites)
    analysed = result.sites["median_rank"].notna()
    assert set(result.sites.loc[analysed, "rank"]) == {1, 2, 3}  # the best three; the others NA


def test_feedstock_weights_by_development_status_and_names_nearest():
    sites = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(50_000, 0, 50_100, 100)], crs=5070)
    deps = gpd.GeoDataFrame({"name": ["P", "PP", "O", "L"],
                             "commodities": ["tungsten", "tungsten", "antimony", "lithium"],
                             "dev_status": ["producer", "past producer", "occurrence", "prospect"]},
                            geometry=[Point(200, 0), Point(300, 0), Point(400, 0), Point(50_050, 500)], crs=5070)
    out = feedstock(sites, deps, name="f", radius_m=1_000, commodities=["china_export_controls"])
    assert out["f_wcount"].tolist() == pytest.approx([1.0 + 0.7 + 0.2, 0.0])
    assert out["f_nearest_tungsten"].iloc[0] == "P (0.1 km)" and "f_nearest_lithium" not in out
    far = ground_distance(sites.geometry.iloc[1], deps.geometry.iloc[2], 5070)
    assert out["f_nearest_antimony"].iloc[1] == f"O ({round(far / 1000, 1)} km)"


def test_permitting_parts_by_hand():
    sites = gpd.GeoDataFrame({"gap_status": [4, 2], "designation": ["PUB", "WSA"], "agency": ["DOD", "USFS"]},
                             geometry=[box(0, 0, 100, 100), box(30_000, 0, 30_100, 100)], crs=5070)
    mines = gpd.GeoDataFrame(geometry=[Point(150, 50)] * 3, crs=5070)
    roads = gpd.GeoDataFrame(geometry=[Point(0, 10_000)], crs=5070)
    spec = PermittingSpec(disturbance=["mines"], roads="roads", radius_m=1_000, roads_worst_m=20_000)
    out = permitting(sites, {"mines": mines, "roads": roads}, spec, name="p")
    assert out["p_gap"].tolist() == [1.0, 0.25] and out["p_designation"].tolist() == [1.0, 0.0]
    assert out["p_disturbance"].tolist() == pytest.approx([np.log1p(3) / np.log1p(10), 0.0])
    road_m = ground_distance(sites.geometry.iloc[0], roads.geometry.iloc[0], 5070)  # 9,900 m on the map
    assert out["p_roads"].iloc[0] == pytest.approx(1 - road_m / 20_000, abs=1e-4)
    assert out["p_dod"].tolist() == [1.0, 0.5]
    parts = [c for c in out if c != "p_index"]
    assert out["p_index"].tolist() == pytest.approx(out[parts].mean(axis=1).tolist())


@pytest.mark.slow
def test_relaxation_fast_path_equals_full_rescreen(demo_result):
    rule = "within_substations"
    fast = demo_result.relaxation(rule, [75_000])
    for v, sites in zip(fast["threshold"], fast["sites"], strict=True):
        assert int(demo_result.rescreen(rule, v)["eligible"].sum()) == sites
    with pytest.raises(ScenarioError, match="no numeric threshold"):
        demo_result.relaxation("agency_in", [1])


@pytest.mark.slow  # a rule that cuts land: each value screens the land again (the tiny run: parcels, not packing)
def test_relaxing_a_land_rule_rescreens_and_keeps_less_land_as_it_tightens(tiny_result):
    slow = tiny_result.relaxation("outside_wilderness", [0, 1_000, 5_000])
    scenario = slow.loc[slow["is_scenario_value"]]
    assert scenario["sites"].item() == len(tiny_result.sites)
    assert scenario["acres"].item() == pytest.approx(tiny_result.sites["area_acres"].sum(), rel=1e-9)
    assert slow["acres"].diff().dropna().lt(0).all()  # each wider buffer keeps less land (sites may split)


@pytest.mark.slow
def test_relaxing_a_rule_that_cuts_land_counts_what_a_run_with_that_threshold_finds(tiny_result, tiny_scenario):
    # the re-screening measures decisions only (the ledger values of rules that cut land are left out):
    # the counts must still be those of the scenario run again with the relaxed threshold
    table = tiny_result.analysis["relaxation"]["within_substations"].set_index("threshold")
    d = copy.deepcopy(tiny_scenario)
    d["analysis"] = {}
    d["constraints"] = [{**c, "distance_m": 100_000} if c.get("rule") == "within" else c for c in d["constraints"]]
    again = siting.run(d, progress=False)
    assert table.loc[100_000.0, "sites"] == len(again.sites) > len(tiny_result.sites)
    assert table.loc[100_000.0, "acres"] == pytest.approx(again.sites["area_acres"].sum(), rel=1e-9)
    quick = tiny_result.rescreen("within_substations", 100_000.0)
    assert quick["outside_towns__value"].isna().all() and tiny_result.candidates["outside_towns__value"].notna().any()


def test_near_misses_fail_exactly_one_rule(demo_result):
    nm = demo_result.near_misses()
    c = demo_result.candidates.set_index("candidate_id")
    assert len(nm) and (c.loc[nm["candidate_id"], "n_failed"] == 1).all()
    assert (c.loc[nm["candidate_id"], "failed_rules"].to_numpy() == nm["rule"].to_numpy()).all()


def test_demo_outputs_carry_sensitivity_and_analyses(demo_result, demo_out):
    s = gpd.read_file(demo_out / "sites.geojson")
    assert {"median_rank", "rank_p05", "rank_p95", "p_top_k"} <= set(s.columns)
    assert s["p_top_k"].sum() == pytest.approx(10)
    for name in ("near_misses.csv", "sensitivity.csv", "weight_sweeps.csv", "relaxation_within_substations.csv"):
        assert (demo_out / name).stat().st_size > 0
    html = (demo_out / "map.html").read_text()
    assert "weights perturbed: median rank" in html and "Near misses" in html
    sweeps = pd.read_csv(demo_out / "weight_sweeps.csv")
    one = sweeps[sweeps["multiplier"] == 1.0].drop_duplicates("site_id").set_index("site_id")["rank"]
    assert (one.reindex(demo_result.sites["site_id"]).to_numpy() == demo_result.sites["rank"].to_numpy()).all()


@pytest.mark.parametrize("weights,method", [
    pytest.param({"method": "rank_order_centroid", "order": ["feedstock", "power", "permitting", "rail", "grid",
                                                             "roads", "terrain"]}, "topsis", marks=pytest.mark.slow),
    pytest.param({"method": "ahp", "allow_inconsistent": True, "pairwise": {
        "feedstock": {"power": 2, "grid": 4, "permitting": 2, "rail": 3, "roads": 4, "terrain": 4},
        "power": {"grid": 3, "permitting": 1, "rail": 2, "roads": 3, "terrain": 3},
        "grid": {"permitting": 0.5, "rail": 1, "roads": 1, "terrain": 1},
        "permitting": {"rail": 2, "roads": 2, "terrain": 2}, "rail": {"roads": 2, "terrain": 2},
        "roads": {"terrain": 1}}}, "weighted_product", marks=pytest.mark.slow),
])
def test_weight_methods_and_aggregations_from_a_scenario(tiny_scenario, weights, method):
    d = copy.deepcopy(tiny_scenario)
    d["scoring"]["weights"] = weights
    d["scoring"]["method"] = method
    d["analysis"] = {"near_misses": False}
    r = siting.run(d, progress=False)
    w = r.meta["weights"]
    assert w["method"] == weights["method"] and sum(w["weights"].values()) == pytest.approx(1, abs=1e-5)
    if weights["method"] == "ahp":
        assert w["consistency_ratio"] < 0.1
    assert r.sites["score"].between(0, 1).all() and sorted(r.sites["rank"]) == list(range(1, len(r.sites) + 1))


def test_batch_aggregation_equals_one_weight_vector_at_a_time():
    rng = np.random.default_rng(7)
    s = rng.random((50, 4))
    w = rng.dirichlet(np.ones(4), size=6)
    for method in scoring.METHODS:
        batch = aggregate(s, w, method)
        single = np.array([aggregate(s, row, method) for row in w])
        assert batch == pytest.approx(single, abs=1e-12)
    assert aggregate(s, w[0], "topsis") == pytest.approx(topsis(s, w[0]), abs=1e-12)
