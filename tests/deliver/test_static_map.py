"""The static map reads at state scale: pixels show score colours over the sites, and the legend is drawn."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")
from pixels import legend_pixels, score_colour_hits

from siting.deliver import static
from siting.schema import AGENCY_COLOURS, light


def test_state_map_draws_sites_as_score_coloured_markers_with_a_legend(demo_result):
    fig = static.render_static(demo_result, dpi=110)
    assert fig.siting_markers  # 2,000+ sites across Nevada: each a fraction of a millimetre as a polygon
    hits, n = score_colour_hits(demo_result, fig)
    assert hits >= 0.8 * n  # the best are drawn on top, in their score's colour
    texts = [t.get_text() for t in fig.siting_axes.get_legend().get_texts()]
    assert "BLM land" in texts and "site (size: area)" in texts and "town" in texts
    assert legend_pixels(fig, light(AGENCY_COLOURS["BLM"])) > 20  # the agency swatch is drawn


def test_top_n_zooms_to_the_best_sites(demo_result):
    fig = static.render_static(demo_result, dpi=60, top=5)
    best = demo_result.sites.nsmallest(5, "rank")
    x0, x1 = fig.siting_axes.get_xlim()
    y0, y1 = fig.siting_axes.get_ylim()
    bx0, by0, bx1, by1 = best.total_bounds
    assert x0 <= bx0 and bx1 <= x1 and y0 <= by0 and by1 <= y1  # every one of them in view ...
    assert (x1 - x0) < 1.2 * max(bx1 - bx0, by1 - by0) + 5_000  # ... and the view is theirs, not the state's


def test_parcels_without_an_agency_are_drawn_grey_and_listed_as_other():
    # pandas 3 keeps a missing agency missing in astype(str): sorting the legend's agencies then failed
    import geopandas as gpd
    from matplotlib.figure import Figure
    from shapely import box

    parcels = gpd.GeoDataFrame({"agency": ["BLM", None]}, geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=5070)
    ax = Figure().add_subplot()
    assert static._parcels(ax, parcels, (0, 0, 30, 10)) == ["BLM", "other"]
    faces = ax.collections[0].get_facecolors()
    assert len(faces) == 2 and faces[1][:3].tolist() == pytest.approx([0xE6 / 255] * 3)
