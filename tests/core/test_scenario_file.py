"""Hostile scenario files (issue 16 items 3, 6, 8, 19): each refused with a message that says where and why."""

from __future__ import annotations

import copy
import time

import pytest
import yaml
from paths import SAMPLE, cli

from siting.core.errors import ScenarioError
from siting.core.scenario import load_scenario
from siting.core.scenario_file import MAX_NODES, read_scenario_text

BASE = "version: 1\nname: t\nlayers:\n  parcels: {path: federal_lands.gpkg}\n"


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_duplicate_section_names_the_key_and_both_lines(tmp_path):
    text = BASE + "constraints:\n  - {rule: agency_in, values: [BLM]}\nconstraints:\n  - {rule: min_area, acres: 1}\n"
    with pytest.raises(ScenarioError, match=r"key 'constraints' is given twice \(lines 5 and 7\)"):
        load_scenario(_write(tmp_path, text))


def test_repeated_layer_name_is_refused(tmp_path):
    text = "version: 1\nname: t\nlayers:\n  parcels: {path: a.gpkg}\n  parcels: {path: b.gpkg}\n"
    with pytest.raises(ScenarioError, match=r"key 'parcels' is given twice \(lines 4 and 5\)"):
        load_scenario(_write(tmp_path, text))


@pytest.mark.parametrize("command", ["validate", "run"])
def test_duplicate_keys_fail_validate_and_run_from_the_cli(tmp_path, command):
    path = _write(tmp_path, BASE.replace("federal_lands.gpkg", str(SAMPLE / "federal_lands.gpkg"))
                  + "constraints: []\nconstraints: []\n")
    args = [command, path] + (["--out", tmp_path / "out"] if command == "run" else [])
    r = cli(*args)
    assert r.returncode == 1 and "key 'constraints' is given twice (lines 5 and 6)" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("number, why", [("0100000", "octal 32768"), ("-0755", "octal"), ("1:30", "base-60"),
                                         ("190:20:30.15", "base-60")])
def test_yaml_11_numbers_are_refused_with_the_fix(number, why):
    with pytest.raises(ScenarioError, match=why):
        read_scenario_text(f"buffer_m: {number}\n", "s.yaml")


def test_plain_numbers_and_quoted_codes_still_read():
    data = read_scenario_text("a: 100000\nb: 50_000\nc: 0\nd: 0.5\ne: '0100'\nf: 1.0e+3\ng: -3\n", "s.yaml")
    assert data == {"a": 100000, "b": 50000, "c": 0, "d": 0.5, "e": "0100", "f": 1000.0, "g": -3}


def test_alias_bomb_in_a_nested_value_is_refused_quickly():
    levels = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    levels += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
               f"*a{i - 1}]" for i in range(1, 9)]
    text = "\n".join(levels) + "\nfactors:\n  - {name: f, attribute: x, transform: {piecewise: {points: *a8}}}\n"
    assert len(text) < 2_000
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=f"more than {MAX_NODES:,} values"):
        read_scenario_text(text, "bomb.yaml")
    assert time.perf_counter() - start < 2.0


def test_a_few_aliases_are_fine():
    data = read_scenario_text("pts: &p [[0, 1], [10, 0]]\na: *p\nb: *p\n", "s.yaml")
    assert data["a"] == data["b"] == [[0, 1], [10, 0]]


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_are_refused_anywhere_in_yaml(tmp_path, text):
    body = BASE + ("factors:\n  - {name: power, distance_to: parcels, "
                   f"transform: {{linear: {{best: 0, worst: {text}}}}}}}\n")
    with pytest.raises(ScenarioError, match=r"factors\[0\]\.transform\.linear\.worst is NaN or infinite"):
        load_scenario(_write(tmp_path, body))


def test_non_finite_numbers_are_refused_in_toml_and_in_python(tmp_path, tiny_scenario):
    toml = 'version = 1\nname = "t"\n[layers.parcels]\npath = "p.gpkg"\n[outputs]\ngpkg_max_rows = inf\n'
    with pytest.raises(ScenarioError, match=r"outputs\.gpkg_max_rows is NaN or infinite"):
        load_scenario(_write(tmp_path, toml, "s.toml"))
    d = copy.deepcopy(tiny_scenario)
    d["factors"][0]["transform"] = {"linear": {"best": float("nan"), "worst": 50_000}}
    with pytest.raises(ScenarioError, match=r"factors\[0\]\.transform\.linear\.best is NaN"):
        load_scenario(d)


def test_relative_environment_value_is_taken_from_the_working_directory(tmp_path, monkeypatch):
    scen_dir = tmp_path / "scenarios"
    scen_dir.mkdir()
    data = tmp_path / "work" / "data"
    data.mkdir(parents=True)
    (data / "federal_lands.gpkg").write_bytes((SAMPLE / "federal_lands.gpkg").read_bytes())
    path = _write(scen_dir, yaml.safe_dump({"version": 1, "name": "t", "layers": {
        "parcels": {"path": "${MY_DATA}/federal_lands.gpkg"}, "other": {"path": "${NOT_SET:-rel}/x.gpkg"}}}))
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("MY_DATA", "data")
    sc = load_scenario(path)
    assert sc.resolve(sc.layers["parcels"].path) == data / "federal_lands.gpkg"
    assert sc.resolve(sc.layers["other"].path) == scen_dir / "rel" / "x.gpkg"  # a default is the author's


def test_file_not_found_names_the_path_tried_and_the_base(tmp_path):
    path = _write(tmp_path, yaml.safe_dump({"version": 1, "name": "t",
                                            "layers": {"parcels": {"path": "${MISSING_DIR}/lands.gpkg"}}}))
    r = cli("run", path, "--out", tmp_path / "out", env={"MISSING_DIR": "nowhere"}, cwd=tmp_path)
    assert r.returncode == 1
    assert f"file not found: {tmp_path / 'nowhere' / 'lands.gpkg'}" in r.stderr
    assert "${MISSING_DIR} = 'nowhere'" in r.stderr and f"working directory {tmp_path}" in r.stderr
