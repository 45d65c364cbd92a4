"""Legal descriptions from the BLM PLSS (issue 19 item 5), on the CadNSDI-shaped layer in sample_data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from oracle import ground_distance
from paths import SAMPLE

from siting.candidates.packing import pack_sites
from siting.candidates.plss import OUTSIDE, legal_descriptions, township
from siting.core.errors import FieldError, ScenarioError


@pytest.fixture(scope="module")
def plss():
    qq = pyogrio.read_dataframe(SAMPLE / "plss.gpkg", layer="plss_intersected")
    sections = pyogrio.read_dataframe(SAMPLE / "plss.gpkg", layer="plss_first_division")
    return qq, sections


def _section(sections, plssid, no):
    return sections[(sections["PLSSID"] == plssid) & (sections["FRSTDIVNO"] == f"{no:02d}")].geometry.iloc[0]


def _quarter(sec, east, north, size=2):
    """The quarter (size 2) or quarter-quarter (size 4) at column ``east`` and row ``north`` from the south-west."""
    x0, y0, x1, y1 = sec.bounds
    w, h = (x1 - x0) / size, (y1 - y0) / size
    return shapely.box(x0 + east * w, y0 + north * h, x0 + (east + 1) * w, y0 + (north + 1) * h)


def test_a_site_on_a_known_quarter_section_gets_its_description(plss):
    qq, sections = plss
    sec14 = _section(sections, "NV210030N0420E0", 14)
    ne = _quarter(sec14, 1, 1)                       # the north-east quarter: exactly 160 acres
    ne_of_sw = _quarter(sec14, 1, 1, size=4)         # NE1/4 of the SW1/4 (column 1, row 1 of the 4 x 4)
    sec1_t4 = _section(sections, "NV210040N0430E0", 1)
    sites = gpd.GeoDataFrame(geometry=[ne, shapely.union(ne, ne_of_sw), sec14, sec1_t4, ne.buffer(-60),
                                       shapely.box(0, 0, 10, 10)], crs=qq.crs)
    assert ne.area / 4046.8564224 == pytest.approx(160)
    head = "NV, Mount Diablo Mer., T. 3 N., R. 42 E., sec. 14"
    assert legal_descriptions(sites, qq).tolist() == [
        f"{head}: NE1/4", f"{head}: NE1/4, NE1/4SW1/4", head, "NV, Mount Diablo Mer., T. 4 N., R. 43 E., sec. 1",
        f"{head}: NE1/4", OUTSIDE]


def test_section_numbers_run_back_and_forth_from_the_north_east(plss):
    _, sections = plss
    centre = sections[sections["PLSSID"] == "NV210030N0420E0"].set_index("FRSTDIVNO").centroid
    east, north = (lambda no: centre.loc[f"{no:02d}"].x), (lambda no: centre.loc[f"{no:02d}"].y)
    assert east(1) > east(2) > east(6) and east(7) < east(12) and north(1) > north(12) > north(13) > north(36)
    assert township("NV210121N0450E0") == "NV, Mount Diablo Mer., T. 12 1/4 N., R. 45 E."


def test_a_plss_layer_without_cadnsdi_fields_is_a_clear_error(plss):
    qq, _ = plss
    with pytest.raises(FieldError, match=r"missing QQSEC .*PLSS Intersected"):
        legal_descriptions(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=qq.crs), qq.drop(columns="QQSEC"))


def test_quarter_quarters_without_ids_are_said_and_warned_and_tracts_keep_their_label(plss):
    # a CadNSDI extract with gaps: a quarter-quarter with no section number made int() fail the whole run
    from siting.core.errors import SitingWarning

    qq, sections = plss
    sec14 = _section(sections, "NV210030N0420E0", 14)
    ne = _quarter(sec14, 1, 1)
    under = qq[qq.intersects(ne.buffer(-1))].index  # the four quarter-quarters of the NE quarter
    gappy = qq.copy()
    gappy.loc[under[0], "FRSTDIVNO"] = None
    gappy.loc[under[1], "FRSTDIVNO"] = "37A"  # a tract, not a section number
    sites = gpd.GeoDataFrame(geometry=[ne, shapely.box(0, 0, 10, 10)], crs=qq.crs)
    with pytest.warns(SitingWarning, match=r"1 quarter-quarter\(s\) under 1 site\(s\) lack one of PLSSID"):
        got = legal_descriptions(sites, gappy).tolist()
    assert got[0].startswith("NV, Mount Diablo Mer., T. 3 N., R. 42 E., sec. 14: ")
    assert "; sec. 37A: " in got[0]  # after the numbered sections
    assert got[0].endswith("; 1 quarter-quarter(s) without PLSSID/FRSTDIVNO/QSEC/QQSEC in the layer")
    assert got[1] == OUTSIDE
    assert qq["FRSTDIVNO"].notna().all()  # the input is not changed
    assert township("NV21") == "PLSSID NV21"  # an id of another form is shown, not parsed


def _quarters(qq):
    """Quarter sections dissolved from the quarter-quarters, written here without siting."""
    return qq.dissolve(by=["PLSSID", "FRSTDIVNO", "QSEC"]).geometry.to_numpy()


def test_plss_aligned_footprints_are_quarter_sections_and_the_cost_is_reported(plss):
    qq, sections = plss
    x0, y0, x1, y1 = sections.total_bounds
    land = gpd.GeoDataFrame({"parcel_id": ["a"], "agency": ["BLM"]}, crs=qq.crs, geometry=[shapely.Polygon(
        [(x0 + 500, y0 + 300), (x1 - 2_000, y0 + 900), (x1 - 700, y1 - 1_500), (x0 + 3_000, y1 - 400)])])
    out = pack_sites(land, footprint_acres=160, spacing_m=2_000, align="plss", plss=qq)
    report = out.attrs["packing"]
    unaligned = pack_sites(land, footprint_acres=160, spacing_m=2_000)
    assert report["unaligned_sites"] == len(unaligned) and report["plss_cost"] == len(unaligned) - len(out) >= 0
    quarters = _quarters(qq)
    tree = shapely.STRtree(quarters)
    for fp in out.geometry:
        twin = quarters[tree.query(fp, predicate="intersects")]
        assert min(shapely.symmetric_difference(fp, q).area for q in twin) < 1.0  # exactly one quarter section
        assert fp.within(land.geometry.iloc[0])
    g = out.geometry.to_numpy()
    i, j = np.triu_indices(len(out), 1)
    close = [(a, b) for a, b in zip(i, j, strict=True) if g[a].distance(g[b]) < 3_000]
    assert close and min(ground_distance(g[a], g[b], out.crs) for a, b in close) >= 2_000  # spaced on the ground
    assert out["plss_unit"].str.match(r"NV21\d{3}0N\d{3}0E0 sec\. \d+ (NE|NW|SW|SE)1/4").all()


def test_plss_alignment_leaves_out_quarter_quarters_without_ids_with_a_warning(plss):
    from siting.core.errors import SitingWarning

    qq, sections = plss
    gappy = qq.copy()
    gappy.loc[gappy.index[::7], "QSEC"] = None  # one in seven quarter-quarters without its quarter
    x0, y0, x1, y1 = sections.total_bounds
    land = gpd.GeoDataFrame({"parcel_id": ["a"], "agency": ["BLM"]}, crs=qq.crs,
                            geometry=[shapely.box(x0 + 500, y0 + 500, x1 - 500, y1 - 500)])
    lost = gappy[gappy["QSEC"].isna()]  # each leaves the quarter its QQSEC names (NWNE: of the NE) short
    short = lost.assign(q=lost["QQSEC"].str[2:]).drop_duplicates(["PLSSID", "FRSTDIVNO", "q"])
    with pytest.warns(SitingWarning, match=rf"{len(gappy.index[::7]):,} of {len(qq):,} quarter-quarter\(s\) lack one "
                                           rf"of PLSSID, FRSTDIVNO, QSEC, QQSEC .*; {len(short):,} quarter "
                                           r"section\(s\) short"):
        out = pack_sites(land, footprint_acres=160, spacing_m=2_000, align="plss", plss=gappy)
    assert len(out) and out["plss_unit"].str.match(r"NV21\d{3}0N\d{3}0E0 sec\. \d+ (NE|NW|SW|SE)1/4").all()
    assert out["footprint_acres"].to_numpy() == pytest.approx(160)  # whole quarters: none short of a gap
    gaps = shapely.union_all(gappy.geometry[gappy["QSEC"].isna()].to_numpy())
    assert not shapely.intersects(out.geometry.to_numpy(), gaps.buffer(-1)).any()


def test_align_takes_whole_aliquot_sizes_only(plss):
    qq, _ = plss
    land = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[shapely.box(*qq.total_bounds)], crs=qq.crs)
    with pytest.raises(ScenarioError, match=r"40 .*160 .*640"):
        pack_sites(land, footprint_acres=320, align="plss", plss=qq)


def test_a_scenario_asks_for_alignment_with_its_plss_layer(tiny_scenario):
    import copy

    from siting.core.scenario import load_scenario

    d = copy.deepcopy(tiny_scenario)
    d["candidates"] = {"method": "pack", "footprint_acres": 160, "align": "plss"}
    with pytest.raises(ScenarioError, match=r"align: plss needs method: pack and candidates\.plss"):
        load_scenario(d)
    d["layers"]["plss"] = {"path": str(SAMPLE / "plss.gpkg"), "layer": "plss_intersected"}
    d["candidates"]["plss"] = "plss"
    assert load_scenario(d).candidates.align == "plss"
