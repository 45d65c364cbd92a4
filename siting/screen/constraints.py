"""Apply rules to candidates: the ledger, the funnel and the reasons.

Every rule is evaluated for every candidate (also those an earlier rule
already failed), so each candidate carries the full ledger: for every rule the
measured value, the threshold and pass/fail. The funnel then counts, in rule
order, the candidates and acres each rule removed from those still standing;
input acres = eligible acres + removed acres, exactly.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.screen.rules import AgencyIn, MinArea
>>> cands = gpd.GeoDataFrame({"candidate_id": ["a", "b", "c"], "agency": ["BLM", "NPS", "BLM"]},
...     geometry=[box(0, 0, 1000, 1000), box(0, 0, 1000, 1000), box(0, 0, 100, 100)], crs=5070)
>>> res = screen(cands, [AgencyIn(values=["BLM"]), MinArea(acres=10)])
>>> res.frame["eligible"].tolist()
[True, False, False]
>>> res.funnel[["rule", "candidates_removed"]].values.tolist()
[['input', 0], ['agency_in', 1], ['min_area', 1]]
>>> res.frame.loc[1, "reason"]
'failed agency_in: managing agency = NPS (needs in BLM)'
>>> ledger_columns("min_area")
['min_area__value', 'min_area__threshold', 'min_area__pass']
>>> isinstance(res, Screening), list(res.applied)
(True, ['agency_in', 'min_area'])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.core.errors import warn
from siting.core.progress import release_memory
from siting.geo.areas import ground_acres
from siting.io.compact import repeated_text
from siting.io.crs import require_same_crs
from siting.screen.ledger import LongLedger, compact_ledger, from_outcomes
from siting.screen.rule_base import BaseRule, RuleContext

__all__ = ["Screening", "compact_ledger", "ledger_columns", "rule_labels", "screen", "warn_screening"]

log = logging.getLogger(__name__)


@dataclass
class Screening:
    """Result of :func:`screen`.

    Attributes
    ----------
    frame : GeoDataFrame
        The candidates with their eligible remainder as geometry, ``area_acres``,
        ledger columns ``<rule>__value``, ``<rule>__threshold``, ``<rule>__pass``,
        ``eligible``, ``failed_rules``, ``n_failed`` and ``reason``.
    funnel : DataFrame
        Per rule in order: candidates and acres in, removed, out.
    long_ledger : LongLedger
        Long form: one row per candidate and rule, made when first read (:attr:`ledger`).
    rules : DataFrame
        One row per rule: label, type, stage, description, measure, op, threshold, layer, where.
    applied : dict
        Ledger name -> rule object, in order (what relaxation and the map ask the rules).
    land : GeoDataFrame, optional
        With generated candidates (:mod:`siting.screen.staged`): the eligible land they were made from.
    generation : dict
        With generated candidates: the generator's report (for packing: sites, bound, efficiency).
    """

    frame: gpd.GeoDataFrame
    funnel: pd.DataFrame
    long_ledger: LongLedger
    rules: pd.DataFrame
    applied: dict = field(default_factory=dict)
    land: gpd.GeoDataFrame | None = None
    generation: dict = field(default_factory=dict)

    @property
    def ledger(self) -> pd.DataFrame:
        """The long-form ledger (:mod:`siting.screen.ledger`), made on first read."""
        return self.long_ledger.frame


def rule_labels(rules: Sequence[BaseRule]) -> list[str]:
    """Unique ledger names for the rules (``outside_wilderness``, then ``_2``...).

    Examples
    --------
    >>> from siting.screen.rules import MinArea
    >>> rule_labels([MinArea(acres=1), MinArea(acres=2)])
    ['min_area', 'min_area_2']
    """
    seen: dict[str, int] = {}
    out = []
    for rule in rules:
        base = rule.label()
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def ledger_columns(label: str) -> list[str]:
    """Column names of one rule's ledger entry."""
    return [f"{label}__value", f"{label}__threshold", f"{label}__pass"]


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        return "NA" if np.isnan(value) else f"{value:,.6g}"
    return "NA" if value is None or value is pd.NA else str(value)


def _fmt_array(values) -> np.ndarray:
    """Format measured values for messages, vectorized (NaN/None -> "NA")."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        out = np.char.mod("%.6g", arr.astype(float)).astype(object)
        out[np.isnan(arr.astype(float))] = "NA"
        return out
    s = pd.Series(arr, dtype=object)
    return s.where(s.notna(), "NA").astype(str).to_numpy(dtype=object)


def _join_columns(columns: list[np.ndarray], sep: str, index) -> pd.Series:
    """Join per-row strings across columns with ``sep``, skipping empty ones (vectorized)."""
    acc = np.full(len(index), "", dtype=object)
    for col in columns:
        col = np.asarray(col, dtype=object)
        acc = acc + np.where(col != "", col + sep, "")
    out = pd.Series(acc, index=index, dtype=object)
    return out.str.slice(0, -len(sep)).where(out != "", "")


def _reasons(index, labels: list[str], outcomes: list) -> np.ndarray:
    parts = []
    for label, oc in zip(labels, outcomes, strict=True):
        msg = np.full(len(index), "", dtype=object)
        failed = ~oc.passed
        msg[failed] = (f"{label}: {oc.measure} = " + _fmt_array(oc.value)[failed].astype(str)
                       + f" (needs {oc.op} {_fmt(oc.threshold)})")
        parts.append(msg)
    joined = _join_columns(parts, "; ", index).to_numpy(dtype=object)
    return np.where(joined == "", f"passed all {len(labels)} rules", "failed " + joined)


def screen(candidates: gpd.GeoDataFrame, rules: Sequence[BaseRule], ctx: RuleContext | None = None, *,
           whole: bool = True) -> Screening:
    """Evaluate ``rules`` in order on ``candidates`` (a new frame is returned).

    Parameters
    ----------
    candidates : GeoDataFrame
        In a projected working CRS, with ``candidate_id`` and the attributes
        the rules read (``agency``, ``gap_status``...).
    rules : sequence of Rule
        From :mod:`siting.screen.rules`.
    ctx : RuleContext, optional
        Layers and rasters the rules refer to.
    whole : bool, default True
        Whether ``candidates`` are the whole run's: then candidates judged without data and an empty
        result are reported (:func:`warn_screening`). A partition's screening (the Dask engine) or an
        analysis's re-screening leaves that to the merged or first result.

    Returns
    -------
    Screening
    """
    ctx = ctx or RuleContext()
    if ctx.layers:
        require_same_crs(candidates, *ctx.layers.values(), what="candidates and rule layers")
    frame = candidates.copy(deep=False)  # never written to: the result is built anew (a national grid: 1 GB saved)
    labels = rule_labels(rules)
    geoms = frame.geometry.values.to_numpy() if hasattr(frame.geometry.values, "to_numpy") \
        else np.asarray(frame.geometry.values)
    area0 = ground_acres(geoms, frame.crs)
    areas, outcomes = [area0], []
    for rule, label in zip(rules, labels, strict=True):
        oc = rule.judge(frame, geoms, ctx)
        oc.passed = np.asarray(oc.passed, dtype=bool)
        if oc.geoms is not None:
            geoms = oc.geoms
        areas.append(ground_acres(geoms, frame.crs))
        outcomes.append(oc)
        release_memory()  # the rule's temporaries go back to the system before the next one
        log.info("rule %s: %d of %d candidates pass", label, int(oc.passed.sum()), len(frame))
    ledger_wide = _ledger_wide(labels, outcomes, frame.index)
    passed = np.column_stack([oc.passed for oc in outcomes]) if outcomes else np.ones((len(frame), 0), bool)
    out = pd.concat([frame.drop(columns="geometry"), ledger_wide], axis=1)
    out["area_acres"] = areas[-1]
    out["eligible"] = passed.all(axis=1)
    out["n_failed"] = (~passed).sum(axis=1)
    failed_names = [np.where(~passed[:, i], labels[i], "") for i in range(len(labels))]
    out["failed_rules"] = _join_columns(failed_names, ";", out.index)
    out["reason"] = _reasons(out.index, labels, outcomes)
    out["overrides"] = _override_notes(outcomes, out.index)
    out = repeated_text(out)  # the parcels' attributes, text thresholds, reasons: codes, not a copy per row
    result = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    funnel = _funnel(labels, rules, outcomes, areas)
    if whole:
        warn_screening(funnel, rules, labels, len(frame))
    return Screening(result, funnel, from_outcomes(frame["candidate_id"], labels, outcomes),
                     _rule_table(rules, labels, outcomes), dict(zip(labels, rules, strict=True)))


def _ledger_wide(labels, outcomes, index) -> pd.DataFrame:
    cols = {}
    for label, oc in zip(labels, outcomes, strict=True):
        v, t, p = ledger_columns(label)
        cols[v] = pd.Series(oc.value, index=index)
        cols[t] = pd.Series([oc.threshold] * len(index), index=index, dtype=object).astype(str) \
            if not isinstance(oc.threshold, int | float) else float(oc.threshold)
        cols[p] = pd.Series(oc.passed, index=index)
        if oc.removed_acres is not None:
            cols[f"{label}__removed_acres"] = pd.Series(oc.removed_acres, index=index)
        if oc.applies is not None or oc.override is not None:  # a pass the value does not give (relaxation keeps it)
            free = ~oc.applies if oc.applies is not None else np.zeros(len(index), bool)
            forced = oc.passed & ((_overrides(oc, len(index)) != "") | free)
            cols[f"{label}__forced"] = pd.Series(forced, index=index)
    return pd.DataFrame(cols, index=index)


def _funnel(labels, rules, outcomes, areas) -> pd.DataFrame:
    n = len(areas[0])
    alive = np.ones(n, dtype=bool)
    rows = [{"step": 0, "rule": "input", "description": "all candidates", "candidates_in": n,
             "candidates_removed": 0, "candidates_overridden": 0, "candidates_no_data": 0, "candidates_out": n,
             "acres_in": areas[0].sum(),
             "acres_removed": 0.0, "acres_out": areas[0].sum()}]
    for k, (label, rule, oc) in enumerate(zip(labels, rules, outcomes, strict=True), start=1):
        acres_in = areas[k - 1][alive].sum()
        now = alive & oc.passed
        acres_out = areas[k][now].sum()
        rows.append({"step": k, "rule": label, "description": rule.summary(),
                     "candidates_in": int(alive.sum()),
                     "candidates_removed": int((alive & ~oc.passed).sum()),
                     "candidates_overridden": int((alive & (_overrides(oc, n) != "")).sum()),
                     "candidates_no_data": int((alive & oc.unknown).sum()) if oc.unknown is not None else 0,
                     "candidates_out": int(now.sum()), "acres_in": acres_in,
                     "acres_removed": acres_in - acres_out, "acres_out": acres_out})
        alive = now
    return pd.DataFrame(rows)


def warn_screening(funnel: pd.DataFrame, rules: Sequence[BaseRule], labels: list[str], n: int) -> None:
    """Report what a whole run's screening decided without measuring: a :class:`SitingWarning` per rule
    whose ``missing`` policy decided candidates it had no data for (the funnel's ``candidates_no_data``),
    and a logged warning when no candidate is left (:func:`warn_if_empty`).

    Examples
    --------
    >>> import warnings
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from siting.screen.rules import GapStatusNotIn
    >>> cands = gpd.GeoDataFrame({"candidate_id": ["a", "b"], "gap_status": [4, None]},
    ...     geometry=[box(0, 0, 1000, 1000)] * 2, crs=5070)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = screen(cands, [GapStatusNotIn(values=[1, 2])])
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    rule gap_status_not_in: 1 of the 2 candidates it judged have no gap_status;
    they pass (set missing: pass|fail to decide)
    >>> res.funnel["candidates_no_data"].tolist()
    [0, 1]
    """
    by_label = dict(zip(labels, rules, strict=True))
    for row in funnel[funnel["candidates_no_data"] > 0].itertuples():
        warn(f"rule {row.rule}: {row.candidates_no_data:,} of the {row.candidates_in:,} candidates it "
             f"judged have {by_label[row.rule].no_data()}")
    warn_if_empty(funnel, n)


def warn_if_empty(funnel: pd.DataFrame, n: int) -> None:
    """Say (a :class:`SitingWarning` a notebook shows, and the log) which rule removed the last candidates,
    when none are left.

    Examples
    --------
    >>> import warnings
    >>> funnel = pd.DataFrame({"rule": ["min_area"], "description": ["area >= 640 acres"],
    ...                        "candidates_removed": [3], "candidates_out": [0]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_empty(funnel, 3)
    >>> print(caught[0].message)
    all 3 candidates were excluded; rule 'min_area' (area >= 640 acres) removed the last 3; relax it or check its layer
    """
    if n == 0 or funnel["candidates_out"].iloc[-1] > 0:
        return
    last = funnel[funnel["candidates_removed"] > 0].iloc[-1]
    said = (f"all {n:,} candidates were excluded; rule {last['rule']!r} ({last['description']}) removed the last "
            f"{last['candidates_removed']:,}; relax it or check its layer")
    log.warning(said)
    warn(said)


def _override_notes(outcomes, index) -> np.ndarray:
    """Per candidate: the overrides that decided for it (include reasons, exclusions), once each."""
    out = np.full(len(index), "", dtype=object)
    notes = [oc.override for oc in outcomes if oc.override is not None]
    if not notes:
        return out
    table = np.column_stack(notes)
    for row in np.flatnonzero((table != "").any(axis=1)):  # the few candidates an override decided
        out[row] = "; ".join(dict.fromkeys(v for v in table[row] if v))
    return out


def _overrides(oc, n: int) -> np.ndarray:
    return oc.override if oc.override is not None else np.full(n, "", dtype=object)


def _rule_table(rules, labels, outcomes) -> pd.DataFrame:
    return pd.DataFrame({
        "rule": labels, "type": [r.rule for r in rules], "stage": [r.stage for r in rules],
        "description": [r.summary() for r in rules], "measure": [oc.measure for oc in outcomes],
        "op": [oc.op for oc in outcomes], "threshold": [oc.threshold for oc in outcomes],
        "parameter": [r.parameter for r in rules], "parameter_value": [r.parameter_value() for r in rules],
        "layer": [getattr(r, "layer", None) for r in rules], "where": [getattr(r, "where", None) for r in rules],
    })
