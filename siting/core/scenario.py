"""Scenario files: schema (pydantic) and loader (YAML via ``yaml.safe_load``, or TOML).

A scenario says which file is which layer, the hard constraints, how
candidates are made, the factors and weights, and the outputs. Unknown keys
are errors that name the key path and list the allowed keys. Paths are
relative to the scenario file; ``${VAR}`` and ``${VAR:-default}`` are
expanded from the environment (e.g. ``${SITING_REALDATA:-../../shared/realdata}``).

Examples
--------
>>> sc = load_scenario({"version": 1, "name": "t", "layers": {"parcels": {"path": "p.gpkg"}}})
>>> sc.name, [s.path for s in sc.layer_specs("parcels")]
('t', ['p.gpkg'])
>>> load_scenario({"version": 1, "name": "t", "layers": {"parcels": {"pth": "p.gpkg"}}})
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: scenario is invalid:
  - layers.parcels.pth: unknown key; allowed keys: path, fetch, state, bbox, source, layer, crs, ...
>>> sc.candidates == CandidateSpec(), sc.outputs == OutputSpec(), sc.scoring == ScoringSpec()
(True, True, True)
>>> LayerSpec(path="roads.geojson", where="MTFCC == 'S1100'").where
"MTFCC == 'S1100'"
>>> RasterSpec(path="dem.tif", derive="slope_percent").derive
'slope_percent'
>>> isinstance(sc, Scenario)
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from siting.core.errors import ScenarioError
from siting.core.scenario_errors import is_branch, message
from siting.core.scenario_file import check_values, read_scenario_file
from siting.io import minerals
from siting.score.factors import Factor
from siting.score.weights import WeightSpec
from siting.screen import where
from siting.screen.rules import MinArea, Rule

__all__ = ["CandidateSpec", "LayerSpec", "OutputSpec", "RasterSpec", "Scenario", "ScoringSpec",
           "load_scenario"]

_STRICT = ConfigDict(extra="forbid")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class LayerSpec(BaseModel):
    """One input file: where it is and how to read it, or a catalog dataset (``fetch:``) for a state or box."""

    model_config = _STRICT
    path: str = ""
    fetch: str | None = Field(None, description="A catalog dataset instead of a path (`siting data list`).")
    state: str | None = Field(None, description="With fetch: the state (NV, Nevada).")
    bbox: list[float] | str | None = Field(None, description="With fetch: the box W,S,E,N in degrees.")
    source: str | None = None
    layer: str | int | None = None
    crs: str | int | None = None
    on_invalid: Literal["repair", "drop", "raise"] = "repair"
    allow_network: bool = Field(False, description="Let a .vrt (or the path) read remote sources.")
    encoding: str | None = None
    lat: str | None = None; lon: str | None = None  # noqa: E702  (CSV point columns)
    where: str | None = None
    dedupe: bool = False
    id_field: str | None = None
    kind: str | None = None
    agency: str | None = Field(None, description="With `source: land`: who manages every feature (DOE, DOD, BLM...).")
    critical_year: Literal[2022, 2025] = 2025
    commodities: list[str] | None = Field(None, description="Keep deposits of these commodities/groups.")

    @field_validator("commodities")
    @classmethod
    def _commodities(cls, v):
        if v:
            minerals.expand(v)
        return v

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        return where.validate(v) if v else v

    @model_validator(mode="after")
    def _path_or_fetch(self):
        if bool(self.path) == bool(self.fetch):
            raise ValueError("give a layer either `path:` or `fetch:` (a catalog dataset), one of them")
        if self.fetch and (self.state is None) == (self.bbox is None):
            raise ValueError(f"`fetch: {self.fetch}` needs `state:` or `bbox:` (one of them)")
        if (self.agency is not None) != (self.source == "land"):
            raise ValueError("`agency:` goes with `source: land` (your own outlines), and `source: land` needs it")
        return self


class RasterSpec(BaseModel):
    """A raster input; ``derive`` computes slope from a DEM."""

    model_config = _STRICT
    path: str
    derive: Literal["slope_percent", "slope_degrees"] | None = None
    z_factor: float = Field(1.0, gt=0, description="Multiplies the values (after the band's own scale and offset): "
                            "0.3048 for a DEM in feet that does not declare its unit; one that does is converted")
    crs: str | int | None = None
    resolution_m: float | None = Field(None, gt=0)
    nodata: float | None = Field(None, description="The stored value of pixels without data, where the file does "
                                 "not say (SRTM and USGS DEMs: -32768); it replaces the file's own")
    allow_network: bool = Field(False, description="Let a .vrt (or the path) read remote sources.")


_SHAPES = {"grid": ("hex", "square"), "pack": ("square", "rectangle", "circle")}


class CandidateSpec(BaseModel):
    """How candidate sites are made.

    ``parcels``: the eligible remainder of each parcel. ``grid``: cells of ``cell_acres`` (or
    ``cell_m`` wide) cut from the eligible land. ``pack``: as many facility footprints of
    ``footprint_acres`` as fit on the eligible land, ``spacing_m`` apart (see
    :func:`siting.pack_sites`). With ``grid`` and ``pack``, land rules (agency, GAP status,
    designation, attribute, outside) cut the parcels first; site rules (distance, raster,
    minimum area) then judge each cell or footprint.
    """

    model_config = _STRICT
    method: Literal["parcels", "grid", "pack"] = "parcels"
    min_area_acres: float = Field(0.0, ge=0)
    split_by: str | None = Field(None, description="A polygon layer (e.g. counties) cutting parcels.")
    zone_snap_m: float = Field(100.0, ge=0, description="split_by: land outside every zone joins the nearest zone "
                               "within this distance; farther land fails the rule inside_<layer>.")
    min_width_m: float = Field(100.0, ge=0, description="parcels: parts of the eligible land narrower than this "
                               "are removed (morphological opening) before the site rules.")
    shape: str | None = Field(None, description="grid: hex|square (default hex); pack: square|rectangle|circle.")
    cell_acres: float | None = Field(None, gt=0)
    cell_m: float | None = Field(None, gt=0)
    footprint_acres: float | None = Field(None, gt=0)
    aspect: float = Field(1.0, gt=0)
    spacing_m: float = Field(0.0, ge=0)
    edge_setback_m: float = Field(0.0, ge=0)
    objective: Literal["count", "score"] = "count"
    score_raster: str | None = Field(None, description="pack: raster whose value each footprint maximises.")
    solver: Literal["greedy", "exact"] = "greedy"
    seed: int = 0
    time_limit_s: float = Field(60.0, gt=0)
    plss: str | None = Field(None, description="BLM CadNSDI quarter-quarters: legal descriptions, align.")
    align: Literal["plss"] | None = Field(None, description="pack: whole aliquot parts of the plss layer.")
    classes: dict[str, str] = Field({}, description="name -> parcel filter; column candidate_class (else 'other').")

    @field_validator("classes")
    @classmethod
    def _classes(cls, v):
        if any(not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", k) or k == "other" for k in v):
            raise ValueError(f"candidates.classes: names must be letters, digits and _ (and not 'other'): {list(v)}")
        return {k: where.validate(e) for k, e in v.items()}

    @model_validator(mode="after")
    def _method_options(self):
        m = self.method
        if self.shape is not None and (m == "parcels" or self.shape not in _SHAPES[m]):
            allowed = ", ".join(_SHAPES.get(m, ())) or "none (parcels have their own shape)"
            raise ValueError(f"shape {self.shape!r} does not apply to method {m!r}; allowed: {allowed}")
        if self.align and (m != "pack" or not self.plss):
            raise ValueError("align: plss needs method: pack and candidates.plss (the PLSS quarter-quarter layer)")
        if m == "grid" and (self.cell_acres is None) == (self.cell_m is None):
            raise ValueError("method grid needs exactly one of cell_acres or cell_m")
        if m == "pack" and self.footprint_acres is None:
            raise ValueError("method pack needs footprint_acres")
        if self.objective == "score" and not self.score_raster:
            raise ValueError("objective score needs score_raster (a raster the footprints maximise)")
        pack_only = {"footprint_acres", "spacing_m", "edge_setback_m", "score_raster", "solver", "aspect"}
        grid_only = {"cell_acres", "cell_m"}
        wrong = (pack_only if m != "pack" else set()) | (grid_only if m != "grid" else set())
        misplaced = sorted(wrong & self.model_fields_set)
        if misplaced:
            raise ValueError("; ".join(f"{k} is used only by method {'pack' if k in pack_only else 'grid'}, "
                                       f"not {m!r}" for k in misplaced))
        return self


class TierSpec(BaseModel):
    """Tiers by score thresholds (default 0.7 / 0.4) or quantiles."""

    model_config = _STRICT
    thresholds: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(None, description="Scores run from 0 to 1")
    quantiles: list[Annotated[float, Field(gt=0, lt=1)]] | None = None
    labels: list[str] | None = None


class ScoringSpec(BaseModel):
    """How factor scores are combined (see :mod:`siting.score.scoring` and :mod:`siting.score.weights`)."""

    model_config = _STRICT
    method: Literal["weighted_sum", "weighted_product", "topsis", "minimum"] = "weighted_sum"
    weights: WeightSpec = Field(default_factory=WeightSpec)
    tiers: TierSpec = Field(default_factory=TierSpec)


class SensitivitySpec(BaseModel):
    """Monte Carlo weight perturbation (Dirichlet around the chosen weights)."""

    model_config = _STRICT
    n: int = Field(1000, ge=10, le=100_000)
    spread: float = Field(0.2, gt=0, le=2)
    seed: int = 0
    top_k: int = Field(10, ge=1)
    #: Only the best ``top`` sites (each still ranked among all): a national run's ranks fit in memory.
    top: int | None = Field(None, ge=1)


class RelaxationSpec(BaseModel):
    """A relaxation curve: the rule and the thresholds to try."""

    model_config = _STRICT
    rule: str
    values: list[float] = Field(min_length=1, max_length=200)


def _refused(rule, value: float) -> str:
    """Why ``rule`` relaxed to ``value`` would be invalid (e.g. a negative distance), or ''."""
    try:
        rule.relax(value)
    except ValueError as exc:  # pydantic's ValidationError is one
        return "; ".join(e["msg"] for e in exc.errors()) if hasattr(exc, "errors") else str(exc)
    return ""


class AnalysisSpec(BaseModel):
    """Analyses written with the outputs: sensitivity, one-at-a-time sweeps, near misses, relaxation."""

    model_config = _STRICT
    sensitivity: SensitivitySpec | None = None
    weight_sweeps: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Weight multipliers, e.g. [0, 0.5, 1, 1.5, 2]")
    near_misses: bool = True
    relaxation: list[RelaxationSpec] = []


class OutputSpec(BaseModel):
    """Which deliverables a run writes."""

    model_config = _STRICT
    formats: list[Literal["geojson", "gpkg", "html", "csv"]] = ["geojson", "gpkg", "html", "csv"]
    map_max_sites: int = Field(2000, gt=0, description="Sites drawn as polygons on the map (the best by rank).")
    map_max_points: int = Field(25_000, gt=0, description="Sites drawn as clustered points (beyond: summary cells).")
    geojson_max_sites: int | None = Field(None, gt=0, description="Only the best N sites in sites.geojson "
                                          "(every site stays in siting.gpkg).")
    gpkg_max_rows: int = Field(250_000, gt=0, description="Candidates, the long-form ledger and input layers "
                               "with more rows go to GeoParquet files instead of siting.gpkg.")
    title: str | None = None
    offline_map: bool = Field(False, description="No web tiles layer at all in map.html (it never makes a request).")
    map_cdn: bool = Field(False, description="map.html loads its scripts from CDNs (blank offline) instead of inline.")
    map_tiles: str | None = Field("OpenStreetMap", description="Web tiles: an extra map layer, off until ticked.")
    map_attribution: str | None = Field(None, description="Attribution of map_tiles (required for a tile URL).")
    color_by: Literal["score", "tier"] = "score"
    geoparquet: bool = Field(True, description="Also write sites and candidates as GeoParquet.")
    shapefile: bool = Field(False, description="Also write sites.shp with a field-name crosswalk.")


class Scenario(BaseModel):
    """A whole siting scenario (see ``sample_data/nevada_demo.yaml``)."""

    model_config = _STRICT
    version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.,()-]*$")
    description: str | None = None
    crs: str | int = "auto"
    layers: dict[str, LayerSpec | list[LayerSpec]]
    rasters: dict[str, RasterSpec] = {}
    constraints: list[Rule] = []
    candidates: CandidateSpec = Field(default_factory=CandidateSpec)
    factors: list[Factor] = []
    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    outputs: OutputSpec = Field(default_factory=OutputSpec)
    fetch_missing: bool = Field(False, description="Fetch `fetch:` layers missing from the cache (else an error).")
    base_dir: str | None = Field(None, exclude=True)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v):
        if ".." in v:
            raise ValueError("a scenario name must not contain '..'")
        return v

    @field_validator("layers")
    @classmethod
    def _has_parcels(cls, v):
        if "parcels" not in v:
            raise ValueError("a scenario needs a `parcels` layer (the land to site on)")
        bad = [k for k in v if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", k)]
        if bad:
            raise ValueError(f"layer names must be letters, digits and _: {bad}")
        return v

    @model_validator(mode="after")
    def _references(self):
        names = set(self.layers)
        problems = []
        rasters = set(self.rasters)
        refs = [(f"constraints[{i}].layer", r.layers_used(), names, "layers") for i, r in enumerate(self.constraints)]
        refs += [(f"constraints[{i}].raster", r.rasters_used(), rasters, "rasters")
                 for i, r in enumerate(self.constraints)]
        refs += [(f"factors[{i}].{f.kind}", f.layers_used(), names, "layers") for i, f in enumerate(self.factors)]
        refs += [(f"factors[{i}].raster", f.rasters_used(), rasters, "rasters") for i, f in enumerate(self.factors)]
        for where_, used, pool, what in refs:
            problems += [f"{where_}: {ref!r} is not one of the {what} ({', '.join(sorted(pool)) or 'none'})"
                         for ref in used if ref not in pool]
        factor_names = [f.name for f in self.factors]
        w = self.scoring.weights
        if w.method == "rank_order_centroid" and w.order and sorted(w.order) != sorted(factor_names):
            problems.append(f"scoring.weights.order must list every factor once: {', '.join(factor_names)}")
        if w.method == "ahp" and not w.pairwise:
            problems.append("scoring.weights.pairwise is needed for ahp")
        problems += self._unknown_names(factor_names)
        for key in ("split_by", "plss"):
            value = getattr(self.candidates, key)
            if value and value not in names:
                problems.append(f"candidates.{key}: {value!r} is not one of the layers")
        if self.candidates.score_raster and self.candidates.score_raster not in self.rasters:
            problems.append(f"candidates.score_raster: {self.candidates.score_raster!r} is not one of the rasters "
                            f"({', '.join(sorted(self.rasters)) or 'none'})")
        dup = {f.name for f in self.factors if [g.name for g in self.factors].count(f.name) > 1}
        if dup:
            problems.append(f"factors: names must be unique, repeated: {sorted(dup)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _unknown_names(self, factor_names: list[str]) -> list[str]:
        """Factor names in AHP judgements and rule names in relaxation curves that the scenario lacks."""
        w = self.scoring.weights
        ahp = sorted({n for a, row in (w.pairwise or {}).items() for n in (a, *row)} - set(factor_names)) \
            if w.method == "ahp" else []
        problems = [f"scoring.weights.pairwise: {n!r} is not one of the factors ({', '.join(factor_names)})"
                    for n in ahp]
        rules = {r.label(): r for r in self.constraints}
        if self.candidates.min_area_acres > 0:
            rules["min_area"] = MinArea(acres=self.candidates.min_area_acres)
        for i, spec in enumerate(self.analysis.relaxation):
            rule = rules.get(spec.rule)
            if rule is None:
                problems.append(f"analysis.relaxation[{i}].rule: {spec.rule!r} is not one of the rules "
                                f"({', '.join(rules) or 'none'})")
            elif rule.parameter is None:
                problems.append(f"analysis.relaxation[{i}].rule: {spec.rule!r} has no numeric threshold to relax")
            else:
                problems += [f"analysis.relaxation[{i}].values[{j}]: {v:g} is not a {rule.parameter} the rule "
                             f"takes ({why})" for j, v in enumerate(spec.values) if (why := _refused(rule, v))]
        problems += [f"constraints[{i}].rules: {n!r} is not one of the rules ({', '.join(rules)})"
                     for i, r in enumerate(self.constraints) for n in (getattr(r, "rules", None) or [])
                     if n not in rules and not n.startswith("inside_")]
        return problems

    def layer_specs(self, name: str) -> list[LayerSpec]:
        """The specs of a layer as a list (a layer may combine several files)."""
        spec = self.layers[name]
        return spec if isinstance(spec, list) else [spec]

    def resolve(self, path: str) -> Path:
        """A scenario path made absolute: env vars expanded, relative to the scenario file.

        A path that starts with an environment variable set to a relative path (``SITING_REALDATA=
        ../shared/realdata``) takes that value relative to the working directory, as a shell would;
        the rest of a relative path is relative to the scenario's folder.

        Examples
        --------
        >>> import os
        >>> sc = Scenario(name="t", layers={"parcels": {"path": "p.gpkg"}}, base_dir="/data/scenarios")
        >>> str(sc.resolve("p.gpkg"))
        '/data/scenarios/p.gpkg'
        >>> os.environ["SITING_TEST_DIR"] = "shared"
        >>> sc.resolve("${SITING_TEST_DIR}/p.gpkg") == Path.cwd() / "shared" / "p.gpkg"
        True
        """
        p = Path(_expand(path, absolute_vars=True)).expanduser()
        return p if p.is_absolute() or self.base_dir is None else Path(self.base_dir) / p

    def explain_path(self, path: str) -> str:
        """How :meth:`resolve` turned ``path`` into a file name (for "file not found" messages).

        Examples
        --------
        >>> sc = Scenario(name="t", layers={"parcels": {"path": "p.gpkg"}}, base_dir="/data")
        >>> sc.explain_path("p.gpkg")
        "'p.gpkg' relative to the scenario's folder /data"
        """
        used = [f"${{{m.group(1)}}} = {os.environ.get(m.group(1))!r}" for m in _VAR.finditer(path)
                if os.environ.get(m.group(1))]
        base = ("relative to the scenario's folder " + str(self.base_dir) if self.base_dir else
                f"relative to the working directory {Path.cwd()}")
        env = f"; {', '.join(used)} (a relative value is taken from the working directory {Path.cwd()})" \
            if used else ""
        return f"{path!r} {base}{env}"


def _expand(text: str, *, absolute_vars: bool = False) -> str:
    def sub(m):
        value = os.environ.get(m.group(1))
        if value:
            if absolute_vars and m.start() == 0 and not os.path.isabs(os.path.expanduser(value)):
                return os.path.abspath(value)  # a shell user's relative path: from the working directory
            return value
        if m.group(2) is not None:
            return m.group(2)
        raise ScenarioError(f"path {text!r} uses ${{{m.group(1)}}}, which is not set; set it or "
                            f"write ${{{m.group(1)}:-default}}")
    return _VAR.sub(sub, text)


def load_scenario(src) -> Scenario:
    """Load and validate a scenario from a path, a mapping, or a Scenario.

    Parameters
    ----------
    src : str, Path, dict or Scenario
        A ``.yaml``/``.yml`` or ``.toml`` file, or the parsed content.

    Returns
    -------
    Scenario
        ``base_dir`` is set to the file's folder so relative paths resolve.

    Raises
    ------
    ScenarioError
        Listing every problem with its key path.
    """
    if isinstance(src, Scenario):
        return src
    base_dir = None
    if isinstance(src, str | os.PathLike):
        path = Path(src)
        data, base_dir = read_scenario_file(path), str(path.resolve().parent)
    else:
        data = src
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping of keys (version, name, layers, ...)")
    check_values(data, "scenario")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        # where "one spec or a list of specs" is allowed, drop the branch the input was not
        errors = [e for e in exc.errors() if not (
            e["type"] in ("list_type", "model_type", "dict_type") and any(is_branch(k) for k in e["loc"]))]
        lines = list(dict.fromkeys(f"  - {message(e)}" for e in errors or exc.errors()))
        raise ScenarioError("scenario is invalid:\n" + "\n".join(lines)) from None
    if base_dir is not None:
        sc = sc.model_copy(update={"base_dir": base_dir})
    return sc
