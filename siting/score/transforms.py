"""Value functions: turn a factor's raw values into scores in [0, 1].

A transform is written in a scenario as a one-key mapping, e.g.
``{linear: {best: 0, worst: 50000}}``. ``best`` and ``worst`` set the
direction: a cost (distance) has ``best < worst``, a benefit the reverse.
Values outside the range are clipped. Missing values (NaN: no data) score 0.

======== ================================================================
name     parameters
======== ================================================================
linear   best, worst
minmax   direction (benefit | cost); range from the data
log      best, worst (on log1p of the value); or direction with the data range
sigmoid  mid, scale, direction (cost: high values score low)
gaussian optimum, sd
piecewise points: [[x, score], ...] (linear interpolation, x increasing)
step     thresholds: [t1, t2, ...], scores: [s0, s1, ..., sn]
categorical map: {value: score}, default
======== ================================================================

Examples
--------
>>> import numpy as np
>>> apply({"linear": {"best": 0, "worst": 100}}, np.array([0, 50, 150, np.nan])).tolist()
[1.0, 0.5, 0.0, 0.0]
>>> apply({"step": {"thresholds": [10, 20], "scores": [1, 0.5, 0]}}, np.array([5, 10, 25])).tolist()
[1.0, 0.5, 0.0]
>>> apply({"categorical": {"map": {"BLM": 1, "DOD": 0.8}, "default": 0}},
...       np.array(["DOD", "NPS"], dtype=object)).tolist()
[0.8, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = ["TRANSFORMS", "apply", "validate"]


def _num(x) -> np.ndarray:
    return pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").to_numpy(float)


def _finish(score: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(score, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)


def _linear(x, best: float, worst: float):
    if best == worst:
        raise ValueError(f"linear transform needs best != worst (both {best:g})")
    return _finish((_num(x) - worst) / (best - worst))


def _minmax(x, direction: str = "benefit"):
    v = _num(x)
    finite = v[np.isfinite(v)]
    if not len(finite) or finite.max() == finite.min():
        return _finish(np.where(np.isfinite(v), 1.0, np.nan))
    lo, hi = finite.min(), finite.max()
    return _linear(v, hi, lo) if direction == "benefit" else _linear(v, lo, hi)


def _log(x, best: float | None = None, worst: float | None = None, direction: str = "benefit"):
    v = np.log1p(np.clip(_num(x), 0, None))
    if best is None or worst is None:
        return _minmax(v, direction)
    if best == worst:
        raise ValueError(f"log transform needs best != worst (both {best:g})")
    return _linear(v, np.log1p(best), np.log1p(worst))


def _sigmoid(x, mid: float, scale: float, direction: str = "cost"):
    if scale <= 0:
        raise ValueError("sigmoid scale must be > 0")
    z = (_num(x) - mid) / scale
    s = 1.0 / (1.0 + np.exp(np.clip(z, -50, 50)))
    return _finish(s if direction == "cost" else 1.0 - s)


def _gaussian(x, optimum: float, sd: float):
    if sd <= 0:
        raise ValueError("gaussian sd must be > 0")
    return _finish(np.exp(-0.5 * ((_num(x) - optimum) / sd) ** 2))


def _piecewise(x, points):
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2 or np.any(np.diff(pts[:, 0]) <= 0):
        raise ValueError("piecewise points must be [[x, score], ...] with at least 2 increasing x")
    v = _num(x)
    return _finish(np.where(np.isnan(v), np.nan, np.interp(v, pts[:, 0], pts[:, 1])))


def _step(x, thresholds, scores):
    if len(scores) != len(thresholds) + 1 or np.any(np.diff(thresholds) <= 0):
        raise ValueError("step needs increasing thresholds and one more score than thresholds")
    v = _num(x)
    out = np.asarray(scores, float)[np.searchsorted(np.asarray(thresholds, float), v, side="right")]
    return _finish(np.where(np.isnan(v), np.nan, out))


def _categorical(x, map: Mapping, default: float = 0.0):
    s = pd.Series(np.asarray(x, dtype=object)).astype(object)
    keys = {str(k): float(v) for k, v in map.items()}
    return _finish(s.map(lambda v: keys.get(str(v), default) if pd.notna(v) else np.nan)
                   .to_numpy(float))


TRANSFORMS: dict[str, Callable] = {
    "linear": _linear, "minmax": _minmax, "log": _log, "sigmoid": _sigmoid,
    "gaussian": _gaussian, "piecewise": _piecewise, "step": _step, "categorical": _categorical,
}


def validate(spec) -> dict:
    """Check a transform spec and return it as ``{name: {params}}``.

    Raises
    ------
    ValueError
        Naming the transform and what is wrong (pydantic turns it into a
        scenario error with the key path).

    Examples
    --------
    >>> validate({"linear": {"best": 0, "worst": 1}})
    {'linear': {'best': 0, 'worst': 1}}
    >>> validate({"linear": {"best": 0, "worst": float("nan")}})
    Traceback (most recent call last):
    ...
    ValueError: transform linear: worst holds nan; give finite numbers (a NaN or infinite bound would ...)
    >>> validate({"cubic": {}})
    Traceback (most recent call last):
    ...
    ValueError: unknown transform 'cubic'; use one of linear, minmax, log, sigmoid, ...
    """
    if isinstance(spec, str):
        spec = {spec: {}}
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ValueError("a transform is one mapping such as {linear: {best: 0, worst: 50000}}")
    (name, params), = spec.items()
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; use one of {', '.join(TRANSFORMS)}")
    params = dict(params or {})
    for key, value in params.items():
        if _not_finite(value):
            raise ValueError(f"transform {name}: {key} holds {value!r}; give finite numbers (a NaN or infinite bound "
                             "would score every site 0)")
    try:
        TRANSFORMS[name](np.array([0.0, 1.0], dtype=object) if name == "categorical"
                         else np.array([0.0, 1.0]), **params)
    except TypeError as exc:
        raise ValueError(f"transform {name}: {exc}") from None
    return {name: params}


def _not_finite(value) -> bool:
    """Whether a parameter (a number, or a list or mapping of them) holds a NaN or an infinity."""
    if isinstance(value, Mapping):
        return any(_not_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_not_finite(v) for v in value)
    return isinstance(value, float) and not np.isfinite(value)


def apply(spec, values) -> np.ndarray:
    """Apply a transform spec to raw values; returns scores in [0, 1].

    Parameters
    ----------
    spec : mapping or str
        See the module table.
    values : array-like

    Returns
    -------
    ndarray of float
    """
    (name, params), = validate(spec).items()
    return TRANSFORMS[name](values, **params)
