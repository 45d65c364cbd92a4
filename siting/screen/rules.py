"""Hard constraints ("rules"), one pydantic model each, usable from scenarios and Python.

Two stages:

* **land** rules decide which land may be used: ``agency_in``,
  ``agency_not_in``, ``gap_status_in``, ``gap_status_not_in``,
  ``designation_not_in``, ``attribute`` (a safe filter on parcel fields) and
  ``outside`` (remove a layer plus a buffer from the land; features outside the
  study area still count);
* **site** rules test each candidate: ``min_area``, ``raster_max`` /
  ``raster_min`` (a statistic of a raster over the candidate), ``within``
  (maximum distance to a filtered layer) and ``beyond`` (minimum distance).

Each rule returns an :class:`Outcome`: the measured value per candidate, the
operator and threshold, pass/fail, and for ``outside`` the clipped geometry.

Examples
--------
>>> r = Within(layer="substations", where="voltage_kv >= 115", distance_m=50_000)
>>> r.label(), r.describe()
('within_substations', 'distance to substations where voltage_kv >= 115 <= 50000 m')
>>> AgencyIn(values=["blm", "DoD"]).values
['BLM', 'DOD']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from siting.core import settings
from siting.core.errors import ScenarioError
from siting.geo import spatial
from siting.geo.proximity import Reuse
from siting.io.sources.agencies import AGENCIES
from siting.screen import where

log = logging.getLogger(__name__)

__all__ = [
    "RELAXABLE",
    "RULE_TYPES",
    "AgencyIn",
    "AgencyNotIn",
    "Attribute",
    "Beyond",
    "DesignationNotIn",
    "GapStatusIn",
    "GapStatusNotIn",
    "MinArea",
    "Outcome",
    "Outside",
    "RasterMax",
    "RasterMin",
    "Rule",
    "RuleContext",
    "Within",
]


@dataclass
class Outcome:
    """What a rule measured for each candidate."""

    value: np.ndarray
    passed: np.ndarray
    op: str
    threshold: Any
    measure: str
    geoms: np.ndarray | None = None
    removed_acres: np.ndarray | None = None


@dataclass
class RuleContext:
    """Layers and rasters the rules may refer to, by scenario name."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    rasters: dict[str, Any] = field(default_factory=dict)
    #: Distances and anchors shared by the rules and factors of one run.
    reuse: Reuse | None = None
    _cache: dict = field(default_factory=dict)

    def layer(self, name: str, where_expr: str | None = None) -> gpd.GeoDataFrame:
        """Return a layer, filtered by ``where_expr`` (cached)."""
        if name not in self.layers:
            raise ScenarioError(f"layer {name!r} is not loaded; layers: {', '.join(self.layers) or 'none'}")
        key = (name, where_expr)
        if key not in self._cache:
            frame = self.layers[name]
            self._cache[key] = frame[where.evaluate(where_expr, frame, layer=name)] if where_expr else frame
        return self._cache[key]

    def raster(self, name: str):
        """Return a raster by name."""
        if name not in self.rasters:
            loaded = ", ".join(self.rasters) or "none"
            raise ScenarioError(f"raster {name!r} is not loaded; rasters: {loaded}")
        return self.rasters[name]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: ClassVar[str] = "land"
    rule: str  # the type tag; each rule class narrows it to its Literal
    id: str | None = Field(None, description="Name of the rule in the ledger (default from its type).")

    def label(self) -> str:
        """The rule's ledger name: ``id`` or one derived from its type and layer."""
        if self.id:
            return self.id
        target = getattr(self, "layer", None) or getattr(self, "raster", None)
        return f"{self.rule}_{target}" if target else self.rule

    def describe(self) -> str:  # pragma: no cover - overridden
        """The rule in plain language (the funnel's description and the reasons' wording)."""
        return self.rule

    #: Name of the numeric parameter a relaxation curve varies (None: not relaxable).
    parameter: ClassVar[str | None] = None
    #: True when the rule changes the land itself (relaxing it means screening again).
    changes_land: ClassVar[bool] = False
    #: Parcel fields the rule reads from the candidates.
    fields: ClassVar[tuple[str, ...]] = ()

    def parameter_value(self) -> float | None:
        """The current value of :attr:`parameter`."""
        return float(getattr(self, self.parameter)) if self.parameter else None

    def relax(self, threshold: float):
        """A copy of the rule with its numeric threshold set to ``threshold`` (validated like the scenario's).

        Raises
        ------
        ScenarioError
            When the rule has no numeric threshold (agency, GAP, designation and attribute rules).
        """
        if not self.parameter:
            raise ScenarioError(f"rule {self.label()!r} ({self.rule}) has no numeric threshold to relax; "
                                f"numeric rules: {', '.join(c.model_fields['rule'].default for c in RELAXABLE)}")
        return type(self).model_validate({**self.model_dump(), self.parameter: float(threshold)})

    def decide(self, values) -> np.ndarray | None:
        """Pass/fail of measured ledger values under this rule's threshold, or None when the value
        alone cannot decide (the rule changes the land, or tests several fields)."""
        return None

    def layers_used(self) -> list[str]:
        """Every layer the rule reads."""
        layer = getattr(self, "layer", None)
        return [layer] if layer else []

    def rasters_used(self) -> list[str]:
        """Every raster the rule reads."""
        return []

    def check(self, layers, rasters) -> list[tuple[str, str]]:
        """Problems that would stop or falsify this rule on the loaded layers, as ``(layer, message)``.

        ``layers`` maps a layer name to its loaded frames (one per file); ``rasters`` holds the
        loaded raster names. Used by ``siting validate``.
        """
        label, out = self.label(), []
        out += [(n, f"rule {label}: layer {n!r} is not loaded") for n in self.layers_used() if n not in layers]
        out += [(n, f"rule {label}: raster {n!r} is not loaded") for n in self.rasters_used() if n not in rasters]
        expr = getattr(self, "where", None)
        needs = [(n, where.fields_used(expr), "filters {layer} on") for n in self.layers_used()] if expr else []
        needs += [("parcels", set(self.fields), "reads")]
        for layer, wanted, verb in needs:
            for frame in layers.get(layer, []):
                missing = sorted(set(wanted) - set(frame.columns))
                if missing:
                    fields = ", ".join(c for c in frame.columns if c != "geometry")
                    out.append((layer, f"rule {label} {verb.format(layer=layer)} {', '.join(missing)}, which "
                                       f"layer {layer} does not have; fields: {fields}"))
        return out

    def failure_layer(self, label: str, candidates: gpd.GeoDataFrame, layers: dict,
                      max_candidates: int = 5000) -> tuple[str, gpd.GeoDataFrame] | None:
        """The map layer of what this rule excluded: ``(title, frame)``, or None past ``max_candidates``.

        By default the candidates that failed the rule; ``outside`` draws its buffered zones.
        """
        if len(candidates) > max_candidates:
            return None
        failed = candidates[~candidates[f"{label}__pass"].astype(bool)]
        failed = failed[~failed.geometry.is_empty & failed.geometry.notna()]
        return f"Failed {label} ({len(failed):,})", failed

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        """Measure every candidate: value, threshold, pass (and for land rules the land left)."""
        raise NotImplementedError  # pragma: no cover


def _upper(values: list[str]) -> list[str]:
    out = [str(v).strip().upper() for v in values]
    bad = [v for v in out if v not in AGENCIES]
    if bad:
        raise ValueError(f"unknown agency {bad}; use {', '.join(AGENCIES)}")
    return out


class _AgencyRule(_Rule):
    fields: ClassVar[tuple[str, ...]] = ("agency",)
    values: list[str] = Field(min_length=1)
    _negate: ClassVar[bool] = False

    @field_validator("values")
    @classmethod
    def _check(cls, v):
        return _upper(v)

    def describe(self) -> str:
        return f"agency {'not in' if self._negate else 'in'} [{', '.join(self.values)}]"

    def decide(self, values) -> np.ndarray:
        hit = np.isin(np.asarray(values, dtype=object), self.values)
        return ~hit if self._negate else hit

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        val = frame["agency"].astype(object).to_numpy()
        return Outcome(val, self.decide(val), "not in" if self._negate else "in",
                       ", ".join(self.values), "managing agency")


class AgencyIn(_AgencyRule):
    """Keep land managed by one of the agencies (BLM, USFS, DOD, DOE, ...)."""

    rule: Literal["agency_in"] = "agency_in"


class AgencyNotIn(_AgencyRule):
    """Drop land managed by any of the agencies."""

    rule: Literal["agency_not_in"] = "agency_not_in"
    _negate: ClassVar[bool] = True


class _GapRule(_Rule):
    fields: ClassVar[tuple[str, ...]] = ("gap_status",)
    values: list[Annotated[int, Field(ge=1, le=4)]] = Field(min_length=1)
    _negate: ClassVar[bool] = False

    def describe(self) -> str:
        return f"GAP status {'not in' if self._negate else 'in'} {self.values}"

    def decide(self, values) -> np.ndarray:
        hit = np.isin(pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float), self.values)
        return ~hit if self._negate else hit

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        val = pd.to_numeric(frame["gap_status"], errors="coerce").to_numpy(dtype=float)
        return Outcome(val, self.decide(val), "not in" if self._negate else "in",
                       ", ".join(map(str, self.values)), "PAD-US GAP status (NA: unknown)")


class GapStatusIn(_GapRule):
    """Keep land whose PAD-US GAP status is one of the values (unknown fails)."""

    rule: Literal["gap_status_in"] = "gap_status_in"


class GapStatusNotIn(_GapRule):
    """Drop land whose PAD-US GAP status is one of the values (unknown passes)."""

    rule: Literal["gap_status_not_in"] = "gap_status_not_in"
    _negate: ClassVar[bool] = True


class DesignationNotIn(_Rule):
    """Drop land with one of the PAD-US designation types (``WA``, ``WSA``, ``NM``...)."""

    rule: Literal["designation_not_in"] = "designation_not_in"
    fields: ClassVar[tuple[str, ...]] = ("designation",)
    values: list[str] = Field(min_length=1)

    def describe(self) -> str:
        return f"designation not in [{', '.join(self.values)}]"

    def decide(self, values) -> np.ndarray:
        return ~np.isin(np.asarray(values, dtype=object), self.values)

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        val = frame["designation"].astype(object).to_numpy()
        return Outcome(val, self.decide(val), "not in", ", ".join(self.values), "PAD-US designation type")


class Attribute(_Rule):
    """Keep land whose attributes satisfy a filter, e.g. ``"state == 'NV'"``."""

    rule: Literal["attribute"] = "attribute"
    where: str

    @field_validator("where")
    @classmethod
    def _check(cls, v):
        return where.validate(v)

    def label(self) -> str:
        return self.id or "attribute"

    def describe(self) -> str:
        return f"where {self.where}"

    def check(self, layers, rasters) -> list[tuple[str, str]]:
        out = super().check(layers, rasters)
        for frame in layers.get("parcels", []):
            missing = sorted(where.fields_used(self.where) - set(frame.columns))
            if missing:
                fields = ", ".join(c for c in frame.columns if c != "geometry")
                out.append(("parcels", f"rule {self.label()} filters parcels on {', '.join(missing)}, which "
                                       f"layer parcels does not have; fields: {fields}"))
        return out

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        hit = where.evaluate(self.where, frame, layer="parcels").to_numpy()
        used = sorted(where.fields_used(self.where))
        parts = [frame[c].astype(str) for c in used]
        shown = parts[0].str.cat(parts[1:], sep="; ") if len(parts) > 1 else frame[used[0]]
        return Outcome(np.asarray(shown, dtype=object), hit, "satisfies", self.where,
                       f"value of {', '.join(used)}")


class Outside(_Rule):
    """Remove a layer (plus a buffer) from the land; the remainder stays eligible."""

    rule: Literal["outside"] = "outside"
    parameter: ClassVar[str | None] = "buffer_m"
    changes_land: ClassVar[bool] = True
    layer: str
    buffer_m: float = Field(0.0, ge=0)
    where: str | None = None

    @field_validator("where")
    @classmethod
    def _check(cls, v):
        return where.validate(v) if v else v

    def describe(self) -> str:
        filt = f" where {self.where}" if self.where else ""
        return f"outside {self.layer}{filt} + {self.buffer_m:g} m"

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        feats = ctx.layer(self.layer, self.where).geometry.values
        cutters = shapely.buffer(feats, self.buffer_m, quad_segs=16) if self.buffer_m > 0 else feats
        if len(cutters) and not np.isin(shapely.get_type_id(cutters), (3, 6)).all():
            cutters = shapely.buffer(cutters, 0.5)  # lines/points without a buffer need some width
        new = spatial.subtract(geoms, cutters)
        before = np.nan_to_num(shapely.area(geoms)) / settings.M2_PER_ACRE
        after = np.nan_to_num(shapely.area(new)) / settings.M2_PER_ACRE
        return Outcome(after, after > 0, ">", 0.0,
                       f"acres left outside {self.layer} + {self.buffer_m:g} m", new, before - after)

    def failure_layer(self, label, candidates, layers, max_candidates=5000):
        """The excluded zones: the layer's (filtered) features near the candidates, plus the buffer."""
        if self.layer not in layers:
            return None
        feats = layers[self.layer]
        if self.where:
            feats = feats[where.evaluate(self.where, feats, layer=self.layer)]
        minx, miny, maxx, maxy = candidates.total_bounds if len(candidates) else feats.total_bounds
        feats = feats.cx[minx - 50_000:maxx + 50_000, miny - 50_000:maxy + 50_000]
        zone = feats.set_geometry(feats.geometry.buffer(self.buffer_m)) if self.buffer_m > 0 else feats
        return f"Excluded by {label} ({self.layer} + {self.buffer_m:g} m)", zone


class MinArea(_Rule):
    """Keep candidates with at least ``acres`` of eligible land."""

    rule: Literal["min_area"] = "min_area"
    stage: ClassVar[str] = "site"
    parameter: ClassVar[str | None] = "acres"
    acres: float = Field(gt=0)

    def describe(self) -> str:
        return f"eligible area >= {self.acres:g} acres"

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        acres = np.nan_to_num(shapely.area(geoms)) / settings.M2_PER_ACRE
        return Outcome(acres, self.decide(acres), ">=", self.acres, "eligible acres")

    def decide(self, values) -> np.ndarray:
        return np.asarray(values, dtype=float) >= self.acres


def _log_missing(values: np.ndarray, label: str, raster: str, policy: str) -> None:
    n = int(np.isnan(values).sum())
    if n:
        log.warning("rule %s: %d candidate(s) have no %s data (off the raster or nodata); they %s",
                    label, n, raster, "pass" if policy == "pass" else "fail")


class _RasterRule(_Rule):
    stage: ClassVar[str] = "site"
    parameter: ClassVar[str | None] = "value"
    raster: str
    stat: str = "mean"
    value: float
    missing: Literal["fail", "pass"] = "fail"
    _op: ClassVar[str] = "<="

    def describe(self) -> str:
        return f"{self.stat} of {self.raster} {self._op} {self.value:g}"

    def rasters_used(self) -> list[str]:
        return [self.raster]

    def decide(self, values) -> np.ndarray:
        """``values`` against the threshold; no data passes or fails as ``missing`` says."""
        val = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            ok = val <= self.value if self._op == "<=" else val >= self.value
        return np.where(np.isnan(val), self.missing == "pass", ok)

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        from siting.geo.raster import zonal_stats  # lazy: rasterio only when rasters are used

        val = zonal_stats(ctx.raster(self.raster), geoms, [self.stat])[self.stat].to_numpy()
        _log_missing(val, self.label(), self.raster, self.missing)
        return Outcome(val, self.decide(val), self._op, self.value, f"{self.stat} of {self.raster}")


class RasterMax(_RasterRule):
    """Keep candidates whose raster statistic is at most ``value`` (e.g. p90 slope <= 5 %)."""

    rule: Literal["raster_max"] = "raster_max"


class RasterMin(_RasterRule):
    """Keep candidates whose raster statistic is at least ``value``."""

    rule: Literal["raster_min"] = "raster_min"
    _op: ClassVar[str] = ">="


class _DistanceRule(_Rule):
    stage: ClassVar[str] = "site"
    parameter: ClassVar[str | None] = "distance_m"
    layer: str
    distance_m: float = Field(ge=0)
    where: str | None = None
    _op: ClassVar[str] = "<="

    @field_validator("where")
    @classmethod
    def _check(cls, v):
        return where.validate(v) if v else v

    def describe(self) -> str:
        filt = f" where {self.where}" if self.where else ""
        return f"distance to {self.layer}{filt} {self._op} {self.distance_m:g} m"

    def decide(self, values) -> np.ndarray:
        d = np.asarray(values, dtype=float)
        return d <= self.distance_m if self._op == "<=" else d >= self.distance_m

    def evaluate(self, frame, geoms, ctx) -> Outcome:
        feats = ctx.layer(self.layer, self.where).geometry.values
        d = spatial.nearest_distance(geoms, feats, reuse=ctx.reuse)
        return Outcome(d, self.decide(d), self._op, self.distance_m, f"distance to {self.layer} (m)")


class Within(_DistanceRule):
    """Keep candidates within ``distance_m`` of a (filtered) layer, e.g. substations >= 115 kV."""

    rule: Literal["within"] = "within"


class Beyond(_DistanceRule):
    """Keep candidates at least ``distance_m`` from a (filtered) layer, e.g. towns."""

    rule: Literal["beyond"] = "beyond"
    _op: ClassVar[str] = ">="


#: Rules with a numeric threshold (relaxation curves vary it).
RELAXABLE = (Outside, MinArea, RasterMax, RasterMin, Within, Beyond)
RULE_TYPES = (AgencyIn, AgencyNotIn, GapStatusIn, GapStatusNotIn, DesignationNotIn, Attribute,
              Outside, MinArea, RasterMax, RasterMin, Within, Beyond)
Rule = Annotated[
    AgencyIn | AgencyNotIn | GapStatusIn | GapStatusNotIn | DesignationNotIn | Attribute | Outside
    | MinArea | RasterMax | RasterMin | Within | Beyond,
    Field(discriminator="rule"),
]
