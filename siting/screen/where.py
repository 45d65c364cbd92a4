"""Safe attribute filters such as ``"voltage_kv >= 115 and status == 'IN SERVICE'"``.

Scenario files come from people and places we do not control, so filters are
never passed to ``eval`` or ``DataFrame.query``. They are parsed with
:mod:`ast` and only comparisons, ``and``/``or``/``not``, field names, numbers,
strings, booleans, ``None`` and lists of those are allowed. Missing values
compare as False (a line of unknown voltage is not ``>= 115``).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"voltage_kv": [69.0, 230.0, None], "status": ["A", "A", "B"]})
>>> evaluate("voltage_kv >= 115", df).tolist()
[False, True, False]
>>> evaluate("status in ['B'] or voltage_kv < 100", df).tolist()
[True, False, True]
>>> evaluate("not status == 'A'", df).tolist()
[False, False, True]
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache

import numpy as np
import pandas as pd

from siting.core.errors import FieldError, ScenarioError

__all__ = ["evaluate", "fields_used", "filter_problems", "validate"]

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_MAX_LEN = 2000


@lru_cache(maxsize=256)
def _parse(expr: str) -> ast.Expression:
    if not isinstance(expr, str) or not expr.strip():
        raise ScenarioError(f"filter {expr!r} is empty; write e.g. \"voltage_kv >= 115\"")
    if len(expr) > _MAX_LEN:
        raise ScenarioError(f"filter is longer than {_MAX_LEN} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ScenarioError(f"filter {expr!r} is not valid: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ScenarioError(
                f"filter {expr!r} uses {type(node).__name__}, which is not allowed; "
                "use comparisons (==, !=, <, <=, >, >=, in, not in) joined by and/or/not"
            )
    return tree


_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.In,
    ast.NotIn,
    *_COMPARE,
)


def validate(expr: str) -> str:
    """Check that ``expr`` is an allowed filter and return it unchanged.

    Parameters
    ----------
    expr : str
        The filter text.

    Returns
    -------
    str

    Raises
    ------
    ScenarioError
        If the text does not parse or uses anything but comparisons.

    Examples
    --------
    >>> validate("agency == 'BLM'")
    "agency == 'BLM'"
    >>> validate("__import__('os')")
    Traceback (most recent call last):
    ...
    siting.core.errors.ScenarioError: filter "__import__('os')" uses Call, which is not allowed; ...
    """
    _parse(expr)
    return expr


def fields_used(expr: str) -> set[str]:
    """Return the field names a filter refers to.

    Examples
    --------
    >>> sorted(fields_used("a > 1 and b in ['x']"))
    ['a', 'b']
    """
    return {n.id for n in ast.walk(_parse(expr)) if isinstance(n, ast.Name)}


def _literal(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e) for e in node.elts]
    return None


def _value(node, df: pd.DataFrame):
    if isinstance(node, ast.Name):
        return df[node.id]
    return _literal(node)


class _UncomparableError(ScenarioError):
    """Values of a field that a filter's comparison cannot compare (text against a number)."""


def _compare(op, left, right) -> np.ndarray:
    if isinstance(op, ast.In | ast.NotIn):
        values = right if isinstance(right, list) else [right]
        hit = pd.Series(left).isin(values).to_numpy(dtype=bool)
        return ~hit if isinstance(op, ast.NotIn) else hit
    left_s = pd.Series(left) if not np.isscalar(left) and left is not None else left
    with np.errstate(invalid="ignore"):
        try:
            res = _COMPARE[type(op)](left_s, right)  # type: ignore[arg-type]
        except TypeError as exc:
            raise _UncomparableError(f"cannot compare values in filter: {exc}") from None
    out = pd.Series(res).fillna(False).to_numpy(dtype=bool, copy=True)
    if isinstance(op, ast.NotEq) and isinstance(left_s, pd.Series):
        out &= left_s.notna().to_numpy()
    return out


def _eval(node, df: pd.DataFrame) -> np.ndarray:
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, df) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return combine.reduce(parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_eval(node.operand, df)
    if isinstance(node, ast.Compare):
        out = np.ones(len(df), dtype=bool)
        left = _value(node.left, df)  # chained comparisons: a < b < c
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _value(comp, df)
            out &= _compare(op, left, right)
            left = right
        return out
    if isinstance(node, ast.Name):
        return df[node.id].fillna(False).astype(bool).to_numpy()
    raise ScenarioError("a filter must be a comparison, e.g. \"voltage_kv >= 115\"")


def evaluate(expr: str, df: pd.DataFrame, *, layer: str | None = None) -> pd.Series:
    """Evaluate a filter on a DataFrame and return a boolean Series on its index.

    Parameters
    ----------
    expr : str
        The filter, e.g. ``"voltage_kv >= 115"``.
    df : DataFrame
        The rows to test.
    layer : str, optional
        Named in the error when a field is missing.

    Returns
    -------
    Series of bool

    Raises
    ------
    FieldError
        When the filter names a field the layer does not have; the message
        lists the available fields.
    """
    tree = _parse(expr)
    missing = sorted(fields_used(expr) - set(df.columns))
    if missing:
        available = ", ".join(str(c) for c in df.columns if c != "geometry")
        raise FieldError(
            f"filter {expr!r} names field(s) {', '.join(missing)} that the layer does not have; "
            f"available fields: {available}",
            layer=layer,
            field=missing[0],
        )
    try:
        return pd.Series(_eval(tree.body, df), index=df.index, dtype=bool)
    except _UncomparableError as exc:  # text compared with a number: say what the fields hold
        held = "; ".join(f"{c} holds {'numbers' if pd.api.types.is_numeric_dtype(df[c]) else 'text'} such as "
                         f"{', '.join(repr(v) for v in df[c].dropna().unique()[:3])}"
                         for c in sorted(fields_used(expr)))
        raise _UncomparableError(f"{f'layer {layer!r}: ' if layer else ''}filter {expr!r}: {exc} ({held}); compare "
                                 "text with quoted values, numbers with numbers") from None


def filter_problems(expr: str, frames, layer: str, who: str, *, require_some: bool = True) -> list[str]:
    """Why ``expr`` cannot judge ``layer`` (its loaded ``frames``): fields it lacks, or nothing selected.

    ``who`` names the rule or factor in the messages. With ``require_some``, a filter that selects
    none of the features is a problem too (a layer filtered to nothing would make a rule or factor
    pass or score without measuring anything).

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["FWS", "BLM"]})
    >>> print(*filter_problems("agency == 'USFWS'", [frame], "parcels", "rule outside_parcels"))
    rule outside_parcels: where "agency == 'USFWS'" selects none of the 2 features of layer parcels (agency: FWS,
    BLM); fix the filter
    >>> print(*filter_problems("agency == 'fws'", [frame], "parcels", "rule outside_parcels"))
    rule outside_parcels: where "agency == 'fws'" selects none of the 2 features of layer parcels (agency: FWS,
    BLM); 'fws' is written 'FWS' there (text is compared exactly); fix the filter
    >>> filter_problems("kv > 1", [frame], "parcels", "factor 'power'")
    ["factor 'power' filters parcels on kv, which layer parcels does not have; fields: agency"]
    """
    wanted, out, usable = fields_used(expr), [], []
    for frame in frames:
        missing = sorted(wanted - set(frame.columns))
        if missing:
            fields = ", ".join(str(c) for c in frame.columns if c != "geometry")
            out.append(f"{who} filters {layer} on {', '.join(missing)}, which layer {layer} does not have; "
                       f"fields: {fields}")
        else:
            usable.append(frame)
    try:
        selected = sum(int(evaluate(expr, f, layer=layer).sum()) for f in usable)
    except _UncomparableError as exc:  # a comparison the data cannot make (text against a number)
        return [*out, f"{who}: {exc}"]
    if require_some and usable and not selected:
        shown = "; ".join(f"{c}: {', '.join(map(str, usable[0][c].dropna().unique()[:8]))}" for c in sorted(wanted))
        out.append(f"{who}: where {expr!r} selects none of the {sum(map(len, usable)):,} features of layer "
                   f"{layer} ({shown}){_case_hint(expr, usable)}; fix the filter")
    return out


def _case_hint(expr: str, frames) -> str:
    """``; 'fws' is written 'FWS' there`` for the text of ``expr`` the layer holds in another case (comparisons
    are exact, as in SQL and pandas), else nothing."""
    texts = {n.value for n in ast.walk(_parse(expr)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    held = {str(v) for f in frames for c in sorted(fields_used(expr)) for v in f[c].dropna().unique()}
    folded = {v.casefold(): v for v in sorted(held)}
    pairs = [f"{t!r} is written {folded[t.casefold()]!r} there" for t in sorted(texts)
             if t not in held and t.casefold() in folded]
    return f"; {', '.join(pairs)} (text is compared exactly)" if pairs else ""
