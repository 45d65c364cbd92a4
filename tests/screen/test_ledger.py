"""The long ledger is made when first read: counted before, the same entries as the candidates' columns after."""

import copy
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from siting.screen.constraints import ledger_columns, screen
from siting.screen.ledger import from_outcomes
from siting.screen.rule_base import Outcome
from siting.screen.rules import AgencyIn, MinArea
from siting.screen.staged import Generator, screen_staged


def _units() -> gpd.GeoDataFrame:
    agencies = ["BLM", "NPS", "BLM", "USFS"]
    return gpd.GeoDataFrame({"candidate_id": [f"P-{i}" for i in range(4)], "parcel_id": [str(i) for i in range(4)],
                             "agency": agencies},
                            geometry=[box(i * 20_000, 0, i * 20_000 + 5_500, 4_200) for i in range(4)], crs=5070)


def _entries_match_columns(ledger: pd.DataFrame, frame: pd.DataFrame, label: str) -> None:
    rows = ledger[ledger["rule"] == label].set_index("candidate_id")
    wide = frame.set_index("candidate_id")
    rows = rows.loc[wide.index]
    value, threshold, passed = ledger_columns(label)
    assert (rows["passed"].to_numpy(bool) == wide[passed].to_numpy(bool)).all()
    assert (rows["value"].astype(str).to_numpy() == wide[value].astype(str).to_numpy()).all()
    assert (rows["threshold"].astype(str).to_numpy() == wide[threshold].astype(str).to_numpy()).all()


def test_a_screening_makes_its_long_ledger_only_when_read():
    res = screen(_units(), [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=10)])
    assert not res.long_ledger.built and len(res.long_ledger) == 2 * 4
    led = res.ledger
    assert res.long_ledger.built and res.ledger is led and len(led) == 8
    for label in ("agency_in", "min_area"):
        _entries_match_columns(led, res.frame, label)


def test_the_ledger_is_made_of_copies_of_the_outcomes():
    oc = Outcome(value=np.array([12.0, 3.0]), passed=np.array([True, False]), op=">=", threshold=5.0,
                 measure="area (acres)", override=np.array(["", ""], dtype=object))
    led = from_outcomes(np.array(["a", "b"], dtype=object), ["min_area"], [oc])
    oc.value[0], oc.passed[0], oc.override[1] = -1.0, False, "changed"  # changed after screening, before reading
    assert led.frame["value"].tolist() == [12.0, 3.0] and led.frame["passed"].tolist() == [True, False]
    assert led.frame["override"].tolist() == ["", ""]


def test_a_staged_ledger_counts_and_inherits_its_land_rows():
    res = screen_staged(_units(), [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=1_000)],
                        generator=Generator("grid", {"cell_acres": 640, "shape": "square"}))
    counted = len(res.long_ledger)
    assert not res.long_ledger.built
    led = res.ledger
    cells = res.frame[res.frame["candidate_id"].astype(str).str.startswith("P-").__invert__()]
    rejected = res.frame[res.frame["candidate_id"].astype(str).str.startswith("P-")]
    assert len(cells) > 4 and set(rejected["candidate_id"]) == {"P-1"}
    assert counted == len(led) == len(rejected) + 2 * len(cells)  # a land row per unit or cell, a site row per cell
    land = led[led["rule"] == "agency_in"].set_index("candidate_id")
    assert land.loc["P-1", "passed"] == False  # noqa: E712  (a numpy bool)
    assert land.loc[cells["candidate_id"], "passed"].all()  # each cell inherits its land unit's entry
    assert set(land.loc[cells["candidate_id"], "value"]) == {"BLM", "USFS"}
    _entries_match_columns(led, cells, "min_area")
    assert res.long_ledger.applies == {"agency_in": (4, True), "min_area": (len(cells), True)}


@pytest.mark.slow  # a tiny run saved whole (7 s)
def test_a_run_saved_without_its_ledger_never_makes_it(tmp_path, tiny_scenario):
    import copy
    import json

    import siting

    scenario = copy.deepcopy(tiny_scenario)
    scenario.update(analysis={}, outputs={**scenario.get("outputs", {}), "formats": ["gpkg"], "gpkg_max_rows": 10})
    result = siting.run(scenario, progress=False)
    result.save(tmp_path / "out")
    assert not result.long_ledger.built  # counted, judged too big for the GeoPackage, never made
    notes = json.loads((tmp_path / "out" / "run.json").read_text())["notes"]
    assert any(f"long-form ledger ({len(result.long_ledger):,} rows" in n for n in notes)
    assert len(result.ledger) == len(result.long_ledger) > 10  # and made when asked


def _same_rows(part: pd.DataFrame, whole: pd.DataFrame, candidate_id: str) -> None:
    want = whole[(whole["candidate_id"] == candidate_id).to_numpy(bool)]
    assert len(part) == len(want) > 0
    got, want = (f.astype(object).reset_index(drop=True) for f in (part, want))
    assert list(got.columns) == list(want.columns)
    assert got.fillna("<NA>").equals(want.fillna("<NA>"))


def test_one_candidates_rows_come_without_making_the_ledger():
    res = screen_staged(_units(), [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=1_000)],
                        generator=Generator("grid", {"cell_acres": 640, "shape": "square"}))
    ids = ["P-1", *res.frame["candidate_id"].astype(str)]  # a rejected land unit, then every candidate
    parts = {cid: res.long_ledger.rows_of(cid) for cid in ids}
    assert not res.long_ledger.built
    whole = res.ledger
    for cid, part in parts.items():
        _same_rows(part, whole, cid)
    assert len(res.long_ledger.rows_of("no such id")) == 0


def test_joined_ledgers_give_one_candidates_rows_in_rule_order():
    from siting.screen.ledger import joined

    halves = [screen(_units().iloc[k:k + 2], [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=10)])
              for k in (0, 2)]
    led = joined([h.long_ledger for h in halves], ["agency_in", "min_area"])
    parts = {cid: led.rows_of(cid) for cid in _units()["candidate_id"]}
    assert not led.built and not any(h.long_ledger.built for h in halves)
    for cid, part in parts.items():
        assert part["rule"].astype(str).tolist() == ["agency_in", "min_area"]
        _same_rows(part, led.frame, cid)


def test_an_unmade_ledger_pickles_with_its_way_to_one_candidates_rows():
    import pickle

    from siting.screen.ledger import from_wide, joined

    halves = [screen(_units().iloc[k:k + 2], [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=10)])
              for k in (0, 2)]
    led = joined([h.long_ledger for h in halves], ["agency_in", "min_area"])
    wide = from_wide(halves[0].frame, pd.DataFrame({"rule": ["agency_in"], "measure": ["agency"], "op": ["in"]}))
    staged = screen_staged(_units(), [AgencyIn(values=["BLM", "USFS"]), MinArea(acres=1_000)],
                           generator=Generator("grid", {"cell_acres": 640, "shape": "square"})).long_ledger
    for ledger in (led, wide, staged):  # a result is pickled by Dask and by users
        back = pickle.loads(pickle.dumps(ledger))
        assert not back.built and len(back) == len(ledger)
        cid = str(ledger.frame["candidate_id"].iloc[-1])
        _same_rows(back.rows_of(cid), ledger.frame, cid)


def test_explain_reads_one_candidate_without_making_the_ledger(tiny_scenario):
    import siting

    result = siting.run({**tiny_scenario, "analysis": {}}, progress=False)  # a fresh run: its ledger not made
    site = result.sites["site_id"].iloc[0]
    explained = result.explain(site)
    assert not result.long_ledger.built
    rules = explained[explained["kind"] == "rule"]
    whole = result.ledger
    assert rules["name"].astype(str).tolist() == whole.loc[whole["candidate_id"] == site, "rule"].astype(str).tolist()
    assert rules["passed"].astype(bool).all()  # a site passed every rule


@pytest.fixture(scope="module")
def saved_without_ledger(tmp_path_factory, tiny_scenario):
    """The tiny run, and where it was saved with too many ledger rows to write (``gpkg_max_rows: 10``)."""
    import siting

    scenario = copy.deepcopy(tiny_scenario)
    scenario.update(analysis={}, outputs={**scenario.get("outputs", {}), "formats": ["gpkg"], "gpkg_max_rows": 10})
    result = siting.run(scenario, progress=False)
    return result, result.save(tmp_path_factory.mktemp("saved") / "out")


def test_a_saved_run_without_its_ledger_explains_from_the_candidates_columns(saved_without_ledger):
    import siting

    result, out = saved_without_ledger
    back = siting.load_result(out)
    assert len(back.long_ledger) == len(result.long_ledger) > 10 and not back.long_ledger.built
    site = str(result.sites["site_id"].iloc[0])
    assert back.explain(site).astype(str).equals(result.explain(site).astype(str))

    def entries(ledger: pd.DataFrame) -> pd.DataFrame:
        cols = ["candidate_id", "rule", "measure", "value", "op", "threshold", "passed", "override", "applies"]
        out = ledger[cols].astype(str)
        return out.sort_values(["candidate_id", "rule"], kind="stable").reset_index(drop=True)

    assert entries(back.ledger).equals(entries(result.ledger))  # every entry, made from the wide columns


def test_an_older_saved_run_without_ledger_or_rule_measures_says_so_when_explaining(saved_without_ledger, tmp_path):
    import siting

    result, saved = saved_without_ledger
    out = Path(shutil.copytree(saved, tmp_path / "older"))
    run = json.loads((out / "run.json").read_text())
    run["rules"] = [{k: v for k, v in r.items() if k not in ("measure", "op")} for r in run["rules"]]
    (out / "run.json").write_text(json.dumps(run))  # as an older siting wrote it
    back = siting.load_result(out)
    site = str(result.sites["site_id"].iloc[0])
    with pytest.raises(KeyError, match=r"is a candidate, but this result's ledger holds no entries for it.*run the "
                                       r"scenario again"):
        back.explain(site)
    with pytest.raises(KeyError, match="'nowhere' is not a candidate id"):
        back.explain("nowhere")
