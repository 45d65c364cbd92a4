"""Combine factor scores into one score per site, rank and tier.

:func:`score_table` gives, per site and factor, the raw value, the transformed
score, the weight and the contribution to the total, so that every score can
be taken apart. Aggregation by weighted sum (default).

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"power": [1.0, 0.0, 0.5], "rail": [0.0, 1.0, 0.5]})
>>> weighted_sum(scores, {"power": 3, "rail": 1}).tolist()
[0.75, 0.25, 0.5]
>>> rank(pd.Series([0.75, 0.25, 0.75]), pd.Series(["b", "c", "a"])).tolist()
[2, 3, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.errors import ScenarioError

__all__ = ["normalise_weights", "rank", "score_table", "tiers", "weighted_sum"]


def normalise_weights(weights: dict[str, float]) -> dict[str, float]:
    """Scale non-negative weights to sum to 1.

    Examples
    --------
    >>> normalise_weights({"a": 3, "b": 1})
    {'a': 0.75, 'b': 0.25}
    """
    w = {k: float(v) for k, v in weights.items()}
    if any(v < 0 or not np.isfinite(v) for v in w.values()):
        raise ScenarioError(f"weights must be finite and >= 0, got {w}")
    total = sum(w.values())
    if total <= 0:
        raise ScenarioError("at least one factor needs a weight > 0")
    return {k: v / total for k, v in w.items()}


def weighted_sum(scores: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted sum of factor scores with weights scaled to sum to 1 (result in [0, 1])."""
    w = normalise_weights(weights)
    total = sum(scores[k].to_numpy(float) * v for k, v in w.items())
    return pd.Series(total, index=scores.index, dtype=float)


def rank(score: pd.Series, ids: pd.Series) -> pd.Series:
    """Dense-free rank 1..n by descending score, ties broken by id (deterministic)."""
    order = np.lexsort((ids.astype(str).to_numpy(), -np.nan_to_num(score.to_numpy(float), nan=-1.0)))
    out = np.empty(len(score), dtype=int)
    out[order] = np.arange(1, len(score) + 1)
    return pd.Series(out, index=score.index)


def tiers(score: pd.Series, *, thresholds=None, labels=None, quantiles=None) -> pd.Series:
    """Label sites by score thresholds (e.g. [0.7, 0.4]) or quantiles (e.g. [0.8, 0.5]).

    Examples
    --------
    >>> tiers(pd.Series([0.9, 0.5, 0.1]), thresholds=[0.7, 0.4]).tolist()
    ['A', 'B', 'C']
    """
    if thresholds is None and quantiles is None:
        thresholds = [0.7, 0.4]
    cuts = (sorted(thresholds, reverse=True) if thresholds is not None
            else sorted(score.quantile(q) for q in quantiles)[::-1])
    labels = labels or [chr(ord("A") + i) for i in range(len(cuts) + 1)]
    if len(labels) != len(cuts) + 1:
        raise ScenarioError(f"tiers need {len(cuts) + 1} labels for {len(cuts)} cuts")
    idx = np.zeros(len(score), dtype=int)
    for cut in cuts:
        idx += (score.to_numpy(float) < cut).astype(int)
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=score.index)


def score_table(raw: pd.DataFrame, factors) -> pd.DataFrame:
    """Per factor: ``<name>_score``, ``<name>_weight`` and ``<name>_contrib``, plus ``score``.

    Parameters
    ----------
    raw : DataFrame
        The raw factor columns (``factor.raw_column``).
    factors : sequence of Factor

    Returns
    -------
    DataFrame
        Contributions sum to ``score`` (weighted sum with normalised weights).
    """
    if not factors:
        return pd.DataFrame({"score": np.ones(len(raw))}, index=raw.index)
    w = normalise_weights({f.name: f.weight for f in factors})
    cols = {}
    for f in factors:
        s = f.score(raw[f.raw_column].to_numpy())
        cols[f"{f.name}_score"] = s
        cols[f"{f.name}_weight"] = np.full(len(raw), w[f.name])
        cols[f"{f.name}_contrib"] = s * w[f.name]
    out = pd.DataFrame(cols, index=raw.index)
    out["score"] = sum(out[f"{f.name}_contrib"] for f in factors)
    return out
