"""Other USGS mineral datasets: USMIN mine features and the lithium deposits release.

* ``usmin`` - USGS USMIN topographic mine features (``ftr_type`` such as
  "Open Pit Mine", "Prospect Pit", "Shaft"): evidence of existing
  disturbance, read as features of kind ``mine_feature``.
* ``usgs_lithium`` - USGS "Lithium deposits in the United States" (2019 data
  release): sites (``Site_ID``, ``Site_Name``) and features (``Ftr_ID``,
  ``Ftr_Name``, ``Ftr_Type``), with a ``Commodity`` list split on ``;``.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"Site_ID": ["NV1"], "Site_Name": ["Clayton Valley"],
...                    "Commodity": ["lithium; potash"]})
>>> convert_lithium(df, Context("li"))[["deposit_id", "commodities"]].values.tolist()
[['NV1', 'lithium;potash']]
"""

from __future__ import annotations

import pandas as pd

from siting.io.sources.base import Context, Source, column, ids, register, text
from siting.io.sources.mrds import dev_status, finish_deposits

__all__: list[str] = []  # the converters are registered adapters: use siting.io.sources.get(name)

_LITHIUM_STATUS = {
    "brine mine": "producer", "mine": "producer", "open pit mine": "producer",
    "deposit": "prospect", "prospect": "prospect", "occurrence": "occurrence",
}


def convert_usmin(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """USMIN topographic mine features -> features (kind ``mine_feature``)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "gid", "Ftr_ID", prefix="usmin-")
    out["kind"] = "mine_feature"
    out["name"] = text(df, "ftr_name", "Ftr_Name")
    out["voltage_kv"] = float("nan")
    out["status"] = pd.NA
    out["category"] = text(df, "ftr_type", "Ftr_Type")
    out["topo_date"] = text(df, "topo_date")
    out["source"] = "usmin"
    return out


def convert_lithium(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """USGS lithium deposits release (sites or features) -> deposits."""
    out = pd.DataFrame(index=df.index)
    out["deposit_id"] = ids(df, ctx, "Ftr_ID", "Site_ID", "OBJECTID", prefix="li-")
    out["name"] = text(df, "Ftr_Name", "Site_Name")
    ftype = column(df, "Ftr_Type")
    if ftype:
        low = df[ftype].astype("object").map(lambda v: str(v).strip().lower() if pd.notna(v) else "")
        out["dev_status"] = low.map(_LITHIUM_STATUS).fillna("unknown")
    else:
        out["dev_status"] = dev_status(pd.Series(pd.NA, index=df.index))
    out["site_id"] = text(df, "Site_ID")
    res = finish_deposits(out, text(df, "Commodity"), ctx, "usgs_lithium")
    res["site_id"] = out["site_id"]
    return res


register(Source("usmin", "infrastructure", "USGS USMIN topographic mine features",
                (frozenset({"ftr_type", "topo_name"}), frozenset({"ftr_type", "gda_id"})),
                convert_usmin, priority=10, geometry="any"))
register(Source("usgs_lithium", "deposits", "USGS Lithium deposits in the United States (2019)",
                (frozenset({"site_id", "commodity", "site_name"}),
                 frozenset({"ftr_id", "commodity", "ftr_name"})),
                convert_lithium, priority=10, geometry="point"))
