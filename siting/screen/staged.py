"""Two-stage screening for generated candidates (grid cells, packed footprints).

1. *Land* rules (agency, GAP status, designation, attribute, outside) screen the parcels and cut
   them down to eligible land, which is then held once where parcel records overlap
   (:mod:`siting.screen.shared_land`; the funnel's ``shared_land`` row);
2. candidates are generated on that land (:func:`siting.candidates_from_grid`,
   :func:`siting.pack_sites`);
3. *site* rules (distance, raster, minimum area) screen each candidate.

The result is one :class:`~siting.screen.constraints.Screening` like the single-stage one: the frame
holds the parcels the land rules rejected (with their reasons) and every generated candidate; a
candidate inherits the land-rule ledger of its parcel, so ``explain`` shows every rule. The funnel
has a ``stage`` column (``land``, ``generate``, ``site``) and balances acres across all of them:
the generate row removes the land between footprints (or cell slivers) that no candidate uses, and
counts as removed the parcel units that gave no candidate.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.screen.rules import AgencyIn, MinArea
>>> parcels = gpd.GeoDataFrame({"candidate_id": ["P-a", "P-b"], "parcel_id": ["a", "b"],
...     "agency": ["BLM", "NPS"]}, geometry=[box(0, 0, 4000, 2000), box(5000, 0, 9000, 2000)], crs=5070)
>>> gen = Generator("grid", {"cell_m": 1000, "shape": "square"})
>>> res = screen_staged(parcels, [AgencyIn(values=["BLM"]), MinArea(acres=100)], generator=gen)
>>> res.funnel[["stage", "rule", "candidates_out"]].values.tolist()
[['input', 'input', 2], ['land', 'agency_in', 1], ['generate', 'grid', 8], ['site', 'min_area', 8]]
>>> res.frame.set_index("candidate_id").loc["P-b", "reason"]
'failed agency_in: managing agency = NPS (needs in BLM)'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core.errors import warn
from siting.geo.areas import ground_acres
from siting.io.compact import concat, repeated_text
from siting.screen import ledger as long_ledger
from siting.screen.constraints import Screening, screen, warn_if_empty
from siting.screen.rules import RuleContext
from siting.screen.shared_land import SharedLand, record_failures, share_land

__all__ = ["Generator", "screen_staged"]

log = logging.getLogger(__name__)

#: Screening columns of a unit that are not carried onto its candidates.
_OUTCOME_COLUMNS = ["area_acres", "eligible", "n_failed", "failed_rules", "reason", "overrides"]


@dataclass
class Generator:
    """Makes candidates from eligible land: ``method`` ``parts``, ``grid`` or ``pack`` with its keyword options."""

    method: str
    options: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def __call__(self, land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if self.method == "parts":
            from siting.candidates.parts import candidates_from_parts

            return candidates_from_parts(land, **self.options)
        if self.method == "grid":
            from siting.candidates.grid import candidates_from_grid

            return candidates_from_grid(land, **self.options)
        from siting.candidates.packing import pack_sites

        sites = pack_sites(land, **self.options)
        self.report = dict(sites.attrs.get("packing", {}))
        sites.attrs = {}
        return sites

    def describe(self) -> str:
        """One line for the funnel."""
        o = self.options
        if self.method == "parts":
            return f"connected parts of the eligible land, parts narrower than {o.get('min_width_m', 0):g} m removed"
        if self.method == "grid":
            size = f"{o['cell_acres']:g} acres" if o.get("cell_acres") else f"{o.get('cell_m'):g} m wide"
            return f"{o.get('shape', 'hex')} cells of {size} cut from the eligible land"
        text = (f"packed {o.get('shape', 'square')} footprints of {o['footprint_acres']:g} acres, "
                f"{o.get('spacing_m', 0):g} m apart, {o.get('edge_setback_m', 0):g} m inside the land")
        if o.get("align"):
            text += ", whole PLSS aliquot parts"
        if self.report:
            text += f" ({self.report['efficiency']:.1%} of the upper bound {self.report['bound']:,.0f})"
        if "plss_cost" in self.report:
            text += f"; {self.report['plss_cost']:,} fewer than unaligned"
        return text


def screen_staged(units: gpd.GeoDataFrame, rules, ctx: RuleContext | None = None, *,
                  generator: Generator, screen=screen, whole: bool = True) -> Screening:
    """Land rules on ``units`` (parcels), candidates from the eligible land, site rules on them.

    Parameters
    ----------
    units : GeoDataFrame
        Parcel candidates (:func:`siting.candidates_from_parcels`), ``candidate_id`` ``P-...``.
    rules : sequence of Rule
        All rules; each goes to its stage (``rule.stage``).
    ctx : RuleContext, optional
    generator : Generator
        Makes the candidates from the eligible land.
    screen : callable
        Screens one stage (:func:`siting.screen.constraints.screen`, or an engine's ``screen``).
    whole : bool, default True
        Whether these are the whole run's candidates: then a generator that makes none on the land left is
        said in a :class:`~siting.core.errors.SitingWarning` (an analysis's re-screening stays quiet).

    Returns
    -------
    Screening
    """
    ctx = ctx or RuleContext()
    stages = [r.stage_in(generator.method) for r in rules]
    land_rules = [r.at_stage("land") for r, st in zip(rules, stages, strict=True) if st == "land"]
    site_rules = [r.at_stage("site") for r, st in zip(rules, stages, strict=True) if st != "land"]
    land = screen(units, land_rules, ctx)
    ok = land.frame["eligible"].to_numpy(bool)
    eligible, shared = _held_once(units, land, ok, ctx, whole)
    made = repeated_text(generator(gpd.GeoDataFrame(eligible, geometry="geometry", crs=units.crs)
                                   .reset_index(drop=True)))  # each parcel's text once, not once per cell
    site = screen(made, site_rules, ctx)
    site.frame["overrides"] = _notes(site.frame, land.frame.loc[ok].set_index("candidate_id")["overrides"])
    frame = concat([land.frame.loc[~ok], site.frame], ignore_index=True)
    frame = gpd.GeoDataFrame(repeated_text(frame), geometry="geometry", crs=units.crs)
    n_made, made = len(made), made[["candidate_id", "unit_id"]]  # the generated cells are in `frame` now:
    site.frame = site.frame.iloc[:0]  # drop the other copies (a national grid's: a GB)
    land_acres = float(ground_acres(eligible.geometry.values, units.crs).sum())
    funnel = _funnel(land.funnel, site.funnel, generator, (int(ok.sum()), shared), made["unit_id"].nunique(),
                     land_acres)
    if whole and ok.any() and not n_made:  # the land left some, the generator made none: no stage said so
        warn_if_empty(funnel, len(units))
    ledger = long_ledger.staged(land.long_ledger, site.long_ledger, land.frame.loc[~ok, "candidate_id"], made)
    rules_table = pd.concat([land.rules, site.rules], ignore_index=True)
    log.info("staged screening: %d of %d parcel units eligible, %d candidates generated, %d pass the site rules",
             int(ok.sum()), len(units), n_made, int(frame["eligible"].sum()))
    land_frame = gpd.GeoDataFrame(eligible.reset_index(drop=True), geometry="geometry", crs=units.crs)
    report = {k: v for k, v in generator.report.items() if not isinstance(v, np.ndarray)}
    return Screening(frame, funnel, ledger, rules_table, {**land.applied, **site.applied}, land_frame, report)


def _held_once(units: gpd.GeoDataFrame, land: Screening, ok: np.ndarray, ctx: RuleContext, whole: bool
               ) -> tuple[pd.DataFrame, SharedLand]:
    """The eligible records with their land held once (:mod:`siting.screen.shared_land`), as the generator's
    input (``unit_id``, no outcome columns), and what that changed (said in a :class:`SitingWarning`)."""
    records = np.asarray(units.geometry.values, dtype=object)
    failed, immune, labels = record_failures(land.frame, land.applied, records, ctx)
    geoms, shared = share_land(records, np.asarray(land.frame.geometry.values, dtype=object), ok, failed, immune)
    if shared.pairs:
        said = shared.describe(land.frame["candidate_id"].to_numpy(dtype=object), labels)
        if whole:
            warn(said)
        log.info(said)
    keep = ok & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    eligible = land.frame.loc[keep].drop(columns=_OUTCOME_COLUMNS).rename(columns={"candidate_id": "unit_id"})
    return eligible.assign(geometry=gpd.GeoSeries(geoms[keep], index=eligible.index, crs=units.crs)), shared


def _notes(site: pd.DataFrame, land_notes: pd.Series) -> np.ndarray:
    """The overrides of each generated candidate: its land's (by ``unit_id``), then its own."""
    land = site["unit_id"].astype(object).map(land_notes).fillna("").to_numpy(dtype=object) if "unit_id" in site \
        else np.full(len(site), "", dtype=object)
    own = site["overrides"].to_numpy(dtype=object)
    both = (land != "") & (own != "")
    return np.where(both, land + "; " + own, np.where(land != "", land, own))


def _funnel(land: pd.DataFrame, site: pd.DataFrame, generator: Generator, shared: tuple[int, SharedLand],
            units_used: int, acres_in: float) -> pd.DataFrame:
    """The land stage's rows (with ``shared_land`` where records overlap), the generator's (parcel units in;
    those that gave no candidate removed; the candidates made out), then the site stage's."""
    units_in, held = shared
    if held.pairs:
        row = held.funnel_row(units_in, float(land["acres_out"].iloc[-1]))
        land, units_in = pd.concat([land, pd.DataFrame([row])], ignore_index=True), row["candidates_out"]
    land = land.assign(stage=np.where(land["rule"] == "input", "input", "land"))
    first = site.iloc[0]  # the site screening's own input row: the generated candidates
    gen = pd.DataFrame([{
        "rule": generator.method, "description": generator.describe(), "stage": "generate",
        "candidates_in": units_in, "candidates_removed": units_in - units_used, "candidates_overridden": 0,
        "candidates_no_data": 0, "candidates_out": int(first["candidates_out"]),
        "acres_in": acres_in, "acres_removed": acres_in - float(first["acres_out"]),
        "acres_out": float(first["acres_out"])}])
    rest = site.iloc[1:].assign(stage="site")
    out = pd.concat([land, gen, rest], ignore_index=True)
    out["step"] = np.arange(len(out))
    cols = ["step", "stage", "rule", "description", "candidates_in", "candidates_removed", "candidates_overridden",
            "candidates_no_data", "candidates_out", "acres_in", "acres_removed", "acres_out"]
    return out[cols]
