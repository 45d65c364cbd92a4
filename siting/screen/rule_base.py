"""What every rule has: the measured :class:`Outcome`, the :class:`RuleContext` it reads, and
:class:`BaseRule`, whose methods the concrete rules (:mod:`siting.screen.rules`) fill in.

Examples
--------
>>> import numpy as np
>>> o = Outcome(np.array([1.0]), np.array([True]), "<=", 5.0, "slope")
>>> o.passed.tolist(), RuleContext().layers
([True], {})
>>> from siting.screen.rules import MinArea
>>> issubclass(MinArea, BaseRule), MinArea(acres=640).relax(320).acres
(True, 320.0)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from siting.core.errors import ScenarioError
from siting.geo.proximity import Reuse
from siting.screen import where

__all__ = ["CANDIDATE_FIELDS", "BaseRule", "LayerThresholdRule", "Outcome", "RuleContext"]

#: Fields the candidates have beyond their parcel's (``applies_to`` may read them).
CANDIDATE_FIELDS = {"candidate_id", "candidate_class", "parcel_acres", "zone"}


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
    #: Per candidate: the ``include`` override that made it pass (its reason), else "".
    override: np.ndarray | None = None
    #: Per candidate: whether the rule applies there (its ``applies_to``); None: everywhere.
    applies: np.ndarray | None = None
    #: Per candidate: no data to judge (a field NA, no raster pixel), so the rule's ``missing`` decided.
    unknown: np.ndarray | None = None


@dataclass
class RuleContext:
    """Layers and rasters the rules may refer to, by scenario name."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    rasters: dict[str, Any] = field(default_factory=dict)
    #: Distances and anchors shared by the rules and factors of one run.
    reuse: Reuse | None = None
    #: Whether rules that cut the land measure their ledger value (the distance from the land left to the
    #: layer), which explains a decision but makes none. An analysis's re-screening, which reads only the
    #: decisions and the land (relaxation curves), sets it False: those values are then NaN.
    values: bool = True
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

    def raster(self, name: str) -> Any:
        """Return a raster by name."""
        if name not in self.rasters:
            loaded = ", ".join(self.rasters) or "none"
            raise ScenarioError(f"raster {name!r} is not loaded; rasters: {loaded}")
        return self.rasters[name]


class BaseRule(BaseModel):
    """A hard constraint: it measures each candidate, decides pass/fail, relaxes, checks its inputs and
    draws its failures. Subclasses set ``rule`` (the type tag), ``stage`` and their fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: ClassVar[str] = "land"
    rule: str  # the type tag; each rule class narrows it to its Literal
    id: str | None = Field(None, description="Name of the rule in the ledger (default from its type).")
    applies_to: str | None = Field(None, description="A filter on the candidates' fields (e.g. candidate_class == "
                                   "'dod_doe'): the rule judges only those; the others pass it, marked not applicable.")
    #: ``include`` overrides that keep their land whatever this rule says (:mod:`siting.screen.overrides`).
    _includes: tuple = PrivateAttr(())

    @field_validator("applies_to")
    @classmethod
    def _applies(cls, v):
        return where.validate(v) if v else v

    def summary(self) -> str:
        """:meth:`describe` and, for a rule that applies to some candidates only, which."""
        return self.describe() + (f" [applies where {self.applies_to}]" if self.applies_to else "")

    def no_data(self) -> str:
        """What a candidate the rule has no data for lacks, and how it is then decided (the warning's words).

        Examples
        --------
        >>> from siting.screen.rules import GapStatusNotIn, RasterMax
        >>> GapStatusNotIn(values=[1, 2]).no_data()
        'no gap_status; they pass (set missing: pass|fail to decide)'
        >>> RasterMax(raster="slope", value=5).no_data()  # doctest: +NORMALIZE_WHITESPACE
        'slope data on less than 90% of their area (off the raster or nodata); they fail (missing: fail;
        min_coverage sets the share)'
        """
        return "no data to judge"

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

    def relax(self, threshold: float) -> Self:
        """A copy of the rule with its numeric threshold set to ``threshold`` (validated like the scenario's).

        Raises
        ------
        ScenarioError
            When the rule has no numeric threshold (agency, GAP, designation and attribute rules).
        """
        if not self.parameter:
            raise ScenarioError(f"rule {self.label()!r} ({self.rule}) has no numeric threshold to relax; "
                                f"numeric rules: {', '.join(_relaxable_tags())}")
        return type(self).model_validate({**self.model_dump(), self.parameter: float(threshold)}) \
            .with_includes(self._includes)

    def with_includes(self, includes) -> Self:
        """A copy of the rule that the ``include`` overrides ``includes`` override where their land is."""
        out = self.model_copy()
        out._includes = tuple(includes)
        return out

    def included(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray:
        """Whether an ``include`` that overrides this rule names each candidate (by parcel or by land), whether or
        not the rule failed it."""
        hit = np.zeros(len(frame), bool)
        for include in self._includes:
            hit |= include.matched(frame, geoms, ctx)
        return hit

    def judge(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        """:meth:`evaluate` on the candidates the rule applies to (all without ``applies_to``; the others pass,
        their land untouched), then the includes that override it (:meth:`apply_includes`)."""
        if not self.applies_to:
            return self.apply_includes(self.evaluate(frame, geoms, ctx), frame, geoms, ctx)
        mask = where.evaluate(self.applies_to, frame, layer="candidates").to_numpy(bool)
        sub = self.evaluate(frame[mask], np.asarray(geoms, dtype=object)[mask], ctx)
        return self.apply_includes(_spread(sub, mask, geoms), frame, geoms, ctx)

    def apply_includes(self, oc: Outcome, frame: gpd.GeoDataFrame, before: np.ndarray, ctx: RuleContext) -> Outcome:
        """The outcome with this rule's includes applied where they change it (a fail, or land cut): a pass,
        the land uncut, and the include's reason in :attr:`Outcome.override`."""
        if not self._includes:
            return oc
        passed = np.asarray(oc.passed, bool)
        cut = oc.removed_acres > 0 if oc.removed_acres is not None else np.zeros(len(frame), bool)
        reason = np.full(len(frame), "", dtype=object)
        for include in self._includes:
            hit = include.matched(frame, before, ctx) & (reason == "") & (~passed | cut)
            reason[hit] = f"include: {include.reason}"
        kept = reason != ""
        oc.passed = passed | kept
        if oc.geoms is not None:
            oc.geoms = np.where(kept, np.asarray(before, dtype=object), oc.geoms)
        whole = kept & cut
        measure = whole.any() and ctx.values  # an analysis's re-screening wants no value
        again = self.measure_land(frame[whole], np.asarray(before, dtype=object)[whole], ctx) if measure else None
        if again is not None:  # the value describes the land kept whole, not the land the cut would have left
            oc.value = np.array(oc.value, dtype=float)
            oc.value[whole] = again
        if oc.removed_acres is not None:
            oc.removed_acres = np.where(kept, 0.0, oc.removed_acres)
        oc.override = reason
        return oc

    def measure_land(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray | None:
        """The value of land this rule would cut but an ``include`` keeps whole (``geoms``), for the ledger;
        None where the rule cuts no land (its value stands).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely import Point, box
        >>> from siting.screen.rules import MinArea, Outside
        >>> land = gpd.GeoDataFrame(geometry=[box(-1_700_000, 2_000_000, -1_699_000, 2_001_000)], crs=5070)
        >>> ctx = RuleContext({"towns": gpd.GeoDataFrame(geometry=[Point(-1_698_500, 2_000_500)], crs=5070)})
        >>> d = Outside(layer="towns", buffer_m=1_000).measure_land(land, land.geometry.values, ctx)
        >>> 490 < float(d[0]) < 510, MinArea(acres=1).measure_land(land, land.geometry.values, ctx)  # 500 m on the map
        (True, None)
        """
        return None

    def stage_in(self, method: str) -> str:
        """The stage this rule runs at when candidates are made by ``method`` (``parts``, ``grid``, ``pack``)."""
        return self.stage

    def at_stage(self, stage: str) -> Self:
        """The rule as applied at ``stage`` (a rule that behaves differently on land and on sites copies itself)."""
        return self

    def rescreens(self) -> bool:
        """Whether relaxing this rule means screening again (it changes the land) rather than re-deciding values."""
        return self.changes_land

    def judges_record(self) -> bool:
        """Whether a failure says something about the ground the record covers (its agency, GAP status,
        designation), so that other records over the same ground lose it too (:mod:`siting.screen.shared_land`);
        False for rules that measure or cut the land itself.

        Examples
        --------
        >>> from siting.screen.rules import GapStatusNotIn, Outside
        >>> GapStatusNotIn(values=[1, 2]).judges_record(), Outside(layer="towns").judges_record()
        (True, False)
        """
        return False

    def decide(self, values: ArrayLike) -> np.ndarray | None:
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

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        """Problems that would stop or falsify this rule on the loaded layers, as ``(layer, message)``.

        ``layers`` maps a layer name to its loaded frames (one per file); ``rasters`` holds the
        loaded raster names. Used by ``siting validate`` and before a run: a missing layer, raster or
        field, a ``where`` that selects nothing, or a parcel field that is NA on every parcel.
        """
        label, out = self.label(), []
        out += [(n, f"rule {label}: layer {n!r} is not loaded") for n in self.layers_used() if n not in layers]
        out += [(n, f"rule {label}: raster {n!r} is not loaded") for n in self.rasters_used() if n not in rasters]
        expr: str = getattr(self, "where", None) or ""
        for name in self.layers_used() if expr else []:
            out += [(name, m) for m in where.filter_problems(expr, layers.get(name, []), name, f"rule {label}")]
        for frame in layers.get("parcels", []) if self.applies_to else []:
            lacking = sorted(where.fields_used(self.applies_to or "") - set(frame.columns) - CANDIDATE_FIELDS)
            out += [("parcels", f"rule {label}: applies_to reads {c}, which the candidates do not have")
                    for c in lacking]
        for frame in layers.get("parcels", []):
            fields = ", ".join(c for c in frame.columns if c != "geometry")
            out += [("parcels", f"rule {label} reads {c}, which layer parcels does not have; fields: {fields}")
                    for c in self.fields if c not in frame.columns]
            if getattr(self, "missing", "") is None:
                out += [("parcels", f"rule {label} reads {c}, which is missing (NA) on every one of the "
                                    f"{len(frame):,} parcels: the data cannot judge it; set `missing: pass` or "
                                    "`missing: fail` on the rule to decide, or remove the rule")
                        for c in self.fields if c in frame.columns and len(frame) and frame[c].isna().all()]
        return out

    def failure_layer(self, label: str, candidates: gpd.GeoDataFrame, layers: dict,
                      max_candidates: int = 5000) -> tuple[str, gpd.GeoDataFrame] | None:
        """The map layer of what this rule excluded: ``(title, frame)``, or None past ``max_candidates``.

        By default the candidates that failed the rule; ``outside`` draws its buffered zones.
        """
        if len(candidates) > max_candidates:
            return None
        judged = candidates[f"{label}__pass"].astype("boolean").fillna(True)  # NA: not judged (failed earlier)
        failed = candidates[~judged.to_numpy(bool)]
        failed = failed[~failed.geometry.is_empty & failed.geometry.notna()]
        return f"Failed {label} ({len(failed):,})", failed

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        """Measure every candidate: value, threshold, pass (and for land rules the land left)."""
        raise NotImplementedError  # pragma: no cover


class LayerThresholdRule(BaseRule):
    """A site rule that measures each candidate against a (filtered) layer and compares the value with its
    numeric :attr:`parameter` by ``_op`` (``<=`` or ``>=``): distance rules and overlap rules.

    Examples
    --------
    >>> from siting.screen.rules import Beyond
    >>> Beyond(layer="towns", distance_m=5_000).decide([4_000, 6_000]).tolist()
    [False, True]
    """

    stage: ClassVar[str] = "site"
    layer: str
    where: str | None = None
    _op: ClassVar[str] = "<="

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        return where.validate(v) if v else v

    def filtered(self) -> str:
        """The layer and its filter in words."""
        return f"{self.layer}" + (f" where {self.where}" if self.where else "")

    def decide(self, values: ArrayLike) -> np.ndarray:
        v, limit = np.asarray(values, dtype=float), float(getattr(self, self.parameter or ""))
        return v <= limit if self._op == "<=" else v >= limit


def _spread(sub: Outcome, mask: np.ndarray, geoms: np.ndarray) -> Outcome:
    """An outcome measured on the candidates of ``mask`` spread over all: the others pass, value missing."""
    values = np.asarray(sub.value)
    value = np.full(len(mask), np.nan) if values.dtype.kind in "fiub" else np.full(len(mask), None, dtype=object)
    value[mask] = values
    passed = np.ones(len(mask), bool)
    passed[mask] = sub.passed
    out = Outcome(value, passed, sub.op, sub.threshold, sub.measure, applies=mask)
    if sub.geoms is not None:
        out.geoms = np.asarray(geoms, dtype=object).copy()
        out.geoms[mask] = sub.geoms
    if sub.removed_acres is not None:
        out.removed_acres = np.zeros(len(mask))
        out.removed_acres[mask] = sub.removed_acres
    if sub.override is not None:
        out.override = np.full(len(mask), "", dtype=object)
        out.override[mask] = sub.override
    if sub.unknown is not None:
        out.unknown = np.zeros(len(mask), bool)
        out.unknown[mask] = sub.unknown
    return out


def _relaxable_tags() -> list[str]:
    """Type names of the rules with a numeric threshold (the subclasses that name a ``parameter``)."""
    out, todo = [], list(BaseRule.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo += cls.__subclasses__()
        tag = cls.model_fields["rule"].default if "rule" in cls.model_fields else None
        if cls.parameter and isinstance(tag, str) and tag not in out:
            out.append(tag)
    return out
