"""Land that several parcel records cover is sited once, and not where any record over it fails a rule on its
attributes (PAD-US's Fee and Designation records over the same ground; agencies' outlines that disagree)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

from siting.core import settings
from siting.core.errors import SitingWarning
from siting.screen.overrides import Include
from siting.screen.rules import AgencyIn, GapStatusNotIn, MinArea, Outside, RuleContext
from siting.screen.shared_land import MIN_OVERLAP_M2, overlapping_pairs
from siting.screen.staged import Generator, screen_staged

ACRE = settings.M2_PER_ACRE


def _records() -> gpd.GeoDataFrame:
    """A BLM Fee record (10 x 10 km), a GAP 1 designation over its east half, a second BLM record over its
    north strip (two outlines that disagree), and a separate USFS record."""
    return gpd.GeoDataFrame(
        {"candidate_id": ["P-fee", "P-wild", "P-dup", "P-fs"], "parcel_id": ["fee", "wild", "dup", "fs"],
         "agency": ["BLM", "BLM", "BLM", "USFS"], "gap_status": [3, 1, 3, 3]},
        geometry=[box(0, 0, 10_000, 10_000), box(5_000, 0, 10_000, 10_000), box(0, 8_000, 10_000, 12_000),
                  box(20_000, 0, 30_000, 10_000)], crs=5070)


def _overlap_m2(geoms: np.ndarray) -> float:
    """Area two or more sites share, measured with shapely alone."""
    geoms = np.asarray(geoms, dtype=object)
    return float(shapely.area(geoms).sum() - shapely.union_all(geoms).area)


@pytest.mark.parametrize("generator", [Generator("grid", {"cell_acres": 320, "shape": "square"}),
                                       Generator("parts", {}),
                                       Generator("pack", {"footprint_acres": 320, "spacing_m": 100})])
def test_no_site_lies_on_land_a_failing_record_covers_and_none_overlap(generator):
    units = _records()
    with pytest.warns(SitingWarning, match=r"3 pairs of records overlap.*fails gap_status_not_in"):
        res = screen_staged(units, [AgencyIn(values=["BLM", "USFS"]), GapStatusNotIn(values=[1, 2])],
                            generator=generator)
    sites = res.frame[res.frame["eligible"]].geometry.values
    wild = units.geometry.iloc[1]
    assert len(sites) >= 3
    assert shapely.area(shapely.intersection(sites, wild)).max() < 1.0
    assert _overlap_m2(sites) < 1.0
    held = shapely.union_all([units.geometry.iloc[0].difference(wild), units.geometry.iloc[2].difference(wild),
                              units.geometry.iloc[3]])  # the land the rules leave, the fee's west half once
    used = shapely.area(sites).sum() / held.area
    if generator.method != "pack":  # all but cells' slivers at the land's edges, parts' corners rounded by the opening
        assert 0.999 < used <= 1 + 1e-9


def test_the_funnel_counts_the_land_held_once_and_balances():
    units = _records()
    with pytest.warns(SitingWarning):
        res = screen_staged(units, [AgencyIn(values=["BLM", "USFS"]), GapStatusNotIn(values=[1, 2])],
                            generator=Generator("grid", {"cell_acres": 320, "shape": "square"}))
    f = res.funnel.set_index("rule")
    row = f.loc["shared_land"]
    g = units.geometry.to_numpy()
    ruled_out = (g[0].intersection(g[1]).area + g[2].intersection(g[1]).area) / ACRE  # from each BLM record
    twice = g[0].intersection(g[2]).difference(g[1]).area / ACRE  # the two BLM records' common land, once
    assert row["stage"] == "land" and row["candidates_in"] == 3
    assert row["acres_removed"] == pytest.approx(ruled_out + twice, rel=1e-9)
    assert row["acres_out"] == pytest.approx(f.loc["grid", "acres_in"], rel=1e-12)
    assert f.loc["grid", "candidates_in"] == row["candidates_out"]
    assert (res.funnel["acres_in"] - res.funnel["acres_removed"] - res.funnel["acres_out"]).abs().max() < 1e-6


def test_the_record_listed_first_holds_land_covered_twice():
    units = _records().iloc[[2, 0]].reset_index(drop=True)  # the strip first
    with pytest.warns(SitingWarning, match="kept once, in the record listed first"):
        res = screen_staged(units, [AgencyIn(values=["BLM"])], generator=Generator("parts", {}))
    land = res.land.set_index("unit_id").geometry
    assert land["P-dup"].area == pytest.approx(units.geometry.iloc[0].area, rel=1e-12)
    assert land["P-fee"].area == pytest.approx(units.geometry.iloc[1].difference(units.geometry.iloc[0]).area,
                                               rel=1e-12)


def test_an_include_keeps_its_land_whatever_a_record_over_it_says():
    units = _records()
    keep = Include(parcels=["fee"], rules=["gap_status_not_in"], reason="designation under review")
    rules = [AgencyIn(values=["BLM", "USFS"]), GapStatusNotIn(values=[1, 2]).with_includes([keep]), keep]
    with pytest.warns(SitingWarning):
        res = screen_staged(units, rules, generator=Generator("parts", {}))
    land = res.land.set_index("unit_id").geometry
    assert land["P-fee"].area == pytest.approx(units.geometry.iloc[0].area, rel=1e-12)  # the east half kept
    assert land["P-dup"].area == pytest.approx(units.geometry.iloc[2].difference(units.geometry.iloc[0]).difference(
        units.geometry.iloc[1]).area, rel=1e-9)  # the strip: ruled out where the designation covers it, not held


def test_land_rules_that_cut_land_do_not_rule_out_other_records():
    units = _records()
    towns = gpd.GeoDataFrame(geometry=[box(4_000, 0, 11_000, 13_000)], crs=5070)  # the whole designation
    with pytest.warns(SitingWarning) as caught:
        res = screen_staged(units, [Outside(layer="towns")], RuleContext({"towns": towns}),
                            generator=Generator("parts", {}))
    said = " ".join(str(w.message) for w in caught)
    assert "fails" not in said  # the designation failed `outside` (no land left): that says nothing of the ground
    g = units.geometry.to_numpy()
    left = shapely.union_all([g[0], g[2], g[3]]).difference(towns.geometry.iloc[0])
    assert res.land.area.sum() == pytest.approx(left.area, rel=1e-9)


def test_overlaps_below_a_square_metre_are_touching_and_change_nothing():
    units = gpd.GeoDataFrame({"candidate_id": ["P-a", "P-b"], "agency": ["BLM", "BLM"]},
                             geometry=[box(0, 0, 1_000, 1_000), box(999.9995, 0, 2_000, 1_000)], crs=5070)
    assert 0 < units.geometry.iloc[0].intersection(units.geometry.iloc[1]).area < MIN_OVERLAP_M2
    with warnings.catch_warnings():
        warnings.simplefilter("error", SitingWarning)
        res = screen_staged(units, [AgencyIn(values=["BLM"]), MinArea(acres=1)], generator=Generator("parts", {}))
    assert "shared_land" not in res.funnel["rule"].tolist()
    assert res.land.geometry.tolist() == units.geometry.tolist()  # the same outlines, to the last bit


def test_overlapping_pairs_ignore_touching_missing_and_empty_outlines():
    geoms = np.array([box(0, 0, 2, 2), box(2, 0, 4, 2), None, shapely.Polygon(), box(1, 1, 3, 3),
                      box(0, 0, 2, 2)], dtype=object)
    i, j = overlapping_pairs(geoms)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 4), (0, 5), (1, 4), (4, 5)]
    assert overlapping_pairs(geoms, min_overlap_m2=2.0)[0].tolist() == [0]  # only the duplicate covers 4 m2


@pytest.mark.realdata
@pytest.mark.slow  # 13 s: the real outlines' overlaps, a grid on them and the oracle's own reading
def test_real_padus_records_that_overlap_give_disjoint_cells_off_failing_land(realdata):
    from siting.io.layers import load_layer

    path = realdata / "padus_fee_managers_norcal" / "padus_fee_managers_siskiyou.geojson"
    parcels = load_layer(path, name="parcels", source="padus").frame.to_crs(5070)
    units = parcels.assign(candidate_id="P-" + parcels["parcel_id"].astype(str))
    with pytest.warns(SitingWarning, match="fails agency_in"):
        res = screen_staged(units, [AgencyIn(values=["BLM", "USFS"])],
                            generator=Generator("grid", {"cell_acres": 20_000, "shape": "square"}))
    cells = res.frame[res.frame["eligible"]].geometry.to_numpy()
    raw = gpd.read_file(path)  # the file itself, not siting's reading of it; edges straight in lon/lat (20 m steps)
    raw = raw.set_geometry(shapely.segmentize(shapely.make_valid(raw.geometry.values), 0.0002)).to_crs(5070)
    other = shapely.union_all(raw.loc[~raw["Mang_Name"].isin(["BLM", "USFS"])].geometry.values)
    assert len(cells) > 100
    assert shapely.area(shapely.intersection(cells, other)).max() < 1.0  # none on tribal, NPS or FWS land
    assert _overlap_m2(cells) < 1.0 * len(cells)
