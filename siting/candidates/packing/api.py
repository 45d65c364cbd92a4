"""``pack_sites`` and ``packing_curve``: as many spaced footprints as the eligible land allows.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> land = gpd.GeoDataFrame({"parcel_id": ["a"], "agency": ["BLM"]}, geometry=[box(0, 0, 10_000, 10_000)], crs=5070)
>>> sites = pack_sites(land, footprint_acres=160, spacing_m=800)
>>> report = sites.attrs["packing"]
>>> len(sites), round(report["bound"], 1), sites["candidate_id"].iloc[0]
(36, 47.1, 'K-a-1')
"""

from __future__ import annotations

import itertools
import logging
import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.candidates.budget import check_budget
from siting.candidates.ids import parcel_keys
from siting.candidates.packing.conflicts import Sites
from siting.candidates.packing.exact import solve
from siting.candidates.packing.footprint import Footprint, packing_bound
from siting.candidates.packing.greedy import greedy, score_at, trials
from siting.candidates.packing.lattice import make_pieces
from siting.candidates.packing.plss_align import pack_on_plss, plss_frame, unit_fields
from siting.candidates.packing.regions import across_groups, by_group, spacing_groups
from siting.core import settings
from siting.core.errors import ScenarioError
from siting.core.progress import iterate
from siting.io.crs import check_projected

__all__ = ["ROTATION_STEP_DEG", "pack_sites", "packing_curve"]

log = logging.getLogger(__name__)

#: Default step between the layout rotations tried, per shape (degrees), over the layout's symmetry
#: period: 60 for the hexagonal lattice of circles (12 rotations, each cheap), 90 for squares (6),
#: 180 for rectangles (12).
ROTATION_STEP_DEG = {"circle": 5.0, "square": 15.0, "rectangle": 15.0}
PERIOD_DEG = {"circle": 60.0, "square": 90.0, "rectangle": 180.0}


def _check(eligible, objective, method, score, spacing_m, edge_setback_m) -> None:
    check_projected(eligible.crs, what="eligible land")
    if objective not in ("count", "score"):
        raise ScenarioError(f"objective must be 'count' or 'score', not {objective!r}")
    if method not in ("greedy", "exact"):
        raise ScenarioError(f"method must be 'greedy' or 'exact', not {method!r}")
    if objective == "score" and score is None:
        raise ScenarioError("objective='score' needs a score surface: pass score= (a Raster or f(x, y))")
    if not spacing_m >= 0 or not edge_setback_m >= 0:
        raise ScenarioError(f"spacing_m ({spacing_m}) and edge_setback_m ({edge_setback_m}) must be >= 0")


def _check_align(align, footprint_acres: float) -> None:
    if align not in (None, "plss"):
        raise ScenarioError(f"align must be 'plss' or left out, not {align!r}")
    if align == "plss":
        unit_fields(footprint_acres)  # a clear error before any work


def pack_sites(eligible: gpd.GeoDataFrame, *, footprint_acres: float, shape: str = "square", aspect: float = 1.0,
               spacing_m: float = 0.0, edge_setback_m: float = 0.0, objective: str = "count", score=None,
               method: str = "greedy", seed: int = 0, rotations=None, offsets: int = 8,
               improve: bool = True, time_limit_s: float = 60.0, progress: bool | None = None,
               align: str | None = None, plss: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Place as many non-overlapping, spaced footprints as the eligible land allows.

    Parameters
    ----------
    eligible : GeoDataFrame
        Eligible land in a projected CRS; parcel columns (``parcel_id``, ``agency``...) go onto its sites.
    footprint_acres : float
        Area of one facility.
    shape, aspect : {"square", "rectangle", "circle"}, float
        Footprint shape, and width / height of rectangles.
    spacing_m : float
        Smallest distance between two footprints (edge to edge) on the ground: each group of land
        pieces of like scale is packed with ``spacing_m * s_max``, the largest scale of the projected CRS
        over its pieces' neighbourhoods (:mod:`~siting.candidates.packing.regions`), and footprints of
        different groups keep the larger of their spacings, so every pair is that far apart on the ellipsoid.
    edge_setback_m : float
        Footprints stay this far inside the eligible land, on the ground.
    objective : {"count", "score"}
        Maximise the number of sites, or the sum of ``score`` over them.
    score : Raster or callable, optional
        A score surface (:class:`siting.geo.raster.Raster`) or ``f(x, y) -> scores`` at footprint
        centres; needed for ``objective="score"`` and recorded per site (``score_surface``) when given.
    method : {"greedy", "exact"}
        ``exact`` solves the packing as an integer program with HiGHS (small areas only) and reports
        the optimality gap of the greedy result.
    seed : int
        Seeds the random lattice offsets; the result is deterministic for a given seed.
    rotations : sequence of float, optional
        Layout rotations tried (degrees; default every :data:`ROTATION_STEP_DEG` over the symmetry period);
        duplicates modulo the layout's symmetry (60 for the hexagonal lattice of circles, 90 for squares) dropped.
    offsets : int
        Lattice offsets tried per rotation (corner-aligned first, then random).
    improve : bool
        Fill gaps near edges with finer lattices after the lattice placement.
    time_limit_s : float
        Time limit of the exact solver.
    progress : bool, optional
        Progress bar over the lattice trials (default: the session setting).
    align, plss : {None, "plss"}, GeoDataFrame
        ``"plss"``: footprints are whole aliquot parts (40, 160 or 640 acres) of the CadNSDI quarter-quarters
        ``plss`` (:mod:`~siting.candidates.packing.plss_align`); the report adds ``unaligned_sites``, ``plss_cost``.

    Returns
    -------
    GeoDataFrame
        One footprint per row: ``candidate_id`` (``K-<parcel>-<n>``), the parcel columns,
        ``footprint_acres``, ``parcel_eligible_acres``, ``rotation_deg``, ``score_surface`` (with a
        score) and the footprint polygon. ``attrs["packing"]`` holds the report: ``sites``,
        ``bound``, ``efficiency``, ``seconds`` and, for ``exact``, the solver status, ``mip_gap``
        and ``greedy_gap`` (1 - greedy / exact).
    """
    start = time.perf_counter()
    _check(eligible, objective, method, score, spacing_m, edge_setback_m)
    _check_align(align, footprint_acres)
    fp = Footprint.from_acres(footprint_acres, shape, aspect)
    check_budget(float(np.nan_to_num(eligible.area).sum()), footprint_acres * settings.M2_PER_ACRE, "footprints")
    pieces = make_pieces(eligible, edge_setback_m)
    rots = _distinct_rotations(rotations, fp)
    obj = score if objective == "score" else None
    groups = spacing_groups(pieces, eligible.crs, spacing_m)
    sites = _greedy(pieces, groups, fp, trials(rots, offsets, seed), obj, improve, progress)
    report: dict = {"method": method, "greedy_sites": len(sites)}
    if method == "exact":
        sites, solver = _exact(pieces, groups, fp, sites, _main_rotation(sites, rots), obj, time_limit_s)
        report.update(solver, greedy_gap=1 - report["greedy_sites"] / max(len(sites), 1))
    out = _sites_frame(eligible, fp, pieces.row, sites, score)
    bound = packing_bound(eligible, fp, float(groups.spacing.min()), edge_setback_m)  # every pair is that far
    report.update(sites=len(out), bound=bound, efficiency=len(out) / bound if bound > 0 else float("nan"),
                  seconds=time.perf_counter() - start, footprint_acres=float(footprint_acres), shape=shape,
                  spacing_m=float(spacing_m), edge_setback_m=float(edge_setback_m), **_spacing_report(groups),
                  eligible_acres=float(eligible.area.sum()) / settings.M2_PER_ACRE)
    if align == "plss":
        out = _aligned(eligible, plss, footprint_acres, float(groups.spacing.max()), edge_setback_m, report)
    return _finish(out, report)


def _finish(out: gpd.GeoDataFrame, report: dict) -> gpd.GeoDataFrame:
    out.attrs["packing"] = report
    log.info("packed %d sites of %g acres, %g m apart (bound %.0f, efficiency %.1f %%) in %.1f s", len(out),
             report["footprint_acres"], report["spacing_m"], report["bound"],
             100 * report["efficiency"] if report["bound"] else 0, report["seconds"])
    return out


def _aligned(eligible, plss, footprint_acres: float, planned: float, edge_setback_m: float,
             report: dict) -> gpd.GeoDataFrame:
    """The PLSS-aligned sites; the report learns the unaligned count and the cost of aligning."""
    if plss is None or not len(plss):
        raise ScenarioError("align: plss needs the PLSS quarter-quarter layer (candidates.plss)")
    fits, rows = pack_on_plss(eligible, plss.to_crs(eligible.crs), footprint_acres=footprint_acres,
                              planar_spacing_m=planned, edge_setback_m=edge_setback_m)
    out = plss_frame(eligible, fits, rows, footprint_acres)
    unaligned = report["sites"]
    report.update(align="plss", unaligned_sites=unaligned, sites=len(out), plss_cost=unaligned - len(out),
                  efficiency=len(out) / report["bound"] if report["bound"] > 0 else float("nan"))
    log.info("aligned to the PLSS: %d sites (%d fewer than unaligned)", len(out), unaligned - len(out))
    return out


def _spacing_report(groups) -> dict:
    """The map spacings used: the largest, the smallest and how many groups of land had their own."""
    return {"planar_spacing_m": float(groups.spacing.max()), "planar_spacing_min_m": float(groups.spacing.min()),
            "spacing_groups": len(groups)}


def _greedy(pieces, groups, fp: Footprint, tries, obj, improve: bool, progress) -> Sites:
    """The greedy packing of each spacing group; pairs across groups kept apart."""
    sites = by_group(pieces, groups, lambda part, spacing, _: greedy(part, fp, spacing, tries, obj, improve, progress))
    return across_groups(fp, sites, groups, score_at(obj, sites.x, sites.y))


def _exact(pieces, groups, fp: Footprint, start: Sites, theta: float, obj, time_limit: float):
    """The exact packing of each spacing group from its greedy sites; the solvers' reports merged."""
    reports: list[dict] = []

    def one(part, spacing: float, ids: np.ndarray) -> Sites:
        piece = np.asarray(start.piece, np.int64)
        mine = start.take(np.isin(piece, ids))
        mine.piece = np.searchsorted(ids, piece[np.isin(piece, ids)])
        sites, rep = solve(part, fp, spacing, theta, mine, score=obj, time_limit=time_limit)
        reports.append(rep)
        return sites

    sites = by_group(pieces, groups, one)
    sites = across_groups(fp, sites, groups, score_at(obj, sites.x, sites.y))
    merged = {"status": "; ".join(dict.fromkeys(r["status"] for r in reports)),
              "objective": float(sum(r["objective"] for r in reports)),
              "mip_gap": float(max(r["mip_gap"] for r in reports)),
              "positions": int(sum(r["positions"] for r in reports)),
              "conflicts": int(sum(r["conflicts"] for r in reports))}
    return sites, merged


def _distinct_rotations(rotations, fp: Footprint) -> tuple[float, ...]:
    """Rotations that give different layouts: hexagonal lattices repeat every 60 degrees, squares every 90."""
    period = PERIOD_DEG[fp.shape]
    if rotations is None:
        rotations = np.arange(0.0, period, ROTATION_STEP_DEG[fp.shape])
    return tuple(dict.fromkeys(float(r) % period for r in rotations))


def _main_rotation(sites: Sites, rots) -> float:
    """The rotation most greedy sites use (the first one when there are none)."""
    if not len(sites):
        return math.radians(rots[0])
    values, counts = np.unique(np.round(sites.theta, 9), return_counts=True)
    return float(values[np.argmax(counts)])


def _sites_frame(eligible: gpd.GeoDataFrame, fp: Footprint, piece_row: np.ndarray, sites: Sites,
                 score) -> gpd.GeoDataFrame:
    """Footprint polygons with their parcel's attributes, ordered by parcel then position."""
    rows = piece_row[sites.piece] if len(sites) else np.zeros(0, np.int64)
    order = np.lexsort((np.round(sites.x, 3), np.round(sites.y, 3), rows))
    s, rows = sites.take(order), rows[order]
    attrs = pd.DataFrame(eligible.drop(columns=eligible.geometry.name)).iloc[rows].reset_index(drop=True)
    pid = pd.Series(parcel_keys(eligible, what="packed sites")[rows], dtype=object)
    n = pid.groupby(pid, sort=False).cumcount() + 1
    out = gpd.GeoDataFrame(attrs, geometry=fp.polygons(s.x, s.y, s.theta), crs=eligible.crs)
    out.insert(0, "candidate_id", ("K-" + pid + "-" + n.astype(str)).to_numpy(dtype=object))
    out["footprint_acres"] = fp.acres
    parcel_acres = shapely.area(np.asarray(eligible.geometry.values, dtype=object)) / settings.M2_PER_ACRE
    out["parcel_eligible_acres"] = parcel_acres[rows]
    out["rotation_deg"] = np.round(np.degrees(s.theta), 6)
    if score is not None:
        out["score_surface"] = score_at(score, s.x, s.y)
    return out


def packing_curve(eligible: gpd.GeoDataFrame, footprints_acres, spacings_m, *, plot: bool = False,
                  progress: bool | None = None, **kwargs):
    """Site count against footprint and spacing: one :func:`pack_sites` per combination.

    Parameters
    ----------
    eligible : GeoDataFrame
    footprints_acres, spacings_m : sequence of float
    plot : bool
        Also draw the curves (needs matplotlib) and return ``(table, ax)``.
    progress : bool, optional
        A bar over the combinations (default: the session setting; shown in a terminal or notebook).
    **kwargs
        Passed to :func:`pack_sites` (``shape``, ``edge_setback_m``, ``seed``...).

    Returns
    -------
    DataFrame
        ``footprint_acres``, ``spacing_m``, ``sites``, ``bound``, ``efficiency``, ``seconds``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> land = gpd.GeoDataFrame(geometry=[box(0, 0, 8000, 8000)], crs=5070)
    >>> t = packing_curve(land, [100, 200], [0, 500], rotations=(0,))
    >>> t["sites"].tolist()
    [144, 49, 64, 36]
    """
    rows = []
    combos = list(itertools.product(footprints_acres, spacings_m))
    for acres, spacing in iterate(combos, "packing curve", progress):  # minutes on a state's land: show them
        rep = pack_sites(eligible, footprint_acres=acres, spacing_m=spacing, **kwargs).attrs["packing"]
        rows.append({k: rep[k] for k in ("footprint_acres", "spacing_m", "sites", "bound", "efficiency", "seconds")})
    table = pd.DataFrame(rows)
    if not plot:
        return table
    from siting.deliver.plots import packing_plot

    return table, packing_plot(table)
