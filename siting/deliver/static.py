"""Static map deliverable (PNG or PDF, 300 dpi) of a result, drawn with matplotlib (never pyplot).

Drawn in the analysis CRS (equal area, metres) over the packaged basemap (states, counties, towns):
parcels in light agency colours with an agency legend, and the sites coloured by score with a colour
bar. At state scale a site is a fraction of a millimetre, so sites smaller than 1 % of the map's
width are drawn as markers at their centres, sized by area (polygons once zoomed in), the best on top.
``top=N`` draws the best N and zooms to them. Then an inset locator, a scale bar
(matplotlib-scalebar, correct because the units are metres), a north arrow pointing to true north
at the map centre (in Albers, grid north is not true north away from the central meridian), the
title, and the data sources with their vintages, the CRS and the run date.

Examples
--------
>>> import siting, tempfile
>>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
>>> result = siting.run(small, progress=False)
>>> static_map(result, tempfile.mkdtemp() + "/map.png", dpi=50).suffix
'.png'
>>> render_static(result, dpi=40).siting_axes.get_legend() is not None  # the Figure, to adjust before saving
True

"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core.errors import InputFileError, MissingDependencyError
from siting.deliver.basemap import CREDIT, draw_basemap, read_basemap
from siting.io.crs import transformer
from siting.schema import AGENCY_COLOURS, SCORE_RAMP, light

__all__ = ["north_angle", "render_static", "static_map"]

_AGENCY = {k: light(v) for k, v in AGENCY_COLOURS.items()}  # tints: the sites stand out
#: Sites narrower than this share of the map's width are drawn as markers sized by area.
MARKER_BELOW = 0.01


def north_angle(x: float, y: float, crs) -> float:
    """Angle (degrees, counter-clockwise from the map's +y axis) of true north at (x, y).

    Examples
    --------
    >>> round(north_angle(0.0, 1_500_000.0, "EPSG:5070"), 3)  # on the central meridian
    0.0
    >>> north_angle(-1_700_000.0, 2_000_000.0, "EPSG:5070") < -5  # west of it, north leans clockwise
    True
    """
    lon, lat = transformer(crs, "EPSG:4326").transform(x, y)
    x2, y2 = transformer("EPSG:4326", crs).transform(lon, min(lat + 0.05, 89.9))
    return math.degrees(math.atan2(-(x2 - x), y2 - y))


def static_map(result, path, *, title: str | None = None, dpi: int = 300, top: int | None = None) -> Path:
    """Draw the sites of a result to ``path`` (``.png`` or ``.pdf``).

    Parameters
    ----------
    result : SitingResult, str or Path
        A result, or a folder written by ``siting run`` (read with :func:`siting.load_result`).
    path : str or Path
        Output file; the suffix picks the format.
    title : str, optional
        Default: the scenario's title or name.
    dpi : int
    top : int, optional
        Draw only the best ``top`` sites, zoomed to them.

    Returns
    -------
    Path
    """
    path = Path(path)
    if path.suffix.lower() not in (".png", ".pdf"):
        raise InputFileError(f"static map must be .png or .pdf, not {path.suffix!r}")
    fig = render_static(result, title=title, dpi=dpi, top=top)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    tmp.replace(path)
    return path


def render_static(result, *, title: str | None = None, dpi: int = 150, top: int | None = None):
    """The static map as a matplotlib ``Figure`` (what :func:`static_map` saves).

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.siting_axes`` (the map's axes) and ``fig.siting_markers`` (whether sites are markers).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib_scalebar.scalebar import ScaleBar
    except ImportError as exc:
        raise MissingDependencyError("static maps need matplotlib and matplotlib-scalebar: "
                                     "pip install 'siting[plot]'") from exc
    if not hasattr(result, "sites"):
        from siting.core.saved import load_result

        result = load_result(result)
    sites, parcels = result.sites, result.layers.get("parcels")
    sites = sites.nsmallest(top, "rank") if top and "rank" in sites else sites.head(top) if top else sites
    extent = _extent(sites if top or parcels is None or not len(parcels) else parcels, sites)
    tall = (extent[3] - extent[1]) > (extent[2] - extent[0])
    fig = Figure(figsize=(8.5, 11) if tall else (11, 8.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    draw_basemap(ax, extent, sites.crs)
    agencies = _parcels(ax, parcels, extent)
    markers = _sites(ax, sites, extent)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    _legends(fig, ax, agencies, markers)
    _inset(ax, extent, sites.crs)
    _decorate(ax, sites, result, title)
    ax.add_artist(ScaleBar(1, units="m", location="lower left", box_alpha=0.7))
    fig.siting_axes, fig.siting_markers = ax, markers  # type: ignore[attr-defined]
    return fig


def _extent(frame: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """The map's extent: ``frame``'s bounds (and the sites'), padded by 5 % (at least 2 km)."""
    boxes = [b for b in (frame.total_bounds, sites.total_bounds) if len(b) and np.isfinite(b).all()]
    if not boxes:
        return (-2.4e6, 2.5e5, 2.3e6, 3.2e6)  # CONUS in EPSG:5070: nothing to frame
    b = np.array(boxes)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad = max(0.05 * max(x1 - x0, y1 - y0), 2_000.0)
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _parcels(ax, parcels, extent) -> list[str]:
    """Parcels in light agency colours; the agencies drawn."""
    if parcels is None or not len(parcels):
        return []
    shown = parcels.cx[extent[0]:extent[2], extent[1]:extent[3]]
    if not len(shown):
        return []
    agency = (shown["agency"].astype(object).fillna("other").astype(str) if "agency" in shown
              else pd.Series("other", index=shown.index))  # pandas 3 keeps a missing value missing in astype(str)
    shown.plot(ax=ax, color=agency.map(_AGENCY).fillna("#e6e6e6").to_numpy(), edgecolor="#aaaaaa", linewidth=0.2,
               zorder=1)
    return sorted(set(agency))


def _cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("siting_score", SCORE_RAMP)


def _sites(ax, sites: gpd.GeoDataFrame, extent) -> bool:
    """Sites coloured by score, best on top: markers sized by area when small on the map; True if markers."""
    if not len(sites):
        return False
    order = sites.assign(_s=sites["score"].fillna(-1.0)).sort_values("_s", kind="stable")
    geoms = np.asarray(order.geometry.values, dtype=object)
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    width = np.nanmedian(np.maximum(x1 - x0, y1 - y0))
    if width >= MARKER_BELOW * (extent[2] - extent[0]):
        order.plot(ax=ax, column="score", cmap=_cmap(), vmin=0, vmax=1, edgecolor="#252525", linewidth=0.25,
                   zorder=2, missing_kwds={"color": "#999999"})
        return False
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    root = np.sqrt(shapely.area(geoms))
    size = np.interp(root, [root.min(), root.max()], [8, 60]) if root.max() > root.min() else np.full(len(root), 14)
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=order["score"].to_numpy(float), cmap=_cmap(), vmin=0, vmax=1,
               edgecolors="#252525", linewidths=0.2, zorder=2, plotnonfinite=True)
    return True


def _legends(fig, ax, agencies: list[str], markers: bool) -> None:
    """Colour bar of the score; a legend of agencies and the layers shown."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig.colorbar(ScalarMappable(Normalize(0, 1), _cmap()), ax=ax, shrink=0.45, pad=0.01,
                 label="site score (0 worst - 1 best)")
    site = (Line2D([], [], marker="o", ls="", mfc=SCORE_RAMP[-1], mec="#252525", label="site (size: area)")
            if markers else Patch(facecolor=SCORE_RAMP[-1], edgecolor="#252525", label="site"))
    handles = [site] + [Patch(facecolor=_AGENCY.get(a, "#e6e6e6"), edgecolor="#aaaaaa", label=f"{a} land")
                        for a in agencies]
    handles += [Line2D([], [], color="#b8b8b8", lw=0.8, label="county line"),
                Line2D([], [], marker="o", ls="", ms=2, color="#4d4d4d", label="town")]
    ax.legend(handles=handles, loc="upper left", fontsize=6, title="Legend", title_fontsize=7, framealpha=0.85)


def _inset(ax, extent, crs) -> None:
    """A locator in the lower right: the states around the map, the map's extent in red."""
    inset = ax.inset_axes([0.74, 0.03, 0.24, 0.2])
    frame = gpd.GeoSeries([shapely.box(*extent)], crs=crs).to_crs(4326)
    w, s, e, n = frame.total_bounds
    span = max(e - w, n - s, 8.0) * 2.5
    cx, cy = (w + e) / 2, (s + n) / 2
    states = read_basemap((cx - span, cy - span / 2, cx + span, cy + span / 2), max_towns=0,
                          tolerance_deg=span / 300)["states"]
    if len(states):
        states.to_crs(crs).plot(ax=inset, color="#e0ddd5", edgecolor="#8c8c8c", linewidth=0.3)
    gpd.GeoSeries([shapely.box(*extent)], crs=crs).boundary.plot(ax=inset, color="#cb181d", linewidth=1.0)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.set_facecolor("#ffffff")


def _decorate(ax, sites: gpd.GeoDataFrame, result, title: str | None) -> None:
    meta, scenario = result.meta, result.scenario
    ax.set_axis_off()
    ax.set_title(title or scenario.outputs.title or scenario.name, fontsize=12)
    x0, y0, x1, y1 = ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]
    angle = north_angle((x0 + x1) / 2, (y0 + y1) / 2, sites.crs) if sites.crs else 0.0
    dx, dy = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
    base, tip = (0.95, 0.86), (0.95 + 0.04 * dx, 0.86 + 0.06 * dy)
    ax.annotate("", xy=tip, xytext=base, xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})
    ax.text(tip[0] + 0.012 * dx, tip[1] + 0.018 * dy, "N", transform=ax.transAxes, ha="center", va="center",
            fontsize=11, fontweight="bold")
    from siting.deliver.provenance import provenance, sources_line

    text = (f"{len(sites):,} sites. Analysis CRS {meta.get('working_crs', sites.crs)} (equal area); "
            f"true north shown. Run {meta.get('started', '')}. Data: {sources_line(provenance(result))}. {CREDIT}.")
    ax.text(0.0, -0.02, text, transform=ax.transAxes, fontsize=5.5, va="top", wrap=True)
    ax.set_aspect("equal")
