"""Critical-minerals catalog: the official lists, aliases, symbols, groups, parsing.

The data live in ``siting/data/`` (``minerals.csv``, ``mineral_groups.csv``,
``mineral_lists.csv``) with the source of every list and group:

* the 2022 USGS list of 50 critical minerals (87 FR 10381) and the 2025 list of
  60 (the 2022 list plus boron, copper, lead, metallurgical coal, phosphate,
  potash, rhenium, silicon, silver and uranium);
* aliases: element symbols (``W``, ``Li``), MRDS commodity names and codes
  (``Fluorine-Fluorite``, ``PGE_PT``, ``NB (Columbium)``), ore minerals;
* named groups: ``rare_earths``, ``platinum_group``, ``battery`` and
  ``china_export_controls`` (gallium, germanium, graphite, antimony, tungsten,
  tellurium, bismuth, molybdenum, indium and the 2025 medium/heavy rare earths).

"rare earths" (``REE``) and "platinum group metals" (``PGE``) are umbrella
terms used by MRDS when the element is not named; they are critical and belong
to their groups but are not entries of the official lists.

Examples
--------
>>> parse_commodities("Tungsten, Molybdenum")
['tungsten', 'molybdenum']
>>> parse_commodities("AU AG W")
['gold', 'silver', 'tungsten']
>>> parse_commodities("Sand and Gravel, Construction; F-Fluorite")
['sand and gravel', 'fluorspar']
>>> len(critical_minerals(2022)), len(critical_minerals(2025))
(50, 60)
>>> sorted(expand(["china_export_controls"]))[:4]
['antimony', 'bismuth', 'dysprosium', 'gadolinium']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from siting.core.errors import ScenarioError

__all__ = [
    "canonical_name",
    "critical_minerals",
    "expand",
    "group_names",
    "has_any",
    "is_critical",
    "list_sources",
    "mineral_table",
    "parse_commodities",
]

log = logging.getLogger(__name__)

LIST_YEARS = (2022, 2025)
_SPLIT = re.compile(r"[,;|]+")
_CODE = re.compile(r"^[a-z]{1,3}(_[a-z]{1,2})?$")


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("siting.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, keep_default_na=False, dtype=str)


@lru_cache(maxsize=1)
def mineral_table() -> pd.DataFrame:
    """Return the catalog: one row per canonical commodity.

    Returns
    -------
    DataFrame
        Columns ``mineral``, ``symbol``, ``critical_2022``, ``critical_2025``
        (bool), ``umbrella`` (bool: REE/PGE catch-all terms) and ``aliases``
        (list of str).

    Examples
    --------
    >>> t = mineral_table()
    >>> t.loc[t.mineral == "tungsten", "symbol"].item()
    'W'
    """
    t = _read_csv("minerals.csv")
    for col in ("critical_2022", "critical_2025", "umbrella"):
        t[col] = t[col].astype(int).astype(bool)
    t["aliases"] = t["aliases"].map(lambda s: [a for a in s.split("|") if a])
    return t


@lru_cache(maxsize=1)
def _groups() -> pd.DataFrame:
    return _read_csv("mineral_groups.csv")


def list_sources() -> pd.DataFrame:
    """Return the official lists with their size and source document.

    Examples
    --------
    >>> list_sources()["count"].tolist()
    [50, 60]
    """
    t = _read_csv("mineral_lists.csv")
    t["list_year"] = t["list_year"].astype(int)
    t["count"] = t["count"].astype(int)
    return t


@lru_cache(maxsize=1)
def _alias_map() -> dict[str, str]:
    table = mineral_table()
    out: dict[str, str] = {}
    for row in table.itertuples(index=False):  # ~100 catalog rows, built once
        keys = [row.mineral, *row.aliases]
        if row.symbol:
            keys.append(row.symbol)
        for key in keys:
            out.setdefault(_norm(key), row.mineral)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower().replace(",", " ")).strip()


def _year(year: int) -> int:
    if int(year) not in LIST_YEARS:
        raise ScenarioError(f"critical-minerals list year {year!r} is unknown; use one of {LIST_YEARS}")
    return int(year)


def critical_minerals(year: int = 2025) -> list[str]:
    """Return the official list of critical minerals for ``year``.

    Parameters
    ----------
    year : {2022, 2025}

    Returns
    -------
    list of str
        Canonical names, alphabetical.

    Examples
    --------
    >>> "tungsten" in critical_minerals(2022), "copper" in critical_minerals(2022)
    (True, False)
    """
    t = mineral_table()
    col = f"critical_{_year(year)}"
    return sorted(t.loc[t[col] & ~t["umbrella"], "mineral"])


def group_names() -> list[str]:
    """Return the names of the commodity groups.

    Examples
    --------
    >>> group_names()
    ['battery', 'china_export_controls', 'platinum_group', 'rare_earths']
    """
    return sorted(_groups()["group"].unique())


def canonical_name(text: str) -> str | None:
    """Return the canonical commodity name for a name, symbol, code or alias.

    Parameters
    ----------
    text : str

    Returns
    -------
    str or None
        ``None`` when the text is unknown.

    Examples
    --------
    >>> canonical_name("W"), canonical_name("Fluorine-Fluorite"), canonical_name("REE")
    ('tungsten', 'fluorspar', 'rare earths')
    >>> canonical_name("unobtainium") is None
    True
    """
    if not isinstance(text, str):
        return None
    return _alias_map().get(_norm(text))


def _tokens(piece: str) -> list[str]:
    name = canonical_name(piece)
    if name:
        return [name]
    if "-" in piece:  # MRDS "F-Fluorite", "BA-Barite", "P-Phosphates"
        for half in piece.split("-", 1):
            name = canonical_name(half)
            if name:
                return [name]
    words = piece.split()
    if len(words) > 1 and all(_CODE.match(w) and canonical_name(w) for w in words):
        return [c for c in map(canonical_name, words) if c]  # MRDS WFS code_list "AU AG CU"
    return [piece] if piece else []


@lru_cache(maxsize=65536)
def _parse_cached(text: str) -> tuple[str, ...]:
    low = text.lower()
    for multi in ("sand and gravel, construction", "sand and gravel, industrial",
                  "stone, crushed/broken", "stone, dimension"):
        low = low.replace(multi, multi.replace(",", ""))
    out: list[str] = []
    for piece in _SPLIT.split(low):
        for tok in _tokens(_norm(piece)):
            if tok not in out:
                out.append(tok)
    return tuple(out)


def parse_commodities(text) -> list[str]:
    """Split a commodity field into canonical commodity names.

    Handles the comma-joined MRDS form (``"Gold, Silver"``), the WFS code-list
    form (``"AU AG CU"``), semicolon lists (USGS lithium release), pipes, and
    MRDS names that contain a comma (``"Sand and Gravel, Construction"``).
    Unknown names are kept, lower-cased, so nothing is lost.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    list of str
        Canonical names in input order, without duplicates.

    Examples
    --------
    >>> parse_commodities("molybdenum,tungsten,silver,lead")
    ['molybdenum', 'tungsten', 'silver', 'lead']
    >>> parse_commodities(None)
    []
    >>> parse_commodities("lithium; Mill Concentrate")
    ['lithium', 'mill concentrate']
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return []
    return list(_parse_cached(str(text)))


def expand(selection: Iterable[str]) -> set[str]:
    """Expand commodity names, aliases and group names into canonical names.

    A group name (``rare_earths``) adds every member; the umbrella term
    "rare earths" also stands for each rare-earth element (and vice versa, a
    rare-earth element selects deposits reported only as "REE").

    Parameters
    ----------
    selection : iterable of str

    Returns
    -------
    set of str

    Raises
    ------
    ScenarioError
        For a name that is neither a known commodity nor a group.

    Examples
    --------
    >>> sorted(expand(["W", "Li"]))
    ['lithium', 'tungsten']
    >>> "rare earths" in expand(["dysprosium"])
    True
    """
    groups = _groups()
    out: set[str] = set()
    for item in selection:
        key = str(item).strip().lower().replace(" ", "_")
        if key in set(groups["group"]):
            out.update(groups.loc[groups["group"] == key, "mineral"])
            continue
        name = canonical_name(str(item))
        if name is None:
            raise ScenarioError(
                f"commodity {item!r} is unknown; use a name or symbol such as 'tungsten' or 'W', "
                f"or a group: {', '.join(group_names())}"
            )
        out.add(name)
    for umbrella, group in (("rare earths", "rare_earths"), ("platinum group metals", "platinum_group")):
        members = set(groups.loc[groups["group"] == group, "mineral"])
        if out & (members - {umbrella}):
            out.add(umbrella)
    return out


def has_any(commodities: pd.Series, selection: Iterable[str]) -> np.ndarray:
    """Which rows of a ``;``-joined ``commodities`` column hold any selected commodity or group.

    Examples
    --------
    >>> has_any(pd.Series(["tungsten;gold", "gold", None]), ["china_export_controls"]).tolist()
    [True, False, False]
    >>> has_any(pd.Series(["gold", "tungsten"], index=[7, 7]), ["tungsten"]).tolist()  # by position, not label
    [False, True]
    """
    wanted = expand(selection)
    text = pd.Series(commodities.to_numpy(), dtype=object).fillna("").astype(str)  # positions: labels may repeat
    exploded = text.str.split(";").explode()
    hit = exploded.isin(wanted).groupby(level=0).any()
    return hit.reindex(range(len(text)), fill_value=False).to_numpy(dtype=bool)


def is_critical(names: Iterable[str], year: int = 2025) -> bool:
    """Return whether any of the canonical ``names`` is critical in ``year``.

    Examples
    --------
    >>> is_critical(["gold", "silver"], 2022), is_critical(["gold", "silver"], 2025)
    (False, True)
    >>> is_critical(["rare earths"])
    True
    """
    t = mineral_table()
    crit = set(t.loc[t[f"critical_{_year(year)}"], "mineral"])
    return any(n in crit for n in names)
