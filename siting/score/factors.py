"""Factors: per-candidate measures, returned as Series on the candidate index.

* :func:`distance_to` - exact distance (m) to the nearest feature of a layer,
  optionally filtered (``where``) and, for deposits, by commodity;
* :func:`count_within` - number of features within a radius (deposits by
  commodity or group);
* :func:`raster_stat` - a zonal statistic of a raster over each candidate;
* :func:`attribute` - a candidate column as is.

:class:`Factor` is the scenario form; its :meth:`Factor.compute` returns a
small DataFrame (the raw value, with its unit in the column name, and for
distances the nearest feature's name).

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Point, box
>>> cands = gpd.GeoDataFrame({"candidate_id": ["a"]}, geometry=[box(0, 0, 10, 10)], crs=5070)
>>> subs = gpd.GeoDataFrame({"name": ["S1", "S2"], "voltage_kv": [69.0, 230.0]},
...                         geometry=[Point(20, 5), Point(110, 5)], crs=5070)
>>> distance_to(cands, subs).tolist(), distance_to(cands, subs, where="voltage_kv >= 115").tolist()
([10.0], [100.0])
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siting.core.errors import ScenarioError
from siting.geo import spatial
from siting.io import minerals
from siting.io.crs import require_same_crs
from siting.score import readiness, transforms
from siting.score.readiness import PermittingSpec
from siting.screen import where

__all__ = ["KINDS", "Factor", "attribute", "count_within", "distance_to", "filter_features", "raster_stat"]

#: What a factor can measure.
KINDS = ("distance_to", "count_within", "raster", "attribute", "feedstock", "permitting")

log = logging.getLogger(__name__)


def filter_features(features: gpd.GeoDataFrame, *, where_expr: str | None = None,
                    commodities=None, critical_only: bool = False,
                    layer: str | None = None) -> gpd.GeoDataFrame:
    """Return the features passing a filter and, for deposits, a commodity selection.

    ``commodities`` takes names, symbols or group names (``"china_export_controls"``).
    """
    keep = np.ones(len(features), dtype=bool)
    if where_expr:
        keep &= where.evaluate(where_expr, features, layer=layer).to_numpy()
    if commodities:
        if "commodities" not in features.columns:
            raise ScenarioError(f"layer {layer!r} has no commodities; commodity filters need deposits")
        keep &= minerals.has_any(features["commodities"], commodities)
    if critical_only:
        keep &= features["critical"].fillna(False).to_numpy(dtype=bool)
    return features[keep]


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


def distance_to(candidates: gpd.GeoDataFrame, features: gpd.GeoDataFrame, *,
                where: str | None = None, commodities=None) -> pd.Series:
    """Exact distance in CRS units (m) from each candidate to the nearest feature.

    Parameters
    ----------
    candidates, features : GeoDataFrame
        In the same projected CRS.
    where : str, optional
        Filter on the features, e.g. ``"voltage_kv >= 115"``.
    commodities : list of str, optional
        Deposit commodities or groups.

    Returns
    -------
    Series of float
        ``inf`` when no feature passes the filter.
    """
    require_same_crs(candidates, features, what="candidates and features")
    feats = filter_features(features, where_expr=where, commodities=commodities)
    return pd.Series(spatial.nearest_distance(_geoms(candidates), _geoms(feats)),
                     index=candidates.index, dtype=float)


def nearest_feature(candidates, features, *, where=None, commodities=None) -> pd.DataFrame:
    """Distance and name (or id) of the nearest feature for each candidate."""
    require_same_crs(candidates, features, what="candidates and features")
    feats = filter_features(features, where_expr=where, commodities=commodities)
    d, idx = spatial.nearest(_geoms(candidates), _geoms(feats))
    label_col = "name" if "name" in feats.columns else None
    names = np.full(len(candidates), None, dtype=object)
    if len(feats):
        labels = feats[label_col].astype(object) if label_col else pd.Series(feats.index.astype(str))
        id_col = next((c for c in ("feature_id", "deposit_id", "parcel_id") if c in feats), None)
        if id_col:
            labels = labels.where(labels.notna(), feats[id_col].astype(object))
        names[idx >= 0] = labels.to_numpy(dtype=object)[idx[idx >= 0]]
    return pd.DataFrame({"distance_m": d, "nearest": names}, index=candidates.index)


def count_within(candidates: gpd.GeoDataFrame, features: gpd.GeoDataFrame, radius_m: float, *,
                 where: str | None = None, commodities=None, weights=None) -> pd.Series:
    """Number of features within ``radius_m`` of each candidate (its edge, not its centre).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> c = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=5070)
    >>> d = gpd.GeoDataFrame({"commodities": ["tungsten", "gold"]},
    ...                      geometry=[Point(100, 0), Point(50, 0)], crs=5070)
    >>> count_within(c, d, 200).tolist(), count_within(c, d, 200, commodities=["W"]).tolist()
    ([2.0], [1.0])
    """
    require_same_crs(candidates, features, what="candidates and features")
    feats = filter_features(features, where_expr=where, commodities=commodities)
    w = None if weights is None else np.asarray(weights(feats) if callable(weights) else weights)
    return pd.Series(spatial.count_within(_geoms(candidates), _geoms(feats), radius_m, w),
                     index=candidates.index, dtype=float)


def raster_stat(candidates: gpd.GeoDataFrame, raster, stat: str = "mean") -> pd.Series:
    """A zonal statistic of ``raster`` over each candidate (NaN where no data)."""
    from siting.geo.raster import zonal_stats  # lazy: rasterio only when rasters are used

    res = zonal_stats(raster, _geoms(candidates), [stat])
    return pd.Series(res[stat].to_numpy(), index=candidates.index, dtype=float)


def attribute(candidates: gpd.GeoDataFrame, column: str) -> pd.Series:
    """A candidate column, as is (e.g. ``gap_status`` for a categorical score)."""
    if column not in candidates.columns:
        raise ScenarioError(f"candidates have no column {column!r}; columns: "
                            + ", ".join(c for c in candidates.columns if c != "geometry"))
    return candidates[column].copy()


class Factor(BaseModel):
    """A scenario factor: what to measure, how to score it, and its weight.

    Exactly one of ``distance_to``, ``count_within``, ``raster``, ``attribute``, ``feedstock``
    (development-weighted deposits within ``radius_m``) or ``permitting`` (readiness parts, see
    :mod:`siting.score.readiness`) names what is measured.

    Examples
    --------
    >>> f = Factor(name="power", distance_to="substations", where="voltage_kv >= 115",
    ...            transform={"linear": {"best": 0, "worst": 50000}}, weight=3)
    >>> f.kind, f.raw_column
    ('distance_to', 'power_m')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)
    distance_to: str | None = None
    count_within: str | None = None
    raster: str | None = None
    attribute: str | None = None
    feedstock: str | None = None
    permitting: PermittingSpec | None = None
    dev_weights: dict[str, float] | None = None
    where: str | None = None
    commodities: list[str] | None = None
    critical_only: bool = False
    radius_m: float | None = Field(None, gt=0)
    stat: str = "mean"
    transform: dict | str | None = None
    direction: Literal["benefit", "cost"] | None = None
    weight: float = Field(1.0, ge=0)

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        return where.validate(v) if v else v

    @field_validator("transform")
    @classmethod
    def _transform(cls, v):
        return transforms.validate(v) if v is not None else v

    @field_validator("commodities")
    @classmethod
    def _commodities(cls, v):
        if v:
            minerals.expand(v)
        return v

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in KINDS if getattr(self, k)]
        if len(kinds) != 1:
            got = f" (got {', '.join(kinds)})" if kinds else ""
            raise ValueError(f"give exactly one of {', '.join(KINDS)}{got}")
        if kinds[0] in ("count_within", "feedstock") and self.radius_m is None:
            raise ValueError(f"{kinds[0]} needs radius_m")
        return self

    @property
    def kind(self) -> str:
        """One of :data:`KINDS`."""
        return next(k for k in KINDS if getattr(self, k))

    @property
    def target(self) -> str | None:
        """The layer, raster or column the factor measures (None for ``permitting``)."""
        return None if self.kind == "permitting" else getattr(self, self.kind)

    def layers_used(self) -> list[str]:
        """Every layer the factor reads."""
        if self.kind == "permitting":
            return self.permitting.layer_names()
        return [] if self.kind in ("raster", "attribute") else [self.target]

    @property
    def unit(self) -> str:
        """Unit suffix of the raw column."""
        return {"distance_to": "m", "count_within": "count", "raster": self.stat, "attribute": "value",
                "feedstock": "wcount", "permitting": "index"}[self.kind]

    @property
    def raw_column(self) -> str:
        """Name of the raw-value column, with its unit."""
        return f"{self.name}_{self.unit}"

    @property
    def default_direction(self) -> str:
        """``cost`` for distances and raster values, ``benefit`` for counts and attributes."""
        return self.direction or ("cost" if self.kind in ("distance_to", "raster") else "benefit")

    def score(self, raw) -> np.ndarray:
        """Transformed score in [0, 1] (min-max in the factor's direction by default)."""
        spec = self.transform or {"minmax": {"direction": self.default_direction}}
        return transforms.apply(spec, raw)

    def compute(self, candidates: gpd.GeoDataFrame, layers: dict, rasters: dict) -> pd.DataFrame:
        """Measure the factor for each candidate; returns the raw column (and ``_nearest``)."""
        if self.kind == "raster":
            if self.raster not in rasters:
                raise ScenarioError(f"factor {self.name!r}: raster {self.raster!r} is not loaded; "
                                    f"rasters: {', '.join(rasters) or 'none'}")
            vals = raster_stat(candidates, rasters[self.raster], self.stat)
            if vals.isna().any():
                log.warning("factor %s: %d site(s) have no %s data; they score 0 on it", self.name,
                            int(vals.isna().sum()), self.raster)
            return pd.DataFrame({self.raw_column: vals})
        if self.kind == "attribute":
            return pd.DataFrame({self.raw_column: attribute(candidates, self.attribute)})
        missing = [n for n in self.layers_used() if n not in layers]
        if missing:
            raise ScenarioError(f"factor {self.name!r}: layer(s) {', '.join(missing)} not loaded; "
                                f"layers: {', '.join(layers)}")
        if self.kind == "permitting":
            return readiness.permitting(candidates, layers, self.permitting, name=self.name)
        if self.kind == "feedstock":
            return readiness.feedstock(candidates, layers[self.feedstock], name=self.name, radius_m=self.radius_m,
                                       commodities=self.commodities, dev_weights=self.dev_weights)
        if self.target not in layers:
            raise ScenarioError(f"factor {self.name!r}: layer {self.target!r} is not loaded; "
                                f"layers: {', '.join(layers)}")
        feats = filter_features(layers[self.target], where_expr=self.where,
                                commodities=self.commodities, critical_only=self.critical_only,
                                layer=self.target)
        if self.kind == "count_within":
            return pd.DataFrame({self.raw_column: count_within(candidates, feats, self.radius_m)})
        near = nearest_feature(candidates, feats)
        return pd.DataFrame({self.raw_column: near["distance_m"],
                             f"{self.name}_nearest": near["nearest"]})
