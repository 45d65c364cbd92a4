"""Candidates from parcels, split by zones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from siting.candidates.parcels import candidates_from_parcels, split_parcels


def test_split_by_zones_conserves_area_and_makes_stable_ids(grid_parcels):
    zones = gpd.GeoDataFrame({"feature_id": ["west", "east"]}, crs=5070,
                             geometry=[box(-1, -1, 25_000, 20_000), box(25_000, -1, 45_000, 20_000)])
    c = candidates_from_parcels(grid_parcels, split_by=zones)
    assert c.area.sum() == pytest.approx(grid_parcels.area.sum())
    assert c["candidate_id"].is_unique
    assert {"P-p2-west", "P-p2-east", "P-p4-outside"} <= set(c["candidate_id"])  # p4 lies beyond both zones
    assert c.set_index("candidate_id").loc["P-p2-west"].geometry.area == pytest.approx(5_000 * 10_000)


def test_split_snaps_gaps_to_the_nearest_zone_and_keeps_input(grid_parcels):
    before = grid_parcels.copy()
    zones = gpd.GeoDataFrame({"feature_id": ["all"]}, geometry=[box(0, 0, 49_950, 10_000)], crs=5070)
    pieces = split_parcels(grid_parcels, zones, snap_m=100)
    assert len(pieces) == 5 and set(pieces["zone"]) == {"all"}  # the 50 m gap joins the zone
    assert pieces.area.sum() == pytest.approx(grid_parcels.area.sum())
    assert grid_parcels.equals(before)


@pytest.mark.parametrize("shape", ["hex", "square"])
def test_cells_sure_from_numpy_are_the_cells_geos_gives(monkeypatch, shape):
    import numpy as np
    import shapely

    from siting.candidates import grid as cand

    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 30_000, (60, 2))
    disks = shapely.buffer(shapely.points(xy), rng.uniform(400, 5_000, 60), quad_segs=6)
    holed = shapely.difference(disks, shapely.buffer(shapely.points(xy + 300), 350, quad_segs=3))
    pairs = shapely.union(holed[:30], holed[30:])  # multipolygons where the disks are apart
    star = shapely.Polygon([(40_000 + 6_000 * np.cos(a) * (1 + (k % 2)), 6_000 * np.sin(a) * (1 + (k % 2)))
                            for k, a in enumerate(np.linspace(0, 2 * np.pi, 24, endpoint=False))])
    land = np.array([*pairs, star, shapely.box(50_000, 0, 50_300, 90_000)], dtype=object)  # concave, a thin strip
    width = 1_000.0
    pieces, _, bi, bj = cand._clip_to_blocks(land, width, shape, 8)
    got = cand._piece_cells(pieces, bi, bj, width=width, shape=shape, block=8)
    inside, outside = cand._sure_cells(pieces, *cand._block_cells(pieces, bi, bj, width, shape, 8), width, shape)
    assert inside.sum() > 50 and outside.sum() > 50  # the numpy pre-check decides many cells
    monkeypatch.setattr(cand, "SURE_PAIRS", 97)  # many small batches of cell x edge pairs
    batched = cand._piece_cells(pieces, bi, bj, width=width, shape=shape, block=8)
    monkeypatch.setattr(cand, "SURE_MAX_EDGES", 0)  # every cell to GEOS
    ref = cand._piece_cells(pieces, bi, bj, width=width, shape=shape, block=8)
    for other in (batched, ref):
        for a, b in zip(got[:3], other[:3], strict=True):
            assert np.array_equal(a, b)
        assert shapely.equals_exact(got[3], other[3], tolerance=0).all()



def test_a_cell_cut_in_two_by_the_land_is_two_candidates_each_one_polygon():
    import shapely

    from siting.candidates.grid import candidates_from_grid

    # a 10 km square with a 50 m slot from its top edge to its middle: the cells on the slot are cut in two
    # (the land stays one polygon), those on the square's edge at x = 10,050 into one piece. A site is one
    # connected polygon: each half of a slot cell is a candidate of its own, the larger keeping the cell's id
    land = shapely.difference(box(0, 0, 10_050, 10_000), box(5_475, 4_500, 5_525, 10_001))
    cells = candidates_from_grid(gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[land], crs=5070),
                                 cell_m=1_000, shape="square")
    geoms = cells.geometry.values.to_numpy()
    assert (shapely.get_type_id(geoms) == 3).all()  # every candidate one Polygon, cut or whole
    halves = cells[cells["cell_id"].duplicated(keep=False)]
    assert halves["cell_id"].nunique() == 5 and len(halves) == 10  # the slot crosses five cells whole
    for _, pair in halves.groupby("cell_id"):
        first, second = pair["candidate_id"].tolist()
        assert second == first + ".2" and pair.area.iloc[0] >= pair.area.iloc[1]
        assert pair.geometry.iloc[0].distance(pair.geometry.iloc[1]) == pytest.approx(50)
    assert cells["candidate_id"].is_unique
    assert shapely.area(geoms).sum() == pytest.approx(land.area)


def test_grid_cells_of_one_parcel_split_into_two_rows_get_distinct_numbered_ids():
    from siting.candidates.grid import candidates_from_grid

    # parcel "a" split by a zone line at x = 1,500 into two rows: the cells across the line are in both
    rows = [box(0, 0, 1_500, 2_000), box(1_500, 0, 3_000, 2_000), box(5_000, 0, 6_000, 1_000)]
    land = gpd.GeoDataFrame({"parcel_id": ["a", "a", "b"]}, geometry=rows, crs=5070)
    cells = candidates_from_grid(land, cell_m=1_000, shape="square")
    ids = cells["candidate_id"]
    assert ids.is_unique
    both = cells[cells["cell_id"] == "1_0"]  # the cell from x = 1,000 to 2,000 lies in both rows of "a"
    assert sorted(both["candidate_id"]) == ["G-1_0-a", "G-1_0-a.2"]
    assert set(ids[cells["parcel_id"] == "b"]) == {"G-5_0-b"}
    assert ids.str.fullmatch(r"G-\d+_\d+-[ab](\.2)?").all()


@pytest.mark.parametrize("method", ["parcels", "grid", "packing"])
def test_parcels_without_an_id_give_named_candidates_and_a_warning_with_their_rows(method):
    # under pandas 3 `astype(str)` keeps a missing id missing: a candidate named NaN would reach the outputs
    from siting.candidates.grid import candidates_from_grid
    from siting.candidates.packing import pack_sites
    from siting.candidates.parcels import candidates_from_parcels
    from siting.core.errors import SitingWarning

    land = gpd.GeoDataFrame({"parcel_id": ["a", None, np.nan, " ", "a"], "agency": ["BLM"] * 5},
                            geometry=[box(6_000 * k, 0, 6_000 * k + 3_000, 3_000) for k in range(5)], crs=5070)
    make = {"parcels": candidates_from_parcels, "grid": lambda f: candidates_from_grid(f, cell_m=3_000, shape="square"),
            "packing": lambda f: pack_sites(f, footprint_acres=640)}[method]
    with pytest.warns(SitingWarning, match=r"3 of 5 parcel rows have no parcel_id \(rows 1, 2, 3\)"):
        out = make(land)
    ids = out["candidate_id"]
    assert ids.notna().all() and ids.is_unique
    for row in (1, 2, 3):
        assert ids.str.contains(f"-row-{row}(?:-|$)").sum() >= 1
    assert not ids.str.contains("nan|None").any()
    assert land["parcel_id"].isna().sum() == 2  # the input is not changed


def test_parcel_candidates_of_a_repeated_id_or_a_zone_without_an_id_are_distinct():
    from siting.candidates.parcels import candidates_from_parcels

    shapes = [box(0, 0, 1_000, 1_000), box(3_000, 0, 4_000, 1_000), box(0, 3_000, 1_000, 4_000)]
    land = gpd.GeoDataFrame({"parcel_id": ["a", "a", "b"]}, geometry=shapes, crs=5070)
    assert candidates_from_parcels(land)["candidate_id"].tolist() == ["P-a", "P-a.2", "P-b"]
    zones = gpd.GeoDataFrame({"feature_id": ["west", None]}, geometry=[box(-10, -10, 2_000, 5_000),
                                                                        box(2_000, -10, 5_000, 5_000)], crs=5070)
    ids = candidates_from_parcels(land, split_by=zones)["candidate_id"]
    assert sorted(ids) == ["P-a-west", "P-a-zone-1", "P-b-west"]


def test_zones_that_overlap_cut_the_land_once_and_say_so():
    # three zones (hand-digitised districts) overlapping: every square metre of the parcel goes to one zone,
    # the first listed that covers it; the pieces add up to the parcel, and none overlaps another
    from siting.core.errors import SitingWarning

    parcel = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 3000, 1000)], crs=5070)
    zones = gpd.GeoDataFrame({"feature_id": ["west", "middle", "east"]},
                             geometry=[box(0, 0, 2000, 1000), box(1500, 0, 2500, 1000), box(1000, 0, 3000, 1000)],
                             crs=5070)
    said = r"3 pair\(s\) of zones overlap \(e\.g\. west and middle.*the 370\.7 acres covered more than once are kept"
    with pytest.warns(SitingWarning, match=said + " in the zone listed first"):
        out = split_parcels(parcel, zones)
    assert out.area.sum() == pytest.approx(parcel.area.sum())
    area = dict(zip(out["zone"], out.area, strict=True))
    assert area == pytest.approx({"west": 2_000_000.0, "middle": 500_000.0, "east": 500_000.0})
    geoms = out.geometry.values
    assert all(geoms[a].intersection(geoms[b]).area < 1e-6 for a in range(3) for b in range(a + 1, 3))


def test_the_opening_keeps_only_land_that_discs_of_the_width_cover():
    """Near the land's inward corners the erosion's arcs are cut by chords: kept centres of discs that do not fit
    would keep land no disc covers. Every kept point lies within the half-width of a centre eroded finely."""
    import math

    import shapely

    from siting.candidates.parts import open_land

    rng = np.random.default_rng(2)
    t = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    for noise in (3.0, 10.0, 30.0):
        r = 1_000 + rng.normal(0, noise, len(t)) + 150 * np.sin(9 * t)
        land = shapely.Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
        opened = open_land(np.array([land]), 100.0)[0]
        fine = 256
        centres = shapely.buffer(land, -50 / math.cos(3 * math.pi / (8 * fine)) * (1 + 3e-5), quad_segs=fine)
        shapely.prepare(centres)
        pts = shapely.points(shapely.get_coordinates(shapely.segmentize(shapely.boundary(opened), 1.0)))
        assert shapely.dwithin(pts, centres, 50 * (1 + 1e-4)).all(), noise
