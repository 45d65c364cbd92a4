"""Footprints on the PLSS grid: whole quarter-quarters (40 acres), quarters (160) or sections (640).

Federal land is leased, withdrawn and described by aliquot parts, so a footprint that is exactly a
quarter section can be described, surveyed and offered as it stands. :func:`pack_on_plss` keeps the
aliquot units (from the CadNSDI quarter-quarters) that lie wholly in one parcel's eligible land and
picks them greedily, north-west first, at least ``spacing_m`` apart on the ground.

Examples
--------
>>> unit_fields(160)
['PLSSID', 'FRSTDIVNO', 'QSEC']
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.candidates.ids import parcel_keys
from siting.candidates.packing.footprint import erode
from siting.candidates.plss import PLSS_FIELDS, check_plss_fields, incomplete, section_number
from siting.core import settings
from siting.core.errors import ScenarioError, warn
from siting.geo.ground import ground_of, largest_scale
from siting.geo.spatial import union_by_group

__all__ = ["UNITS", "pack_on_plss", "plss_frame", "unit_fields"]

#: Footprint acres -> the CadNSDI fields that group quarter-quarters into one aliquot unit.
UNITS = {40.0: ["PLSSID", "FRSTDIVNO", "QSEC", "QQSEC"], 160.0: ["PLSSID", "FRSTDIVNO", "QSEC"],
         640.0: ["PLSSID", "FRSTDIVNO"]}
_NAMES = {40.0: "quarter-quarter section", 160.0: "quarter section", 640.0: "section"}
#: Footprint acres -> the quarter-quarters of one whole aliquot unit.
QUARTER_QUARTERS = {40.0: 1, 160.0: 4, 640.0: 16}


def unit_fields(footprint_acres: float) -> list[str]:
    """The fields that make one aliquot unit of ``footprint_acres``, or a clear error."""
    fields = UNITS.get(float(footprint_acres))
    if fields is None:
        raise ScenarioError(f"align: plss places whole aliquot parts: footprint_acres must be 40 (a quarter-quarter "
                            f"section), 160 (a quarter section) or 640 (a section), not {footprint_acres:g}")
    return fields


def _units(plss: gpd.GeoDataFrame, footprint_acres: float) -> gpd.GeoDataFrame:
    """One polygon per whole aliquot unit (all its quarter-quarters present and named), with its label
    (``sec. 14 NE1/4``). Quarter-quarters missing a field, and the units they leave incomplete, are left out
    with a warning: a unit short of a quarter-quarter is not the aliquot part its label would name."""
    fields = unit_fields(footprint_acres)
    check_plss_fields(plss)
    blank = incomplete(plss, PLSS_FIELDS)
    keys = plss.loc[~blank, list(PLSS_FIELDS)].astype(str)
    group = keys.groupby(fields, sort=True).ngroup().to_numpy()
    counts = np.bincount(group[~keys.assign(g=group).duplicated(["g", "QSEC", "QQSEC"]).to_numpy()],
                         minlength=int(group.max(initial=-1)) + 1)
    need = QUARTER_QUARTERS[float(footprint_acres)]
    whole, short = counts[group] == need, int((counts != need).sum())
    if blank.any() or short:
        said = [f"{int(blank.sum()):,} of {len(plss):,} quarter-quarter(s) lack one of {', '.join(PLSS_FIELDS)} "
                f"(rows {', '.join(map(str, list(plss.index[blank][:5])))})"] if blank.any() else []
        said.append(f"{short:,} {_NAMES[float(footprint_acres)]}(s) short of a quarter-quarter are left out")
        warn("PLSS alignment: " + "; ".join(said) + ": a unit needs all its quarter-quarters, named, as "
             "in CadNSDI's PLSS Intersected layer")
    keys, geoms = keys[whole], np.asarray(plss.geometry.values[~blank][whole], dtype=object)
    group = keys.groupby(fields, sort=True).ngroup().to_numpy()
    first = keys[fields].groupby(group).first()
    geoms = union_by_group(geoms, group, len(first))
    label = "sec. " + first["FRSTDIVNO"].map(section_number)
    if "QSEC" in first:
        label = label + " " + (first["QQSEC"].str[:2] + "1/4" if "QQSEC" in first else "") + first["QSEC"] + "1/4"
    return gpd.GeoDataFrame({"PLSSID": first["PLSSID"].to_numpy(), "aliquot": label.to_numpy()},
                            geometry=geoms, crs=plss.crs)


def pack_on_plss(eligible: gpd.GeoDataFrame, plss: gpd.GeoDataFrame, *, footprint_acres: float,
                 planar_spacing_m: float, edge_setback_m: float = 0.0) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Aliquot units wholly in one parcel's eligible land, picked north-west first and spaced.

    Returns the chosen units (``PLSSID``, ``aliquot``, geometry) and, for each, the row of ``eligible``
    it lies in. ``planar_spacing_m`` is the map spacing that holds on the ground (the packer's).

    Examples
    --------
    >>> from shapely import box
    >>> q = 402.336  # a quarter-quarter section is a quarter mile wide
    >>> qq = gpd.GeoDataFrame({"PLSSID": "NV210030N0420E0", "FRSTDIVNO": "01", "QSEC": "NE",
    ...                        "QQSEC": ["NWNE", "NENE", "SWNE", "SENE"]}, crs=5070,
    ...                       geometry=[box(0, q, q, 2 * q), box(q, q, 2 * q, 2 * q), box(0, 0, q, q),
    ...                                 box(q, 0, 2 * q, q)])
    >>> land = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(-10, -10, 900, 900)], crs=5070)
    >>> fits, rows = pack_on_plss(land, qq, footprint_acres=160, planar_spacing_m=0)
    >>> fits["aliquot"].tolist(), rows.tolist()
    (['sec. 1 NE1/4'], [0])
    >>> plss_frame(land, fits, rows, 160)[["candidate_id", "plss_unit"]].values.tolist()
    [['K-a-1', 'NV210030N0420E0 sec. 1 NE1/4']]
    """
    units = _units(plss, footprint_acres)
    land = np.asarray(eligible.geometry.values, dtype=object)
    if edge_setback_m > 0:  # on the ground: on the map, times the largest scale over each parcel's box
        land = erode(land, edge_setback_m * largest_scale(land, ground_of(eligible.crs), edge_setback_m))
    inner = shapely.buffer(np.asarray(units.geometry.values, dtype=object), -0.01)  # edges on the land's edges
    u, row = STRtree(land).query(inner, predicate="within")
    u, first = np.unique(u, return_index=True)
    row = row[first]
    fits = units.iloc[u].reset_index(drop=True)
    centre = shapely.centroid(np.asarray(fits.geometry.values, dtype=object))
    order = np.lexsort((shapely.get_x(centre), -shapely.get_y(centre)))  # north-west first
    chosen = _spaced(np.asarray(fits.geometry.values, dtype=object), order, planar_spacing_m)
    return fits.iloc[chosen].reset_index(drop=True), row[chosen]


def _spaced(geoms: np.ndarray, order: np.ndarray, spacing: float) -> np.ndarray:
    """Greedy choice in ``order`` of geometries at least ``spacing`` apart (edge to edge; touching is 0)."""
    tree = STRtree(geoms)
    blocked = np.zeros(len(geoms), bool)
    chosen = []
    for i in order:
        if blocked[i]:
            continue
        chosen.append(i)
        near = tree.query(geoms[i], predicate="dwithin", distance=spacing) if spacing > 0 else \
            tree.query(geoms[i], predicate="intersects")
        blocked[near] = True
    return np.asarray(chosen, dtype=np.int64)


def plss_frame(eligible: gpd.GeoDataFrame, fits: gpd.GeoDataFrame, rows: np.ndarray,
               footprint_acres: float) -> gpd.GeoDataFrame:
    """The chosen units as packed sites: ``candidate_id`` (``K-<parcel>-<n>``), the parcel's columns and
    the aliquot part (``plss_unit``).

    Examples
    --------
    >>> from shapely import box
    >>> land = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[box(0, 0, 900, 900)], crs=5070)
    >>> fits = gpd.GeoDataFrame({"PLSSID": ["NV210030N0420E0"], "aliquot": ["sec. 1 NE1/4"]},
    ...                         geometry=[box(0, 0, 804.672, 804.672)], crs=5070)
    >>> out = plss_frame(land, fits, np.array([0]), 160)
    >>> out["candidate_id"].tolist(), round(float(out["footprint_acres"].iloc[0]), 3)
    (['K-a-1'], 160.0)
    """
    attrs = pd.DataFrame(eligible.drop(columns=eligible.geometry.name)).iloc[rows].reset_index(drop=True)
    pid = pd.Series(parcel_keys(eligible, what="packed sites")[rows], dtype=object)
    n = pid.groupby(pid, sort=False).cumcount() + 1
    out = gpd.GeoDataFrame(attrs, geometry=fits.geometry.values, crs=eligible.crs)
    out.insert(0, "candidate_id", "K-" + pid + "-" + n.astype(str))
    out["footprint_acres"] = np.asarray(shapely.area(fits.geometry.values)) / settings.M2_PER_ACRE
    out["plss_unit"] = fits["PLSSID"].to_numpy() + " " + fits["aliquot"].to_numpy()
    return out
