"""``SitingResult``: what a run produced, and how to look at it or save it.

Examples
--------
>>> import siting
>>> r = siting.run("sample_data/nevada_demo.yaml", progress=False)  # doctest: +SKIP
>>> r.funnel[["rule", "candidates_out", "acres_out"]]  # doctest: +SKIP
>>> r.explain(r.sites.site_id.iloc[0])  # doctest: +SKIP
>>> r.save("out/nevada")  # doctest: +SKIP
>>> SitingResult.__dataclass_fields__["rule_objects"].type
'dict'
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.geo.areas import ground_acres
from siting.score.relaxation import near_misses, relaxation
from siting.score.sensitivity import rank_stability, weight_sweep
from siting.screen.ledger import LongLedger

if TYPE_CHECKING:
    import folium

    from siting.core.scenario import Scenario

__all__ = ["SitingResult"]


@dataclass
class SitingResult:
    """The outcome of :func:`siting.run`.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario.
    sites : GeoDataFrame
        Eligible candidates, scored and ranked (best first), in the working CRS.
    candidates : GeoDataFrame
        Every candidate with its ledger columns, ``eligible`` and ``reason``.
    funnel : DataFrame
        Per rule, in order: candidates and acres in, removed and out.
    long_ledger : LongLedger
        One row per candidate and rule: measure, value, op, threshold, passed. Read it as :attr:`ledger`
        (a DataFrame, made on first read: :mod:`siting.screen.ledger`).
    rules : DataFrame
        The rules as applied.
    layers : dict of GeoDataFrame
        The canonical input layers.
    rasters : dict
        The rasters in the working CRS.
    reports : dict
        Per layer, the load reports (read / kept / repaired / rejected, issues).
    rejects : DataFrame
        Every rejected input feature with its layer, row and reason.
    meta : dict
        Start time, working CRS, package versions, input hashes, timings; for packed candidates
        the packing report (``meta["packing"]``: sites, bound, efficiency).
    eligible_land : GeoDataFrame or None
        With grid or pack candidates: the land left by the land rules, one row per parcel unit.
    rule_objects : dict
        Ledger name -> rule object, as screened (they relax themselves and draw their failures).
    rescreen : callable or None
        ``rescreen(rule, value) -> screened frame`` with one rule's threshold changed (relaxation
        of rules that change the land); None for a result loaded from a folder.
    """

    scenario: Scenario
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    funnel: pd.DataFrame
    long_ledger: LongLedger = field(repr=False)
    rules: pd.DataFrame
    layers: dict
    rasters: dict
    reports: dict
    rejects: pd.DataFrame
    meta: dict = field(default_factory=dict)
    analysis: dict = field(default_factory=dict)
    eligible_land: gpd.GeoDataFrame | None = None
    rule_objects: dict = field(default_factory=dict)
    rescreen: Callable[[str, float], pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def ledger(self) -> pd.DataFrame:
        """The long-form ledger: one row per candidate and rule (made on first read, then kept)."""
        return self.long_ledger.frame

    @property
    def factor_names(self) -> list[str]:
        """Names of the scenario's factors."""
        return [f.name for f in self.scenario.factors]

    @property
    def weights(self) -> np.ndarray:
        """The factor weights used (summing to 1), in factor order."""
        w = self.meta.get("weights", {}).get("weights", {})
        return np.array([w.get(n, 0.0) for n in self.factor_names], dtype=float)

    def _score_matrix(self) -> np.ndarray:
        return self.sites[[f"{n}_score" for n in self.factor_names]].to_numpy(float)

    def sensitivity(self, n: int = 1000, spread: float = 0.2, seed: int = 0, top_k: int = 10,
                    top: int | None = None) -> pd.DataFrame:
        """Rank stability under perturbed weights (see :func:`siting.score.sensitivity.rank_stability`);
        ``top``: the best sites only (each still ranked among all), for a national run.

        Returns
        -------
        DataFrame indexed by site_id
            ``base_rank``, ``median_rank``, ``rank_p05``, ``rank_p95``, ``p_top_k``.
        """
        if not self.factor_names or not len(self.sites):
            return pd.DataFrame(columns=["base_rank", "median_rank", "rank_p05", "rank_p95", "p_top_k"])
        return rank_stability(self._score_matrix(), self.weights, ids=self.sites["site_id"].to_numpy(),
                              method=self.scenario.scoring.method, n=n, spread=spread, seed=seed, top_k=top_k,
                              top=top)

    def weight_sweep(self, multipliers: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0), top_k: int = 10,
                     top: int | None = None) -> pd.DataFrame:
        """One-at-a-time weight sweeps (see :func:`siting.score.sensitivity.weight_sweep`); ``top``: the rows
        of the best sites only (each still ranked among all), for a national run."""
        if not self.factor_names or not len(self.sites):
            return pd.DataFrame()
        return weight_sweep(self._score_matrix(), self.weights, ids=self.sites["site_id"].to_numpy(),
                            names=self.factor_names, method=self.scenario.scoring.method,
                            multipliers=multipliers, top_k=top_k, top=top)

    def near_misses(self) -> pd.DataFrame:
        """Candidates failing exactly one rule, with the rule, value, threshold and gap."""
        return near_misses(self.candidates, self.rules)

    def relaxation(self, rule: str, values: Sequence[float]) -> pd.DataFrame:
        """Sites and acres gained as ``rule``'s threshold takes each of ``values``.

        Examples
        --------
        >>> r = siting.run("sample_data/nevada_demo.yaml")  # doctest: +SKIP
        >>> r.relaxation("within_substations", [50_000, 75_000, 100_000])  # doctest: +SKIP
        """
        return relaxation(self.candidates, self.rule_objects, rule, values, rescreen=self.rescreen)

    def analyse(self) -> dict:
        """Run the analyses the scenario asks for and keep them in :attr:`analysis`.

        Sensitivity columns (``median_rank``, ``rank_p05``, ``rank_p95``, ``p_top_k``) are also
        joined onto :attr:`sites` so they reach every output and the map (NA for the sites a ``top``
        leaves out).
        """
        spec = self.scenario.analysis
        if spec.near_misses:
            self.analysis["near_misses"] = self.near_misses()
        if spec.sensitivity is not None and self.factor_names:
            s = spec.sensitivity
            table = self.sensitivity(n=s.n, spread=s.spread, seed=s.seed, top_k=s.top_k, top=s.top)
            self.analysis["sensitivity"] = table
            cols = ["median_rank", "rank_p05", "rank_p95", "p_top_k"]
            joined = table[cols].reindex(self.sites["site_id"].to_numpy())
            for c in cols:
                self.sites[c] = joined[c].to_numpy()
        if spec.weight_sweeps and self.factor_names:
            top_k, top = (spec.sensitivity.top_k, spec.sensitivity.top) if spec.sensitivity else (10, None)
            self.analysis["weight_sweeps"] = self.weight_sweep(spec.weight_sweeps, top_k=top_k, top=top)
        for r in spec.relaxation:
            self.analysis.setdefault("relaxation", {})[r.rule] = self.relaxation(r.rule, r.values)
        return self.analysis

    def sheets(self, out=None, *, top: int = 20, pdf: bool = True) -> list:
        """Write one fact sheet per site for the best ``top`` sites, HTML and PDF
        (:func:`siting.deliver.sheets.write_sheets`); returns the HTML files."""
        from siting.deliver.sheets import write_sheets

        return write_sheets(self, out, top=top, pdf=pdf)

    def map(self, **kwargs: Any) -> folium.Map:
        """Interactive folium map of the sites and the input layers (see :func:`siting.deliver.maps.site_map`)."""
        from siting.deliver.result_map import result_map  # lazy: folium only when a map is asked for

        return result_map(self, **kwargs)

    def save(self, out_dir: str | Path, *, overwrite: bool = False, formats: Sequence[str] | None = None,
             offline_map: bool | None = None) -> Path:
        """Write the deliverables to ``out_dir`` atomically (see :func:`siting.deliver.outputs.save_result`)."""
        from siting.deliver.outputs import save_result

        return save_result(self, out_dir, overwrite=overwrite, formats=formats, offline_map=offline_map)

    def explain(self, candidate_id: str) -> pd.DataFrame:
        """Every rule (value, threshold, pass, and a ``note`` where no value could be measured and the rule's
        ``missing`` decided) and factor (raw, score, weight, contribution) of a candidate.

        Raises
        ------
        KeyError
            If the id is not a candidate, or the ledger holds nothing for it (a saved run from a siting
            that wrote neither the ledger nor the rules' measures: run the scenario again to explain it).
        """
        rows = self.long_ledger.rows_of(candidate_id)  # a national ledger is never made for one candidate
        if rows.empty and not (self.candidates["candidate_id"] == candidate_id).any():
            raise KeyError(f"{candidate_id!r} is not a candidate id")
        if rows.empty and len(self.rules):
            raise KeyError(f"{candidate_id!r} is a candidate, but this result's ledger holds no entries for it: "
                           "a saved run written without its ledger and without the rules' measure and op (an "
                           "older siting); run the scenario again to explain it")
        cols = ["kind", "rule", "measure", "value", "op", "threshold", "passed"]
        out = rows.assign(kind="rule")[cols + ["override"] * ("override" in rows.columns)]
        out = out.rename(columns={"rule": "name"}).assign(note=self._no_data_notes(rows))
        site = self.sites[self.sites["site_id"] == candidate_id]
        if len(site):
            s = site.iloc[0]
            facts = pd.DataFrame([row for f in self.scenario.factors for row in _factor_rows(f, s)])
            out = pd.concat([out, facts], ignore_index=True)
        return out.reset_index(drop=True)

    def _no_data_notes(self, rows: pd.DataFrame) -> np.ndarray:
        """Per ledger row: for a rule that had no value to judge, that its ``missing`` decided; else ""."""
        from siting.core.pipeline import scenario_rules  # lazy: the pipeline makes results

        policy = {r.label(): getattr(r, "missing", None) for r in scenario_rules(self.scenario)}
        said = [f"no data to judge (off the raster, nodata, too little of the site covered, or the field empty): "
                f"decided by missing: {policy[name]}" if policy.get(name) and pd.isna(value) else ""
                for name, value in zip(rows["rule"], rows["value"], strict=True)]
        return np.array(said, dtype=object)

    def audit(self) -> pd.DataFrame:
        """Per layer: features read, kept, repaired, rejected, filtered; for parcels the area balance.

        The parcels row also gives ``input_acres`` (the parcels' area), ``eligible_acres`` (land passing
        every land rule), ``site_acres`` (the sites), ``excluded_acres`` (removed by the funnel, including
        land between footprints), ``unassigned_acres`` (slivers outside every zone when parcels are split)
        and ``area_balance_pct`` = (site + excluded - input) / input, in percent.
        """
        rows = []
        for name, reps in self.reports.items():
            row = {"layer": name, "files": len(reps)}
            for key in ("read", "kept", "repaired", "rejected", "filtered"):
                row[key] = sum(getattr(r, key) for r in reps)
            row["balanced"] = row["read"] == row["kept"] + row["repaired"] + row["rejected"] + row["filtered"]
            rows.append(row)
        out = pd.DataFrame(rows)
        f = self.funnel
        parcels = out["layer"] == "parcels"
        input_acres = float(self.layers["parcels"].area.sum() / 4046.8564224)
        out.loc[parcels, "input_acres"] = input_acres
        out.loc[parcels, "eligible_acres"] = self.eligible_acres
        out.loc[parcels, "site_acres"] = f["acres_out"].iloc[-1]
        out.loc[parcels, "excluded_acres"] = f["acres_removed"].sum()
        # land in no candidate: slivers dropped when parcels are split by zones
        out.loc[parcels, "unassigned_acres"] = input_acres - f["acres_in"].iloc[0]
        out.loc[parcels, "area_balance_pct"] = 100 * (
            f["acres_out"].iloc[-1] + f["acres_removed"].sum() - input_acres) / input_acres
        return out

    @property
    def eligible_acres(self) -> float:
        """Acres of land that pass every land rule (agency, GAP, designation, attribute, outside).

        With grid or pack candidates this is :attr:`eligible_land`; with parcel candidates, the
        parcels' remainders that pass every land-stage rule. Not the sites' area: see :attr:`site_acres`.
        """
        if self.eligible_land is not None:
            return float(ground_acres(self.eligible_land.geometry.values, self.eligible_land.crs).sum())
        land = [f"{label}__pass" for label, rule in self.rule_objects.items() if rule.stage == "land"]
        ok = self.candidates[land].all(axis=1).to_numpy(bool) if land else np.ones(len(self.candidates), bool)
        return float(self.candidates.loc[ok, "area_acres"].sum())

    @property
    def site_acres(self) -> float:
        """Acres of the sites themselves (the sum of their areas on the ellipsoid)."""
        return float(ground_acres(self.sites.geometry.values, self.sites.crs).sum()) if len(self.sites) else 0.0

    def summary(self) -> dict:
        """Headline numbers of the run: sites, input, eligible and site acres."""
        f = self.funnel
        return {
            "scenario": self.scenario.name, "candidates": len(self.candidates),
            "sites": len(self.sites), "input_acres": float(f["acres_in"].iloc[0]),
            "eligible_acres": self.eligible_acres, "site_acres": self.site_acres,
            "rejected_features": len(self.rejects), "working_crs": self.meta.get("working_crs"),
        }

    def _repr_html_(self) -> str:
        s = self.summary()
        top = self.sites.head(5)
        cols = [c for c in ("site_id", "rank", "score", "tier", "agency", "unit_name", "area_acres")
                if c in top.columns]
        table = top[cols].to_html(index=False, float_format=lambda v: f"{v:,.3f}", escape=True)
        funnel = self.funnel[["rule", "candidates_out", "acres_out"]].to_html(
            index=False, float_format=lambda v: f"{v:,.0f}", escape=True)
        e = html.escape
        return (
            f"<div><strong>SitingResult: {e(s['scenario'])}</strong><br>"
            f"{s['sites']:,} sites from {s['candidates']:,} candidates; "
            f"{s['eligible_acres']:,.0f} of {s['input_acres']:,.0f} acres eligible, {s['site_acres']:,.0f} in sites; "
            f"{s['rejected_features']:,} input features rejected; CRS {e(str(s['working_crs']))}"
            f"<details><summary>Funnel</summary>{funnel}</details>"
            f"<details open><summary>Top sites</summary>{table}</details></div>"
        )

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<SitingResult {s['scenario']!r}: {s['sites']} sites of {s['candidates']} "
                f"candidates, {s['eligible_acres']:,.0f} eligible acres, {s['site_acres']:,.0f} site acres>")


def _factor_rows(factor, site: pd.Series) -> list[dict]:
    """A factor's row of :meth:`SitingResult.explain` and one row per detail it measured (permitting parts,
    the share an overlay covers, the nearest deposit of each commodity)."""
    own = (factor.raw_column, f"{factor.name}_score", f"{factor.name}_weight", f"{factor.name}_contrib")
    rows = [{"kind": "factor", "name": factor.name, "measure": factor.raw_column, "value": site[factor.raw_column],
             "score": site[own[1]], "weight": site[own[2]], "contribution": site[own[3]]}]
    return rows + [{"kind": "factor part", "name": factor.name, "measure": c, "value": site[c]}
                   for c in site.index if c.startswith(f"{factor.name}_") and c not in own]
