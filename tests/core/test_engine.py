"""The dask engine on a 2-worker LocalCluster gives the local engine's result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from paths import DEMO

import siting
from siting.cli import cli
from siting.core.engine import make_engine
from siting.core.errors import ScenarioError
from siting.core.scenario import CandidateSpec, load_scenario

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
pytest.importorskip("dask_geopandas", reason="the dask extra is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


def _same_result(local, dask):
    assert dask.sites["site_id"].tolist() == local.sites["site_id"].tolist()
    assert np.allclose(dask.sites["score"], local.sites["score"], rtol=0, atol=1e-9)
    for col in [c for c in local.sites.columns if c.endswith(("_m", "_wcount", "_index", "_count"))]:
        assert np.allclose(dask.sites[col].astype(float), local.sites[col].astype(float), equal_nan=True), col
    counts = ["rule", "candidates_in", "candidates_removed", "candidates_out"]
    pd.testing.assert_frame_equal(dask.funnel[counts], local.funnel[counts])
    assert np.allclose(dask.funnel["acres_out"], local.funnel["acres_out"], rtol=1e-12)
    pd.testing.assert_frame_equal(dask.ledger.astype(str), local.ledger.astype(str))
    assert dask.candidates["reason"].tolist() == local.candidates["reason"].tolist()


def test_dask_engine_equals_local_on_the_packed_demo(cluster, demo_result):
    dask = siting.run(DEMO, engine="dask", scheduler=cluster.scheduler_address, progress=False)
    _same_result(demo_result, dask)
    assert dask.meta["engine"]["name"] == "dask" and dask.meta["engine"]["workers"] == 2
    assert demo_result.meta["engine"] == {"name": "local"}


def test_dask_engine_equals_local_on_parcel_candidates(cluster):
    sc = load_scenario(DEMO)
    sc = sc.model_copy(update={"candidates": CandidateSpec(method="parcels", min_area_acres=640),
                               "analysis": sc.analysis.model_copy(update={"relaxation": []})})
    local = siting.run(sc, progress=False)
    dask = siting.run(sc, engine="dask", scheduler=cluster.scheduler_address, progress=False)
    _same_result(local, dask)
    assert dask.funnel["candidates_removed"].sum() > 0  # the rules did remove candidates in both


def test_dask_engine_runs_a_scenario_without_rasters(cluster):
    sc = load_scenario(DEMO)
    sc = sc.model_copy(update={
        "rasters": {}, "constraints": [r for r in sc.constraints if getattr(r, "raster", None) is None],
        "factors": [f for f in sc.factors if getattr(f, "raster", None) is None],
        "candidates": CandidateSpec(method="parcels"), "analysis": sc.analysis.model_copy(update={"relaxation": []})})
    local = siting.run(sc, progress=False)
    dask = siting.run(sc, engine="dask", scheduler=cluster.scheduler_address, progress=False)
    _same_result(local, dask)
    assert not dask.rasters and len(dask.sites) > 0


def test_cli_runs_on_a_remote_scheduler(cluster, tmp_path, tiny_yaml):
    out = tmp_path / "nevada"
    res = CliRunner().invoke(cli, ["run", str(tiny_yaml), "--out", str(out), "--engine", "dask",
                                   "--scheduler", cluster.scheduler_address])
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text())
    assert run["meta"]["engine"]["scheduler"] == cluster.scheduler_address


def test_dask_engine_starts_and_closes_its_own_local_cluster():
    import os

    from siting.core import settings

    engine = make_engine("dask", n_workers=2)
    try:
        assert engine.describe()["workers"] == 2 and engine.describe()["local_cluster"]
        # each worker's siting threads: its share of the cores, so 2 workers never run 2 x cpu_count threads
        threads = engine.client.run(lambda: settings.THREADS)
        assert set(threads.values()) == {max(1, (os.cpu_count() or 1) // 2)}
    finally:
        engine.close()
    assert engine.client.status == "closed"


def test_engine_errors_say_what_to_use():
    with pytest.raises(ScenarioError, match="local, dask"):
        make_engine("spark")
    with pytest.raises(ScenarioError, match="engine='dask'"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
