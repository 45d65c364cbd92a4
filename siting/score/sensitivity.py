"""How stable are the ranks if the weights were a little different?

:func:`rank_stability` draws weight vectors from a Dirichlet distribution centred on the chosen
weights, re-aggregates the factor scores with each draw (same method as the run) and returns, per
site, the median rank, the 5-95 % rank range and the probability of being in the top k.
``spread`` is the relative standard deviation of an average weight: the Dirichlet concentration is
kappa = (m - 1) / spread**2 - 1 for m factors, with alpha = kappa * w.

:func:`weight_sweep` moves one factor's weight at a time (multipliers of its weight, the others
rescaled) and records each site's rank.

Work is done in chunks of draws so that memory stays bounded: ranks are kept as int32
(1,000 draws x 100,000 sites = 400 MB). A national run has millions of sites: ``top`` keeps the ranks of
the best sites only (each still ranked against every site in every draw), and a draw count whose ranks
would take more than half of :data:`siting.core.settings.MEMORY_BYTES` is refused with that advice.

Examples
--------
>>> import numpy as np
>>> s = np.array([[0.9, 0.8], [0.5, 0.5], [0.2, 0.95]])  # a dominates b; c depends on the weights
>>> t = rank_stability(s, np.array([0.5, 0.5]), ids=np.array(["a", "b", "c"]), n=200, top_k=1)
>>> t["base_rank"].tolist(), bool(t["rank_p95"]["a"] <= 2), bool(t["rank_p05"]["b"] >= 2)
([1, 3, 2], True, True)
>>> round(float(t["p_top_k"].sum()), 6)
1.0
>>> sweep = weight_sweep(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.6, 0.4]), ids=["a", "b"], names=["x", "y"],
...                      multipliers=(0.0, 1.0), top_k=1)
>>> sorted(set(sweep["factor"]))
['x', 'y']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.core import settings
from siting.core.errors import ScenarioError
from siting.core.progress import iterate
from siting.schema import unit_weights
from siting.score.scoring import aggregate

__all__ = ["dirichlet_draws", "rank_stability", "ranks_among", "ranks_of", "weight_sweep"]

#: Scores (draws x sites) aggregated at once: 64 MB (a national run's 1.7 M sites: 4 draws a block).
CHUNK_SCORES = 2**23


def dirichlet_draws(weights: np.ndarray, n: int, spread: float, seed: int = 0) -> np.ndarray:
    """``n`` weight vectors around ``weights`` (zero weights stay zero).

    Examples
    --------
    >>> d = dirichlet_draws(np.array([0.6, 0.4, 0.0]), 2000, 0.2)
    >>> d.shape, bool(np.allclose(d.sum(axis=1), 1)), bool((d[:, 2] == 0).all())
    ((2000, 3), True, True)
    >>> np.round(d.mean(axis=0), 1).tolist()
    [0.6, 0.4, 0.0]
    """
    w = unit_weights(weights)
    live = w > 0
    m = int(live.sum())
    if m < 2:
        return np.repeat(w[None, :], n, axis=0)
    kappa = max((m - 1) / spread**2 - 1.0, 1.0)
    rng = np.random.default_rng(seed)
    out = np.zeros((n, len(w)))
    out[:, live] = rng.dirichlet(kappa * w[live], size=n)
    return out


def ranks_of(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) of each row of ``scores`` (k, n); ties go to the lower column index.

    Examples
    --------
    >>> ranks_of(np.array([[0.2, 0.9, 0.9]])).tolist()
    [[3, 1, 2]]
    """
    k, n = scores.shape
    neg = -np.round(scores, settings.RANK_DECIMALS)  # float noise is a tie, as in the run
    by = np.argsort(neg, axis=1)  # quicksort: 2x faster than a stable sort ...
    tied = (np.diff(np.take_along_axis(neg, by, axis=1), axis=1) == 0).any(axis=1)
    if tied.any():  # ... and rows with equal scores are redone stably, so ties go to the lower index
        by[tied] = np.argsort(neg[tied], axis=1, kind="stable")
    ranks = np.empty((k, n), dtype=np.int32)
    np.put_along_axis(ranks, by, np.arange(1, n + 1, dtype=np.int32)[None, :].repeat(k, axis=0), axis=1)
    return ranks


def ranks_among(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) of the columns ``rows`` of each row of ``scores`` (k, n) among all n: the same numbers
    as ``ranks_of(scores)[:, rows]``, without an (k, n) array of ranks.

    Each score, rounded as in :func:`ranks_of`, and its column make one integer key (better score first, then
    the lower column); a column's rank is where its key falls among the row's sorted keys.

    Examples
    --------
    >>> ranks_among(np.array([[0.2, 0.9, 0.9]]), np.array([2, 0])).tolist()
    [[2, 3]]
    """
    k, n = scores.shape
    cols = np.arange(n, dtype=np.int64)
    out = np.empty((k, len(rows)), dtype=np.int32)
    for i in range(k):  # one draw at a time: no temporaries of the whole block
        scaled = np.round(np.asarray(scores[i], float), settings.RANK_DECIMALS) * 10.0**settings.RANK_DECIMALS
        if not np.isfinite(scaled).all() or np.abs(scaled).max(initial=0.0) * max(n, 1) >= 2.0**62:
            return ranks_of(scores)[:, rows]  # keys would not fit in 64 bits
        key = -np.rint(scaled).astype(np.int64) * n + cols
        out[i] = np.searchsorted(np.sort(key), key[rows]) + 1
    return out


def rank_stability(scores, weights, *, ids, method: str = "weighted_sum", n: int = 1000, spread: float = 0.2,
                   seed: int = 0, top_k: int = 10, chunk: int = 50, top: int | None = None) -> pd.DataFrame:
    """Median rank, 5-95 % rank range and P(top k) per site under perturbed weights.

    Parameters
    ----------
    scores : ndarray (sites, factors)
        Transformed factor scores.
    weights : ndarray (factors,)
    ids : array-like of str
        Site ids (ties are broken by id, as in the run).
    method : str
        Aggregation (see :mod:`siting.score.scoring`).
    n, spread, seed, top_k, chunk : see the module docstring.
    top : int, optional
        Only the ``top`` best sites by their rank with ``weights`` (each ranked among all sites).

    Returns
    -------
    DataFrame indexed by id (in id order)
        ``base_rank``, ``median_rank``, ``rank_p05``, ``rank_p95``, ``p_top_k``.

    Raises
    ------
    ScenarioError
        When the ranks of ``n`` draws would need more than half of
        :data:`siting.core.settings.MEMORY_BYTES` (``SITING_MEMORY_GB``).
    """
    s = np.asarray(scores, float)
    ids = np.asarray(ids).astype(str)
    if s.ndim != 2 or len(s) != len(ids):
        raise ScenarioError("sensitivity needs a (sites, factors) score matrix and one id per site")
    order = np.argsort(ids, kind="stable")  # sites in id order: ties go to the smaller id, as in the run
    s, ids = s[order], ids[order]
    base = ranks_of(aggregate(s, np.atleast_2d(weights), method).reshape(1, -1))[0]
    rows = _best(s, weights, method, top, base)
    _check_memory(4 * n * len(rows), f"sensitivity: the ranks of {n:,} weight draws for {len(rows):,} of "
                  f"{len(s):,} sites", "draw fewer times (n)")
    draws = dirichlet_draws(weights, n, spread, seed)
    ranks = np.empty((n, len(rows)), dtype=np.int32)
    chunk = max(1, min(chunk, CHUNK_SCORES // max(len(s), 1)))  # a block of draws' scores stays small
    starts = range(0, n, chunk)
    for start in iterate(starts, "weight draws", None if len(starts) > 1 else False):
        block = draws[start:start + chunk]
        ranks[start:start + len(block)] = ranks_among(aggregate(s, block, method).reshape(len(block), -1), rows)
    p_top_k = (ranks <= top_k).mean(axis=0)
    q = _nearest_quantiles(ranks, [0.05, 0.5, 0.95])
    return pd.DataFrame({"base_rank": base[rows], "median_rank": q[1].astype(float), "rank_p05": q[0],
                         "rank_p95": q[2], "p_top_k": p_top_k}, index=pd.Index(ids[rows], name="site_id"))


def _nearest_quantiles(ranks: np.ndarray, qs) -> np.ndarray:
    """``np.quantile(ranks, qs, axis=0, method="nearest")``, sorting ``ranks`` in place (np.quantile sorts a
    float64 copy: twice the ranks' memory again).

    Examples
    --------
    >>> _nearest_quantiles(np.array([[3], [1], [2], [4]], dtype=np.int32), [0.05, 0.5, 0.95]).ravel().tolist()
    [1, 3, 4]
    """
    ranks.sort(axis=0)
    return ranks[np.around(np.asarray(qs, float) * (len(ranks) - 1)).astype(np.int64)]


def _best(s: np.ndarray, weights, method: str, top: int | None, base: np.ndarray | None = None) -> np.ndarray:
    """The rows (in order) of the ``top`` best sites by their rank with ``weights`` (every row without ``top``)."""
    if top is None or top >= len(s):
        return np.arange(len(s))
    if base is None:
        base = ranks_of(aggregate(s, np.atleast_2d(weights), method).reshape(1, -1))[0]
    return np.sort(np.argsort(base, kind="stable")[:top])


#: Bytes of a weight sweep's row as built (its text as Arrow strings), and again while the rows are joined.
SWEEP_ROW_BYTES = 2 * 60


def _check_memory(need: int, what: str, fewer: str) -> None:
    """Refuse an analysis whose result would take more than half the run's memory budget (``need`` bytes)."""
    if need > settings.MEMORY_BYTES // 2:
        raise ScenarioError(
            f"{what} need {need / 2**30:,.1f} GiB, more than half of the memory budget "
            f"({settings.MEMORY_BYTES / 2**30:,.1f} GiB, SITING_MEMORY_GB); keep the best sites only (top: e.g. "
            f"10000, each still ranked among all) or {fewer}")


def weight_sweep(scores, weights, *, ids, names, method: str = "weighted_sum",
                 multipliers=(0.0, 0.5, 1.0, 1.5, 2.0), top_k: int = 10, top: int | None = None) -> pd.DataFrame:
    """One-at-a-time weight changes: each factor's weight times each multiplier, others rescaled.

    ``top``: the rows of the best ``top`` sites only (by their rank with ``weights``, each ranked among all),
    for a national run (every site: factors x multipliers x sites rows).

    Returns
    -------
    DataFrame
        One row per factor, multiplier and site: ``factor``, ``multiplier``, ``weight``, ``site_id``,
        ``rank``, ``in_top_k``.
    """
    w = unit_weights(weights)
    ids = np.asarray(ids).astype(str)
    order = np.argsort(ids, kind="stable")
    s, ids = np.asarray(scores, float)[order], ids[order]
    rows = _best(s, w, method, top)
    n_rows = len(names) * len(multipliers) * len(rows)
    _check_memory(SWEEP_ROW_BYTES * n_rows, f"weight sweeps: {n_rows:,} rows ({len(names)} factors x "
                  f"{len(multipliers)} multipliers x {len(rows):,} sites)", "sweep fewer multipliers")
    s_ids = ids[rows]
    frames = []
    for i, name in enumerate(names):
        block = np.repeat(w[None, :], len(multipliers), axis=0)
        block[:, i] = w[i] * np.asarray(multipliers, float)
        ok = block.sum(axis=1) > 0
        block[ok] /= block[ok].sum(axis=1, keepdims=True)
        ranks = ranks_among(aggregate(s, block[ok], method).reshape(int(ok.sum()), -1), rows)
        for row, mult in zip(ranks, np.asarray(multipliers)[ok], strict=True):
            frames.append(pd.DataFrame({"factor": name, "multiplier": mult, "weight": w[i] * mult,
                                        "site_id": s_ids, "rank": row, "in_top_k": row <= top_k}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
