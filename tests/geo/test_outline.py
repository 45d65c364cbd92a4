"""Outlines read as coordinates and measured chunk by chunk (a compiled loop for the nearest points, numpy for
every segment within a reach) give GEOS's distances (siting.geo.outline, siting.geo.kernels)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from oracle import agrees, ground_distance
from shapely import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

from siting.geo import geodesy
from siting.geo.outline import BIG, CHUNK, Outline
from siting.geo.pieces import outline_segments

NEVADA = (-1_900_000, 1_800_000)


def _ragged(rng, n_vertices, centre, radius, hole=True):
    """A star-shaped parcel with ``n_vertices`` vertices (and a hole), like a real BLM outline."""
    t = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    r = radius * (1 + 0.4 * np.sin(9 * t) + 0.1 * rng.random(n_vertices))
    shell = np.column_stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])
    holes = [[(centre[0] + dx * radius * 0.2, centre[1] + dy * radius * 0.2)
              for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]] if hole else []
    return shapely.make_valid(Polygon(shell, holes))


def _pieces(rng, n, centre, spread):
    xy = centre + rng.uniform(-spread, spread, (n, 2))
    step = rng.uniform(-3_000, 3_000, (n, 2)) * (rng.random((n, 1)) < 0.5)  # half points, half segments
    return np.column_stack([xy, xy + step])


def _answers_as_geos(src, s, ends, pieces):
    """Outline.nearest answers every pair once, with GEOS's distance, at points of the two shapes."""
    row, xy = Outline(src).nearest(s, ends, np.full(len(s), np.inf))
    assert row.tolist() == list(range(len(s)))  # every pair answered once
    mine = np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1])
    np.testing.assert_allclose(mine, shapely.distance(src[s], pieces), rtol=1e-12, atol=1e-6)
    assert shapely.dwithin(shapely.points(xy[:, :2]), src[s], 1e-6).all()  # the points are the shapes'
    assert shapely.dwithin(shapely.points(xy[:, 2:]), pieces, 1e-6).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_chunks_match_geos(seed):
    rng = np.random.default_rng(seed)
    src = np.array([_ragged(rng, int(rng.integers(200, 3_000)), NEVADA + rng.uniform(0, 1e5, 2), 20_000)
                    for _ in range(6)])
    ends = _pieces(rng, 400, np.array(NEVADA) + 5e4, 1e5)
    pieces = shapely.linestrings(ends.reshape(-1, 2, 2))
    s = rng.integers(0, len(src), len(ends))
    clear = ~shapely.intersects(src[s], pieces)  # outside the source: its outline holds the nearest points
    s, ends, pieces = s[clear], ends[clear], pieces[clear]
    _answers_as_geos(src, s, ends, pieces)


def test_pairs_within_reach_are_every_close_segment():
    rng = np.random.default_rng(3)
    src = np.array([_ragged(rng, 5 * CHUNK + 7, NEVADA, 10_000, hole=False)])
    ends = _pieces(rng, 50, np.array(NEVADA), 25_000)
    s, reach = np.zeros(len(ends), int), np.full(len(ends), 4_000.0)
    row, xy = Outline(src).pairs(s, ends, reach)
    ring = shapely.get_coordinates(src[0].exterior)
    segs = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
    truth = shapely.distance(segs[None, :], shapely.linestrings(ends.reshape(-1, 2, 2))[:, None]) <= 4_000
    assert np.bincount(row, minlength=len(ends)).tolist() == truth.sum(axis=1).tolist()
    assert (np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1]) <= 4_000).all()


def test_big_parcels_nearest_on_the_ground():
    """Through geodesy.nearest: an 800-vertex parcel against lines and polygons, Geod the oracle."""
    rng = np.random.default_rng(4)
    src = np.array([_ragged(rng, 800, NEVADA, 15_000), _ragged(rng, 80, np.array(NEVADA) + 6e4, 5_000)])
    lines = np.array([LineString(NEVADA + rng.uniform(-8e4, 8e4, (2, 2)) + 4e4) for _ in range(12)])
    towns = np.array([Point(NEVADA + rng.uniform(-8e4, 8e4, 2) + 4e4).buffer(2_000) for _ in range(12)])
    for targets in (lines, towns):
        targets = targets[~shapely.intersects(targets[:, None], src[None, :]).any(axis=1)]
        d, idx = geodesy.nearest(src, targets, geodesy.Ground(5070))
        for g, v, i in zip(src, d, idx, strict=True):
            truth = [ground_distance(g, t, 5070) for t in targets]
            assert agrees(v, min(truth)) and agrees(truth[i], min(truth))


def test_big_multipoints_and_collections_are_measured_whole():
    """Sources with many vertices that are not all on lines or rings (a multipoint, a collection with
    points) are measured by GEOS: their points count too."""
    rng = np.random.default_rng(5)
    pts = shapely.multipoints(NEVADA + rng.uniform(0, 2e4, (100, 2)))
    mixed = shapely.geometrycollections([_ragged(rng, 100, np.array(NEVADA) - 5e4, 3_000),
                                         Point(NEVADA[0] + 3e4, NEVADA[1] + 3e4)])
    target = np.array([LineString([(NEVADA[0] + 3.2e4, NEVADA[1] + 2.5e4), (NEVADA[0] + 3.2e4, NEVADA[1] + 4e4)])])
    src = np.array([pts, mixed])
    d, _ = geodesy.nearest(src, target, geodesy.Ground(5070))
    for g, v in zip(src, d, strict=True):
        assert agrees(v, ground_distance(g, target[0], 5070))


# The compiled loop (siting.geo.kernels) on every kind of outline, small and big; outline_segments' two paths.

def _kinds(rng):
    """Sources of every outline kind: hole-free and holed polygons, multipolygons, lines, rings, and a
    polygon with more than BIG vertices (its search starts from an upper bound)."""
    c = rng.uniform(0, 50_000, (7, 2))
    holed = Polygon(box(*c[1], *(c[1] + 4_000)).exterior.coords,
                    [box(*(c[1] + 1_000), *(c[1] + 3_000)).exterior.coords])
    t = np.linspace(0, 2 * np.pi, 4 * BIG, endpoint=False)
    star = Polygon(c[6] + np.column_stack([np.cos(t), np.sin(t)]) * (3_000 + 1_500 * np.sin(7 * t))[:, None])
    return np.array([
        shapely.buffer(shapely.points(c[0]), 1_500, quad_segs=3),
        holed,
        MultiPolygon([box(*c[2], *(c[2] + 900)), box(*(c[2] + 3_000), *(c[2] + 3_500))]),
        LineString([c[3], c[3] + [2_000, 500], c[3] + [2_500, 3_000]]),
        MultiLineString([[c[4], c[4] + [800, 0]], [c[4] + [0, 900], c[4] + [700, 1_600]]]),
        shapely.linearrings([c[5], c[5] + [1_000, 0], c[5] + [0, 1_000]]),
        star,
    ])


def _pairs(rng, src, n=3_000):
    """(source, piece) pairs that do not touch, as the searches measure them: half points, half segments."""
    xy = rng.uniform(-5_000, 55_000, (n, 2))
    step = rng.uniform(-2_000, 2_000, (n, 2)) * (rng.random((n, 1)) < 0.6)
    ends = np.column_stack([xy, xy + step])
    s = rng.integers(0, len(src), n)
    pieces = shapely.linestrings(ends.reshape(-1, 2, 2))
    pieces[np.all(step == 0, axis=1)] = shapely.points(xy[np.all(step == 0, axis=1)])
    clear = ~shapely.intersects(src[s], pieces)
    return s[clear], ends[clear], pieces[clear]


@pytest.mark.parametrize("seed", range(4))
def test_nearest_is_geos_shortest_line_for_pieces_that_do_not_touch(seed):
    rng = np.random.default_rng(seed)
    src = _kinds(rng)
    s, ends, pieces = _pairs(rng, src)
    _answers_as_geos(src, s, ends, pieces)


def test_nearest_leaves_out_pairs_beyond_reach_and_keeps_those_at_it():
    rng = np.random.default_rng(11)
    src = _kinds(rng)
    s, ends, pieces = _pairs(rng, src)
    truth = shapely.distance(src[s], pieces)
    reach = np.where(rng.random(len(s)) < 0.5, truth, truth * rng.uniform(0.2, 0.99, len(s)))  # at it, or short
    row, got = Outline(src).nearest(s, ends, reach)
    assert row.tolist() == np.flatnonzero(reach == truth).tolist()
    np.testing.assert_allclose(np.hypot(got[:, 2] - got[:, 0], got[:, 3] - got[:, 1]), truth[row], rtol=1e-12)


def test_nearest_without_segments_or_pairs():
    out = Outline(np.array([shapely.Point(0, 0), box(0, 0, 1, 1)]))
    row, got = out.nearest(np.array([0, 1]), np.array([[5.0, 0, 5, 0]] * 2), np.full(2, np.inf))
    assert row.tolist() == [1] and got.tolist() == [[1.0, 0.0, 5.0, 0.0]]  # a point has no outline
    row, got = out.nearest(np.zeros(0, int), np.empty((0, 4)), np.zeros(0))
    assert len(row) == 0 and got.shape == (0, 4)


def test_outline_segments_reads_plain_shapes_whole_and_takes_the_others_apart():
    # hole-free polygons and lines are read from their coordinates; holed and multi-part shapes from their rings
    # and parts: every kind gives exactly the segments of its lines and rings, in ring order
    src = _kinds(np.random.default_rng(7))
    src = np.r_[src, [None, Polygon()]]
    x1, y1, x2, y2, of = outline_segments(src)
    for i, geom in enumerate(src[:-2]):
        parts = shapely.get_parts(geom)
        lines = np.concatenate([shapely.get_rings(p) if p.geom_type == "Polygon" else [p] for p in parts])
        truth = np.concatenate([np.column_stack([c[:-1], c[1:]]) for c in map(shapely.get_coordinates, lines)])
        np.testing.assert_array_equal(np.column_stack([x1, y1, x2, y2])[of == i], truth)
    assert not np.isin(of, [len(src) - 2, len(src) - 1]).any()  # a missing or empty shape has no segments


def test_kernels_compile_without_a_cache_where_no_folder_can_hold_it(monkeypatch, caplog):
    # a read-only install and home: numba finds no cache folder and refuses cache=True; the kernels are then
    # compiled in the process (said in the log) and give the same answers
    import importlib
    import logging

    import numba.core.caching

    from siting.geo import kernels

    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])
    try:
        with caplog.at_level(logging.INFO, logger="siting.geo.kernels"):
            fresh = importlib.reload(kernels)
        assert "compiled without a cache" in caplog.text
        src = _kinds(np.random.default_rng(5))
        s, ends, pieces = _pairs(np.random.default_rng(6), src, n=300)
        out = Outline(src)
        c, g = out.chunks, out.groups
        xy = fresh.nearest_on_outline(out.segs, (c.start, c.size, c.box), (g.start, g.size, g.box), out.first_group,
                                      out.n_groups, s, ends, np.full(len(s), np.inf))
        np.testing.assert_allclose(np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1]),
                                   shapely.distance(src[s], pieces), rtol=1e-12, atol=1e-6)
    finally:
        monkeypatch.undo()
        importlib.reload(kernels)
