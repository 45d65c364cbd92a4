"""Check a run's sites on the WGS84 ellipsoid, without importing siting.

    python benchmarks/check_ground_truth.py SCENARIO.yaml OUTPUT_FOLDER [--sample N]

``--sample N`` checks N sites drawn at random (seed 0) instead of all: statewide parcel sites take hours
(nevada_real.yaml: more than 40 CPU-minutes for 1,700 sites).

Reads the scenario's layers with geopandas (in their own CRS, edges densified before reprojecting)
and the delivered ``siting.gpkg``, then checks every site:

* geometry: one Polygon per site (a contiguous site), no GeometryCollection or line parts;
* ``outside``: no part of a site nearer than ``buffer_m`` to the layer (geodesic);
* ``within``: every point of a site (its outline every 10 m, its inside every 50 m; large sites
  at 20,000 outline and 200 x 200 inside points) within ``distance_m`` of the layer;
* ``beyond``: the site at least ``distance_m`` from the layer;
* ``min_area``: every site at least ``acres`` (area on the ellipsoid, ``Geod.geometry_area_perimeter``);
* width: no strip or neck of a site narrower than ``min_width_m`` (parcels): an opening removes nothing;
* zones: every site inside the ``split_by`` zones (plus ``zone_snap_m``);
* spacing: no two footprints closer than ``spacing_m`` (pack);
* reported distances: every ``distance_to`` factor column within max(1 m, 0.1 %) of the geodesic distance.

Distances are measured in an azimuthal-equidistant frame centred on each site (exact from the centre,
and within a few millimetres over the tens of kilometres the rules look at). Prints one line per
check with the number of sites checked and the number that break it; exits 1 if any does.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from pyproj import Geod, Proj

GEOD = Geod(ellps="WGS84")
M2_PER_ACRE = 4046.8564224
STEP_DEG = 0.0005
STEP_M = 25.0  # the same for a projected CRS's edges
#: Field names the scenarios use, from the federal files' own (HIFLD, TIGER).
FIELDS = {"voltage_kv": ("MAX_VOLT", "VOLTAGE"), "category": ("MTFCC",)}
TIGER = {"S1100": "primary", "S1200": "secondary"}


def expand(path: str, base: Path) -> Path:
    out = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m.group(1), m.group(2) or ""), path)
    p = Path(out)
    return p if p.is_absolute() else base / p


def read_layer(spec, base: Path) -> gpd.GeoDataFrame:
    specs = spec if isinstance(spec, list) else [spec]
    frames = []
    for s in specs:
        path = expand(s["path"], base)
        if path.suffix == ".csv":
            df = pd.read_csv(path)
            lon = next(c for c in df.columns if c.lower() in ("longitude", "lon", "x", "long"))
            lat = next(c for c in df.columns if c.lower() in ("latitude", "lat", "y"))
            f = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs=4326)
        else:
            f = gpd.read_file(path, layer=s.get("layer"), engine="pyogrio")
        f = to_lonlat(f[f.geometry.notna() & ~f.geometry.is_empty])
        for name, sources in FIELDS.items():
            for c in sources:
                if name not in f and c in f:
                    f[name] = f[c].map(TIGER).fillna("other") if c == "MTFCC" else pd.to_numeric(f[c], errors="coerce")
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def to_lonlat(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Edges densified in the frame's own CRS (where they are straight), then reprojected to lon/lat."""
    step = STEP_DEG if f.crs.is_geographic else STEP_M
    return f.set_geometry(shapely.segmentize(shapely.make_valid(f.geometry.values), step)).to_crs(4326)


def features(layers: dict, name: str, where: str | None) -> gpd.GeoDataFrame:
    f = layers[name]
    return f.query(where) if where else f


def local(site_ll):
    """Lon/lat shapes -> an azimuthal-equidistant frame on WGS84 centred on the site (exact distances from there)."""
    c = site_ll.centroid
    frame = Proj(proj="aeqd", lat_0=c.y, lon_0=c.x, ellps="WGS84", units="m")
    return lambda g: shapely.transform(g, lambda xy: np.column_stack(frame(xy[:, 0], xy[:, 1])))


def near(feats: gpd.GeoDataFrame, site_ll, reach_m: float) -> np.ndarray:
    minx, miny, maxx, maxy = site_ll.bounds
    pad = reach_m / 80_000 + 0.05  # degrees of longitude at 45 N, with room
    return feats.cx[minx - pad:maxx + pad, miny - pad:maxy + pad].geometry.values


def distances(site_ll, feats, reach_m: float, *, farthest: bool = False) -> float:
    """Nearest (or, over the site's outline and inside, the farthest nearest) ground distance to the features."""
    to = local(site_ll)
    cand = near(feats, site_ll, reach_m)
    if not len(cand):
        return np.inf
    targets = to(np.asarray(cand))
    site = to(site_ll)
    if not farthest:
        return float(shapely.distance(site, targets).min())
    x0, y0, x1, y1 = site.bounds  # the outline every 10 m, the inside every 50 m (at most 200 x 200 points)
    step = max(50.0, (x1 - x0) / 200, (y1 - y0) / 200)
    gx, gy = (a.ravel() for a in np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step)))
    inside = shapely.contains_xy(site, gx, gy)
    edge = max(10.0, site.exterior.length / 20_000)
    xy = np.vstack([shapely.get_coordinates(shapely.segmentize(site.exterior, edge)),
                    np.column_stack([gx[inside], gy[inside]])])
    pts = shapely.points(xy)
    tree = shapely.STRtree(targets)
    return float(shapely.distance(pts, targets[tree.nearest(pts)]).max())


def check(scenario: Path, out: Path, sample: int | None = None) -> int:
    sc = yaml.safe_load(scenario.read_text())
    base = scenario.parent
    sites = gpd.read_file(out / "siting.gpkg", layer="sites", engine="pyogrio")
    if sample is not None and len(sites) > sample:
        print(f"checking {sample:,} of {len(sites):,} sites, drawn at random (seed 0)")
        sites = sites.sample(sample, random_state=0)
    sites_ll = to_lonlat(sites)
    names = {r.get("layer") for r in sc.get("constraints", [])} | {f.get("distance_to") for f in sc.get("factors", [])}
    cand = sc.get("candidates", {})
    if cand.get("split_by"):
        names.add(cand["split_by"])
    layers = {n: read_layer(sc["layers"][n], base) for n in names if n}
    rows = []
    kinds = sites.geom_type.value_counts().to_dict()
    rows.append(("one Polygon per site", len(sites), int(len(sites) - kinds.get("Polygon", 0)), str(kinds)))
    for rule in sc.get("constraints", []):
        kind = rule["rule"]
        if kind in ("outside", "within", "beyond"):
            feats = features(layers, rule["layer"], rule.get("where"))
            limit = rule.get("buffer_m", rule.get("distance_m", 0.0))
            d = np.array([distances(g, feats, limit + 50_000, farthest=kind == "within") for g in sites_ll.geometry])
            bad = d < limit if kind in ("outside", "beyond") else d > limit
            rows.append((f"{kind} {rule['layer']} {limit:g} m", len(sites), int(bad.sum()),
                         f"closest {np.nanmin(d):,.1f} m" if kind != "within" else f"farthest {np.nanmax(d):,.1f} m"))
        if kind == "min_area":
            acres = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in sites_ll.geometry]) / M2_PER_ACRE
            small = int((acres < rule["acres"] * (1 - 1e-6)).sum())
            rows.append((f"min_area {rule['acres']:g} acres", len(sites), small, f"smallest {acres.min():,.1f} acres"))
    method = cand.get("method", "parcels")
    if method == "parcels":
        width = cand.get("min_width_m", 100.0)
        thin = [_narrow(local(g)(g), width / 2 * 0.999) for g in sites_ll.geometry]
        rows.append((f"no site narrower than {width:g} m", len(sites), int(np.sum(thin)), ""))
    if cand.get("split_by"):
        zones = layers[cand["split_by"]]
        snap = cand.get("zone_snap_m", 100.0)
        outside = [distances(g.representative_point(), zones, snap) > 0 or
                   local(g)(g).difference(local(g)(shapely.union_all(near(zones, g, 1000)))).buffer(-snap).area > 0
                   for g in sites_ll.geometry]
        rows.append((f"inside the {cand['split_by']} zones (+{snap:g} m)", len(sites), int(np.sum(outside)), ""))
    if method == "pack" and cand.get("spacing_m"):
        rows.append(_spacing(sites, sites_ll, cand["spacing_m"]))
    for f in sc.get("factors", []):
        if "distance_to" in f and f"{f['name']}_m" in sites:
            feats = features(layers, f["distance_to"], f.get("where"))
            rep = sites[f"{f['name']}_m"].to_numpy(float)
            truth = np.array([distances(g, feats, v + 50_000) for g, v in zip(sites_ll.geometry, rep, strict=True)])
            err = np.abs(rep - truth)
            bad = err > np.maximum(1.0, 1e-3 * truth)
            rows.append((f"reported {f['name']}_m", len(sites), int(bad.sum()), f"largest error {err.max():,.2f} m"))
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  {'sites':>7}  {'broken':>6}  note")
    for name, n, bad, note in rows:
        print(f"{name:<{width}}  {n:>7,}  {bad:>6,}  {note}")
    return int(any(r[2] for r in rows))


def _narrow(site, r: float) -> bool:
    """Whether any strip or neck of a site (in a local frame, metres) is narrower than ``2 r``: an opening by
    ``r`` removes a piece thicker than 2 m (not a sliver between a rounded corner's chords and its arc)."""
    opened = site.buffer(-r, 16).buffer(r, 16)
    removed = shapely.get_parts(shapely.difference(site, opened))
    return bool(len(removed) and not shapely.is_empty(shapely.buffer(removed, -1.0)).all()) or opened.is_empty


def _stretch(sites) -> float:
    """How much longer than on the ground a short distance can be on the sites' map (at least 5 % slack).

    The largest Tissot semi-axis at the sites' centres, with 2 % for the scale's change between them:
    pairs nearer than ``spacing_m`` on the ground are then all within the planar search.
    """
    if sites.crs is None or not sites.crs.is_projected:
        return 1.05
    c = sites.geometry.centroid.to_crs(4326)
    f = Proj(sites.crs).get_factors(c.x.to_numpy(), c.y.to_numpy())
    return max(1.05, float(np.nanmax(f.tissot_semimajor)) * 1.02)


def _spacing(sites, sites_ll, spacing_m: float) -> tuple:
    geoms = sites.geometry.values
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=spacing_m * _stretch(sites))
    keep = i < j
    d = np.array([distances(sites_ll.geometry.iloc[a], sites_ll.iloc[[b]], spacing_m * 2) for a, b in
                  zip(i[keep], j[keep], strict=True)])
    closest = f"closest pair {d.min():,.1f} m" if len(d) else "no pair near"
    return (f"footprints {spacing_m:g} m apart", int(keep.sum()), int((d < spacing_m).sum()), closest)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args[args.index("--sample") + 1]) if "--sample" in args else None
    sys.exit(check(Path(args[0]), Path(args[1]), n))
