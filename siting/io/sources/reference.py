"""Reference layers: Natural Earth, NHD water, and any other file (``generic``).

* ``natural_earth`` - kind from ``featurecla``: railroads -> ``rail``,
  populated places -> ``town``, lakes/rivers -> ``water``, NPS parks ->
  ``protected``.
* ``nhd`` - USGS National Hydrography Dataset water bodies (``GNIS_Name``
  or ``GNIS_Nm``) -> ``water``.
* ``generic`` - anything else: ``feature_id`` from an id-like field or the row
  number, ``name`` from a name-like field, ``kind`` from the scenario's
  ``kind:`` option or the layer name.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"featurecla": ["Populated place"], "NAME": ["Tonopah"],
...                    "POP_MAX": [3261]})
>>> convert_natural_earth(df, Context("towns"))[["kind", "name", "population"]].values.tolist()
[['town', 'Tonopah', 3261.0]]
"""

from __future__ import annotations

import pandas as pd

from siting.io.sources.base import Context, Source, column, ids, number, register, text

__all__: list[str] = []  # the converters are registered adapters: use siting.io.sources.get(name)

_NE_KIND = [
    ("railroad", "rail"), ("populated", "town"), ("capital", "town"), ("lake", "water"),
    ("reservoir", "water"), ("river", "water"), ("park service", "protected"), ("road", "road"),
]


def _infra(df: pd.DataFrame, feature_id, kind, name, source: str, **extra) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = feature_id
    out["kind"] = kind
    out["name"] = name
    out["voltage_kv"] = float("nan")
    out["status"] = pd.NA
    out["category"] = extra.pop("category", pd.NA)
    for key, value in extra.items():
        out[key] = value
    out["source"] = source
    return out


def convert_natural_earth(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Natural Earth cultural/physical layers -> infrastructure (kind by featurecla)."""
    cla = text(df, "featurecla", "FEATURECLA").fillna("").str.lower()
    kind = pd.Series(ctx.options.get("kind") or ctx.layer, index=df.index, dtype="object")
    for key, value in reversed(_NE_KIND):
        kind = kind.mask(cla.str.contains(key, regex=False), value)
    extra = {}
    if column(df, "POP_MAX"):
        extra["population"] = number(df, ctx, "POP_MAX")
    # uident and rivernum repeat across the pieces of one river: only ne_id is unique
    return _infra(df, ids(df, ctx, "ne_id", prefix="ne-"),
                  kind, text(df, "name", "NAME", "unit_name"), "natural_earth",
                  category=text(df, "featurecla", "FEATURECLA"), **extra)


def convert_nhd(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """NHD water bodies/flowlines -> infrastructure (kind ``water``)."""
    return _infra(df, ids(df, ctx, "Permanent_Identifier", "COMID", "OBJECTID", prefix="nhd-"),
                  "water", text(df, "GNIS_Name", "GNIS_Nm"), "nhd",
                  category=text(df, "FType", "FTYPE", "flag"))


def convert_generic(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Any other layer -> features (kind from the ``kind`` option or the layer name)."""
    out = pd.DataFrame(index=df.index)
    out["feature_id"] = ids(df, ctx, "id", "OBJECTID", "FID", "GEOID", prefix=f"{ctx.layer}-")
    out["kind"] = ctx.options.get("kind") or ctx.layer
    out["name"] = text(df, "name", "NAME", "Name", "FULLNAME", "Unit_Nm", "UNIT_NAME", "SITE_NAME")
    out["source"] = "generic"
    return out


register(Source("natural_earth", "infrastructure", "Natural Earth cultural and physical layers",
                (frozenset({"featurecla", "scalerank"}),), convert_natural_earth, priority=5))
register(Source("nhd", "infrastructure", "USGS National Hydrography Dataset",
                (frozenset({"gnis_nm"}), frozenset({"gnis_name", "ftype"}),
                 frozenset({"permanent_identifier", "gnis_name"})), convert_nhd, priority=5))
register(Source("generic", "features", "Any vector layer (no dataset-specific schema)",
                (), convert_generic, priority=-100))
