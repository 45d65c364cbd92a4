"""Distances true on the ground where the working CRS stretches one direction more than another.

At 72 degrees north EPSG:5070 scales one direction 2.2 times another: the map's nearest points of two shapes
are not the ground's, and their geodesic was up to 34 % longer than the true distance (the 0.25x national
country's far-north sites: grid distances fell by up to 27 %, outside's ledger values by 25 %).
pyproj.Geod (tests/oracle.py) is the oracle.
"""

from __future__ import annotations

import numpy as np
import shapely
from oracle import agrees, ground_distance, outline_farthest
from shapely import LineString, Point, box

from siting.geo import geodesy
from siting.geo.farthest import farthest_distance
from siting.geo.stretch import STRETCH, Stretch, refine

G = geodesy.Ground(5070)
FAR_NORTH = (-2_230_000.0, 5_724_000.0)  # EPSG:5070 metres at 72 N, 142 W: Tissot axes 1.49 and 0.67
NEVADA = (-1_900_000.0, 1_800_000.0)


def _lines(rng, n, centre, spread=40_000.0, length=30_000.0):
    out = []
    for _ in range(n):
        x, y = np.asarray(centre) + rng.uniform(-spread, spread, 2)
        angle = rng.uniform(0, np.pi)
        dx, dy = length / 2 * np.cos(angle), length / 2 * np.sin(angle)
        out.append(LineString([(x - dx, y - dy), (x + dx, y + dy)]))
    return np.array(out)


def _map_pair_geodesic(a, b) -> float:
    """The geodesic of the map's nearest points: what a planar search measures."""
    (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(a, b))
    return float(G.between(x0, y0, x1, y1))


def test_the_map_nearest_pair_is_far_off_the_ground_there_so_the_case_tests_something():
    assert Stretch(G).flags(np.array([FAR_NORTH[0], NEVADA[0]]), np.array([FAR_NORTH[1], NEVADA[1]])).tolist() == \
        [True, False]
    rng = np.random.default_rng(3)
    src = [box(x, y, x + 800, y + 800) for x, y in np.asarray(FAR_NORTH) + rng.uniform(-20_000, 20_000, (20, 2))]
    lines = _lines(rng, 20, FAR_NORTH)
    worst = max(_map_pair_geodesic(s, t) / ground_distance(s, t, 5070) for s, t in zip(src, lines, strict=True)
                if not s.intersects(t))
    assert worst > 1.05  # the map's pair would be more than 5 % too long for at least one


def test_pair_distance_and_counts_decide_on_the_ground_where_the_crs_stretches():
    line = LineString([(-2_209_800, 5_704_700), (-2_220_200, 5_743_300)])
    strip = np.array([line.buffer(5.0)])  # a source whose nearest point to P lies along its length
    p = np.array([Point(FAR_NORTH)])
    truth = ground_distance(strip[0], p[0], 5070)
    assert _map_pair_geodesic(strip[0], p[0]) > 1.3 * truth  # the map's pair: a third too long
    assert agrees(float(geodesy.pair_distance(strip, p, G)[0]), truth)
    assert geodesy.count_within(strip, p, truth * 1.01, G).tolist() == [1.0]
    assert geodesy.count_within(strip, p, truth * 0.99, G).tolist() == [0.0]


def test_within_judges_the_farthest_point_on_the_ground_where_the_crs_stretches():
    line = np.array([LineString([(-2_209_800, 5_704_700), (-2_220_200, 5_743_300)])])
    foot = box(FAR_NORTH[0] - 500, FAR_NORTH[1] - 500, FAR_NORTH[0] + 500, FAR_NORTH[1] + 500)
    truth = outline_farthest(foot, line[0], 5070)
    got = float(farthest_distance(np.array([foot]), line, 5070)[0])
    assert got >= truth - 1e-3 and agrees(got, truth), (got, truth)


def test_where_the_crs_fits_the_map_pair_is_kept_to_the_last_bit():
    rng = np.random.default_rng(5)
    a = np.array([box(x, y, x + 500, y + 500) for x, y in np.asarray(NEVADA) + rng.uniform(0, 50_000, (30, 2))])
    b = _lines(rng, 30, NEVADA)
    xy = shapely.get_coordinates(shapely.shortest_line(a, b)).reshape(-1, 4)
    gp = G.between(*xy.T)
    assert np.array_equal(refine(a, b, xy, gp, G), gp)
    assert not Stretch(G).flags((xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2).any()
    assert ((STRETCH - 1) / (STRETCH + 1)) ** 2 / 2 < 1e-3 / 3  # a third of the 0.1 % promised, at most


def test_a_pair_whose_local_metric_cannot_be_made_keeps_the_map_pair(monkeypatch):
    from siting.geo import stretch

    line = np.array([LineString([(-2_209_800, 5_704_700), (-2_220_200, 5_743_300)])])
    p = np.array([Point(FAR_NORTH)])
    xy = shapely.get_coordinates(shapely.shortest_line(p, line)).reshape(1, 4)
    gp = G.between(*xy.T)
    assert refine(p, line, xy, gp, G)[0] < gp[0]  # refined where the metric is known
    monkeypatch.setattr(stretch, "metric", lambda ground, x, y: np.full((len(x), 2, 2), np.nan))  # off the domain
    assert refine(p, line, xy, gp, G).tolist() == gp.tolist()
