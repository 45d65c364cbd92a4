"""Threaded slices give exactly what one call gives, in order."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from siting.core import settings
from siting.geo.parallel import chunked, map_pieces


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("size", [None, 1, 7, 1_000])
def test_map_pieces_covers_every_item_once_in_order(monkeypatch, threads, size):
    monkeypatch.setattr(settings, "THREADS", threads)
    values = np.arange(50)
    parts = map_pieces(lambda a: a.copy(), values, min_items=2, size=size)
    starts = [s for s, _ in parts]
    assert starts == sorted(starts) and np.array_equal(np.concatenate([p for _, p in parts]), values)
    if size is not None:
        assert max(len(p) for _, p in parts) <= size
    assert len(parts) >= (threads if threads > 1 else 1)


def test_short_arrays_run_in_one_call(monkeypatch):
    monkeypatch.setattr(settings, "THREADS", 2)
    assert len(map_pieces(len, np.arange(10), min_items=11, size=2)) == 1


def test_chunked_geometry_calls_equal_one_call(monkeypatch):
    monkeypatch.setattr(settings, "THREADS", 2)
    rng = np.random.default_rng(0)
    a = shapely.buffer(shapely.points(rng.uniform(0, 100, (501, 2))), 3)
    b = shapely.buffer(shapely.points(rng.uniform(0, 100, (501, 2))), 3)
    assert np.array_equal(chunked(shapely.distance, a, b, min_items=10), shapely.distance(a, b))
    assert np.array_equal(chunked(shapely.dwithin, a, b, min_items=10, distance=5.0), shapely.dwithin(a, b, 5.0))
