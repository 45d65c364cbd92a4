"""Every rule type carries its own behaviour: relax, decide, check and its map layer of failures."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely import Point, box

from siting.core.errors import ScenarioError
from siting.geo.raster import Raster
from siting.score.relaxation import relaxation
from siting.screen import rules
from siting.screen.constraints import screen
from siting.screen.rules import RELAXABLE, RULE_TYPES, RuleContext


@pytest.fixture
def ctx(grid_parcels, substations) -> RuleContext:
    values = np.ma.masked_invalid(np.tile([1.0, 4.0, np.nan, 9.0, 2.0], (10, 1)).repeat(10, axis=1))
    slope = Raster(values, from_origin(0, 10_000, 1_000, 1_000), grid_parcels.crs, "slope")
    wild = gpd.GeoDataFrame({"feature_id": ["w"], "kind": ["wilderness"]},
                            geometry=[box(8_000, 2_000, 12_000, 6_000)], crs=grid_parcels.crs)
    return RuleContext({"substations": substations, "wilderness": wild, "parcels": grid_parcels},
                       {"slope": slope})


ONE_OF_EACH = {
    "agency_in": rules.AgencyIn(values=["BLM", "USFS", "DOD"]),
    "agency_not_in": rules.AgencyNotIn(values=["NPS"]),
    "gap_status_in": rules.GapStatusIn(values=[3, 4]),
    "gap_status_not_in": rules.GapStatusNotIn(values=[1, 2]),
    "designation_not_in": rules.DesignationNotIn(values=["NP"]),
    "attribute": rules.Attribute(where="unit_name != 'c'"),
    "outside": rules.Outside(layer="wilderness", buffer_m=500),
    "min_area": rules.MinArea(acres=2_000),
    "raster_max": rules.RasterMax(raster="slope", stat="max", value=5, missing="pass"),
    "raster_min": rules.RasterMin(raster="slope", stat="min", value=2, missing="pass"),
    "within": rules.Within(layer="substations", where="voltage_kv >= 115", distance_m=30_000),
    "beyond": rules.Beyond(layer="substations", distance_m=4_000),
    "overlap_max": rules.OverlapMax(layer="wilderness", fraction=0.1),
    "overlap_min": rules.OverlapMin(layer="wilderness", fraction=0.05),
    "include": rules.Include(parcels=["p3"], reason="offered by the park"),
    "exclude": rules.Exclude(parcels=["p1"], reason="leased already"),
}


def test_every_rule_type_is_covered():
    assert sorted(ONE_OF_EACH) == sorted(c.model_fields["rule"].default for c in RULE_TYPES)


@pytest.mark.parametrize("kind", sorted(ONE_OF_EACH))
def test_relaxation_at_the_rules_own_threshold_gains_nothing(kind, grid_parcels, ctx):
    rule = ONE_OF_EACH[kind]
    others = [ONE_OF_EACH["agency_not_in"]] if kind != "agency_not_in" else [ONE_OF_EACH["min_area"]]
    applied = [*others, rule]
    s = screen(grid_parcels.assign(candidate_id=grid_parcels["parcel_id"]), applied, ctx)
    label = list(s.applied)[-1]

    def rescreen(name, value):
        changed = [r.relax(value) if lab == name else r for lab, r in s.applied.items()]
        return screen(grid_parcels.assign(candidate_id=grid_parcels["parcel_id"]), changed, ctx).frame

    if not isinstance(rule, RELAXABLE):
        with pytest.raises(ScenarioError, match="no numeric threshold"):
            relaxation(s.frame, s.applied, label, [1.0], rescreen=rescreen)
        return
    table = relaxation(s.frame, s.applied, label, [rule.parameter_value()], rescreen=rescreen)
    assert table["is_scenario_value"].all()
    assert table["sites_gained"].tolist() == [0] and table["acres_gained"].abs().max() < 1e-6


def test_raster_rule_missing_pass_is_decided_as_the_screening_decided(grid_parcels, ctx):
    rule = ONE_OF_EACH["raster_max"]
    s = screen(grid_parcels.assign(candidate_id=grid_parcels["parcel_id"]), [rule], ctx)
    values = s.frame["raster_max_slope__value"].to_numpy(float)
    assert np.isnan(values).any(), "the fixture puts one parcel on nodata"
    assert rule.decide(values).tolist() == s.frame["raster_max_slope__pass"].tolist()
    assert rule.model_copy(update={"missing": "fail"}).decide(values)[np.isnan(values)].tolist() == [False]


def test_relax_validates_like_the_scenario():
    with pytest.raises(ValueError):
        rules.Within(layer="substations", distance_m=10).relax(-5)
    assert rules.Outside(layer="w", buffer_m=100).relax(250).buffer_m == 250.0


def test_rules_check_the_fields_and_layers_they_read(grid_parcels, substations):
    layers = {"parcels": [grid_parcels.drop(columns=["gap_status"])], "substations": [substations]}
    problems = rules.GapStatusNotIn(values=[1]).check(layers, {})
    assert problems[0][1].startswith("rule gap_status_not_in reads gap_status")
    assert "voltage" in rules.Within(layer="substations", where="voltage >= 1", distance_m=1).check(layers, {})[0][1]
    assert rules.Attribute(where="colour == 'red'").check(layers, {})[0][0] == "parcels"
    assert rules.RasterMax(raster="dem", value=1).check(layers, {}) == [("dem", "rule raster_max_dem: raster 'dem' "
                                                                           "is not loaded")]
    assert rules.AgencyIn(values=["BLM"]).check(layers, {}) == []


def test_failure_layers_are_drawn_by_the_rule(grid_parcels, ctx):
    both = [ONE_OF_EACH["outside"], ONE_OF_EACH["agency_in"]]
    s = screen(grid_parcels.assign(candidate_id=grid_parcels["parcel_id"]), both, ctx)
    drawn = {lab: r.failure_layer(lab, s.frame, ctx.layers) for lab, r in s.applied.items()}
    title, zones = drawn["outside_wilderness"]
    assert title.startswith("Excluded by outside_wilderness") and len(zones) == 1
    assert zones.geometry.iloc[0].contains(Point(8_000 - 499, 4_000))
    title, failed = drawn["agency_in"]
    assert failed["agency"].tolist() == ["NPS"] and "(1)" in title
    assert ONE_OF_EACH["agency_in"].failure_layer("agency_in", s.frame, ctx.layers, max_candidates=2) is None


def test_an_attribute_rule_on_two_fields_shows_na_for_the_missing_one():
    # the ledger value of a filter on two fields joins them; a missing one reads "NA", not a missing value
    frame = gpd.GeoDataFrame({"agency": ["BLM", "BLM"], "state": ["NV", None]},
                             geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=5070)
    out = rules.Attribute(where="agency == 'BLM' and state == 'NV'").evaluate(frame, frame.geometry.values,
                                                                             RuleContext())
    assert list(out.value) == ["BLM; NV", "BLM; NA"]
    assert out.passed.tolist() == [True, False]
