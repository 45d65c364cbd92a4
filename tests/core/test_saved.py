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


def test_a_loaded_result_holds_repeated_text_as_the_run_did(demo_result, demo_out):
    # a run keeps repeated text (agency, unit names, tiers, reasons) as categoricals; loading it back
    # gives the same columns as categoricals with the same values, not a Python string per row
    back = siting.load_result(demo_out)
    for run, loaded, key in [(demo_result.sites, back.sites, "site_id"),
                             (demo_result.candidates, back.candidates, "candidate_id")]:
        cats = {c for c in run.columns if isinstance(run[c].dtype, pd.CategoricalDtype)
                and run[c].nunique() <= len(run) // 2}  # repeated_text's rule (a run may keep more)
        assert len(cats) >= 5
        assert cats <= {c for c in loaded.columns if isinstance(loaded[c].dtype, pd.CategoricalDtype)}
        run, loaded = run.set_index(key), loaded.set_index(key)
        for c in cats - {key}:
            assert loaded[c].astype(object).tolist() == run[c].loc[loaded.index].astype(object).tolist(), c


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
