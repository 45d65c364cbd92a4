"""Which placed footprints are too close, and a greedy maximum independent set to resolve them.

Examples
--------
>>> import numpy as np
>>> from siting.candidates.packing.footprint import Footprint
>>> fp = Footprint.from_acres(247.105)  # 1 km squares
>>> sites = Sites(np.array([0.0, 1500.0, 3000.0]), np.zeros(3), np.zeros(3))
>>> i, j = conflict_pairs(fp, 800.0, sites)  # gaps of 500 m < 800 m
>>> sorted(zip(i.tolist(), j.tolist()))
[(0, 1), (1, 2)]
>>> independent_set(3, i, j, np.ones(3)).tolist()
[True, False, True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from siting.candidates.packing.footprint import Footprint

__all__ = ["Sites", "conflict_pairs", "independent_set"]

TOL = 1e-6


@dataclass
class Sites:
    """Footprint centres in world coordinates, their rotation (radians) and piece."""

    x: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    piece: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.x)

    def take(self, idx) -> Sites:
        """Sites at an index or boolean mask."""
        return Sites(self.x[idx], self.y[idx], self.theta[idx], None if self.piece is None else self.piece[idx])

    @staticmethod
    def concat(parts: list[Sites]) -> Sites:
        """One Sites of several."""
        cat = [np.concatenate([getattr(p, k) for p in parts]) for k in ("x", "y", "theta")]
        pieces = np.concatenate([p.piece for p in parts]).astype(np.int64)
        return Sites(cat[0], cat[1], cat[2], pieces)

    @staticmethod
    def empty() -> Sites:
        """No sites."""
        return Sites(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))

    def xy(self) -> np.ndarray:
        """Centres as an (n, 2) array."""
        return np.column_stack([self.x, self.y])


def too_close(fp: Footprint, spacing: float, a: Sites, i: np.ndarray, b: Sites, j: np.ndarray) -> np.ndarray:
    """Whether footprints ``a[i]`` and ``b[j]`` are closer than ``spacing`` (or overlap, at 0 spacing).

    Circles and equally rotated rectangles are decided analytically; other pairs by polygon distance.
    """
    dx, dy = b.x[j] - a.x[i], b.y[j] - a.y[i]
    if fp.shape == "circle":
        gap = np.hypot(dx, dy) - 2 * fp.r
        return gap < spacing - TOL if spacing > 0 else gap < -TOL
    same = np.isclose(a.theta[i], b.theta[j], atol=1e-12)
    out = np.zeros(len(i), bool)
    t = a.theta[i][same]
    du = np.abs(dx[same] * np.cos(t) + dy[same] * np.sin(t)) - fp.w
    dv = np.abs(-dx[same] * np.sin(t) + dy[same] * np.cos(t)) - fp.h
    if spacing > 0:
        out[same] = np.hypot(np.maximum(du, 0), np.maximum(dv, 0)) < spacing - TOL
    else:
        out[same] = (du < -TOL) & (dv < -TOL)
    other = np.flatnonzero(~same)
    if len(other):
        pa = fp.polygons(a.x[i[other]], a.y[i[other]], a.theta[i[other]])
        pb = fp.polygons(b.x[j[other]], b.y[j[other]], b.theta[j[other]])
        if spacing > 0:
            out[other] = shapely.distance(pa, pb) < spacing - TOL
        else:
            out[other] = shapely.intersects(pa, pb) & ~shapely.touches(pa, pb)
    return out


def conflict_pairs(fp: Footprint, spacing: float, sites: Sites, *, skip_same_piece: bool = False):
    """Pairs ``(i, j)``, ``i < j``, of sites that are too close to each other."""
    pairs = cKDTree(sites.xy()).query_pairs(2 * fp.r + spacing, output_type="ndarray")
    if not len(pairs):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    if skip_same_piece and sites.piece is not None:  # one lattice on one piece is spaced by construction
        other = sites.piece[i] != sites.piece[j]
        i, j = i[other], j[other]
    close = too_close(fp, spacing, sites, i, sites, j)
    return i[close], j[close]


def cross_pairs(fp: Footprint, spacing: float, new: Sites, placed: Sites):
    """Pairs ``(i, j)`` of ``new[i]`` too close to ``placed[j]``."""
    if not len(new) or not len(placed):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = cKDTree(new.xy()).sparse_distance_matrix(cKDTree(placed.xy()), 2 * fp.r + spacing, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    close = too_close(fp, spacing, new, i, placed, j)
    return i[close], j[close]


def cross_conflicts(fp: Footprint, spacing: float, new: Sites, placed: Sites) -> np.ndarray:
    """Boolean mask of ``new`` sites too close to any ``placed`` site."""
    bad = np.zeros(len(new), bool)
    if not len(new) or not len(placed):
        return bad
    tree_new, tree_placed = cKDTree(new.xy()), cKDTree(placed.xy())
    if fp.shape == "circle":  # centre distance decides
        d, _ = tree_placed.query(new.xy(), distance_upper_bound=2 * fp.r + spacing - TOL)
        return np.isfinite(d)
    sure, _ = tree_placed.query(new.xy(), distance_upper_bound=2 * fp.inner + spacing - TOL)
    bad |= np.isfinite(sure)  # inscribed disks already too close
    pairs = tree_new.sparse_distance_matrix(tree_placed, 2 * fp.r + spacing, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    keep = ~bad[i]
    i, j = i[keep], j[keep]
    bad[i[too_close(fp, spacing, new, i, placed, j)]] = True
    return bad


def independent_set(n: int, i: np.ndarray, j: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Greedy maximal independent set in vectorized rounds: a node joins when it beats all live neighbours.

    Higher ``priority`` wins; ties go to the lower index. Deterministic.
    """
    chosen = np.zeros(n, bool)
    live = np.ones(n, bool)
    order = np.lexsort((-np.arange(n), np.asarray(priority, float)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    while live.any():
        m = live[i] & live[j]
        nb_best = np.full(n, -1)
        np.maximum.at(nb_best, i[m], rank[j[m]])
        np.maximum.at(nb_best, j[m], rank[i[m]])
        win = live & (rank > nb_best)
        chosen |= win
        lose = np.zeros(n, bool)
        lose[j[win[i]]] = True
        lose[i[win[j]]] = True
        live &= ~win & ~lose
    return chosen
