"""Property tests (hypothesis): land accounting, order and CRS independence, scores, ranks, loader fuzz."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

import siting
from siting.candidates.parcels import candidates_from_parcels
from siting.core.errors import SitingError
from siting.core.scenario import load_scenario
from siting.score import scoring, transforms
from siting.screen.constraints import screen
from siting.screen.rules import AgencyIn, Outside, RuleContext

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
X0, Y0 = -1_700_000.0, 1_900_000.0  # Nevada in EPSG:5070


@st.composite
def boxes(draw, n_min=1, n_max=6, size=(500.0, 20_000.0)):
    n = draw(st.integers(n_min, n_max))
    out = []
    for _ in range(n):
        x = draw(st.floats(0, 60_000))
        y = draw(st.floats(0, 60_000))
        w = draw(st.floats(*size))
        h = draw(st.floats(*size))
        out.append(box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h))
    return out


@st.composite
def parcels_with_holes(draw):
    shells = draw(boxes(1, 5, (2_000.0, 25_000.0)))
    holes = draw(boxes(0, 4, (200.0, 3_000.0)))
    geoms = [shapely.difference(s, shapely.union_all(holes)) if holes else s for s in shells]
    geoms = [g for g in geoms if not g.is_empty and g.area > 0]
    agencies = draw(st.lists(st.sampled_from(["BLM", "USFS", "NPS", "DOD"]), min_size=len(geoms),
                             max_size=len(geoms)))
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(len(geoms))], "agency": agencies},
                            geometry=geoms, crs=5070)


@SETTINGS
@given(parcels=parcels_with_holes(), cutters=boxes(0, 5, (100.0, 15_000.0)),
       buffer_m=st.floats(0, 3_000))
def test_eligible_and_excluded_partition_the_input(parcels, cutters, buffer_m):
    if not len(parcels):
        return
    excl = gpd.GeoDataFrame(geometry=cutters, crs=5070)
    res = screen(candidates_from_parcels(parcels), [Outside(layer="x", buffer_m=buffer_m)],
                 RuleContext({"x": excl}))
    eligible = np.asarray(res.frame.geometry.values, dtype=object)
    inputs = np.asarray(parcels.geometry.values, dtype=object)
    zone = shapely.union_all(shapely.buffer(np.asarray(cutters, dtype=object), buffer_m, quad_segs=16)) \
        if cutters else shapely.Polygon()
    excluded = shapely.intersection(inputs, zone)  # computed independently of siting
    e_area = np.nan_to_num(shapely.area(eligible))
    tol = 1e-6 * shapely.area(inputs) + 1.0  # m2
    assert (np.nan_to_num(shapely.area(shapely.intersection(eligible, excluded))) <= tol).all()
    # the buffer holds on the ground, so it removes at least the map buffer and at most 3 % more radius
    wider = shapely.union_all(shapely.buffer(np.asarray(cutters, dtype=object), buffer_m * 1.03 + 1, quad_segs=16)) \
        if cutters else shapely.Polygon()
    lost = shapely.area(inputs) - shapely.area(excluded) - e_area
    assert (lost >= -tol).all() and (lost <= shapely.area(shapely.intersection(inputs, wider)) -
                                     shapely.area(excluded) + tol).all()
    removed = res.frame["outside_x__removed_acres"].to_numpy() * 4046.8564224
    assert np.allclose(e_area + removed, shapely.area(inputs), atol=tol.max())
    assert (np.nan_to_num(shapely.area(shapely.difference(eligible, inputs))) <= tol).all()


@pytest.mark.slow  # a hypothesis search of whole screenings (about 6 s): in CI's slow tests
@SETTINGS
@given(parcels=parcels_with_holes(), cutters=boxes(1, 4, (100.0, 10_000.0)), seed=st.integers(0, 1000))
def test_results_do_not_depend_on_row_order_or_input_crs(parcels, cutters, seed):
    if not len(parcels):
        return
    excl = gpd.GeoDataFrame({"name": ["e"] * len(cutters)}, geometry=cutters, crs=5070)
    rules = [AgencyIn(values=["BLM", "DOD"]), Outside(layer="x", buffer_m=500)]

    def run(p, e):
        r = screen(candidates_from_parcels(p), rules, RuleContext({"x": e}))
        return r.frame.set_index("candidate_id").sort_index()

    a = run(parcels, excl)
    order = np.random.default_rng(seed).permutation(len(parcels))
    via_ll = siting.read_layer(parcels.iloc[order].to_crs(4326).rename(columns={"agency": "Mang_Name"})
                               .drop(columns="parcel_id").assign(OBJECTID=parcels["parcel_id"].str[1:]
                                                                 .astype(int).to_numpy()[order]),
                               name="parcels", working_crs="EPSG:5070")
    via_ll["parcel_id"] = "p" + via_ll["parcel_id"]
    e_ll = siting.read_layer(excl.to_crs(4326), name="x", working_crs="EPSG:5070")
    b = run(via_ll, e_ll)
    # through lon/lat the edges are straight in lon/lat (densified before reprojecting), so they bow on the
    # map by up to ``bow`` (about 0.9 m on a 7.5 km east-west edge here): every outline may move that far
    back = via_ll.set_index("parcel_id").geometry.loc[parcels["parcel_id"]].to_numpy()
    own = pd.Series(shapely.hausdorff_distance(parcels.geometry.to_numpy(), back), index=parcels["parcel_id"])
    bow = own.loc[a["parcel_id"]].to_numpy() + \
        shapely.hausdorff_distance(excl.geometry.to_numpy(), e_ll.geometry.to_numpy()).max()
    length = np.maximum(np.nan_to_num(a.geometry.length.to_numpy()), np.nan_to_num(b.geometry.length.to_numpy()))
    hair_acres = 1e-3 * a["area_acres"] + (2 * bow + 0.05) * length / 4046.8564224 + 1e-3
    assert (np.abs(a["area_acres"] - b["area_acres"]) <= hair_acres).all()
    # a sliver thinner than the bow may be kept one way and not the other; nothing else may differ
    differ = (a["eligible"] != b["eligible"]).to_numpy()
    assert (np.maximum(a["area_acres"], b["area_acres"]).to_numpy()[differ] <= hair_acres.to_numpy()[differ]).all()


raw_values = st.lists(st.one_of(st.floats(-1e7, 1e7), st.just(np.nan), st.just(np.inf)), min_size=1, max_size=60)
specs = st.sampled_from([
    {"linear": {"best": 0, "worst": 50_000}}, {"linear": {"best": 100, "worst": -3}}, {"log": {}},
    {"minmax": {"direction": "cost"}}, {"sigmoid": {"mid": 100, "scale": 30}},
    {"gaussian": {"optimum": 0, "sd": 1000}}, {"step": {"thresholds": [0, 10], "scores": [1, 0.5, 0]}},
    {"piecewise": {"points": [[0, 0], [5, 1], [10, 0.2]]}}])


@SETTINGS
@given(values=raw_values, spec=specs)
def test_transformed_scores_lie_in_unit_interval(values, spec):
    s = transforms.apply(spec, np.array(values, dtype=float))
    assert np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()


@SETTINGS
@given(scores=st.lists(st.floats(0, 1), min_size=1, max_size=200), weights=st.lists(
    st.floats(0, 10), min_size=3, max_size=3).filter(lambda w: sum(w) > 0))
def test_weighted_sum_in_unit_interval_and_ranks_a_permutation(scores, weights):
    n = len(scores)
    table = pd.DataFrame({"a": scores, "b": scores[::-1], "c": [0.5] * n})
    total = scoring.weighted_sum(table, dict(zip("abc", weights, strict=True)))
    assert ((total >= -1e-12) & (total <= 1 + 1e-12)).all()
    r = scoring.rank(total, pd.Series([f"s{i}" for i in range(n)]))
    assert sorted(r) == list(range(1, n + 1))


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True),
                      st.text(max_size=12))
keys = st.one_of(st.sampled_from(["version", "name", "layers", "parcels", "path", "constraints", "rule",
                                  "factors", "weight", "transform", "where", "buffer_m", "outputs",
                                  "candidates", "method", "scoring", "rasters", "crs"]), st.text(max_size=8))
json_tree = st.recursive(json_leaf, lambda ch: st.one_of(st.lists(ch, max_size=4),
                                                         st.dictionaries(keys, ch, max_size=5)), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(data=json_tree)
def test_loader_fuzz_gives_scenario_or_siting_error(data):
    try:
        load_scenario(data if not isinstance(data, str) else {"name": data})
    except SitingError as exc:
        assert str(exc)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300), suffix=st.sampled_from([".yaml", ".toml"]))
def test_loader_fuzz_on_file_text(tmp_path_factory, text, suffix):
    p = tmp_path_factory.mktemp("fuzz") / f"s{suffix}"
    p.write_text(text, encoding="utf-8")
    try:
        load_scenario(p)
    except SitingError as exc:
        assert str(exc)


@pytest.mark.parametrize("base", [{"version": 1, "name": "x", "layers": {"parcels": {"path": "p.gpkg"}}}])
@settings(max_examples=150, deadline=None)
@given(extra=st.dictionaries(st.sampled_from(["constraints", "factors", "candidates", "scoring", "outputs",
                                               "rasters", "crs"]), json_tree, max_size=3))
def test_loader_fuzz_near_valid(base, extra):
    try:
        load_scenario({**base, **extra})
    except SitingError as exc:
        assert str(exc)
