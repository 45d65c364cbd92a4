"""Static map deliverable (PNG or PDF, 300 dpi) of a result, drawn with matplotlib (never pyplot).

Drawn in the analysis CRS (equal area, metres): parcels by agency in light colours, sites coloured by
score with a colour bar, a scale bar (matplotlib-scalebar, correct because the units are metres), a
north arrow pointing to true north at the map centre (in Albers, grid north is not true north away
from the central meridian), the title, the data sources, the CRS and the run date.

Examples
--------
>>> import siting, tempfile
>>> small = {"name": "blm", "base_dir": "sample_data", "layers": {"parcels": {"path": "federal_lands.gpkg"}},
...          "constraints": [{"rule": "agency_in", "values": ["BLM"]}]}
>>> static_map(siting.run(small, progress=False), tempfile.mkdtemp() + "/map.png", dpi=50).suffix
'.png'

"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np

from siting.core.errors import InputFileError, MissingDependencyError
from siting.io.crs import transformer
from siting.schema import AGENCY_COLOURS, light

__all__ = ["north_angle", "static_map"]

_AGENCY = {k: light(v) for k, v in AGENCY_COLOURS.items()}  # tints: the sites stand out


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
        Draw only the best ``top`` sites.

    Returns
    -------
    Path
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib_scalebar.scalebar import ScaleBar
    except ImportError as exc:
        raise MissingDependencyError("static maps need matplotlib and matplotlib-scalebar: "
                                     "pip install 'siting[plot]'") from exc
    path = Path(path)
    if path.suffix.lower() not in (".png", ".pdf"):
        raise InputFileError(f"static map must be .png or .pdf, not {path.suffix!r}")
    if not hasattr(result, "sites"):
        from siting.core.saved import load_result

        result = load_result(result)
    sites, parcels = result.sites, result.layers.get("parcels")
    if top:
        sites = sites.sort_values("rank").head(top)
    fig = Figure(figsize=(8.5, 11) if _tall(sites, parcels) else (11, 8.5), dpi=dpi)
    ax = fig.subplots()
    if parcels is not None:
        parcels.plot(ax=ax, color=parcels["agency"].map(_AGENCY).fillna("#e6e6e6"), edgecolor="#aaaaaa",
                     linewidth=0.2, zorder=1)
    sites.plot(ax=ax, column="score", cmap="RdYlGn", vmin=0, vmax=1, edgecolor="#333333", linewidth=0.3,
               zorder=2, legend=True, legend_kwds={"label": "site score (0 worst - 1 best)", "shrink": 0.5})
    _decorate(ax, sites, result, title)
    ax.add_artist(ScaleBar(1, units="m", location="lower left", box_alpha=0.7))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    tmp.replace(path)
    return path


def _tall(sites, parcels) -> bool:
    frame = parcels if parcels is not None and len(parcels) else sites
    x0, y0, x1, y1 = frame.total_bounds
    return (y1 - y0) > (x1 - x0)


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
    sources = sorted({r.source for reps in result.reports.values() for r in reps})
    text = (f"{len(sites):,} sites. Analysis CRS {meta.get('working_crs', sites.crs)} (equal area); "
            f"true north shown. Run {meta.get('started', '')}. Sources: {', '.join(sources)}.")
    ax.text(0.0, -0.02, text, transform=ax.transAxes, fontsize=6, va="top", wrap=True)
    if np.isfinite(x0):
        ax.set_aspect("equal")
