"""Big outlines measured chunk by chunk in numpy give GEOS's distances (siting.geo.outline)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from oracle import agrees, ground_distance
from shapely import LineString, Point, Polygon

from siting.geo import geodesy
from siting.geo.outline import CHUNK, Outline

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
    row, xy = Outline(src).nearest(s, ends, np.full(len(s), np.inf))
    assert row.tolist() == list(range(len(s)))  # every pair answered once
    mine = np.hypot(xy[:, 2] - xy[:, 0], xy[:, 3] - xy[:, 1])
    np.testing.assert_allclose(mine, shapely.distance(src[s], pieces), rtol=1e-12, atol=1e-6)
    assert shapely.dwithin(shapely.points(xy[:, :2]), src[s], 1e-6).all()  # the points are the shapes'
    assert shapely.dwithin(shapely.points(xy[:, 2:]), pieces, 1e-6).all()


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
