"""Answers kept for one run and passed along explicitly (:class:`Reuse`).

A run measures the same geometries several times (a rule and a factor on the same layer, every factor
on the sites' anchors); :class:`Reuse` keeps those answers keyed by the objects' identities.

Examples
--------
>>> from shapely import Point
>>> memo = Reuse()
>>> pts = np.array([Point(0, 0), Point(1, 1)])
>>> kept = memo.keep("k", pts, (np.array([1.0, 2.0]),))
>>> memo.recall("k", pts[1:])[0].tolist()
[2.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["MEMO_ENTRIES", "SHARED_KEYS", "Reuse", "ids_of"]

#: Answers kept per key by a :class:`Reuse` (the most recent).
MEMO_ENTRIES = 2
#: Keys of answers about the geometries themselves, whatever the layer asked (``proximity.anchors``,
#: ``geodesy.source_hulls``): every search on the ground from the same sources reads them.
SHARED_KEYS = frozenset({"anchors", "hulls"})


class Reuse:
    """Answers of :func:`anchors` and :func:`nearest` kept for one run, passed along explicitly.

    A run measures the same geometries several times: a site rule and a factor both take the
    distance to substations, every factor needs the sites' anchors. Give the same ``Reuse`` to
    those calls and a later call on the same geometry objects, or on any subset of them (the
    eligible sites among the candidates), takes its rows from the kept answer. The object holds
    the geometries it has seen, so their identities cannot be reused by other objects while it
    lives; drop it (or call :meth:`clear`) when the run ends.

    Examples
    --------
    >>> from shapely import box
    >>> cells = np.array([box(0, 0, 2, 2), box(4, 0, 6, 2)])
    >>> memo = Reuse()
    >>> from siting.geo.proximity import anchors
    >>> a, b = anchors(cells, reuse=memo), anchors(cells[1:], reuse=memo)
    >>> b[0].tolist() == a[0][1:].tolist(), len(memo)
    (True, 1)
    """

    def __init__(self) -> None:
        self._kept: dict = {}

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget every kept answer."""
        self._kept.clear()

    def keys(self) -> set:
        """The keys answers are kept under."""
        return set(self._kept)

    def forget(self, keys) -> None:
        """Forget the answers kept under ``keys`` (a key not kept is ignored).

        Examples
        --------
        >>> from shapely import Point
        >>> memo = Reuse()
        >>> _ = memo.keep("k", np.array([Point(0, 0)]), (np.array([1.0]),))
        >>> memo.keys()
        {'k'}
        >>> memo.forget({"k", "other"}); len(memo)
        0
        """
        for key in keys:
            self._kept.pop(key, None)

    def recall(self, key, geoms: np.ndarray):
        """Rows of a kept answer for ``geoms`` (the same objects or a subset), or None."""
        if not len(geoms):
            return None
        ids = ids_of(geoms)
        for held_ids, order, _held, result in self._kept.get(key, ()):  # _held keeps the objects alive
            pos = np.minimum(np.searchsorted(held_ids, ids, sorter=order), len(order) - 1)
            rows = order[pos]
            if np.array_equal(held_ids[rows], ids):
                return tuple(r[rows] for r in result)
        return None

    def keep(self, key, geoms: np.ndarray, result: tuple, hold=None) -> tuple:
        """Keep ``result`` for ``geoms`` (and the objects ``hold`` named in ``key``); return a copy."""
        if not len(geoms):
            return result
        ids, order = self._ids(geoms)
        held = self._kept.get(key, [])[-(MEMO_ENTRIES - 1):]
        self._kept[key] = [*held, (ids, order, (geoms, hold), result)]
        return tuple(r.copy() for r in result)

    def _ids(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The identities of ``geoms`` and their order, shared by every answer kept for the same array holding
        the same objects (the sites' factors: 16 bytes a site each otherwise)."""
        ids = ids_of(geoms)
        for entries in self._kept.values():
            for held_ids, order, (held, _hold), _result in entries:
                if held is geoms and np.array_equal(held_ids, ids):
                    return held_ids, order
        return ids, np.argsort(ids)


def ids_of(geoms: np.ndarray) -> np.ndarray:
    """Identities (``id``) of the objects of an array: what a :class:`Reuse` key names.

    Examples
    --------
    >>> from shapely import Point
    >>> p = Point(0, 0)
    >>> bool(ids_of(np.array([p, p]))[0] == id(p))
    True
    """
    return np.fromiter(map(id, geoms), np.int64, len(geoms))
