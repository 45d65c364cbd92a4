"""Candidate sites: where a site could go before the constraints are applied.

``candidates_from_parcels`` makes one candidate per parcel; the constraint
engine then cuts each down to its eligible remainder (see
:mod:`siting.screen.constraints`). ``candidates_from_grid`` cuts eligible land into
hexagonal or square cells; :func:`siting.pack_sites` packs facility footprints.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame({"parcel_id": ["7", "9"], "agency": ["BLM", "DOD"]},
...                            geometry=[box(0, 0, 1000, 1000), box(0, 0, 10, 10)], crs=5070)
>>> c = candidates_from_parcels(parcels, min_area_acres=1)
>>> c[["candidate_id", "parcel_id", "agency"]].values.tolist()
[['P-7', '7', 'BLM']]
>>> round(float(c["parcel_acres"].iloc[0]), 1)
247.1
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.core import settings
from siting.geo.geometry import keep_family
from siting.geo.spatial import union_by_group
from siting.io.crs import check_projected
from siting.schema import PARCEL_COLUMNS

__all__ = ["candidates_from_parcels", "split_parcels"]

log = logging.getLogger(__name__)

#: Land pieces (blocks of parcels) per slice of grid cutting: bounds the cells alive at once.
PIECES_PER_SLICE = 2_000
#: Pieces with more edges than this leave every cell to GEOS (the numpy pre-check costs cells x edges).
SURE_MAX_EDGES = 64
#: Cell x edge pairs per batch of that pre-check (bounds its memory).
SURE_PAIRS = 1 << 20


def split_parcels(parcels: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *,
                  zone_id: str = "feature_id", min_piece_acres: float = 1.0) -> gpd.GeoDataFrame:
    """Cut parcels by zones (counties, districts): one row per parcel-zone piece.

    The part of a parcel outside every zone is kept as a piece with zone ``"rest"`` when it is at
    least ``min_piece_acres``; smaller slivers are dropped and their area logged.

    Examples
    --------
    >>> from shapely import box
    >>> p = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 200, 100)], crs=5070)
    >>> z = gpd.GeoDataFrame({"feature_id": ["west"]}, geometry=[box(0, 0, 100, 100)], crs=5070)
    >>> split_parcels(p, z, min_piece_acres=0)[["parcel_id", "zone"]].values.tolist()
    [['a', 'west'], ['a', 'rest']]
    """
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    zgeoms = np.asarray(zones.to_crs(parcels.crs).geometry.values, dtype=object)
    p_idx, z_idx = STRtree(zgeoms).query(geoms, predicate="intersects")
    pieces = keep_family(shapely.intersection(geoms[p_idx], zgeoms[z_idx]), "polygon")
    covered = union_by_group(zgeoms[z_idx], p_idx, len(geoms))
    hit = ~pd.isna(covered)
    rest = geoms.copy()
    rest[hit] = keep_family(shapely.difference(geoms[hit], covered[hit]), "polygon")
    rest_acres = np.nan_to_num(shapely.area(rest)) / settings.M2_PER_ACRE
    keep_rest = (rest_acres >= min_piece_acres) & (rest_acres > 0)
    dropped = rest_acres[~keep_rest].sum()
    if dropped > 0:
        log.info("split_by: dropped %.1f acres of slivers outside every zone", dropped)
    rows = np.concatenate([p_idx, np.flatnonzero(keep_rest)])
    zone = np.concatenate([zones[zone_id].astype(str).to_numpy()[z_idx],
                           np.full(int(keep_rest.sum()), "rest", dtype=object)])
    geom = np.concatenate([pieces, rest[keep_rest]])
    ok = ~shapely.is_missing(geom) & ~shapely.is_empty(geom)
    out = parcels.iloc[rows].drop(columns="geometry").reset_index(drop=True)
    out["zone"] = zone
    return gpd.GeoDataFrame(out[ok], geometry=geom[ok], crs=parcels.crs).reset_index(drop=True)


def candidates_from_parcels(parcels: gpd.GeoDataFrame, *, min_area_acres: float = 0.0,
                            prefix: str = "P-", split_by: gpd.GeoDataFrame | None = None,
                            zone_id: str = "feature_id") -> gpd.GeoDataFrame:
    """One candidate per parcel (or eligible parcel remainder), kept if large enough.

    Parameters
    ----------
    parcels : GeoDataFrame
        Canonical parcels (or their eligible remainders) in a projected CRS.
    min_area_acres : float
        Smallest candidate kept.
    prefix : str
        Prepended to ``parcel_id`` to make the stable ``candidate_id``.
    split_by : GeoDataFrame, optional
        Zones (e.g. counties) that cut large parcels into one candidate per parcel and zone;
        the id becomes ``P<parcel_id>-<zone id>``.
    zone_id : str
        Id column of ``split_by``.

    Returns
    -------
    GeoDataFrame
        ``candidate_id``, the parcel columns, ``parcel_acres`` and geometry;
        a new frame (the input is not changed).
    """
    check_projected(parcels.crs, what="parcels")
    cols = [c for c in PARCEL_COLUMNS if c in parcels.columns]
    out = parcels[[*cols, "geometry"]].copy()
    ids = prefix + out["parcel_id"].astype(str)
    if split_by is not None:
        out = split_parcels(out, split_by, zone_id=zone_id)
        ids = prefix + out["parcel_id"].astype(str) + "-" + out["zone"].astype(str)
    out.insert(0, "candidate_id", ids.to_numpy())
    out["parcel_acres"] = np.nan_to_num(shapely.area(out.geometry.values)) / settings.M2_PER_ACRE
    out = out[out["parcel_acres"] >= min_area_acres] if min_area_acres > 0 else out
    return out.reset_index(drop=True)
