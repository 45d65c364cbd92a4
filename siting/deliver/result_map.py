"""The map of a whole :class:`~siting.SitingResult`: sites, parcels, eligible land, what each rule
excluded (as the rule draws it), near misses and every input layer, with a footer of sources.

Examples
--------
>>> import siting
>>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
>>> m = result_map(siting.run(small, progress=False), tiles=None)
>>> "Failed agency_in" in m.get_root().render()
True
"""

from __future__ import annotations

from datetime import UTC, datetime

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core import settings
from siting.deliver.maps import site_map
from siting.deliver.provenance import provenance, sources_line
from siting.deliver.web import _fmt, escape

__all__ = ["result_map"]


#: Above this many candidates a rule's failed candidates are not drawn (the map says so).
FAILURE_CAP = 5_000


def _excluded_layers(result, cap: int) -> tuple[dict, list[str]]:
    """Excluded land per rule, as each rule draws it (``outside``: its buffered zones; the others: the
    candidates they failed, up to ``cap`` candidates), and the rules whose layer was left out."""
    out, left = {}, []
    for label, rule in result.rule_objects.items():
        drawn = rule.failure_layer(label, result.candidates, result.layers, max_candidates=cap)
        if drawn is not None:
            out[drawn[0]] = (drawn[1], "exclusion")
        elif len(result.candidates) > cap:
            left.append(label)
    return out, left


def _near_miss_layer(result) -> tuple | None:
    nm = result.analysis.get("near_misses")
    if nm is None or not len(nm):
        return None
    at = pd.Index(result.candidates["candidate_id"]).get_indexer(nm["candidate_id"])  # not a copy of them all
    geoms = np.asarray(result.candidates.geometry.values, dtype=object)[at]
    keep = (at >= 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    geoms, nm = geoms[keep], nm[keep].reset_index(drop=True)
    tip = ("Near miss " + escape(nm["candidate_id"]) + ": fails only " + escape(nm["rule"]) + " ("
           + escape(nm["measure"]) + " = " + _shown(nm["value"]) + ", needs "
           + escape(nm["op"]) + " " + escape(nm["threshold"].astype(str)) + ")")
    frame = gpd.GeoDataFrame({"tooltip": tip.to_numpy()}, geometry=geoms, crs=result.candidates.crs)
    return frame, "near_miss"


def _shown(values: pd.Series) -> pd.Series:
    """Measured values for a tooltip: numbers formatted, text (an override's reason) as it is."""
    numeric = pd.to_numeric(values, errors="coerce")
    text = numeric.isna().to_numpy() & values.notna().to_numpy()
    return pd.Series(np.where(text, escape(values.astype(str)).to_numpy(dtype=object),
                              _fmt(numeric).to_numpy(dtype=object)), index=values.index)


def result_map(result, *, max_failures: int = FAILURE_CAP, **kwargs) -> folium.Map:
    """Map of a :class:`SitingResult`: sites, parcels, excluded land per rule, near misses, inputs.

    ``max_failures``: above this many candidates a rule's failed candidates are not drawn (the footer
    says which rules); ``kwargs`` go to :func:`siting.deliver.maps.site_map`.
    """
    sc = result.scenario
    layers: dict = {"Parcels": (result.layers["parcels"], "parcels")}
    land = result.eligible_land
    if land is not None and len(land):
        acres = float(land.area.sum()) / settings.M2_PER_ACRE
        layers[f"Eligible land ({acres:,.0f} acres)"] = (land, "eligible")
    excluded, left = _excluded_layers(result, max_failures)
    layers.update(excluded)
    near = _near_miss_layer(result)
    if near is not None:
        layers[f"Near misses ({len(near[0]):,}, fail one rule)"] = near
    for name, frame in result.layers.items():
        if name != "parcels":
            layers[name] = (frame, "context")
    footer = (f"Scenario {sc.name}; run {result.meta.get('started', datetime.now(UTC).isoformat())}; "
              f"analysis CRS {result.meta.get('working_crs')}; map EPSG:4326. Data: {sources_line(provenance(result))}")
    if left:  # a cap the reader should know about, and where the answer is instead
        footer = (f"Not drawn: the failures of {', '.join(left)} ({len(result.candidates):,} candidates, over the "
                  f"map's {max_failures:,}; result.map(max_failures=...) draws them; every decision is in the "
                  "ledger, siting.gpkg). " + footer)
    opts = {"layers": layers, "factors": sc.factors, "rules": result.rules,
            "title": sc.outputs.title or sc.name, "footer": footer, "max_sites": sc.outputs.map_max_sites,
            "max_points": sc.outputs.map_max_points}
    opts.update(kwargs)
    return site_map(result.sites, **opts)
