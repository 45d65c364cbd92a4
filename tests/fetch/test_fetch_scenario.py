"""A scenario that names a catalog dataset: an error until fetched, then a run offline from the cache
whose every output says what it was made from."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pytest
import yaml
from loopback import Layer, Server, numbered
from paths import SAMPLE

import siting
from siting.core.errors import ScenarioError
from siting.core.scenario import load_scenario
from siting.fetch.scenario import resolve_fetches
from siting.io.writers import PROVENANCE_URI


@pytest.mark.slow  # a whole run and its outputs
def test_a_fetch_layer_runs_offline_from_the_cache_and_outputs_carry_hashes_and_citations(tmp_path, monkeypatch):
    lands = numbered(gpd.read_file(SAMPLE / "federal_lands.gpkg").drop(columns="OBJECTID").to_crs(4326))
    server = Server(layers={"lands": Layer(lands, max_records=100)})
    base = server.start()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"datasets": {"demo_lands": {
        "title": "Demo federal lands", "publisher": "siting tests", "protocol": "arcgis", "source": "padus",
        "url": f"{base}/arcgis/lands/FeatureServer/0", "licence": "public domain", "citation": "Demo lands, 2025"}}}))
    monkeypatch.setenv("SITING_CATALOG", str(catalog))
    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "cache"))
    scenario = {"name": "fetched", "layers": {"parcels": {"fetch": "demo_lands", "bbox": [-118.5, 38, -116, 40.5]}},
                "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
    with pytest.raises(ScenarioError, match="siting data fetch demo_lands --bbox"):
        siting.run(scenario, progress=False)  # never a download behind the user's back
    assert server.requests == []
    fetched = resolve_fetches(load_scenario(scenario), fetch_missing=True)  # what run(..., fetch=True) does first
    asked = len(server.requests)
    server.stop()  # from here on: offline
    assert resolve_fetches(load_scenario(scenario)) == fetched and asked > 0  # the cache answers now
    result = siting.run(scenario, progress=False)
    assert len(result.sites) > 0
    out = result.save(tmp_path / "out", formats=["geojson", "gpkg", "csv"])
    member = json.loads((out / "sites.geojson").read_text())["siting"]
    entry = member["inputs"][0]
    assert entry["dataset"] == "demo_lands" and entry["citation"] == "Demo lands, 2025" and len(entry["sha256"]) == 64
    assert member["run_id"] == result.meta["run_id"]
    with sqlite3.connect(out / "siting.gpkg") as con:  # the GeoPackage's metadata table
        query = "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ?"
        (text,) = con.execute(query, (PROVENANCE_URI,)).fetchone()
    assert json.loads(text) == json.loads(json.dumps(member))
    gpd.read_file(out / "siting.gpkg", layer="sites")
    assert not list(out.glob("*.aux.xml"))  # and reading it leaves nothing beside it
    assert json.loads((out / "PROVENANCE.json").read_text())["inputs"][0]["citation"] == "Demo lands, 2025"
    manifest = json.loads((tmp_path / "cache" / "demo_lands").glob("*/manifest.json").__next__().read_text())
    assert entry["sha256"] == manifest["sha256"] and manifest["features"] == len(lands[lands.intersects(
        __import__("shapely").box(-118.5, 38, -116, 40.5))])
