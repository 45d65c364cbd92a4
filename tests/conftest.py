"""Shared fixtures: small layers built in code, the demo run, and the real-data folder."""

from __future__ import annotations

import copy
import os
import sys
import warnings
from pathlib import Path

# The same floating-point answers on every x86 machine: on CPUs with AVX-512, numpy computes float64 sin, cos,
# log and the like with SVML, whose last bits differ from the C library's; the demo's pinned digest
# (test_digest.py) holds ledger values to 1e-6. Set before numpy is imported here and in the xdist workers.
if "numpy" not in sys.modules:
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")

import geopandas as gpd
import numpy as np
import pytest
import yaml
from browser import chromium_available
from paths import DEMO, SAMPLE, realdata_dir
from shapely import LineString, Point, box


@pytest.fixture(autouse=True)
def _warning_filters_left_as_found():
    """Fail a test whose code leaves a blanket "ignore" of a built-in warning class in the session's filters, or
    removes one it found (what a thread racing through ``warnings.catch_warnings`` leaves: it would silence
    every later warning a notebook user should see). Libraries imported for the first time may add filters
    for their own warning classes (urllib3, requests): those are allowed."""
    before = list(warnings.filters)
    yield
    blanket = [f for f in warnings.filters if f not in before and f[0] == "ignore" and f[1] is None
               and f[3] is None and f[2].__module__ == "builtins"]
    removed = [f for f in before if f not in warnings.filters]
    assert not blanket and not removed, f"warning filters left changed: added {blanket}, removed {removed}"


@pytest.fixture(scope="session")
def realdata() -> Path:
    path = realdata_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder not found at {path}; set SITING_REALDATA to ../shared/realdata")
    return path


@pytest.fixture
def padus_raw() -> gpd.GeoDataFrame:
    """Four PAD-US-like parcels in lon/lat near Tonopah, NV (5 x 5 km boxes)."""
    lon0, lat0 = -117.3, 38.0
    d = 0.057  # ~5 km
    boxes = [box(lon0 + i * d, lat0, lon0 + (i + 1) * d, lat0 + d) for i in range(4)]
    return gpd.GeoDataFrame(
        {"OBJECTID": [1, 2, 3, 4], "Mang_Name": ["BLM", "BLM", "NPS", "DOD"],
         "Mang_Type": ["FED"] * 4, "Des_Tp": ["PUB", "WSA", "NP", "MIL"],
         "GAP_Sts": ["3", "2", "1", "4"], "Unit_Nm": ["Tonopah FO", "Tonopah FO", "Park", "Range"],
         "GIS_Acres": [6000, 6000, 6000, 6000]},
        geometry=boxes, crs="EPSG:4326")


@pytest.fixture
def grid_parcels() -> gpd.GeoDataFrame:
    """Canonical-looking parcels in EPSG:5070: a row of 10 km squares."""
    return gpd.GeoDataFrame(
        {"parcel_id": [f"p{i}" for i in range(5)], "agency": ["BLM", "BLM", "USFS", "NPS", "DOD"],
         "gap_status": [3, 3, 3, 1, 4], "designation": ["PUB", "PUB", "NF", "NP", "MIL"],
         "unit_name": ["a", "b", "c", "d", "e"]},
        geometry=[box(i * 10_000, 0, (i + 1) * 10_000, 10_000) for i in range(5)], crs=5070)


@pytest.fixture
def substations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"feature_id": ["s1", "s2"], "name": ["Low", "High"], "voltage_kv": [69.0, 230.0]},
        geometry=[Point(5_000, 12_000), Point(45_000, 30_000)], crs=5070)


@pytest.fixture
def lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"feature_id": ["l1"], "name": ["L"], "voltage_kv": [345.0]},
                            geometry=[LineString([(0, 20_000), (50_000, 20_000)])], crs=5070)


@pytest.fixture(scope="session")
def demo_result():
    import siting

    return siting.run(DEMO, progress=False)


@pytest.fixture(scope="session")
def tiny_scenario() -> dict:
    """The demo's layers with one candidate per parcel and light analyses: a whole run in about 6 s on 2 cores
    (12 s for the first: later runs in the process reuse its warped DEM, see :mod:`siting.geo.raster_keep`).

    Most tests that need a real run use this; the packed demo (``demo_result``) is for the tests of
    packing and of the demo's own deliverables.
    """
    d = yaml.safe_load(DEMO.read_text())
    d.update(name="tiny", base_dir=str(SAMPLE), candidates={"method": "parcels", "min_area_acres": 640},
             analysis={"sensitivity": {"n": 100, "seed": 0, "top_k": 5}, "near_misses": True,
                       "relaxation": [{"rule": "within_substations", "values": [25_000, 50_000, 100_000]}]})
    return d


@pytest.fixture(scope="session")
def tiny_result(tiny_scenario):
    import siting

    return siting.run(copy.deepcopy(tiny_scenario), progress=False)


@pytest.fixture
def tiny_yaml(tmp_path, tiny_scenario) -> Path:
    """The tiny scenario as a YAML file (absolute paths to sample_data)."""
    d = copy.deepcopy(tiny_scenario)
    base = Path(d.pop("base_dir"))
    for spec in [*d["layers"].values(), *d["rasters"].values()]:
        spec["path"] = str(base / spec["path"])
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory, demo_result) -> Path:
    out = tmp_path_factory.mktemp("demo") / "nevada"
    demo_result.save(out)
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(0)


#: Costly fixtures shared by several tests, and the xdist group that keeps those tests on one worker (the first
#: fixture a test uses, in this order, names its group).
SHARED = {"demo_result": "demo", "demo_out": "demo", "saved_without_ledger": "ledger-saved",
          "tiny_result": "tiny"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark notebooks ``notebook``; skip the real-data notebook, with a reason, without the real data.

    Tests of the packed demo's run are ``slow`` (the whole demo run with its outputs takes about 30 s on 2 cores,
    a sixth of the fast suite's budget), and so are those of a tiny run saved without its ledger (about 10 s).
    Tests sharing a costly fixture (:data:`SHARED`) run on one xdist worker (``--dist loadgroup``), so the fixture
    is made once, not once per worker."""
    skip = pytest.mark.skip(reason=f"real data folder not found at {realdata_dir()}; set SITING_REALDATA")
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        group = next((g for fixture, g in SHARED.items() if fixture in names), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        if group in ("demo", "ledger-saved"):  # the packed demo's run; a tiny run saved without its ledger
            item.add_marker(pytest.mark.slow)
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebook)
            if "02_real_data" in item.nodeid and not realdata_dir().is_dir():
                item.add_marker(skip)


def pytest_runtest_setup(item):
    """Browser tests need Chromium: skipped without it on a workstation, failed in CI (CI installs it)."""
    if item.get_closest_marker("browser") and not chromium_available():
        reason = "Chromium or playwright not installed (apt-get install chromium; pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
