"""Factor weights: direct, rank-order centroid, and AHP (eigenvector or geometric mean).

A scenario sets ``scoring.weights``:

* ``{method: direct}`` (default) - each factor's ``weight``;
* ``{method: rank_order_centroid, order: [most, ..., least]}`` - w_k = (1/n) sum_{j>=k} 1/j;
* ``{method: ahp, pairwise: {a: {b: 3, c: 5}, b: {c: 2}}, ahp_method: eigenvector}`` - Saaty's
  pairwise comparisons ("a is 3 times as important as b"); the consistency ratio must be <= 0.1
  unless ``allow_inconsistent: true``; the error names the most inconsistent pair.

Examples
--------
>>> import numpy as np
>>> A = np.array([[1, 4, 3, 7], [1/4, 1, 1/3, 3], [1/3, 3, 1, 5], [1/7, 1/3, 1/5, 1]])
>>> w, cr = ahp_weights(A)
>>> np.round(w, 3).tolist(), round(cr, 3)
([0.548, 0.127, 0.27, 0.056], 0.044)
>>> np.round(rank_order_centroid(3), 4).tolist()
[0.6111, 0.2778, 0.1111]
>>> w, note = resolve_weights(WeightSpec(method="direct"), ["power", "rail"], [3, 1])
>>> {k: float(v) for k, v in w.items()}, note["method"]
({'power': 0.75, 'rail': 0.25}, 'direct')
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from siting.core.errors import ScenarioError
from siting.schema import unit_weights

__all__ = ["RANDOM_INDEX", "WeightSpec", "ahp_weights", "most_inconsistent_pair", "pairwise_matrix",
           "rank_order_centroid", "resolve_weights"]

#: Saaty's random consistency index by matrix size (1-15).
RANDOM_INDEX = (0.0, 0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59)
AHP_METHODS = ("eigenvector", "geometric_mean")


def rank_order_centroid(n: int) -> np.ndarray:
    """Rank-order centroid weights for ``n`` factors ranked most to least important."""
    if n < 1:
        raise ScenarioError("rank-order centroid needs at least one factor")
    inv = 1.0 / np.arange(1, n + 1)
    return np.array([inv[k:].sum() for k in range(n)]) / n


def _check_pairwise(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ScenarioError(f"a pairwise matrix must be square, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or (a <= 0).any():
        raise ScenarioError("pairwise judgements must be positive numbers (Saaty's 1/9 ... 9 scale)")
    if not np.allclose(a * a.T, 1.0, rtol=1e-6) or not np.allclose(np.diag(a), 1.0):
        raise ScenarioError("a pairwise matrix must be reciprocal: a[j][i] = 1 / a[i][j] and a[i][i] = 1")
    return a


def ahp_weights(pairwise, *, method: str = "eigenvector") -> tuple[np.ndarray, float]:
    """Weights and consistency ratio from a reciprocal pairwise-comparison matrix.

    Parameters
    ----------
    pairwise : array-like (n, n)
        ``pairwise[i][j]`` = how many times factor i is as important as factor j.
    method : {"eigenvector", "geometric_mean"}
        Saaty's principal eigenvector, or the row geometric mean (logarithmic least squares).

    Returns
    -------
    weights : ndarray
        Sum to 1.
    consistency_ratio : float
        CI / RI with CI = (lambda_max - n) / (n - 1) and Saaty's random index; 0 for n <= 2.
    """
    if method not in AHP_METHODS:
        raise ScenarioError(f"AHP method {method!r} is unknown; use one of {AHP_METHODS}")
    a = _check_pairwise(pairwise)
    n = len(a)
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = np.abs(vecs[:, k].real)
        lam = float(vals[k].real)
    else:
        w = unit_weights(np.exp(np.log(a).mean(axis=1)))
        lam = float(np.mean((a @ w) / w))
    w = unit_weights(w)
    if n <= 2:
        return w, 0.0
    ri = RANDOM_INDEX[n] if n < len(RANDOM_INDEX) else RANDOM_INDEX[-1]
    return w, max((lam - n) / (n - 1), 0.0) / ri


def most_inconsistent_pair(pairwise, weights) -> tuple[int, int, float]:
    """The judgement furthest from the ratio the weights imply: (i, j, a_ij / (w_i / w_j)).

    Examples
    --------
    A consistent 2-4-8 ladder with one judgement reversed (factor 0 vs 3: 1/8 instead of 8):

    >>> A = np.array([[1, 2, 4, 1/8], [1/2, 1, 2, 4], [1/4, 1/2, 1, 2], [8, 1/4, 1/2, 1]])
    >>> i, j, ratio = most_inconsistent_pair(A, ahp_weights(A)[0])
    >>> (i, j)
    (0, 3)
    """
    a = np.asarray(pairwise, float)
    w = np.asarray(weights, float)
    dev = np.abs(np.log(a * w[None, :] / w[:, None]))
    np.fill_diagonal(dev, -1)
    i, j = np.unravel_index(int(np.argmax(np.triu(dev, 1))), dev.shape)
    return int(i), int(j), float(a[i, j] / (w[i] / w[j]))


def pairwise_matrix(names: list[str], judgements: dict) -> np.ndarray:
    """Build a reciprocal matrix from ``{a: {b: 3}}`` judgements (missing pairs are an error).

    Examples
    --------
    >>> pairwise_matrix(["a", "b"], {"a": {"b": 3}}).tolist()
    [[1.0, 3.0], [0.3333333333333333, 1.0]]
    """
    idx = {n: i for i, n in enumerate(names)}
    a = np.eye(len(names))
    seen = set()
    for left, row in judgements.items():
        for right, value in (row or {}).items():
            if left not in idx or right not in idx:
                unknown = left if left not in idx else right
                raise ScenarioError(f"AHP judgement names {unknown!r}, which is not a factor ({', '.join(names)})")
            if left == right or float(value) <= 0:
                raise ScenarioError(f"AHP judgement {left} vs {right} = {value!r} is not a positive comparison "
                                    "of two different factors")
            i, j = idx[left], idx[right]
            a[i, j], a[j, i] = float(value), 1.0 / float(value)
            seen.add(frozenset((i, j)))
    missing = [f"{names[i]} vs {names[j]}" for i in range(len(names)) for j in range(i + 1, len(names))
               if frozenset((i, j)) not in seen]
    if missing:
        raise ScenarioError(f"AHP needs a judgement for every pair of factors; missing: {', '.join(missing)}")
    return a


class WeightSpec(BaseModel):
    """How weights are set (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["direct", "rank_order_centroid", "ahp"] = "direct"
    order: list[str] | None = None
    pairwise: dict[str, dict[str, float]] | None = None
    ahp_method: Literal["eigenvector", "geometric_mean"] = "eigenvector"
    allow_inconsistent: bool = False
    max_consistency_ratio: float = Field(0.1, gt=0)


def resolve_weights(spec: WeightSpec, names: list[str], direct: list[float]) -> tuple[dict, dict]:
    """Weights per factor name (summing to 1) and a note for the run report.

    Raises
    ------
    ScenarioError
        Unknown factor names, missing AHP pairs, or CR above the limit (naming the most
        inconsistent pair) unless ``allow_inconsistent``.
    """
    if spec.method == "direct":
        if sum(direct) <= 0:
            raise ScenarioError("at least one factor needs a weight > 0")
        return dict(zip(names, unit_weights(direct), strict=True)), {"method": "direct"}
    if spec.method == "rank_order_centroid":
        order = spec.order or names
        if sorted(order) != sorted(names):
            raise ScenarioError(f"rank_order_centroid order must list every factor once: {', '.join(names)}")
        w = rank_order_centroid(len(order))
        return dict(zip(order, w, strict=True)), {"method": "rank_order_centroid", "order": order}
    a = pairwise_matrix(names, spec.pairwise or {})
    w, cr = ahp_weights(a, method=spec.ahp_method)
    note = {"method": "ahp", "ahp_method": spec.ahp_method, "consistency_ratio": round(cr, 4),
            "pairwise": a.round(6).tolist()}
    if cr > spec.max_consistency_ratio and not spec.allow_inconsistent:
        i, j, ratio = most_inconsistent_pair(a, w)
        raise ScenarioError(
            f"AHP judgements are inconsistent: consistency ratio {cr:.3f} > {spec.max_consistency_ratio}; the "
            f"most inconsistent pair is {names[i]} vs {names[j]} (judged {a[i, j]:.3g}, the other judgements "
            f"imply {a[i, j] / ratio:.3g}); revise it or set allow_inconsistent: true")
    return dict(zip(names, w, strict=True)), note
