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
