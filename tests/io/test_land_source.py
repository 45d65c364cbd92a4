"""An analyst's own land outline (no published schema) as the parcels layer: ``source: land`` with ``agency:``."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pydantic import ValidationError
from shapely import Point, box

import siting
from siting.core.checks import check_scenario
from siting.core.errors import FieldError, ScenarioError


def _scenario(tmp_path, **parcels) -> dict:
    # an outline digitised by hand: geometry only, no PAD-US fields
    gpd.GeoDataFrame(geometry=[box(-116.3, 38.0, -116.1, 38.15)], crs=4326).to_file(tmp_path / "outline.geojson")
    gpd.GeoDataFrame({"name": ["Town"]}, geometry=[Point(-116.2, 38.07)], crs=4326).to_file(tmp_path / "towns.geojson")
    return {"version": 1, "name": "own-land", "base_dir": str(tmp_path),
            "layers": {"parcels": {"path": "outline.geojson", **parcels}, "towns": {"path": "towns.geojson"}},
            "constraints": [{"rule": "agency_in", "values": ["DOE"]},
                            {"rule": "outside", "layer": "towns", "buffer_m": 3000}],
            "candidates": {"method": "grid", "cell_acres": 640, "shape": "hex"},
            "factors": [{"name": "town", "distance_to": "towns",
                         "transform": {"linear": {"best": 0, "worst": 30_000}}}],
            "outputs": {"formats": []}}


def test_an_outline_without_a_schema_is_parcels_of_the_agency_given(tmp_path):
    d = _scenario(tmp_path, source="land", agency="Department of Energy")
    assert not check_scenario(d).errors
    result = siting.run(d, progress=False)
    assert len(result.sites) > 10
    assert set(result.sites["agency"]) == {"DOE"} and set(result.sites["unit_name"]) == {"outline"}
    assert set(result.sites["manager_name"]) == {"Department of Energy"}
    assert (result.sites["town_m"] >= 3000).all()  # the land rules cut it as any parcel


def test_an_outline_without_source_land_says_how_to_use_it(tmp_path):
    d = _scenario(tmp_path)
    said = [p.message for p in check_scenario(d).errors]
    assert any("`source: land` with `agency:`" in m for m in said)
    with pytest.raises(siting.SitingError, match=r"`source: land` with the layer's `agency:`"):
        siting.run(d, progress=False)


@pytest.mark.parametrize("parcels, match", [
    ({"source": "land"}, "`source: land` needs it"),
    ({"source": "padus", "agency": "DOE"}, "`agency:` goes with `source: land`"),
])
def test_agency_and_source_land_go_together(tmp_path, parcels, match):
    with pytest.raises((ScenarioError, ValidationError), match=match):
        siting.run(_scenario(tmp_path, **parcels), progress=False)


def test_an_agency_siting_does_not_know_is_an_error_naming_the_choices(tmp_path):
    with pytest.raises(FieldError, match=r"agency 'Ministry of Magic' is not an agency siting knows; use one of BLM"):
        siting.run(_scenario(tmp_path, source="land", agency="Ministry of Magic"), progress=False)


def test_a_rule_on_gap_status_the_outline_lacks_is_an_error_unless_missing_is_set(tmp_path):
    d = _scenario(tmp_path, source="land", agency="DOE")
    d["constraints"].append({"rule": "gap_status_not_in", "values": [1, 2]})
    with pytest.raises(ScenarioError, match="gap_status, which is missing"):
        siting.run(d, progress=False)
    d["constraints"][-1]["missing"] = "pass"
    with pytest.warns(siting.SitingWarning, match="no gap_status"):
        assert len(siting.run(d, progress=False).sites) > 10
