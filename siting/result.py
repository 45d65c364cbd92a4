"""``SitingResult``: what a run produced, and how to look at it or save it.

Examples
--------
>>> import siting
>>> r = siting.run("sample_data/nevada_demo.yaml", progress=False)  # doctest: +SKIP
>>> r.funnel[["rule", "candidates_out", "acres_out"]]  # doctest: +SKIP
>>> r.explain(r.sites.site_id.iloc[0])  # doctest: +SKIP
>>> r.save("out/nevada")  # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

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
    ledger : DataFrame
        One row per candidate and rule: measure, value, op, threshold, passed.
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
        Start time, working CRS, package versions, input hashes, timings.
    """

    scenario: object
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    funnel: pd.DataFrame
    ledger: pd.DataFrame
    rules: pd.DataFrame
    layers: dict
    rasters: dict
    reports: dict
    rejects: pd.DataFrame
    meta: dict = field(default_factory=dict)

    @property
    def factor_names(self) -> list[str]:
        """Names of the scenario's factors."""
        return [f.name for f in self.scenario.factors]

    def map(self, **kwargs):
        """Interactive folium map of the sites and the input layers (see :func:`siting.maps.site_map`)."""
        from siting.maps import result_map  # lazy: folium only when a map is asked for

        return result_map(self, **kwargs)

    def save(self, out_dir, *, overwrite: bool = False, formats=None):
        """Write the deliverables to ``out_dir`` atomically (see :func:`siting.outputs.save_result`)."""
        from siting.outputs import save_result

        return save_result(self, out_dir, overwrite=overwrite, formats=formats)

    def explain(self, candidate_id: str) -> pd.DataFrame:
        """Every rule (value, threshold, pass) and factor (raw, score, weight, contribution) of a candidate.

        Raises
        ------
        KeyError
            If the id is not a candidate.
        """
        rows = self.ledger[self.ledger["candidate_id"] == candidate_id]
        if rows.empty:
            raise KeyError(f"{candidate_id!r} is not a candidate id")
        out = rows.assign(kind="rule")[["kind", "rule", "measure", "value", "op", "threshold", "passed"]]
        out = out.rename(columns={"rule": "name"})
        site = self.sites[self.sites["site_id"] == candidate_id]
        if len(site):
            s = site.iloc[0]
            facts = pd.DataFrame([{
                "kind": "factor", "name": f.name, "measure": f.raw_column, "value": s[f.raw_column],
                "score": s[f"{f.name}_score"], "weight": s[f"{f.name}_weight"],
                "contribution": s[f"{f.name}_contrib"]} for f in self.scenario.factors])
            out = pd.concat([out, facts], ignore_index=True)
        return out.reset_index(drop=True)

    def audit(self) -> pd.DataFrame:
        """Per layer: features read, kept, repaired, rejected, filtered; for parcels the area balance.

        The parcels row also gives ``input_acres`` (the parcels' area), ``eligible_acres``,
        ``excluded_acres``, ``unassigned_acres`` (slivers outside every zone when parcels are split)
        and ``area_balance_pct`` = (eligible + excluded - input) / input, in percent.
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
        out.loc[parcels, "eligible_acres"] = f["acres_out"].iloc[-1]
        out.loc[parcels, "excluded_acres"] = f["acres_removed"].sum()
        # land in no candidate: slivers dropped when parcels are split by zones
        out.loc[parcels, "unassigned_acres"] = input_acres - f["acres_in"].iloc[0]
        out.loc[parcels, "area_balance_pct"] = 100 * (
            f["acres_out"].iloc[-1] + f["acres_removed"].sum() - input_acres) / input_acres
        return out

    def summary(self) -> dict:
        """Headline numbers of the run."""
        f = self.funnel
        return {
            "scenario": self.scenario.name, "candidates": len(self.candidates),
            "sites": len(self.sites), "input_acres": float(f["acres_in"].iloc[0]),
            "eligible_acres": float(f["acres_out"].iloc[-1]),
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
            f"{s['eligible_acres']:,.0f} of {s['input_acres']:,.0f} acres eligible; "
            f"{s['rejected_features']:,} input features rejected; CRS {e(str(s['working_crs']))}"
            f"<details><summary>Funnel</summary>{funnel}</details>"
            f"<details open><summary>Top sites</summary>{table}</details></div>"
        )

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<SitingResult {s['scenario']!r}: {s['sites']} sites of {s['candidates']} "
                f"candidates, {s['eligible_acres']:,.0f} eligible acres>")
