"""Candidate sites: where a site could go before the constraints are applied.

``candidates_from_parcels`` makes one candidate per parcel; the constraint
engine then cuts each down to its eligible remainder (see
:mod:`siting.constraints`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame({"parcel_id": ["7", "9"], "agency": ["BLM", "DOD"]},
...                            geometry=[box(0, 0, 1000, 1000), box(0, 0, 10, 10)], crs=5070)
>>> c = candidates_from_parcels(parcels, min_area_acres=1)
>>> c[["candidate_id", "parcel_id", "agency"]].values.tolist()
[['P7', '7', 'BLM']]
>>> round(float(c["parcel_acres"].iloc[0]), 1)
247.1
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from siting import settings
from siting.crs import check_projected

__all__ = ["candidates_from_parcels"]

#: Canonical parcel columns carried onto candidates.
PARCEL_COLUMNS = ["parcel_id", "agency", "manager_name", "designation", "gap_status", "unit_name",
                  "state", "reported_acres", "source"]


def candidates_from_parcels(parcels: gpd.GeoDataFrame, *, min_area_acres: float = 0.0,
                            prefix: str = "P") -> gpd.GeoDataFrame:
    """One candidate per parcel (or eligible parcel remainder), kept if large enough.

    Parameters
    ----------
    parcels : GeoDataFrame
        Canonical parcels (or their eligible remainders) in a projected CRS.
    min_area_acres : float
        Smallest candidate kept.
    prefix : str
        Prepended to ``parcel_id`` to make the stable ``candidate_id``.

    Returns
    -------
    GeoDataFrame
        ``candidate_id``, the parcel columns, ``parcel_acres`` and geometry;
        a new frame (the input is not changed).
    """
    check_projected(parcels.crs, what="parcels")
    cols = [c for c in PARCEL_COLUMNS if c in parcels.columns]
    out = parcels[[*cols, "geometry"]].copy()
    out.insert(0, "candidate_id", prefix + out["parcel_id"].astype(str))
    out["parcel_acres"] = np.nan_to_num(shapely.area(out.geometry.values)) / settings.M2_PER_ACRE
    out = out[out["parcel_acres"] >= min_area_acres] if min_area_acres > 0 else out
    return out.reset_index(drop=True)
