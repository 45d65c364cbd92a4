"""DoD and DOE land as its own candidate class with its own rules (issue 19 item 4)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import siting
from siting.core.errors import ScenarioError, SitingWarning
from siting.core.scenario import load_scenario
from siting.score.relaxation import relaxation
from siting.screen.constraints import screen
from siting.screen.rules import MinArea

DOD_DOE = "agency in ['DOD', 'DOE']"


@pytest.fixture(scope="module")
def classed(tiny_scenario):
    """The tiny scenario with a dod_doe class: the substation rule is 50 km for other land, 150 km for DoD/DOE.
    A class no parcel has and a rule whose applies_to has a typo ride along (their warnings are kept)."""
    d = copy.deepcopy(tiny_scenario)
    d["candidates"]["classes"] = {"dod_doe": DOD_DOE, "tva": "agency == 'TVA'"}
    within = next(r for r in d["constraints"] if r["rule"] == "within")
    others = {**within, "applies_to": "candidate_class != 'dod_doe'"}
    dod = {**within, "id": "within_substations_dod", "distance_m": 150_000,
           "applies_to": "candidate_class == 'dod_doe'"}
    typo = {"rule": "min_area", "acres": 1, "applies_to": "candidate_class == 'dod-doe'"}
    d["constraints"] = [r for r in d["constraints"] if r is not within] + [others, dod, typo]
    d["analysis"] = {}
    with pytest.warns(SitingWarning) as caught:
        result = siting.run(d, progress=False)
    result.meta["warnings_said"] = " ".join(str(w.message) for w in caught)
    return result


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_every_candidate_gets_its_class(classed):
    c = classed.candidates
    assert set(c["candidate_class"]) == {"dod_doe", "other"}  # no parcel is TVA's
    assert (c["candidate_class"] == np.where(c["agency"].isin(["DOD", "DOE"]), "dod_doe", "other")).all()
    assert set(classed.sites["candidate_class"]) <= {"dod_doe", "other"}


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_each_class_is_judged_by_its_own_rule(classed, tiny_result):
    ledger = classed.ledger
    c = classed.candidates.set_index("candidate_id")
    for rule, cls, limit in (("within_substations", "other", 50_000), ("within_substations_dod", "dod_doe", 150_000)):
        rows = ledger[ledger["rule"] == rule].set_index("candidate_id")
        mine = c.loc[rows.index, "candidate_class"] == cls
        assert rows.loc[mine.to_numpy(), "applies"].all() and not rows.loc[~mine.to_numpy(), "applies"].any()
        judged = rows[mine.to_numpy()]
        assert (judged["passed"] == (judged["value"].astype(float) <= limit)).all()
        assert rows.loc[~mine.to_numpy(), "passed"].all() and rows.loc[~mine.to_numpy(), "value"].isna().all()
    description = classed.funnel.set_index("rule").loc["within_substations_dod", "description"]
    assert description.endswith("[applies where candidate_class == 'dod_doe']")
    was_dod = tiny_result.sites["agency"].isin(["DOD", "DOE"])
    now = classed.sites["candidate_class"]
    assert (now == "dod_doe").sum() > was_dod.sum() and (now == "other").sum() == (~was_dod).sum()


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_relaxing_a_class_rule_at_its_own_value_gains_nothing(classed):
    value = classed.rule_objects["within_substations_dod"].parameter_value()
    table = classed.relaxation("within_substations_dod", [value])  # a land rule here: the land is screened again
    assert table["sites_gained"].tolist() == [0]


def test_a_site_rule_for_one_class_is_re_decided_only_there(grid_parcels):
    rule = MinArea(acres=30_000, applies_to="agency == 'DOD'")  # the 10 km squares have 24,711 acres
    s = screen(grid_parcels.assign(candidate_id=grid_parcels["parcel_id"]), [rule])
    assert s.frame["eligible"].tolist() == [True, True, True, True, False]
    table = relaxation(s.frame, s.applied, "min_area", [30_000, 20_000])
    assert table["sites"].tolist() == [4, 5]


def test_classes_and_applies_to_are_checked(tiny_scenario):
    d = copy.deepcopy(tiny_scenario)
    d["candidates"]["classes"] = {"other": DOD_DOE}
    with pytest.raises(ScenarioError, match="not 'other'"):
        load_scenario(d)
    d = copy.deepcopy(tiny_scenario)
    d["constraints"] = [{**d["constraints"][0], "applies_to": "kind == 'x'"}]
    d["analysis"] = {}
    with pytest.raises(ScenarioError, match="applies_to reads kind"):
        siting.run(d, progress=False)


@pytest.mark.slow  # a whole run of its own (about 6 s): CI runs it with the slow tests
def test_a_class_or_applies_to_that_selects_nothing_is_said(classed):
    said = classed.meta["warnings_said"]
    assert "class 'tva' has none of the" in said and "rule min_area applies to none of the" in said
