"""The compiled nearest-points loop gives GEOS's answers (siting.geo.kernels through Outline.nearest), on every
kind of outline, small and big."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon, box

from siting.geo.outline import BIG, Outline
from siting.geo.pieces import outline_segments


def _sources(rng):
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
    src = _sources(rng)
    s, ends, pieces = _pairs(rng, src)
    row, got = Outline(src).nearest(s, ends, np.full(len(s), np.inf))
    assert row.tolist() == list(range(len(s)))  # every pair answered once
    mine = np.hypot(got[:, 2] - got[:, 0], got[:, 3] - got[:, 1])
    np.testing.assert_allclose(mine, shapely.distance(src[s], pieces), rtol=1e-12, atol=1e-6)
    assert shapely.dwithin(shapely.points(got[:, :2]), src[s], 1e-6).all()  # the points are the shapes'
    assert shapely.dwithin(shapely.points(got[:, 2:]), pieces, 1e-6).all()


def test_nearest_leaves_out_pairs_beyond_reach_and_keeps_those_at_it():
    rng = np.random.default_rng(11)
    src = _sources(rng)
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
    src = _sources(np.random.default_rng(7))
    src = np.r_[src, [None, Polygon()]]
    x1, y1, x2, y2, of = outline_segments(src)
    for i, geom in enumerate(src[:-2]):
        parts = shapely.get_parts(geom)
        lines = np.concatenate([shapely.get_rings(p) if p.geom_type == "Polygon" else [p] for p in parts])
        truth = np.concatenate([np.column_stack([c[:-1], c[1:]]) for c in map(shapely.get_coordinates, lines)])
        np.testing.assert_array_equal(np.column_stack([x1, y1, x2, y2])[of == i], truth)
    assert not np.isin(of, [len(src) - 2, len(src) - 1]).any()  # a missing or empty shape has no segments
