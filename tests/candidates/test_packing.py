"""Site packing and candidate grids: geometry guarantees, bounds, exact solver, determinism, scenario."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DEMO
from shapely import box

import siting
from siting.candidates.packing.footprint import Footprint
from siting.core.errors import ScenarioError, SitingError
from siting.core.scenario import CandidateSpec, load_scenario
from siting.core.settings import M2_PER_ACRE

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
X0, Y0 = -1_700_000.0, 1_900_000.0  # Nevada in EPSG:5070
FAST = {"rotations": (0, 30, 60), "offsets": 3}


@st.composite
def land_with_holes(draw):
    """1-3 parcels (boxes or rotated boxes) of 2-15 km with 0-4 holes, some touching each other."""
    shells = []
    for _ in range(draw(st.integers(1, 3))):
        x, y = draw(st.floats(0, 20_000)), draw(st.floats(0, 20_000))
        w, h = draw(st.floats(2_000, 15_000)), draw(st.floats(2_000, 15_000))
        angle = draw(st.sampled_from([0.0, 0.0, 17.0, 45.0]))
        shells.append(shapely.affinity.rotate(box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h), angle))
    holes = []
    for _ in range(draw(st.integers(0, 4))):
        x, y = draw(st.floats(0, 30_000)), draw(st.floats(0, 30_000))
        r = draw(st.floats(100, 2_500))
        holes.append(shapely.Point(X0 + x, Y0 + y).buffer(r, quad_segs=4))
    cut = shapely.union_all(holes) if holes else shapely.Polygon()
    geoms, done = [], shapely.Polygon()
    for s in shells:  # parcels do not overlap (as after screening), but may share edges
        g = shapely.difference(shapely.difference(s, done), cut)
        done = shapely.union(done, s)
        if g.area > 1e6:
            geoms.append(g)
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(len(geoms))], "agency": "BLM"},
                            geometry=geoms, crs=5070)


@SETTINGS
@given(land=land_with_holes(), acres=st.floats(40, 640), shape=st.sampled_from(["square", "circle", "rectangle"]),
       spacing=st.sampled_from([0.0, 250.0, 800.0]), setback=st.sampled_from([0.0, 300.0]),
       aspect=st.floats(0.4, 3.0))
def test_footprints_stay_inside_apart_and_under_the_bound(land, acres, shape, spacing, setback, aspect):
    if not len(land):
        return
    sites = siting.pack_sites(land, footprint_acres=acres, shape=shape, aspect=aspect, spacing_m=spacing,
                              edge_setback_m=setback, **FAST)
    check = siting.verify_packing(sites, land, spacing_m=spacing, edge_setback_m=setback)
    assert check["outside"] == 0, land.geometry.to_wkt().tolist()
    assert check["too_close"] == 0
    report = sites.attrs["packing"]
    assert report["sites"] == len(sites) <= report["bound"]
    # every footprint has the asked area (circles are drawn as inscribed 64-gons: 0.16 % less)
    assert np.allclose(sites.area / M2_PER_ACRE, acres, rtol=2e-3 if shape == "circle" else 1e-6)
    # each site records the parcel it lies on
    owner = land.set_index("parcel_id").geometry.buffer(1.0)
    assert all(owner[p].covers(g) for p, g in zip(sites["parcel_id"], sites.geometry, strict=True))


def test_independent_overlap_check_catches_a_bad_packing():
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 5000, 5000)], crs=5070)
    bad = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000), box(900, 0, 1900, 1000), box(4500, 0, 5500, 500)],
                           crs=5070)
    check = siting.verify_packing(bad, land)
    assert (check["too_close"], check["outside"]) == (1, 1)


def test_exact_solver_reports_optimum_and_greedy_gap():
    land = gpd.GeoDataFrame({"parcel_id": ["a"], "agency": ["DOD"]}, crs=5070,
                            geometry=[shapely.Point(0, 0).buffer(4_000).difference(box(-500, -4_500, 500, 0))])
    greedy = siting.pack_sites(land, footprint_acres=160, spacing_m=400, rotations=(0, 45))
    exact = siting.pack_sites(land, footprint_acres=160, spacing_m=400, rotations=(0, 45), method="exact")
    rep = exact.attrs["packing"]
    assert rep["status"] == "Optimal"
    assert rep["greedy_sites"] == len(greedy)
    assert len(exact) >= len(greedy)
    assert rep["greedy_gap"] == pytest.approx(1 - len(greedy) / len(exact))
    check = siting.verify_packing(exact, land, spacing_m=400)
    assert check["outside"] == check["too_close"] == 0


def test_exact_finds_a_known_optimum():
    # axis-aligned squares of side s, gaps g: the box is 1 m short of a 5th column and of a 4th row
    s = math.sqrt(100 * M2_PER_ACRE)
    g = 300.0
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 5 * s + 4 * g - 1, 4 * s + 3 * g - 1)], crs=5070)
    out = siting.pack_sites(land, footprint_acres=100, spacing_m=g, rotations=(0,), method="exact")
    assert len(out) == 12 and out.attrs["packing"]["status"] == "Optimal"


@pytest.mark.slow  # builds the large exact model before refusing it (about 3 s): in CI's slow tests
def test_exact_refuses_a_large_area_with_advice():
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 200_000, 200_000)], crs=5070)
    with pytest.raises(ScenarioError, match="small areas"):
        siting.pack_sites(land, footprint_acres=40, method="exact", rotations=(0,), offsets=2)


def test_convex_land_reaches_ninety_percent_of_the_bound():
    land = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0).buffer(35_000)], crs=5070)  # 2,000 footprints
    for shape in ("square", "circle"):
        rep = siting.pack_sites(land, footprint_acres=160, shape=shape, spacing_m=800).attrs["packing"]
        assert rep["efficiency"] >= 0.90, (shape, rep)


def test_bound_is_area_over_site_cell_times_hexagonal_density_on_a_large_square():
    fp = Footprint.from_acres(160, "circle")
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 100_000, 100_000)], crs=5070)
    rep = siting.pack_sites(land, footprint_acres=160, shape="circle", spacing_m=800).attrs["packing"]
    r = fp.r + 400  # each site needs a disk of radius r + spacing / 2; disks pack at most pi / sqrt(12)
    plain = 1e10 / (math.pi * r * r) * math.pi / math.sqrt(12)
    margin = 4 * (2 * r / math.sqrt(3)) / 100_000  # the rigorous bound adds an edge band, ~ perimeter x 2r/sqrt(3)
    assert plain <= rep["bound"] <= plain * (1 + 1.1 * margin)
    assert rep["sites"] <= rep["bound"]


def test_same_seed_same_sites_and_input_untouched():
    land = gpd.GeoDataFrame({"parcel_id": ["a", "b"]}, crs=5070,
                            geometry=[shapely.Point(0, 0).buffer(6_000), box(6_000, -3_000, 14_000, 3_000)])
    before = land.copy()
    a = siting.pack_sites(land, footprint_acres=200, spacing_m=500, seed=7)
    b = siting.pack_sites(land, footprint_acres=200, spacing_m=500, seed=7)
    assert land.equals(before)
    assert a["candidate_id"].tolist() == b["candidate_id"].tolist()
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    assert a["candidate_id"].is_unique


def test_score_objective_collects_at_least_the_score_of_the_count_layout():
    land = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0).buffer(7_000).difference(box(-1_000, -8_000, 1_000, 0))],
                            crs=5070)

    def score(x, y):
        return 1.0 + np.clip(x / 7_000, -1, 1) ** 2 + (y > 2_000)

    kw = {"footprint_acres": 300, "spacing_m": 600, "score": score, **FAST}
    by_score = siting.pack_sites(land, objective="score", **kw)
    by_count = siting.pack_sites(land, objective="count", **kw)
    assert by_score["score_surface"].sum() >= by_count["score_surface"].sum() - 1e-9
    assert np.allclose(by_score["score_surface"], score(by_score.centroid.x.to_numpy(), by_score.centroid.y.to_numpy()))


@pytest.mark.parametrize("kwargs, match", [
    ({"objective": "score"}, "score surface"),
    ({"method": "fast"}, "method must be"),
    ({"spacing_m": -1}, "must be >= 0"),
    ({"shape": "triangle"}, "triangle"),
])
def test_bad_pack_options_say_what_to_do(kwargs, match):
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 5_000, 5_000)], crs=5070)
    with pytest.raises(SitingError, match=match):
        siting.pack_sites(land, footprint_acres=100, **kwargs)


def test_geographic_land_is_refused():
    land = gpd.GeoDataFrame(geometry=[box(-117, 38, -116, 39)], crs=4326)
    with pytest.raises(SitingError, match="projected"):
        siting.pack_sites(land, footprint_acres=100)


def test_packing_curve_falls_with_footprint_and_spacing():
    land = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0).buffer(8_000)], crs=5070)
    table = siting.packing_curve(land, [80, 160, 320], [0, 800], **FAST)
    assert list(table.columns[:3]) == ["footprint_acres", "spacing_m", "sites"]
    wide = table.pivot(index="footprint_acres", columns="spacing_m", values="sites")
    assert (wide.diff().dropna() < 0).all().all()  # bigger footprint, fewer sites
    assert (wide[800] < wide[0]).all()  # wider spacing, fewer sites
    assert (table["sites"] <= table["bound"]).all()


def test_packing_curve_plot(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    land = gpd.GeoDataFrame(geometry=[box(0, 0, 6_000, 6_000)], crs=5070)
    _, ax = siting.packing_curve(land, [100, 200], [0, 500], plot=True, rotations=(0,), offsets=2)
    assert len(ax.get_lines()) == 4  # per spacing: the site count and its upper bound
    ax.figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000


# ----------------------------------------------------------------- candidate grids

def _two_parcels():
    return gpd.GeoDataFrame({"parcel_id": ["w", "e"], "agency": ["BLM", "DOD"]}, crs=5070,
                            geometry=[box(0, 0, 10_300, 7_700), shapely.Point(14_000, 4_000).buffer(4_000)
                                      .difference(box(0, 0, 10_300, 7_700))])


@pytest.mark.parametrize("shape", ["hex", "square"])
def test_grid_conserves_area_and_splits_cells_by_parcel(shape):
    land = _two_parcels()
    cells = siting.candidates_from_grid(land, cell_acres=640, shape=shape)
    assert cells.area.sum() == pytest.approx(land.area.sum(), rel=1e-9)
    per_parcel = cells.dissolve("parcel_id").area
    assert per_parcel.to_dict() == pytest.approx(land.set_index("parcel_id").area.to_dict(), rel=1e-9)
    assert cells["candidate_id"].is_unique
    assert np.allclose(cells["eligible_fraction"], cells.area / (cells["cell_acres"] * M2_PER_ACRE))
    assert (cells["eligible_fraction"] <= 1 + 1e-9).all()
    split = cells.groupby("cell_id")["parcel_id"].nunique()
    assert (split == 2).any()  # cells across the parcel boundary appear once per parcel
    agency = cells.set_index("parcel_id")["agency"]
    assert set(agency.loc["e"]) == {"DOD"} and set(agency.loc["w"]) == {"BLM"}


def test_grid_cell_ids_are_stable_between_runs_and_extents():
    land = _two_parcels()
    a = siting.candidates_from_grid(land, cell_m=2_000, shape="square")
    b = siting.candidates_from_grid(land.iloc[[0]], cell_m=2_000, shape="square")
    full = a.set_index("candidate_id").geometry
    assert shapely.equals(full.loc[b["candidate_id"]].values, b.geometry.values).all()


def test_grid_needs_exactly_one_size():
    land = _two_parcels()
    with pytest.raises(SitingError, match="cell_acres or cell_m"):
        siting.candidates_from_grid(land)


# ----------------------------------------------------------------- scenario

@pytest.mark.parametrize("spec, match", [
    ({"method": "pack"}, "needs footprint_acres"),
    ({"method": "grid"}, "exactly one of cell_acres or cell_m"),
    ({"method": "grid", "cell_acres": 640, "spacing_m": 800}, "spacing_m is used only by method pack"),
    ({"method": "pack", "footprint_acres": 160, "shape": "hex"}, "does not apply to method 'pack'"),
    ({"method": "pack", "footprint_acres": 160, "objective": "score"}, "needs score_raster"),
])
def test_candidate_spec_errors_name_the_option(spec, match):
    with pytest.raises(ValueError, match=match):
        CandidateSpec(**spec)


@pytest.mark.slow
@pytest.mark.parametrize("method, extra", [("grid", {"cell_acres": 2_560}),
                                           ("pack", {"footprint_acres": 640, "spacing_m": 2_000, "solver": "greedy"})])
def test_grid_and_pack_scenarios_flow_through_scoring_and_outputs(tmp_path, method, extra):
    scenario = load_scenario(DEMO)
    scenario = scenario.model_copy(update={"candidates": CandidateSpec(method=method, **extra)})
    result = siting.run(scenario, progress=False)
    result.save(tmp_path / method)
    prefix = {"grid": "G-", "pack": "K-"}[method]
    sites = result.candidates[result.candidates["candidate_id"].str.startswith(prefix)]
    assert len(sites) and result.sites["candidate_id"].str.startswith(prefix).all()
    rest = result.candidates.drop(sites.index)  # parcels the land rules removed, kept in the ledger
    assert rest["candidate_id"].str.startswith("P-").all()
    assert {"score", "rank"} <= set(result.sites.columns)
    funnel = result.funnel.set_index("stage")
    assert list(dict.fromkeys(funnel.index)) == ["input", "land", "generate", "site"]
    layers = set(gpd.list_layers(tmp_path / method / "siting.gpkg")["name"])
    assert {"sites", "eligible_land"} <= layers
    if method == "pack":
        assert result.meta["packing"]["sites"] == funnel.loc["generate", "candidates_out"]
        check = siting.verify_packing(sites, result.eligible_land, spacing_m=2_000)
        assert check["outside"] == check["too_close"] == 0
    assert pd.api.types.is_float_dtype(result.sites["score"])


@pytest.mark.parametrize("distance", [50.0, 300.0, 1_000.0])
def test_erosion_keeps_every_point_at_least_the_distance_inside(distance):
    """GEOS rounds an arc to whole segments of up to 1.5 quanta: chords 0.27 % short, which ARC_SLACK covers."""
    from siting.candidates.packing.footprint import erode

    rng = np.random.default_rng(11)
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    for noise in (1.0, 3.0, 10.0, 30.0):
        r = 5_000 + rng.normal(0, noise, len(t)) + 40 * np.sin(7 * t)
        land = shapely.Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
        core = erode(np.array([land]), distance)[0]
        pts = shapely.points(shapely.get_coordinates(shapely.segmentize(shapely.boundary(core), 1.0)))
        assert shapely.distance(pts, land.exterior).min() >= distance, noise
