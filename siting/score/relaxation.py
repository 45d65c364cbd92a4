"""Which sites were lost to which rule, and by how much: near misses and relaxation curves.

* :func:`near_misses` - candidates that fail exactly one rule, with the rule, the measured value,
  the threshold and how far off they were;
* :func:`relaxation` - for one numeric rule, the sites and acres gained as its threshold is relaxed
  step by step. Each rule relaxes itself (``rule.relax``) and re-decides its ledger values
  (``rule.decide``); a rule that changes the land itself (``outside``) re-runs the screening.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.screen.constraints import screen
>>> from siting.screen.rules import MinArea
>>> c = gpd.GeoDataFrame({"candidate_id": ["a", "b", "c"]}, crs=5070,
...                      geometry=[box(0, 0, 1000, 1000), box(0, 0, 400, 400), box(0, 0, 100, 100)])
>>> s = screen(c, [MinArea(acres=100)])
>>> near_misses(s.frame, s.rules)[["candidate_id", "rule", "gap"]].round(1).values.tolist()
[['b', 'min_area', 60.5], ['c', 'min_area', 97.5]]
>>> relaxation(s.frame, s.applied, "min_area", [100, 30, 1])["sites"].tolist()
[1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from siting.core.errors import ScenarioError

__all__ = ["near_misses", "relaxation"]


def near_misses(candidates: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Candidates failing exactly one rule: the rule, measured value, threshold and the gap.

    ``gap`` is how far the value is from passing, in the rule's unit (acres, metres, percent).
    """
    miss = candidates[candidates["n_failed"] == 1]
    rows = []
    for r in rules.itertuples(index=False):  # a handful of rules, vectorized over candidates
        hit = miss[~miss[f"{r.rule}__pass"].astype("boolean").fillna(True).to_numpy(bool)]  # NA: not judged
        if not len(hit):
            continue
        value = hit[f"{r.rule}__value"]
        numeric = pd.to_numeric(value, errors="coerce")
        gap = (numeric - float(r.threshold)).abs() if isinstance(r.threshold, int | float) else np.nan
        rows.append(pd.DataFrame({
            "candidate_id": hit["candidate_id"].to_numpy(), "rule": r.rule, "measure": r.measure,
            "value": value.to_numpy(dtype=object), "op": r.op, "threshold": r.threshold, "gap": gap,
            "area_acres": hit["area_acres"].to_numpy()}))
    cols = ["candidate_id", "rule", "measure", "value", "op", "threshold", "gap", "area_acres"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def relaxation(candidates: pd.DataFrame, rules: Mapping[str, Any], rule: str, values: Sequence[float], *,
               rescreen: Callable[[str, float], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Sites and acres that pass every rule as ``rule``'s threshold takes each of ``values``.

    The rule decides: one whose ledger value settles the outcome (``min_area``, ``raster_max`` /
    ``raster_min`` with their ``missing`` policy, ``within``, ``beyond``) is re-decided from the
    ledger with :meth:`relax` and :meth:`decide`; one that changes the land (``outside``) needs
    ``rescreen``, which screens again with the relaxed rule.

    Parameters
    ----------
    candidates : DataFrame
        A screened frame (ledger columns, ``area_acres``, ``eligible``).
    rules : mapping
        Ledger name -> rule object, as screened (``Screening.applied``).
    rule : str
        Ledger name of the rule (e.g. ``within_substations``).
    values : sequence of float
        Thresholds to try (for ``outside``: buffers in metres).
    rescreen : callable, optional
        ``rescreen(rule, value) -> screened frame``, needed for rules that change the land.

    Returns
    -------
    DataFrame
        ``threshold``, ``sites``, ``acres``, ``sites_gained``, ``acres_gained`` (relative to the
        scenario's own threshold) and ``is_scenario_value``.
    """
    if rule not in rules:
        raise ScenarioError(f"rule {rule!r} is not in this run; rules: {', '.join(rules)}")
    base = rules[rule]
    relaxed = {float(v): base.relax(v) for v in values}  # raises for rules without a numeric threshold
    if base.rescreens():
        if rescreen is None:
            raise ScenarioError(f"relaxing {rule!r} changes the land; it needs the layers of the run")
        frames = {v: rescreen(rule, v) for v in relaxed}
        out = [{"threshold": v, "sites": int(f["eligible"].sum()),
                "acres": float(f.loc[f["eligible"], "area_acres"].sum())} for v, f in frames.items()]
    else:
        others = [f"{r}__pass" for r in rules if r != rule]
        rest = candidates[others].all(axis=1).to_numpy(bool) if others else np.ones(len(candidates), bool)
        measured = candidates[f"{rule}__value"].to_numpy()
        area = candidates["area_acres"].to_numpy(float)
        out = []
        forced = candidates[f"{rule}__forced"].to_numpy(bool) if f"{rule}__forced" in candidates \
            else np.zeros(len(candidates), bool)  # not applicable there, or kept by an include
        for v, r in relaxed.items():  # a few thresholds, each vectorized over candidates
            ok = rest & (np.asarray(r.decide(measured), dtype=bool) | forced)
            out.append({"threshold": v, "sites": int(ok.sum()), "acres": float(area[ok].sum())})
    table = pd.DataFrame(out)
    now_sites = int(candidates["eligible"].sum())
    now_acres = float(candidates.loc[candidates["eligible"], "area_acres"].sum())
    table["sites_gained"] = table["sites"] - now_sites
    table["acres_gained"] = table["acres"] - now_acres
    table["is_scenario_value"] = np.isclose(table["threshold"], float(base.parameter_value()))
    return table
