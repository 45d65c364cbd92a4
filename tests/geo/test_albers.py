"""The numpy Albers inverse gives PROJ's longitudes and latitudes (siting.geo.albers)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Proj

from siting.geo.albers import albers_inverse
from siting.geo.ground import Ground


@pytest.mark.parametrize("crs", [5070, 3338, "ESRI:102003",
                                 "+proj=aea +lat_0=-32 +lon_0=-60 +lat_1=-5 +lat_2=-42 +x_0=500 +y_0=-200 +ellps=intl"])
def test_inverse_matches_proj(crs):
    proj = Proj(CRS.from_user_input(crs))
    rng = np.random.default_rng(1)
    south = "lat_0=-32" in str(crs)
    lon = rng.uniform(-170, -40, 200_000)
    lat = rng.uniform(-75, -15, 200_000) if south else rng.uniform(15, 75, 200_000)
    x, y = proj(lon, lat)
    mine = albers_inverse(crs)(x, y)
    theirs = proj(x, y, inverse=True)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=0, atol=2e-9)


def test_other_projections_keep_proj():
    assert albers_inverse(32611) is None            # UTM
    assert albers_inverse("EPSG:3310") is not None   # California Albers
    assert albers_inverse("+proj=aea +lat_1=29.5 +lat_2=45.5 +units=ft") is None  # not metres
    ground = Ground(32611)
    lon, lat = ground.lonlat(np.array([500_000.0]), np.array([4_000_000.0]))
    assert abs(lon[0] + 117) < 1e-9 and 36 < lat[0] < 36.2


def test_ground_lengths_unchanged_by_the_fast_inverse():
    ground = Ground(5070)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-2.3e6, 2.2e6, (2, 10_000)), rng.uniform(3e5, 3.1e6, (2, 10_000))
    fast = ground.between(x[0], y[0], x[1], y[1])
    ground._inverse = None
    slow = ground.between(x[0], y[0], x[1], y[1])
    np.testing.assert_allclose(fast, slow, rtol=1e-11, atol=1e-3)
