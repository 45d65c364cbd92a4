"""BLM datasets: Surface Management Agency (SMA) and mining claims (MLRS).

* ``blm_sma`` - who manages the surface (``ADMIN_AGENCY_CODE``,
  ``ADMIN_UNIT_NAME``, ``ADMIN_ST``) -> parcels.
* ``blm_claims`` - mining claims (``CSE_NR``, ``CSE_NAME``, ``CSE_DISP`` case
  disposition, ``BLM_PROD`` claim type): evidence of claimed or disturbed land,
  read as features of kind ``mining_claim``.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"CSE_NR": ["CA1"], "CSE_NAME": ["Lucky"], "CSE_DISP": ["Active"],
...                    "BLM_PROD": ["PLACER CLAIM"]})
>>> convert_claims(df, Context("claims"))[["kind", "status", "category"]].values.tolist()
[['mining_claim', 'active', 'placer claim']]
"""

from __future__ import annotations

import pandas as pd

from siting.io.sources.agencies import to_agency
from siting.io.sources.base import Context, Source, ids, number, register, text

__all__: list[str] = []  # the converters are registered adapters: use siting.io.sources.get(name)


def convert_sma(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """BLM Surface Management Agency -> parcels."""
    row_ids = ids(df, ctx, "SMA_ID", "OBJECTID", prefix="sma-")
    code = text(df, "ADMIN_AGENCY_CODE", "ADMIN_AGEN", "SMA_CODE")
    dept = text(df, "ADMIN_DEPT_CODE", "ADMIN_DEPT")
    agency = pd.Series(to_agency(code.to_numpy()).to_numpy(), index=df.index)
    agency = agency.mask((agency == "UNKNOWN") & dept.fillna("").eq("DOD"), "DOD")
    out = pd.DataFrame(index=df.index)
    out["parcel_id"] = row_ids
    out["agency"] = agency
    out["manager_name"] = text(df, "ADMIN_UNIT_NAME", "ADMIN_UNIT")
    out["designation"] = text(df, "ADMIN_UNIT_TYPE", "ADMIN_UN_1")
    out["gap_status"] = pd.array([pd.NA] * len(df), dtype="Int64")
    out["unit_name"] = text(df, "ADMIN_UNIT_NAME", "ADMIN_UNIT")
    out["state"] = text(df, "ADMIN_ST")
    out["reported_acres"] = number(df, ctx, "GIS_ACRES", "ACRES", id_values=row_ids)
    out["source"] = "blm_sma"
    return out


def convert_claims(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """BLM mining claims -> features (kind ``mining_claim``)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "CSE_NR", prefix="claim-")
    out["kind"] = "mining_claim"
    out["name"] = text(df, "CSE_NAME")
    out["voltage_kv"] = float("nan")
    out["status"] = text(df, "CSE_DISP").str.lower()
    out["category"] = text(df, "BLM_PROD").str.lower()
    out["recorded_acres"] = number(df, ctx, "RCRD_ACRS")
    out["source"] = "blm_claims"
    return out


register(Source("blm_sma", "parcels", "BLM Surface Management Agency",
                (frozenset({"admin_agency_code"}), frozenset({"admin_agen", "admin_st"})),
                convert_sma, priority=10, geometry="polygon"))
register(Source("blm_claims", "infrastructure", "BLM mining claims (MLRS)",
                (frozenset({"cse_nr", "cse_disp"}), frozenset({"cse_nr", "blm_prod"})),
                convert_claims, priority=10, geometry="any"))
