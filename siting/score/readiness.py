"""Composite factors: feedstock within a haul radius, and permitting readiness.

**Feedstock** counts deposits of the selected commodities (names, symbols or groups such as
``china_export_controls``) within ``radius_m``, each weighted by its development status
(producer 1.0 > past producer 0.7 > prospect 0.4 > occurrence 0.2 > unknown 0.1 by default), and
names the nearest deposit of each selected commodity for every site.

**Permitting readiness** combines what the loaded layers can say about how fast a site could be
permitted, each part in [0, 1], averaged over the parts that can be computed:

* ``gap`` - PAD-US GAP status: 4 -> 1.0, 3 -> 0.75, 2 -> 0.25, 1 -> 0, unknown -> 0.5;
* ``designation`` - 0 on special designations (wilderness study areas, ACECs, monuments, ...), else 1;
* ``disturbance`` - existing disturbance (USMIN mine features, mining claims, ...) within
  ``radius_m``: log1p(count) / log1p(10), capped at 1;
* ``roads`` - distance to a road: 1 at 0 m, 0 at ``roads_worst_m``;
* ``infrastructure`` - distance to the nearest listed infrastructure: 1 at 0 m, 0 at ``infra_worst_m``;
* ``dod`` - land-manager compatibility with a Defense Production Act project: DOD and DOE land 1.0,
  BLM 0.8, BOR 0.7, USFS 0.5, other 0.3 (``agency_scores`` overrides).

Each part shows in the breakdown as ``<factor>_<part>``.

**Parts you choose** (``extra``): each names a layer and how it bears on permitting, with a weight
(default 1; the built-in parts weigh 1 unless ``weights`` says otherwise) and a ``direction``: ``benefit``
when being near, on or among the layer's features speeds permitting (previously disturbed land, roads,
designated energy corridors, existing industrial DoD or DOE land), ``cost`` when it slows it
(nonattainment areas, critical habitat, withdrawals, mining claims of others):

* ``overlap: LAYER`` - the share of the site the polygons cover (benefit: the share; cost: 1 - share);
* ``distance_to: LAYER``, ``worst_m`` - benefit: 1 at 0 m to 0 at ``worst_m``; cost: the reverse;
* ``count_within: LAYER``, ``radius_m``, ``saturate`` - log1p(count) / log1p(saturate), capped at 1
  (benefit), or 1 minus that (cost).

The index is the weighted mean of the parts; ``source`` records where the layer comes from.

Examples
--------
>>> dev_status_weights({"producer": 2})["producer"], dev_status_weights()["occurrence"]
(2.0, 0.2)
>>> PermittingSpec(roads="roads", disturbance=["mines"]).layer_names()
['mines', 'roads']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from siting.geo import spatial
from siting.geo.overlay import covered_fraction, require_polygons
from siting.geo.proximity import Reuse
from siting.io import minerals
from siting.schema import SPECIAL_DESIGNATIONS
from siting.screen import where

__all__ = ["DEV_WEIGHTS", "PermittingSpec", "ReadinessPart", "dev_status_weights", "feedstock", "permitting"]

DEV_WEIGHTS = {"producer": 1.0, "past producer": 0.7, "prospect": 0.4, "occurrence": 0.2, "unknown": 0.1}
AGENCY_SCORES = {"DOD": 1.0, "DOE": 1.0, "BLM": 0.8, "BOR": 0.7, "USFS": 0.5}
GAP_SCORES = {1: 0.0, 2: 0.25, 3: 0.75, 4: 1.0}
MAX_NEAREST = 10
#: The parts computed from the parcels and the layers named in the spec (see the module docstring).
BUILT_IN_PARTS = ("gap", "designation", "disturbance", "roads", "infrastructure", "dod")
#: The candidates' columns the built-in parts read where the candidates have them (gap, designation, dod).
CANDIDATE_COLUMNS = ("gap_status", "designation", "agency")


def dev_status_weights(overrides: dict | None = None) -> dict[str, float]:
    """Development-status weights, defaults updated with ``overrides``."""
    out = dict(DEV_WEIGHTS)
    out.update({str(k).lower(): float(v) for k, v in (overrides or {}).items()})
    return out


def _geoms(frame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def feedstock(sites: gpd.GeoDataFrame, deposits: gpd.GeoDataFrame, *, name: str, radius_m: float,
              commodities=None, dev_weights: dict | None = None, reuse: Reuse | None = None) -> pd.DataFrame:
    """Development-weighted deposit count within ``radius_m`` and the nearest deposit per commodity.

    Returns
    -------
    DataFrame
        ``<name>_wcount`` and ``<name>_nearest_<commodity>`` ("site name (12.3 km)") columns.

    Examples
    --------
    >>> from shapely import Point, box
    >>> s = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=5070)
    >>> d = gpd.GeoDataFrame({"name": ["Mine A", "Show B"], "commodities": ["tungsten", "tungsten;gold"],
    ...                       "dev_status": ["producer", "occurrence"]},
    ...                      geometry=[Point(1000, 5), Point(20, 5)], crs=5070)
    >>> out = feedstock(s, d, name="feed", radius_m=5000, commodities=["W"])
    >>> out["feed_wcount"].tolist(), out["feed_nearest_tungsten"].tolist()
    ([1.2], ['Show B (0.0 km)'])
    """
    deps = deposits[minerals.has_any(deposits["commodities"], commodities)] if commodities else deposits
    w = dev_status_weights(dev_weights)
    weights = deps["dev_status"].astype(str).str.lower().map(w).fillna(w["unknown"]).to_numpy(float)
    out = pd.DataFrame({f"{name}_wcount": spatial.count_within(_geoms(sites), _geoms(deps), radius_m, weights,
                                                               reuse=reuse, crs=sites.crs)},
                       index=sites.index)
    wanted = minerals.expand(commodities) if commodities else set()
    present = deps["commodities"].fillna("").str.split(";").explode()
    ordered = [c for c in present.value_counts().index if c and (not wanted or c in wanted)][:MAX_NEAREST]
    for c in ordered:
        sub = deps[minerals.has_any(deps["commodities"], [c])]
        d, idx = spatial.nearest(_geoms(sites), _geoms(sub), reuse=reuse, crs=sites.crs)
        names = sub.get("name", pd.Series(None, index=sub.index, dtype=object)).fillna(
            sub.get("deposit_id", pd.Series("", index=sub.index))).astype(str).to_numpy()
        label = pd.Series(names[np.maximum(idx, 0)], index=sites.index) + " (" + \
            pd.Series(np.round(d / 1000, 1), index=sites.index).astype(str) + " km)"
        out[f"{name}_nearest_{_slug(c)}"] = label.where(idx >= 0, None)
    return out


class ReadinessPart(BaseModel):
    """A permitting-readiness part chosen by the analyst: one layer, how it is measured, weight and direction.

    Examples
    --------
    >>> ReadinessPart(name="habitat", overlap="critical_habitat", direction="cost").layer
    'critical_habitat'
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)
    overlap: str | None = None
    distance_to: str | None = None
    count_within: str | None = None
    where: str | None = None
    radius_m: float = Field(5_000.0, gt=0)
    worst_m: float = Field(30_000.0, gt=0)
    saturate: float = Field(10.0, gt=0)
    weight: float = Field(1.0, ge=0)
    direction: Literal["benefit", "cost"]
    source: str | None = Field(None, description="The layer's public source, for the record.")

    @model_validator(mode="after")
    def _one_measure(self):
        given = [k for k in ("overlap", "distance_to", "count_within") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"permitting part {self.name!r}: give exactly one of overlap, distance_to, count_within")
        return self

    @property
    def layer(self) -> str:
        """The layer the part reads."""
        return str(self.overlap or self.distance_to or self.count_within)

    def measure(self, sites: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame],
                reuse: Reuse | None) -> np.ndarray:
        """The part in [0, 1] for each site."""
        feats = layers[self.layer]
        if self.where:
            feats = feats[where.evaluate(self.where, feats, layer=self.layer)]
        g, f = _geoms(sites), _geoms(feats)
        if self.overlap:
            require_polygons(f, self.layer, f"permitting part {self.name!r}")
            more = np.nan_to_num(covered_fraction(g, f))
        elif self.distance_to:
            more = _linear(spatial.nearest_distance(g, f, reuse=reuse, crs=sites.crs), self.worst_m)
        else:
            n = spatial.count_within(g, f, self.radius_m, reuse=reuse, crs=sites.crs)
            more = np.minimum(np.log1p(n) / np.log1p(self.saturate), 1.0)
        return more if self.direction == "benefit" else 1.0 - more


class PermittingSpec(BaseModel):
    """Which layers feed the permitting-readiness parts (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    disturbance: list[str] = []
    roads: str | None = None
    infrastructure: list[str] = []
    radius_m: float = Field(5_000.0, gt=0)
    roads_worst_m: float = Field(20_000.0, gt=0)
    infra_worst_m: float = Field(30_000.0, gt=0)
    agency_scores: dict[str, float] | None = None
    parts: list[str] | None = None
    weights: dict[str, float] = {}
    extra: list[ReadinessPart] = []

    @model_validator(mode="after")
    def _names(self):
        names = [*BUILT_IN_PARTS, *(p.name for p in self.extra)]
        unknown = sorted(set(self.weights) - set(names))
        clash = sorted({p.name for p in self.extra} & set(BUILT_IN_PARTS))
        if unknown or clash:
            raise ValueError(f"permitting: weights name unknown parts {unknown}; parts: {', '.join(names)}" if unknown
                             else f"permitting: extra part names {clash} are built-in parts; rename them")
        return self

    def layer_names(self) -> list[str]:
        """Every layer the spec refers to."""
        used = [*self.disturbance, *([self.roads] if self.roads else []), *self.infrastructure,
                *(p.layer for p in self.extra)]
        return list(dict.fromkeys(used))


def _linear(d: np.ndarray, worst: float) -> np.ndarray:
    return np.clip(1.0 - np.nan_to_num(d, nan=np.inf, posinf=np.inf) / worst, 0.0, 1.0)


def permitting(sites: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame], spec: PermittingSpec, *, name: str,
               reuse: Reuse | None = None) -> pd.DataFrame:
    """Permitting-readiness parts and their mean ``<name>_index`` in [0, 1].

    Examples
    --------
    >>> from shapely import LineString, box
    >>> s = gpd.GeoDataFrame({"agency": ["BLM"], "gap_status": [3]}, geometry=[box(0, 0, 10, 10)], crs=5070)
    >>> roads = gpd.GeoDataFrame(geometry=[LineString([(0, 1010), (10, 1010)])], crs=5070)
    >>> out = permitting(s, {"roads": roads}, PermittingSpec(roads="roads", roads_worst_m=10_000), name="p")
    >>> out.round(3).values.tolist()
    [[0.816, 0.75, 0.898, 0.8]]
    """
    g = _geoms(sites)
    parts: dict[str, np.ndarray] = {}
    if "gap_status" in sites:
        gap = pd.to_numeric(sites["gap_status"], errors="coerce")
        parts["gap"] = gap.map(GAP_SCORES).fillna(0.5).to_numpy(float)
    if "designation" in sites:
        parts["designation"] = np.where(sites["designation"].isin(SPECIAL_DESIGNATIONS), 0.0, 1.0)
    if spec.disturbance:
        feats = np.concatenate([_geoms(layers[n]) for n in spec.disturbance])
        n = spatial.count_within(g, feats, spec.radius_m, reuse=reuse, crs=sites.crs)
        parts["disturbance"] = np.minimum(np.log1p(n) / np.log1p(10), 1.0)
    if spec.roads:
        parts["roads"] = _linear(spatial.nearest_distance(g, _geoms(layers[spec.roads]), reuse=reuse, crs=sites.crs),
                                 spec.roads_worst_m)
    if spec.infrastructure:
        feats = np.concatenate([_geoms(layers[n]) for n in spec.infrastructure])
        near = spatial.nearest_distance(g, feats, reuse=reuse, crs=sites.crs)
        parts["infrastructure"] = _linear(near, spec.infra_worst_m)
    if "agency" in sites:
        scores = {**AGENCY_SCORES, **(spec.agency_scores or {})}
        parts["dod"] = sites["agency"].astype(object).map(scores).fillna(0.3).to_numpy(float)
    if spec.parts is not None:
        parts = {k: v for k, v in parts.items() if k in spec.parts}
    weight = {k: float(spec.weights.get(k, 1.0)) for k in parts}
    for part in spec.extra:
        parts[part.name], weight[part.name] = part.measure(sites, layers, reuse), part.weight
    out = pd.DataFrame({f"{name}_{k}": v for k, v in parts.items()}, index=sites.index)
    total = sum(weight.values())
    index = sum(out[f"{name}_{k}"] * w for k, w in weight.items()) / total if parts and total > 0 else np.nan
    out.insert(0, f"{name}_index", index)
    return out
