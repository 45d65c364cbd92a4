"""Rules on the share of a site a polygon layer covers: ``overlap_max`` and ``overlap_min``.

What encumbers the land is often a polygon that covers part of a site: a mineral withdrawal, a
wilderness study area, critical habitat. ``overlap_max: {layer: withdrawals, fraction: 0.25}`` keeps
sites at most a quarter withdrawn (``fraction: 0`` means none at all); ``overlap_min`` keeps sites at
least that much inside a layer (a designated corridor or leasing area). The ledger's value is the
measured share (0-1) of the site's area, with overlapping features counted once.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> sites = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], crs=5070)
>>> withdrawn = gpd.GeoDataFrame(geometry=[box(0, 0, 50, 100)], crs=5070)
>>> rule = OverlapMax(layer="withdrawals", fraction=0.25)
>>> out = rule.evaluate(sites, sites.geometry.values, RuleContext({"withdrawals": withdrawn}))
>>> out.value.tolist(), out.passed.tolist(), rule.describe()
([0.5, 0.0], [False, True], 'share of area in withdrawals <= 0.25')
>>> OverlapMin(layer="corridors", fraction=0.5).decide([0.4, 0.5]).tolist()
[False, True]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from siting.geo.overlay import covered_fraction, require_polygons
from siting.screen.rule_base import LayerThresholdRule, Outcome, RuleContext

__all__ = ["OverlapMax", "OverlapMin"]


class _OverlapRule(LayerThresholdRule):
    parameter: ClassVar[str | None] = "fraction"
    fraction: float = Field(ge=0, le=1, description="Share of the site's area, 0-1.")

    def describe(self) -> str:
        return f"share of area in {self.filtered()} {self._op} {self.fraction:g}"

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        out = super().check(layers, rasters)
        for frame in layers.get(self.layer, []):
            if isinstance(frame, gpd.GeoDataFrame):
                try:
                    require_polygons(frame.geometry.values, self.layer, f"rule {self.label()}")
                except ValueError as exc:
                    out.append((self.layer, str(exc)))
        return out

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        feats = np.asarray(ctx.layer(self.layer, self.where).geometry.values, dtype=object)
        require_polygons(feats, self.layer, f"rule {self.label()}")
        share = covered_fraction(np.asarray(geoms, dtype=object), feats)
        return Outcome(share, self.decide(share), self._op, self.fraction, f"share of area in {self.layer}")


class OverlapMax(_OverlapRule):
    """Keep sites of which at most ``fraction`` of the area lies in a (filtered) polygon layer."""

    rule: Literal["overlap_max"] = "overlap_max"


class OverlapMin(_OverlapRule):
    """Keep sites of which at least ``fraction`` of the area lies in a (filtered) polygon layer."""

    rule: Literal["overlap_min"] = "overlap_min"
    _op: ClassVar[str] = ">="
