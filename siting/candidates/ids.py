"""Candidate ids from parcel ids: text for every row, never missing, never repeated.

Under pandas 3, ``Series.astype(str)`` keeps a missing value missing, so an id built as
``"P-" + parcels["parcel_id"].astype(str)`` is itself missing where a parcel has no id, and a site
could reach the outputs with no name. :func:`parcel_keys` gives every row a key: its ``parcel_id`` as
text, or ``row-<n>`` (its row in the land frame) where the id is missing, with a warning that says how
many and which; :func:`numbered` makes repeated ids unique.

Examples
--------
>>> import warnings
>>> import pandas as pd
>>> land = pd.DataFrame({"parcel_id": ["a", None, 7]})
>>> with warnings.catch_warnings(record=True) as seen:
...     warnings.simplefilter("always")
...     keys = parcel_keys(land, what="grid candidates")
>>> keys.tolist(), len(seen)
(['a', 'row-1', '7'], 1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.core.errors import warn

__all__ = ["numbered", "parcel_keys"]


def parcel_keys(land: pd.DataFrame, *, what: str) -> np.ndarray:
    """Each row's parcel key as text: ``parcel_id``, or ``row-<n>`` (``n``: the row's position, from 0)
    where it is missing or blank; plain row numbers where the frame has no ``parcel_id``.

    A :class:`~siting.core.errors.SitingWarning` names the rows without an id (``what``: the candidates
    made, for the message). The loader refuses such rows, so this guards frames built by hand.

    Examples
    --------
    >>> parcel_keys(pd.DataFrame({"agency": ["BLM", "DOD"]}), what="sites").tolist()
    ['0', '1']
    """
    if "parcel_id" not in land:
        return np.arange(len(land)).astype(str).astype(object)
    ids = land["parcel_id"].astype(object)
    text = ids.where(ids.isna(), ids.astype(str).str.strip())
    gone = np.flatnonzero((text.isna() | text.eq("")).to_numpy(bool))
    out = text.to_numpy(dtype=object, copy=True)
    if len(gone):
        out[gone] = [f"row-{i}" for i in gone.tolist()]
        shown = ", ".join(str(i) for i in gone[:5].tolist()) + (" ..." if len(gone) > 5 else "")
        warn(f"{what}: {len(gone):,} of {len(land):,} parcel rows have no parcel_id (rows {shown}); "
             "their candidates are named by row (row-<n>): give every parcel an id to keep names stable")
    return out


def numbered(ids: np.ndarray) -> np.ndarray:
    """Ids made unique: the second and later rows of an id get ``.2``, ``.3``... in their order (again
    where that makes an id that was already there).

    Examples
    --------
    >>> numbered(np.array(["a", "b", "a", "a"], dtype=object)).tolist()
    ['a', 'b', 'a.2', 'a.3']
    >>> numbered(np.array(["a", "a.2", "a"], dtype=object)).tolist()
    ['a', 'a.2', 'a.2.2']
    """
    out = np.asarray(ids, dtype=object).copy()
    while True:
        seen = pd.Series(out, dtype=object)
        dup = seen.groupby(seen).cumcount().to_numpy()
        again = np.flatnonzero(dup > 0)
        if not len(again):
            return out
        out[again] = [f"{text}.{k + 1}" for text, k in zip(out[again].tolist(), dup[again].tolist(), strict=True)]
