"""PAD-US (Protected Areas Database of the United States), USGS Gap Analysis Project.

Reads the Fee, Designation, Easement and Combined feature classes, the
flattened Vector-Analysis file with its truncated shapefile names (``Mng_Typ``,
``Mang_Nm``, ``MngNm_D``), web-service views (``SUM_GIS_Acres``) and
per-agency dissolves (``MngGroup``). ``GAP_Sts`` may be text or integer.
``GIS_Acres`` is kept as ``reported_acres`` so it can be compared with the area
siting measures.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"Mang_Name": ["BLM", "DOD"], "GAP_Sts": ["3", 4],
...                    "Des_Tp": ["PUB", "MIL"], "Unit_Nm": ["Ely", "Nellis"],
...                    "GIS_Acres": [100, 200]})
>>> out = convert(df, Context("parcels"))
>>> out[["agency", "gap_status", "reported_acres"]].values.tolist()
[['BLM', 3, 100.0], ['DOD', 4, 200.0]]
"""

from __future__ import annotations

import pandas as pd

from siting.io.sources.agencies import to_agency
from siting.io.sources.base import Context, Source, column, ids, number, register, text

__all__: list[str] = []  # the converter is a registered adapter; designations are in siting.schema

_MANAGER = ("Mang_Name", "Mang_Nm", "Mng_Nm", "MngNm_D", "Mang_Nm_D", "MngGroup", "Mng_Name")
_MANAGER_TEXT = ("Loc_Mang", "MngNm_D", "Mang_Name", "Mang_Nm", "Mng_Nm", "MngGroup")


def _gap_status(df: pd.DataFrame, ctx: Context, row_ids: pd.Series) -> pd.Series:
    vals = number(df, ctx, "GAP_Sts", "GAP_Status", "GAPSts", id_values=row_ids)
    bad = vals.notna() & ~vals.isin([1, 2, 3, 4])
    ctx.note("GAP_Sts", "values outside 1-4", int(bad.sum()), "set to NA", row_ids[bad])
    return vals.mask(bad).round().astype("Int64")


def _reported_acres(df: pd.DataFrame, ctx: Context, row_ids: pd.Series) -> pd.Series:
    """The dataset's own area: GIS_Acres, or the area fields of derived PAD-US products."""
    if column(df, "GIS_Acres", "SUM_GIS_Acres", "GIS_AcrsDb"):
        return number(df, ctx, "GIS_Acres", "SUM_GIS_Acres", "GIS_AcrsDb", id_values=row_ids)
    if column(df, "area_km2_in_nv", "area_km2"):
        return number(df, ctx, "area_km2_in_nv", "area_km2", id_values=row_ids) * 247.10538146717
    if column(df, "areaMngNm_Typ"):  # square metres, per-manager dissolves
        return number(df, ctx, "areaMngNm_Typ", id_values=row_ids) / 4046.8564224
    return pd.Series(float("nan"), index=df.index)


def convert(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Map a PAD-US table to the canonical parcels columns."""
    row_ids = ids(df, ctx, "OBJECTID", "mvt_id", "FID", prefix="padus-")
    manager_col = column(df, *_MANAGER)
    manager = df[manager_col] if manager_col else pd.Series(pd.NA, index=df.index)
    agency = to_agency(manager.to_numpy())
    agency.index = df.index
    mang_type = text(df, "Mang_Type", "Mng_Typ", "MngTp_D", "Mng_Level")
    tribal = mang_type.fillna("").str.upper().isin(["TRIB", "TRIBAL"])
    agency = agency.mask(tribal & (agency == "UNKNOWN"), "TRIB")
    out = pd.DataFrame(index=df.index)
    out["parcel_id"] = row_ids
    out["agency"] = agency
    out["manager_name"] = text(df, *_MANAGER_TEXT)
    out["designation"] = text(df, "Des_Tp", "DesTp", "Des_Type", "d_Des_Tp")
    out["gap_status"] = _gap_status(df, ctx, row_ids)
    out["unit_name"] = text(df, "Unit_Nm", "Loc_Nm", "Unit_Name")
    out["state"] = text(df, "State_Nm", "State")
    out["reported_acres"] = _reported_acres(df, ctx, row_ids)
    out["source"] = "padus"
    return out


SOURCE = register(
    Source(
        name="padus",
        kind="parcels",
        title="USGS PAD-US (Fee, Designation, Easement, Combined, Vector Analysis)",
        signatures=(
            frozenset({"mang_name"}), frozenset({"mang_nm"}), frozenset({"mngnm_d"}),
            frozenset({"mng_nm"}), frozenset({"mang_name", "gap_sts"}),
            frozenset({"mang_name", "des_tp", "unit_nm"}), frozenset({"mnggroup", "mng_level"}),
        ),
        convert=convert,
        priority=10,
        geometry="polygon",
    )
)
