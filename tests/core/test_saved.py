"""load_result: a saved folder gives back the result that was saved (the one source for deliverables)."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import siting


def test_the_demo_folder_gives_back_its_result(demo_result, demo_out):
    back = siting.load_result(demo_out)
    assert back.sites["site_id"].tolist() == demo_result.sites["site_id"].tolist()
    assert back.sites["score"].to_numpy() == pytest.approx(demo_result.sites["score"].to_numpy())
    pd.testing.assert_frame_equal(back.funnel, demo_result.funnel, check_dtype=False)
    assert sorted(back.layers) == sorted(demo_result.layers)
    assert {k: len(v) for k, v in back.layers.items()} == {k: len(v) for k, v in demo_result.layers.items()}
    assert list(back.rule_objects) == list(demo_result.rule_objects)
    assert back.rules["rule"].tolist() == demo_result.rules["rule"].tolist()
    assert back.summary()["eligible_acres"] == pytest.approx(demo_result.summary()["eligible_acres"])
    assert set(back.analysis) == set(demo_result.analysis)


@pytest.mark.slow
def test_layer_names_that_look_like_a_family_split_survive(tmp_path, tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["layers"]["power_line"] = d["layers"].pop("transmission")
    d["factors"] = [f for f in d["factors"] if f.get("distance_to") != "transmission"]
    for f in d["factors"]:
        if "permitting" in f:
            f["permitting"]["infrastructure"] = ["substations", "power_line"]
    result = siting.run(d, progress=False)
    back = siting.load_result(result.save(tmp_path / "out", formats=["gpkg"]))
    assert sorted(back.layers) == sorted(result.layers) and "power_line" in back.layers


def test_a_saved_result_draws_its_map_with_the_failure_layers(demo_result, demo_out):
    # the saved ledger columns are nullable booleans (NA where an earlier stage rejected the parcel)
    html = siting.load_result(demo_out).map(tiles=None).get_root().render()
    for label in ("agency_in", "within_substations"):
        failed = int((~demo_result.candidates[f"{label}__pass"].astype("boolean").fillna(True)).sum())
        assert f"Failed {label} ({failed:,})" in html
