"""``load_result(folder)``: the :class:`SitingResult` a saved output folder holds.

The folder written by :meth:`SitingResult.save` (``siting run``) is the one source of truth for the
deliverables made afterwards: the static map, the report and ``siting map|report DIR`` load the
result here and draw from it, never from the folder's file layout or ``run.json`` keys.

What comes back: the scenario (as resolved for the run), sites and candidates (GeoParquet when the
run wrote it, else the GeoPackage layers), the funnel, ledger, rules, rejects, input layers, layer
reports, meta and the analyses. Rasters are not saved, so ``result.rasters`` is empty, and
relaxing a rule that changes the land (``outside``) needs a new run.

Examples
--------
>>> import siting, tempfile
>>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}], "outputs": {"formats": ["gpkg"]}}
>>> result = siting.run(small, progress=False)
>>> back = load_result(result.save(tempfile.mkdtemp() + "/out"))
>>> back.sites["site_id"].tolist() == result.sites["site_id"].tolist(), back.funnel.equals(result.funnel)
(True, True)
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from siting.core.errors import InputFileError
from siting.core.result import SitingResult
from siting.core.scenario import CandidateSpec, load_scenario
from siting.io.compact import repeated_text
from siting.io.layers import LayerReport
from siting.io.writers import slug
from siting.screen.ledger import COLUMNS, LongLedger, from_wide

__all__ = ["load_result"]


def _frame(folder: Path, gpkg_layers: set[str], name: str, crs, *,
           compact: bool = False) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """A saved layer or table: ``<name>.parquet`` when written, else the GeoPackage layer. ``compact``: its
    repeated text as categoricals, as the run held it (:func:`siting.io.compact.repeated_text`)."""
    parquet = folder / f"{slug(name)}.parquet"
    if parquet.exists():
        try:
            frame = gpd.read_parquet(parquet)
        except ValueError:  # a plain table
            frame = pd.read_parquet(parquet)
    elif name in gpkg_layers:
        frame = pyogrio.read_dataframe(folder / "siting.gpkg", layer=name, use_arrow=True)
    else:
        return None
    if isinstance(frame, gpd.GeoDataFrame) and crs is not None and frame.crs is not None and frame.crs != crs:
        frame = frame.to_crs(crs)
    return repeated_text(frame) if compact else frame


def _ledger(folder: Path, gpkg_layers: set[str], candidates, rules: pd.DataFrame) -> LongLedger:
    """The saved long ledger; when it was not written (more than ``outputs.gpkg_max_rows`` rows), the same
    entries from the candidates' ledger columns (:func:`siting.screen.ledger.from_wide`)."""
    if "ledger" in gpkg_layers:
        return LongLedger.of(_frame(folder, gpkg_layers, "ledger", None, compact=True))
    if candidates is not None and len(rules) and {"rule", "measure", "op"} <= set(rules.columns):
        return from_wide(candidates, rules)
    return LongLedger.of(pd.DataFrame(columns=COLUMNS))


def _input_layers(folder: Path, gpkg_layers: set[str], crs, layer_names) -> dict[str, gpd.GeoDataFrame]:
    """The canonical input layers by scenario name, joined again where a layer was split by geometry family
    (``input_<name>`` or ``input_<name>_<family>``)."""
    names = {p.stem for p in folder.glob("input_*.parquet")} | {n for n in gpkg_layers if n.startswith("input_")}
    by_slug = {slug(n): n for n in layer_names}
    parts: dict[str, list] = {}
    for name in sorted(names):
        base = name.removeprefix("input_")
        if base not in by_slug:  # split by family: input_<name>_<point|line|polygon>
            base = next((base.removesuffix(f) for f in ("_point", "_line", "_polygon")
                         if base.endswith(f) and base.removesuffix(f) in by_slug), base)
        parts.setdefault(by_slug.get(base, base), []).append(_frame(folder, gpkg_layers, name, crs))
    return {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True), geometry="geometry", crs=v[0].crs)
            if len(v) > 1 else v[0] for k, v in parts.items()}


def _as_written(scenario: dict) -> dict:
    """The resolved scenario of run.json with the candidate options left at their defaults dropped
    (a method's validator refuses another method's options when they are given)."""
    cand = scenario.get("candidates") or {}
    fields = CandidateSpec.model_fields
    kept = {k: v for k, v in cand.items() if k == "method" or k not in fields or v != fields[k].default}
    return {**scenario, "candidates": kept}


def _table(path: Path) -> pd.DataFrame:
    """A saved CSV table (an empty frame when the file is missing or has no columns)."""
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def _analyses(folder: Path) -> dict:
    out: dict = {}
    for name in ("near_misses", "weight_sweeps"):
        if (folder / f"{name}.csv").exists():
            out[name] = pd.read_csv(folder / f"{name}.csv")
    if (folder / "sensitivity.csv").exists():
        out["sensitivity"] = pd.read_csv(folder / "sensitivity.csv", index_col=0)
    for path in sorted(folder.glob("relaxation_*.csv")):
        table = pd.read_csv(path)
        out.setdefault("relaxation", {})[path.stem.removeprefix("relaxation_")] = table
    return out


def load_result(folder) -> SitingResult:
    """Read a saved output folder back into a :class:`SitingResult` (see the module docstring).

    Parameters
    ----------
    folder : str or Path
        A folder written by ``siting run`` or :meth:`SitingResult.save`.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputFileError
        When the folder has no ``run.json`` or no ``siting.gpkg`` / ``sites.parquet``.
    """
    from siting.core.pipeline import scenario_rules  # the rules as the run applied them
    from siting.screen.constraints import rule_labels

    folder = Path(folder)
    if not (folder / "run.json").is_file():
        raise InputFileError(f"{folder} has no run.json: it is not a siting output folder; run `siting run` first")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    gpkg = folder / "siting.gpkg"
    layers_in_gpkg = {n for n, _ in pyogrio.list_layers(gpkg)} if gpkg.exists() else set()
    if "sites" not in layers_in_gpkg and not (folder / "sites.parquet").exists():
        raise InputFileError(f"{folder} has neither siting.gpkg nor sites.parquet; save with format gpkg")
    scenario = load_scenario(_as_written(run["scenario"]))
    crs = run.get("meta", {}).get("working_crs")
    sites = _frame(folder, layers_in_gpkg, "sites", crs, compact=True)
    assert sites is not None  # checked above
    if "site_id" in sites and "candidate_id" not in sites:
        sites.insert(0, "candidate_id", sites["site_id"])
    rules = scenario_rules(scenario)
    candidates = _frame(folder, layers_in_gpkg, "candidates", crs, compact=True)
    rule_table = pd.DataFrame(run.get("rules", []))
    return SitingResult(
        scenario=scenario, sites=sites.sort_values("rank") if "rank" in sites else sites,
        candidates=candidates, funnel=_table(folder / "funnel.csv"),
        long_ledger=_ledger(folder, layers_in_gpkg, candidates, rule_table), rules=rule_table, rasters={},
        layers=_input_layers(folder, layers_in_gpkg, crs, scenario.layers),
        reports={name: [LayerReport(**r) for r in reps] for name, reps in run.get("layers", {}).items()},
        rejects=_table(folder / "rejects.csv"),
        meta={**run.get("meta", {}), "notes": run.get("notes", []), "folder": str(folder)},
        analysis=_analyses(folder), eligible_land=_frame(folder, layers_in_gpkg, "eligible_land", crs),
        rule_objects=dict(zip(rule_labels(rules), rules, strict=True)))
