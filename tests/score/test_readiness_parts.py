"""Permitting readiness with the parts the analyst chooses (issue 19 item 3): each part's weight and direction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from oracle import ground_distance
from pydantic import ValidationError
from shapely import Point, box

from siting.score.factors import make_factor
from siting.score.readiness import PermittingSpec

X, Y = -1_900_000.0, 1_800_000.0  # EPSG:5070, Nevada
SPEC = {
    "parts": ["gap"],
    "weights": {"gap": 1.0},
    "extra": [
        {"name": "habitat", "overlap": "habitat", "direction": "cost", "weight": 2, "source": "USFWS critical habitat"},
        {"name": "corridor", "overlap": "corridors", "direction": "benefit", "source": "BLM Section 368 corridors"},
        {"name": "disturbed", "count_within": "mines", "radius_m": 3_000, "saturate": 4, "direction": "benefit",
         "source": "USGS USMIN"},
        {"name": "industrial", "distance_to": "dod_industrial", "worst_m": 30_000, "weight": 0.5,
         "direction": "benefit", "source": "MIRTA"},
    ],
}


def _layers():
    sites = gpd.GeoDataFrame({"gap_status": [3, 4, 2]}, crs=5070, geometry=[
        box(X, Y, X + 2_000, Y + 2_000), box(X + 10_000, Y, X + 12_000, Y + 1_000), box(X, Y + 20_000, X + 1_500,
                                                                                         Y + 23_000)])
    layers = {
        "habitat": gpd.GeoDataFrame(geometry=[box(X + 1_500, Y - 500, X + 11_000, Y + 3_000)], crs=5070),
        "corridors": gpd.GeoDataFrame(geometry=[box(X - 100, Y + 500, X + 30_000, Y + 900),
                                                box(X - 100, Y + 21_000, X + 800, Y + 30_000)], crs=5070),
        "mines": gpd.GeoDataFrame(geometry=[Point(X + 2_500, Y + 1_000), Point(X + 4_000, Y), Point(X + 9_000, Y),
                                            Point(X - 5_000, Y + 22_000)], crs=5070),
        "dod_industrial": gpd.GeoDataFrame(geometry=[box(X + 15_000, Y + 8_000, X + 16_000, Y + 9_000)], crs=5070),
    }
    return sites, layers


def _by_hand(site, gap, layers) -> float:
    """The index written out: every part from its definition, distances from the ground-truth oracle."""
    def share(name):
        return sum(site.intersection(g).area for g in layers[name].geometry) / site.area

    n = sum(ground_distance(site, p, 5070) <= 3_000 for p in layers["mines"].geometry)
    d = min(ground_distance(site, g, 5070) for g in layers["dod_industrial"].geometry)
    parts = {"gap": {1: 0.0, 2: 0.25, 3: 0.75, 4: 1.0}[gap], "habitat": 1 - share("habitat"),
             "corridor": share("corridors"), "disturbed": min(np.log1p(n) / np.log1p(4), 1.0),
             "industrial": max(0.0, 1 - d / 30_000)}
    weights = {"gap": 1.0, "habitat": 2.0, "corridor": 1.0, "disturbed": 1.0, "industrial": 0.5}
    return sum(parts[k] * w for k, w in weights.items()) / sum(weights.values())


def test_the_index_of_three_sites_equals_a_hand_calculation():
    sites, layers = _layers()
    f = make_factor({"name": "permit", "permitting": SPEC})
    got = f.compute(sites, layers, {})
    assert list(got.columns) == ["permit_index", "permit_gap", "permit_habitat", "permit_corridor",
                                 "permit_disturbed", "permit_industrial"]
    for i, (site, gap) in enumerate(zip(sites.geometry, sites["gap_status"], strict=True)):
        assert got["permit_index"].iloc[i] == pytest.approx(_by_hand(site, gap, layers), abs=1e-4)
    assert got["permit_habitat"].nunique() == 3 and got["permit_disturbed"].nunique() == 3  # parts that differ


def test_parts_must_be_named_once_and_measured_one_way():
    with pytest.raises(ValidationError, match="exactly one of overlap, distance_to, count_within"):
        PermittingSpec(extra=[{"name": "x", "overlap": "a", "distance_to": "b", "direction": "cost"}])
    with pytest.raises(ValidationError, match="unknown parts"):
        PermittingSpec(weights={"habitta": 2}, extra=[{"name": "habitat", "overlap": "a", "direction": "cost"}])
    with pytest.raises(ValidationError, match="built-in parts"):
        PermittingSpec(extra=[{"name": "roads", "distance_to": "r", "direction": "benefit"}])
    spec = PermittingSpec(roads="roads", extra=[{"name": "habitat", "overlap": "habitat", "direction": "cost"}])
    assert spec.layer_names() == ["roads", "habitat"]
