"""Factors: one class per kind of measure, registered by the scenario key that names it.

A scenario factor names what it measures with one key, and that key picks the class:

==================  ==================  ======================================================
key                 class               raw column (unit in the name)
==================  ==================  ======================================================
``distance_to``     :class:`DistanceTo`   ``<name>_m`` and ``<name>_nearest`` (the feature's name)
``count_within``    :class:`CountWithin`  ``<name>_count`` within ``radius_m``
``raster``          :class:`RasterFactor` ``<name>_<stat>`` (a zonal statistic)
``attribute``       :class:`AttributeFactor` ``<name>_value`` (a candidate column)
``feedstock``       :class:`Feedstock`    ``<name>_wcount`` (development-weighted deposits)
``permitting``      :class:`Permitting`   ``<name>_index`` and one column per part
``overlay``         :class:`Overlay`      ``<name>_value`` (overlapping polygons' field) and ``<name>_share``
==================  ==================  ======================================================

Each class measures (:meth:`BaseFactor.compute`), scores (:meth:`BaseFactor.score`), says which
layers and rasters it reads, and checks a scenario's loaded layers for the fields it filters on
(:meth:`BaseFactor.check`). :func:`make_factor` builds the right class from a mapping, and
:data:`FACTOR_TYPES` is the registry: a new kind is one class added there.

Examples
--------
>>> f = make_factor({"name": "power", "distance_to": "substations", "where": "voltage_kv >= 115",
...                  "transform": {"linear": {"best": 0, "worst": 50000}}, "weight": 3})
>>> type(f).__name__, f.kind, f.raw_column, f.layers_used()
('DistanceTo', 'distance_to', 'power_m', ['substations'])
>>> make_factor({"name": "x"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: factor 'x': give exactly one of distance_to, count_within, raster, ...
>>> issubclass(FACTOR_TYPES["distance_to"], BaseFactor)
True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from siting.core.errors import RasterError, ScenarioError
from siting.geo.overlay import covered_fraction, overlay_values, require_polygons
from siting.geo.proximity import Reuse
from siting.io import minerals
from siting.score import measures, readiness, transforms
from siting.score.measures import attribute, count_within, filter_features, nearest_feature, raster_stat
from siting.score.readiness import PermittingSpec
from siting.screen import where as where_mod

__all__ = ["FACTOR_TYPES", "KINDS", "AttributeFactor", "BaseFactor", "CountWithin", "DistanceTo", "Factor",
           "Feedstock", "Overlay", "Permitting", "RasterFactor", "make_factor"]


class BaseFactor(BaseModel):
    """What every factor has: a name, a transform to [0, 1], a direction and a weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The scenario key that names this kind (and holds its target).
    kind: ClassVar[str] = ""
    #: Unit suffix of the raw column.
    unit: ClassVar[str] = "value"
    #: Direction when the scenario gives neither ``direction`` nor ``transform``.
    natural_direction: ClassVar[str] = "benefit"

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)
    transform: dict | str | None = None
    direction: Literal["benefit", "cost"] | None = None
    weight: float = Field(1.0, ge=0)

    @field_validator("transform")
    @classmethod
    def _transform(cls, v):
        return transforms.validate(v) if v is not None else v

    @property
    def target(self) -> str | None:
        """The layer, raster or column the factor measures (None when it reads several)."""
        return getattr(self, self.kind, None) if isinstance(getattr(self, self.kind, None), str) else None

    @property
    def raw_column(self) -> str:
        """Name of the raw-value column, with its unit."""
        return f"{self.name}_{self.unit}"

    @property
    def default_direction(self) -> str:
        """``cost`` for distances and raster values, ``benefit`` for counts and attributes."""
        return self.direction or self.natural_direction

    def layers_used(self) -> list[str]:
        """Every layer the factor reads."""
        return []

    def rasters_used(self) -> list[str]:
        """Every raster the factor reads."""
        return []

    def filters(self) -> list[tuple[str, str]]:
        """``(layer, where)`` for each filter the factor applies to a layer."""
        return []

    def columns_read(self) -> list[str]:
        """The candidates' columns the factor reads besides their geometry (the run hands the factors only
        these: a national run's candidates carry dozens).

        Examples
        --------
        >>> make_factor({"name": "gap", "attribute": "gap_status"}).columns_read()
        ['gap_status']
        >>> make_factor({"name": "road", "distance_to": "roads"}).columns_read()
        []
        """
        return []

    def describe(self) -> str:
        """One line saying what is measured."""
        return f"{self.kind} {self.target or ''}".strip()

    def score(self, raw) -> np.ndarray:
        """Transformed score in [0, 1] (min-max in the factor's direction by default)."""
        spec = self.transform or {"minmax": {"direction": self.default_direction}}
        return transforms.apply(spec, raw)

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[str]:
        """Problems that would stop this factor on the loaded layers: missing layers, rasters or fields.

        ``layers`` maps a layer name to its loaded frames (one per file).
        """
        problems = self._missing_inputs(layers, rasters)
        for layer, expr in self.filters():
            problems += where_mod.filter_problems(expr, layers.get(layer, []), layer, f"factor {self.name!r}")
        return problems

    def _missing_inputs(self, layers: Collection[str], rasters: Collection[str]) -> list[str]:
        problems = [f"factor {self.name!r}: layer {n!r} is not loaded; layers: {', '.join(layers) or 'none'}"
                    for n in self.layers_used() if n not in layers]
        return problems + [f"factor {self.name!r}: raster {n!r} is not loaded; rasters: "
                           f"{', '.join(rasters) or 'none'}" for n in self.rasters_used() if n not in rasters]

    def compute(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], *, reuse: Reuse | None = None) -> pd.DataFrame:
        """Measure the factor for each candidate: the raw column (and any detail columns)."""
        problems = self._missing_inputs(layers, rasters)
        if problems:
            raise ScenarioError("; ".join(problems))
        return self.measure(candidates, layers, rasters, reuse)

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:  # pragma: no cover - abstract
        """The kind's own measurement (called by :meth:`compute` once its inputs are checked)."""
        raise NotImplementedError

    def judge(self, raw: pd.DataFrame) -> None:
        """Check the factor's raw columns for every site (``raw``, all partitions joined): raise when the factor
        cannot be judged, warn about what it could not measure. Nothing to check by default."""


def _valid_commodities(v: list[str] | None) -> list[str] | None:
    if v:
        minerals.expand(v)  # raises on an unknown name
    return v


def _fields(frame: pd.DataFrame) -> str:
    return ", ".join(c for c in frame.columns if c != "geometry")


class _LayerFactor(BaseFactor):
    """A factor on the features of one layer, optionally filtered and (deposits) selected by commodity."""

    where: str | None = None
    commodities: list[str] | None = None
    critical_only: bool = False

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        return where_mod.validate(v) if v else v

    _commodities = field_validator("commodities")(lambda v: _valid_commodities(v))

    def layers_used(self) -> list[str]:
        return [self.target] if self.target else []

    def filters(self) -> list[tuple[str, str]]:
        return [(self.target, self.where)] if self.where and self.target else []

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[str]:
        return super().check(layers, rasters) + (measures.selection_problems(
            f"factor {self.name!r}", self.target, layers.get(self.target, []), where_expr=self.where,
            commodities=self.commodities, critical_only=self.critical_only) if self.target else [])

    def _features(self, layers) -> gpd.GeoDataFrame:
        return filter_features(layers[self.target], where_expr=self.where, commodities=self.commodities,
                               critical_only=self.critical_only, layer=self.target)


class DistanceTo(_LayerFactor):
    """Exact distance (m) to the nearest (filtered) feature of a layer, and that feature's name.

    Examples
    --------
    >>> from shapely import Point, box
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=5070)
    >>> subs = gpd.GeoDataFrame({"name": ["A", "B"], "voltage_kv": [69.0, 230.0]},
    ...                         geometry=[Point(20, 5), Point(110, 5)], crs=5070)
    >>> f = DistanceTo(name="power", distance_to="subs", where="voltage_kv >= 115")
    >>> f.compute(c, {"subs": subs}, {}).round(2).values.tolist()  # 100 m on the map, 98.13 m on the ground
    [[98.13, 'B']]
    """

    kind: ClassVar[str] = "distance_to"
    unit: ClassVar[str] = "m"
    natural_direction: ClassVar[str] = "cost"
    distance_to: str

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        near = nearest_feature(candidates, self._features(layers), reuse=reuse)
        return pd.DataFrame({self.raw_column: near["distance_m"], f"{self.name}_nearest": near["nearest"]})


class CountWithin(_LayerFactor):
    """Number of (filtered) features within ``radius_m`` of each candidate's edge.

    Examples
    --------
    >>> from shapely import Point
    >>> c = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=5070)
    >>> d = gpd.GeoDataFrame({"commodities": ["tungsten", "gold"]}, geometry=[Point(100, 0), Point(50, 0)], crs=5070)
    >>> CountWithin(name="w", count_within="deps", radius_m=200, commodities=["W"]).compute(c, {"deps": d}, {})
       w_count
    0      1.0
    """

    kind: ClassVar[str] = "count_within"
    unit: ClassVar[str] = "count"
    count_within: str
    radius_m: float = Field(gt=0)

    def describe(self) -> str:
        return f"count of {self.count_within} within {self.radius_m:g} m"

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        return pd.DataFrame({self.raw_column: count_within(candidates, self._features(layers), self.radius_m,
                                                           reuse=reuse)})


class RasterFactor(BaseFactor):
    """A zonal statistic (mean, median, min, max, std, pNN) of a raster over each candidate.

    Examples
    --------
    >>> RasterFactor(name="terrain", raster="slope_pct", stat="p90").raw_column
    'terrain_p90'
    """

    kind: ClassVar[str] = "raster"
    natural_direction: ClassVar[str] = "cost"
    raster: str
    stat: str = "mean"
    #: Least fraction of a site's area with data for it to be measured (else it has no data: scored 0, warned).
    min_coverage: float = Field(0.9, gt=0, le=1)

    @property
    def raw_column(self) -> str:
        return f"{self.name}_{self.stat}"

    def rasters_used(self) -> list[str]:
        return [self.raster]

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        return pd.DataFrame({self.raw_column: raster_stat(candidates, rasters[self.raster], self.stat,
                                                          self.min_coverage)})

    def judge(self, raw: pd.DataFrame) -> None:
        """Raise when no site has data under it (the factor cannot be judged); warn with the count of those
        without (they score 0 on it).

        Examples
        --------
        >>> f = RasterFactor(name="terrain", raster="slope")
        >>> f.judge(pd.DataFrame({"terrain_mean": [float("nan")]}))
        Traceback (most recent call last):
        ...
        siting.core.errors.RasterError: factor 'terrain': raster 'slope' has no data under any of the 1 sites \
(every pixel there is nodata); check the file's extent and its nodata value, or drop the factor
        """
        measures.judge_missing(f"factor {self.name!r}", raw[self.raw_column], RasterError,
                               f"raster {self.raster!r} has no data under any of the {{n:,}} sites (every pixel "
                               "there is nodata); check the file's extent and its nodata value, or drop the factor",
                               f"have {self.raster!r} data on less than {self.min_coverage:.0%} of their area")


class AttributeFactor(BaseFactor):
    """A candidate column as is (e.g. ``gap_status`` scored with a categorical transform).

    Examples
    --------
    >>> c = gpd.GeoDataFrame({"gap_status": [3, 4]}, geometry=[None, None], crs=5070)
    >>> AttributeFactor(name="gap", attribute="gap_status").compute(c, {}, {})["gap_value"].tolist()
    [3, 4]
    """

    kind: ClassVar[str] = "attribute"
    attribute: str

    def columns_read(self) -> list[str]:
        return [self.attribute]

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[str]:
        return super().check(layers, rasters) + measures.field_problems(
            f"factor {self.name!r}", self.attribute, "parcels", layers)

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        return pd.DataFrame({self.raw_column: attribute(candidates, self.attribute)})

    def judge(self, raw: pd.DataFrame) -> None:
        measures.judge_missing(f"factor {self.name!r}", raw[self.raw_column], ScenarioError,
                               f"{self.attribute} is missing (NA) on every one of the {{n:,}} sites; choose another "
                               "field or remove the factor", f"have no {self.attribute} value")


class Feedstock(BaseFactor):
    """Development-weighted deposits within ``radius_m`` (see :func:`siting.score.readiness.feedstock`).

    Examples
    --------
    >>> Feedstock(name="feed", feedstock="deposits", radius_m=80_000, commodities=["W"]).raw_column
    'feed_wcount'
    """

    kind: ClassVar[str] = "feedstock"
    unit: ClassVar[str] = "wcount"
    feedstock: str
    radius_m: float = Field(gt=0)
    commodities: list[str] | None = None
    dev_weights: dict[str, float] | None = None

    _commodities = field_validator("commodities")(lambda v: _valid_commodities(v))

    def layers_used(self) -> list[str]:
        return [self.feedstock]

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[str]:
        return super().check(layers, rasters) + measures.selection_problems(
            f"factor {self.name!r}", self.feedstock, layers.get(self.feedstock, []), commodities=self.commodities,
            needs=("commodities", "dev_status"))

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        return readiness.feedstock(candidates, layers[self.feedstock], name=self.name, radius_m=self.radius_m,
                                   commodities=self.commodities, dev_weights=self.dev_weights, reuse=reuse)


class Permitting(BaseFactor):
    """Permitting readiness from the parts the loaded layers allow (see :mod:`siting.score.readiness`).

    Examples
    --------
    >>> f = Permitting(name="permit", permitting={"roads": "roads", "disturbance": ["mines"]})
    >>> f.raw_column, f.layers_used()
    ('permit_index', ['mines', 'roads'])
    """

    kind: ClassVar[str] = "permitting"
    unit: ClassVar[str] = "index"
    permitting: PermittingSpec

    def layers_used(self) -> list[str]:
        return self.permitting.layer_names()

    def columns_read(self) -> list[str]:
        return list(readiness.CANDIDATE_COLUMNS)

    def filters(self) -> list[tuple[str, str]]:
        return [(p.layer, p.where) for p in self.permitting.extra if p.where]

    def describe(self) -> str:
        return f"permitting readiness from {', '.join(self.layers_used()) or 'parcel fields'}"

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        return readiness.permitting(candidates, layers, self.permitting, name=self.name, reuse=reuse)


class Overlay(BaseFactor):
    """A field of the polygons that overlap each site (land-use allocation, water stress, county data),
    summarised by ``how`` (:func:`siting.geo.overlay.overlay_values`), with the share of the site they cover.

    Examples
    --------
    >>> from shapely import box
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=5070)
    >>> sheds = gpd.GeoDataFrame({"stress": [1.0, 4.0]}, geometry=[box(0, 0, 5, 10), box(5, 0, 20, 10)], crs=5070)
    >>> Overlay(name="water", overlay="sheds", field="stress", direction="cost").compute(c, {"sheds": sheds}, {})
       water_value  water_share
    0          2.5          1.0
    """

    kind: ClassVar[str] = "overlay"
    overlay: str
    field: str
    how: Literal["area_weighted", "majority", "max"] = "area_weighted"
    where: str | None = None

    _where = field_validator("where")(lambda v: where_mod.validate(v) if v else v)

    def layers_used(self) -> list[str]:
        return [self.overlay]

    def filters(self) -> list[tuple[str, str]]:
        return [(self.overlay, self.where)] if self.where else []

    def describe(self) -> str:
        return f"{self.how.replace('_', '-')} {self.field} of the {self.overlay} polygons over the site"

    def check(self, layers: Mapping[str, Sequence[pd.DataFrame]], rasters: Collection[str]) -> list[str]:
        return super().check(layers, rasters) + measures.field_problems(
            f"factor {self.name!r}", self.field, self.overlay, layers)

    def measure(self, candidates: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                rasters: Mapping[str, Any], reuse: Reuse | None) -> pd.DataFrame:
        feats = filter_features(layers[self.overlay], where_expr=self.where, layer=self.overlay)
        if self.field not in feats.columns:
            raise ScenarioError(f"factor {self.name!r}: layer {self.overlay!r} has no field {self.field!r}; "
                                f"fields: {_fields(feats)}")
        geoms, polys = np.asarray(candidates.geometry.values, dtype=object), feats.geometry.values
        require_polygons(polys, self.overlay, f"factor {self.name!r}")
        value = overlay_values(geoms, polys, feats[self.field], self.how, layer=self.overlay, field=self.field)
        numeric = pd.to_numeric(pd.Series(value), errors="coerce")
        if numeric.isna().sum() > pd.isna(value).sum() and "categorical" not in (self.transform or {}):
            raise ScenarioError(f"factor {self.name!r}: {self.field} of {self.overlay!r} holds categories "
                                f"such as {next(v for v in value if v is not None and pd.notna(v))!r}; "
                                "score them with transform: {categorical: {map: {VALUE: SCORE, ...}}}")
        out = numeric.to_numpy() if numeric.isna().sum() == pd.isna(value).sum() else value
        return pd.DataFrame({self.raw_column: out, f"{self.name}_share": covered_fraction(geoms, polys)},
                            index=candidates.index)

    def judge(self, raw: pd.DataFrame) -> None:
        measures.judge_missing(f"factor {self.name!r}", raw[self.raw_column], ScenarioError,
                               f"none of the {{n:,}} sites overlaps a feature of layer {self.overlay!r} with a "
                               f"{self.field} value; check the layer's extent and CRS, or drop the factor",
                               f"overlap no feature of layer {self.overlay!r} with a {self.field} value")


#: The registry: scenario key -> factor class.
FACTOR_TYPES: dict[str, type[BaseFactor]] = {
    c.kind: c for c in (DistanceTo, CountWithin, RasterFactor, AttributeFactor, Feedstock, Permitting, Overlay)}
#: What a factor can measure (the registry's keys, in order).
KINDS = tuple(FACTOR_TYPES)


def _kind_of(value) -> str | None:
    if isinstance(value, BaseFactor):
        return value.kind
    if isinstance(value, Mapping):
        present = [k for k in KINDS if value.get(k) is not None]
        return present[0] if len(present) == 1 else None
    return None


#: A factor in a scenario: the class is chosen by the one key that names what is measured.
Factor = Annotated[
    Annotated[DistanceTo, Tag("distance_to")] | Annotated[CountWithin, Tag("count_within")]
    | Annotated[RasterFactor, Tag("raster")] | Annotated[AttributeFactor, Tag("attribute")]
    | Annotated[Feedstock, Tag("feedstock")] | Annotated[Permitting, Tag("permitting")]
    | Annotated[Overlay, Tag("overlay")],
    Discriminator(_kind_of, custom_error_type="factor_kind",
                  custom_error_message=f"give exactly one of {', '.join(KINDS)}"),
]


def make_factor(spec: Mapping[str, Any] | BaseFactor) -> BaseFactor:
    """The factor class instance for a scenario mapping (the key naming the measure picks the class).

    Raises
    ------
    ScenarioError
        When no key or several name a measure, or a field is wrong (the message names the factor).
    """
    if isinstance(spec, BaseFactor):
        return spec
    kind = _kind_of(spec)
    name = spec.get("name", "?") if isinstance(spec, Mapping) else "?"
    if kind is None:
        raise ScenarioError(f"factor {name!r}: give exactly one of {', '.join(KINDS)}")
    try:
        return FACTOR_TYPES[kind].model_validate(spec)
    except ValidationError as exc:
        raise ScenarioError(f"factor {name!r}: {exc.errors()[0]['msg']} "
                            f"({'.'.join(map(str, exc.errors()[0]['loc']))})") from None
