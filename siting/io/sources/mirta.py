"""DoD Military Installations, Ranges and Training Areas (MIRTA).

Boundaries become parcels with agency ``DOD`` (``COMPONENT`` kept, e.g.
``"AF Active"``); points become features of kind ``dod_site`` that name the
installation a DoD parcel belongs to (see :func:`siting.io.sources.name_dod_parcels`).

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"SITE_NAME": ["Nellis AFB"], "COMPONENT": ["AF Active"],
...                    "OPER_STAT": ["Active"]})
>>> convert_boundaries(df, Context("dod"))[["agency", "unit_name", "component"]].values.tolist()
[['DOD', 'Nellis AFB', 'AF Active']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.io.sources.base import Context, Source, ids, register, text

__all__ = ["name_installations"]

_SIG = (frozenset({"site_name", "component"}),)


def convert_boundaries(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MIRTA boundaries -> parcels (agency DOD)."""
    out = pd.DataFrame(index=df.index)
    out["parcel_id"] = ids(df, ctx, "OBJECTID", "SITE_NAME", prefix="mirta-")
    out["agency"] = "DOD"
    out["manager_name"] = text(df, "COMPONENT")
    out["designation"] = "MIL"
    out["gap_status"] = pd.array([pd.NA] * len(df), dtype="Int64")
    out["unit_name"] = text(df, "SITE_NAME")
    out["state"] = text(df, "STATE_TERR")
    out["reported_acres"] = float("nan")
    out["source"] = "mirta"
    out["component"] = text(df, "COMPONENT")
    out["installation"] = text(df, "SITE_NAME")
    return out


def convert_points(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MIRTA points -> features (kind ``dod_site``)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "OBJECTID", prefix="mirta-")
    out["kind"] = "dod_site"
    out["name"] = text(df, "SITE_NAME")
    out["voltage_kv"] = float("nan")
    out["status"] = text(df, "OPER_STAT")
    out["category"] = text(df, "COMPONENT")
    out["joint_base"] = text(df, "JOINT_BASE")
    out["source"] = "mirta_points"
    return out


def name_installations(parcels, points, *, max_distance_m: float = 5_000.0) -> pd.Series:
    """Name the DoD installation(s) each DoD parcel belongs to, from MIRTA points.

    A point inside a DoD parcel, or within ``max_distance_m`` of it, names it; several names are
    joined with ``"; "`` nearest first. Non-DoD parcels and parcels with no point get NA.

    Parameters
    ----------
    parcels : GeoDataFrame
        Canonical parcels (``agency``) in a projected CRS.
    points : GeoDataFrame
        Canonical MIRTA points (``name``) in the same CRS.
    max_distance_m : float

    Returns
    -------
    Series of str on the parcels' index

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> parcels = gpd.GeoDataFrame({"agency": ["DOD", "BLM"]}, crs=5070,
    ...     geometry=[box(0, 0, 1000, 1000), box(20_000, 0, 21_000, 1000)])
    >>> pts = gpd.GeoDataFrame({"name": ["Nellis AFB", "Mill"]}, crs=5070,
    ...     geometry=[Point(500, 500), Point(20_500, 500)])
    >>> name_installations(parcels, pts).tolist()
    ['Nellis AFB', <NA>]
    """
    out = pd.Series(pd.NA, index=parcels.index, dtype="object")
    dod = np.flatnonzero(parcels["agency"].to_numpy() == "DOD")
    if not len(dod) or not len(points):
        return out
    geoms = np.asarray(parcels.geometry.values, dtype=object)[dod]
    tree = STRtree(np.asarray(points.geometry.values, dtype=object))
    p_idx, q_idx = tree.query(geoms, predicate="dwithin", distance=max_distance_m)
    if not len(p_idx):
        return out
    dist = shapely.distance(geoms[p_idx], tree.geometries[q_idx])
    pairs = pd.DataFrame({"parcel": dod[p_idx], "dist": dist,
                          "name": points["name"].astype(str).to_numpy()[q_idx]})
    pairs = pairs.sort_values(["parcel", "dist", "name"]).drop_duplicates(["parcel", "name"])
    joined = pairs.groupby("parcel")["name"].agg("; ".join)
    out.iloc[joined.index.to_numpy()] = joined.to_numpy()
    return out


register(Source("mirta", "parcels", "DoD MIRTA installation boundaries", _SIG,
                convert_boundaries, priority=10, geometry="polygon"))
register(Source("mirta_points", "infrastructure", "DoD MIRTA installation points", _SIG,
                convert_points, priority=10, geometry="point"))
