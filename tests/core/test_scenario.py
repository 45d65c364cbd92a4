"""Scenario loading: key paths in errors, safe YAML, TOML, relative paths, env vars."""

from __future__ import annotations

import textwrap

import pytest

from siting.core.errors import ScenarioError
from siting.core.scenario import load_scenario

BASE = {"version": 1, "name": "t", "layers": {"parcels": {"path": "p.gpkg"}}}


def _msg(data) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(data)
    return str(exc.value)


def test_unknown_key_names_path_and_allowed_keys():
    msg = _msg({**BASE, "constraints": [{"rule": "outside", "layer": "parcels", "bufer_m": 5}]})
    assert "constraints[0].bufer_m: unknown key" in msg
    assert "buffer_m" in msg  # the allowed keys are listed


def test_unknown_top_level_key():
    assert "colour: unknown key" in _msg({**BASE, "colour": "red"})


def test_unknown_rule_lists_rules():
    msg = _msg({**BASE, "constraints": [{"rule": "nearish", "layer": "x"}]})
    assert "'nearish' is unknown" in msg and "within" in msg


def test_bad_reference_to_layer():
    msg = _msg({**BASE, "constraints": [{"rule": "within", "layer": "subs", "distance_m": 5}]})
    assert "constraints[0].layer" in msg and "'subs'" in msg


def test_factor_needs_one_kind_and_valid_transform():
    msg = _msg({**BASE, "factors": [{"name": "a", "distance_to": "parcels",
                                      "transform": {"cubic": {}}}]})
    assert "factors[0].transform" in msg and "unknown transform" in msg
    msg = _msg({**BASE, "factors": [{"name": "a"}]})
    assert "exactly one of" in msg


def test_yaml_python_tags_refused(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo pwned']\nversion: 1\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(p)


def test_yaml_norway_problem_explained(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("version: 1\nname: no\nlayers: {parcels: {path: p.gpkg}}\n")
    assert "quote the value" in _msg(p)


def test_size_cap(tmp_path, monkeypatch):
    from siting.core import settings

    monkeypatch.setattr(settings, "MAX_SCENARIO_BYTES", 100)
    p = tmp_path / "big.yaml"
    p.write_text("# " + "x" * 200 + "\nversion: 1\n")
    assert "limit" in _msg(p)


def test_toml_and_relative_paths(tmp_path):
    p = tmp_path / "sub" / "s.toml"
    p.parent.mkdir()
    p.write_text(textwrap.dedent("""
        version = 1
        name = "toml"
        [layers.parcels]
        path = "data/p.gpkg"
    """))
    sc = load_scenario(p)
    assert sc.resolve(sc.layer_specs("parcels")[0].path) == p.parent / "data" / "p.gpkg"


def test_env_var_expansion(tmp_path, monkeypatch):
    sc = load_scenario({**BASE, "layers": {"parcels": {"path": "${SITING_TEST_DIR:-fallback}/p.gpkg"}}})
    monkeypatch.delenv("SITING_TEST_DIR", raising=False)
    assert str(sc.resolve("${SITING_TEST_DIR:-fallback}/p.gpkg")) == "fallback/p.gpkg"
    monkeypatch.setenv("SITING_TEST_DIR", str(tmp_path))
    assert sc.resolve("${SITING_TEST_DIR}/p.gpkg") == tmp_path / "p.gpkg"
    monkeypatch.delenv("SITING_TEST_DIR")
    with pytest.raises(ScenarioError, match="not set"):
        sc.resolve("${SITING_TEST_DIR}/p.gpkg")


def test_demo_scenario_is_valid():
    from paths import DEMO

    sc = load_scenario(DEMO)
    assert sc.name == "nevada-demo" and "parcels" in sc.layers and sc.factors


def test_tier_thresholds_outside_the_score_range_and_negative_weight_sweeps_are_refused():
    tiers = _msg({**BASE, "scoring": {"tiers": {"thresholds": [1.5, 0.5]}}})
    assert "scoring.tiers.thresholds[0]" in tiers and "less than or equal to 1" in tiers
    sweeps = _msg({**BASE, "analysis": {"weight_sweeps": [-1, 0, 1]}})
    assert "analysis.weight_sweeps[0]" in sweeps and "greater than or equal to 0" in sweeps


def test_a_relaxation_value_the_rule_cannot_take_is_refused_when_the_scenario_loads():
    d = {**BASE, "constraints": [{"rule": "within", "layer": "parcels", "distance_m": 5000}],
         "analysis": {"relaxation": [{"rule": "within_parcels", "values": [2500, -5]}]}}
    msg = _msg(d)  # not after a whole run, in the analysis step
    assert "analysis.relaxation[0].values[1]: -5 is not a distance_m the rule takes" in msg
    assert "values[0]" not in msg
