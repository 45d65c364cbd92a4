"""Greedy packing: the best lattice per piece of land, conflicts resolved, gaps filled.

1. For each rotation and offset, sites are laid out over the land; each piece keeps the layout
   that places the most sites (or the most score) on it. Rectangles are laid out in rows one
   height plus spacing apart, each row packed optimally along its length; circles on a hexagonal
   lattice. Sites of one layout on one piece are spaced by construction.
2. Sites of neighbouring pieces on different lattices that are too close are thinned by a greedy
   independent set.
3. Local improvement: finer lattices in each piece's orientation fill the gaps left near edges,
   only in the band along the boundary where gaps can be.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.candidates.packing.footprint import Footprint
>>> from siting.candidates.packing.lattice import make_pieces
>>> fp = Footprint.from_acres(247.105)
>>> pieces = make_pieces(gpd.GeoDataFrame(geometry=[box(0, 0, 5000, 5000)], crs=5070), 0.0)
>>> len(greedy(pieces, fp, 0.0, trials(rotations=(0, 45), offsets=2, seed=0)))
25
"""

from __future__ import annotations

import logging
import math

import numpy as np

from siting.candidates.packing.conflicts import (
    Sites,
    conflict_pairs,
    cross_conflicts,
    cross_pairs,
    independent_set,
    too_close,
)
from siting.candidates.packing.footprint import Footprint
from siting.candidates.packing.lattice import LatticeFrame, Pieces, to_world
from siting.core.progress import iterate
from siting.geo.parallel import each

log = logging.getLogger(__name__)

__all__ = ["greedy", "trials"]

#: Finer lattices used by the gap filling: (step as a fraction of the pitch, offset in steps).
FILL_STEPS = ((1 / 2, (0.25, 0.25)), (1 / 3, (0.5, 0.5)), (1 / 4, (0.125, 0.625)))


def trials(rotations, offsets: int, seed: int) -> list[tuple[float, object]]:
    """(theta radians, lattice offset) pairs for each rotation.

    The offsets are the lattices aligned with each piece's low and high corners, then
    ``offsets - 2`` seeded random global shifts.
    """
    rng = np.random.default_rng(seed)
    offs: list = ["low", "high"][:max(offsets, 1)]
    offs += [tuple(float(v) for v in rng.random(2)) for _ in range(offsets - len(offs))]
    return [(math.radians(r), o) for r in rotations for o in offs]


def score_at(score, x, y) -> np.ndarray:
    """Score at world points: 1 without a surface; a Raster is sampled, a callable called."""
    if score is None:
        return np.ones(len(x))
    if callable(score):
        return np.asarray(score(x, y), float)
    return np.nan_to_num(score.sample(x, y), nan=0.0)


def greedy(pieces: Pieces, fp: Footprint, spacing: float, tries, score=None, improve: bool = True,
           show_progress: bool | None = None) -> Sites:
    """Greedy packing of ``pieces``; see the module docstring."""
    thetas = list(dict.fromkeys(theta for theta, _ in tries))  # each rotation's centre regions, on the threads
    frames = dict(zip(thetas, each(lambda theta: LatticeFrame.build(pieces, fp, theta, spacing), thetas), strict=True))
    best_val = np.full(len(pieces), -1.0)
    chosen: list[Sites] = []
    for theta, offset in iterate(tries, "lattices", show_progress):
        frame = frames[theta]
        sites = _sites(frame, *(frame.points(offset) if fp.shape == "circle" else frame.rows(offset)))
        val = np.bincount(np.asarray(sites.piece), weights=score_at(score, sites.x, sites.y), minlength=len(pieces))
        better = val > best_val + 1e-9
        best_val = np.where(better, val, best_val)
        chosen = [s.take(~better[s.piece]) for s in chosen] + [sites.take(better[sites.piece])]
    placed = Sites.concat(chosen) if chosen else Sites.empty()
    i, j = conflict_pairs(fp, spacing, placed, skip_same_piece=True)
    if len(i):
        placed = placed.take(independent_set(len(placed), i, j, score_at(score, placed.x, placed.y)))
    return fill(pieces, fp, spacing, placed, score, frames) if improve and len(placed) else placed


def _sites(frame: LatticeFrame, u, v, piece) -> Sites:
    x, y = to_world(u, v, frame.theta)
    return Sites(x, y, np.full(len(x), frame.theta), piece)


def fill(pieces: Pieces, fp: Footprint, spacing: float, placed: Sites, score,
         frames: dict[float, LatticeFrame], steps=FILL_STEPS) -> Sites:
    """Add sites from finer lattices, in each piece's orientation, where they fit and conflict with none.

    Only the rim of each centre region (1.5 pitches wide) is searched: the interior is already
    packed by the layout. ``frames`` holds the layout's frames by rotation (their centre regions
    are reused). Ends with the 1-for-2 :func:`swap` local search over all the fill candidates.
    """
    theta = np.full(len(pieces), next(iter(frames)))
    theta[placed.piece] = placed.theta
    rim = 1.5 * max(fp.pitch(spacing))
    rims = []
    for th in np.unique(theta):
        ids = np.flatnonzero(theta == th)
        sub = Pieces(pieces.geoms[ids], pieces.row[ids])
        rims.append((ids, LatticeFrame.build(sub, fp, float(th), spacing, rim, frames[th].centres[ids])))
    pool = []
    for step, offset in steps:
        found = []
        for ids, frame in rims:
            sites = _sites(frame, *frame.points(offset, step))
            sites.piece = ids[sites.piece]
            found.append(sites)
        pool.append(Sites.concat(found))
        placed = _add_free(fp, spacing, placed, pool[-1], score)
    return swap(fp, spacing, placed, Sites.concat(pool), score)


def swap(fp: Footprint, spacing: float, placed: Sites, pool: Sites, score, rounds: int = 5) -> Sites:
    """Local search: replace one placed site by two candidates that conflict with nothing else.

    Each round finds, for every placed site, two mutually compatible candidates whose only conflict
    is that site; non-interfering swaps are applied together. Repeats until no swap is found.
    """
    weight = (lambda s: score_at(score, s.x, s.y)) if score is not None else (lambda s: np.ones(len(s)))
    for _ in range(rounds):
        found = _find_swaps(fp, spacing, placed, pool, weight)
        if found is None:
            break
        owners, first, second = found
        new = Sites.concat([pool.take(first), pool.take(second)])
        i, j = conflict_pairs(fp, spacing, new)  # swaps whose new sites clash cannot both happen
        k = len(first)
        ok = independent_set(k, i % k, j % k, -np.arange(k)) if len(i) else np.ones(k, bool)
        keep = np.ones(len(placed), bool)
        keep[owners[ok]] = False
        placed = Sites.concat([placed.take(keep), pool.take(first[ok]), pool.take(second[ok])])
        log.debug("swap round: %d sites replaced by two", int(ok.sum()))
    return placed


def _find_swaps(fp, spacing, placed: Sites, pool: Sites, weight):
    """(owner, first, second) arrays of improving 1-for-2 swaps, or None."""
    i, j = cross_pairs(fp, spacing, pool, placed)
    count = np.bincount(i, minlength=len(pool))
    single = count[i] == 1
    cand, owner = i[single], j[single]  # candidates whose only conflict is ``owner``
    if not len(cand):
        return None
    order = np.argsort(owner, kind="stable")
    cand, owner = cand[order], owner[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    size = np.diff(np.r_[starts, len(owner)])
    a, b = _pairs_within(starts, size)
    compatible = ~too_close(fp, spacing, pool, cand[a], pool, cand[b])
    gain = weight(pool.take(cand[a])) + weight(pool.take(cand[b])) - weight(placed.take(owner[a]))
    good = compatible & (gain > 1e-9)
    if not good.any():
        return None
    a, b = a[good], b[good]
    first_per_owner = np.flatnonzero(np.r_[True, owner[a][1:] != owner[a][:-1]])
    a, b = a[first_per_owner], b[first_per_owner]
    return owner[a], cand[a], cand[b]


def _pairs_within(starts: np.ndarray, size: np.ndarray):
    """All index pairs (a, b), a < b, inside each group ``[start, start + size)``."""
    size = np.minimum(size, 64)  # enough candidates per site to find a pair; bounds the work
    n_pairs = size * (size - 1) // 2
    group = np.repeat(np.arange(len(size)), n_pairs)
    k = np.arange(n_pairs.sum()) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    # invert k = a * (2s - a - 1) / 2 + (b - a - 1) per group with a quadratic formula
    s = size[group].astype(float)
    a = np.floor(((2 * s - 1) - np.sqrt((2 * s - 1) ** 2 - 8 * k)) / 2).astype(np.int64)
    b = k - a * (2 * size[group] - a - 1) // 2 + a + 1
    return starts[group] + a, starts[group] + b


def _add_free(fp: Footprint, spacing: float, placed: Sites, cand: Sites, score) -> Sites:
    """Add a greedy independent set of the candidates that conflict with no placed site."""
    cand = cand.take(~cross_conflicts(fp, spacing, cand, placed))
    if not len(cand):
        return placed
    i, j = conflict_pairs(fp, spacing, cand)
    degree = np.bincount(np.concatenate([i, j]), minlength=len(cand))
    prio = -degree if score is None else score_at(score, cand.x, cand.y) * 1e6 - degree  # few conflicts first
    return Sites.concat([placed, cand.take(independent_set(len(cand), i, j, prio))])
