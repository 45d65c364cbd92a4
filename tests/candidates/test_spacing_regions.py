"""Packed land far apart keeps its own spacing; a CRS that stretches one direction far more is named.

The oracle is pyproj.Geod (tests/oracle.py): footprint pairs are measured on the WGS84 ellipsoid.
"""

from __future__ import annotations

import copy
import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from oracle import ground_distance
from pyproj import Transformer
from shapely import box

import siting
from siting.candidates.packing.lattice import Pieces
from siting.candidates.packing.regions import spacing_groups
from siting.core.checks import check_scenario
from siting.core.errors import SitingWarning

FAST = {"rotations": (0, 45), "offsets": 2}
TO_5070 = Transformer.from_crs(4326, 5070, always_xy=True)
SPACING = 3_000.0


def _square(lon: float, lat: float, side: float) -> shapely.Polygon:
    x, y = TO_5070.transform(lon, lat)
    return box(x, y, x + side, y + side)


def _land(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=5070)


def _close_pairs(sites: gpd.GeoDataFrame, reach: float) -> list[tuple[int, int]]:
    geoms = sites.geometry.values
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=reach)
    return [(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True) if a < b]


def test_far_land_does_not_widen_the_spacing_elsewhere():
    # EPSG:5070 stretches distances by 0.9 % at 40 N and by up to 37 % on Alaska's North Slope: one spacing
    # for all the land spaced Nevada's footprints for the North Slope
    nevada, slope = _square(-117.0, 40.0, 30_000), _square(-152.0, 69.5, 30_000)
    alone = siting.pack_sites(_land(nevada), footprint_acres=160, spacing_m=SPACING, **FAST)
    both = siting.pack_sites(_land(nevada, slope), footprint_acres=160, spacing_m=SPACING, **FAST)
    report = both.attrs["packing"]
    assert report["spacing_groups"] == 2
    assert report["planar_spacing_min_m"] == pytest.approx(alone.attrs["packing"]["planar_spacing_m"], rel=1e-4)
    assert report["planar_spacing_m"] > 1.2 * report["planar_spacing_min_m"]
    assert (both["parcel_id"] == "p0").sum() == len(alone)
    north = both[both["parcel_id"] == "p1"].reset_index(drop=True)
    pairs = _close_pairs(north, 1.5 * SPACING)  # the map stretches at most 1.4 times here
    assert len(pairs) > 20  # rows and columns of neighbours, measured on the ground
    gaps = [ground_distance(north.geometry[a], north.geometry[b], 5070) for a, b in pairs]
    assert min(gaps) >= SPACING
    assert min(gaps) < 1.1 * SPACING  # spaced for its own scale, not much farther


def test_land_that_footprints_can_span_is_one_group():
    # two pieces nearer than the spacing are packed as a whole, at the larger of their needs; the same pieces
    # far apart are packed each with its own spacing
    nevada, slope = _square(-117.0, 40.0, 10_000), _square(-152.0, 69.5, 10_000)
    near = shapely.affinity.translate(nevada, 11_000, 0)
    together = spacing_groups(Pieces(np.array([nevada, near]), np.array([0, 1])), "EPSG:5070", SPACING)
    apart = spacing_groups(Pieces(np.array([nevada, slope]), np.array([0, 1])), "EPSG:5070", SPACING)
    assert together.group.tolist() == [0, 0] and len(together) == 1
    assert apart.group.tolist() == [0, 1] and len(apart) == 2
    assert apart.spacing[0] == pytest.approx(together.spacing[0], rel=2e-3)


def _light(tiny_scenario) -> dict:
    d = copy.deepcopy(tiny_scenario)
    d["layers"] = {k: d["layers"][k] for k in ("parcels", "towns")}
    d.update(rasters={}, constraints=[{"rule": "outside", "layer": "towns", "buffer_m": 3000}],
             factors=[{"name": "town", "distance_to": "towns", "transform": {"linear": {"best": 0, "worst": 50_000}},
                       "weight": 1}],
             analysis={}, outputs={"formats": []})
    return d


def test_a_crs_that_stretches_one_direction_far_more_is_named_by_run_and_validate(tiny_scenario):
    # Alaska Albers keeps areas everywhere, but over Nevada one direction is stretched far more than the other:
    # rules still hold on the ellipsoid, drawn for the worse direction, so land is given up; the user is told
    d = _light(tiny_scenario)
    d["crs"] = "EPSG:3338"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = siting.run(d, progress=False)
    said = [str(w.message) for w in caught if issubclass(w.category, SitingWarning) and "stretches" in str(w.message)]
    assert len(said) == 1 and "EPSG:3338" in said[0]
    ratio = float(re.search(r"one direction ([\d.]+) times another", said[0]).group(1))
    assert ratio > 1.05
    assert len(result.sites) > 0
    assert any("stretches" in p.message for p in check_scenario(d).problems if p.level == "warning")
    d["crs"] = "EPSG:5070"  # made for the lower 48: nothing to say
    assert not any("stretches" in p.message for p in check_scenario(d).problems if p.level == "warning")


def test_the_edge_setback_holds_on_the_ground():
    # at 40 N EPSG:5070 stretches north-south distances by 0.9 %: a setback of 300 map metres is 297 m there
    land = _land(_square(-117.0, 40.0, 8_000))
    sites = siting.pack_sites(land, footprint_acres=160, edge_setback_m=300, **FAST)
    edge = land.geometry.iloc[0].exterior
    gaps = [ground_distance(g, edge, 5070) for g in sites.geometry]
    assert len(sites) > 10 and min(gaps) >= 300
    assert min(gaps) < 310  # footprints reach the setback: spaced for this land's own scale, not much more
