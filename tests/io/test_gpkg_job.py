"""siting.gpkg's big layers written by a helper process: the same file as in-process, errors said, nothing left."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from siting.core.errors import OutputError
from siting.io import gpkg_job, writers
from siting.io.gpkg_job import GpkgJob


def _layers(n: int = 300) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2e6, -1.5e6, n), rng.uniform(1.8e6, 2.2e6, n)
    squares = shapely.box(x, y, x + 800, y + 800)
    squares[::7] = shapely.multipolygons([[shapely.box(a, b, a + 100, b + 100),
                                           shapely.box(a + 500, b, a + 600, b + 90)]
                                          for a, b in zip(x[::7], y[::7], strict=True)])
    sites = gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(n)], "score": rng.random(n),
                              "agency": pd.Categorical(rng.choice(["BLM", "DOD"], n)), "note": None},
                             geometry=squares, crs=5070)
    points = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=shapely.points([[0, 0], [1, 1]]), crs=4326)
    return {"sites": sites, "towns": points, "funnel": pd.DataFrame({"stage": ["land", "site"], "n": [n, n - 3]})}


def _read(path) -> dict[str, pd.DataFrame]:
    return {name: pyogrio.read_dataframe(path, layer=name) for name in pyogrio.list_layers(path)[:, 0]}


def test_the_helper_writes_the_same_geopackage_as_this_process(tmp_path):
    layers = _layers()
    here = GpkgJob(tmp_path / "here.gpkg", layers, metadata={"run": "x"}, helper=False).finish()
    there = GpkgJob(tmp_path / "there.gpkg", layers, metadata={"run": "x"}, helper=True).finish()
    a, b = _read(here), _read(there)
    assert sorted(a) == sorted(b) == ["funnel", "layer_styles", "sites", "towns"]
    for name in ("sites", "towns", "funnel"):
        pd.testing.assert_frame_equal(a[name], b[name], check_like=True)
    assert b["sites"].geometry.geom_type.unique().tolist() == ["MultiPolygon"]  # one type a layer, as in-process
    assert shapely.equals(np.asarray(b["sites"].geometry.values), np.asarray(layers["sites"].geometry.values)).all()
    assert b["towns"].crs.to_epsg() == 4326 and b["sites"].crs.to_epsg() == 5070
    with sqlite3.connect(there) as con:
        assert con.execute("SELECT metadata FROM gpkg_metadata").fetchone()[0] == '{"run": "x"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here.gpkg", "there.gpkg"]  # its Arrow files removed


def test_big_layers_go_to_the_helper_and_small_ones_stay(tmp_path, monkeypatch):
    monkeypatch.setattr(gpkg_job, "HELPER_ROWS", 300)
    started = []
    real = GpkgJob._start_helper
    monkeypatch.setattr(GpkgJob, "_start_helper", lambda self, spatial: started.append(sorted(spatial))
                        or real(self, spatial))
    GpkgJob(tmp_path / "small.gpkg", _layers(297)).finish()  # 297 sites and 2 towns: 299 features
    GpkgJob(tmp_path / "big.gpkg", _layers(298)).finish()
    assert started == [["sites", "towns"]]


def test_a_failure_in_the_helper_is_an_output_error_with_gdals_message(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "gdal_crs", lambda crs: "EPSG:999999")  # GDAL cannot make this CRS
    job = GpkgJob(tmp_path / "bad.gpkg", _layers(), helper=True)
    with pytest.raises(OutputError, match=r"bad\.gpkg: the helper process writing its layers failed \(exit \d+\).*"
                                          r"999999"):
        job.finish()
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".arrow", ".json", ".log")]


def test_single_parts_are_made_multi_in_wkb_with_their_z_and_nothing_else_changes():
    from siting.io.batches import _as_multi

    geoms = np.array([shapely.Point(1, 2), shapely.Point(1, 2, 3), shapely.LineString([(0, 0), (1, 1)]),
                      shapely.LineString([(0, 0, 1), (1, 1, 2)]), shapely.box(0, 0, 1, 1),
                      shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)]), shapely.MultiPoint([(0, 0)]), None],
                     dtype=object)
    out = shapely.from_wkb(_as_multi(shapely.to_wkb(geoms, flavor="iso", byte_order=1), geoms))
    assert shapely.get_type_id(out).tolist() == [4, 4, 5, 5, 6, 6, 4, -1]
    assert shapely.has_z(out).tolist() == [False, True, False, True, False, True, False, False]
    assert shapely.equals(out[:-1], geoms[:-1]).all()
    assert (shapely.get_coordinates(out, include_z=True) == shapely.get_coordinates(geoms, include_z=True)
            )[~np.isnan(shapely.get_coordinates(geoms, include_z=True))].all()


def test_no_helper_when_switched_off_or_when_python_is_embedded(monkeypatch, tmp_path):
    assert gpkg_job.helper_python() is not None  # a plain Python here
    monkeypatch.setenv("SITING_GPKG_HELPER", "0")
    assert gpkg_job.helper_python() is None
    monkeypatch.delenv("SITING_GPKG_HELPER")
    monkeypatch.setattr(gpkg_job.sys, "executable", "/opt/qgis/bin/qgis")  # a GIS application embedding Python
    assert gpkg_job.helper_python() is None
    monkeypatch.setattr(gpkg_job, "HELPER_ROWS", 1)
    job = GpkgJob(tmp_path / "here.gpkg", _layers(20))  # big enough for a helper, but none can run: in-process
    assert job._process is None and len(gpd.read_file(job.finish(), layer="sites")) == 20


def test_the_helper_finds_siting_from_any_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the checkout: the helper is told where siting is imported from
    path = GpkgJob(tmp_path / "far.gpkg", _layers(10), helper=True).finish()
    assert len(gpd.read_file(path, layer="sites")) == 10
