"""Map layers for many features: compact clustered points, binned summaries, size-bounded outlines.

A national result has more than a million sites and input layers of tens of thousands of detailed
polygons; drawn feature by feature the page would weigh hundreds of megabytes. Three tools keep
``map.html`` small and quick while every site stays visible:

* :func:`cluster_points`: points as compact rows ``[lat, lon, text, colour index]`` (a site's row
  carries its id, score and rank and the tooltip is composed in the browser), clustered in grey
  bubbles with their counts.
* :func:`binned_sites`: every site summarised in square equal-area cells (count, best and mean
  score, the best site's id), coloured by the best score: the whole result at a glance.
* :func:`within_budget`: outlines simplified (tolerance doubled as needed) until a layer has at
  most a given number of vertices, or the first features that fit; the layer's name says by how much.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> sites = gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "score": [0.2, 0.9, 0.5]},
...                          geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(5e4, 0, 5e4 + 10, 10)], crs=5070)
>>> bins = binned_sites(sites, cell_m=10_000)
>>> bins[["n_sites", "best_score", "best_site"]].values.tolist()
[[2, 0.9, 'b'], [1, 0.5, 'c']]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.deliver.folium_adapter import MarkerCluster
from siting.geo.parallel import chunked

__all__ = ["binned_sites", "cluster_points", "least_vertices", "within_budget"]

# the palette comes from siting (colour strings it made), the rows' text is escaped before it gets here
_CLUSTER_POINT = """(function () {
  var P = %s;
  return function (row) {
    var c = P[row[row.length - 1]];
    var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 5, color: c, fillColor: c, fillOpacity: 0.8,
                                                          weight: 1});
    var tip = row.length > 4 ? 'Site ' + row[2] + ' - score ' + row[3] + ', rank ' + row[4] : row[2];
    m.on('mouseover', function () { if (!this.getTooltip()) { this.bindTooltip(tip).openTooltip(); } });
    return m;
  };
})()"""
# cluster bubbles in a neutral grey with their count: green-to-red bubbles would read as the score ramp
_CLUSTER_ICON = """
function (cluster) {
  var n = cluster.getChildCount(), size = n < 100 ? 30 : (n < 1000 ? 36 : 44);
  return L.divIcon({html: '<div style="background:rgba(82,82,82,0.78);color:#fff;border:2px solid #fff;'
    + 'border-radius:50%;box-sizing:border-box;width:' + size + 'px;height:' + size + 'px;display:flex;'
    + 'align-items:center;justify-content:center;font:bold 11px sans-serif">' + n + '</div>',
    className: 'siting-cluster', iconSize: L.point(size, size)});
}
"""


def cluster_points(points: gpd.GeoSeries, texts: list[list], colours) -> MarkerCluster:
    """A clustered layer of points, one compact row each.

    Parameters
    ----------
    points : GeoSeries
        Points (any CRS); drawn at 4-decimal lon/lat (about 10 m).
    texts : list of list
        Per point either ``[escaped tooltip]`` or ``[escaped site id, score, rank]``.
    colours : sequence of str
        Per point colour (strings siting made: they enter the page's script as they are).

    Examples
    --------
    >>> from shapely import Point
    >>> layer = cluster_points(gpd.GeoSeries([Point(-115, 38)], crs=4326), [["a town"]], ["#ff0000"])
    >>> layer.data
    [[38.0, -115.0, 'a town', 0]]
    """
    web = points.to_crs(4326)
    palette, index = np.unique(np.asarray(colours, dtype=str), return_inverse=True)
    lat, lon = np.round(web.y.to_numpy(), 4).tolist(), np.round(web.x.to_numpy(), 4).tolist()
    data = [[y, x, *t, int(i)] for y, x, t, i in zip(lat, lon, texts, index.tolist(), strict=True)]
    callback = _CLUSTER_POINT % ("[" + ",".join(f'"{c}"' for c in palette) + "]")
    return MarkerCluster(data, callback=callback, icon_create_function=_CLUSTER_ICON)


def site_rows(sites: pd.DataFrame, ids) -> list[list]:
    """``[escaped id, score (3 decimals), rank]`` per site, for :func:`cluster_points`."""
    score = np.round(sites["score"].to_numpy(float), 3)
    rank = sites["rank"].to_numpy() if "rank" in sites else np.arange(1, len(sites) + 1)
    return [[i, None if np.isnan(s) else float(s), int(r)] for i, s, r in zip(ids, score, rank, strict=True)]


def binned_sites(sites: gpd.GeoDataFrame, cell_m: float | None = None, max_cells: int = 4000) -> gpd.GeoDataFrame:
    """Every site in square cells of the sites' (projected) CRS: count, best and mean score, best site.

    Summed in numpy by cell number, so a national result's 1.7 M site ids are read for the best sites only.

    Parameters
    ----------
    sites : GeoDataFrame
        With ``site_id`` and ``score``, in a projected CRS.
    cell_m : float, optional
        Cell side; default the smallest of 5, 10, 20, 40 ... km that gives at most ``max_cells`` cells.
    max_cells : int

    Returns
    -------
    GeoDataFrame
        One row per occupied cell: ``n_sites``, ``best_score``, ``mean_score``, ``best_site``, ``cell_km``.
    """
    xy = shapely.get_coordinates(shapely.point_on_surface(sites.geometry.values))
    size = cell_m or 5_000.0
    while True:
        keys = np.floor(xy / size).astype(np.int64)
        low = keys.min(axis=0) if len(keys) else np.zeros(2, np.int64)
        span = (keys[:, 1].max() - low[1] + 1) if len(keys) else 1
        flat, inverse = np.unique((keys[:, 0] - low[0]) * span + (keys[:, 1] - low[1]), return_inverse=True)
        cells = np.column_stack([flat // span + low[0], flat % span + low[1]])  # one 1-D key: fast
        if cell_m is not None or len(cells) <= max_cells:
            break
        size *= 2
    inverse, k = inverse.ravel(), len(cells)
    score = sites["score"].to_numpy(float)
    scored = ~np.isnan(score)
    order = np.lexsort((-np.where(scored, score, -1.0), inverse))  # each cell's best first (ties: first site)
    best = order[np.r_[True, inverse[order][1:] != inverse[order][:-1]]]  # one per cell, in cell order
    n_scored = np.bincount(inverse, weights=scored, minlength=k)
    total = np.bincount(inverse, weights=np.where(scored, score, 0.0), minlength=k)
    out = pd.DataFrame({"n_sites": np.bincount(inverse, minlength=k),
                        "mean_score": np.divide(total, n_scored, out=np.full(k, np.nan), where=n_scored > 0),
                        "best_score": score[best], "best_site": sites["site_id"].iloc[best].to_numpy(),
                        "cell_km": size / 1000})
    x0, y0 = cells[:, 0] * size, cells[:, 1] * size
    return gpd.GeoDataFrame(out, geometry=shapely.box(x0, y0, x0 + size, y0 + size), crs=sites.crs)


def within_budget(geoms: np.ndarray, tolerance: float, max_vertices: int) -> tuple[np.ndarray, float, int]:
    """The first geometries that fit ``max_vertices``, simplified (topology kept) with ``tolerance``, doubled
    until they have at most ``max_vertices`` vertices.

    Each pass simplifies the previous pass's result (a national layer of real outlines is simplified
    once at full size, not once per try), so the outlines move by at most the sum of the tolerances
    applied, which is what is returned. Simplification keeps every ring and part (a ring four vertices
    at least, holes included: :func:`least_vertices`), so a layer of many rings has a floor no tolerance
    gets under (GEOS keeps some rings above it where they would otherwise cross). Where the floor takes
    more than half the budget, only the first features whose floor takes up to half of it are kept (the
    caller says so): the rest of the budget draws their shapes, instead of every outline being bent into a
    triangle by a tolerance of hundreds of kilometres. The first feature is always kept, even one whose
    rings alone are over the budget (a national layer dissolved by manager): it is then drawn as simple as
    its rings allow, and the tolerance returned says so.

    Returns
    -------
    (ndarray, float, int)
        The first ``fit`` geometries simplified, how far at most they moved (the tolerances' sum), and
        ``fit``: all of them, or fewer where their floor is over the budget.

    Examples
    --------
    >>> ring = shapely.Point(0, 0).buffer(1000, quad_segs=256)
    >>> out, tol, fit = within_budget(np.array([ring]), 1.0, 50)
    >>> int(shapely.get_num_coordinates(out).sum()) <= 50, tol > 1.0, fit
    (True, True, 1)
    >>> squares = np.array([shapely.box(i, 0, i + 1, 1) for i in range(10)])  # 4 vertices each at least
    >>> within_budget(squares, 0.1, 20)[1:]
    (0.1, 2)
    >>> many = shapely.MultiPolygon(list(squares))  # one feature of 10 parts, 40 vertices at the fewest
    >>> int(shapely.get_num_coordinates(within_budget(np.array([many]), 0.1, 20)[0]).sum())
    40
    """
    floor = np.cumsum(least_vertices(geoms))
    if len(floor) and floor[-1] > max_vertices // 2:  # the first feature at least, however many rings it has
        geoms = geoms[:max(1, int(np.searchsorted(floor, max_vertices // 2, side="right")))]
    out = chunked(shapely.simplify, geoms, tolerance=tolerance, preserve_topology=True, min_items=2)
    moved = tolerance
    while int(shapely.get_num_coordinates(out).sum()) > max_vertices and tolerance < 1e6:
        tolerance *= 2
        out = chunked(shapely.simplify, out, tolerance=tolerance, preserve_topology=True, min_items=2)
        moved += tolerance
    fit = max(int(np.searchsorted(np.cumsum(shapely.get_num_coordinates(out)), max_vertices, side="right")),
              min(len(out), 1))
    return out[:fit], moved, fit


def least_vertices(geoms: np.ndarray) -> np.ndarray:
    """The fewest vertices each geometry keeps when simplified with its topology kept: four per ring of a
    polygon (holes included) or closed ring, two per line, one per point.

    Examples
    --------
    >>> holed = shapely.box(0, 0, 9, 9).difference(shapely.box(3, 3, 6, 6))
    >>> least_vertices(np.array([holed, shapely.LineString([(0, 0), (1, 1), (2, 0)]), shapely.Point(0, 0)])).tolist()
    [8, 2, 1]
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    kind = shapely.get_type_id(parts)
    each = np.select([kind == 3, kind == 2, kind == 1], [4 * (1 + shapely.get_num_interior_rings(parts)), 4, 2], 1)
    return np.bincount(owner, weights=each, minlength=len(geoms)).astype(np.int64)
