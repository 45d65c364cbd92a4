"""Exact packing for small areas: maximum independent set over candidate positions, solved by HiGHS.

The candidates are a fine lattice (a third of the pitch, aligned with each piece's low corner) in
one orientation plus the greedy placement, so the optimum is never below the greedy result and the
greedy gap is measured against a strictly larger search space. Each conflicting pair gets a row
``x_i + x_j <= 1``; for rectangles, every window of the lattice frame the size of one site plus
spacing gets a clique row (all positions in it pairwise conflict), which tightens the LP relaxation.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.candidates.packing.footprint import Footprint
>>> from siting.candidates.packing.lattice import make_pieces
>>> from siting.candidates.packing.conflicts import Sites
>>> fp = Footprint.from_acres(247.105)
>>> pieces = make_pieces(gpd.GeoDataFrame(geometry=[box(0, 0, 3000, 3000)], crs=5070), 0.0)
>>> sites, report = solve(pieces, fp, 0.0, 0.0, Sites.empty(), time_limit=10)
>>> len(sites), report["status"]
(9, 'Optimal')
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager

import numpy as np
from scipy.spatial import cKDTree

from siting.candidates.packing.conflicts import Sites, conflict_pairs
from siting.candidates.packing.footprint import Footprint
from siting.candidates.packing.greedy import score_at
from siting.candidates.packing.lattice import LatticeFrame, Pieces, to_lattice, to_world
from siting.core.errors import MissingDependencyError, ScenarioError

__all__ = ["MAX_POSITIONS", "solve"]

#: Largest number of candidate positions the exact method accepts.
MAX_POSITIONS = 20_000


def solve(pieces: Pieces, fp: Footprint, spacing: float, theta: float, start: Sites, *, score=None,
          time_limit: float = 60.0, refine: int = 3):
    """Maximum (score-weighted) packing over a fine lattice plus the ``start`` sites.

    Returns
    -------
    (Sites, dict)
        The optimal sites and the solver report: ``status``, ``objective``, ``mip_gap``,
        ``positions``, ``conflicts``.
    """
    highspy = _highspy()
    frame = LatticeFrame.build(pieces, fp, theta, spacing)
    u, v, piece = frame.points("low", 1.0 / refine)
    x, y = to_world(u, v, theta)
    lattice = Sites(x, y, np.full(len(x), theta), piece)
    cand = Sites.concat([lattice, start])
    n = len(cand)
    if n > MAX_POSITIONS:
        raise ScenarioError(f"the exact method is for small areas: {n:,} candidate positions "
                            f"(limit {MAX_POSITIONS:,}); use method='greedy' or a coarser footprint")
    i, j = conflict_pairs(fp, spacing, cand)
    with _c_stdout_silenced():  # highspy prints a banner on construction (ERGO-Code/HiGHS#2749)
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    weights = score_at(score, cand.x, cand.y)
    h.addVars(n, np.zeros(n), np.ones(n))
    idx = np.arange(n, dtype=np.int32)
    h.changeColsCost(n, idx, -weights)
    h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kInteger))
    _add_rows(h, highspy, np.column_stack([i, j]), _cliques(fp, spacing, lattice, theta))
    if len(start):  # the greedy placement is a feasible start
        sol = highspy.HighsSolution()
        sol.col_value = [0.0] * len(lattice) + [1.0] * len(start)
        h.setSolution(sol)
    h.run()
    chosen = np.asarray(h.getSolution().col_value) > 0.5
    info = h.getInfo()
    return cand.take(chosen), {"status": h.modelStatusToString(h.getModelStatus()),
                               "objective": float(-info.objective_function_value),
                               "mip_gap": float(info.mip_gap), "positions": n, "conflicts": len(i)}


@contextmanager
def _c_stdout_silenced():
    """Send the process's C-level stdout to /dev/null for the duration (Python's sys.stdout is untouched)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no file descriptor 1 (embedded interpreters)
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _highspy():
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency of the exact extra
        raise MissingDependencyError("method='exact' needs highspy: pip install 'siting[exact]'") from exc
    return highspy


def _add_rows(h, highspy, pairs: np.ndarray, cliques: list[np.ndarray]) -> None:
    """Add ``sum(x[members]) <= 1`` for every conflicting pair and clique, in one CSR call."""
    lengths = np.concatenate([np.full(len(pairs), 2), [len(c) for c in cliques]]).astype(np.int64)
    if not len(lengths):
        return
    flat = np.concatenate([pairs.ravel(), *cliques]).astype(np.int32)
    starts = (np.cumsum(lengths) - lengths).astype(np.int32)
    count = len(lengths)
    h.addRows(count, np.full(count, -highspy.kHighsInf), np.ones(count), len(flat), starts, flat, np.ones(len(flat)))


def _cliques(fp: Footprint, spacing: float, sites: Sites, theta: float) -> list[np.ndarray]:
    """Positions that pairwise conflict: those in a (w + d) x h or w x (h + d) window of the lattice frame."""
    if fp.shape == "circle" or not len(sites):
        return []
    u, v = to_lattice(sites.x, sites.y, theta)
    tree = cKDTree(np.column_stack([u, v]))
    out = []
    for wx, wy in ((fp.w + spacing, fp.h), (fp.w, fp.h + spacing)):
        centres = np.column_stack([u + wx / 2, v + wy / 2])
        for a, members in enumerate(tree.query_ball_point(centres, math.hypot(wx, wy) / 2 + 1e-6)):
            m = np.asarray(members)
            du, dv = u[m] - u[a], v[m] - v[a]
            inside = m[(du > -1e-6) & (du < wx - 1e-6) & (dv > -1e-6) & (dv < wy - 1e-6)]
            if len(inside) > 2:
                out.append(inside)
    return out
