"""The KD-tree factor engine gives exactly what plain STRtree queries give."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import STRtree

from siting.geo import proximity

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _layer(rng, kind: str, n: int, extent: float) -> np.ndarray:
    xy = rng.uniform(0, extent, (n, 2))
    if kind == "points":
        return shapely.points(xy)
    if kind == "lines":
        steps = rng.normal(0, extent / 20, (n, 5, 2)).cumsum(axis=1)
        return shapely.linestrings(xy[:, None, :] + steps)
    if kind == "multi":  # two-part lines and point pairs: parts must not be joined into segments
        a, b = _layer(rng, "lines", n, extent), _layer(rng, "lines", n, extent)
        lines = shapely.multilinestrings(np.stack([a, b], axis=1).tolist())
        pts = shapely.multipoints(np.stack([xy, xy[::-1]], axis=1))
        return np.where(rng.random(n) < 0.5, lines, pts)
    if kind == "cells":
        return shapely.buffer(shapely.points(xy), extent / 200, quad_segs=1)
    return shapely.buffer(shapely.points(xy), rng.uniform(extent / 100, extent / 10, n))  # polygons


@SETTINGS
@given(seed=st.integers(0, 10_000), src=st.sampled_from(["points", "cells", "lines"]),
       tgt=st.sampled_from(["points", "lines", "polygons", "multi"]), n=st.integers(1, 400), m=st.integers(1, 200),
       step=st.sampled_from([50.0, 1_000.0, 20_000.0]))
def test_nearest_equals_the_strtree_answer(seed, src, tgt, n, m, step):
    rng = np.random.default_rng(seed)
    sources, targets = _layer(rng, src, n, 100_000), _layer(rng, tgt, m, 100_000)
    d, i = proximity.nearest(sources, targets, step=step, k=4)
    (s, _), ref = STRtree(targets).query_nearest(sources, return_distance=True, all_matches=False)
    assert np.allclose(d[s], ref, rtol=0, atol=1e-6)
    assert np.allclose(shapely.distance(sources, targets[i]), d, rtol=0, atol=1e-6)  # the index names it


@SETTINGS
@given(seed=st.integers(0, 10_000), src=st.sampled_from(["points", "cells", "lines", "polygons"]),
       n=st.integers(1, 300), m=st.integers(1, 500), radius=st.floats(100, 30_000), weighted=st.booleans())
def test_count_within_equals_the_strtree_answer(seed, src, n, m, radius, weighted):
    rng = np.random.default_rng(seed)
    sources, points = _layer(rng, src, n, 100_000), _layer(rng, "points", m, 100_000)
    w = rng.choice([1.0, 0.7, 0.2], m) if weighted else None
    got = proximity.count_within(sources, points, radius, w)
    a, b = STRtree(points).query(sources, predicate="dwithin", distance=radius)
    ref = np.bincount(a, weights=None if w is None else w[b], minlength=n)
    assert np.allclose(got, ref, atol=1e-9)


def test_sources_inside_polygon_targets_are_at_distance_zero():
    big = shapely.Point(0, 0).buffer(50_000)
    d, i = proximity.nearest(np.array([shapely.Point(10, 10), shapely.box(-5, -5, 5, 5)]), np.array([big]))
    assert d.tolist() == [0.0, 0.0] and i.tolist() == [0, 0]


def test_reuse_answers_subsets_from_kept_results_and_never_other_targets():
    rng = np.random.default_rng(3)
    cells, lines = _layer(rng, "cells", 500, 100_000), _layer(rng, "lines", 60, 100_000)
    ref_d, ref_i = proximity.nearest(cells[::3], lines)
    other = proximity.nearest(cells[::3], lines[:10])
    memo = proximity.Reuse()
    proximity.nearest(cells, lines, reuse=memo)
    d, i = proximity.nearest(cells[::3], lines, reuse=memo)
    d[:] = -1.0  # a caller changing its answer does not change the kept one
    again, _ = proximity.nearest(cells[::3], lines, reuse=memo)
    fewer = proximity.nearest(cells[::3], lines[:10], reuse=memo)
    anchors_sub = proximity.anchors(cells[5:9], reuse=memo)
    assert len(memo) == 3  # anchors, and the nearest to each target set
    assert np.array_equal(again, ref_d) and np.array_equal(i, ref_i)
    assert all(np.array_equal(a, b) for a, b in zip(fewer, other, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(anchors_sub, proximity.anchors(cells[5:9]), strict=True))


def test_reuse_shares_the_identities_of_one_array_and_not_of_one_changed_in_place():
    # every factor keeps its answer for the same sites: one array of their identities serves them all
    # (16 bytes a site each otherwise); an array whose objects changed gets its own, and no stale answer
    cells = shapely.box(np.arange(5.0), 0, np.arange(5.0) + 1, 1)
    memo = proximity.Reuse()
    memo.keep("a", cells, (np.arange(5.0),))
    memo.keep("b", cells, (np.arange(5.0) * 2,))
    assert memo._kept["a"][0][0] is memo._kept["b"][0][0]
    cells[2] = shapely.box(10, 0, 11, 1)  # the same array, another object in it
    memo.keep("c", cells, (np.arange(5.0) * 3,))
    assert memo._kept["c"][0][0] is not memo._kept["a"][0][0]
    assert memo.recall("c", cells)[0].tolist() == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert memo.recall("a", cells) is None and memo.recall("a", cells[[0, 1, 3]])[0].tolist() == [0.0, 1.0, 3.0]


@pytest.mark.parametrize("src", ["points", "cells", "polygons"])
def test_sources_in_many_slices_on_threads_give_the_single_call_answer(monkeypatch, src):
    rng = np.random.default_rng(11)
    sources, lines = _layer(rng, src, 3_000, 100_000), _layer(rng, "multi", 300, 100_000)
    deposits = _layer(rng, "points", 2_000, 100_000)
    whole = (*proximity.nearest(sources, lines, k=2), proximity.count_within(sources, deposits, 4_000.0),
             *proximity.anchors(sources))
    monkeypatch.setattr(proximity, "PIECE", 97)  # 31 slices, several uncertified in each
    sliced = (*proximity.nearest(sources, lines, k=2, workers=2),
              proximity.count_within(sources, deposits, 4_000.0, workers=2), *proximity.anchors(sources))
    assert all(np.array_equal(a, b) for a, b in zip(sliced, whole, strict=True))
    (s, _), ref = STRtree(lines).query_nearest(sources, return_distance=True, all_matches=False)
    assert np.allclose(sliced[0][s], ref, rtol=0, atol=1e-6)


def test_count_within_is_the_same_in_batches_with_radii_per_source(monkeypatch):
    """More ring sources than a batch (a national run): each batch takes its own sources' radii."""
    from shapely import Point, box

    from siting.geo import proximity

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 50_000, 300), rng.uniform(0, 50_000, 300)
    sources = shapely.buffer(box(x, y, x + 800, y + 800), 0)  # polygons: anchors with a ring to check
    points = np.array([Point(p) for p in rng.uniform(0, 50_000, (2000, 2))])
    radii = rng.uniform(1_000, 5_000, len(sources))
    whole = proximity.count_within(sources, points, radii)
    monkeypatch.setattr(proximity, "BATCH", 7)
    batched = proximity.count_within(sources, points, radii)
    exact = np.array([shapely.dwithin(s, points, r).sum() for s, r in zip(sources, radii, strict=True)])
    np.testing.assert_array_equal(batched, exact)
    np.testing.assert_array_equal(whole, exact)


def test_ball_pairs_are_every_pair_within_each_querys_radius_and_beyond_its_inner_radius():
    """Radii spread over three orders (grouped by size inside): the pairs equal a brute-force listing."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(11)
    pts, queries = rng.uniform(0, 10_000, (3_000, 2)), rng.uniform(0, 10_000, (400, 2))
    radius = np.exp(rng.uniform(np.log(20), np.log(3_000), len(queries)))
    beyond = radius * rng.uniform(0, 0.9, len(queries))
    s, p = proximity.ball_pairs(cKDTree(pts), queries, radius, beyond=beyond)
    d = np.linalg.norm(queries[:, None] - pts[None], axis=2)
    want = np.argwhere((d <= radius[:, None]) & (d > beyond[:, None]))
    assert len(want) > 10_000 and (np.diff(s) >= 0).all()  # sorted by query
    assert sorted(zip(s.tolist(), p.tolist(), strict=True)) == sorted(map(tuple, want.tolist()))


def test_ball_split_counts_the_sure_points_per_class_and_lists_the_rest():
    """Against a brute-force listing: points within ``sure`` counted by class, those between listed once."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(12)
    pts, queries = rng.uniform(0, 10_000, (3_000, 2)), rng.uniform(0, 10_000, (400, 2))
    radius = np.exp(rng.uniform(np.log(20), np.log(3_000), len(queries)))
    sure = radius * rng.uniform(0, 1.0, len(queries))
    classes = rng.integers(0, 3, len(pts))
    from siting.geo.balls import ball_split

    counts, s, p = ball_split(cKDTree(pts), queries, radius, sure, classes, 3)
    d = np.linalg.norm(queries[:, None] - pts[None], axis=2)
    inside = d <= sure[:, None]
    want = np.stack([(inside & (classes == c)[None]).sum(axis=1) for c in range(3)], axis=1)
    np.testing.assert_array_equal(counts, want)
    between = np.argwhere(~inside & (d <= radius[:, None]))
    assert counts.sum() > 10_000 and len(between) > 1_000
    assert sorted(zip(s.tolist(), p.tolist(), strict=True)) == sorted(map(tuple, between.tolist()))


def test_ball_pairs_refuses_a_nan_radius_rather_than_finding_nothing():
    from scipy.spatial import cKDTree

    with pytest.raises(ValueError, match="1 queries have a NaN radius"):
        proximity.ball_pairs(cKDTree(np.zeros((3, 2))), np.zeros((2, 2)), np.array([1.0, np.nan]))
