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

from siting.candidates.ids import numbered, parcel_keys
from siting.core import settings
from siting.core.errors import warn
from siting.geo.areas import ground_acres
from siting.geo.geometry import keep_family
from siting.geo.ground import buffer_radius, ground_of
from siting.geo.inner import inner_buffer
from siting.geo.spatial import overlap_pieces, union_by_group
from siting.io.crs import check_projected
from siting.schema import PARCEL_COLUMNS

__all__ = ["assign_classes", "candidates_from_parcels", "split_parcels"]

log = logging.getLogger(__name__)


#: Zone of the land outside every ``split_by`` zone and farther than ``snap_m`` from all of them.
OUTSIDE_ZONES = "outside"


def split_parcels(parcels: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, zone_id: str = "feature_id",
                  snap_m: float = 100.0) -> gpd.GeoDataFrame:
    """Cut parcels by zones (counties, districts): one row per parcel and zone.

    Land that no zone covers (the gaps between a state outline and its county outlines) joins the
    nearest zone within ``snap_m`` on the ground; land farther than that from every zone gets the zone
    :data:`OUTSIDE_ZONES` (the pipeline's ``inside_<layer>`` rule then rejects it, counted in the
    funnel). No land is lost: the pieces' areas add up to the parcels'.

    Examples
    --------
    >>> from shapely import box
    >>> p = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 300, 100)], crs=5070)
    >>> z = gpd.GeoDataFrame({"feature_id": ["west"]}, geometry=[box(0, 0, 100, 100)], crs=5070)
    >>> out = split_parcels(p, z, snap_m=50)  # 50 m on the ground: 49.06 m on this map (-96 E, 23 N)
    >>> out[["parcel_id", "zone"]].values.tolist(), out.area.round().tolist()
    ([['a', 'west'], ['a', 'outside']], [14906.0, 15094.0])
    """
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    zgeoms = np.asarray(zones.to_crs(parcels.crs).geometry.values, dtype=object)
    names = zones[zone_id].astype(object).to_numpy(copy=True)
    gone = pd.isna(names)
    names[~gone] = [str(v) for v in names[~gone].tolist()]
    names[gone] = [f"zone-{i}" for i in np.flatnonzero(gone).tolist()]  # the zone's row where it has no id
    zgeoms = _zones_once(zgeoms, names)
    tree = STRtree(zgeoms)
    p_idx, z_idx = tree.query(geoms, predicate="intersects")
    pieces = keep_family(shapely.intersection(geoms[p_idx], zgeoms[z_idx]), "polygon")
    covered = union_by_group(zgeoms[z_idx], p_idx, len(geoms))
    hit = ~pd.isna(covered)
    rest = geoms.copy()
    rest[hit] = keep_family(shapely.difference(geoms[hit], covered[hit]), "polygon")
    parts, r_idx = shapely.get_parts(rest, return_index=True)
    parts, r_idx = parts[shapely.area(parts) > 0], r_idx[shapely.area(parts) > 0]
    parts, r_idx, rest_zone = _snap(parts, r_idx, zgeoms, names, tree, snap_m, parcels.crs)
    snapped = float(shapely.area(parts[rest_zone != OUTSIDE_ZONES]).sum()) / settings.M2_PER_ACRE
    outside = float(shapely.area(parts[rest_zone == OUTSIDE_ZONES]).sum()) / settings.M2_PER_ACRE
    if snapped or outside:
        log.info("split_by: %.1f acres outside every zone joined the nearest zone within %g m; %.1f acres are "
                 "farther (zone %r)", snapped, snap_m, outside, OUTSIDE_ZONES)
    row = np.concatenate([p_idx, r_idx]).astype(int)
    zone = np.concatenate([names[z_idx], rest_zone])
    geom = np.concatenate([pieces, parts])
    ok = ~shapely.is_missing(geom) & ~shapely.is_empty(geom)
    keys = pd.MultiIndex.from_arrays([row[ok], zone[ok]])
    codes, uniq = pd.factorize(keys)
    merged = keep_family(union_by_group(geom[ok], codes, len(uniq)), "polygon")
    rows = uniq.get_level_values(0).to_numpy(dtype=int)
    out = parcels.iloc[rows].drop(columns="geometry").reset_index(drop=True)
    out["zone"] = uniq.get_level_values(1).to_numpy(dtype=object)
    return gpd.GeoDataFrame(out, geometry=merged, crs=parcels.crs)


def _zones_once(zgeoms: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The zones made disjoint: ground that several cover stays in the one listed first, with a warning (else the
    parcels' land there would be cut into a piece per zone: sites on top of each other, acres counted twice)."""
    i, j, common = overlap_pieces(zgeoms)
    if not len(i):
        return zgeoms
    cut = union_by_group(common, j, len(zgeoms))  # a later zone loses what an earlier one covers
    out = zgeoms.copy()
    hit = ~pd.isna(cut)
    out[hit] = keep_family(shapely.difference(zgeoms[hit], cut[hit]), "polygon")
    twice = float(shapely.area(shapely.union_all(common))) / settings.M2_PER_ACRE
    pairs = ", ".join(f"{names[a]} and {names[b]}" for a, b in zip(i[:3].tolist(), j[:3].tolist(), strict=True))
    warn(f"split_by: {len(i):,} pair(s) of zones overlap (e.g. {pairs}); the {twice:,.1f} acres covered "
         "more than once are kept in the zone listed first, so no land is sited twice")
    return out


def _snap(parts, owner, zgeoms, names, tree, snap_m, crs):
    """Each part's land within ``snap_m`` of its nearest zone on the ground joins that zone (a buffer that never
    reaches beyond it: :func:`siting.geo.ground.buffer_radius`); the rest is :data:`OUTSIDE_ZONES`."""
    zone = np.full(len(parts), OUTSIDE_ZONES, dtype=object)
    if not len(parts) or snap_m <= 0:
        return parts, owner, zone
    src, near = tree.query_nearest(parts, max_distance=snap_m, all_matches=False)
    reach = inner_buffer(zgeoms[near], buffer_radius(zgeoms[near], snap_m, ground_of(crs), cover=False))
    inside = keep_family(shapely.intersection(parts[src], reach), "polygon")
    beyond = keep_family(shapely.difference(parts[src], reach), "polygon")
    far = np.setdiff1d(np.arange(len(parts)), src)
    geoms = np.concatenate([inside, beyond, parts[far]])
    owners = np.concatenate([owner[src], owner[src], owner[far]])
    zones = np.concatenate([names[near], zone[src], zone[far]])
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    return geoms[keep], owners[keep], zones[keep]


def candidates_from_parcels(parcels: gpd.GeoDataFrame, *, min_area_acres: float = 0.0,
                            prefix: str = "P-", split_by: gpd.GeoDataFrame | None = None,
                            zone_id: str = "feature_id", zone_snap_m: float = 100.0) -> gpd.GeoDataFrame:
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
    zone_snap_m : float
        Land outside every zone joins the nearest zone within this distance (see :func:`split_parcels`).

    Returns
    -------
    GeoDataFrame
        ``candidate_id``, the parcel columns, ``parcel_acres`` and geometry;
        a new frame (the input is not changed).
    """
    check_projected(parcels.crs, what="parcels")
    cols = [c for c in PARCEL_COLUMNS if c in parcels.columns]
    out = parcels[[*cols, "geometry"]].assign(_key=parcel_keys(parcels, what="parcel candidates"))
    if split_by is not None:
        out = split_parcels(out, split_by, zone_id=zone_id, snap_m=zone_snap_m)
        out["_key"] = out["_key"] + "-" + out["zone"]
    ids = numbered((prefix + out.pop("_key")).to_numpy(dtype=object))  # a parcel id given twice: .2, .3...
    out.insert(0, "candidate_id", ids)
    out["parcel_acres"] = ground_acres(out.geometry.values, out.crs)
    out = out[out["parcel_acres"] >= min_area_acres] if min_area_acres > 0 else out
    return out.reset_index(drop=True)


def assign_classes(candidates: gpd.GeoDataFrame, classes: dict[str, str]) -> gpd.GeoDataFrame:
    """A copy with ``candidate_class``: the first class whose filter a candidate passes, else ``other``.

    Classes let land be judged as itself: ``{dod_doe: "agency in ['DOD', 'DOE']"}`` and a rule with
    ``applies_to: "candidate_class == 'dod_doe'"`` (or ``!=``) gives DoD and DOE land its own rules.

    Examples
    --------
    >>> from shapely import box
    >>> c = gpd.GeoDataFrame({"agency": ["DOD", "BLM", "DOE"]}, geometry=[box(0, 0, 1, 1)] * 3, crs=5070)
    >>> assign_classes(c, {"dod_doe": "agency in ['DOD', 'DOE']"})["candidate_class"].tolist()
    ['dod_doe', 'other', 'dod_doe']
    """
    from siting.screen import where  # the filter language lives with the rules

    label = pd.Series("other", index=candidates.index, dtype=object)
    for name, expr in reversed(list(classes.items())):  # the first class listed wins
        label[where.evaluate(expr, candidates, layer="parcels").to_numpy(bool)] = name
    return candidates.assign(candidate_class=label)
