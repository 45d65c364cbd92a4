"""Rules that cannot be judged are errors, in `validate` and `run` (issue 15 item 7), never a silent pass."""

from __future__ import annotations

import copy

import geopandas as gpd
import pyogrio
import pytest
import yaml
from paths import cli
from shapely import box

import siting
from siting.core.errors import ScenarioError


def _no_gap_parcels(tmp_path):
    geoms = [box(-117.3 + i * .1, 38.0, -117.25 + i * .1, 38.05) for i in range(4)]
    frame = gpd.GeoDataFrame({"Mang_Name": ["BLM", "BLM", "USFS", "FWS"], "Unit_Nm": list("abcd"),
                              "OBJECTID": range(1, 5)}, geometry=geoms, crs=4326)
    path = tmp_path / "no_gap.gpkg"
    pyogrio.write_dataframe(frame, path)
    return path


def _scenario(tmp_path, constraints, name="s.yaml"):
    d = {"version": 1, "name": "t", "layers": {"parcels": {"path": str(_no_gap_parcels(tmp_path)),
                                                            "source": "padus"}},
         "constraints": constraints}
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


@pytest.mark.parametrize("policy, sites", [("pass", 4), ("fail", 0)])
def test_missing_policy_decides_and_is_stated(tmp_path, caplog, policy, sites):
    path = _scenario(tmp_path, [{"rule": "gap_status_not_in", "values": [1, 2], "missing": policy}])
    with caplog.at_level("WARNING", logger="siting"):
        result = siting.run(path, progress=False)
    assert len(result.sites) == sites
    assert f"4 of 4 candidate(s) have no gap_status; they {policy} (missing: {policy})" in caplog.text
    assert result.rules.loc[0, "description"] == "GAP status not in [1, 2]"


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


def test_a_rule_on_a_field_the_layer_lacks_fails_the_run_too(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["constraints"][-1]["where"] = "kv >= 115"
    with pytest.raises(ScenarioError, match=r"rule within_substations filters substations on kv, which layer "
                                            r"substations does not have"):
        siting.run(d, progress=False)
