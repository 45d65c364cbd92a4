"""Rules on area decided on the ellipsoid when the working CRS is not equal-area (a UTM zone).

The oracle is pyproj.Geod's polygon area, on edges densified in the test (never siting's own code).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely import box

from siting.candidates.parcels import candidates_from_parcels
from siting.screen.constraints import screen
from siting.screen.rules import MinArea

GEOD = Geod(ellps="GRS80")  # NAD83's ellipsoid
M2_PER_ACRE = 4046.8564224


def _geod_acres(geoms, crs) -> np.ndarray:
    to_lonlat = Transformer.from_crs(crs, 4269, always_xy=True)
    out = []
    for g in geoms:
        xy = shapely.get_coordinates(shapely.segmentize(g.exterior, 5.0))
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        out.append(abs(GEOD.polygon_area_perimeter(lon, lat)[0]) / M2_PER_ACRE)
    return np.array(out)


def _squares(crs: int, lon: float, lat: float) -> gpd.GeoDataFrame:
    # squares of 639.9 to 641.0 map acres, 3 km apart in a column
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    side = np.sqrt(np.arange(639.9, 641.0, 0.05) * M2_PER_ACRE)
    return gpd.GeoDataFrame({"parcel_id": [f"s{i}" for i in range(len(side))], "agency": "BLM"},
                            geometry=[box(x, y + i * 3000, x + s, y + i * 3000 + s) for i, s in enumerate(side)],
                            crs=crs)


def test_min_area_is_decided_on_the_ellipsoid_in_a_utm_zone():
    # UTM 11N 2.5 degrees east of its central meridian: a map acre is 1.0004 acres, within the 0.1 % a working
    # CRS may be off, so the map's 640.2 acres (639.95 on the ground) passed 640
    land = _squares(26911, -114.5, 38.0)
    res = screen(candidates_from_parcels(land), [MinArea(acres=640)])
    truth = _geod_acres(land.geometry, land.crs)
    assert (shapely.area(land.geometry.values) / M2_PER_ACRE / truth).min() > 1.0003  # the map's acres are larger
    passed = res.frame["min_area__pass"].to_numpy(bool)
    assert passed.tolist() == (truth >= 640).tolist()
    assert 3 <= (~passed).sum() < len(land) - 3  # the threshold falls inside the range
    assert np.allclose(res.frame["min_area__value"], truth, rtol=1e-6)
    assert np.allclose(res.frame["parcel_acres"], truth, rtol=1e-5)


def test_an_equal_area_crs_keeps_its_own_acres():
    land = _squares(5070, -116.0, 39.0)
    res = screen(candidates_from_parcels(land), [MinArea(acres=640)])
    mapped = shapely.area(land.geometry.values) / M2_PER_ACRE
    assert np.array_equal(res.frame["min_area__value"].to_numpy(), mapped)
    assert np.allclose(mapped, _geod_acres(land.geometry, land.crs), rtol=1e-6)
