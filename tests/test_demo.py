"""End to end on the demo, checked as a user would check the deliverables."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from browser import inspect_map
from rfc7946 import problems


def test_funnel_balances_and_matches_sites(demo_result):
    f = demo_result.funnel
    assert f["acres_in"].iloc[0] == pytest.approx(f["acres_out"].iloc[-1] + f["acres_removed"].sum())
    assert f["candidates_out"].iloc[-1] == len(demo_result.sites)
    for stage in ("land", "site"):  # rules only remove; packing turns parcels into footprints
        part = f[f["stage"].isin([stage, "input"] if stage == "land" else [stage])]
        assert (part["candidates_out"].diff().dropna() <= 0).all()
    gen = f[f["stage"] == "generate"].iloc[0]
    assert gen["candidates_out"] == demo_result.meta["packing"]["sites"]
    assert gen["acres_out"] == pytest.approx(gen["candidates_out"] * 320)
    audit = demo_result.audit()
    assert audit["balanced"].all()
    assert demo_result.reports["deposits"][0].rejected == 2  # the two broken rows, with reasons
    assert set(demo_result.rejects["reason"]) >= {"coordinates not numeric"}


def test_every_candidate_has_full_ledger(demo_result):
    c = demo_result.candidates
    rules = demo_result.rules
    packed = c["candidate_id"].str.startswith("K-").to_numpy()
    for r, stage in zip(rules["rule"], rules["stage"], strict=True):
        assert f"{r}__value" in c and f"{r}__threshold" in c
        assert c.loc[packed, f"{r}__pass"].notna().all()  # footprints: every rule, land ones from the parcel
        if stage == "land":  # parcels the land rules rejected carry those rules, and no site rule
            assert c.loc[~packed, f"{r}__pass"].notna().all()
        else:
            assert c.loc[~packed, f"{r}__pass"].isna().all()
    passed = np.column_stack([c[f"{r}__pass"].fillna(True).astype(bool) for r in rules["rule"]]).all(axis=1)
    assert (passed == c["eligible"].to_numpy()).all()
    assert not c.loc[~packed, "eligible"].any()
    failed = c[~c["eligible"]]
    assert failed["reason"].str.startswith("failed ").all()


def test_scores_ranks_and_weighted_sum_by_hand(demo_result):
    s = demo_result.sites
    assert s["score"].between(0, 1).all()
    assert sorted(s["rank"]) == list(range(1, len(s) + 1))
    assert s["site_id"].is_unique
    factors = demo_result.scenario.factors
    wsum = sum(f.weight for f in factors)
    row = s.iloc[0]
    by_hand = sum(f.weight / wsum * row[f"{f.name}_score"] for f in factors)
    assert row["score"] == pytest.approx(by_hand)
    # the power factor's transform, by hand: linear 0 m -> 1, 50 km -> 0
    assert row["power_score"] == pytest.approx(max(0, 1 - row["power_m"] / 50_000))


def test_outputs_as_a_user_reads_them(demo_result, demo_out):
    assert problems(demo_out / "sites.geojson") == []
    gj = gpd.read_file(demo_out / "sites.geojson")
    assert len(gj) == len(demo_result.sites) and gj["site_id"].is_unique
    assert {"score", "rank", "power_m", "feedstock_wcount", "permitting_index"} <= set(gj.columns)
    layers = set(pyogrio.list_layers(demo_out / "siting.gpkg")[:, 0])
    assert {"sites", "candidates", "funnel", "ledger"} <= layers
    sites = gpd.read_file(demo_out / "siting.gpkg", layer="sites")
    cands = gpd.read_file(demo_out / "siting.gpkg", layer="candidates")
    assert len(sites) == len(demo_result.sites) and len(cands) == len(demo_result.candidates)
    assert pyogrio.read_info(demo_out / "siting.gpkg", layer="sites")["geometry_type"] == "Polygon"  # footprints
    land = gpd.read_file(demo_out / "siting.gpkg", layer="eligible_land")
    assert land.area.sum() / 4046.8564224 == pytest.approx(demo_result.funnel.query("stage == 'generate'")["acres_in"])
    funnel = pd.read_csv(demo_out / "funnel.csv")
    assert funnel["rule"].tolist() == demo_result.funnel["rule"].tolist()
    run = json.loads((demo_out / "run.json").read_text())
    assert run["scenario"]["name"] == "nevada-demo" and run["meta"]["versions"]["geopandas"]
    assert all(i["sha256"] for i in run["meta"]["inputs"])
    assert set(run["files"]) >= {"sites.geojson", "siting.gpkg", "map.html"}
    html = (demo_out / "map.html").read_text()
    drawn = min(len(demo_result.sites), demo_result.scenario.outputs.map_max_sites)  # the rest as clustered points
    assert html.count('"site_id"') >= drawn
    assert all(s in html for s in demo_result.sites["site_id"].iloc[:drawn])


def test_explain_a_site(demo_result):
    sid = demo_result.sites["site_id"].iloc[0]
    ex = demo_result.explain(sid)
    assert set(ex["kind"]) == {"rule", "factor", "factor part"}
    parts = ex[(ex.kind == "factor part") & (ex.name == "permitting")]
    assert set(parts["measure"]) >= {"permitting_roads", "permitting_gap"}  # each readiness part shown
    assert ex[ex.kind == "rule"]["passed"].all()
    assert ex[ex.kind == "factor"]["contribution"].sum() == pytest.approx(demo_result.sites["score"].iloc[0])
    html = demo_result._repr_html_()
    assert "SitingResult" in html and sid in html


@pytest.mark.browser
def test_map_in_headless_chromium(demo_result, demo_out):
    res = inspect_map(demo_out / "map.html")
    tile_errors = [e for e in res["errors"] if "Failed to load resource" in e]
    assert [e for e in res["errors"] if e not in tile_errors] == []
    assert res["sites"] == min(len(demo_result.sites), demo_result.scenario.outputs.map_max_sites)
    if len(demo_result.sites) > demo_result.scenario.outputs.map_max_sites:  # the rest: one point per site
        assert res["clustered"] >= len(demo_result.sites)
    assert res["popup_html"] and "Score breakdown" in res["popup_html"]
    assert res["dialogs"] == []


def test_eligible_land_and_site_acres_are_named_for_what_they_are(demo_result, tiny_result):
    s = demo_result.summary()
    land = float(demo_result.eligible_land.area.sum() / 4046.8564224)
    assert s["eligible_acres"] == pytest.approx(land) and s["site_acres"] == pytest.approx(
        float(demo_result.sites.area.sum() / 4046.8564224))
    assert s["site_acres"] == pytest.approx(320 * len(demo_result.sites), rel=1e-6)  # 320-acre footprints
    assert s["eligible_acres"] > 20 * s["site_acres"]  # the land, not the footprints packed on it
    t = tiny_result.summary()  # parcel candidates: the land left by the land rules, before the site rules
    assert t["eligible_acres"] >= t["site_acres"] > 0
    assert "eligible acres" in repr(demo_result) and "site acres" in repr(demo_result)
