"""``siting validate``: every problem in every layer of a scenario, at once, without running it.

For each layer file: missing file, missing CRS, detected source (and whether it fits the layer's
role), geometry validity counts, rejected rows with reasons, sentinel and placeholder counts,
duplicate ids, positions outside the US (a lat/lon swap or wrong CRS), and filter fields the layer
does not have. For each raster: missing file, missing CRS, no overlap with the parcels. Problems are
collected, not raised, so one run of ``siting validate`` shows all of them.

Examples
--------
>>> report = check_scenario("sample_data/nevada_demo.yaml")  # doctest: +SKIP
>>> report.errors  # doctest: +SKIP
[]
>>> report = CheckReport()
>>> report.add("error", "parcels", "p.gpkg", "file not found")
>>> report.errors == [Problem("error", "parcels", "p.gpkg", "file not found")]
True
>>> print(report.format())
ERROR   parcels: file not found [p.gpkg]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from siting.core.errors import CRSError, FieldError, SitingError
from siting.core.pipeline import scenario_rules
from siting.core.scenario import Scenario, load_scenario
from siting.io import crs as crs_mod
from siting.io.layers import load_layer
from siting.schema import ROLE_KIND

__all__ = ["CheckReport", "Problem", "check_scenario"]



@dataclass
class Problem:
    """One finding: ``level`` is ``error`` (the run would fail or be wrong) or ``warning``."""

    level: str
    layer: str
    file: str
    message: str


@dataclass
class CheckReport:
    """All findings for a scenario, and per-layer load summaries."""

    problems: list[Problem] = field(default_factory=list)
    layers: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """The problems of level ``error``."""
        return [p for p in self.problems if p.level == "error"]

    def add(self, level: str, layer: str, file, message: str) -> None:
        """Record a finding."""
        self.problems.append(Problem(level, layer, str(file), message))

    def to_frame(self) -> pd.DataFrame:
        """The findings as a table."""
        return pd.DataFrame([p.__dict__ for p in self.problems], columns=["level", "layer", "file", "message"])

    def format(self) -> str:
        """Text for the terminal: one line per finding, then the per-layer counts."""
        lines = [f"{p.level.upper():7} {p.layer}: {p.message}"
                 + (f" [{p.file}]" if p.file and p.file not in p.message else "") for p in self.problems]
        for name, s in self.layers.items():
            lines.append(f"layer {name}: {s['source']}, {s['read']:,} read, {s['kept']:,} kept, "
                         f"{s['repaired']:,} repaired, {s['rejected']:,} rejected")
        return "\n".join(lines)


def _load_checked(sc: Scenario, name: str, spec, report: CheckReport):
    path = sc.resolve(spec.path)
    opts = spec.model_dump(exclude={"path", "on_invalid"}, exclude_none=True)
    if not path.exists():
        report.add("error", name, path, f"file not found (from {sc.explain_path(spec.path)})")
        return None
    for _ in range(3):  # after an error, keep checking the rest of the layer
        try:
            return load_layer(path, name=name, on_invalid="repair", **opts)
        except CRSError as exc:
            report.add("error", name, path, str(exc))
            if "crs" in opts:
                return None
            opts["crs"] = "EPSG:4326"  # as if it were lon/lat
        except FieldError as exc:
            report.add("error", name, path, str(exc))
            if "id_field" not in opts:
                return None
            opts.pop("id_field")
        except SitingError as exc:
            report.add("error", name, path, str(exc))
            return None
    return None


def _summarise(loaded, name, spec_path, report: CheckReport) -> None:
    r = loaded.report
    expected = ROLE_KIND.get(name)
    if expected and r.kind != expected:
        own = "; for your own outlines without a known schema, `source: land` with `agency:`" * (expected == "parcels")
        report.add("error", name, spec_path, f"is read as {r.kind} (source {r.source}) but the "
                   f"`{name}` layer must be {expected}; set `source:`{own}")
    for issue in r.issues:
        level = "warning"
        report.add(level, name, spec_path, f"{issue['problem']} in {issue['field']}: {issue['count']:,} "
                   f"({issue['action']}; e.g. {', '.join(issue['examples'][:3])})")
    if len(loaded.rejects):
        for reason, n in loaded.rejects["reason"].value_counts().items():
            rows = loaded.rejects.loc[loaded.rejects["reason"] == reason, "src_row"].head(3).tolist()
            report.add("warning", name, spec_path, f"{n:,} feature(s) will be rejected: {reason} "
                       f"(rows {', '.join(map(str, rows))})")
    if r.kept + r.repaired == 0:  # as the run's layer warning says
        report.add("warning", name, spec_path, "no feature left: the layer is empty"
                   + (f" (all {r.read:,} rejected)" if r.read else ""))
    report.layers.setdefault(name, {"source": r.source, "read": 0, "kept": 0, "repaired": 0, "rejected": 0})
    for k in ("read", "kept", "repaired", "rejected"):
        report.layers[name][k] += getattr(r, k)


def _check_rasters(sc: Scenario, report: CheckReport, parcels_bounds) -> None:
    from siting.geo.raster import check_raster  # lazy: rasterio only when rasters are used

    for name, spec in sc.rasters.items():
        path = sc.resolve(spec.path)
        problem = check_raster(path, crs=spec.crs, lonlat_bounds=parcels_bounds, allow_network=spec.allow_network)
        if problem:
            report.add("error", name, path, problem)


def check_scenario(scenario) -> CheckReport:
    """Check a scenario's files and references; see the module docstring.

    Parameters
    ----------
    scenario : str, Path, dict or Scenario

    Returns
    -------
    CheckReport
        ``errors`` empty means the run can start.
    """
    sc = load_scenario(scenario)
    report = CheckReport()
    frames: dict[str, list] = {}
    for name in sc.layers:
        for spec in sc.layer_specs(name):
            loaded = _load_checked(sc, name, spec, report)
            if loaded is not None:
                _summarise(loaded, name, sc.resolve(spec.path), report)
                frames.setdefault(name, []).append(loaded.frame)
    declared = {name: frames.get(name, []) for name in sc.layers}  # a failed file was reported above
    for rule in scenario_rules(sc):  # each rule and factor checks the fields it reads
        for layer, message in rule.check(declared, sc.rasters):
            report.add("error", layer, "", message)
    for factor in sc.factors:
        for message in factor.check(declared, sc.rasters):
            report.add("error", factor.target or factor.name, "", message)
    parcels = frames.get("parcels")
    bounds = crs_mod.total_lonlat_bounds(parcels) if parcels else None
    if parcels:
        _check_crs(sc, parcels, bounds, report)
    _check_rasters(sc, report, bounds)
    return report


def _check_crs(sc: Scenario, parcels: list, bounds, report: CheckReport) -> None:
    """The working CRS must be projected and keep areas over the parcels; say what uneven stretch costs."""
    if sc.crs == "auto":
        wcrs = crs_mod.pick_working_crs(bounds)
    else:
        try:
            crs_mod.check_projected(sc.crs, what="the scenario's crs")
            crs_mod.check_areas(sc.crs, parcels)
        except CRSError as exc:
            report.add("error", "scenario", "", str(exc))
            return
        wcrs = crs_mod.resolve_crs(sc.crs)
    note = crs_mod.stretch_note(wcrs, parcels)
    if note:
        report.add("warning", "scenario", "crs", note)
