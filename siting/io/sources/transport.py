"""Transport networks: BTS North American Rail Network, Census TIGER roads.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"LINEARID": ["1"], "FULLNAME": ["I- 80"], "RTTYP": ["I"],
...                    "MTFCC": ["S1100"]})
>>> convert_tiger(df, Context("roads"))[["kind", "name", "category"]].values.tolist()
[['road', 'I- 80', 'primary']]
"""

from __future__ import annotations

import pandas as pd

from siting.io.sources.base import Context, Source, ids, number, register, text

__all__ = ["MTFCC"]

#: Census MAF/TIGER feature class codes for roads.
MTFCC = {
    "S1100": "primary", "S1200": "secondary", "S1400": "local", "S1500": "vehicular trail",
    "S1630": "ramp", "S1640": "service drive", "S1710": "walkway", "S1720": "stairway",
    "S1730": "alley", "S1740": "private road", "S1750": "internal census use",
    "S1780": "parking lot road", "S1820": "bike path", "S1830": "bridle path",
}


def convert_narn(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """NARN rail lines -> infrastructure (kind ``rail``)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "FRAARCID", "OBJECTID", prefix="rail-")
    out["kind"] = "rail"
    owner, subdiv = text(df, "RROWNER1"), text(df, "SUBDIV")
    out["name"] = (owner.fillna("") + " " + subdiv.fillna("")).str.strip().replace("", pd.NA)
    out["voltage_kv"] = float("nan")
    out["status"] = text(df, "STATUS", "NET")
    out["category"] = text(df, "NET")
    out["tracks"] = number(df, ctx, "TRACKS").round().astype("Int64")
    out["source"] = "narn"
    return out


def convert_tiger(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """TIGER/Line roads -> infrastructure (kind ``road``; category from MTFCC)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "LINEARID", prefix="road-")
    out["kind"] = "road"
    out["name"] = text(df, "FULLNAME")
    out["voltage_kv"] = float("nan")
    out["status"] = pd.NA
    mtfcc = text(df, "MTFCC")
    out["category"] = mtfcc.map(MTFCC).astype("object").where(mtfcc.map(MTFCC).notna(), mtfcc)
    out["route_type"] = text(df, "RTTYP")
    out["source"] = "tiger_roads"
    return out


register(Source("narn", "infrastructure", "BTS North American Rail Network lines",
                (frozenset({"fraarcid"}), frozenset({"fraarcid", "rrowner1"})), convert_narn,
                priority=10, geometry="line"))
register(Source("tiger_roads", "infrastructure", "Census TIGER/Line roads",
                (frozenset({"linearid", "mtfcc"}),), convert_tiger, priority=10, geometry="line"))
