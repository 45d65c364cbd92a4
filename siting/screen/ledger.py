"""The long-form ledger: one row per candidate and rule, made when it is first read.

A national grid's long ledger has millions of rows (1.86 M cells x 4 rules) and holds again what the
candidates' ``<rule>__value``, ``<rule>__threshold`` and ``<rule>__pass`` columns hold: made at once it
was 470 MiB of a 1x run, held through the factors, scoring and the save, while most runs never read it
(and one that large is not written: :func:`siting.deliver.outputs.gpkg_layers`). A :class:`LongLedger`
keeps what it is made of (each rule's measured values and decisions and the candidates' ids: tens of MB)
and makes the frame when first asked, then keeps it. The frame is the same whenever it is made.

Examples
--------
>>> import numpy as np
>>> from siting.screen.rule_base import Outcome
>>> oc = Outcome(value=np.array([12.0, 3.0]), passed=np.array([True, False]), op=">=", threshold=5.0,
...              measure="area (acres)")
>>> led = from_outcomes(np.array(["a", "b"], dtype=object), ["min_area"], [oc])
>>> len(led), led.built      # known before it is made
(2, False)
>>> led.frame[["candidate_id", "rule", "value", "passed"]].values.tolist()
[['a', 'min_area', 12.0, True], ['b', 'min_area', 3.0, False]]
>>> led.applies
{'min_area': (2, True)}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from siting.core.errors import SitingError
from siting.io.compact import concat, repeated_text

__all__ = ["COLUMNS", "LongLedger", "compact_ledger", "from_outcomes", "from_wide", "joined", "staged"]

#: The long ledger's columns, in order.
COLUMNS = ["candidate_id", "rule", "measure", "value", "op", "threshold", "passed", "override", "applies"]
#: Long-ledger columns kept as categoricals (see :func:`compact_ledger`).
LEDGER_CATEGORIES = ["rule", "measure", "op"]


class LongLedger:
    """The long-form ledger of a screening, made on first read (:attr:`frame`).

    Parameters
    ----------
    build : callable
        Makes the frame (called once).
    rows : int
        How many rows it makes (checked when it is made).
    applies : dict
        Per rule label: (candidates judged, whether the rule applies to any of them).

    Examples
    --------
    >>> led = LongLedger.of(pd.DataFrame({"candidate_id": ["a"], "rule": ["r"], "applies": [True]}))
    >>> len(led), led.built, led.applies
    (1, True, {'r': (1, True)})
    """

    def __init__(self, build: Callable[[], pd.DataFrame], rows: int, applies: dict[str, tuple[int, bool]],
                 select: Callable[[str], pd.DataFrame] | None = None):
        self._build: Callable[[], pd.DataFrame] | None = build
        self._select = select
        self._frame: pd.DataFrame | None = None
        self.rows, self.applies = int(rows), applies

    @classmethod
    def of(cls, frame: pd.DataFrame) -> LongLedger:
        """A ledger already made (read back from a saved run, for one)."""
        led = cls(lambda: frame, len(frame), _applies_of(frame))
        led._frame, led._build = frame, None
        return led

    def __len__(self) -> int:
        return self.rows

    @property
    def built(self) -> bool:
        """Whether the frame has been made."""
        return self._frame is not None

    @property
    def frame(self) -> pd.DataFrame:
        """The ledger (made now if it was not yet, then kept)."""
        if self._frame is None:
            assert self._build is not None
            frame = self._build()
            if len(frame) != self.rows:
                raise SitingError(f"the long ledger made {len(frame):,} rows where {self.rows:,} were counted "
                                  "(a bug in siting: please report it with the scenario)")
            self._frame, self._build, self._select = frame, None, None  # what it was made of goes
        return self._frame

    def rows_of(self, candidate_id) -> pd.DataFrame:
        """One candidate's rows, in the frame's order, without making the frame (a national ledger has
        millions of rows; :meth:`siting.core.result.SitingResult.explain` needs a handful).

        Examples
        --------
        >>> from siting.screen.rule_base import Outcome
        >>> oc = Outcome(value=np.array([12.0, 3.0]), passed=np.array([True, False]), op=">=", threshold=5.0,
        ...              measure="area (acres)")
        >>> led = from_outcomes(np.array(["a", "b"], dtype=object), ["min_area"], [oc])
        >>> led.rows_of("b")[["candidate_id", "value", "passed"]].values.tolist(), led.built
        ([['b', 3.0, False]], False)
        """
        return self._select(candidate_id) if self._select is not None else _rows_of(self.frame, candidate_id)


@dataclass(frozen=True)
class _Entries:
    """One rule's entries for every candidate (what an :class:`~siting.screen.rule_base.Outcome` holds for
    the ledger, without the cut geometries)."""

    label: str
    measure: str
    op: str
    threshold: Any
    value: np.ndarray
    passed: np.ndarray
    override: np.ndarray | None
    applies: np.ndarray | None


def from_outcomes(ids, labels: Sequence[str], outcomes: Sequence) -> LongLedger:
    """The ledger of one screening: ``ids`` (candidate ids in order), each rule's label and outcome.

    Examples
    --------
    >>> from siting.screen.rule_base import Outcome
    >>> oc = Outcome(value=np.array(["BLM"], dtype=object), passed=np.array([True]), op="in", threshold="BLM",
    ...              measure="managing agency")
    >>> from_outcomes(["P-1"], ["agency_in"], [oc]).frame.columns.tolist() == COLUMNS
    True
    """
    ids = _held(ids)
    entries = [_Entries(label, oc.measure, oc.op, oc.threshold, _copy(oc.value), _copy(oc.passed).astype(bool),
                        _copy(oc.override), _copy(oc.applies)) for label, oc in zip(labels, outcomes, strict=True)]
    applies = {e.label: (len(ids), bool(len(ids)) and (e.applies is None or bool(np.any(e.applies))))
               for e in entries}
    return LongLedger(partial(_long, ids, entries), len(ids) * len(entries), applies,
                      select=partial(_long_of, ids, entries))


def from_wide(candidates: pd.DataFrame, rules: pd.DataFrame) -> LongLedger:
    """The ledger of a saved run that did not write its long form (more than ``outputs.gpkg_max_rows`` rows),
    from the candidates' ``<rule>__value``, ``<rule>__threshold`` and ``<rule>__pass`` columns and the run's
    rule table (``rule``, ``measure``, ``op``, in order): one row per candidate a rule judged (its pass not NA).

    Where a pass was forced (``<rule>__forced``) ``override`` holds the candidate's ``overrides`` note (every
    override that decided for it), and a forced pass with no note did not apply (``applies`` False).

    Examples
    --------
    >>> cands = pd.DataFrame({"candidate_id": ["a", "b"], "min_area__value": [12.0, 3.0],
    ...                       "min_area__threshold": 5.0, "min_area__pass": [True, False]})
    >>> rules = pd.DataFrame({"rule": ["min_area"], "measure": ["area (acres)"], "op": [">="]})
    >>> led = from_wide(cands, rules)
    >>> len(led), led.rows_of("b")[["rule", "value", "passed"]].values.tolist()
    (2, [['min_area', 3.0, False]])
    """
    table = rules[rules["rule"].isin({c.removesuffix("__pass") for c in candidates.columns})]
    judged = {r.rule: candidates[f"{r.rule}__pass"].notna().to_numpy(bool) for r in table.itertuples()}
    applies = {label: (int(j.sum()), bool(j.any())) for label, j in judged.items()}
    return LongLedger(partial(_wide_rows, candidates, table), sum(int(j.sum()) for j in judged.values()), applies,
                      select=partial(_wide_of, candidates, table))


def _wide_of(candidates: pd.DataFrame, rules: pd.DataFrame, candidate_id) -> pd.DataFrame:
    """:func:`_wide_rows` of one candidate id."""
    return _wide_rows(_rows_of(candidates, candidate_id), rules)


def _wide_rows(candidates: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """:func:`from_wide`'s rows of ``candidates``, rule by rule."""
    notes = candidates["overrides"].astype(object).fillna("").to_numpy(object) if "overrides" in candidates \
        else np.full(len(candidates), "", dtype=object)
    frames = []
    for r in rules.itertuples():
        value, threshold, passed = (candidates[c] for c in (f"{r.rule}__value", f"{r.rule}__threshold",
                                                            f"{r.rule}__pass"))
        at = passed.notna().to_numpy(bool)
        forced = candidates.get(f"{r.rule}__forced", pd.Series(False, index=candidates.index))
        forced = forced.astype("boolean").fillna(False).to_numpy(bool)[at]
        override = np.where(forced, notes[at], "")
        frames.append(pd.DataFrame({
            "candidate_id": candidates["candidate_id"].to_numpy(object)[at], "rule": r.rule, "measure": r.measure,
            "value": value.to_numpy(object)[at], "op": r.op, "threshold": threshold.to_numpy(object)[at],
            "passed": passed.to_numpy(object)[at].astype(bool), "override": override,
            "applies": ~(forced & (override == ""))}))
    return compact_ledger(concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS))


def _held(values):
    """A column's values as the ledger holds them: a copy (not a view that keeps the candidates' frame alive)
    of its own array (Arrow text, categorical codes) or of its object pointers, never turned into new Python
    strings (a national grid's 1.86 M ids: 130 MB)."""
    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return values.array.copy()
    return np.array(values, dtype=object)


def _copy(values):
    """A copy of an outcome's array (None stays None): what the ledger is made of later cannot change."""
    return None if values is None else np.array(values, copy=True)


def _long(ids: np.ndarray, entries: list[_Entries]) -> pd.DataFrame:
    if not entries:
        return pd.DataFrame(columns=COLUMNS)
    n = len(ids)
    return compact_ledger(pd.DataFrame({
        "candidate_id": _tiled(ids, len(entries)),
        "rule": np.repeat([e.label for e in entries], n),
        "measure": np.repeat([e.measure for e in entries], n),
        "value": np.concatenate([np.asarray(e.value, dtype=object) for e in entries]),
        "op": np.repeat([e.op for e in entries], n),
        "threshold": np.repeat(np.array([e.threshold for e in entries], dtype=object), n),
        "passed": np.concatenate([e.passed for e in entries]),
        "override": np.concatenate([e.override if e.override is not None else np.full(n, "", dtype=object)
                                    for e in entries]),
        "applies": np.concatenate([e.applies if e.applies is not None else np.ones(n, bool) for e in entries]),
    }))


def _long_of(ids, entries: list[_Entries], candidate_id) -> pd.DataFrame:
    """:func:`_long` of the rows of one candidate id."""
    at = np.flatnonzero(np.asarray(ids == candidate_id, dtype=bool))
    some = [_Entries(e.label, e.measure, e.op, e.threshold, e.value[at], e.passed[at],
                     None if e.override is None else e.override[at], None if e.applies is None else e.applies[at])
            for e in entries]
    return _long(ids[at], some)


def _tiled(ids: np.ndarray, times: int) -> pd.Categorical:
    """``ids`` repeated ``times`` as a categorical: codes tiled, each id's text held once (a national grid's
    1.86 M ids as Python strings, tiled per rule, were half a GB)."""
    codes, uniques = pd.factorize(ids, sort=True)
    return pd.Categorical.from_codes(np.tile(codes, times), categories=uniques)


def joined(parts: Sequence[LongLedger], order: Sequence[str]) -> LongLedger:
    """The ledgers of consecutive partitions as one, rule by rule in ``order`` (as one screening orders it).

    Examples
    --------
    >>> a = LongLedger.of(pd.DataFrame({"candidate_id": ["a", "a"], "rule": ["r1", "r2"], "applies": True}))
    >>> b = LongLedger.of(pd.DataFrame({"candidate_id": ["b", "b"], "rule": ["r1", "r2"], "applies": True}))
    >>> joined([a, b], ["r1", "r2"]).frame["candidate_id"].tolist()
    ['a', 'b', 'a', 'b']
    """
    applies: dict[str, tuple[int, bool]] = {}
    for part in parts:
        for label, (n, any_) in part.applies.items():
            had = applies.get(label, (0, False))
            applies[label] = (had[0] + n, had[1] or any_)
    return LongLedger(partial(_joined, list(parts), list(order)), sum(len(p) for p in parts), applies,
                      select=partial(_joined_of, list(parts), list(order)))


def _joined(parts: list[LongLedger], order: list[str]) -> pd.DataFrame:
    return _in_order([p.frame for p in parts], order)


def _joined_of(parts: list[LongLedger], order: list[str], candidate_id) -> pd.DataFrame:
    """:func:`_joined` of the rows of one candidate id."""
    return _in_order([p.rows_of(candidate_id) for p in parts], order)


def _in_order(frames: list[pd.DataFrame], order: Sequence[str]) -> pd.DataFrame:
    """The frames as one ledger, rule by rule in ``order`` (stable within a rule)."""
    ledger = compact_ledger(concat(frames, ignore_index=True))
    if len(ledger):
        rank = {label: k for k, label in enumerate(order)}
        ledger = ledger.iloc[np.argsort(ledger["rule"].map(rank).to_numpy(), kind="stable")].reset_index(drop=True)
    return ledger


def staged(land: LongLedger, site: LongLedger, rejected_units, made: pd.DataFrame) -> LongLedger:
    """The ledger of a staged screening: the rejected land units' rows, each generated candidate's rows
    inherited from its land unit (``made``: ``candidate_id`` and ``unit_id``), then the site rows.

    Examples
    --------
    >>> land = LongLedger.of(pd.DataFrame({"candidate_id": ["P-1", "P-2"], "rule": "agency_in",
    ...                                    "passed": [True, False], "applies": True}))
    >>> site = LongLedger.of(pd.DataFrame({"candidate_id": ["c1", "c2"], "rule": "min_area",
    ...                                    "passed": [True, True], "applies": True}))
    >>> made = pd.DataFrame({"candidate_id": ["c1", "c2"], "unit_id": ["P-1", "P-1"]})
    >>> led = staged(land, site, ["P-2"], made)
    >>> len(led), led.frame["candidate_id"].tolist()
    (5, ['P-2', 'c1', 'c2', 'c1', 'c2'])
    """
    frame = land.frame  # the land units' (small): made now
    out = frame["candidate_id"].isin(set(rejected_units)).to_numpy()
    rejected, passed = frame[out], frame[~out]
    made = pd.DataFrame({c: _held(made[c]) for c in ("candidate_id", "unit_id")})  # two columns
    per_unit = passed["candidate_id"].value_counts()
    inherited_rows = int(pd.Series(made["unit_id"].to_numpy(dtype=object)).map(per_unit).fillna(0).sum())
    return LongLedger(partial(_staged, rejected, passed, site, made), len(rejected) + inherited_rows + len(site),
                      {**land.applies, **site.applies}, select=partial(_staged_of, rejected, passed, site, made))


def _staged(rejected: pd.DataFrame, passed: pd.DataFrame, site, made: pd.DataFrame) -> pd.DataFrame:
    """``site``: the site stage's :class:`LongLedger`, or already its rows."""
    inherited = made.merge(passed.rename(columns={"candidate_id": "unit_id"}), on="unit_id").drop(columns="unit_id")
    site_rows = site.frame if isinstance(site, LongLedger) else site
    return compact_ledger(concat([rejected, inherited, site_rows], ignore_index=True))


def _staged_of(rejected: pd.DataFrame, passed: pd.DataFrame, site: LongLedger, made: pd.DataFrame,
               candidate_id) -> pd.DataFrame:
    """:func:`_staged` of the rows of one candidate id."""
    return _staged(_rows_of(rejected, candidate_id), passed, site.rows_of(candidate_id), _rows_of(made, candidate_id))


def _rows_of(frame: pd.DataFrame, candidate_id) -> pd.DataFrame:
    """The rows of ``frame`` whose ``candidate_id`` is ``candidate_id``."""
    return frame[(frame["candidate_id"] == candidate_id).to_numpy(bool)]


def compact_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    """The long ledger with its few-valued text columns (rule, measure, op, and any text column whose values
    repeat: :func:`siting.io.compact.repeated_text`) as categoricals.

    A national ledger has millions of rows (candidates x rules); categoricals keep the same values
    in a fraction of the memory. Concatenating ledgers of different rules gives plain text again:
    compact the result.

    Examples
    --------
    >>> led = pd.DataFrame({"rule": ["a", "a", "b"], "measure": "m", "op": "<=", "value": [1, 2, 3]})
    >>> compact_ledger(led).dtypes.astype(str).tolist()
    ['category', 'category', 'category', 'int64']
    """
    return repeated_text(ledger.astype({c: "category" for c in LEDGER_CATEGORIES if c in ledger}))


def _applies_of(frame: pd.DataFrame) -> dict[str, tuple[int, bool]]:
    """Per rule: rows and whether any applies, from a made ledger."""
    if not len(frame) or "rule" not in frame:
        return {}
    applies = frame["applies"].astype(bool) if "applies" in frame else pd.Series(True, index=frame.index)
    grouped = applies.groupby(frame["rule"].astype(object), sort=False)
    return {str(k): (int(n), bool(a)) for k, n, a in zip(grouped.size().index, grouped.size(), grouped.any(),
                                                          strict=True)}
