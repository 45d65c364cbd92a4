"""The siting command, as a user runs it (subprocesses, exit codes, stderr)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from paths import DEMO, ROOT, SAMPLE


def siting(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "siting.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_version_and_help():
    from siting import __version__

    r = siting("--version")
    assert r.returncode == 0 and __version__ in r.stdout
    r = siting("--help")
    assert r.returncode == 0 and "run" in r.stdout and "validate" in r.stdout


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_validate_demo():
    r = siting("validate", DEMO)
    assert r.returncode == 0 and "is valid" in r.stdout


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_invalid_scenario_exits_nonzero_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nlayers: {parcels: {path: p.gpkg, sourse: padus}}\n")
    r = siting("validate", bad)
    assert r.returncode == 1
    assert "layers.parcels.sourse: unknown key" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow  # two subprocess runs
def test_missing_file_reported(tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text("version: 1\nname: x\nlayers: {parcels: {path: nowhere.gpkg}}\n")
    r = siting("validate", sc)
    assert r.returncode == 1 and "nowhere.gpkg" in r.stdout and "1 error" in r.stderr
    r = siting("run", sc, "--out", tmp_path / "o")
    assert r.returncode == 1 and "not found" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow  # two subprocess runs
def test_names_in_ahp_and_relaxation_are_checked_before_a_run(tmp_path, tiny_yaml):
    import yaml

    d = yaml.safe_load(tiny_yaml.read_text())
    d["scoring"]["weights"] = {"method": "ahp", "pairwise": {"powr": {"grid": 3}}}
    d["analysis"]["relaxation"] = [{"rule": "within_substationz", "values": [1]}, {"rule": "agency_in", "values": [1]}]
    sc = tmp_path / "typos.yaml"
    sc.write_text(yaml.safe_dump(d))
    for args in (("validate", sc), ("run", sc, "--out", tmp_path / "o")):
        r = siting(*args)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert "'powr' is not one of the factors" in r.stderr
        assert "'within_substationz' is not one of the rules" in r.stderr and "within_substations" in r.stderr
        assert "'agency_in' has no numeric threshold" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_existing_output_refused_and_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    r = siting("run", DEMO, "--out", out)
    assert r.returncode == 1 and "--overwrite" in r.stderr
    assert (out / "old.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1


@pytest.mark.slow
def test_run_then_overwrite(tmp_path, tiny_yaml):
    out = tmp_path / "nevada"  # the tiny scenario: a whole run in seconds (.ci/run runs the demo itself)
    r = siting("-q", "run", tiny_yaml, "--out", out)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"sites.geojson", "siting.gpkg", "map.html", "funnel.csv", "run.json"} <= names
    assert "sites" in r.stdout
    r = siting("-q", "run", tiny_yaml, "--out", out, "--overwrite")  # a folder siting wrote is replaced
    assert r.returncode == 0, r.stderr
    (out / "notes.txt").write_text("mine")
    r = siting("-q", "run", tiny_yaml, "--out", out, "--overwrite")  # ...but not over a user's file
    assert r.returncode == 1 and "notes.txt" in r.stderr and (out / "notes.txt").read_text() == "mine"
    assert not list(tmp_path.glob(".st-*"))  # no temporary folders or locks left behind


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_info_describes_layers_sources_and_sentinels():
    r = siting("info", "sample_data/infrastructure.gpkg")
    assert r.returncode == 0, r.stderr
    assert "layer 'substations'" in r.stdout and "hifld_substations" in r.stdout
    assert "layer 'towns'" in r.stdout and "generic" in r.stdout
    assert "sentinel -999999 in MIN_VOLT: 5" in r.stdout
    r = siting("info", "sample_data/mrds_deposits.csv", "--json")
    import json

    d = json.loads(r.stdout)[0]
    assert d["source"] == "mrds" and d["unplaced_rows"] == 1 and "commod1" in d["fields_mapped"]


def test_info_on_file_without_crs(tmp_path):
    import geopandas as gpd
    import pyogrio
    from shapely import box

    p = tmp_path / "x.shp"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"Mang_Name": ["BLM"]}, geometry=[box(0, 0, 1, 1)], crs=4326), p)
    p.with_suffix(".prj").unlink()  # a shapefile published without its .prj
    r = siting("info", p)
    assert r.returncode == 0 and "CRS NONE" in r.stdout and "give `crs:`" in r.stdout


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_validate_reports_every_problem_of_every_layer_at_once(tmp_path):
    import geopandas as gpd
    import pyogrio
    from shapely import Point, box

    parcels = gpd.GeoDataFrame({"Mang_Name": ["BLM", "BLM"], "OBJECTID": [1, 1]},
                               geometry=[box(-117, 38, -116.9, 38.1), box(-116, 38, -115.9, 38.1)], crs=4326)
    pyogrio.write_dataframe(parcels, tmp_path / "parcels.shp")
    (tmp_path / "parcels.prj").unlink()  # no CRS
    subs = gpd.GeoDataFrame({"NAME": ["A"], "MAX_VOLT": [-999999.0]}, geometry=[Point(-117, 38)], crs=4326)
    subs.to_file(tmp_path / "subs.geojson")
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: bad\nlayers:\n  parcels: {path: parcels.shp, id_field: OBJECTID}\n"
        "  subs: {path: subs.geojson}\n  missing: {path: nope.gpkg}\n"
        "constraints:\n  - {rule: within, layer: subs, where: 'kv > 1', distance_m: 5}\n")
    r = siting("validate", tmp_path / "s.yaml")
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "has no CRS" in out and "duplicate parcel_id" in out  # two problems in one layer
    assert "sentinel -999999 in MAX_VOLT" in out and "file not found" in out
    assert "filters subs on kv" in out and "Traceback" not in out


@pytest.mark.slow  # CLI subprocesses of 3-5 s each: the fast suite keeps --version and --help
def test_validate_warns_of_an_empty_layer_as_the_run_does(tmp_path, tiny_yaml):
    import geopandas as gpd
    import pyogrio
    import yaml

    empty = gpd.read_file(SAMPLE / "wilderness.shp").iloc[:0]  # the right schema, no feature
    pyogrio.write_dataframe(empty, tmp_path / "wilderness.gpkg")
    d = yaml.safe_load(tiny_yaml.read_text())
    d["layers"]["wilderness"] = {"path": str(tmp_path / "wilderness.gpkg")}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    r = siting("validate", tmp_path / "s.yaml")
    assert r.returncode == 0  # a warning: an outside rule on no feature keeps all land, and says so
    assert "WARNING wilderness: no feature left: the layer is empty" in r.stdout + r.stderr


@pytest.mark.slow  # a subprocess run (about 12 s)
def test_a_warning_is_one_line_and_said_once(tmp_path, tiny_yaml):
    # Python's own display of a SitingWarning added the library's file name and a line of its source; the
    # warnings the log had already written were written twice
    import yaml

    d = yaml.safe_load(tiny_yaml.read_text())
    d["analysis"] = {}
    for rule in d["constraints"]:
        if rule["rule"] == "within":
            rule["distance_m"] = 1
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    r = siting("run", tmp_path / "s.yaml", "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("candidates were excluded; rule 'parts'") == 1
    assert "SitingWarning" not in r.stderr and ".py:" not in r.stderr
    assert "WARNING siting: layer 'deposits' (mrds_deposits.csv, 512 read): 2 rejected" in r.stderr
    import geopandas as gpd  # an empty run's outputs are written

    assert len(gpd.read_file(tmp_path / "out" / "siting.gpkg", layer="sites")) == 0
