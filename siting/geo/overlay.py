"""How much of each site a polygon layer covers, and the attribute the overlapping polygons give it.

Both work on areas in the working CRS (equal-area, e.g. EPSG:5070, so the shares are shares of ground
area). :func:`covered_fraction` counts land covered by several features once (the features' union);
:func:`overlay_values` summarises an attribute over the features that overlap each site, weighted by
the area each one covers.

Examples
--------
>>> from shapely import box
>>> sites = np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)])
>>> zones = np.array([box(0, 0, 5, 10), box(3, 0, 6, 10)])   # overlapping features count once
>>> covered_fraction(sites, zones).tolist()
[0.6, 0.0]
>>> overlay_values(sites, zones, np.array([2.0, 8.0]), "area_weighted").tolist()  # (2*50 + 8*30) / 80
[4.25, nan]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.core.errors import FieldError, GeometryError
from siting.geo.spatial import keep_within

__all__ = ["HOW", "covered_fraction", "overlay_values", "require_polygons"]

#: How :func:`overlay_values` summarises the overlapping features' values.
HOW = ("area_weighted", "majority", "max")


def require_polygons(features: np.ndarray, layer: str, user: str) -> None:
    """Raise when a layer an overlap is measured against has features that are not polygons.

    Examples
    --------
    >>> from shapely import Point
    >>> require_polygons(np.array([Point(0, 0)]), "wsa", "rule overlap_max_wsa")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    siting.core.errors.GeometryError: layer 'wsa': 1 of 1 features are points or lines: rule overlap_max_wsa ...
    """
    kind = shapely.get_type_id(np.asarray(features, dtype=object))
    bad = int((~np.isin(kind, (3, 6)) & (kind >= 0)).sum())
    if bad:
        raise GeometryError(f"{bad:,} of {len(kind):,} features are points or lines: {user} measures the share of "
                            "each site they cover, which needs polygons; buffer them first or use a distance rule "
                            "(within, beyond, outside)", layer=layer)


def covered_fraction(geoms: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Share (0-1) of each geometry's area covered by the union of ``features`` (NaN for empty geometries)."""
    geoms = np.asarray(geoms, dtype=object)
    area = np.nan_to_num(shapely.area(geoms))
    covered = np.nan_to_num(shapely.area(keep_within(geoms, np.asarray(features, dtype=object))))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, np.minimum(covered / np.where(area > 0, area, 1.0), 1.0), np.nan)


def overlay_values(geoms: np.ndarray, features: np.ndarray, values: np.ndarray, how: str, *,
                   layer: str | None = None, field: str | None = None) -> np.ndarray:
    """The attribute ``values`` of the ``features`` overlapping each geometry, summarised by ``how``.

    ``area_weighted``: the mean of the values weighted by the area each feature covers (numbers);
    ``majority``: the value covering the most area (any type; values covering equal areas, to a square
    micrometre, go to the least value in text order, so the answer does not depend on the features' order);
    ``max``: the largest value among the features that cover some area. Features with a missing value are
    left out; a geometry no feature covers gets NaN (None for ``majority``). ``layer`` and ``field`` name
    the values in errors.
    """
    if how not in HOW:
        raise ValueError(f"how must be one of {', '.join(HOW)}, not {how!r}")
    geoms, features = np.asarray(geoms, dtype=object), np.asarray(features, dtype=object)
    column = pd.Series(values).reset_index(drop=True)
    s, f = STRtree(features).query(geoms, predicate="intersects") if len(features) else (np.zeros(0, int),) * 2
    keep = column.notna().to_numpy()[f]
    s, f = s[keep], f[keep]
    area = np.nan_to_num(shapely.area(shapely.intersection(geoms[s], features[f])))
    s, f, area = s[area > 0], f[area > 0], area[area > 0]
    pairs = pd.DataFrame({"s": s, "value": column.to_numpy()[f], "area": area})
    if how == "majority":
        best = pairs.groupby(["s", "value"], sort=False)["area"].sum().reset_index()
        best = best.assign(area=best["area"].round(6), text=best["value"].astype(str))
        best = best.sort_values(["area", "text"], ascending=[False, True], kind="stable").drop_duplicates("s")
        return _spread(best.set_index("s")["value"], len(geoms), None)
    try:
        pairs["value"] = pairs["value"].astype(float)
    except (TypeError, ValueError):
        raise FieldError(f"field {field!r} holds text such as {pairs['value'].iloc[0]!r}: overlay {how} needs "
                         "numbers; use how: majority for categories", layer=layer, field=field) from None
    if how == "max":
        return _spread(pairs.groupby("s")["value"].max(), len(geoms)).astype(float)
    pairs["weighted"] = pairs["value"] * pairs["area"]
    sums = pairs.groupby("s")[["weighted", "area"]].sum()
    return _spread(sums["weighted"] / sums["area"], len(geoms)).astype(float)


def _spread(by_row: pd.Series, n: int, fill=np.nan) -> np.ndarray:
    out = np.full(n, fill, dtype=object)
    out[by_row.index.to_numpy(dtype=int)] = by_row.to_numpy()
    return out
