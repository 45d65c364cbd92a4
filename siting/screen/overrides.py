"""What the analyst knows that the data do not: ``include`` and ``exclude`` overrides, each with its reason.

An installation has offered a parcel, or a parcel is already off the table: an override names the
parcels (``parcels: [ids]``, the ``parcel_id`` values) or an area (the polygons of a ``layer``, optionally
filtered with ``where``) and says why (``reason``, required). Both are written as constraints:

* ``{rule: exclude, parcels: [...], reason: ...}`` fails the named parcels' candidates; with a ``layer``
  it removes that land (an ``outside`` without a buffer). A step of the funnel like any rule.
* ``{rule: include, parcels: [...], rules: [within_substations, ...], reason: ...}`` keeps the named
  land whatever the listed rules say (every rule when ``rules`` is left out): those rules still measure
  and record their value, but pass there and leave the land uncut. The ledger's ``override`` column
  carries the reason on each overridden row, the funnel's ``candidates_overridden`` counts them, and the
  include's own ledger row names the land it kept.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.screen.constraints import screen
>>> from siting.screen.rules import AgencyIn
>>> land = gpd.GeoDataFrame({"candidate_id": ["P-1", "P-2", "P-3"], "parcel_id": ["1", "2", "3"],
...                          "agency": ["BLM", "NPS", "BLM"]}, geometry=[box(0, 0, 10, 10)] * 3, crs=5070)
>>> keep = Include(parcels=["2"], rules=["agency_in"], reason="offered by the park")
>>> drop = Exclude(parcels=["3"], reason="leased already")
>>> res = screen(land, [keep, drop, AgencyIn(values=["BLM"]).with_includes([keep])])
>>> res.frame["eligible"].tolist()
[True, True, False]
>>> res.ledger.query("rule == 'agency_in'")[["candidate_id", "passed", "override"]].values.tolist()
[['P-1', True, ''], ['P-2', True, 'include: offered by the park'], ['P-3', True, '']]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, field_validator, model_validator

from siting.core import settings
from siting.core.errors import FieldError
from siting.geo import spatial
from siting.screen import where
from siting.screen.rule_base import BaseRule, Outcome, RuleContext

__all__ = ["Exclude", "Include"]


class _Override(BaseRule):
    parcels: list[str] | None = Field(None, min_length=1, description="parcel_id values of the parcels named.")
    layer: str | None = Field(None, description="A polygon layer: the land it covers.")
    where: str | None = None
    reason: str = Field(min_length=3, description="Why: shown in the ledger, the map and the fact sheets.")
    verb: ClassVar[str] = ""

    @field_validator("parcels", mode="before")
    @classmethod
    def _ids(cls, v):
        return [str(x) for x in v] if isinstance(v, list | tuple) else v

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        return where.validate(v) if v else v

    @model_validator(mode="after")
    def _named(self):
        if (self.parcels is None) == (self.layer is None):
            raise ValueError(f"{self.rule}: name the land with exactly one of parcels (ids) or layer (polygons)")
        return self

    def what(self) -> str:
        """The land named, in words."""
        if self.parcels is not None:
            return f"parcels {', '.join(self.parcels[:5])}{' ...' if len(self.parcels) > 5 else ''}"
        return f"land in {self.layer}" + (f" where {self.where}" if self.where else "")

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        out = super().check(layers, rasters)
        for frame in layers.get("parcels", []) if self.parcels is not None else []:
            known = set(frame["parcel_id"].astype(str)) if "parcel_id" in frame.columns else set()
            unknown = [p for p in self.parcels or [] if p not in known]
            if unknown:
                out.append(("parcels", f"rule {self.label()}: no parcel has parcel_id {', '.join(unknown[:5])} "
                                       f"({len(unknown)} of {len(self.parcels or [])} named); check the ids"))
        return out

    def matched(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray:
        """Whether each candidate is on the named land."""
        if self.parcels is not None:
            if "parcel_id" not in frame.columns:
                raise FieldError(f"rule {self.label()} names parcels by parcel_id, which the candidates lack",
                                 layer="parcels", field="parcel_id")
            return frame["parcel_id"].astype(str).isin(self.parcels).to_numpy()
        feats = np.asarray(ctx.layer(self.layer or "", self.where).geometry.values, dtype=object)
        hit = np.zeros(len(geoms), bool)
        if len(feats) and len(geoms):
            s, _ = shapely.STRtree(feats).query(np.asarray(geoms, dtype=object), predicate="intersects")
            hit[s] = True
        return hit


class Exclude(_Override):
    """Drop the named parcels' candidates, or remove the land a layer covers, for a stated reason."""

    rule: Literal["exclude"] = "exclude"
    changes_land: ClassVar[bool] = True

    def describe(self) -> str:
        return f"exclude {self.what()}: {self.reason}"

    def judges_record(self) -> bool:
        """Excluding named parcels excludes their ground (from records over it too); a layer cuts the land itself."""
        return self.parcels is not None

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        hit = self.matched(frame, geoms, ctx)
        value = np.where(hit, f"excluded: {self.reason}", "").astype(object)
        if self.parcels is not None:
            return Outcome(value, ~hit, "not", "excluded", "override", override=value)
        feats = np.asarray(ctx.layer(self.layer or "", self.where).geometry.values, dtype=object)
        new = spatial.subtract(np.asarray(geoms, dtype=object), feats)
        before, after = (np.nan_to_num(shapely.area(g)) / settings.M2_PER_ACRE for g in (geoms, new))
        value = np.where(before > after, f"excluded: {self.reason}", "").astype(object)
        kept = np.asarray(new, dtype=object).copy()
        kept[after <= 0] = None
        return Outcome(value, after > 0, "not", "excluded", "override", kept, before - after, value)


class Include(_Override):
    """Keep the named land whatever the listed ``rules`` (or all rules) say, for a stated reason."""

    rule: Literal["include"] = "include"
    rules: list[str] | None = Field(None, min_length=1, description="Ledger names of the rules overridden.")

    def describe(self) -> str:
        return f"include {self.what()} despite {', '.join(self.rules) if self.rules else 'every rule'}: {self.reason}"

    def covers(self, label: str) -> bool:
        """Whether this include overrides the rule with ledger name ``label``."""
        return label != self.label() and (self.rules is None or label in self.rules)

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        hit = self.matched(frame, geoms, ctx)
        value = np.where(hit, f"included: {self.reason}", "").astype(object)
        return Outcome(value, np.ones(len(frame), bool), "", "kept", "override")
