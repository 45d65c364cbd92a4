"""DoD Military Installations, Ranges and Training Areas (MIRTA).

Boundaries become parcels with agency ``DOD`` (``COMPONENT`` kept, e.g.
``"AF Active"``); points become features of kind ``dod_site`` that name the
installation a DoD parcel belongs to (see :func:`siting.sources.name_dod_parcels`).

Examples
--------
>>> import pandas as pd
>>> from siting.sources.base import Context
>>> df = pd.DataFrame({"SITE_NAME": ["Nellis AFB"], "COMPONENT": ["AF Active"],
...                    "OPER_STAT": ["Active"]})
>>> convert_boundaries(df, Context("dod"))[["agency", "unit_name", "component"]].values.tolist()
[['DOD', 'Nellis AFB', 'AF Active']]
"""

from __future__ import annotations

import pandas as pd

from siting.sources.base import Context, Source, ids, register, text

__all__ = ["convert_boundaries", "convert_points"]

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


register(Source("mirta", "parcels", "DoD MIRTA installation boundaries", _SIG,
                convert_boundaries, priority=10, geometry="polygon"))
register(Source("mirta_points", "infrastructure", "DoD MIRTA installation points", _SIG,
                convert_points, priority=10, geometry="point"))
