"""Legal descriptions of sites in the Public Land Survey System (PLSS), from BLM CadNSDI layers.

An agency acts on a site through its legal description: state, principal meridian, township, range,
section and aliquot parts. :func:`legal_descriptions` reads the CadNSDI quarter-quarter layer
(*PLSS Intersected*: ``PLSSID``, ``FRSTDIVNO``, ``QSEC``, ``QQSEC``) and writes, for each site, the
quarter-quarter sections it covers, merged into whole quarters and sections where it covers all of
them: ``NV, Mount Diablo Mer., T. 3 N., R. 42 E., sec. 14: NE1/4, NE1/4SW1/4``.

A quarter-quarter counts when the site covers at least :data:`MIN_SHARE` of it (edges of digitised
land wobble by metres; a sliver is not an aliquot part).

Examples
--------
>>> township("NV210030N0420E0")
'NV, Mount Diablo Mer., T. 3 N., R. 42 E.'
>>> aliquots({"NE": ["NENE", "NWNE", "SENE", "SWNE"], "SW": ["NESW"]})
'NE1/4, NE1/4SW1/4'
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.core.errors import FieldError

__all__ = ["MIN_SHARE", "OUTSIDE", "PLSS_FIELDS", "aliquots", "legal_descriptions", "township"]

#: Share of a quarter-quarter a site must cover for the aliquot to be listed.
MIN_SHARE = 0.01
#: The description of a site the PLSS layer does not reach (unsurveyed land, or a layer clipped too tight).
OUTSIDE = "outside the PLSS layer"
#: Fields of the CadNSDI quarter-quarter layer that a description reads.
PLSS_FIELDS = ("PLSSID", "FRSTDIVNO", "QSEC", "QQSEC")
#: Principal meridians by CadNSDI code (others are written as their code; add names as data need them).
MERIDIANS = {"21": "Mount Diablo Mer."}
_QUARTERS = ("NE", "NW", "SW", "SE")


def township(plssid: str) -> str:
    """State, meridian, township and range of a CadNSDI ``PLSSID`` (``SSMMTTTFDRRRFDX``)."""
    s = str(plssid)
    mer = MERIDIANS.get(s[2:4], f"meridian {s[2:4]}")
    frac = {"1": " 1/4", "2": " 1/2", "3": " 3/4"}
    t = f"T. {int(s[4:7])}{frac.get(s[7], '')} {s[8]}."
    r = f"R. {int(s[9:12])}{frac.get(s[12], '')} {s[13]}."
    return f"{s[:2]}, {mer}, {t}, {r}"


def aliquots(by_quarter: dict[str, list[str]]) -> str:
    """Aliquot parts of one section from the quarter-quarters covered, grouped by quarter (``QSEC``)."""
    parts = []
    for q in _QUARTERS:
        qq = sorted(set(by_quarter.get(q, [])), key=lambda v: _QUARTERS.index(v[:2]) if v[:2] in _QUARTERS else 9)
        if len(qq) == 4:
            parts.append(f"{q}1/4")
        else:
            parts += [f"{v[:2]}1/4{v[2:]}1/4" for v in qq]
    return ", ".join(parts)


def legal_descriptions(sites: gpd.GeoDataFrame, qq: gpd.GeoDataFrame, *, layer: str = "plss") -> pd.Series:
    """The PLSS legal description of each site (:data:`OUTSIDE` where it covers no quarter-quarter).

    Parameters
    ----------
    sites : GeoDataFrame
        In a projected working CRS.
    qq : GeoDataFrame
        CadNSDI quarter-quarter sections (:data:`PLSS_FIELDS`), same CRS.
    layer : str
        The layer's name, for errors.

    Examples
    --------
    >>> from shapely import box
    >>> q = 402.336
    >>> qq = gpd.GeoDataFrame({"PLSSID": "NV210030N0420E0", "FRSTDIVNO": "14", "QSEC": ["NE", "NE", "SW"],
    ...                        "QQSEC": ["NENE", "NWNE", "NESW"]}, crs=5070,
    ...                       geometry=[box(q, q, 2 * q, 2 * q), box(0, q, q, 2 * q),
    ...                                 box(-3 * q, -3 * q, -2 * q, -2 * q)])
    >>> sites = gpd.GeoDataFrame(geometry=[box(0, q, 2 * q, 2 * q), box(9e3, 9e3, 9.1e3, 9.1e3)], crs=5070)
    >>> legal_descriptions(sites, qq).tolist()
    ['NV, Mount Diablo Mer., T. 3 N., R. 42 E., sec. 14: NE1/4NE1/4, NW1/4NE1/4', 'outside the PLSS layer']
    """
    missing = [f for f in PLSS_FIELDS if f not in qq.columns]
    if missing:
        raise FieldError(f"the PLSS layer needs the CadNSDI quarter-quarter fields {', '.join(PLSS_FIELDS)}; missing "
                         f"{', '.join(missing)} (use the 'PLSS Intersected' feature class)", layer=layer,
                         field=missing[0])
    geoms, cells = np.asarray(sites.geometry.values, dtype=object), np.asarray(qq.geometry.values, dtype=object)
    s, c = STRtree(cells).query(geoms, predicate="intersects")
    share = np.nan_to_num(shapely.area(shapely.intersection(geoms[s], cells[c]))) / shapely.area(cells[c])
    s, c = s[share >= MIN_SHARE], c[share >= MIN_SHARE]
    hits = qq.iloc[c][list(PLSS_FIELDS)].astype(str).assign(site=s)
    out = pd.Series(OUTSIDE, index=sites.index, dtype=object)
    for site, rows in hits.groupby("site", sort=True):
        out.iloc[site] = _describe(rows)
    return out


def _describe(rows: pd.DataFrame) -> str:
    """One site's description from its quarter-quarter rows, township by township, section by section."""
    text = []
    for plssid, twp in rows.groupby("PLSSID", sort=True):
        secs = []
        for no in sorted(twp["FRSTDIVNO"].unique(), key=int):
            sec = twp[twp["FRSTDIVNO"] == no]
            by_q = sec.groupby("QSEC")["QQSEC"].apply(list).to_dict()
            whole = sum(len(set(v)) for v in by_q.values()) == 16
            secs.append(f"sec. {int(no)}" + ("" if whole else f": {aliquots(by_q)}"))
        text.append(f"{township(plssid)}, " + "; ".join(secs))
    return "; ".join(text)
