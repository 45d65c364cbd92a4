"""Candidates from parcels, split by zones."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from siting.candidates import candidates_from_parcels, split_parcels


def test_split_by_zones_conserves_area_and_makes_stable_ids(grid_parcels):
    zones = gpd.GeoDataFrame({"feature_id": ["west", "east"]}, crs=5070,
                             geometry=[box(-1, -1, 25_000, 20_000), box(25_000, -1, 45_000, 20_000)])
    c = candidates_from_parcels(grid_parcels, split_by=zones)
    assert c.area.sum() == pytest.approx(grid_parcels.area.sum())
    assert c["candidate_id"].is_unique
    assert {"P-p2-west", "P-p2-east", "P-p4-rest"} <= set(c["candidate_id"])
    assert c.set_index("candidate_id").loc["P-p2-west"].geometry.area == pytest.approx(5_000 * 10_000)


def test_split_drops_only_slivers_and_keeps_input(grid_parcels):
    before = grid_parcels.copy()
    zones = gpd.GeoDataFrame({"feature_id": ["all"]}, geometry=[box(0, 0, 49_999.99, 10_000)], crs=5070)
    pieces = split_parcels(grid_parcels, zones, min_piece_acres=1)
    assert len(pieces) == 5 and set(pieces["zone"]) == {"all"}  # 0.1 m2 sliver dropped
    assert grid_parcels.equals(before)
