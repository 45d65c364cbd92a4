"""A deterministic synthetic country sized like the real national layers (EPSG:5070).

Sizes at ``scale=1`` (see ../shared/PERFORMANCE_NOTES.md section 1 for the real counts): 75,000
federal polygons over about 2.6 million km2 (BLM mostly in the 11 western states, plus Alaska),
100,000 transmission lines forming networks around hubs, 75,000 substations at line ends,
300,000 deposits in clusters, 300,000 rail segments, exclusion zones. Everything is drawn from
``numpy.random.default_rng(seed)``: the same seed gives the same country. Parcels are real-shaped
when given real part shapes (:func:`real_shaped_parcels`), else 12-vertex stars (:func:`parcels`).
"""

from __future__ import annotations

import numpy as np
import shapely

#: CONUS in EPSG:5070 (x, y bounds) and the "west" (11 western states) boundary.
CONUS = (-2_350_000.0, 270_000.0, 2_250_000.0, 3_170_000.0)
WEST_X = -700_000.0
#: Alaska placed as in EPSG:5070 coordinates would put it (about -4.3e6..-1.5e6, 3.9e6..6.3e6).
ALASKA = (-4_200_000.0, 4_000_000.0, -1_700_000.0, 6_200_000.0)

SIZES = {"parcels": 75_000, "lines": 100_000, "substations": 75_000, "deposits": 300_000, "rail": 300_000,
         "exclusions": 20_000}


def _region_points(rng, n: int, west_share: float, alaska_share: float) -> np.ndarray:
    """Points spread over the West, the East and Alaska in the given shares."""
    n_ak = int(n * alaska_share)
    n_w = int((n - n_ak) * west_share)
    n_e = n - n_ak - n_w
    x0, y0, x1, y1 = CONUS
    west = np.column_stack([rng.uniform(x0, WEST_X, n_w), rng.uniform(y0, y1, n_w)])
    east = np.column_stack([rng.uniform(WEST_X, x1, n_e), rng.uniform(y0, y1, n_e)])
    a0, b0, a1, b1 = ALASKA
    ak = np.column_stack([rng.uniform(a0, a1, n_ak), rng.uniform(b0, b1, n_ak)])
    return np.vstack([west, east, ak])


def parcels(rng, n: int, total_km2: float = 2_600_000.0) -> tuple[np.ndarray, np.ndarray]:
    """Star-shaped polygons with lognormal areas summing to about ``total_km2``; and their agency."""
    centres = _region_points(rng, n, west_share=0.9, alaska_share=0.1)
    area = rng.lognormal(0, 1.6, n)
    area *= total_km2 * 1e6 / area.sum()
    radius = np.sqrt(area / np.pi)
    k = 12
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    wobble = rng.uniform(0.7, 1.25, (n, k))
    xs = centres[:, :1] + radius[:, None] * wobble * np.cos(angles)
    ys = centres[:, 1:] + radius[:, None] * wobble * np.sin(angles)
    ring = np.stack([xs, ys], axis=-1)
    polys = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))
    west = centres[:, 0] < WEST_X
    agency = np.where(west, rng.choice(["BLM", "BLM", "BLM", "USFS", "FWS", "NPS", "DOD", "DOE"], n),
                      rng.choice(["USFS", "FWS", "NPS", "DOD", "USACE", "BOR"], n))
    return polys, agency


def shape_templates(parts: np.ndarray) -> np.ndarray:
    """Real polygons (one per part, in metres) moved so that each one's centroid is at the origin."""
    return _moved(np.asarray(parts, dtype=object), 1.0, -shapely.get_coordinates(shapely.centroid(parts)))


def _moved(geoms: np.ndarray, f: float, xy: np.ndarray) -> np.ndarray:
    """New geometries: each of ``geoms`` scaled by ``f`` about the origin, then moved by its row of ``xy``."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    return shapely.set_coordinates(geoms.copy(), coords * f + xy[idx])


def real_shaped_parcels(rng, n: int, templates: np.ndarray, total_km2: float = 2_600_000.0,
                        mean_parts: float = 3.0, max_parts: int = 2_704) -> tuple[np.ndarray, np.ndarray, dict]:
    """``n`` (Multi)Polygon parcels built from real part shapes; their agency; how they were scaled.

    Each part is a real part (``templates``, e.g. the 2,889 parts of Nevada's federal land in PAD-US)
    drawn with replacement, so the parts' vertex counts and holes follow the real file's. The number of
    parts per parcel is heavy-tailed like the real file's (discrete Pareto, shape 1.5: mean about 3,
    median 1, capped at Nevada BLM's 2,704). A parcel's parts lie around its centre, the largest
    first; parts of one parcel that overlap are merged, so every parcel is valid. All templates are
    scaled by one factor so that the land sums to ``total_km2``.
    """
    k = np.minimum(np.floor(rng.random(n) ** (-1 / 1.5)).astype(int), max_parts)
    owner = np.repeat(np.arange(n), k)
    pick = rng.integers(0, len(templates), len(owner))
    area = shapely.area(templates)[pick]
    f = float(np.sqrt(total_km2 * 1e6 / area.sum()))
    centres = _region_points(rng, n, west_share=0.9, alaska_share=0.1)
    size = np.sqrt(np.bincount(owner, weights=area * f * f, minlength=n))  # each parcel's extent, about
    offset = rng.normal(0, 1, (len(owner), 2)) * size[owner, None]
    offset[np.r_[0, np.cumsum(k)[:-1]]] = 0.0  # the first part at the centre
    parts = _moved(templates[pick], f, centres[owner] + offset)
    geoms = _valid_multipolygons(parts, owner, n)
    west = centres[:, 0] < WEST_X
    agency = np.where(west, rng.choice(["BLM", "BLM", "BLM", "USFS", "FWS", "NPS", "DOD", "DOE"], n),
                      rng.choice(["USFS", "FWS", "NPS", "DOD", "USACE", "BOR"], n))
    return geoms, agency, {"scale_factor": f, "parts": len(owner), "max_parts": int(k.max())}


def _valid_multipolygons(parts: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """One geometry per owner: its parts as a MultiPolygon, merged (union) where two of them overlap."""
    tree = shapely.STRtree(parts)
    a, b = tree.query(parts, predicate="intersects")
    clash = np.unique(owner[a[(a < b) & (owner[a] == owner[b])]])
    starts = np.r_[0, np.cumsum(np.bincount(owner, minlength=n))]
    out = np.empty(n, dtype=object)
    for i in range(n):
        own = parts[starts[i]:starts[i + 1]]
        out[i] = own[0] if len(own) == 1 else shapely.multipolygons(own)
    for i in clash:
        out[i] = shapely.union_all(parts[starts[i]:starts[i + 1]])
    return out


def lines(rng, n: int, hubs: int = 300) -> np.ndarray:
    """Random-walk polylines of about 10 vertices; half start at network hubs."""
    hub_xy = _region_points(rng, hubs, west_share=0.5, alaska_share=0.02)
    start = _region_points(rng, n, west_share=0.5, alaska_share=0.02)
    at_hub = rng.random(n) < 0.5
    start[at_hub] = hub_xy[rng.integers(0, hubs, at_hub.sum())]
    heading = rng.uniform(0, 2 * np.pi, n)
    turns = heading[:, None] + rng.normal(0, 0.3, (n, 9)).cumsum(axis=1)
    steps = rng.lognormal(np.log(700), 0.5, (n, 9))
    path = np.concatenate([np.zeros((n, 1, 2)), np.stack([steps * np.cos(turns), steps * np.sin(turns)], -1)
                           .cumsum(axis=1)], axis=1)
    return shapely.linestrings(start[:, None, :] + path)


def deposits(rng, n: int, clusters: int = 2_000) -> np.ndarray:
    """Points: 80 % in Gaussian clusters (sigma 15 km, 85 % of clusters in the West), 20 % scattered."""
    c = _region_points(rng, clusters, west_share=0.85, alaska_share=0.05)
    n_c = int(n * 0.8)
    pts = c[rng.integers(0, clusters, n_c)] + rng.normal(0, 15_000, (n_c, 2))
    scattered = _region_points(rng, n - n_c, west_share=0.6, alaska_share=0.05)
    return shapely.points(np.vstack([pts, scattered]))


def line_ends(geoms: np.ndarray, n: int, rng) -> np.ndarray:
    """Points at the ends of randomly chosen lines (substations)."""
    pick = rng.integers(0, len(geoms), n)
    end = np.where(rng.random(n) < 0.5, 0, -1)
    return shapely.get_point(geoms[pick], end)


def exclusions(rng, n: int) -> np.ndarray:
    """Disks of 1-8 km radius (wilderness, refuges, buffers)."""
    c = _region_points(rng, n, west_share=0.7, alaska_share=0.05)
    return shapely.buffer(shapely.points(c), rng.uniform(1_000, 8_000, n), quad_segs=8)


def country(scale: float = 1.0, seed: int = 0, templates: np.ndarray | None = None) -> dict:
    """Every layer at ``scale`` times the national sizes, as shapely arrays (EPSG:5070).

    With ``templates`` (real part shapes, :func:`shape_templates`) the parcels are real-shaped
    (:func:`real_shaped_parcels`); without, 12-vertex stars (:func:`parcels`)."""
    rng = np.random.default_rng(seed)
    size = {k: max(1, int(v * scale)) for k, v in SIZES.items()}
    if templates is None:
        polys, agency = parcels(rng, size["parcels"], 2_600_000.0 * scale)
    else:
        polys, agency, _ = real_shaped_parcels(rng, size["parcels"], templates, 2_600_000.0 * scale)
    tx = lines(rng, size["lines"])
    return {"parcels": polys, "agency": agency, "lines": tx, "substations": line_ends(tx, size["substations"], rng),
            "deposits": deposits(rng, size["deposits"]), "rail": lines(rng, size["rail"], hubs=600),
            "exclusions": exclusions(rng, size["exclusions"])}
