"""Fetching against a loopback server that speaks ArcGIS REST and WFS 2.0 with real features."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml
from loopback import Layer, Server, numbered

from siting.core.errors import FetchError
from siting.fetch import fetch
from siting.fetch.arcgis import fetch_arcgis
from siting.fetch.client import Client
from siting.fetch.files import download, sha256_of
from siting.fetch.wfs import fetch_wfs

MRDS = "norcal_mrds_usmin_claims/mrds_wfs_nw_california.geojson"
PADUS = "padus_great_basin_managers/padus3_federal_managers_nv_clip.geojson"


@pytest.fixture(scope="module")
def served(request):
    """The server with three layers: 2,500 MRDS points (pages of 1,000), the same as GeoJSON, and PAD-US
    polygons with holes from a service without pagination (object-id batches of 3); MRDS also over WFS."""
    from paths import realdata_dir

    root = realdata_dir()
    if not root.is_dir():
        pytest.skip(f"real data folder not found at {root}; set SITING_REALDATA to ../shared/realdata")
    mrds = numbered(gpd.read_file(root / MRDS))
    padus = numbered(gpd.read_file(root / PADUS))
    server = Server(layers={"points": Layer(mrds.head(2500)), "points_geojson": Layer(mrds.head(2500), geojson=True),
                            "padus": Layer(padus, max_records=3, paging=False), "mrds": Layer(mrds),
                            "mrds_uncounted": Layer(mrds, counts=False)})
    base = server.start()
    request.addfinalizer(server.stop)
    return server, base


def _client() -> Client:
    return Client(retries=3, backoff_s=0.01, timeout_s=30)


def _same(fetched: gpd.GeoDataFrame, source: gpd.GeoDataFrame) -> None:
    """Equal features: every attribute and every geometry (to 1e-9 degrees), in object-id order."""
    fetched = fetched.sort_values("OBJECTID").reset_index(drop=True)
    assert len(fetched) == len(source)
    for col in source.columns.drop("geometry"):
        assert [None if v is None or v != v else str(v) for v in fetched[col]] == \
               [None if v is None else str(v) for v in source[col]], col
    a, b = shapely.normalize(fetched.geometry.values), shapely.normalize(source.geometry.values)
    assert shapely.equals_exact(a, b, tolerance=1e-9).all()


@pytest.mark.parametrize("layer", ["points", "points_geojson"])
def test_a_layer_is_fetched_page_by_page_complete_and_equal(served, layer):
    server, base = served
    before = len(server.requests)
    got = fetch_arcgis(_client(), f"{base}/arcgis/{layer}/FeatureServer/0")
    _same(got, server.layers[layer].frame)
    offsets = [q.get("resultOffset") for _, q in server.requests[before:] if "resultOffset" in q]
    assert sorted(offsets, key=int) == ["0", "1000", "2000"]  # 2,500 features, 1,000 a page


def test_a_service_without_pagination_is_read_by_object_id_batches_holes_and_all(served):
    server, base = served
    before = len(server.requests)
    got = fetch_arcgis(_client(), f"{base}/arcgis/padus/FeatureServer/0")
    _same(got, server.layers["padus"].frame)
    assert shapely.get_num_interior_rings(shapely.get_parts(got.geometry.values)).sum() > 400  # esriJSON holes
    assert got.is_valid.all()  # each hole in the shell that holds it
    batches = [q["objectIds"] for _, q in server.requests[before:] if "objectIds" in q]
    assert sorted(batches) == ["1,2,3", "4,5,6", "7,8"]  # 8 polygons, 3 at a time (2 requests in flight)


def test_503_and_429_with_retry_after_are_retried(served):
    server, base = served
    server.faults += [("/points/FeatureServer/0/query", "503"), ("/points/FeatureServer/0/query", "429")]
    before, start = len(server.requests), time.monotonic()
    got = fetch_arcgis(_client(), f"{base}/arcgis/points/FeatureServer/0")
    assert time.monotonic() - start >= 1.0  # the 429's Retry-After: 1 was waited for (backoff is 0.01 s)
    assert len(got) == 2500 and not server.faults
    assert len(server.requests) - before == 1 + 1 + 3 + 2  # metadata, count, 3 pages, and the 2 retries


def test_a_truncated_body_is_retried_or_an_error_never_a_short_layer(served):
    server, base = served
    server.faults.append(("/points/FeatureServer/0/query", "truncate"))
    assert len(fetch_arcgis(_client(), f"{base}/arcgis/points/FeatureServer/0")) == 2500  # retried
    server.faults += [("/points/FeatureServer/0/query", "truncate")] * 8
    with pytest.raises(FetchError, match="cut short"):
        fetch_arcgis(_client(), f"{base}/arcgis/points/FeatureServer/0")
    server.faults.clear()


def test_wfs_pages_until_every_matched_feature_has_come(served):
    server, base = served
    frame = server.layers["mrds"].frame
    got = fetch_wfs(_client(), f"{base}/wfs", "mrds", page=1000)
    _same(got, frame)
    w, s, e, n = -123.5, 40.5, -122.5, 41.5
    inside = fetch_wfs(_client(), f"{base}/wfs", "mrds", bbox=(w, s, e, n), page=500)
    assert len(inside) == int(frame.intersects(shapely.box(w, s, e, n)).sum()) > 0
    uncounted = fetch_wfs(_client(), f"{base}/wfs", "mrds_uncounted", page=1000)  # numberMatched="unknown"
    _same(uncounted, frame)  # read until a page comes back short, not one page and done


def test_a_download_resumes_and_is_checked(served, tmp_path):
    server, base = served
    data = bytes(range(256)) * 4000
    server.files["roads.zip"] = data
    server.faults.append(("/files/roads.zip", "truncate"))
    client = Client(retries=0, backoff_s=0.01, timeout_s=30)
    with pytest.raises(FetchError, match="run the fetch again to resume"):
        download(client, f"{base}/files/roads.zip", tmp_path / "roads.zip")
    part = tmp_path / "roads.zip.part"
    assert 0 < part.stat().st_size < len(data)  # what came is kept ...
    path = download(client, f"{base}/files/roads.zip", tmp_path / "roads.zip", sha256=_sha(data))
    assert path.read_bytes() == data and server.requests[-1][0] == "/files/roads.zip"  # ... and the rest asked for
    with pytest.raises(FetchError, match="SHA-256"):
        download(client, f"{base}/files/roads.zip", tmp_path / "other.zip", sha256="0" * 64)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_the_cache_makes_no_request_on_a_repeat_fetch(served, tmp_path):
    server, base = served
    catalog = tmp_path / "catalog.yaml"
    lands = {"title": "NV federal lands", "publisher": "USGS", "protocol": "arcgis", "licence": "public domain",
             "url": f"{base}/arcgis/padus/FeatureServer/0", "citation": "USGS GAP, PAD-US 3", "source": "padus"}
    # the packaged mrds entry with its endpoint moved, and a dataset of the user's own
    catalog.write_text(yaml.safe_dump({"datasets": {"mrds": {"url": f"{base}/wfs"}, "nv_lands": lands}}))
    box = "-124.5,40.0,-122.0,42.0"
    first = fetch(["mrds", "nv_lands"], bbox=box, to=tmp_path / "cache", catalog=catalog, client=_client())
    made = len(server.requests)
    again = fetch(["mrds", "nv_lands"], bbox=box, to=tmp_path / "cache", catalog=catalog, client=_client())
    assert again == first and len(server.requests) == made  # 0 requests: read from the cache
    manifest = json.loads((first["mrds"].parent / "manifest.json").read_text())
    assert manifest["features"] == len(gpd.read_file(first["mrds"])) > 0
    assert manifest["sha256"] == sha256_of(first["mrds"]) and "Mineral Resources Data System" in manifest["citation"]
    assert manifest["queries"] and all(q["url"].startswith(base) for q in manifest["queries"])
    fetch(["mrds"], bbox=box, to=tmp_path / "cache", catalog=catalog, client=_client(), refresh=True)
    assert len(server.requests) > made  # --refresh asks again


def test_data_list_shows_every_dataset_with_licence_and_citation():
    from click.testing import CliRunner

    from siting.cli import cli
    from siting.fetch import list_datasets

    out = CliRunner().invoke(cli, ["data", "list"]).output
    for row in list_datasets().itertuples():
        assert f"{row.dataset}: " in out and row.licence in out and row.citation in out
    assert Path(__file__).exists()


def test_a_dem_box_and_the_cli_fetch_from_the_cache(served, tmp_path, monkeypatch):
    import rasterio
    from click.testing import CliRunner
    from paths import realdata_dir

    from siting.cli import cli

    server, base = served
    server.files["exportImage"] = (realdata_dir() / "dem_zion_srtm/srtm_zion.tif").read_bytes()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"datasets": {"dem_3dep": {"url": f"{base}/arcgis/dem/ImageServer"},
                                                    "mrds": {"url": f"{base}/wfs"}}}))
    args = ["data", "fetch", "dem_3dep", "mrds", "--bbox", "-113.2,37.1,-112.8,37.5", "--to", str(tmp_path / "c"),
            "--catalog", str(catalog)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    dem = Path(first.output.split("dem_3dep: ")[1].split()[0])
    with rasterio.open(dem) as src:
        assert src.count == 1 and src.crs is not None  # a GeoTIFF, read as one
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and again.output.strip().endswith("0 request(s)")  # all from the cache


def test_every_catalog_entry_says_where_it_came_from_and_how_siting_reads_it():
    from siting.fetch.catalog import load_catalog
    from siting.io.sources import base

    speaks = {"arcgis", "wfs", "file", "arcgis_image", "packaged"}
    for name, entry in load_catalog().items():
        assert entry["protocol"] in speaks, name
        assert entry.get("documentation") and "checked" in entry, name  # where the endpoint came from
        assert entry.get("source") is None or entry["source"] in base._REGISTRY, name  # a reader siting has
    names = set(load_catalog())
    assert {"padus_fee", "padus_designation", "padus_easement", "blm_sma", "mirta_points", "mirta_boundaries", "mrds",
            "usmin", "hifld_transmission", "hifld_substations", "narn_rail", "tiger_roads", "dem_3dep",
            "plss_township", "plss_section", "plss_intersected", "critical_minerals"} <= names
