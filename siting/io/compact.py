"""Text columns whose values repeat, held as categoricals.

A national grid gives every one of its 1.86 M cells its parcel's agency, unit, source and name, and
every rule's text threshold, reason and override note; each value is one of a few thousand. As plain
text (pandas' Arrow-backed ``str``) every row holds its own bytes, and every copy of the frame (the
eligible sites, the scored sites) copies them all; as a categorical a row holds a 1-4 byte code and a
copy copies the codes. The values, comparisons (``==``, ``isin``, ``.str``), sorting and the files written
are the same; only ``dtype`` says ``category``. Two things differ from text: a categorical takes no value
outside its categories, so code that fills or replaces values (``fillna``, ``where``, ``+``) takes the
column as text first (``.astype(object)``); and ``<`` between a column and a string is refused.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"candidate_id": ["a", "b", "c", "d"], "agency": ["BLM", "BLM", "DOD", None],
...                       "acres": [1.0, 2.0, 3.0, 4.0]})
>>> out = repeated_text(frame)
>>> out.dtypes.astype(str).tolist()   # ids are all distinct: kept as text
['str', 'category', 'float64']
>>> out["agency"].tolist() == frame["agency"].tolist(), (out["agency"] == "BLM").sum()
(True, np.int64(2))
"""

from __future__ import annotations

import pandas as pd

__all__ = ["REPEATED_SHARE", "concat", "repeated_text"]

#: A text column becomes a categorical when its distinct values are at most this share of its rows.
REPEATED_SHARE = 0.5
#: Rows of a long column looked at first: none repeated means an id column, left as text without a full pass.
SAMPLE = 20_000


def repeated_text(frame: pd.DataFrame, *, share: float = REPEATED_SHARE) -> pd.DataFrame:
    """A copy of ``frame`` (shallow: other columns are shared) with its repeated text columns as categoricals.

    A column qualifies when all its values are text (or missing) and its distinct values are at most
    ``share`` of its rows (at least one). The categories are sorted, so sorting by the column is
    alphabetical as before. The geometry and columns of other types are untouched.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
    share : float
        Largest share of distinct values.

    Returns
    -------
    DataFrame or GeoDataFrame
        Of the same class as ``frame``; ``frame`` itself is not changed.

    Examples
    --------
    >>> out = repeated_text(pd.DataFrame({"reason": ["passed all 2 rules"] * 3}))
    >>> str(out["reason"].dtype), out["reason"].cat.categories.tolist()
    ('category', ['passed all 2 rules'])
    >>> repeated_text(pd.DataFrame({"a": ["b", "a", "b", "a"]})).sort_values("a")["a"].tolist()
    ['a', 'a', 'b', 'b']
    """
    changed = {}
    limit = max(1, int(share * len(frame)))
    for col in frame.columns:
        values = frame[col]
        if not _is_text(values) or _all_distinct(values):
            continue
        codes, uniques = pd.factorize(values, sort=True)  # sorted: sorting by the column stays alphabetical
        if len(uniques) <= limit:
            changed[col] = pd.Categorical.from_codes(codes, categories=uniques)
    if not changed:
        return frame
    out = frame.copy(deep=False)
    for col, cat in changed.items():
        out[col] = pd.Series(cat, index=frame.index)
    return out


def _all_distinct(values: pd.Series, sample: int = SAMPLE) -> bool:
    """No value repeats among ``sample`` evenly spaced rows of a longer column (ids): then it has far more
    distinct values than half its rows (were there at most half, a sample of 20,000 would hold about
    ``20,000 ** 2 / rows`` repeats), and is not factorised in full."""
    if len(values) <= sample:
        return False
    picked = values.iloc[:: len(values) // sample]
    return bool(picked.nunique(dropna=False) == len(picked))


def _is_text(values: pd.Series) -> bool:
    """All values text or missing (and at least one text)."""
    if isinstance(values.dtype, pd.StringDtype):
        return bool(values.notna().any())
    if values.dtype != object:
        return False
    return pd.api.types.infer_dtype(values, skipna=True) == "string"


def concat(frames: list[pd.DataFrame], **kwargs) -> pd.DataFrame:
    """``pd.concat`` that keeps categoricals: a column categorical in any frame (and text in the others) gets
    the union of their values as its categories in every frame first. Plain ``pd.concat`` turns categoricals
    with different categories into one Python string per row (a national grid's cells: GBs at once).

    Examples
    --------
    >>> a = repeated_text(pd.DataFrame({"agency": ["BLM", "BLM"]}))
    >>> b = pd.DataFrame({"agency": ["DOD", None]})
    >>> out = concat([a, b], ignore_index=True)
    >>> str(out["agency"].dtype), out["agency"].tolist()
    ('category', ['BLM', 'BLM', 'DOD', nan])
    """
    names = dict.fromkeys(c for f in frames for c in f.columns if isinstance(f[c].dtype, pd.CategoricalDtype))
    common = {}
    for col in names:
        found = [_values_of(f[col]) for f in frames if col in f.columns]
        values = [v for v in found if v is not None]
        if len(values) == len(found):  # text in every frame
            union = values[0].append(values[1:]).unique() if len(values) > 1 else values[0]
            common[col] = pd.CategoricalDtype(union.sort_values())
    aligned = []
    for f in frames:
        cols = {c: f[c].astype(dtype) for c, dtype in common.items() if c in f.columns and f[c].dtype != dtype}
        aligned.append(f.assign(**cols) if cols else f)
    return pd.concat(aligned, **kwargs)


def _values_of(values: pd.Series) -> pd.Index | None:
    """The distinct text values of a categorical or text column (None for a column of other values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        return categories.astype(object) if pd.api.types.infer_dtype(categories) in ("string", "empty") else None
    if values.isna().all():
        return pd.Index([], dtype=object)
    return pd.Index(values.dropna().unique(), dtype=object) if _is_text(values) else None
