"""Distances, counts and rule decisions true on the WGS84 ellipsoid (pyproj.Geod is the oracle)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from oracle import agrees, ground_distance
from shapely import LineString, Point, box

from siting.candidates.parcels import split_parcels
from siting.candidates.parts import candidates_from_parts
from siting.core.errors import CRSError, GeometryError, SitingWarning
from siting.geo import geodesy
from siting.screen.constraints import screen
from siting.screen.rules import Beyond, MinArea, Outside, RuleContext, Within

NEVADA = (-1_900_000, 1_800_000)  # EPSG:5070 metres, central Nevada: planar scale 0.990-1.010
G = geodesy.Ground(5070)


FAR_NORTH = (-2_260_000, 5_690_000)  # 72 N: EPSG:5070's Tissot axes 1.49 and 0.67 (geo/stretch.py)


def _scatter(rng, n, spread=150_000, origin=NEVADA):
    return rng.uniform(0, spread, (n, 2)) + origin


@pytest.mark.parametrize(("seed", "origin"), [(0, NEVADA), pytest.param(1, NEVADA, marks=pytest.mark.slow),
                                              (2, FAR_NORTH)])
def test_nearest_is_the_nearest_on_the_ground(seed, origin):
    rng = np.random.default_rng(seed)
    src = np.array([box(x, y, x + rng.uniform(10, 3_000), y + rng.uniform(10, 3_000))
                    for x, y in _scatter(rng, 15, origin=origin)])
    pts = np.array([Point(x, y) for x, y in _scatter(rng, 20, origin=origin)])
    lines = np.array([LineString([(x, y), (x + rng.uniform(-40e3, 40e3), y + rng.uniform(-40e3, 40e3))])
                      for x, y in _scatter(rng, 8, origin=origin)])
    for targets in (pts, lines):
        d, idx = geodesy.nearest(src, targets, G)
        for s, v, i in zip(src, d, idx, strict=True):
            truth = [ground_distance(s, t, 5070) for t in targets]
            assert agrees(v, min(truth)), (v, min(truth))
            assert agrees(ground_distance(s, targets[i], 5070), min(truth))


def test_nearest_on_the_ground_where_the_crs_is_strongly_anisotropic():
    # interior Alaska in EPSG:5070: one direction is stretched 15-30 % more than another, so the targets
    # nearest on the map are often not the nearest on the ground, and the band of rivals is wide
    rng = np.random.default_rng(3)
    origin = np.array([-3_000_000.0, 4_500_000.0])
    src = np.array([Point(*p) for p in rng.uniform(0, 40_000, (6, 2)) + origin]
                   + [box(*(origin + 60_000), *(origin + 61_000))])
    angle = rng.uniform(0, 2 * np.pi, 60)
    far = origin + 20_000 + np.column_stack([np.cos(angle), np.sin(angle)]) * rng.uniform(150e3, 220e3, (60, 1))
    pts = np.array([Point(*p) for p in far])
    lines = np.array([LineString([p, p + rng.uniform(-8e3, 8e3, 2)]) for p in far[:20]])
    for targets in (pts, lines):
        d, idx = geodesy.nearest(src, targets, G)
        map_choice = shapely.distance(src[:, None], targets[None, :]).argmin(axis=1)
        assert (map_choice != idx).any()  # the case is the one meant: the map's choice is not the ground's
        for s, v, i in zip(src, d, idx, strict=True):
            truth = [ground_distance(s, t, 5070) for t in targets]
            assert agrees(v, min(truth)), (v, min(truth))
            assert agrees(ground_distance(s, targets[i], 5070), min(truth))


def test_planar_choice_is_corrected_where_direction_matters():
    src = np.array([Point(*NEVADA)])
    north = Point(NEVADA[0], NEVADA[1] + 10_000)        # meridional scale > 1: shorter on the ground
    east = Point(NEVADA[0] + 9_900, NEVADA[1])          # parallel scale < 1: longer on the ground
    assert src[0].distance(east) < src[0].distance(north)
    d, idx = geodesy.nearest(src, np.array([north, east]), G)
    assert idx[0] == 0 and agrees(d[0], ground_distance(src[0], north, 5070))


def test_another_part_of_the_same_line_can_be_nearer_on_the_ground():
    x, y = NEVADA
    src = np.array([Point(x, y), box(x - 500, y - 500, x, y)])
    # one rail line: an arm 9,900 m east (nearest on the map) and an arm 10,000 m north (nearest on the ground)
    rail = LineString([(x + 9_900, y - 30_000), (x + 9_900, y + 10_000), (x - 30_000, y + 10_000)])
    d, _ = geodesy.nearest(src, np.array([rail]), G)
    for s, v in zip(src, d, strict=True):
        truth = ground_distance(s, rail, 5070)
        east_arm = ground_distance(s, LineString(rail.coords[:2]), 5070)
        assert agrees(v, truth) and east_arm > truth + 50


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_counts_within_a_radius_match_the_ground(seed):
    rng = np.random.default_rng(seed)
    src = np.array([box(x, y, x + 2_000, y + 1_000) for x, y in _scatter(rng, 10)])
    pts = np.array([Point(x, y) for x, y in _scatter(rng, 200)])
    radius = 30_000.0
    got = geodesy.count_within(src, pts, radius, G)
    for s, n in zip(src, got, strict=True):
        truth = sum(ground_distance(s, p, 5070) <= radius for p in pts if s.distance(p) < radius * 1.03)
        assert n == truth


@pytest.mark.parametrize("side", [-0.3, 0.3])
def test_a_point_just_within_the_radius_of_a_site_on_the_ground_is_counted(side):
    # the map's nearest pair between this long site and the deposit is 0.94 m longer than the ground's (37.8 N)
    site = shapely.buffer(LineString([(-2_069_821, 1_894_330), (-2_035_179, 1_914_330)]), 1.0, cap_style="flat")
    deposit = Point(-2_050_000, 1_900_000)
    truth = ground_distance(site, deposit, 5070)
    n = geodesy.count_within(np.array([site]), np.array([deposit]), truth + side, geodesy.Ground(5070))
    assert n.tolist() == [float(side > 0)]


def test_weighted_counts_do_not_depend_on_batches_or_the_order_of_points(monkeypatch):
    # counts are listed in batches of COUNT_PAIRS pairs and summed as whole counts per weight: the same
    # numbers to the bit in one batch or many, with the points in any order, and equal to the ground's
    rng = np.random.default_rng(3)
    src = np.array([box(x, y, x + 1_000, y + 1_000) for x, y in _scatter(rng, 40)])
    pts = np.array([Point(x, y) for x, y in _scatter(rng, 300)])
    w = rng.choice([0.1, 0.2, 0.4, 0.7, 1.0], len(pts))
    radius = 40_000.0
    whole = geodesy.count_within(src, pts, radius, G, w)
    monkeypatch.setattr(geodesy, "COUNT_PAIRS", 7)
    shuffle = rng.permutation(len(pts))
    batched = geodesy.count_within(src, pts[shuffle], radius, G, w[shuffle])
    assert np.array_equal(whole, batched)
    for s, n in zip(src[:8], whole[:8], strict=True):
        truth = sum(wi for p, wi in zip(pts, w, strict=True) if ground_distance(s, p, 5070) <= radius)
        assert n == pytest.approx(truth, abs=1e-9)
    assert (whole > 0).sum() > 20  # the radius reaches most sources' neighbours


def test_nearest_from_coordinates_equals_nearest_from_points():
    # nearest_xy (farthest's corners) gives nearest()'s distances and points, and the ground's own nearest
    rng = np.random.default_rng(11)
    subs = np.array([Point(x, y) for x, y in _scatter(rng, 60)])
    xy = np.vstack([_scatter(rng, 400), shapely.get_coordinates(subs[:5])])  # and five on a substation
    index = geodesy.target_index(subs, G)
    d, i = geodesy.nearest_xy(xy[:, 0], xy[:, 1], index, G)
    d_ref, i_ref = geodesy.nearest(shapely.points(xy), subs, G)
    assert np.array_equal(d, d_ref) and np.array_equal(i, i_ref)
    assert (d[-5:] == 0).all()
    for (x, y), v in zip(xy[:20], d[:20], strict=True):
        assert agrees(v, min(ground_distance(Point(x, y), s, 5070) for s in subs))
    with pytest.raises(ValueError, match="lines or polygons"):
        geodesy.nearest_xy(xy[:, 0], xy[:, 1], geodesy.target_index(np.array([box(*NEVADA, NEVADA[0] + 9,
                                                                                    NEVADA[1] + 9)]), G), G)


def test_local_scale_bounds_hold_over_the_reach():
    rng = np.random.default_rng(7)
    xy = _scatter(rng, 50, 400_000)
    s_min, s_max = G.local_scales(xy[:, 0], xy[:, 1], 20_000)
    for (x, y), lo, hi in zip(xy, s_min, s_max, strict=True):
        ox, oy = rng.uniform(-20_000, 20_000, 2)
        planar = np.hypot(ox, oy)
        true = G.between(x, y, x + ox, y + oy)
        assert lo * true <= planar <= hi * true


def _frame(geoms, **cols):
    return gpd.GeoDataFrame({"candidate_id": [f"c{i}" for i in range(len(geoms))], **cols},
                            geometry=list(geoms), crs=5070)


def _outline_distances(geom, target, step=25.0):
    pts = shapely.points(shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom), step)))
    return np.array([ground_distance(p, target, 5070) for p in pts])


def test_outside_keeps_no_land_within_the_buffer_on_the_ground():
    x, y = NEVADA
    towns = gpd.GeoDataFrame(geometry=[Point(x + 10_000, y + 10_000), Point(x + 3_000, y + 14_000)], crs=5070)
    land = _frame([box(x, y, x + 20_000, y + 20_000)])
    res = screen(land, [Outside(layer="towns", buffer_m=5_000)], RuleContext({"towns": towns}))
    kept = res.frame.geometry.iloc[0]
    for town in towns.geometry:
        assert _outline_distances(kept, town, 250).min() >= 5_000
    # the value explains the decision: the land's distance to the nearest town, at least the buffer
    v = res.frame["outside_towns__value"].iloc[0]
    assert 5_000 <= v <= 5_000 * 1.03 and agrees(v, min(ground_distance(kept, t, 5070) for t in towns.geometry))


def test_within_on_land_keeps_only_land_within_the_distance():
    x, y = NEVADA
    subs = gpd.GeoDataFrame(geometry=[Point(x, y)], crs=5070)
    land = _frame([box(x + 1_000, y - 30_000, x + 40_000, y + 30_000)])
    rule = Within(layer="subs", distance_m=25_000).at_stage("land")
    res = screen(land, [rule], RuleContext({"subs": subs}))
    kept = res.frame.geometry.iloc[0]
    far = _outline_distances(kept, subs.geometry.iloc[0], 250).max()
    assert 24_500 < far <= 25_000  # never beyond; at most the scale margin lost
    assert rule.rescreens() and not Within(layer="subs", distance_m=1).rescreens()


@pytest.mark.parametrize("side", [-0.3, 0.3])
def test_beyond_decides_on_the_ground_where_the_maps_nearest_pair_is_long(side):
    # EPSG:5070 at 37.8 N, 119.8 W: the geodesic between the map's nearest points is 0.94 m longer than the
    # distance at 5 km, so a site 0.3 m short of the threshold on the ground passed on the map's pair
    x, y = -2_050_000, 1_900_000
    roads = gpd.GeoDataFrame(geometry=[LineString([(-2_069_821, 1_894_330), (-2_035_179, 1_914_330)])], crs=5070)
    site = box(x - 5, y - 5, x + 5, y + 5)
    truth = ground_distance(site, roads.geometry.iloc[0], 5070)
    res = screen(_frame([site]), [Beyond(layer="roads", distance_m=truth + side)], RuleContext({"roads": roads}))
    assert bool(res.frame["eligible"].iloc[0]) == (side < 0)
    assert abs(res.frame["beyond_roads__value"].iloc[0] - truth) < 0.01


def test_within_on_footprints_judges_the_farthest_point():
    x, y = NEVADA
    subs = gpd.GeoDataFrame(geometry=[Point(x, y)], crs=5070)
    cells = _frame([box(x + 23_000 + k * 500, y, x + 24_000 + k * 500, y + 1_000) for k in range(6)])
    res = screen(cells, [Within(layer="subs", distance_m=25_000)], RuleContext({"subs": subs}))
    for g, value, ok in zip(cells.geometry, res.frame["within_subs__value"], res.frame["eligible"], strict=True):
        far = _outline_distances(g, subs.geometry.iloc[0]).max()
        assert agrees(value, far) and ok == (far <= 25_000)


def test_parts_are_contiguous_and_min_area_is_per_part():
    x, y = NEVADA
    two = shapely.union(box(x, y, x + 2_000, y + 2_000), box(x + 5_000, y, x + 5_300, y + 300))
    land = gpd.GeoDataFrame({"unit_id": ["P-a"]}, geometry=[two], crs=5070)
    parts = candidates_from_parts(land, min_width_m=100)
    assert (parts.geom_type == "Polygon").all() and parts["candidate_id"].tolist() == ["P-a.1", "P-a.2"]
    res = screen(parts, [MinArea(acres=100)])
    assert res.frame["eligible"].tolist() == [True, False]   # 988 acres and 22 acres: not one 1,010-acre site


@pytest.mark.parametrize("map_width, kept", [(100.4, False), (101.0, True)])
def test_min_width_holds_on_the_ground_in_the_direction_the_map_stretches(map_width, kept):
    # EPSG:5070 stretches north-south distances by 0.9 % at 40 N: an east-west arm 100.4 m wide on the map is
    # 99.5 m on the ground, narrower than 100 m; 101.0 m on the map is 100.1 m
    x, y = NEVADA
    land = shapely.union(box(x, y, x + 2_000, y + 2_000), box(x + 2_000, y + 1_000, x + 5_000, y + 1_000 + map_width))
    arm = box(x + 2_500, y, x + 4_500, y + 2_000)
    width = ground_distance(Point(x + 3_500, y + 1_000), Point(x + 3_500, y + 1_000 + map_width), 5070)
    assert (width >= 100) == kept
    parts = candidates_from_parts(gpd.GeoDataFrame({"unit_id": ["P-a"]}, geometry=[land], crs=5070), min_width_m=100)
    assert (shapely.intersection(parts.geometry.iloc[0], arm).area > 0) == kept


def test_land_outside_every_zone_is_snapped_or_kept_apart():
    x, y = NEVADA
    parcels = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(x, y, x + 10_000, y + 1_000)], crs=5070)
    zones = gpd.GeoDataFrame({"feature_id": ["w", "e"]}, geometry=[box(x, y, x + 4_960, y + 1_000),
                                                                 box(x + 5_000, y, x + 8_000, y + 1_000)], crs=5070)
    out = split_parcels(parcels, zones, snap_m=100)
    assert sorted(out["zone"]) == ["e", "outside", "w"]
    assert out.area.sum() == pytest.approx(parcels.area.sum())          # nothing lost
    east, outside = (out.loc[out["zone"] == z].geometry.iloc[0] for z in ("e", "outside"))
    joined = shapely.difference(east, zones.geometry.iloc[1])           # the land that joined zone e
    farthest = ground_distance(Point(joined.bounds[2], y + 500), zones.geometry.iloc[1], 5070)
    assert 99 < farthest <= 100                                         # within the snap on the ground
    assert outside.area == pytest.approx((10_000 - 8_000 - (joined.bounds[2] - x - 8_000)) * 1_000, rel=1e-9)


def test_scales_off_the_crs_domain_are_said_once():
    ground = geodesy.Ground(5070)  # a fresh one: the cached Ground may have spoken already
    far = np.array([-9e6, 9e6]), np.array([-9e6, 9e6])  # a search region reaching far beyond the CRS's domain
    with pytest.warns(SitingWarning, match="no scale factors at .* Clip the layers"):
        s_min, s_max = ground.local_scales(*far, 1e6)
    assert np.isfinite(s_min).all() and np.isfinite(s_max).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SitingWarning)
        ground.local_scales(*far, 1e6)  # said once per CRS


def test_a_layer_without_point_line_or_polygon_parts_is_a_clear_error():
    nested = shapely.GeometryCollection([shapely.GeometryCollection([Point(*NEVADA)])])
    with pytest.raises(GeometryError, match="no point, line or polygon parts"):
        geodesy.nearest(np.array([Point(NEVADA[0] + 5_000, NEVADA[1])]), np.array([nested]), G)


def _hollow_towards(town, radius, box_):
    land = box_.difference(town.buffer(radius, quad_segs=16))
    xy = shapely.get_coordinates(shapely.shortest_line(land, town)).ravel()
    return land, float(G.between(*xy))  # measured where it comes nearest on the map


@pytest.mark.parametrize("half", [1_000, 20_000])  # a cell (11 vertices) and a parcel (over 32)
def test_land_hollow_towards_a_target_is_measured_where_it_comes_nearest_on_the_ground(half):
    # land cut around a town follows an arc that is equally far on the map; on the ground one stretch of it
    # is nearer, by up to the scale's spread (2 % here)
    town = Point(*NEVADA)
    c = np.array(NEVADA) + 5_300 * np.array([np.cos(np.radians(120)), np.sin(np.radians(120))]) * (half < 5_000)
    land, on_map = _hollow_towards(town, 5_050, box(c[0] - half, c[1] - half, c[0] + half, c[1] + half))
    truth = ground_distance(land, town, 5070)
    assert on_map - truth > 20  # the case is the one meant: the map's nearest stretch is not the ground's
    d, _ = geodesy.nearest(np.array([land]), np.array([town]), G)
    assert agrees(d[0], truth)
    assert agrees(geodesy.pair_distance(np.array([land]), np.array([town]), G)[0], truth)
    r = (truth + on_map) / 2  # within on the ground, beyond where the map's nearest points say
    assert geodesy.count_within(np.array([land]), np.array([town]), r, G).tolist() == [1.0]


def test_points_off_the_crs_domain_are_a_clear_error():
    with pytest.raises(CRSError, match="no longitude/latitude"):
        geodesy.nearest(np.array([Point(-9e7, 9e7)]), np.array([Point(*NEVADA)]), G)


def test_a_target_index_built_once_gives_the_answers_of_fresh_searches():
    from siting.geo.geodesy import Ground, nearest, target_index

    rng = np.random.default_rng(5)
    ground = Ground(5070)
    origin = np.array([-1_900_000.0, 1_800_000.0])
    lines = np.array([LineString(rng.uniform(0, 60_000, (4, 2)) + origin) for _ in range(12)])
    index = target_index(lines, ground)
    for _ in range(3):  # the same index for several batches of sources, as the farthest-point search asks
        pts = shapely.points(rng.uniform(-20_000, 80_000, (200, 2)) + origin)
        fresh, kept = nearest(pts, lines, ground), nearest(pts, lines, ground, index=index)
        np.testing.assert_array_equal(kept[0], fresh[0])
        np.testing.assert_array_equal(kept[1], fresh[1])
    with pytest.raises(ValueError, match="another target array"):
        nearest(np.array([Point(*origin)]), lines.copy(), ground, index=index)


def test_scale_factors_in_blocks_are_projs_own(monkeypatch):
    # PROJ returns twelve arrays per call: points go in blocks (on the threads), and every value stays PROJ's to the bit
    rng = np.random.default_rng(11)
    x, y = (rng.uniform(-2_300_000, 2_200_000, 1_001), rng.uniform(300_000, 3_100_000, 1_001))
    monkeypatch.setattr("siting.geo.ground.FACTOR_BLOCK", 64)
    a, b = G.factors(x, y)
    proj = __import__("pyproj").Proj(5070)
    f = proj.get_factors(*proj(x, y, inverse=True))
    assert np.array_equal(a, np.asarray(f.tissot_semimajor)) and np.array_equal(b, np.asarray(f.tissot_semiminor))
    assert [v.tolist() for v in G.factors(x[0], y[0])] == [[a[0]], [b[0]]]  # one point: one value each


def test_counts_make_each_sources_hull_once_and_stay_true_for_hollow_land(monkeypatch):
    # land hollow towards its points is measured along its outline (its hull comes nearer); the hull of
    # a source in the ring with many points is made once, not once per (source, point) pair
    town = Point(*NEVADA)
    land, _ = _hollow_towards(town, 5_050, box(NEVADA[0] - 6_000, NEVADA[1] + 3_000, NEVADA[0] + 6_000,
                                                NEVADA[1] + 9_000))
    radius = 3_000.0  # 200 points 3 km from the land on the map: all in the ring the ground decides
    ring = shapely.buffer(land, radius, quad_segs=32).exterior
    pts = np.array(shapely.line_interpolate_point(ring, np.linspace(0, 1, 200, endpoint=False), normalized=True))
    made = []
    real = shapely.convex_hull
    monkeypatch.setattr(geodesy.shapely, "convex_hull", lambda g, **k: made.append(len(np.atleast_1d(g))) or
                        real(g, **k))
    got = geodesy.count_within(np.array([land, box(*NEVADA, NEVADA[0] + 500, NEVADA[1] + 500)]), pts, radius, G)
    assert sum(made) <= 2  # one hull per hollow source at most (was one per pair in the ring)
    truth = sum(ground_distance(land, p, 5070) <= radius for p in pts if land.distance(p) < radius * 1.03)
    assert got[0] == truth and 0 < truth < len(pts)  # the ground keeps some and not others


def test_a_target_index_keeps_segments_as_coordinates_and_makes_only_those_asked(monkeypatch):
    # a national rail layer cuts into millions of segments: the index keeps their ends, and a search from
    # cells makes line strings only for the pairs it measures; the pieces made equal the eagerly cut ones exactly
    from siting.geo.pieces import layer_pieces

    rng = np.random.default_rng(9)
    origin = np.array([-1_900_000.0, 1_800_000.0])
    lines = np.array([LineString(rng.uniform(0, 60_000, (6, 2)) + origin) for _ in range(20)]
                     + [Point(*(origin + 30_000)), box(*(origin - 9_000), *(origin - 1_000))])
    index = geodesy.target_index(lines, G)
    eager = layer_pieces(lines, step=geodesy.COARSE_STEP, outlines=True)
    assert index.cut.pieces is None and len(index.cut) == len(eager.pieces) > 100
    every = np.arange(len(eager.pieces))
    assert shapely.equals_exact(index.cut.take(every), eager.pieces, tolerance=0).all()
    np.testing.assert_array_equal(index.cut.box, eager.box)
    made = []
    real = shapely.linestrings
    monkeypatch.setattr("siting.geo.pieces.shapely.linestrings", lambda c, **k: made.append(len(c)) or real(c, **k))
    pts = shapely.buffer(shapely.points(rng.uniform(-20_000, 80_000, (20, 2)) + origin), 300, quad_segs=1)
    d, i = geodesy.nearest(pts, lines, G, index=index)
    assert sum(made) < len(eager.pieces)  # only pieces asked are made (polygon sources are measured as coordinates)
    truth = [min(ground_distance(p, f, 5070) for f in lines) for p in pts]
    assert all(agrees(v, t) for v, t in zip(d, truth, strict=True))
    assert all(agrees(ground_distance(p, lines[k], 5070), t) for p, k, t in zip(pts, i, truth, strict=True))


def test_a_layer_of_lines_is_cut_from_its_coordinates_as_geos_cuts_it(monkeypatch):
    # a layer of lines only (a national rail layer) is taken apart from its coordinates, a few features at a
    # time, and only its segments longer than the step are cut by GEOS: the same pieces, in the same order
    from shapely import MultiLineString

    from siting.geo import pieces

    rng = np.random.default_rng(4)
    origin = np.array([-1_900_000.0, 1_800_000.0])
    feats = [LineString(rng.uniform(0, 30_000, (rng.integers(2, 7), 2)) + origin) for _ in range(40)]
    feats[3] = MultiLineString([rng.uniform(0, 30_000, (4, 2)) + origin, rng.uniform(0, 30_000, (2, 2)) + origin])
    feats[7], feats[8] = None, LineString()
    feats += [None] * 5  # a batch of nothing at the end
    lines = np.array(feats, dtype=object)
    monkeypatch.setattr(pieces, "LINE_BATCH", 6)
    lazy = pieces.layer_pieces(lines, step=geodesy.COARSE_STEP, outlines=True, lazy=True)
    eager = pieces.layer_pieces(np.append(lines, Point(*origin)), step=geodesy.COARSE_STEP, outlines=True)
    every = np.arange(len(lazy))
    assert lazy.pieces is None and len(lazy) == len(eager.pieces) - 1 > 100  # the eager path cuts the point too
    assert shapely.equals_exact(lazy.take(every), eager.pieces[1:], tolerance=0).all()
    np.testing.assert_array_equal(lazy.owner, eager.owner[1:])
    assert set(lazy.owner) == set(range(40)) - {7, 8}
    np.testing.assert_array_equal(lazy.boxes(), eager.box[1:])


@pytest.mark.parametrize("metres", [0.001, 1.0, 1_000.0, 60_000.0, 99_000.0, 101_000.0, 2_000_000.0])
def test_geodesic_lengths_are_karneys_at_every_latitude_and_across_the_antimeridian(metres):
    """Short pairs are measured from their chord (a compiled loop), long ones and pairs across the
    antimeridian by pyproj.Geod: either way within 1e-6 m of pyproj.Geod on the CRS's own ellipsoid (GRS80
    for EPSG:5070), never shorter than the chord."""
    rng = np.random.default_rng(int(metres))
    n = 20_000
    lon, lat = rng.uniform(-180, 180, n), rng.uniform(-89.9, 89.9, n)
    lon[:100] = 179.99  # pairs across the antimeridian
    lon1, lat1, _ = G.geod.fwd(lon, lat, rng.uniform(0, 360, n), np.full(n, metres))
    got = G.geodesic(lon, lat, lon1, lat1)
    np.testing.assert_allclose(got, G.geod.inv(lon, lat, lon1, lat1)[2], rtol=0, atol=1e-6)
    chord = np.linalg.norm(G.ecef_of(lon, lat) - G.ecef_of(lon1, lat1), axis=1)
    assert (got >= chord - 1e-8).all()  # up to the rounding of Earth-centred coordinates (about 1e-9 m)
    assert G.geodesic(-116.0, 39.0, -116.0, 39.0) == 0.0 and np.isnan(G.geodesic(np.nan, 39.0, -116.0, 39.0))


@pytest.mark.parametrize("flip", [False, True])
def test_features_equally_near_name_the_lowest_index_whatever_was_measured_first(flip):
    # two roads meeting at a junction, which is the nearest point of both: the short road's piece is the
    # nearer by chord and is measured first, yet the tie names the road listed first, in either order
    jx, jy = NEVADA
    east = LineString([(jx, jy), (jx + 60_000, jy)])
    north = LineString([(jx, jy), (jx, jy + 2_000)])
    roads = np.array([north, east] if flip else [east, north])
    sources = np.array([Point(jx - 1_000, jy - 1_000), box(jx - 3_000, jy - 4_000, jx - 2_000, jy - 3_000)])
    ground = geodesy.Ground(5070)
    d, i = geodesy.nearest(sources, roads, ground)
    assert i.tolist() == [0, 0]
    assert d.tolist() == pytest.approx(geodesy.pair_distance(sources, roads[[0, 0]], ground).tolist(), abs=1e-9)
    touching = np.array([box(jx - 10, jy - 10, jx + 10, jy + 10)])  # touches both: the first is named too
    assert geodesy.nearest(touching, roads, ground)[1].tolist() == [0]


def test_exclusion_buffers_hold_the_distance_where_geos_rounds_a_corners_arc():
    # GEOS splits a corner's arc into round(angle / quantum) segments: an angle just under 1.5 quanta gets one
    # segment of 1.5 quanta, whose chord comes nearest the corner. Every buffer must still hold every point
    # within the distance on the ground: planar distance * s_max (the certified scale) from the shape
    import shapely

    from siting.geo import proximity
    from siting.geo.ground import QUAD_SEGS, buffer_radius

    quantum = np.pi / 2 / QUAD_SEGS
    x0, y0 = -1_700_000.0, 2_000_000.0
    for frac in np.linspace(0.2, 4.0, 77):
        th = frac * quantum
        poly = shapely.Polygon([(x0, y0), (x0 + 1000, y0), (x0 + 1000 + 1000 * np.cos(th), y0 + 1000 * np.sin(th)),
                                (x0, y0 + 3000)])
        radius = buffer_radius(np.array([poly]), 2_000, G, cover=True)[0]
        ax, ay, rho = proximity.anchors(np.array([poly]))
        s_max = G.local_scales(ax, ay, rho + 1.05 * 2_000)[1][0]  # the certified scale the radius is sized with
        edge = shapely.boundary(shapely.buffer(poly, radius, quad_segs=QUAD_SEGS))
        assert shapely.distance(poly, edge) >= 2_000 * s_max - 1e-6
