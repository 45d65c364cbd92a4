"""An analyst's own land outlines as parcels: an installation's boundary, a lease, a withdrawal.

A file with no published schema (a boundary digitised by hand, a DOE site's outline) becomes parcels
with ``source: land`` and the layer's ``agency:`` (any name :func:`~siting.io.sources.agencies.to_agency`
knows: ``DOE``, ``Department of Energy``, ``ARMY``...); never detected from field names. A ``name``-like
field names each feature (else the file's name), ``id_field`` its ids. GAP status and designation are
unknown (NA): a rule on them is an error unless the rule sets ``missing:``.

Examples
--------
>>> import pandas as pd
>>> from siting.io.sources.base import Context
>>> df = pd.DataFrame({"NAME": ["Idaho National Laboratory"]})
>>> out = convert(df, Context("parcels", "inl.geojson", {"agency": "Department of Energy"}))
>>> out[["parcel_id", "agency", "manager_name", "unit_name"]].values.tolist()
[['land-1', 'DOE', 'Department of Energy', 'Idaho National Laboratory']]
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting.core.errors import FieldError
from siting.io.sources.agencies import AGENCIES, to_agency
from siting.io.sources.base import Context, Source, ids, register, text

__all__ = ["convert"]


def convert(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Outlines -> parcels of the layer's ``agency``."""
    given = ctx.options.get("agency")
    if not given:
        raise FieldError("`source: land` needs the layer's `agency:` (who manages this land: DOE, DOD, BLM...)",
                         layer=ctx.layer, path=ctx.path)
    code = to_agency([given])[0]
    if code == "UNKNOWN":
        raise FieldError(f"agency {given!r} is not an agency siting knows; use one of {', '.join(AGENCIES)} "
                         "or its name (Department of Energy)", layer=ctx.layer, path=ctx.path, field="agency")
    out = pd.DataFrame(index=df.index)
    out["parcel_id"] = ids(df, ctx, "id", "OBJECTID", "FID", prefix="land-")
    out["agency"] = code
    out["manager_name"] = str(given)
    out["designation"] = pd.Series(pd.NA, index=df.index, dtype="object")
    out["gap_status"] = pd.array([pd.NA] * len(df), dtype="Int64")
    stem = Path(ctx.path).stem if ctx.path else ctx.layer
    out["unit_name"] = text(df, "name", "NAME", "Name", "SITE_NAME", "Unit_Nm", "UNIT_NAME").fillna(stem)
    out["state"] = text(df, "state", "STATE", "State_Nm", "STATE_TERR")
    out["reported_acres"] = float("nan")
    out["source"] = "land"
    return out


SOURCE = register(Source("land", "parcels", "Your own land outlines (source: land, with the layer's agency:)",
                         (), convert, priority=-50, geometry="polygon"))
