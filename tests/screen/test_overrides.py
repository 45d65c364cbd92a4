"""Overrides with reasons (issue 19 item 2): ``include`` keeps named land whatever the listed rules say,
``exclude`` drops it; the ledger marks them, the funnel counts them, the sites carry the reason."""

from __future__ import annotations

import copy

import geopandas as gpd
import pyogrio
import pytest
import shapely

import siting
from siting.core.errors import ScenarioError
from siting.core.scenario import load_scenario


def _only_failing(candidates, rule):
    return candidates[candidates["failed_rules"] == rule].iloc[0]


@pytest.fixture(scope="module")
def overridden(tiny_scenario, tiny_result, tmp_path_factory):
    """The tiny run again with an include by parcel, an include by area and an exclude, and what they name."""
    base = tiny_result.candidates
    far = _only_failing(base, "within_substations")                  # kept despite the distance
    cut = base[(base["outside_towns__removed_acres"] > 0) & base["eligible"]].iloc[0]   # kept uncut by towns
    dropped = tiny_result.sites.iloc[0]                                # a site, dropped
    area = gpd.GeoDataFrame({"name": ["offered"]}, geometry=[shapely.box(*cut.geometry.bounds)], crs=base.crs)
    path = tmp_path_factory.mktemp("ov") / "offered.gpkg"
    pyogrio.write_dataframe(area, path)
    d = copy.deepcopy(tiny_scenario)
    d["layers"]["offered"] = {"path": str(path)}
    d["constraints"] = [
        {"rule": "include", "parcels": [far["parcel_id"]], "rules": ["within_substations"],
         "reason": "installation letter of 2025-06-01"},
        {"rule": "include", "layer": "offered", "rules": ["outside_towns"], "reason": "county waiver"},
        {"rule": "exclude", "parcels": [dropped["parcel_id"]], "reason": "leased already"},
        *d["constraints"]]
    d["analysis"] = {}
    return siting.run(d, progress=False), far, cut, dropped


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_an_included_parcel_is_kept_and_marked_with_its_reason(overridden, tiny_result):
    result, far, _, _ = overridden
    site = result.sites.set_index("site_id").loc[far["candidate_id"]]
    assert site["overrides"] == "include: installation letter of 2025-06-01"
    row = result.ledger[(result.ledger["candidate_id"] == far["candidate_id"])
                        & (result.ledger["rule"] == "within_substations")].iloc[0]
    assert row["passed"] and row["override"] == "include: installation letter of 2025-06-01"
    assert row["value"] == pytest.approx(far["within_substations__value"]) and row["value"] > row["threshold"]


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_an_area_include_leaves_the_land_uncut_by_the_rule_it_names(overridden, tiny_result):
    result, _, cut, _ = overridden
    near_towns = shapely.union_all(tiny_result.layers["towns"].buffer(2_900).values)  # well inside the 3 km
    before = tiny_result.candidates[tiny_result.candidates["parcel_id"] == cut["parcel_id"]]
    mine = result.candidates[result.candidates["parcel_id"] == cut["parcel_id"]]
    assert not before.intersects(near_towns).any() and mine.intersects(near_towns).any()  # the town's land is back
    assert (mine["outside_towns__removed_acres"] == 0).all()
    assert mine["overrides"].str.contains("include: county waiver").all()
    ledger = result.ledger
    rows = ledger[ledger["candidate_id"].isin(mine["candidate_id"]) & (ledger["rule"] == "outside_towns")]
    assert (rows["override"] == "include: county waiver").all() and rows["passed"].all()


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_an_excluded_parcel_is_gone_with_its_reason(overridden):
    result, _, _, dropped = overridden
    assert dropped["site_id"] not in set(result.sites["site_id"])
    cand = result.candidates.set_index("candidate_id").loc[dropped["site_id"]]
    assert not cand["eligible"] and "excluded: leased already" in cand["reason"]
    assert cand["overrides"] == "excluded: leased already"


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_the_funnel_counts_the_overrides(overridden):
    funnel = overridden[0].funnel.set_index("rule")
    assert funnel.loc["exclude", "candidates_removed"] == 1
    assert funnel.loc["within_substations", "candidates_overridden"] == 1
    assert funnel.loc["include", "candidates_removed"] == 0


def _scenario(tiny_scenario, constraint):
    d = copy.deepcopy(tiny_scenario)
    d["constraints"] = [constraint, *d["constraints"]]
    return d


@pytest.mark.parametrize("constraint, message", [
    ({"rule": "include", "parcels": ["1"], "rules": ["within_subs"], "reason": "offered"},
     r"'within_subs' is not one of the rules"),
    ({"rule": "exclude", "parcels": ["1"]}, r"reason"),
    ({"rule": "exclude", "parcels": ["1"], "layer": "towns", "reason": "both"}, r"exactly one of parcels"),
])
def test_an_override_must_name_its_land_rules_and_reason(tiny_scenario, constraint, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(_scenario(tiny_scenario, constraint))


def test_an_unknown_parcel_id_stops_the_run(tiny_scenario):
    d = _scenario(tiny_scenario, {"rule": "exclude", "parcels": ["no-such-parcel"], "reason": "typo check"})
    with pytest.raises(ScenarioError, match="no parcel has parcel_id no-such-parcel"):
        siting.run(d, progress=False)


def test_an_include_on_a_cutting_rule_records_the_distance_of_the_land_it_keeps_whole():
    """An ``outside`` rule would cut the land near the town; the include keeps it whole, so the ledger gives
    the kept land's distance to the town on the ground, not that of the land the cut would have left."""
    from oracle import agrees, ground_distance

    from siting.screen.constraints import screen
    from siting.screen.overrides import Include
    from siting.screen.rule_base import RuleContext
    from siting.screen.rules import Outside

    x0, y0 = -1_700_000.0, 2_000_000.0
    cands = gpd.GeoDataFrame({"candidate_id": ["kept", "cut"], "parcel_id": ["1", "2"]},
                             geometry=[shapely.box(x0, y0, x0 + 4_000, y0 + 4_000),
                                       shapely.box(x0 + 10_000, y0, x0 + 14_000, y0 + 4_000)], crs=5070)
    towns = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(x0 + 4_300, y0 + 2_000),
                                                             shapely.Point(x0 + 14_300, y0 + 2_000)], crs=5070)
    keep = Include(parcels=["1"], rules=["outside_towns"], reason="waiver")
    res = screen(cands, [Outside(layer="towns", buffer_m=1_000).with_includes([keep])], RuleContext({"towns": towns}))
    frame = res.frame.set_index("candidate_id")
    assert frame.loc["kept", "geometry"].equals(cands.geometry.iloc[0])  # whole
    assert frame.loc["cut", "outside_towns__removed_acres"] > 0
    kept_d = frame.loc["kept", "outside_towns__value"]
    assert agrees(kept_d, ground_distance(cands.geometry.iloc[0], towns.geometry.iloc[0], "EPSG:5070"))
    assert kept_d < 1_000 <= frame.loc["cut", "outside_towns__value"]  # the cut one: from the land left
    assert frame.loc["kept", "outside_towns__pass"] and frame.loc["kept", "overrides"] == "include: waiver"
