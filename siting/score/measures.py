"""Per-candidate measures, returned as Series on the candidate index (the factors' building blocks).

Distances and radii are geodesic metres on the working CRS's ellipsoid (:mod:`siting.geo.geodesy`).

* :func:`distance_to` - exact distance (m) to the nearest feature of a layer,
  optionally filtered (``where``) and, for deposits, by commodity;
* :func:`selection_problems`, :func:`field_problems` - why a factor's selection of a layer's features, or a
  field it reads, cannot judge it; :func:`judge_missing` - the error or warning for sites without a value;
* :func:`nearest_feature` - that distance and the nearest feature's name;
* :func:`count_within` - number of features within a radius (deposits by
  commodity or group);
* :func:`raster_stat` - a zonal statistic of a raster over each candidate;
* :func:`attribute` - a candidate column as is.

The scenario's factor classes (:mod:`siting.score.factors`) call these.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Point, box
>>> cands = gpd.GeoDataFrame({"candidate_id": ["a"]}, geometry=[box(0, 0, 10, 10)], crs=5070)
>>> subs = gpd.GeoDataFrame({"name": ["S1", "S2"], "voltage_kv": [69.0, 230.0]},
...                         geometry=[Point(20, 5), Point(110, 5)], crs=5070)
>>> distance_to(cands, subs).round(2).tolist(), distance_to(cands, subs, where="voltage_kv >= 115").round(2).tolist()
([9.81], [98.13])
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.core.errors import ScenarioError, warn
from siting.geo import spatial
from siting.geo.proximity import Reuse
from siting.io import minerals
from siting.io.crs import require_same_crs
from siting.schema import ID_COLUMN
from siting.screen import where

__all__ = ["attribute", "count_within", "distance_to", "field_problems", "filter_features", "judge_missing",
           "nearest_feature", "raster_stat", "selection_problems"]

log = logging.getLogger(__name__)


def filter_features(features: gpd.GeoDataFrame, *, where_expr: str | None = None,
                    commodities=None, critical_only: bool = False,
                    layer: str | None = None) -> gpd.GeoDataFrame:
    """Return the features passing a filter and, for deposits, a commodity selection.

    ``commodities`` takes names, symbols or group names (``"china_export_controls"``).

    Examples
    --------
    >>> from shapely import Point
    >>> d = gpd.GeoDataFrame({"commodities": ["tungsten", "gold"], "critical": [True, False]},
    ...                      geometry=[Point(0, 0), Point(1, 0)], crs=5070)
    >>> len(filter_features(d, commodities=["W"])), len(filter_features(d, critical_only=True))
    (1, 1)
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


def selection_problems(who: str, layer: str, frames, *, where_expr: str | None = None, commodities=None,
                       critical_only: bool = False, needs: tuple[str, ...] = ()) -> list[str]:
    """Why a selection of ``layer``'s loaded ``frames`` by commodity (and ``critical_only``) cannot be made:
    fields the layer lacks (``commodities``, ``critical`` and any ``needs``), or nothing selected.

    A selection of no deposit would give every site the same count (0) or no distance at all: a factor
    that scores without measuring anything. ``where_expr`` alone is checked by
    :func:`siting.screen.where.filter_problems`; here it narrows the features the commodities are looked
    for in.

    Examples
    --------
    >>> d = pd.DataFrame({"commodities": ["gold;silver", "gold"]})
    >>> print(*selection_problems("factor 'feed'", "deposits", [d], commodities=["helium"]))
    factor 'feed': commodities helium select none of the 2 features of layer deposits (commodities there: gold,
    silver); choose commodities the layer holds
    >>> selection_problems("factor 'feed'", "deposits", [d], commodities=["Au"])
    []
    """
    fields = list(needs) + (["commodities"] if commodities else []) + (["critical"] if critical_only else [])
    lacking = [f"{who} reads the field {f!r}, which layer {layer!r} does not have; fields: "
               f"{', '.join(str(c) for c in frame.columns if c != 'geometry')}"
               for frame in frames for f in dict.fromkeys(fields) if f not in frame.columns]
    if lacking or not (commodities or critical_only) or not frames:
        return lacking
    wanted = where.fields_used(where_expr) if where_expr else set()
    usable = [f for f in frames if wanted <= set(f.columns)]  # a filter on a missing field is said elsewhere

    def count(**selection) -> int:
        return sum(len(filter_features(f, where_expr=where_expr, layer=layer, **selection)) for f in usable)

    if not usable or not count() or count(commodities=commodities, critical_only=critical_only):
        return []  # (a filter that selects nothing is said by filter_problems)
    held = pd.concat([f["commodities"] for f in usable if "commodities" in f.columns] or [pd.Series(dtype=str)])
    held = held.fillna("").astype(str).str.split(";").explode()
    there = ", ".join(held[held != ""].value_counts().index[:8]) or "none"
    what = " and ".join(([f"commodities {', '.join(commodities)}"] if commodities else [])
                        + (["critical only"] if critical_only else []))
    return [f"{who}: {what} select none of the {sum(map(len, usable)):,} features of layer {layer}"
            f"{f' where {where_expr!r}' if where_expr else ''} (commodities there: {there}); "
            "choose commodities the layer holds"]


def field_problems(who: str, field: str, layer: str, layers) -> list[str]:
    """A problem for each loaded frame of ``layer`` (``layers`` maps names to frames) without the ``field``
    ``who`` reads, or with it NA on every feature (every site would score the same 0: a factor that measures
    nothing).

    Examples
    --------
    >>> frames = {"parcels": [pd.DataFrame({"gap_status": [None, None]})]}
    >>> print(*field_problems("factor 'gap'", "gap_status", "parcels", frames))
    factor 'gap' reads 'gap_status', which is missing (NA) on every one of the 2 features of layer 'parcels': the
    data cannot score it; choose another field or remove the factor
    """
    frames = layers.get(layer, [])
    return selection_problems(who, layer, frames, needs=(field,)) + [
        f"{who} reads {field!r}, which is missing (NA) on every one of the {len(f):,} features of layer {layer!r}: "
        "the data cannot score it; choose another field or remove the factor"
        for f in frames if field in f.columns and len(f) and f[field].isna().all()]


def judge_missing(who: str, values: pd.Series, error: type[Exception], none: str, some: str) -> None:
    """Raise ``error`` (``who``: ``none``, formatted with the site count ``n``) when no site has a value; warn
    (a :class:`~siting.core.errors.SitingWarning`) with the count of those without (``some``: what they lack):
    they score 0 on the factor.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     judge_missing("factor 'gap'", pd.Series([3.0, None]), ValueError, "no value in {n} sites", "have no gap")
    >>> print(caught[0].message)
    factor 'gap': 1 of 2 site(s) have no gap; they score 0 on it
    >>> judge_missing("factor 'gap'", pd.Series([None]), ValueError, "no value in {n} sites", "have no gap")
    Traceback (most recent call last):
    ...
    ValueError: factor 'gap': no value in 1 sites
    """
    missing = int(values.isna().sum())
    if missing and missing == len(values):  # nothing to score on
        raise error(f"{who}: {none.format(n=len(values))}")
    if missing:
        warn(f"{who}: {missing:,} of {len(values):,} site(s) {some}; they score 0 on it")


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


def distance_to(candidates: gpd.GeoDataFrame, features: gpd.GeoDataFrame, *,
                where: str | None = None, commodities=None, reuse: Reuse | None = None) -> pd.Series:
    """Exact distance in CRS units (m) from each candidate to the nearest feature.

    Parameters
    ----------
    candidates, features : GeoDataFrame
        In the same projected CRS.
    where : str, optional
        Filter on the features, e.g. ``"voltage_kv >= 115"``.
    commodities : list of str, optional
        Deposit commodities or groups.
    reuse : Reuse, optional
        Answers kept for the run (:class:`siting.geo.proximity.Reuse`).

    Returns
    -------
    Series of float
        ``inf`` when no feature passes the filter.
    """
    require_same_crs(candidates, features, what="candidates and features")
    feats = filter_features(features, where_expr=where, commodities=commodities)
    d = spatial.nearest_distance(_geoms(candidates), _geoms(feats), reuse=reuse, crs=candidates.crs)
    return pd.Series(d,
                     index=candidates.index, dtype=float)


def nearest_feature(candidates: gpd.GeoDataFrame, features: gpd.GeoDataFrame, *, where: str | None = None,
                    commodities=None, reuse: Reuse | None = None) -> pd.DataFrame:
    """Distance and name (or id) of the nearest feature for each candidate.

    Examples
    --------
    >>> from shapely import Point, box
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=5070)
    >>> f = gpd.GeoDataFrame({"name": ["Sub A", None], "feature_id": ["a", "b"]},
    ...                      geometry=[Point(50, 5), Point(12, 5)], crs=5070)
    >>> nearest_feature(c, f).round(2).values.tolist()   # geodesic metres (2 m on the map)
    [[1.96, 'b']]
    """
    require_same_crs(candidates, features, what="candidates and features")
    feats = filter_features(features, where_expr=where, commodities=commodities)
    d, idx = spatial.nearest(_geoms(candidates), _geoms(feats), reuse=reuse, crs=candidates.crs)
    label_col = "name" if "name" in feats.columns else None
    names = np.full(len(candidates), None, dtype=object)
    if len(feats):
        labels = feats[label_col].astype(object) if label_col else pd.Series(feats.index.astype(str))
        id_col = next((c for c in dict.fromkeys(ID_COLUMN.values()) if c in feats), None)
        if id_col:
            labels = labels.where(labels.notna(), feats[id_col].astype(object))
        names[idx >= 0] = labels.to_numpy(dtype=object)[idx[idx >= 0]]
    return pd.DataFrame({"distance_m": d, "nearest": names}, index=candidates.index)


def count_within(candidates: gpd.GeoDataFrame, features: gpd.GeoDataFrame, radius_m: float, *,
                 where: str | None = None, commodities=None, weights=None,
                 reuse: Reuse | None = None) -> pd.Series:
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
    return pd.Series(spatial.count_within(_geoms(candidates), _geoms(feats), radius_m, w, reuse=reuse,
                                          crs=candidates.crs),
                     index=candidates.index, dtype=float)


def raster_stat(candidates: gpd.GeoDataFrame, raster, stat: str = "mean", min_coverage: float = 0.0) -> pd.Series:
    """A zonal statistic of ``raster`` over each candidate (NaN where no data, or where data covers less than
    ``min_coverage`` of its area: :func:`siting.geo.raster.coverage`).

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> from siting.geo.raster import Raster
    >>> r = Raster(np.ma.masked_invalid(np.arange(16.0).reshape(4, 4)), from_origin(0, 40, 10, 10), "EPSG:5070", "z")
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 20, 20, 40), box(30, 0, 50, 20)], crs=5070)  # the second half off it
    >>> raster_stat(c, r, "max").tolist(), raster_stat(c, r, "max", min_coverage=0.9).tolist()
    ([5.0, 15.0], [5.0, nan])
    """
    from siting.geo.raster import coverage, zonal_stats  # lazy: rasterio only when rasters are used

    geoms = _geoms(candidates)
    res = zonal_stats(raster, geoms, [stat])
    values = res[stat].to_numpy(dtype=float, copy=True)
    if min_coverage > 0:
        values[coverage(raster, geoms, res) < min_coverage] = np.nan
    return pd.Series(values, index=candidates.index, dtype=float)


def attribute(candidates: gpd.GeoDataFrame, column: str) -> pd.Series:
    """A candidate column, as is (e.g. ``gap_status`` for a categorical score).

    Examples
    --------
    >>> c = gpd.GeoDataFrame({"gap_status": [3, 4]}, geometry=[None, None], crs=5070)
    >>> attribute(c, "gap_status").tolist()
    [3, 4]
    """
    if column not in candidates.columns:
        raise ScenarioError(f"candidates have no column {column!r}; columns: "
                            + ", ".join(c for c in candidates.columns if c != "geometry"))
    return candidates[column].copy()
