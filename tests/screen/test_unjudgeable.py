"""Rules that cannot be judged are errors, in `validate` and `run` (issue 15 item 7), never a silent pass."""

from __future__ import annotations

import copy
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from paths import cli
from shapely import box

import siting
from siting.candidates.parcels import candidates_from_parcels
from siting.core.engine import merge_screenings
from siting.core.errors import ScenarioError, SitingWarning
from siting.screen.constraints import screen
from siting.screen.rule_base import RuleContext
from siting.screen.rules import AgencyIn, GapStatusNotIn, RasterMax


def _no_gap_parcels(tmp_path):
    geoms = [box(-117.3 + i * .1, 38.0, -117.25 + i * .1, 38.05) for i in range(4)]
    frame = gpd.GeoDataFrame({"Mang_Name": ["BLM", "BLM", "USFS", "FWS"], "Unit_Nm": list("abcd"),
                              "OBJECTID": range(1, 5)}, geometry=geoms, crs=4326)
    path = tmp_path / "no_gap.gpkg"
    pyogrio.write_dataframe(frame, path)
    return path


def _scenario(tmp_path, constraints, name="s.yaml", factors=()):
    d = {"version": 1, "name": "t", "layers": {"parcels": {"path": str(_no_gap_parcels(tmp_path)),
                                                            "source": "padus"}},
         "constraints": constraints, "factors": list(factors)}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(d))
    return path


def test_a_gap_rule_on_data_without_gap_status_is_an_error_in_run_and_validate(tmp_path):
    path = _scenario(tmp_path, [{"rule": "gap_status_not_in", "values": [1, 2]}])
    with pytest.raises(ScenarioError, match=r"gap_status_not_in reads gap_status, which is missing \(NA\) on every "
                                            r"one of the 4 parcels.*missing: pass"):
        siting.run(path, progress=False)
    r = cli("validate", path)
    assert r.returncode == 1 and "missing (NA) on every one of the 4 parcels" in r.stdout + r.stderr


def test_an_attribute_factor_on_a_field_na_on_every_parcel_is_an_error_in_run_and_validate(tmp_path):
    path = _scenario(tmp_path, [], factors=[{"name": "gap", "attribute": "gap_status",
                                             "transform": {"categorical": {"map": {"3": 1, "4": 0.5}}}}])
    said = r"factor 'gap' reads 'gap_status', which is missing \(NA\) on every one of the 4 features of layer 'parcels'"
    with pytest.raises(ScenarioError, match=said):
        siting.run(path, progress=False)
    r = cli("validate", path)
    assert r.returncode == 1 and "is missing (NA) on every one of the 4 features" in r.stdout + r.stderr


@pytest.mark.parametrize("policy, sites", [("pass", 4), ("fail", 0)])
def test_missing_policy_decides_and_is_stated(tmp_path, policy, sites):
    path = _scenario(tmp_path, [{"rule": "gap_status_not_in", "values": [1, 2], "missing": policy}])
    with pytest.warns(SitingWarning) as caught:
        result = siting.run(path, progress=False)
    assert len(result.sites) == sites
    said = [str(w.message) for w in caught if str(w.message).startswith("rule gap_status_not_in")]
    assert said == [f"rule gap_status_not_in: 4 of the 4 candidates it judged have no gap_status; they {policy} "
                    f"(missing: {policy})"]
    emptied = [str(w.message) for w in caught if "candidates were excluded" in str(w.message)]
    assert emptied == ([] if sites else ["all 4 candidates were excluded; rule 'gap_status_not_in' (GAP status not in "
                                         "[1, 2]) removed the last 4; relax it or check its layer"])
    assert result.funnel.set_index("rule").loc["gap_status_not_in", "candidates_no_data"] == 4
    assert result.rules.loc[0, "description"] == "GAP status not in [1, 2]"
    why = result.explain(result.candidates["candidate_id"].iloc[0]).set_index("name").loc["gap_status_not_in"]
    assert pd.isna(why["value"]) and why["passed"] == (policy == "pass")
    assert why["note"].startswith("no data to judge") and why["note"].endswith(f"decided by missing: {policy}")


def _half_raster():
    """A 1 km slope raster over the west 25 km of the grid parcels (x 0-25 km); the rest is off it."""
    from affine import Affine

    from siting.geo.raster import Raster

    vals = np.ones((10, 25), dtype="float32")
    return Raster(np.ma.masked_invalid(vals), Affine(1000, 0, 0, 0, -1000, 10_000), "EPSG:5070", "s")


@pytest.mark.parametrize("policy", ["fail", "pass"])
def test_a_raster_rule_without_data_under_some_candidates_warns_with_the_count(grid_parcels, policy):
    rule = RasterMax(raster="s", stat="mean", value=5, missing=policy)
    cands = candidates_from_parcels(grid_parcels)
    with pytest.warns(SitingWarning) as caught:
        res = screen(cands, [rule], RuleContext(rasters={"s": _half_raster()}))
    values = res.frame["raster_max_s__value"].to_numpy(float)
    off = int(np.isnan(values).sum())
    assert off == 3  # the two eastern squares lie wholly off the raster, the middle one half
    assert [str(w.message) for w in caught] == [
        f"rule raster_max_s: {off} of the 5 candidates it judged have s data on less than 90% of their area (off "
        f"the raster or nodata); they {policy} (missing: {policy}; min_coverage sets the share)"]
    assert res.funnel["candidates_no_data"].tolist() == [0, off]
    assert res.frame["raster_max_s__pass"].to_numpy()[np.isnan(values)].tolist() == [policy == "pass"] * off


def test_a_raster_rule_judges_a_site_only_on_enough_of_its_area(grid_parcels):
    # the middle square (20-30 km) is half on the raster: its max over the half it has is not the site's max, so
    # by default it is not judged; min_coverage lowers the share the rule needs
    cands = candidates_from_parcels(grid_parcels)
    ctx = RuleContext(rasters={"s": _half_raster()})
    with pytest.warns(SitingWarning):
        strict = screen(cands, [RasterMax(raster="s", stat="max", value=5)], ctx).frame
    with pytest.warns(SitingWarning):
        loose = screen(cands, [RasterMax(raster="s", stat="max", value=5, min_coverage=0.4)], ctx).frame
    half = strict["parcel_id"] == "p2"
    assert np.isnan(strict.loc[half, "raster_max_s__value"]).all() and not strict.loc[half, "raster_max_s__pass"].any()
    assert loose.loc[loose["parcel_id"] == "p2", "raster_max_s__value"].tolist() == [1.0]
    assert loose.loc[loose["parcel_id"] == "p2", "raster_max_s__pass"].tolist() == [True]


def test_the_no_data_count_is_of_the_candidates_still_in(grid_parcels):
    cands = candidates_from_parcels(grid_parcels).assign(gap_status=[3, None, 3, None, 4])
    rules = [AgencyIn(values=["BLM", "DOD"]), GapStatusNotIn(values=[1, 2], missing="fail")]
    with pytest.warns(SitingWarning, match=r"gap_status_not_in: 1 of the 3 candidates it judged have no gap_status"):
        res = screen(cands, rules)
    assert res.funnel["candidates_no_data"].tolist() == [0, 0, 1]  # the NPS one left at agency_in
    assert res.frame["gap_status_not_in__value"].isna().sum() == 2  # the ledger holds both


def test_partitions_warn_once_with_the_whole_count(grid_parcels):
    """The Dask engine screens partitions quietly and warns from their merge, with the summed count."""
    cands = candidates_from_parcels(grid_parcels)
    rules = [RasterMax(raster="s", stat="mean", value=5)]
    ctx = RuleContext(rasters={"s": _half_raster()})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a partition that warned would fail here
        parts = [screen(cands.iloc[:3], rules, ctx, whole=False), screen(cands.iloc[3:], rules, ctx, whole=False)]
    with pytest.warns(SitingWarning) as caught:
        merged = merge_screenings(parts, rules)
    said = "3 of the 5 candidates it judged have s data on less than 90% of their area"
    assert len(caught) == 1 and said in str(caught[0].message)
    assert merged.funnel["candidates_no_data"].tolist() == [0, 3]


def test_a_filter_that_selects_nothing_is_an_error_naming_rule_layer_and_values(tmp_path, tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["constraints"].append({"rule": "outside", "layer": "parcels", "where": "agency == 'USFWS'", "buffer_m": 0})
    with pytest.raises(ScenarioError, match=r"outside_parcels: where \"agency == 'USFWS'\" selects none of the "
                                            r"[\d,]+ features of layer parcels \(agency: .*FWS"):
        siting.run(d, progress=False)
    d = copy.deepcopy(tiny_scenario)
    d["factors"][0]["where"] = "voltage_kv >= 5000"
    with pytest.raises(ScenarioError, match=r"factor 'power': where 'voltage_kv >= 5000' selects none"):
        siting.run(d, progress=False)


def test_a_filter_that_selects_nothing_because_of_case_says_how_the_layer_writes_it():
    # text is compared exactly (as in SQL and pandas); 'fws' against 'FWS' selected nothing with no word on why
    from siting.screen.where import filter_problems

    frame = pd.DataFrame({"agency": ["FWS", "BLM", "NPS"], "status": ["IN SERVICE", "PROPOSED", None]})
    said = filter_problems("agency in ['fws', 'Nps'] and status == 'in service'", [frame], "parcels", "rule r")
    assert len(said) == 1
    assert ("'Nps' is written 'NPS' there, 'fws' is written 'FWS' there, 'in service' is written 'IN SERVICE' "
            "there (text is compared exactly)") in said[0]
    assert "written" not in filter_problems("agency == 'USFWS'", [frame], "parcels", "rule r")[0]  # no such text
    assert filter_problems("agency == 'FWS'", [frame], "parcels", "rule r") == []  # the exact text selects


def test_a_rule_on_a_field_the_layer_lacks_fails_the_run_too(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["constraints"][-1]["where"] = "kv >= 115"
    with pytest.raises(ScenarioError, match=r"rule within_substations filters substations on kv, which layer "
                                            r"substations does not have"):
        siting.run(d, progress=False)


def _problems(d) -> tuple[list[str], list[str]]:
    """What ``siting validate`` reports as errors for the scenario ``d``, and what ``siting.run`` refuses."""
    from siting.core.checks import check_scenario

    report = check_scenario(copy.deepcopy(d))
    with pytest.raises(ScenarioError, match="cannot be judged on its data") as refused:
        siting.run(copy.deepcopy(d), progress=False)
    return str(refused.value).splitlines()[1:], [e.message for e in report.errors]


def test_commodities_that_select_no_deposit_are_an_error_naming_factor_layer_and_what_it_holds(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    feed = next(f for f in d["factors"] if "feedstock" in f)
    feed["commodities"] = ["helium"]  # a critical mineral no deposit of the demo's MRDS file holds
    d["factors"].append({"name": "helium_mine", "distance_to": "deposits", "commodities": ["helium"],
                         "critical_only": True})
    said, errors = _problems(d)
    for who, what in ((feed["name"], "commodities helium"), ("helium_mine", "commodities helium and critical only")):
        expected = f"factor '{who}': {what} select none of the 510 features of layer deposits (commodities there: "
        assert any(expected in m for m in said), said
        assert any(expected in e for e in errors), errors
    assert all("gold" in m for m in said)  # the commodities the layer does hold


def test_a_feedstock_layer_without_commodities_or_development_status_is_an_error_not_a_key_error(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    next(f for f in d["factors"] if "feedstock" in f).update(feedstock="towns", commodities=None)
    said, errors = _problems(d)
    for field in ("commodities", "dev_status"):
        expected = f"factor 'feedstock' reads the field '{field}', which layer 'towns' does not have; fields: "
        assert any(expected in m for m in said) and any(expected in e for e in errors)


def test_outside_a_point_layer_without_a_buffer_is_an_error_saying_to_give_one(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["constraints"] = [*d["constraints"], {"rule": "outside", "layer": "deposits"}]  # buffer_m forgotten
    said, errors = _problems(d)
    expected = "rule outside_deposits: layer 'deposits' holds points, and without `buffer_m` the rule removes only"
    assert any(expected in m for m in said) and any(expected in e for e in errors)
    assert not any("rule outside_towns" in m for m in said)  # a point layer with a buffer (3,000 m) is fine


def test_a_filter_comparing_text_with_a_number_is_an_error_saying_what_the_field_holds(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["factors"][0]["where"] = "status >= 5"  # substations' status is text ('IN SERVICE', ...)
    said, errors = _problems(d)
    expected = "factor 'power': layer 'substations': filter 'status >= 5': cannot compare values in filter"
    assert any(expected in m and "status holds text such as" in m for m in said), said
    assert any(expected in e for e in errors), errors
