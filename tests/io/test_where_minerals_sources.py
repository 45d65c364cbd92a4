"""Safe filters, the minerals catalog, and the dataset adapters."""

from __future__ import annotations

import pandas as pd
import pytest

from siting.core.errors import FieldError, ScenarioError
from siting.io import minerals
from siting.io.sources import Context, available, detect, get
from siting.io.sources.agencies import to_agency
from siting.screen import where


@pytest.mark.parametrize("expr", ["__import__('os')", "a.b > 1", "f(x)", "a[0] == 1", "lambda: 1",
                                  "(x := 1)", "a if b else c"])
def test_filters_refuse_code(expr):
    with pytest.raises(ScenarioError):
        where.validate(expr)


def test_filter_semantics_and_missing_field():
    df = pd.DataFrame({"kv": [69.0, 115.0, None], "s": ["A", None, "B"]})
    assert where.evaluate("kv >= 115", df).tolist() == [False, True, False]
    assert where.evaluate("s != 'A'", df).tolist() == [False, False, True]
    assert where.evaluate("60 < kv < 100", df).tolist() == [True, False, False]
    assert where.evaluate("s not in ['A']", df).tolist() == [False, True, True]
    with pytest.raises(FieldError, match="available fields: kv, s"):
        where.evaluate("volt > 1", df, layer="lines")


def test_critical_lists_and_groups_from_package_data():
    assert len(minerals.critical_minerals(2022)) == 50
    assert len(minerals.critical_minerals(2025)) == 60
    added = set(minerals.critical_minerals(2025)) - set(minerals.critical_minerals(2022))
    assert added == {"boron", "copper", "lead", "metallurgical coal", "phosphate", "potash",
                     "rhenium", "silicon", "silver", "uranium"}
    china = minerals.expand(["china_export_controls"])
    assert {"tungsten", "tellurium", "bismuth", "indium", "molybdenum", "gallium", "germanium",
            "antimony", "graphite", "dysprosium"} <= china
    assert list(minerals.list_sources()["count"]) == [50, 60]


@pytest.mark.parametrize("text,expected", [
    ("Gold, Silver", ["gold", "silver"]),
    ("AU AG CU", ["gold", "silver", "copper"]),
    ("W", ["tungsten"]),
    ("lithium; potash; boron", ["lithium", "potash", "boron"]),
    ("REE, Thorium", ["rare earths", "thorium"]),
    ("PGE_PT PGE_PD", ["platinum", "palladium"]),
    ("Sand and Gravel, Construction", ["sand and gravel"]),
    ("", []),
])
def test_parse_commodities(text, expected):
    assert minerals.parse_commodities(text) == expected


def test_a_commodity_selection_goes_by_row_not_by_index_label():
    # two layers joined with pd.concat keep their indexes: rows 0 of each share the label 0, and a gold row must
    # not be selected because a tungsten row has its label
    a = pd.DataFrame({"commodities": ["gold", "silver"]})
    b = pd.DataFrame({"commodities": ["tungsten", "gold;tungsten"]})
    joined = pd.concat([a, b])
    assert joined.index.tolist() == [0, 1, 0, 1]
    picked = minerals.has_any(joined["commodities"], ["tungsten"])
    assert picked.tolist() == [False, False, True, True]
    assert picked.tolist() == minerals.has_any(joined["commodities"].reset_index(drop=True), ["tungsten"]).tolist()


def test_unknown_commodity_in_selection_is_an_error():
    with pytest.raises(ScenarioError, match="unknown"):
        minerals.expand(["unobtainium"])


def test_agency_vocabulary():
    got = to_agency(["BLM", "Bureau of Land Management", "Army Corps of Engineers", "USAF",
                     "Fish and Wildlife Service", "Department of Energy", "Bureau of Reclamation",
                     "National Park Service", "Forest Service", "SLB", "TRIB", "xyz"]).tolist()
    assert got == ["BLM", "BLM", "USACE", "DOD", "FWS", "DOE", "BOR", "NPS", "USFS", "STATE", "TRIB",
                   "UNKNOWN"]


@pytest.mark.parametrize("fields,family,name", [
    (["Mang_Name", "GAP_Sts"], "polygon", "padus"),
    (["MngNm_D", "MngGroup", "Mng_Level"], "polygon", "padus"),
    (["dep_id", "commod1", "dev_stat"], "point", "mrds"),
    (["dep_id", "code_list"], "point", "mrds_wfs"),
    (["VOLTAGE", "VOLT_CLASS"], "line", "hifld_transmission"),
    (["MAX_VOLT", "MIN_VOLT", "LINES"], "point", "hifld_substations"),
    (["FRAARCID", "RROWNER1"], "line", "narn"),
    (["LINEARID", "MTFCC", "FULLNAME"], "line", "tiger_roads"),
    (["SITE_NAME", "COMPONENT"], "point", "mirta_points"),
    (["SITE_NAME", "COMPONENT"], "polygon", "mirta"),
    (["CSE_NR", "CSE_DISP"], "polygon", "blm_claims"),
    (["zzz"], "point", "generic"),
])
def test_detection(fields, family, name):
    assert detect(fields, family).name == name


def test_every_source_converts_an_empty_frame():
    for name in available():
        src = get(name)
        options = {"agency": "DOE"} if name == "land" else {}  # the one source told its agency by the scenario
        out = src.convert(pd.DataFrame(index=pd.RangeIndex(0)), Context("x", options=options))
        assert len(out) == 0
