"""Land that several parcel records cover, held once: the land stage's last step.

Land inventories hold overlapping records: PAD-US's Fee record and the Designation or Easement records
over the same ground, or two agencies' outlines that disagree along a border (the real Siskiyou County
fee-managers file: 25 pairs over 94,688 acres). Screened record by record, the same ground would give a
site per record (grid cells and parcel parts on top of each other, acres counted twice), and a record
that fails a rule on its attributes (a wilderness designation, GAP 1) would not stop the record under it
from being sited there.

:func:`share_land` makes the eligible land of the records disjoint before candidates are made on it:

1. land covered by a record that fails a rule on its attributes (:meth:`BaseRule.judges_record
   <siting.screen.rule_base.BaseRule.judges_record>`: agency, GAP status, designation, an ``attribute``
   filter, an ``exclude`` of named parcels) is removed from every record over it, unless that record
   passes the rule by an ``include`` or the rule does not apply to it (``applies_to``);
2. land that several eligible records cover is kept once, in the record listed first.

Overlaps smaller than :data:`MIN_OVERLAP_M2` a pair (reprojection noise along shared borders) are left alone.

Examples
--------
>>> from shapely import box
>>> records = np.array([box(0, 0, 2000, 1000), box(1000, 0, 3000, 1000), box(2500, 0, 3500, 1000)])
>>> failed = np.array([[False], [False], [True]])  # the third fails a rule on its attributes
>>> land, shared = share_land(records, records.copy(), np.array([True, True, False]), failed,
...                           np.zeros((3, 1), bool))
>>> [round(g.area / 1e6, 2) for g in land[:2]], shared.pairs
([2.0, 0.5], 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from siting.core import settings
from siting.geo.geometry import keep_family
from siting.geo.parallel import chunked
from siting.geo.spatial import MIN_OVERLAP_M2, overlap_pieces, overlapping_pairs, union_by_group
from siting.screen.rule_base import RuleContext

__all__ = ["MIN_OVERLAP_M2", "SharedLand", "overlapping_pairs", "record_failures", "share_land"]

@dataclass
class SharedLand:
    """What :func:`share_land` changed: the pairs of records that overlap, the acres ruled out by a record
    failing a rule on its attributes, the acres covered twice and kept once, the eligible records left with
    no land, up to five example pairs of record indexes and the columns of ``failed`` that ruled land out.

    Examples
    --------
    >>> shared = SharedLand(pairs=2, ruled_out_acres=40.0, held_acres=10.0)
    >>> shared.funnel_row(units_in=3, acres_in=500.0)["acres_out"]
    450.0
    """

    pairs: int = 0
    ruled_out_acres: float = 0.0
    held_acres: float = 0.0
    emptied: int = 0
    examples: tuple = ()
    ruled_out_by: tuple = ()

    def funnel_row(self, units_in: int, acres_in: float) -> dict:
        """The funnel's row for this step (stage ``land``, rule ``shared_land``).

        Examples
        --------
        >>> row = SharedLand(2, 10.0, 5.0, 1).funnel_row(4, 100.0)
        >>> row["candidates_out"], row["acres_out"]
        (3, 85.0)
        """
        removed = self.ruled_out_acres + self.held_acres
        return {"step": 0, "rule": "shared_land", "description": DESCRIPTION, "candidates_in": units_in,
                "candidates_removed": self.emptied, "candidates_overridden": 0, "candidates_no_data": 0,
                "candidates_out": units_in - self.emptied, "acres_in": acres_in, "acres_removed": removed,
                "acres_out": acres_in - removed}

    def describe(self, ids: np.ndarray, labels: list[str]) -> str:
        """One sentence for the warning: counts, acres, example records by id and the rules (``labels``: the
        ledger names of ``failed``'s columns) that ruled land out.

        Examples
        --------
        >>> said = SharedLand(1, 3.0, 12.5, 0, ((0, 1),), (0,)).describe(np.array(["P-a", "P-b"]), ["gap"])
        >>> said.split("; ")  # doctest: +NORMALIZE_WHITESPACE
        ['parcels: 1 pair of records overlap (e.g. P-a and P-b)',
         '3 acres under a record that fails gap are removed from the records they overlap',
         '12 acres covered twice are kept once, in the record listed first']
        """
        rules = [labels[k] for k in self.ruled_out_by]
        eg = ", ".join(f"{ids[a]} and {ids[b]}" for a, b in self.examples[:3])
        parts = [f"parcels: {self.pairs:,} pair{'s' if self.pairs != 1 else ''} of records overlap (e.g. {eg})"]
        if self.ruled_out_acres > 0:
            parts.append(f"{_acres_text(self.ruled_out_acres)} acres under a record that fails "
                         f"{' or '.join(rules)} are removed from the records they overlap")
        if self.held_acres > 0:
            parts.append(f"{_acres_text(self.held_acres)} acres covered twice are kept once, in the record listed "
                         "first")
        if self.emptied:
            parts.append(f"{self.emptied:,} eligible record(s) are left with no land")
        return "; ".join(parts)


#: The funnel row's description.
DESCRIPTION = ("land several parcel records cover: held once (in the record listed first), and not where any "
               "of them fails a rule on its attributes")


def record_failures(frame: gpd.GeoDataFrame, rules: dict, records: np.ndarray, ctx: RuleContext
                    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per record and rule judging records' attributes: whether the record failed it; whether it is immune to
    it (an ``include`` overriding the rule names it, or ``applies_to`` leaves it out: the ``__forced``
    column); and the rules' ledger names.

    Parameters
    ----------
    frame : GeoDataFrame
        The land stage's screening of the records (``<label>__pass``, ``<label>__forced``).
    rules : dict
        Ledger name -> rule, as the land stage applied them.
    records, ctx
        The records' own land, and the layers an include by layer reads.

    Examples
    --------
    >>> from shapely import box
    >>> from siting.screen.rules import GapStatusNotIn, Outside
    >>> frame = gpd.GeoDataFrame({"gap__pass": [True, False], "out__pass": [False, True]},
    ...                          geometry=[box(0, 0, 1, 1)] * 2, crs=5070)
    >>> failed, immune, labels = record_failures(frame, {"gap": GapStatusNotIn(values=[1]),
    ...     "out": Outside(layer="towns")}, frame.geometry.values, RuleContext())
    >>> failed.tolist(), immune.tolist(), labels
    ([[False], [True]], [[False], [False]], ['gap'])
    """
    labels = [label for label, rule in rules.items() if rule.judges_record() and f"{label}__pass" in frame]
    failed = np.zeros((len(frame), len(labels)), bool)
    immune = np.zeros((len(frame), len(labels)), bool)
    for k, label in enumerate(labels):
        failed[:, k] = ~frame[f"{label}__pass"].to_numpy(bool)
        immune[:, k] = rules[label].included(frame, records, ctx)
        if f"{label}__forced" in frame:
            immune[:, k] |= frame[f"{label}__forced"].to_numpy(bool)
    return failed, immune, labels


def share_land(records: np.ndarray, land: np.ndarray, eligible: np.ndarray, failed: np.ndarray,
               immune: np.ndarray) -> tuple[np.ndarray, SharedLand]:
    """The eligible records' land made disjoint (see the module's text); other records' land is returned as given.

    Parameters
    ----------
    records : ndarray of geometry
        Each record's own land, before any rule cut it.
    land : ndarray of geometry
        Each record's land after the land rules.
    eligible : ndarray of bool
        Records that passed every land rule.
    failed, immune : ndarray of bool, shape (records, rules)
        From :func:`record_failures`.

    Returns
    -------
    land : ndarray of geometry
        A new array (None where an eligible record has no land left).
    shared : SharedLand
    """
    land = np.asarray(land, dtype=object)
    out = land.copy()
    i, j, common = overlap_pieces(np.asarray(records, dtype=object), MIN_OVERLAP_M2)
    if not len(i):
        return out, SharedLand()
    src, dst, common = np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([common, common])
    wanted = eligible[dst]
    veto = wanted & (failed[src] & ~immune[dst]).any(axis=1)
    held = wanted & eligible[src] & (src < dst)
    touched = np.unique(dst[veto | held])
    had = _acres(out[touched])
    ruled_out = _cut(out, common[veto], dst[veto])  # a record's land lies in its record: the common land is all
    kept = _cut(out, _near(land[src[held]], common[held]), dst[held])  # the earlier record's land there
    emptied = int(((had > 0) & (_acres(out[touched]) <= 0)).sum())
    by = np.flatnonzero((failed[src[veto]] & ~immune[dst[veto]]).any(axis=0))
    return out, SharedLand(len(i), ruled_out, kept, emptied, tuple(zip(i[:5].tolist(), j[:5].tolist(), strict=True)),
                           tuple(by.tolist()))


def _cut(land: np.ndarray, cutters: np.ndarray, owners: np.ndarray) -> float:
    """Remove from each ``land[k]`` the union of the cutters with owner ``k`` (in place); the acres removed.

    The cutters are the small pieces where records meet (:func:`_near`), so their unions are cheap and each
    record's land is cut once (cut by its whole neighbours instead, the 0.25x national country took 8.5 s
    for their unions alone).
    """
    if not len(owners):
        return 0.0
    hit = np.unique(owners)
    before = _acres(land[hit])
    unions = union_by_group(cutters, owners, len(land))[hit]
    land[hit] = keep_family(chunked(shapely.difference, land[hit], unions), "polygon")
    return float((before - _acres(land[hit])).sum())


def _near(geoms: np.ndarray, zones: np.ndarray, margin_m: float = 1.0) -> np.ndarray:
    """Each geometry clipped to its zone's box (widened by ``margin_m``): a record's land where another's could
    be, a few vertices where the whole is thousands (a fast clip, made valid). ``clip_by_rect`` takes one box a
    call, hence the loop: one call a pair of records (38,068 at the 1x national country), not a row loop; the
    vectorized alternative, ``intersection`` with each box, is a full overlay of the whole outline."""
    box = shapely.bounds(zones) + np.array([-margin_m, -margin_m, margin_m, margin_m])
    clipped = np.array([shapely.clip_by_rect(g, *b) for g, b in zip(geoms, box, strict=True)], dtype=object)
    return shapely.make_valid(clipped)


def _acres_text(acres: float) -> str:
    return f"{acres:,.0f}" if acres >= 10 else f"{acres:.2g}"


def _acres(geoms: np.ndarray) -> np.ndarray:
    return np.nan_to_num(shapely.area(geoms)) / settings.M2_PER_ACRE
