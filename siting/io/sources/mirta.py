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


def name_installations(frame, points, *, crs=None) -> pd.DataFrame:
    """Name the DoD installation of each DoD site or parcel: the MIRTA point inside it, else the nearest.

    One name per row (a site on one part of a large DoD holding gets that part's installation, not
    every installation of the holding), with the distance to that installation's point, so a name
    taken from a point 40 km away reads as such. Rows of other agencies get NA.

    Parameters
    ----------
    frame : GeoDataFrame
        Sites, candidates or parcels (``agency``) in a projected CRS.
    points : GeoDataFrame
        Canonical MIRTA points (``name``) in the same CRS.
    crs : CRS-like, optional
        The projected CRS: "nearest" is then nearest on the ground and ``installation_m`` geodesic
        metres (else on the map, in CRS units).

    Returns
    -------
    DataFrame on the frame's index
        ``installation`` (str) and ``installation_m`` (0 where the point is inside).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> parcels = gpd.GeoDataFrame({"agency": ["DOD", "DOD", "BLM"]}, crs=5070, geometry=[
    ...     box(0, 0, 1000, 1000), box(30_000, 0, 31_000, 1000), box(20_000, 0, 21_000, 1000)])
    >>> pts = gpd.GeoDataFrame({"name": ["Nellis AFB", "Fallon NAS"]}, crs=5070,
    ...     geometry=[Point(500, 500), Point(40_000, 500)])
    >>> names = name_installations(parcels, pts)
    >>> names["installation"].tolist(), names["installation_m"].tolist()
    (['Nellis AFB', 'Fallon NAS', <NA>], [0.0, 9000.0, nan])
    """
    from siting.geo.spatial import nearest  # lazy: sources stay light

    out = pd.DataFrame({"installation": pd.Series(pd.NA, index=frame.index, dtype="object"),
                        "installation_m": np.nan}, index=frame.index)
    dod = np.flatnonzero(frame["agency"].to_numpy() == "DOD")
    if not len(dod) or not len(points):
        return out
    d, idx = nearest(np.asarray(frame.geometry.values, dtype=object)[dod],
                     np.asarray(points.geometry.values, dtype=object), crs=crs)
    found = idx >= 0
    out.iloc[dod[found], 0] = points["name"].astype(str).to_numpy()[idx[found]]
    out.iloc[dod[found], 1] = d[found]
    return out


register(Source("mirta", "parcels", "DoD MIRTA installation boundaries", _SIG,
                convert_boundaries, priority=10, geometry="polygon"))
register(Source("mirta_points", "infrastructure", "DoD MIRTA installation points", _SIG,
                convert_points, priority=10, geometry="point"))
