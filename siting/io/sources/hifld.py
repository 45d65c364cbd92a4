"""HIFLD Electric Power Transmission Lines and Electric Substations.

Transmission ``VOLTAGE`` uses ``-999999`` for unknown; ``VOLT_CLASS`` holds
classes such as ``"UNDER 100"``, ``"100-161"``, ``"735 AND ABOVE"``, ``"DC"``
and ``"NOT AVAILABLE"``. Substation ``MAX_VOLT``/``MIN_VOLT`` use the same
sentinel and names such as ``UNKNOWN118021`` or ``TAP45`` are placeholders.
Sentinels and placeholders become NA and are counted in the run report. The
lower bound of the voltage class is kept as ``volt_class_min_kv`` so that an
analyst can filter lines whose exact voltage is unknown.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"VOLTAGE": [345, -999999], "VOLT_CLASS": ["345", "100-161"],
...                    "STATUS": ["IN SERVICE", "NOT AVAILABLE"]})
>>> out = convert_lines(df, Context("transmission"))
>>> out["voltage_kv"].tolist(), out["volt_class_min_kv"].tolist(), out["status"].tolist()
([345.0, nan], [345.0, 100.0], ['IN SERVICE', <NA>])
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from siting.io.sources.base import Context, Source, column, ids, number, register, text

__all__ = ["SENTINEL"]

#: HIFLD's placeholder for an unknown number.
SENTINEL = -999999.0
_PLACEHOLDER_NAME = re.compile(r"^(UNKNOWN|TAP|NOT AVAILABLE)\s*\d*$", re.IGNORECASE)


def _status(df: pd.DataFrame, ctx: Context, row_ids: pd.Series) -> pd.Series:
    status = text(df, "STATUS")
    na = status.fillna("").str.upper().isin(["NOT AVAILABLE", "UNKNOWN"])
    ctx.note("STATUS", "placeholder 'NOT AVAILABLE'", int(na.sum()), "set to NA", row_ids[na])
    return status.mask(na, pd.NA)


def _class_min(volt_class: pd.Series) -> pd.Series:
    first = volt_class.fillna("").str.extract(r"(\d+)", expand=False)
    under = volt_class.fillna("").str.upper().str.startswith("UNDER")
    return pd.to_numeric(first, errors="coerce").mask(under, 0.0).astype("float64")


def _voltage(df, ctx, row_ids, *names) -> pd.Series:
    kv = number(df, ctx, *names, sentinels=(SENTINEL,), id_values=row_ids)
    bad = kv.notna() & (kv <= 0)
    ctx.note(names[0], "non-positive voltage", int(bad.sum()), "set to NA", row_ids[bad])
    return kv.mask(bad)


def convert_lines(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """HIFLD transmission lines -> infrastructure (kind ``transmission``)."""
    row_ids = ids(df, ctx, "ID", "OBJECTID", prefix="line-")
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = row_ids
    out["kind"] = "transmission"
    sub1, sub2 = text(df, "SUB_1"), text(df, "SUB_2")
    for name, col in (("SUB_1", sub1), ("SUB_2", sub2)):
        ph = col.fillna("").str.match(_PLACEHOLDER_NAME) & col.notna()
        ctx.note(name, "placeholder substation name (UNKNOWN<n>/TAP<n>)", int(ph.sum()),
                 "set to NA", row_ids[ph])
    sub1 = sub1.mask(sub1.fillna("").str.match(_PLACEHOLDER_NAME))
    sub2 = sub2.mask(sub2.fillna("").str.match(_PLACEHOLDER_NAME))
    out["name"] = (sub1.fillna("?") + " - " + sub2.fillna("?")).mask(sub1.isna() & sub2.isna())
    out["voltage_kv"] = _voltage(df, ctx, row_ids, "VOLTAGE")
    out["status"] = _status(df, ctx, row_ids)
    vclass = text(df, "VOLT_CLASS")
    na = vclass.fillna("").str.upper().isin(["NOT AVAILABLE"])
    ctx.note("VOLT_CLASS", "placeholder 'NOT AVAILABLE'", int(na.sum()), "set to NA", row_ids[na])
    out["category"] = vclass.mask(na, pd.NA)
    out["volt_class_min_kv"] = _class_min(out["category"])
    out["source"] = "hifld_transmission"
    return out


def convert_substations(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """HIFLD substations -> infrastructure (kind ``substation``)."""
    row_ids = ids(df, ctx, "ID", "OBJECTID", prefix="sub-")
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = row_ids
    out["kind"] = "substation"
    name = text(df, "NAME")
    ph = name.fillna("").str.match(_PLACEHOLDER_NAME) & name.notna()
    ctx.note("NAME", "placeholder name (UNKNOWN<n>/TAP<n>)", int(ph.sum()), "set to NA",
             row_ids[ph])
    out["name"] = name.mask(ph, pd.NA)
    out["voltage_kv"] = _voltage(df, ctx, row_ids, "MAX_VOLT")
    out["min_voltage_kv"] = _voltage(df, ctx, row_ids, "MIN_VOLT") if column(df, "MIN_VOLT") \
        else np.nan
    out["status"] = _status(df, ctx, row_ids)
    out["category"] = text(df, "TYPE")
    lines = number(df, ctx, "LINES", sentinels=(SENTINEL,), id_values=row_ids)
    out["lines"] = lines.round().astype("Int64")
    out["source"] = "hifld_substations"
    return out


register(Source("hifld_transmission", "infrastructure", "HIFLD Electric Power Transmission Lines",
                (frozenset({"voltage", "volt_class"}),), convert_lines, priority=10,
                geometry="line"))
register(Source("hifld_substations", "infrastructure", "HIFLD Electric Substations",
                (frozenset({"max_volt"}), frozenset({"max_volt", "min_volt", "lines"})),
                convert_substations, priority=10, geometry="point"))
