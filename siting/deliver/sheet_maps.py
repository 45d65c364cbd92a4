"""The two maps of a site fact sheet (matplotlib, never pyplot): where the site is, and what is around it.

Both are PNG bytes to embed. The locator shows every site of the run in grey and this one in red over
the packaged basemap (states, counties, towns);
the site map shows the site's outline over the loaded context layers within ``radius_m``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> sites = gpd.GeoDataFrame({"site_id": ["a", "b"]}, geometry=[box(0, 0, 1e3, 1e3), box(5e4, 5e4, 5.1e4, 5.1e4)],
...                          crs=5070)
>>> site_maps(sites, 0, {})[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import shapely

from siting.core.errors import MissingDependencyError
from siting.deliver.basemap import draw_basemap

__all__ = ["CONTEXT_STYLE", "site_maps"]

#: Context layers drawn on the site map when loaded: colour, line width or marker size, label.
CONTEXT_STYLE = {"roads": ("#8c8c8c", 0.8, "roads"), "rail": ("#5a3d1e", 1.0, "rail"),
                 "transmission": ("#d94801", 1.0, "transmission"), "substations": ("#d94801", 14, "substations"),
                 "towns": ("#000000", 10, "towns"), "deposits": ("#6a51a3", 8, "deposits"),
                 "water": ("#6baed6", 0.6, "water"), "wilderness": ("#74c476", 0.6, "wilderness")}


def site_maps(sites: gpd.GeoDataFrame, row: int, layers: dict, *, radius_m: float = 15_000.0,
              dpi: int = 110) -> bytes:
    """PNG of the locator (left) and the site with its context (right) for ``sites.iloc[row]``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError("fact-sheet maps need matplotlib: pip install 'siting[plot]'") from exc
    fig = Figure(figsize=(9.0, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    geom = sites.geometry.iloc[row]
    _locator(fig.add_subplot(1, 2, 1), sites, geom)
    _around(fig.add_subplot(1, 2, 2), geom, layers, radius_m)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _locator(ax, sites: gpd.GeoDataFrame, geom) -> None:
    xy = shapely.get_coordinates(shapely.centroid(np.asarray(sites.geometry.values, dtype=object)))
    x0, y0, x1, y1 = xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()
    pad = max(0.08 * max(x1 - x0, y1 - y0), 20_000.0)
    if sites.crs is not None and not sites.crs.is_geographic:  # states, counties and towns under the sites
        draw_basemap(ax, (x0 - pad, y0 - pad, x1 + pad, y1 + pad), sites.crs, label_towns=6)
    ax.scatter(xy[:, 0], xy[:, 1], s=2, c="#7f7f7f", linewidths=0, zorder=2)
    c = geom.centroid
    ax.scatter([c.x], [c.y], s=90, marker="*", c="#cb181d", zorder=3)
    ax.set_title("where: every site of the run (grey), this one (red)", fontsize=8)
    _plain(ax)


def _around(ax, geom, layers: dict, radius_m: float) -> None:
    c = geom.centroid
    box = shapely.box(c.x - radius_m, c.y - radius_m, c.x + radius_m, c.y + radius_m)
    for name, (colour, size, label) in CONTEXT_STYLE.items():
        frame = layers.get(name)
        if frame is None or not len(frame):
            continue
        near = frame.geometry.values[frame.sindex.query(box, predicate="intersects")]
        near = shapely.intersection(np.asarray(near, dtype=object), box)
        pts = near[shapely.get_type_id(near) == 0]
        if len(pts):
            xy = shapely.get_coordinates(pts)
            ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colour, label=label, zorder=2)
        first = True
        for g in near[shapely.get_type_id(near) != 0]:
            for line in shapely.get_parts(shapely.boundary(g) if shapely.get_dimensions(g) == 2 else g):
                x, y = np.asarray(line.coords).T
                ax.plot(x, y, c=colour, lw=size if size < 5 else 0.8, zorder=1, label=label if first else None)
                first = False
    for part in shapely.get_parts(geom):
        x, y = np.asarray(part.exterior.coords).T
        ax.fill(x, y, fc="#cb181d", alpha=0.35, ec="#cb181d", lw=1.2, zorder=3)
    ax.set_xlim(c.x - radius_m, c.x + radius_m)
    ax.set_ylim(c.y - radius_m, c.y + radius_m)
    ax.set_title(f"the site and what is within {radius_m / 1000:g} km", fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="lower right")
    _plain(ax)


def _plain(ax) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
