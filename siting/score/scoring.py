"""Combine factor scores into one score per site: aggregation, rank, tiers, and the breakdown.

Aggregations (``scoring.method`` in a scenario), all on transformed scores in [0, 1]:

* ``weighted_sum`` (default): sum_i w_i s_i;
* ``weighted_product``: prod_i s_i ** w_i (a zero score on any factor gives 0);
* ``topsis``: closeness to the ideal site (vector normalisation, Hwang and Yoon);
* ``minimum``: the limiting factor, min_i s_i over the factors with a weight > 0.

Every site carries, per factor, ``<f>_score`` (transformed), ``<f>_weight`` and ``<f>_contrib``:
for ``weighted_sum`` the contributions add up to the score (w_i s_i); for ``weighted_product`` they
are w_i ln(s_i), whose sum is ln(score); for ``topsis`` and ``minimum`` they are leave-one-out
effects: the score minus the score without that factor.

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"power": [1.0, 0.0, 0.5], "rail": [0.0, 1.0, 0.5]})
>>> weighted_sum(scores, {"power": 3, "rail": 1}).tolist()
[0.75, 0.25, 0.5]
>>> rank(pd.Series([0.75, 0.25, 0.75]), pd.Series(["b", "c", "a"])).tolist()
[2, 3, 1]
>>> np.round(topsis(np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]]), [0.5, 0.5]), 3).tolist()
[0.309, 0.309, 1.0]
>>> aggregate(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([3.0, 1.0])).tolist()
[0.75, 0.5]
>>> minimum(pd.DataFrame({"a": [0.2, 0.9], "b": [0.5, 0.4]})).tolist()
[0.2, 0.4]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.core import settings
from siting.core.errors import ScenarioError
from siting.schema import unit_weights

__all__ = ["METHODS", "aggregate", "minimum", "normalise_weights", "rank", "score_table", "tiers", "topsis",
           "weighted_product", "weighted_sum"]

METHODS = ("weighted_sum", "weighted_product", "topsis", "minimum")
_EPS = 1e-9


def normalise_weights(weights: dict[str, float]) -> dict[str, float]:
    """Scale non-negative weights to sum to 1.

    Examples
    --------
    >>> normalise_weights({"a": 3, "b": 1})
    {'a': 0.75, 'b': 0.25}
    """
    try:
        scaled = unit_weights(list(weights.values()))
    except ValueError as exc:
        raise ScenarioError(f"factor weights: {exc}; at least one factor needs a weight > 0") from None
    return {k: float(v) for k, v in zip(weights, scaled, strict=True)}


def topsis(matrix, weights, *, benefit=None) -> np.ndarray:
    """TOPSIS closeness coefficient in [0, 1] (1 = the ideal alternative).

    Parameters
    ----------
    matrix : array-like (n alternatives, m criteria)
    weights : array-like (m,)
        Non-negative; scaled to sum to 1.
    benefit : array-like of bool (m,), optional
        True where more is better (default: all True); cost criteria take the minimum as ideal.

    Returns
    -------
    ndarray (n,)
        D- / (D+ + D-) with vector normalisation; 0.5 where every alternative is identical.
    """
    x = np.asarray(matrix, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(w):
        raise ScenarioError(f"TOPSIS needs an (n, m) matrix and m weights; got {x.shape} and {len(w)}")
    b = np.ones(x.shape[1], bool) if benefit is None else np.asarray(benefit, bool)
    norm = np.sqrt((x**2).sum(axis=0))
    r = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    v = r * unit_weights(w)
    best = np.where(b, v.max(axis=0), v.min(axis=0))
    worst = np.where(b, v.min(axis=0), v.max(axis=0))
    d_plus = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_plus + d_minus
    return np.divide(d_minus, total, out=np.full(len(x), 0.5), where=total > 0)


def _batch_topsis(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """TOPSIS for many weight vectors at once: s (n, m), w (k, m) -> (k, n); all benefit.

    With w >= 0 the ideal point is w * max(r) per criterion, so D+^2 = ((r - max r)^2) @ w^2:
    two matrix products instead of a (k, n, m) array.
    """
    norm = np.sqrt((s**2).sum(axis=0))
    r = np.divide(s, norm, out=np.zeros_like(s), where=norm > 0)
    w2 = (w**2).T
    d_plus = np.sqrt(np.maximum(((r - r.max(axis=0)) ** 2 @ w2).T, 0.0))
    d_minus = np.sqrt(np.maximum(((r - r.min(axis=0)) ** 2 @ w2).T, 0.0))
    total = d_plus + d_minus
    return np.divide(d_minus, total, out=np.full(total.shape, 0.5), where=total > 0)


def aggregate(scores, weights, method: str = "weighted_sum") -> np.ndarray:
    """Aggregate a score matrix (n sites, m factors) with one weight vector (m,) or many (k, m).

    Returns (n,) for one weight vector, (k, n) for many. Weights are scaled to sum to 1.
    """
    if method not in METHODS:
        raise ScenarioError(f"scoring method {method!r} is unknown; use one of {', '.join(METHODS)}")
    s = np.asarray(scores, dtype=float)
    w = unit_weights(np.atleast_2d(np.asarray(weights, dtype=float)))
    if method == "weighted_sum":
        out = w @ s.T
    elif method == "weighted_product":
        out = np.exp(w @ np.log(np.clip(s, _EPS, 1.0)).T)
        out = np.where(w @ (s <= 0).T > 0, 0.0, out)  # a zero on a weighted factor gives 0
    elif method == "topsis":
        out = _batch_topsis(s, w)
    else:  # the limiting factor among the factors that carry weight
        out = np.where(w[:, None, :] > 0, s[None, :, :], np.inf).min(axis=2)
    return out[0] if np.ndim(weights) == 1 else out


def weighted_sum(scores: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted sum of factor scores with weights scaled to sum to 1 (result in [0, 1])."""
    w = normalise_weights(weights)
    return pd.Series(aggregate(scores[list(w)].to_numpy(float), np.array(list(w.values()))),
                     index=scores.index, dtype=float)


def weighted_product(scores: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted product prod s_i ** w_i (weights scaled to sum to 1).

    Examples
    --------
    >>> weighted_product(pd.DataFrame({"a": [1.0, 0.25], "b": [1.0, 1.0]}), {"a": 1, "b": 1}).tolist()
    [1.0, 0.5]
    """
    w = normalise_weights(weights)
    return pd.Series(aggregate(scores[list(w)].to_numpy(float), np.array(list(w.values())), "weighted_product"),
                     index=scores.index, dtype=float)


def minimum(scores: pd.DataFrame) -> pd.Series:
    """The limiting factor: each site's lowest factor score."""
    return scores.min(axis=1).astype(float)


def rank(score: pd.Series, ids: pd.Series) -> pd.Series:
    """Rank 1..n by descending score, ties broken by id (deterministic)."""
    values = np.round(np.nan_to_num(score.to_numpy(float), nan=-1.0), settings.RANK_DECIMALS)
    order = np.lexsort((ids.astype(str).to_numpy(), -values))
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


def _contributions(s: np.ndarray, w: np.ndarray, method: str, total: np.ndarray) -> np.ndarray:
    if method == "weighted_sum":
        return s * w
    if method == "weighted_product":
        return w * np.log(np.clip(s, _EPS, 1.0))
    out = np.zeros_like(s)
    for i in range(s.shape[1]):  # leave-one-out over the few factors, vectorized over sites
        keep = np.arange(s.shape[1]) != i
        if keep.any() and w[keep].sum() > 0:
            out[:, i] = total - aggregate(s[:, keep], w[keep], method)
    return out


def score_table(raw: pd.DataFrame, factors, *, method: str = "weighted_sum",
                weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Per factor ``<f>_score``, ``<f>_weight``, ``<f>_contrib``, and the total ``score``.

    Parameters
    ----------
    raw : DataFrame
        The raw factor columns (``factor.raw_column``).
    factors : sequence of Factor
    method : str
        One of :data:`METHODS`.
    weights : dict, optional
        Weight per factor name (default: each factor's ``weight``); scaled to sum to 1.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from siting.score.factors import make_factor
    >>> fs = [make_factor({"name": "power", "distance_to": "subs", "weight": 3,
    ...                    "transform": {"linear": {"best": 0, "worst": 100}}}),
    ...       make_factor({"name": "deps", "count_within": "d", "radius_m": 1, "weight": 1})]
    >>> raw = pd.DataFrame({"power_m": [0.0, 50.0], "deps_count": [0.0, 4.0]})
    >>> score_table(raw, fs)[["power_score", "deps_score", "score"]].values.tolist()
    [[1.0, 0.0, 0.75], [0.5, 1.0, 0.625]]
    """
    if not factors:
        return pd.DataFrame({"score": np.ones(len(raw))}, index=raw.index)
    w = normalise_weights(weights or {f.name: f.weight for f in factors})
    names = [f.name for f in factors]
    s = np.column_stack([f.score(raw[f.raw_column].to_numpy()) for f in factors])
    wv = np.array([w[n] for n in names])
    total = aggregate(s, wv, method) if len(s) else np.zeros(0)
    contrib = _contributions(s, wv, method, total) if len(s) else np.zeros_like(s)
    cols = {}
    for k, n in enumerate(names):
        cols[f"{n}_score"], cols[f"{n}_weight"], cols[f"{n}_contrib"] = s[:, k], np.full(len(s), wv[k]), contrib[:, k]
    out = pd.DataFrame(cols, index=raw.index, copy=False)  # the columns as made (not copied into one block)
    out["score"] = total
    return out
