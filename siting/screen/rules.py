"""Hard constraints ("rules"), one pydantic model each, usable from scenarios and Python.

Two stages:

* **land** rules decide which land may be used: ``agency_in``,
  ``agency_not_in``, ``gap_status_in``, ``gap_status_not_in``,
  ``designation_not_in``, ``attribute`` (a safe filter on parcel fields) and
  ``outside`` (remove a layer plus a buffer from the land; features outside the
  study area still count);
* **site** rules test each candidate: ``min_area``, ``raster_max`` /
  ``raster_min`` (a statistic of a raster over the candidate), ``within``
  (maximum distance to a filtered layer), ``beyond`` (minimum distance) and
  ``overlap_max`` / ``overlap_min`` (share of the site a polygon layer covers,
  :mod:`siting.screen.overlap`);
* **overrides** ``include`` / ``exclude`` name parcels or areas with a reason
  (:mod:`siting.screen.overrides`).

Each rule returns an :class:`Outcome`: the measured value per candidate, the
operator and threshold, pass/fail, and for ``outside`` the clipped geometry.

Examples
--------
>>> r = Within(layer="substations", where="voltage_kv >= 115", distance_m=50_000)
>>> r.label(), r.describe()
('within_substations', 'distance to substations where voltage_kv >= 115 <= 50000 m')
>>> AgencyIn(values=["blm", "DoD"]).values
['BLM', 'DOD']
>>> from siting.screen import rules
>>> for r in (rules.AgencyNotIn(values=["NPS"]), rules.GapStatusIn(values=[3, 4]), rules.GapStatusNotIn(values=[1]),
...           rules.DesignationNotIn(values=["WSA"]), rules.Attribute(where="state == 'NV'"),
...           rules.Outside(layer="towns", buffer_m=3000), rules.MinArea(acres=640),
...           rules.RasterMax(raster="slope", stat="p90", value=5), rules.RasterMin(raster="water", value=1),
...           rules.Beyond(layer="towns", distance_m=5000)):
...     print(r.describe())
agency not in [NPS]
GAP status in [3, 4]
GAP status not in [1]
designation not in [WSA]
where state == 'NV'
outside towns + 3000 m
eligible area >= 640 acres
p90 of slope <= 5
mean of water >= 1
distance to towns >= 5000 m
>>> rules.MinArea(acres=640).decide(np.array([100.0, 700.0])).tolist()
[False, True]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from pydantic import Field, PrivateAttr, field_validator

from siting.core import settings
from siting.geo import geodesy, spatial
from siting.geo.areas import acres_for_threshold
from siting.geo.farthest import farthest_distance
from siting.geo.inner import inner_buffer
from siting.geo.parallel import chunked
from siting.geo.settle import SETTLE_BAND, settle
from siting.schema import AGENCIES
from siting.screen import where
from siting.screen.overlap import OverlapMax, OverlapMin
from siting.screen.overrides import Exclude, Include
from siting.screen.rule_base import BaseRule, LayerThresholdRule, Outcome, RuleContext

__all__ = [
    "RELAXABLE",
    "RULE_TYPES",
    "AgencyIn",
    "AgencyNotIn",
    "Attribute",
    "Beyond",
    "DesignationNotIn",
    "Exclude",
    "GapStatusIn",
    "GapStatusNotIn",
    "Include",
    "InsideZones",
    "MinArea",
    "Outcome",
    "Outside",
    "OverlapMax",
    "OverlapMin",
    "RasterMax",
    "RasterMin",
    "Rule",
    "RuleContext",
    "Within",
]


def _upper(values: list[str]) -> list[str]:
    out = [str(v).strip().upper() for v in values]
    bad = [v for v in out if v not in AGENCIES]
    if bad:
        raise ValueError(f"unknown agency {bad}; use {', '.join(AGENCIES)}")
    return out


def _land_outcome(geoms, new, feats, crs, ctx: RuleContext, op: str, threshold: float, measure: str,
                  decide) -> Outcome:
    """Outcome of a rule that cuts the land: distance from the land left (or, where none is left, from the
    candidate) to the layer (NaN when ``ctx.values`` is False); pass where land is left."""
    before = np.nan_to_num(shapely.area(geoms)) / settings.M2_PER_ACRE
    after = np.nan_to_num(shapely.area(new)) / settings.M2_PER_ACRE
    left = after > 0
    shown = np.where(left, new, geoms)
    if ctx.values:
        d = spatial.nearest_distance(shown, feats, reuse=ctx.reuse, crs=crs)
        d[shapely.is_missing(shown) | shapely.is_empty(shown)] = np.nan
    else:
        d = np.full(len(geoms), np.nan)
    kept = np.asarray(np.where(left, new, None), dtype=object)
    return Outcome(d, decide(left), op, threshold, measure, kept, before - after)


def _distance_to_layer(rule, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray:
    """The distance on the ground from each of ``geoms`` to the rule's (filtered) layer."""
    feats = np.asarray(ctx.layer(rule.layer, rule.where).geometry.values, dtype=object)
    return spatial.nearest_distance(geoms, feats, reuse=ctx.reuse, crs=frame.crs)


class _FieldRule(BaseRule):
    """A parcel field in (or not in) a list of values; NA passes or fails as ``missing`` says, and by
    default fails ``..._in`` and passes ``..._not_in`` (a parcel field NA everywhere is an error unless
    ``missing`` is set: see :meth:`BaseRule.check`)."""

    missing: Literal["pass", "fail"] | None = None
    #: What the field is called in descriptions, and the ledger's measure.
    noun: ClassVar[str] = ""
    measure: ClassVar[str] = ""
    _negate: ClassVar[bool] = False
    _numeric: ClassVar[bool] = False

    def describe(self) -> str:
        values = ", ".join(map(str, self.values))  # type: ignore[attr-defined]
        return f"{self.noun} {'not in' if self._negate else 'in'} [{values}]"

    def _coerce(self, values: ArrayLike) -> np.ndarray:
        if self._numeric:
            return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        return np.asarray(values, dtype=object)

    def decide(self, values: ArrayLike) -> np.ndarray:
        val = self._coerce(values)
        hit = np.isin(val, self.values)  # type: ignore[attr-defined]
        ok = ~hit if self._negate else hit
        return ok if self.missing is None else np.where(pd.isna(val), self.missing == "pass", ok)

    def judges_record(self) -> bool:
        return True

    def no_data(self) -> str:
        policy = f"{self.missing} (missing: {self.missing})" if self.missing else \
            f"{'pass' if self._negate else 'fail'} (set missing: pass|fail to decide)"
        return f"no {self.fields[0]}; they {policy}"

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        val = self._coerce(frame[self.fields[0]].astype(object))
        return Outcome(val, self.decide(val), "not in" if self._negate else "in",
                       ", ".join(map(str, self.values)), self.measure,  # type: ignore[attr-defined]
                       unknown=np.asarray(pd.isna(val), bool))


class _AgencyRule(_FieldRule):
    fields: ClassVar[tuple[str, ...]] = ("agency",)
    noun: ClassVar[str] = "agency"
    measure: ClassVar[str] = "managing agency"
    values: list[str] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _check(cls, v):
        return _upper(v)


class AgencyIn(_AgencyRule):
    """Keep land managed by one of the agencies (BLM, USFS, DOD, DOE, ...)."""

    rule: Literal["agency_in"] = "agency_in"


class AgencyNotIn(_AgencyRule):
    """Drop land managed by any of the agencies."""

    rule: Literal["agency_not_in"] = "agency_not_in"
    _negate: ClassVar[bool] = True


class _GapRule(_FieldRule):
    fields: ClassVar[tuple[str, ...]] = ("gap_status",)
    noun: ClassVar[str] = "GAP status"
    measure: ClassVar[str] = "PAD-US GAP status (NA: unknown)"
    _numeric: ClassVar[bool] = True
    values: list[Annotated[int, Field(ge=1, le=4)]] = Field(min_length=1)


class GapStatusIn(_GapRule):
    """Keep land whose PAD-US GAP status is one of the values (unknown fails)."""

    rule: Literal["gap_status_in"] = "gap_status_in"


class GapStatusNotIn(_GapRule):
    """Drop land whose PAD-US GAP status is one of the values (unknown passes)."""

    rule: Literal["gap_status_not_in"] = "gap_status_not_in"
    _negate: ClassVar[bool] = True


class DesignationNotIn(_FieldRule):
    """Drop land with one of the PAD-US designation types (``WA``, ``WSA``, ``NM``...)."""

    rule: Literal["designation_not_in"] = "designation_not_in"
    fields: ClassVar[tuple[str, ...]] = ("designation",)
    noun: ClassVar[str] = "designation"
    measure: ClassVar[str] = "PAD-US designation type"
    _negate: ClassVar[bool] = True
    values: list[str] = Field(min_length=1)


class Attribute(BaseRule):
    """Keep land whose attributes satisfy a filter, e.g. ``"state == 'NV'"``."""

    rule: Literal["attribute"] = "attribute"
    where: str

    @field_validator("where")
    @classmethod
    def _check(cls, v):
        return where.validate(v)

    def label(self) -> str:
        return self.id or "attribute"

    def judges_record(self) -> bool:
        return True

    def describe(self) -> str:
        return f"where {self.where}"

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        # the filter is the rule: selecting no parcel is an answer (every candidate fails), not a problem
        return super().check(layers, rasters) + [
            ("parcels", m) for m in where.filter_problems(self.where, layers.get("parcels", []), "parcels",
                                                          f"rule {self.label()}", require_some=False)]

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        hit = where.evaluate(self.where, frame, layer="parcels").to_numpy()
        used = sorted(where.fields_used(self.where))
        parts = [frame[c].astype(object).fillna("NA").astype(str) for c in used]  # one missing field: "NA" shown
        shown = parts[0].str.cat(parts[1:], sep="; ") if len(parts) > 1 else frame[used[0]]
        return Outcome(np.asarray(shown, dtype=object), hit, "satisfies", self.where,
                       f"value of {', '.join(used)}")


class InsideZones(Attribute):
    """Made by the pipeline when ``candidates.split_by`` is set: land farther than ``zone_snap_m`` from every
    zone (zone ``outside``) fails, so it is counted in the funnel rather than lost.

    Examples
    --------
    >>> r = InsideZones(id="inside_counties", where="zone != 'outside'", zones="counties")
    >>> r.label(), r.describe(), r.check({}, [])
    ('inside_counties', 'inside a counties zone', [])
    """

    zones: str = "zones"

    def describe(self) -> str:
        return f"inside a {self.zones} zone"

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        return []  # the zone field is made by the split, not read from a layer


class Outside(BaseRule):
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

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[tuple[str, str]]:
        """:meth:`BaseRule.check`, and a point layer without a buffer (it would remove nothing an analyst means)."""
        problems = super().check(layers, rasters)
        kinds = [shapely.get_type_id(np.asarray(f["geometry"].values)) for f in layers.get(self.layer, [])
                 if "geometry" in f and len(f)]
        if self.buffer_m == 0 and any(np.isin(k, (0, 4)).all() for k in kinds):
            problems.append((self.layer, f"rule {self.label()}: layer {self.layer!r} holds points, and without "
                                         "`buffer_m` the rule removes only a 0.5 m disc around each; give `buffer_m` "
                                         "(the distance to keep away)"))
        return problems

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        """Remove the layer plus ``buffer_m`` on the ground (never less; see :func:`siting.geo.geodesy.buffer_radius`);
        the value is the distance from the land left (or, where none is left, the candidate) to the layer."""
        feats = np.asarray(ctx.layer(self.layer, self.where).geometry.values, dtype=object)
        if self.buffer_m > 0:
            radius = geodesy.buffer_radius(feats, self.buffer_m, geodesy.ground_of(frame.crs), cover=True)
            cutters = chunked(shapely.buffer, feats, radius, quad_segs=geodesy.QUAD_SEGS)
        else:
            cutters = feats
        if len(cutters) and not np.isin(shapely.get_type_id(cutters), (3, 6)).all():
            cutters = shapely.buffer(cutters, 0.5)  # lines/points without a buffer need some width
        new = spatial.subtract(geoms, cutters)
        return _land_outcome(geoms, new, feats, frame.crs, ctx, ">=", self.buffer_m,
                             f"distance to {self.layer} (m)", lambda left: left)

    def measure_land(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray:
        """The distance on the ground from land kept whole to the (filtered) layer."""
        return _distance_to_layer(self, frame, geoms, ctx)

    def failure_layer(self, label: str, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                      max_candidates: int = 5000) -> tuple[str, gpd.GeoDataFrame] | None:
        """The excluded zones: the layer's (filtered) features near the candidates, plus the buffer."""
        if self.layer not in layers:
            return None
        feats = layers[self.layer]
        if self.where:
            feats = feats[where.evaluate(self.where, feats, layer=self.layer)]
        minx, miny, maxx, maxy = candidates.total_bounds if len(candidates) else feats.total_bounds
        feats = feats.cx[minx - 50_000:maxx + 50_000, miny - 50_000:maxy + 50_000]
        if self.buffer_m > 0:
            zones = chunked(shapely.buffer, np.asarray(feats.geometry.values), distance=self.buffer_m,
                            min_items=2)
            feats = feats.set_geometry(gpd.GeoSeries(zones, index=feats.index, crs=feats.crs))
        return f"Excluded by {label} ({self.layer} + {self.buffer_m:g} m)", feats


class MinArea(BaseRule):
    """Keep candidates with at least ``acres`` of eligible land on the ellipsoid (a CRS that is not equal-area:
    :func:`siting.geo.areas.acres_for_threshold`)."""

    rule: Literal["min_area"] = "min_area"
    stage: ClassVar[str] = "site"
    parameter: ClassVar[str | None] = "acres"
    acres: float = Field(gt=0)

    def describe(self) -> str:
        return f"eligible area >= {self.acres:g} acres"

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        acres = acres_for_threshold(geoms, frame.crs, self.acres)  # on the ellipsoid, whatever the CRS
        return Outcome(acres, self.decide(acres), ">=", self.acres, "eligible acres")

    def decide(self, values: ArrayLike) -> np.ndarray:
        return np.asarray(values, dtype=float) >= self.acres


class _RasterRule(BaseRule):
    stage: ClassVar[str] = "site"
    parameter: ClassVar[str | None] = "value"
    raster: str
    stat: str = "mean"
    value: float
    missing: Literal["fail", "pass"] = "fail"
    #: Least fraction of a candidate's area with data (pixels off the raster or nodata are none) for the rule
    #: to judge it; below it the candidate has no data and ``missing`` decides.
    min_coverage: float = Field(0.9, gt=0, le=1)
    _op: ClassVar[str] = "<="

    def describe(self) -> str:
        return f"{self.stat} of {self.raster} {self._op} {self.value:g}"

    def rasters_used(self) -> list[str]:
        return [self.raster]

    def decide(self, values: ArrayLike) -> np.ndarray:
        """``values`` against the threshold; no data passes or fails as ``missing`` says."""
        val = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            ok = val <= self.value if self._op == "<=" else val >= self.value
        return np.where(np.isnan(val), self.missing == "pass", ok)

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        from siting.geo.raster import coverage, zonal_stats  # lazy: rasterio only when rasters are used

        raster = ctx.raster(self.raster)
        table = zonal_stats(raster, geoms, [self.stat])
        val = table[self.stat].to_numpy().copy()
        val[coverage(raster, geoms, table) < self.min_coverage] = np.nan  # judged on too little of the site
        return Outcome(val, self.decide(val), self._op, self.value, f"{self.stat} of {self.raster}",
                       unknown=np.isnan(val))

    def no_data(self) -> str:
        return (f"{self.raster} data on less than {self.min_coverage:.0%} of their area (off the raster or nodata); "
                f"they {self.missing} (missing: {self.missing}; min_coverage sets the share)")


class RasterMax(_RasterRule):
    """Keep candidates whose raster statistic is at most ``value`` (e.g. p90 slope <= 5 %)."""

    rule: Literal["raster_max"] = "raster_max"


class RasterMin(_RasterRule):
    """Keep candidates whose raster statistic is at least ``value``."""

    rule: Literal["raster_min"] = "raster_min"
    _op: ClassVar[str] = ">="


class _DistanceRule(LayerThresholdRule):
    parameter: ClassVar[str | None] = "distance_m"
    distance_m: float = Field(ge=0)

    def describe(self) -> str:
        return f"distance to {self.filtered()} {self._op} {self.distance_m:g} m"

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        feats = np.asarray(ctx.layer(self.layer, self.where).geometry.values, dtype=object)
        d = spatial.nearest_distance(geoms, feats, reuse=ctx.reuse, crs=frame.crs)
        close = np.flatnonzero((d >= self.distance_m) & (d <= self.distance_m * (1 + SETTLE_BAND)))
        if len(close):  # the map's nearest pair can be a little long on the ground: settled where it decides
            d = d.copy()
            d[close] = settle(np.asarray(geoms, dtype=object)[close], feats, d[close], frame.crs)
        return Outcome(d, self.decide(d), self._op, self.distance_m, f"distance to {self.layer} (m)")


class Within(_DistanceRule):
    """Keep land within ``distance_m`` of a (filtered) layer on the ground, e.g. substations >= 115 kV.

    On parcel land (candidates ``parts``) the rule keeps only the land within the distance (the mirror
    of ``outside``; see :func:`siting.geo.geodesy.buffer_radius`; the buffers never reach beyond it:
    :func:`siting.geo.inner.inner_buffer`), and the value is the distance from the land. On cells and packed
    footprints the whole footprint must be within: the value is the distance of its farthest point, whatever
    the threshold (:func:`siting.geo.farthest.farthest_distance`), so relaxing the rule re-decides the ledger
    value.
    """

    rule: Literal["within"] = "within"
    _clip: bool = PrivateAttr(False)

    def stage_in(self, method: str) -> str:
        return "land" if method == "parts" else "site"

    def at_stage(self, stage: str) -> Within:
        out = self.model_copy()
        out._clip = stage == "land"
        return out

    def rescreens(self) -> bool:
        return self._clip

    def evaluate(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> Outcome:
        feats = np.asarray(ctx.layer(self.layer, self.where).geometry.values, dtype=object)
        measure = f"distance to {self.layer} (m)"
        if self._clip:
            radius = geodesy.buffer_radius(feats, self.distance_m, geodesy.ground_of(frame.crs), cover=False)
            new = spatial.keep_within(geoms, inner_buffer(feats, radius))
            return _land_outcome(geoms, new, feats, frame.crs, ctx, "<=", self.distance_m, measure, lambda ok: ok)
        d = farthest_distance(np.asarray(geoms, dtype=object), feats, frame.crs)
        return Outcome(d, self.decide(d), "<=", self.distance_m, f"farthest {measure}")

    def measure_land(self, frame: gpd.GeoDataFrame, geoms: np.ndarray, ctx: RuleContext) -> np.ndarray | None:
        """On parcel land: the distance on the ground from land kept whole to the layer (as the rule measures
        land it clips); on sites, None (nothing is cut)."""
        return _distance_to_layer(self, frame, geoms, ctx) if self._clip else None


class Beyond(_DistanceRule):
    """Keep candidates at least ``distance_m`` from a (filtered) layer, e.g. towns."""

    rule: Literal["beyond"] = "beyond"
    _op: ClassVar[str] = ">="


#: Rules with a numeric threshold (relaxation curves vary it).
RELAXABLE = (Outside, MinArea, RasterMax, RasterMin, Within, Beyond, OverlapMax, OverlapMin)
RULE_TYPES = (AgencyIn, AgencyNotIn, GapStatusIn, GapStatusNotIn, DesignationNotIn, Attribute,
              Outside, MinArea, RasterMax, RasterMin, Within, Beyond, OverlapMax, OverlapMin, Include, Exclude)
Rule = Annotated[
    AgencyIn | AgencyNotIn | GapStatusIn | GapStatusNotIn | DesignationNotIn | Attribute | Outside
    | MinArea | RasterMax | RasterMin | Within | Beyond | OverlapMax | OverlapMin | Include | Exclude,
    Field(discriminator="rule"),
]
