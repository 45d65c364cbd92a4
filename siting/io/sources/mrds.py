"""USGS Mineral Resources Data System (MRDS) and MRDS-keyed derivatives.

Three published schemas are read:

* ``mrds`` - the CSV download (``dep_id, site_name, latitude, longitude,
  commod1, commod2, commod3, dev_stat, ...``);
* ``mrds_wfs`` - the web-feature-service schema (``dep_id, site_name,
  dev_stat, code_list`` with element codes such as ``"AU AG CU"``);
* ``mrds_minmod`` - the CriticalMAAS MinMod re-expression (``record_id`` or
  ``dep_id``, ``site_name``, ``commodity``);
* ``mrds_groups`` - deposit groups keyed by MRDS ids (``COMB_DEP_IDs``,
  ``GROUP_NAME``, ``COMM_PRIM``, ``COMM_SEC_TER``).

All give the canonical deposits layer; ``commodities`` is a ``;``-joined list
of canonical names (see :mod:`siting.io.minerals`).

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"dep_id": [10, 11], "site_name": ["A", "B"],
...                    "commod1": ["Tungsten, Molybdenum", "Gold"], "commod2": [None, "Silver"],
...                    "dev_stat": ["Past Producer", "Occurrence"]})
>>> convert_csv(df, Context("deposits"))[["commodities", "critical", "dev_status"]].values.tolist()
[['tungsten;molybdenum', True, 'past producer'], ['gold;silver', True, 'occurrence']]
"""

from __future__ import annotations

import pandas as pd

from siting.io import minerals
from siting.io.sources.base import Context, Source, column, ids, register, text

__all__ = ["DEV_STATUS"]

#: Canonical development status, most developed first (used to weight feedstock).
DEV_STATUS = ("producer", "past producer", "prospect", "occurrence", "unknown")
_DEV_MAP = {
    "producer": "producer", "plant": "producer", "mine": "producer",
    "past producer": "past producer", "past prod": "past producer", "inactive": "past producer",
    "prospect": "prospect", "raw prospect": "prospect", "deposit": "prospect",
    "occurrence": "occurrence", "mineral occurrence": "occurrence", "showing": "occurrence",
}


def dev_status(values: pd.Series) -> pd.Series:
    """Map development-status text to :data:`DEV_STATUS` (``unknown`` otherwise).

    Examples
    --------
    >>> dev_status(pd.Series(["Past Producer", "Producer", "x", None])).tolist()
    ['past producer', 'producer', 'unknown', 'unknown']
    """
    low = values.astype("object").map(lambda v: str(v).strip().lower() if pd.notna(v) else "")
    return low.map(_DEV_MAP).fillna("unknown").astype("object")


def _join(parts: list[pd.Series]) -> pd.Series:
    """Join text columns with ';' (empty pieces are dropped later by the parser)."""
    filled = [p.astype("object").fillna("").astype(str) for p in parts]
    if not filled:
        return pd.Series("", index=pd.RangeIndex(0), dtype=object)
    return filled[0].str.cat(filled[1:], sep=";") if len(filled) > 1 else filled[0]


def finish_deposits(out: pd.DataFrame, commodity_text: pd.Series, ctx: Context,
                    source: str) -> pd.DataFrame:
    """Fill ``commodities`` and ``critical`` from raw commodity text, and ``source``.

    Parsing runs once per distinct text, not once per row.
    """
    year = int(ctx.options.get("critical_year", 2025))
    raw = commodity_text.fillna("").astype(str)
    uniques = pd.Series(raw.unique())
    parsed = uniques.map(minerals.parse_commodities)
    joined = dict(zip(uniques, parsed.map(";".join), strict=True))
    crit = dict(zip(uniques, parsed.map(lambda names: minerals.is_critical(names, year)),
                    strict=True))
    out["commodities"] = raw.map(joined).astype("object")
    out["critical"] = raw.map(crit).astype(bool)
    empty = out["commodities"] == ""
    ctx.note("commodities", "no commodity given", int(empty.sum()), "kept with no commodities",
             out.loc[empty, "deposit_id"] if "deposit_id" in out else [])
    if "dev_status" not in out:
        out["dev_status"] = "unknown"
    out["source"] = source
    return out[["deposit_id", "name", "commodities", "critical", "dev_status", "source"]]


def _base(df: pd.DataFrame, ctx: Context, id_names, name_names) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["deposit_id"] = ids(df, ctx, *id_names, prefix="dep-")
    out["name"] = text(df, *name_names)
    stat = column(df, "dev_stat", "Ftr_Type", "status")
    out["dev_status"] = dev_status(df[stat]) if stat else "unknown"
    return out


def convert_csv(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MRDS CSV download schema (commod1..3)."""
    out = _base(df, ctx, ("dep_id", "mrds_id"), ("site_name", "name"))
    parts = [text(df, c) for c in ("commod1", "commod2", "commod3") if column(df, c)]
    return finish_deposits(out, _join(parts) if parts else pd.Series("", index=df.index), ctx, "mrds")


def convert_wfs(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MRDS web-feature-service schema (code_list of element codes)."""
    out = _base(df, ctx, ("dep_id",), ("site_name",))
    return finish_deposits(out, text(df, "code_list"), ctx, "mrds_wfs")


def convert_minmod(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MinMod re-expression of MRDS (``commodity`` comma list)."""
    out = _base(df, ctx, ("dep_id", "record_id"), ("site_name",))
    return finish_deposits(out, text(df, "commodity"), ctx, "mrds_minmod")


def convert_groups(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """MRDS-keyed deposit groups (``COMB_DEP_IDs``, ``COMM_PRIM``, ``COMM_SEC_TER``)."""
    out = _base(df, ctx, ("GROUP_ID", "OBJECTID"), ("GROUP_NAME",))
    out["mrds_dep_ids"] = text(df, "COMB_DEP_IDs").str.replace(" ", "", regex=False)
    rank = pd.to_numeric(df[column(df, "RANK")], errors="coerce") if column(df, "RANK") else None
    if rank is not None:  # groups with recorded production are (past) producers
        produced = pd.to_numeric(df[column(df, "PROD_t")], errors="coerce").fillna(0) > 0 \
            if column(df, "PROD_t") else pd.Series(False, index=df.index)
        out["dev_status"] = produced.map({True: "past producer", False: "prospect"})
    keep = out.copy()
    res = finish_deposits(keep, _join([text(df, "COMM_PRIM"), text(df, "COMM_SEC_TER")]), ctx,
                          "mrds_groups")
    res["mrds_dep_ids"] = out["mrds_dep_ids"]
    return res


for _src in (
    Source("mrds", "deposits", "USGS MRDS, CSV download schema",
           (frozenset({"dep_id", "commod1"}), frozenset({"dep_id", "dev_stat", "commod1"})),
           convert_csv, priority=10, geometry="point"),
    Source("mrds_wfs", "deposits", "USGS MRDS, web feature service schema",
           (frozenset({"dep_id", "code_list"}),), convert_wfs, priority=10, geometry="point"),
    Source("mrds_minmod", "deposits", "MRDS records re-expressed by CriticalMAAS MinMod",
           (frozenset({"record_id", "commodity", "site_name"}),
            frozenset({"dep_id", "commodity", "site_name"})),
           convert_minmod, priority=5, geometry="point"),
    Source("mrds_groups", "deposits", "MRDS-keyed deposit groups (e.g. Great Basin tungsten)",
           (frozenset({"comb_dep_ids", "comm_prim"}),), convert_groups, priority=10,
           geometry="point"),
):
    register(_src)
