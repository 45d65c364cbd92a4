"""sample_data/ is made by its committed script, deterministically, and is labelled synthetic."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from paths import SAMPLE


def _versions():
    import numpy
    import pandas
    import pyogrio
    import pyproj
    import rasterio
    import scipy
    import shapely

    return {"numpy": numpy.__version__, "scipy": scipy.__version__, "shapely": shapely.__version__,
            "geos": shapely.geos_version_string, "pyproj": pyproj.__version__,
            "proj": pyproj.proj_version_str, "gdal": pyogrio.__gdal_version_string__,
            "rasterio": rasterio.__version__, "pandas": pandas.__version__}


def test_readme_says_synthetic_and_sizes_under_10_mb():
    readme = (SAMPLE / "README.md").read_text()
    assert "SYNTHETIC" in readme
    manifest = json.loads((SAMPLE / "MANIFEST.json").read_text())
    assert sum(f["bytes"] for f in manifest["files"].values()) < 10e6
    for name, f in manifest["files"].items():
        assert (SAMPLE / name).stat().st_size == f["bytes"], name


@pytest.mark.slow
def test_regeneration_is_byte_for_byte(tmp_path):
    manifest = json.loads((SAMPLE / "MANIFEST.json").read_text())
    for run in ("a", "b"):
        subprocess.run([sys.executable, str(SAMPLE / "make_sample_data.py"), "--out", str(tmp_path / run)],
                       check=True, capture_output=True, timeout=300)
    names = sorted(manifest["files"])
    for name in names:
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, f"{name} differs between two runs"
    if manifest["versions"] != _versions():
        pytest.skip("library versions differ from MANIFEST.json; committed files are reproducible "
                    f"with {manifest['versions']}")
    for name in names:
        got = hashlib.sha256((tmp_path / "a" / name).read_bytes()).hexdigest()
        assert got == manifest["files"][name]["sha256"], f"{name} differs from the committed file"


@pytest.mark.slow
def test_the_encumbrances_demo_runs_with_every_land_status_rule_and_part_shown(tmp_path):
    import geopandas as gpd
    import pandas as pd

    import siting

    result = siting.run(SAMPLE / "nevada_encumbrances.yaml", progress=False)
    ledger = result.ledger
    for rule in ("overlap_max_withdrawals", "overlap_max_wsa", "overlap_max_critical_habitat", "include", "exclude",
                 "within_substations", "within_substations_dod_doe"):
        assert rule in set(ledger["rule"]), rule
    assert (~ledger.loc[ledger["rule"] == "overlap_max_wsa", "passed"]).sum() >= 1  # each rule finds something
    assert ledger.loc[ledger["rule"] == "overlap_max_withdrawals", "override"].str.startswith("include:").sum() >= 1
    assert set(result.sites["candidate_class"]) == {"dod_doe", "other"}
    parts = {"disturbed", "corridor", "nonattainment", "habitat", "withdrawn", "industrial"}
    assert {f"permitting_{p}" for p in parts} <= set(result.sites.columns)
    for p in parts:  # every chosen part varies across the sites: each layer bears on some of them
        assert result.sites[f"permitting_{p}"].nunique() > 1, p
    assert result.sites["water_value"].between(0, 5).all() and (result.sites["water_share"] > 0.99).all()
    legal = result.sites["plss_description"]
    assert legal.str.startswith("NV, Mount Diablo Mer., T. ").sum() >= 1 and (legal == "outside the PLSS layer").any()
    out = tmp_path / "enc"
    result.save(out)
    sites = gpd.read_file(out / "sites.geojson")
    assert {"overrides", "candidate_class", "water_value", "permitting_withdrawn"} <= set(sites.columns)
    html = (out / "map.html").read_text()
    assert "<b>override<\\/b>: include:" in html and "overlap_max_withdrawals" in html  # compact JSON writes "<\\/"
    assert "fails only exclude (override = excluded: already leased" in html
    funnel = pd.read_csv(out / "funnel.csv").set_index("rule")
    assert funnel.loc["overlap_max_withdrawals", "candidates_overridden"] >= 1
    assert funnel.loc["exclude", "candidates_removed"] == 1
    # the included parcel's best site
    included = result.sites.loc[result.sites["overrides"] != ""].sort_values("rank").iloc[0]
    kept = included["site_id"]
    top = result.sites.sort_values("rank")["site_id"].head(2).tolist()
    pages = result.sheets(tmp_path / "sheets", top=max(2, int(included["rank"])), pdf=False)  # down to that site
    sheet = {p.stem: p.read_text() for p in pages}
    for name in ("overlap_max_withdrawals", "overlap_max_wsa", "within_substations_dod_doe", "permitting_withdrawn",
                 "permitting_corridor", "water_share", "legal description", "class"):
        assert all(name in sheet[s] for s in top), name
    assert "include: BLM confirmed the segregation will lapse" in sheet[kept]
