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

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from siting.core.errors import FieldError, warn

__all__ = ["MIN_SHARE", "OUTSIDE", "PLSS_FIELDS", "aliquots", "check_plss_fields", "incomplete", "legal_descriptions",
           "section_number", "township"]

#: Share of a quarter-quarter a site must cover for the aliquot to be listed.
MIN_SHARE = 0.01
#: The description of a site the PLSS layer does not reach (unsurveyed land, or a layer clipped too tight).
OUTSIDE = "outside the PLSS layer"
#: Fields of the CadNSDI quarter-quarter layer that a description reads.
PLSS_FIELDS = ("PLSSID", "FRSTDIVNO", "QSEC", "QQSEC")
#: Principal meridians by CadNSDI code (others are written as their code; add names as data need them).
MERIDIANS = {"21": "Mount Diablo Mer."}
_QUARTERS = ("NE", "NW", "SW", "SE")
_PLSSID = re.compile(r"[A-Z]{2}\d{2}\d{3}\d[NS]\d{3}\d[EW].*")


def township(plssid: str) -> str:
    """State, meridian, township and range of a CadNSDI ``PLSSID`` (``SSMMTTTFDRRRFDX``); an id of another
    form is written as it is (``PLSSID <id>``), never guessed.

    Examples
    --------
    >>> township("NV21")
    'PLSSID NV21'
    """
    s = str(plssid)
    if not _PLSSID.fullmatch(s):
        return f"PLSSID {s}"
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
    check_plss_fields(qq, layer=layer)
    geoms, cells = np.asarray(sites.geometry.values, dtype=object), np.asarray(qq.geometry.values, dtype=object)
    s, c = STRtree(cells).query(geoms, predicate="intersects")
    share = np.nan_to_num(shapely.area(shapely.intersection(geoms[s], cells[c]))) / shapely.area(cells[c])
    s, c = s[share >= MIN_SHARE], c[share >= MIN_SHARE]
    hits = qq.iloc[c][list(PLSS_FIELDS)]
    blank = incomplete(hits, PLSS_FIELDS)
    out = pd.Series(OUTSIDE, index=sites.index, dtype=object)
    for site, rows in hits[~blank].astype(str).assign(site=s[~blank]).groupby("site", sort=True):
        out.iloc[site] = _describe(rows)
    if blank.any():
        _without_ids(out, s[blank], qq.index[c[blank]], layer)
    return out


def _without_ids(out: pd.Series, site: np.ndarray, rows, layer: str) -> None:
    """Say (in place) in each site's description how many of its quarter-quarters have no PLSS id, and warn."""
    n = np.bincount(site, minlength=len(out))
    some = np.flatnonzero(n)
    note = [f"{k} quarter-quarter(s) without {'/'.join(PLSS_FIELDS)} in the layer" for k in n[some].tolist()]
    known = out.iloc[some].to_numpy(dtype=object) != OUTSIDE
    out.iloc[some] = np.where(known, out.iloc[some].to_numpy(dtype=object) + "; ", "") + np.array(note, dtype=object)
    warn(f"layer {layer!r}: {len(site):,} quarter-quarter(s) under {len(some):,} site(s) lack one of "
         f"{', '.join(PLSS_FIELDS)} (rows {', '.join(map(str, list(rows[:5])))}); those descriptions say "
         "so instead of naming them: fill the fields from CadNSDI's PLSS Intersected layer")


def _describe(rows: pd.DataFrame) -> str:
    """One site's description from its quarter-quarter rows, township by township, section by section."""
    text = []
    for plssid, twp in rows.groupby("PLSSID", sort=True):
        secs = []
        for no in sorted(twp["FRSTDIVNO"].unique(), key=_section_order):
            sec = twp[twp["FRSTDIVNO"] == no]
            by_q = sec.groupby("QSEC")["QQSEC"].apply(list).to_dict()
            whole = sum(len(set(v)) for v in by_q.values()) == 16
            secs.append(f"sec. {section_number(no)}" + ("" if whole else f": {aliquots(by_q)}"))
        text.append(f"{township(plssid)}, " + "; ".join(secs))
    return "; ".join(text)


def _section_order(no: str) -> tuple:
    """Sections by number (``"014"`` as 14), then other first divisions (tracts ``"37A"``) by their text."""
    return (0, int(no), no) if no.isdigit() else (1, 0, no)


def check_plss_fields(qq: pd.DataFrame, *, layer: str = "plss") -> None:
    """A clear :class:`~siting.core.errors.FieldError` where the layer lacks a CadNSDI quarter-quarter field.

    Examples
    --------
    >>> check_plss_fields(pd.DataFrame(columns=list(PLSS_FIELDS)))   # nothing to say
    """
    missing = [f for f in PLSS_FIELDS if f not in qq.columns]
    if missing:
        raise FieldError(f"the PLSS layer needs the CadNSDI quarter-quarter fields {', '.join(PLSS_FIELDS)}; missing "
                         f"{', '.join(missing)} (use the 'PLSS Intersected' feature class)", layer=layer,
                         field=missing[0])


def section_number(no) -> str:
    """A first division's number as written in a description: a section's without its leading zeros, any
    other (a tract ``37A``) as it is.

    Examples
    --------
    >>> section_number("014"), section_number("37A")
    ('14', '37A')
    """
    text = str(no).strip()
    return str(int(text)) if text.isdigit() else text


def incomplete(frame: pd.DataFrame, fields) -> np.ndarray:
    """Rows of a CadNSDI layer missing (or blank in) any of ``fields``: they name no aliquot part.

    Examples
    --------
    >>> incomplete(pd.DataFrame({"PLSSID": ["NV21", None, "NV21"], "QSEC": ["NE", "SW", " "]}),
    ...            ["PLSSID", "QSEC"]).tolist()
    [False, True, True]
    """
    part = frame[list(fields)].astype(object)
    return (part.isna() | part.apply(lambda col: col.astype(str).str.strip().eq(""))).any(axis=1).to_numpy()
