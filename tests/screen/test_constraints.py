"""Rules, the ledger and the funnel."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
from oracle import agrees, ground_distance, ground_farthest
from shapely import Point, box

from siting.candidates.parcels import candidates_from_parcels
from siting.screen.constraints import screen
from siting.screen.rules import (
    AgencyIn,
    Attribute,
    Beyond,
    GapStatusNotIn,
    MinArea,
    Outside,
    RasterMax,
    RuleContext,
    Within,
)

ACRES = 4046.8564224


def _farthest(geom, frame):
    """Ground distance from the farthest point of a box to the nearest feature (the ``within`` value)."""
    return ground_farthest(geom, frame.crs, (frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()), step=25.0)


def test_ledger_has_value_threshold_pass_for_every_rule(grid_parcels, substations):
    cands = candidates_from_parcels(grid_parcels)
    rules = [AgencyIn(values=["BLM", "USFS", "DOD"]), GapStatusNotIn(values=[1, 2]),
             Within(layer="subs", distance_m=15_000)]
    res = screen(cands, rules, RuleContext({"subs": substations}))
    f = res.frame
    for label in ("agency_in", "gap_status_not_in", "within_subs"):
        for part in ("value", "threshold", "pass"):
            assert f"{label}__{part}" in f.columns
    # p3 is NPS (fails agency and GAP) and its farthest point is more than 15 km from every substation
    d = f["within_subs__value"].to_numpy()
    assert agrees(d[3], _farthest(cands.geometry.iloc[3], substations)) and d[3] > 15_000
    assert ground_distance(cands.geometry.iloc[3], substations.geometry.iloc[1], 5070) < \
        ground_distance(cands.geometry.iloc[3], substations.geometry.iloc[0], 5070)
    assert f.loc[3, "failed_rules"] == "agency_in;gap_status_not_in;within_subs"
    assert f.loc[3, "n_failed"] == 3
    assert agrees(d[0], _farthest(cands.geometry.iloc[0], substations))
    assert f["eligible"].tolist() == list(
        np.isin(cands["agency"], ["BLM", "USFS", "DOD"]) & (d <= 15_000) & (cands["gap_status"] != 1))
    assert "within_subs: farthest distance to subs (m) =" in f.loc[4, "reason"]


def test_where_filter_on_distance_rule(grid_parcels, substations):
    cands = candidates_from_parcels(grid_parcels)
    ctx = RuleContext({"subs": substations})
    res = screen(cands, [Within(layer="subs", where="voltage_kv >= 115", distance_m=1e9)], ctx)
    hv = substations[substations.voltage_kv >= 115]
    assert agrees(res.frame["within_subs__value"].iloc[0], _farthest(cands.geometry.iloc[0], hv))


def test_outside_clips_and_funnel_conserves_area(grid_parcels):
    excl = gpd.GeoDataFrame({"name": ["w"]}, geometry=[box(2_000, 2_000, 4_000, 4_000)], crs=5070)
    cands = candidates_from_parcels(grid_parcels)
    res = screen(cands, [Outside(layer="w", buffer_m=1_000), MinArea(acres=100)],
                 RuleContext({"w": excl}))
    # a 2 km square buffered by 1 km: a 4 km square with quarter-circle corners of radius 1 km
    removed_m2 = 4_000**2 - (4 - np.pi) * 1_000**2
    # on the ground: never less than that, at most the scale margin more (5070's scale near its origin ~1.02)
    assert removed_m2 / ACRES <= res.frame["outside_w__removed_acres"].iloc[0] <= 1.05 * removed_m2 / ACRES
    assert res.frame["outside_w__removed_acres"].iloc[1:].sum() == 0
    fn = res.funnel
    assert fn["acres_in"].iloc[0] == pytest.approx(fn["acres_out"].iloc[-1] + fn["acres_removed"].sum())
    assert fn["acres_in"].iloc[0] == pytest.approx(grid_parcels.area.sum() / ACRES)


def test_buffer_from_feature_outside_study_area_still_counts(grid_parcels):
    # a protected area 500 m west of the westmost parcel, outside all parcels
    excl = gpd.GeoDataFrame({"name": ["x"]}, geometry=[box(-3_000, 0, -500, 10_000)], crs=5070)
    cands = candidates_from_parcels(grid_parcels)
    res = screen(cands, [Outside(layer="x", buffer_m=1_000)], RuleContext({"x": excl}))
    removed = res.frame["outside_x__removed_acres"].iloc[0]
    assert 500 * 10_000 / ACRES <= removed <= (500 + 1_000 * 0.03) * 10_000 / ACRES


def test_all_excluded_warns_with_last_rule(grid_parcels, caplog):
    cands = candidates_from_parcels(grid_parcels)
    with caplog.at_level(logging.WARNING, logger="siting"):
        res = screen(cands, [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=1e9)])
    assert not res.frame["eligible"].any()
    assert "min_area" in caplog.text and "all 5 candidates" in caplog.text


def test_beyond_and_attribute_rules(grid_parcels, substations):
    cands = candidates_from_parcels(grid_parcels)
    res = screen(cands, [Beyond(layer="subs", distance_m=5_000), Attribute(where="unit_name != 'e'")],
                 RuleContext({"subs": substations}))
    d = res.frame["beyond_subs__value"]
    assert (res.frame["beyond_subs__pass"] == (d >= 5_000)).all()
    assert res.frame["attribute__pass"].tolist() == [True, True, True, True, False]


def test_raster_rule(grid_parcels):
    from affine import Affine

    from siting.geo.raster import Raster

    # slope raster: 1 in the west half (x < 25 km), 10 in the east half; 1 km pixels
    vals = np.where(np.arange(50) < 25, 1.0, 10.0)[None, :].repeat(10, 0).astype("float32")
    r = Raster(np.ma.masked_invalid(vals), Affine(1000, 0, 0, 0, -1000, 10_000), "EPSG:5070", "s")
    res = screen(candidates_from_parcels(grid_parcels), [RasterMax(raster="s", stat="p90", value=5)],
                 RuleContext(rasters={"s": r}))
    assert res.frame["raster_max_s__value"].tolist() == pytest.approx([1, 1, 10, 10, 10])
    assert res.frame["eligible"].tolist() == [True, True, False, False, False]


def test_rule_validation_lists_options():
    with pytest.raises(ValueError, match="BLM"):
        AgencyIn(values=["BLMX"])
    with pytest.raises(ValueError):
        GapStatusNotIn(values=[7])
    with pytest.raises(ValueError, match="not allowed"):
        Attribute(where="__import__('os').system('x')")


def test_row_order_does_not_change_results(grid_parcels, substations):
    rules = [Within(layer="subs", distance_m=20_000), AgencyIn(values=["BLM", "DOD"])]
    a = screen(candidates_from_parcels(grid_parcels), rules, RuleContext({"subs": substations}))
    b = screen(candidates_from_parcels(grid_parcels.iloc[::-1]), rules, RuleContext({"subs": substations}))
    ea = a.frame.set_index("candidate_id")["eligible"].sort_index()
    eb = b.frame.set_index("candidate_id")["eligible"].sort_index()
    assert ea.equals(eb)


def test_point_candidates_distance_zero_inside():
    cands = gpd.GeoDataFrame({"candidate_id": ["a"]}, geometry=[Point(1, 1)], crs=5070)
    zone = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2)], crs=5070)
    res = screen(cands, [Within(layer="z", distance_m=0)], RuleContext({"z": zone}))
    assert res.frame["within_z__value"].iloc[0] == 0
