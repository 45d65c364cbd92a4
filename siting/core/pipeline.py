"""``run(scenario)``: the only place that strings the steps together.

load layers -> working CRS -> rasters -> candidates -> constraints (ledger,
funnel) -> factors -> scores, ranks, tiers -> :class:`SitingResult`.

Examples
--------
>>> import siting
>>> result = siting.run("sample_data/nevada_demo.yaml")  # doctest: +SKIP
>>> result.sites[["site_id", "score", "rank"]].head()  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import logging
import platform
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from siting.candidates.parcels import OUTSIDE_ZONES, assign_classes, candidates_from_parcels
from siting.candidates.plss import legal_descriptions
from siting.core.engine import make_engine
from siting.core.errors import InputFileError, LayerError, ScenarioError, warn
from siting.core.progress import Steps, release_memory
from siting.core.result import SitingResult
from siting.core.scenario import Scenario, load_scenario
from siting.fetch.scenario import manifest_of, resolve_fetches
from siting.geo.proximity import Reuse
from siting.io import crs as crs_mod
from siting.io.compact import repeated_text
from siting.io.hashing import sha256_of
from siting.io.layers import LoadedLayer, load_layer
from siting.io.sources import name_installations
from siting.io.virtual import virtual_sources
from siting.schema import ID_COLUMN, ROLE_KIND
from siting.score.scoring import rank, score_table, tiers
from siting.score.weights import resolve_weights
from siting.screen.constraints import rule_labels, screen
from siting.screen.rules import Include, InsideZones, MinArea, RuleContext
from siting.screen.staged import Generator, screen_staged

__all__ = ["run", "scenario_rules"]

log = logging.getLogger(__name__)

STEPS = ["load layers", "load rasters", "candidates", "constraints", "factors", "scoring", "analysis"]


def _load(sc: Scenario, name: str, wcrs) -> list[LoadedLayer]:
    loaded = []
    for spec in sc.layer_specs(name):
        opts = spec.model_dump(exclude={"path", "on_invalid"}, exclude_none=True)
        _exists(sc, spec.path, f"layer {name!r}")
        loaded.append(load_layer(sc.resolve(spec.path), name=name, working_crs=wcrs,
                                 on_invalid=spec.on_invalid, **opts))
    return loaded


def _exists(sc: Scenario, path: str, what: str) -> None:
    """Raise naming the path tried and how it was resolved when an input file is missing."""
    resolved = sc.resolve(path)
    if not resolved.exists() and "://" not in path and not path.startswith("/vsi"):
        raise InputFileError(f"{what}: file not found: {resolved} (from {sc.explain_path(path)})")


def _combine(name: str, parts: list[LoadedLayer], wcrs) -> gpd.GeoDataFrame:
    kinds = {p.report.kind for p in parts}
    if len(kinds) > 1:
        raise LayerError(f"combines files of different kinds ({', '.join(sorted(kinds))}); "
                         "use one layer name per kind", layer=name)
    frames = [p.frame.to_crs(wcrs) for p in parts]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    expected = ROLE_KIND.get(name)
    if expected and kinds != {expected}:
        raise LayerError(
            f"must be a {expected} layer but its file was read as {kinds.pop()} "
            f"(source {parts[0].report.source}); set `source:` (see `siting info FILE`; for your own outlines "
            "without a known schema, `source: land` with the layer's `agency:`)", layer=name)
    id_col = ID_COLUMN[kinds.pop()]
    if len(parts) > 1 and frame[id_col].duplicated().any():  # same ids in two files
        prefix = np.repeat([p.report.source for p in parts], [len(p.frame) for p in parts])
        frame[id_col] = pd.Series(prefix, index=frame.index) + ":" + frame[id_col].astype(str)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=wcrs)


def _load_layers(sc: Scenario) -> tuple[dict, dict, CRS]:
    parcels = _load(sc, "parcels", "auto")
    if sc.crs == "auto":
        wcrs = crs_mod.pick_working_crs(crs_mod.total_lonlat_bounds([p.frame for p in parcels]))
    else:
        wcrs = crs_mod.resolve_crs(sc.crs)
        crs_mod.check_projected(wcrs, what="the scenario's crs")
        crs_mod.check_areas(wcrs, [p.frame for p in parcels])
    note = crs_mod.stretch_note(wcrs, [p.frame for p in parcels])
    if note:
        warn(note)
    loaded = {"parcels": parcels}
    for name in sc.layers:
        if name != "parcels":
            loaded[name] = _load(sc, name, wcrs)
    layers = {name: _combine(name, parts, wcrs) for name, parts in loaded.items()}
    _warn_far_layers(layers)
    return layers, loaded, wcrs


def _warn_far_layers(layers: dict, margin_m: float = 200_000.0) -> None:
    """Warn about layers with no feature near the parcels: usually a wrong CRS or the wrong file (A6)."""
    minx, miny, maxx, maxy = layers["parcels"].total_bounds
    for name, frame in layers.items():
        if name == "parcels" or not len(frame):
            continue
        near = frame.cx[minx - margin_m:maxx + margin_m, miny - margin_m:maxy + margin_m]
        if not len(near):
            said = (f"layer {name!r}: none of its {len(frame):,} features lies within {margin_m / 1000:.0f} km "
                    "of the parcels; check its CRS and that it is the right file")
            log.warning(said)
            warn(said)


def _name_installations(frame: gpd.GeoDataFrame, layers: dict, loaded: dict) -> gpd.GeoDataFrame:
    """A copy of the screened candidates with each DoD candidate named after the MIRTA installation
    point inside it or nearest, with the distance to it (``installation_m``; if a MIRTA points layer is
    loaded); a name the parcel's own source gave (MIRTA boundaries) is kept."""
    mirta = [n for n, parts in loaded.items() if any(p.report.source == "mirta_points" for p in parts)]
    if not mirta:
        return frame
    named = name_installations(frame, layers[mirta[0]], crs=frame.crs)
    names, dist = named["installation"], named["installation_m"]
    if "installation" in frame:  # the parcel is the installation (MIRTA boundaries): its own name, 0 m
        own = frame["installation"].notna()
        names, dist = frame["installation"].astype(object).where(own, names), dist.mask(own, 0.0)
    log.info("named %d DoD candidate(s) from MIRTA layer %r", int(names.notna().sum()), mirta[0])
    return frame.assign(installation=names, installation_m=dist)


def _factor_frame(screened: gpd.GeoDataFrame, keep: np.ndarray, factors: list) -> gpd.GeoDataFrame:
    """The eligible candidates as the factors see them: their geometry and the columns the factors read
    (:meth:`~siting.score.factors.BaseFactor.columns_read`), not a copy of every column. A column the
    candidates lack is left to the factor as before: it gets every column (its error lists them, or it
    leaves out the part that reads it)."""
    read = list(dict.fromkeys(c for f in factors for c in f.columns_read()))
    if any(c not in screened.columns for c in read):
        return screened[keep]
    return gpd.GeoDataFrame(screened.loc[keep, read], geometry=screened.geometry.values[keep], crs=screened.crs)


def _load_rasters(sc: Scenario, wcrs, aoi) -> dict:
    if not sc.rasters:
        return {}
    from siting.geo.raster import load_raster  # lazy: rasterio only when rasters are used

    for name, spec in sc.rasters.items():
        _exists(sc, spec.path, f"raster {name!r}")
    return {name: load_raster(sc.resolve(spec.path), working_crs=wcrs, name=name, aoi_bounds=aoi,
                              derive=spec.derive, z_factor=spec.z_factor, crs=spec.crs,
                              resolution=spec.resolution_m, nodata=spec.nodata, allow_network=spec.allow_network)
            for name, spec in sc.rasters.items()}


def _screener(sc: Scenario, rasters: dict, screen_fn=screen, layers: dict | None = None, *, whole: bool = True):
    """The two-stage screening with the candidate method's generator (parcels: their connected parts)."""
    c = sc.candidates
    if c.method == "parcels":  # each connected part of a parcel's eligible land is a candidate
        generator = Generator("parts", {"min_width_m": c.min_width_m})
    else:
        generator = Generator(c.method, _generator_options(sc, rasters, layers))

    def staged(candidates, rules, ctx):
        return screen_staged(candidates, rules, ctx, generator=generator, screen=screen_fn, whole=whole)

    return staged


def _generator_options(sc: Scenario, rasters: dict, layers: dict | None = None) -> dict:
    """Keyword options of the grid or pack generator."""
    c = sc.candidates
    if c.method == "grid":
        options = {"cell_acres": c.cell_acres, "cell_m": c.cell_m, "shape": c.shape or "hex"}
    else:
        options = {"footprint_acres": c.footprint_acres, "shape": c.shape or "square", "aspect": c.aspect,
                   "spacing_m": c.spacing_m, "edge_setback_m": c.edge_setback_m, "objective": c.objective,
                   "score": rasters[c.score_raster] if c.score_raster else None, "method": c.solver,
                   "seed": c.seed, "time_limit_s": c.time_limit_s}
        if c.align:
            options.update(align=c.align, plss=(layers or {})[c.plss])
    return options


def scenario_rules(sc: Scenario) -> list:
    """The rules a scenario applies, in order: its constraints, then ``candidates.min_area_acres``.

    Examples
    --------
    >>> sc = load_scenario({"name": "demo", "layers": {"parcels": {"path": "p.gpkg"}},
    ...                     "constraints": [{"rule": "agency_in", "values": ["BLM"]}],
    ...                     "candidates": {"min_area_acres": 40}})
    >>> [r.label() for r in scenario_rules(sc)]
    ['agency_in', 'min_area']

    An ``include`` is handed to the rules it overrides (:meth:`~siting.screen.rule_base.BaseRule.with_includes`).
    """
    rules = list(sc.constraints)
    if sc.candidates.split_by:
        rules.insert(0, InsideZones(id=f"inside_{sc.candidates.split_by}", where=f"zone != '{OUTSIDE_ZONES}'",
                                    zones=sc.candidates.split_by))
    if sc.candidates.min_area_acres > 0:
        rules.append(MinArea(acres=sc.candidates.min_area_acres))
    includes = [r for r in rules if isinstance(r, Include)]
    if includes:  # each rule learns the includes that override it
        rules = [r.with_includes([i for i in includes if i.covers(lab)])
                 for r, lab in zip(rules, rule_labels(rules), strict=True)]
    return rules


def _warn_unapplied(screening, units: pd.DataFrame, classes: dict) -> None:
    """Say so when a candidate class has no member or a rule's ``applies_to`` selected no candidate: such a rule
    judged nothing (a filter value mistyped, e.g. 'dod-doe' for 'dod_doe')."""
    for name in classes:
        if "candidate_class" in units and not (units["candidate_class"] == name).any():
            warn(f"candidates.classes: class {name!r} has none of the {len(units):,} parcels "
                 f"({classes[name]}); check the filter's values")
    for label, rule in screening.applied.items():
        judged, applies = screening.long_ledger.applies.get(label, (0, True))
        if rule.applies_to and judged and not applies:
            warn(f"rule {label} applies to none of the {judged:,} candidates (applies_to: "
                 f"{rule.applies_to}): it judged nothing; check the filter's values")


def _check_judgeable(sc: Scenario, rules: list, layers: dict, rasters: dict) -> None:
    """Refuse a run whose rules or factors cannot be judged on the loaded data (a field the layer lacks or
    that is missing everywhere, a filter that selects nothing): an error, never a silent pass."""
    frames = {name: [frame] for name, frame in layers.items()}
    problems = [message for rule in rules for _, message in rule.check(frames, rasters)]
    problems += [message for factor in sc.factors for message in factor.check(frames, rasters)]
    if problems:
        raise ScenarioError(f"scenario {sc.name!r} cannot be judged on its data:\n"
                            + "\n".join(f"  - {p}" for p in problems))


def _score(screened: gpd.GeoDataFrame, keep: np.ndarray, moved: dict, sc: Scenario,
           weights: dict) -> gpd.GeoDataFrame:
    """The eligible candidates (``keep``) as sites with their factor values (``moved["raw"]``, on the same
    index, handed over: this holds the only reference), scores, rank and tier, in rank order.

    Each part is taken in rank order once and its unordered copy let go before the next is taken: the factor
    values, then the scores, then the candidates' rows (the unordered factor values and scores were held
    beside every ordered copy: the run's peak at 1x)."""
    raw = moved.pop("raw")
    pos = np.flatnonzero(keep)
    table = score_table(raw, sc.factors, method=sc.scoring.method, weights=weights)
    ids = screened["candidate_id"].iloc[pos].set_axis(table.index)
    ranks = rank(table["score"], ids).to_numpy() if len(pos) else np.zeros(0, int)
    order = np.argsort(ranks, kind="stable")
    raw = raw.take(order)
    table = table.take(order)
    sites = screened.take(pos[order])
    sites.insert(0, "site_id", sites["candidate_id"])
    out = pd.concat([sites, raw, table], axis=1)
    del sites, raw, table
    out["rank"] = ranks[order]
    t = sc.scoring.tiers
    out["tier"] = tiers(out["score"], thresholds=t.thresholds, quantiles=t.quantiles,
                        labels=t.labels) if len(out) else pd.Series(dtype=object)
    out = repeated_text(out)  # tiers
    return gpd.GeoDataFrame(out, geometry="geometry", crs=screened.crs)


def _inputs(sc: Scenario) -> list[dict]:
    """Every input file with its SHA-256, and for a virtual file (.vrt) every file it reads."""
    entries = [("layer", name, sc.resolve(spec.path)) for name in sc.layers for spec in sc.layer_specs(name)]
    entries += [("raster", name, sc.resolve(r.path)) for name, r in sc.rasters.items()]
    out = []
    for kind, name, p in entries:
        entry: dict = {kind: name, "path": str(p), "sha256": sha256_of(p) if p.is_file() else None}
        fetched = manifest_of(p) if kind == "layer" else None
        if fetched:  # a catalog dataset: where it came from, when, and how to cite it
            entry.update({k: fetched.get(k) for k in ("dataset", "url", "extent", "fetched", "features",
                                                       "licence", "citation")})
        sources = virtual_sources(p)
        if sources:
            entry["sources"] = [{"path": s, "sha256": sha256_of(Path(s)) if Path(s).is_file() else None}
                                for s in sources]
        out.append(entry)
    return out


def _versions() -> dict:
    import pyogrio
    import pyproj
    import shapely

    from siting import __version__

    return {"siting": __version__, "python": platform.python_version(), "geopandas": gpd.__version__,
            "shapely": shapely.__version__, "geos": ".".join(map(str, shapely.geos_version)),
            "pyogrio": pyogrio.__version__, "gdal": pyogrio.__gdal_version_string__,
            "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
            "pandas": pd.__version__, "numpy": np.__version__}


def run(scenario, *, engine: str = "local", scheduler=None, progress: bool | None = None,
        fetch: bool = False) -> SitingResult:
    """Run a scenario end to end and return a :class:`SitingResult`.

    Parameters
    ----------
    scenario : str, Path, dict or Scenario
        A scenario file (YAML/TOML) or its content.
    engine : {"local", "dask"}
        ``local`` runs every step in this process; ``dask`` runs screening and factors partitioned
        with dask-geopandas on a dask.distributed cluster (``pip install 'siting[dask]'``), with
        the same result.
    scheduler : str, optional
        With ``engine="dask"``: the address of a running scheduler (``tcp://host:8786``); without
        it a 2-worker LocalCluster is started for the run and closed after it.
    progress : bool, optional
        Show a progress bar (default: the session setting).
    fetch : bool
        Fetch layers that name catalog datasets (``fetch:``) and are not in the cache yet; without
        it (and without ``fetch_missing: true`` in the scenario) a missing one is an error.

    Returns
    -------
    SitingResult
    """
    sc = resolve_fetches(load_scenario(scenario), fetch_missing=fetch)
    started = datetime.now(UTC)
    with make_engine(engine, scheduler) as eng:
        steps = Steps(STEPS, progress)
        try:
            result = _run_steps(sc, steps, eng)
            result.meta.update({"run_id": uuid.uuid4().hex[:12], "started": started.isoformat(timespec="seconds"),
                                "versions": _versions(),
                                "inputs": _inputs(sc), "timings": steps.timings, "engine": eng.describe()})
        finally:
            steps.close()
    gc.collect()  # the run's temporaries (some in reference cycles) go now,
    release_memory()  # and their heap goes back to the system
    return result


def _run_steps(sc: Scenario, steps: Steps, eng) -> SitingResult:
    with steps.step("load layers") as info:
        layers, loaded, wcrs = _load_layers(sc)
        info["layers"], info["features"] = len(layers), sum(len(f) for f in layers.values())
    with steps.step("load rasters") as info:
        rasters = _load_rasters(sc, wcrs, tuple(layers["parcels"].total_bounds))
        info["rasters"] = len(rasters)
    rules = scenario_rules(sc)
    _check_judgeable(sc, rules, layers, rasters)
    with steps.step("candidates") as info:
        zones = layers[sc.candidates.split_by] if sc.candidates.split_by else None
        candidates = candidates_from_parcels(layers["parcels"], split_by=zones, zone_snap_m=sc.candidates.zone_snap_m)
        if sc.candidates.classes:
            candidates = assign_classes(candidates, sc.candidates.classes)
        info["parcel_units"] = len(candidates)
    reuse = Reuse()  # a site rule's distances serve a factor on the same layer
    ctx = RuleContext(layers, rasters, reuse=reuse)
    with steps.step("constraints") as info:
        screening = _screener(sc, rasters, eng.screen, layers)(candidates, rules, ctx)
        info["rules"], info["eligible"] = len(rules), int(screening.frame["eligible"].sum())
    _warn_unapplied(screening, candidates, sc.candidates.classes)
    screened = _name_installations(screening.frame, layers, loaded)
    keep = screened["eligible"].to_numpy(bool)
    with steps.step("factors") as info:
        raw = repeated_text(eng.factors(_factor_frame(screened, keep, sc.factors), sc.factors, layers, rasters,
                                        reuse=reuse))  # feature names
        for factor in sc.factors:  # on every site at once (an engine measures partitions)
            factor.judge(raw)
        info["factors"], info["sites"] = len(sc.factors), int(keep.sum())
    reuse.clear()
    with steps.step("scoring") as info:
        names = [f.name for f in sc.factors]
        weights, note = resolve_weights(sc.scoring.weights, names, [f.weight for f in sc.factors]) \
            if sc.factors else ({}, {"method": "none"})
        moved = {"raw": raw}
        del raw
        sites = _score(screened, keep, moved, sc, weights)
        if sc.candidates.plss:  # legal descriptions from the BLM PLSS quarter-quarters
            sites["plss_description"] = legal_descriptions(sites, layers[sc.candidates.plss], layer=sc.candidates.plss)
        info["sites"], info["method"] = len(sites), sc.scoring.method
    reports = {name: [p.report for p in parts] for name, parts in loaded.items()}
    rejects = pd.concat([p.rejects for parts in loaded.values() for p in parts], ignore_index=True)
    meta = {"working_crs": str(wcrs.to_string()), "candidate_method": sc.candidates.method,
            "weights": {**note, "weights": {k: float(v) for k, v in weights.items()}}}
    if screening.generation:
        meta["packing"] = screening.generation
    local = _screener(sc, rasters, partial(screen, whole=False), layers, whole=False)  # analyses: quietly

    def rescreen(label: str, value: float) -> pd.DataFrame:
        labelled = dict(zip(rule_labels(rules), rules, strict=True))
        changed = [r.relax(value).model_copy(update={"id": label}) if lab == label else r
                   for lab, r in labelled.items()]  # raises for a rule without a numeric threshold
        if label in labelled and float(value) == labelled[label].parameter_value():
            return screened.copy(deep=False)  # the rule as the run screened it: the run's own screening
        return local(candidates, changed, RuleContext(layers, rasters, values=False)).frame  # decisions only

    result = SitingResult(scenario=sc, sites=sites, candidates=screened, funnel=screening.funnel,
                          long_ledger=screening.long_ledger, rules=screening.rules, layers=layers, rasters=rasters,
                          reports=reports, rejects=rejects, meta=meta, eligible_land=screening.land,
                          rule_objects=screening.applied, rescreen=rescreen)
    with steps.step("analysis") as info:
        result.analyse()
        info["analyses"] = len(result.analysis)
    return result
