"""The light vector basemap that ships with siting: state and county outlines and towns.

Maps draw it under the sites so they never float on white, with no web request: the interactive map
as a toggleable layer (web tiles are an extra layer, off until the reader ticks it), the static map
and the fact sheets as their background. The file ``siting/data/basemap.gpkg`` (4 MB) is made by
``tools/make_basemap.py``; ``siting/data/BASEMAP.md`` gives its sources and licences: Census
cartographic boundaries 2017 (public domain) and GeoNames towns of 1,000 people or more (CC BY 4.0,
credited in :data:`CREDIT`).

Only what lies in the view is read (a bounding-box read through the GeoPackage's spatial index), the
outlines are simplified to the view's scale, and at most ``max_towns`` towns (the most populous) are
kept, so a state map embeds a few hundred kilobytes and a national one about a megabyte.

Examples
--------
>>> layers = read_basemap((-120.0, 35.0, -114.0, 42.0), max_towns=50)
>>> sorted(layers), "Nevada" in set(layers["states"]["name"]), len(layers["towns"]) <= 50
(['counties', 'states', 'towns'], True, True)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting.core.errors import InputFileError
from siting.deliver.web import _geojson, _group, _style, escape

__all__ = ["BASEMAP_PATH", "CREDIT", "add_basemap", "draw_basemap", "read_basemap", "view_bounds"]

#: The packaged basemap (layers ``states``, ``counties``, ``towns``; EPSG:4326).
BASEMAP_PATH = Path(str(resources.files("siting") / "data" / "basemap.gpkg"))
#: The credit every map that draws the basemap carries.
CREDIT = "Basemap: U.S. Census Bureau cartographic boundaries 2017 (public domain); towns: GeoNames (CC BY 4.0)"
#: Styles: land a warm grey (half transparent, so web tiles show through when ticked), outlines grey.
STATE_STYLE = _style("#8c8c8c", fill="#f1eee6", weight=1.2, opacity=0.9, fill_opacity=0.55)
COUNTY_STYLE = _style("#b8b8b8", weight=0.5, opacity=0.8, fill_opacity=0.0)
TOWN_STYLE = _style("#4d4d4d", fill="#ffffff", weight=1, radius=2.5, fill_opacity=0.9)
#: Sea and foreign land behind the states.
BACKGROUND = "#dde6ee"


def view_bounds(bounds, pad: float = 0.3, min_pad_deg: float = 0.5) -> tuple[float, float, float, float]:
    """(W, S, E, N) of a view in degrees, padded by ``pad`` of its span (at least ``min_pad_deg``).

    Parameters
    ----------
    bounds : sequence
        ``(W, S, E, N)`` in degrees, or Leaflet's ``[[S, W], [N, E]]``.

    Examples
    --------
    >>> view_bounds([[36.0, -118.0], [38.0, -116.0]])
    (-118.6, 35.4, -115.4, 38.6)
    """
    if len(bounds) == 2:
        (s, w), (n, e) = bounds
    else:
        w, s, e, n = bounds
    dx, dy = max((e - w) * pad, min_pad_deg), max((n - s) * pad, min_pad_deg)
    return (round(w - dx, 6), round(max(s - dy, -90.0), 6), round(e + dx, 6), round(min(n + dy, 90.0), 6))


def read_basemap(bounds=None, *, max_towns: int = 1500, tolerance_deg: float | None = None,
                 path=None) -> dict[str, gpd.GeoDataFrame]:
    """The basemap's states, counties and towns within ``bounds``, simplified to the view's scale.

    Parameters
    ----------
    bounds : sequence, optional
        ``(W, S, E, N)`` in degrees; default the whole file.
    max_towns : int
        Keep the most populous towns only.
    tolerance_deg : float, optional
        Simplification tolerance; default 1/1500 of the view's width (the outlines stay finer than a
        screen pixel at the first zoom).
    path : path, optional
        Another file with the same layers (default :data:`BASEMAP_PATH`).

    Returns
    -------
    dict of GeoDataFrame
        ``states`` (statefp, name), ``counties`` (geoid, name), ``towns`` (name, state, population).

    Raises
    ------
    InputFileError
        When the file is missing (a broken install).
    """
    path = Path(path) if path is not None else BASEMAP_PATH
    if not path.exists():
        raise InputFileError(f"the packaged basemap {path} is missing; reinstall siting "
                             "(or make it with tools/make_basemap.py)")
    box = tuple(bounds) if bounds is not None else None
    tol = tolerance_deg if tolerance_deg is not None else ((box[2] - box[0]) / 1500 if box else 0.02)
    out = {}
    for layer in ("states", "counties"):
        frame = pyogrio.read_dataframe(path, layer=layer, bbox=box)
        frame = frame[~frame.geometry.is_empty]
        out[layer] = frame.set_geometry(frame.geometry.simplify(tol, preserve_topology=True)).reset_index(drop=True)
    towns = pyogrio.read_dataframe(path, layer="towns", bbox=box)
    out["towns"] = towns.nlargest(max_towns, "population").reset_index(drop=True)
    return out


def add_basemap(m: folium.Map, bounds, *, max_towns: int = 1500) -> None:
    """Draw the basemap (one toggleable layer, under everything added later) on a folium map.

    Parameters
    ----------
    m : folium.Map
    bounds : sequence
        The view, ``(W, S, E, N)`` or ``[[S, W], [N, E]]`` in degrees; it is padded by
        :func:`view_bounds`.
    max_towns : int

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> add_basemap(m, (-116.0, 38.0, -115.0, 39.0))
    >>> "Nevada" in m.get_root().render()
    True
    """
    layers = read_basemap(view_bounds(bounds), max_towns=max_towns)
    group = _group(m, "Basemap: states, counties, towns")
    for name, style in (("states", STATE_STYLE), ("counties", COUNTY_STYLE)):
        frame = layers[name]
        label = escape(frame["name"]) + (" County" if name == "counties" else "")
        props = pd.DataFrame({"tooltip": label.to_numpy(), "style": [style] * len(frame)})
        _geojson(frame, props).add_to(group)
    towns = layers["towns"]
    if len(towns):
        tips = (escape(towns["name"]) + ", " + escape(towns["state"]) + " (pop. "
                + pd.Series(np.char.mod("%d", towns["population"].to_numpy(np.int64))) + ")")
        props = pd.DataFrame({"tooltip": tips.to_numpy(), "style": [TOWN_STYLE] * len(towns)})
        geoms = shapely.set_precision(towns.geometry.values, 1e-5)
        _geojson(towns.set_geometry(gpd.GeoSeries(geoms, crs=towns.crs)), props,
                 marker=folium.CircleMarker(radius=2.5)).add_to(group)
    m.get_root().header.add_child(folium.Element(  # type: ignore[attr-defined]
        f"<style>.leaflet-container {{background: {BACKGROUND};}}</style>"))


def draw_basemap(ax, extent, crs, *, label_towns: int = 12) -> None:
    """Draw the basemap on a matplotlib axes in ``crs`` within ``extent`` (x0, y0, x1, y1 in that CRS).

    States are filled, counties outlined, towns dotted and the ``label_towns`` most populous named.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> draw_basemap(ax, (-2.0e6, 1.6e6, -1.5e6, 2.3e6), "EPSG:5070")
    >>> len(ax.collections) >= 2
    True
    """
    corners = gpd.GeoSeries([shapely.box(*extent).segmentize((extent[2] - extent[0]) / 20)], crs=crs)
    w, s, e, n = corners.to_crs(4326).total_bounds
    layers = read_basemap(view_bounds((w, s, e, n), pad=0.05, min_pad_deg=0.1), max_towns=400,
                          tolerance_deg=(e - w) / 2000)
    ax.set_facecolor(BACKGROUND)
    if len(layers["states"]):  # (none at sea or abroad)
        layers["states"].to_crs(crs).plot(ax=ax, color=STATE_STYLE["fillColor"], edgecolor=STATE_STYLE["color"],
                                          linewidth=0.6, zorder=0)
    if len(layers["counties"]):
        layers["counties"].to_crs(crs).boundary.plot(ax=ax, color=COUNTY_STYLE["color"], linewidth=0.25, zorder=0.5)
    towns = layers["towns"].to_crs(crs)
    if len(towns):
        ax.scatter(towns.geometry.x, towns.geometry.y, s=2, c="#4d4d4d", linewidths=0, zorder=3)
        for _, town in towns.head(label_towns).iterrows():
            ax.annotate(town["name"], (town.geometry.x, town.geometry.y), xytext=(2, 2), textcoords="offset points",
                        fontsize=5, color="#333333", zorder=3)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
