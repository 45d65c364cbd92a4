"""Make the synthetic Nevada demo region in ``sample_data/`` (deterministic).

Run from the repository root::

    python sample_data/make_sample_data.py            # writes sample_data/
    python sample_data/make_sample_data.py --out DIR  # writes elsewhere

Every value is SYNTHETIC: parcels, deposits, lines and terrain are made up,
placed around real Nevada towns, districts and corridors so the demo looks
plausible. The files use the real field names of the federal datasets (PAD-US,
MRDS, HIFLD, NARN, TIGER, NHD, MIRTA) so the demo goes through the same code
as real data. Re-running the script reproduces the files byte for byte with
the library versions recorded in ``MANIFEST.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely import MultiPoint, Polygon

SEED = 20250320
WORK_CRS = "EPSG:5070"
FIXED_DATE = "2025-03-20T00:00:00Z"
NEVADA = [(-120.0, 42.0), (-114.04, 42.0), (-114.04, 36.19), (-114.62, 36.12), (-114.76, 35.64),
          (-114.63, 35.0), (-120.0, 39.0)]
TO_WORK = pyproj.Transformer.from_crs("EPSG:4326", WORK_CRS, always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)

# (agency, lon, lat, radius_km, unit name, designation, GAP status) - checked in order
ZONES = [
    ("NPS", -114.25, 38.98, 22, "Great Basin National Park", "NP", 1),
    ("NPS", -116.85, 36.75, 30, "Death Valley National Park", "NP", 1),
    ("NPS", -114.55, 36.25, 30, "Lake Mead National Recreation Area", "NRA", 2),
    ("DOE", -116.05, 37.05, 45, "Nevada National Security Site", "FOTH", 4),
    ("DOD", -116.05, 37.60, 70, "Nevada Test and Training Range", "MIL", 4),
    ("DOD", -118.65, 39.35, 30, "Naval Air Station Fallon Ranges", "MIL", 4),
    ("DOD", -118.62, 38.52, 22, "Hawthorne Army Depot", "MIL", 4),
    ("FWS", -115.40, 36.65, 35, "Desert National Wildlife Refuge", "NWR", 2),
    ("FWS", -119.20, 41.72, 35, "Sheldon National Wildlife Refuge", "NWR", 2),
    ("FWS", -115.48, 40.20, 14, "Ruby Lake National Wildlife Refuge", "NWR", 2),
    ("FWS", -118.55, 39.60, 14, "Stillwater National Wildlife Refuge", "NWR", 2),
    ("BOR", -119.10, 39.43, 14, "Lahontan Basin Project Lands", "REC", 4),
    ("USFS", -115.45, 40.60, 40, "Humboldt-Toiyabe National Forest, Ruby Mountains", "NF", 3),
    ("USFS", -117.15, 39.15, 45, "Humboldt-Toiyabe National Forest, Austin-Tonopah", "NF", 3),
    ("USFS", -115.65, 36.30, 25, "Humboldt-Toiyabe National Forest, Spring Mountains", "NF", 3),
    ("USFS", -115.35, 41.80, 25, "Humboldt-Toiyabe National Forest, Jarbidge", "NF", 3),
    ("USFS", -117.55, 41.60, 25, "Humboldt-Toiyabe National Forest, Santa Rosa", "NF", 3),
    ("USFS", -115.00, 39.30, 30, "Humboldt-Toiyabe National Forest, Ely", "NF", 3),
    ("USFS", -119.85, 38.95, 18, "Humboldt-Toiyabe National Forest, Carson", "NF", 3),
]
BLM_DISTRICTS = [  # nearest of these names the BLM unit
    ("Winnemucca District", -118.4, 41.2), ("Elko District", -115.8, 41.0),
    ("Carson City District", -119.0, 39.2), ("Battle Mountain District", -116.9, 39.3),
    ("Ely District", -114.8, 38.6), ("Southern Nevada District", -115.3, 36.4),
]
TOWNS = [
    ("Reno", -119.81, 39.53, 264165), ("Sparks", -119.75, 39.54, 108445),
    ("Carson City", -119.77, 39.16, 58639), ("Fallon", -118.78, 39.47, 9327),
    ("Fernley", -119.25, 39.61, 22895), ("Lovelock", -118.47, 40.18, 1820),
    ("Winnemucca", -117.74, 40.97, 8431), ("Battle Mountain", -116.93, 40.64, 3000),
    ("Elko", -115.76, 40.83, 20564), ("Wells", -114.96, 41.11, 1251),
    ("West Wendover", -114.07, 40.74, 4512), ("Ely", -114.89, 39.25, 3924),
    ("Eureka", -115.96, 39.51, 610), ("Austin", -117.07, 39.49, 167),
    ("Tonopah", -117.23, 38.07, 2179), ("Goldfield", -117.23, 37.71, 268),
    ("Beatty", -116.76, 36.91, 1010), ("Pahrump", -115.98, 36.21, 44738),
    ("Las Vegas", -115.14, 36.17, 641903), ("Henderson", -114.98, 36.04, 317610),
    ("Mesquite", -114.07, 36.80, 20471), ("Caliente", -114.51, 37.61, 1130),
    ("Pioche", -114.45, 37.93, 1002), ("Hawthorne", -118.62, 38.52, 3118),
    ("Yerington", -119.16, 38.99, 3273), ("Mina", -118.11, 38.39, 155),
    ("Gabbs", -117.92, 38.87, 269), ("McDermitt", -117.72, 41.99, 513),
    ("Jackpot", -114.67, 41.98, 1195), ("Alamo", -115.16, 37.36, 1080),
]
DISTRICTS = [  # name, lon, lat, sigma_km, n, [(commodity text, weight)], dev-status weights
    ("Tempiute", -115.63, 37.63, 8, 40, [("Tungsten", 5), ("Tungsten, Molybdenum", 2), ("Fluorine-Fluorite", 1)]),
    ("Mill City", -118.10, 40.80, 10, 45, [("Tungsten", 5), ("Tungsten, Gold", 2), ("Molybdenum, Tungsten", 1)]),
    ("Pilot Mountains", -118.10, 38.40, 9, 35, [("Tungsten", 4), ("Antimony, Mercury", 1), ("Tungsten, Silver", 1)]),
    ("Osgood", -117.30, 41.15, 9, 25, [("Tungsten", 3), ("Gold, Silver", 2)]),
    ("Clayton Valley", -117.60, 37.80, 12, 35, [("Lithium", 6), ("Lithium, Potash", 2), ("Lithium, Boron-Borates", 1)]),
    ("Kings Valley", -118.05, 41.70, 10, 25, [("Lithium", 5), ("Lithium, Uranium", 1)]),
    ("Big Smoky", -117.50, 38.55, 12, 20, [("Lithium", 3), ("Boron-Borates", 1)]),
    ("Crescent Peak", -115.25, 35.45, 10, 20, [("REE", 3), ("REE, Thorium", 1), ("Barium-Barite", 1)]),
    ("Antimony Canyon", -117.05, 40.05, 10, 30, [("Antimony", 5), ("Antimony, Mercury", 2), ("Gold, Silver", 1)]),
    ("Lovelock", -118.40, 40.25, 9, 20, [("Antimony", 3), ("Mercury", 2), ("Tungsten", 1)]),
    ("Carlin Trend", -116.30, 40.90, 14, 55, [("Gold", 6), ("Gold, Silver", 3), ("Barium-Barite", 1)]),
    ("Battle Mountain", -117.00, 40.55, 12, 30, [("Gold, Copper", 3), ("Copper, Molybdenum", 2), ("Gold", 2)]),
    ("Goldfield", -117.20, 37.70, 8, 25, [("Gold, Silver", 4), ("Bismuth, Gold", 1), ("Tellurium, Gold", 1)]),
    ("Tonopah", -117.23, 38.08, 7, 20, [("Silver, Gold", 4), ("Silver, Lead, Zinc", 1)]),
    ("Comstock", -119.62, 39.30, 7, 20, [("Gold, Silver", 5), ("Mercury", 1)]),
    ("Robinson", -114.95, 39.25, 9, 20, [("Copper, Gold", 4), ("Copper, Molybdenum", 2)]),
    ("Mount Hope", -116.20, 39.80, 9, 15, [("Molybdenum", 3), ("Molybdenum, Tungsten", 1), ("Zinc, Lead", 1)]),
    ("Yerington", -119.20, 39.00, 9, 20, [("Copper", 4), ("Copper, Iron", 1), ("Tungsten", 1)]),
    ("Indium Hills", -114.70, 38.20, 10, 10, [("Indium, Zinc", 2), ("Gallium, Germanium, Zinc", 1), ("Bismuth", 1)]),
]
DEV_STATUS = (["Occurrence", "Prospect", "Past Producer", "Producer", "Unknown"], [0.38, 0.27, 0.22, 0.05, 0.08])
WILDERNESS = [
    ("Arc Dome Wilderness", "USFS", -117.35, 38.85, 12, 7), ("Jarbidge Wilderness", "USFS", -115.40, 41.78, 10, 6),
    ("Mount Moriah Wilderness", "USFS", -114.20, 39.28, 8, 6), ("Ruby Mountains Wilderness", "USFS", -115.42, 40.55, 14, 5),
    ("Mount Charleston Wilderness", "USFS", -115.68, 36.28, 9, 6), ("Table Mountain Wilderness", "USFS", -116.55, 38.85, 9, 7),
    ("Alta Toquima Wilderness", "USFS", -116.85, 38.80, 7, 5), ("Currant Mountain Wilderness", "USFS", -115.40, 38.90, 8, 5),
    ("Quinn Canyon Wilderness", "USFS", -115.65, 38.10, 8, 6), ("Grant Range Wilderness", "USFS", -115.45, 38.42, 9, 5),
    ("Black Rock Desert Wilderness", "BLM", -119.05, 40.95, 16, 8), ("High Rock Canyon Wilderness", "BLM", -119.35, 41.35, 9, 5),
    ("East Humboldts Wilderness", "USFS", -115.15, 40.95, 8, 5), ("Boundary Peak Wilderness", "USFS", -118.33, 37.85, 6, 5),
    ("Mokelumne Wilderness (California)", "USFS", -120.12, 38.62, 12, 8),
    ("Hoover Wilderness (California)", "USFS", -119.45, 38.15, 9, 6),
]
ROADS = [
    ("I- 80", "I", "S1100", [(-120.0, 39.50), (-119.81, 39.53), (-119.25, 39.61), (-118.47, 40.18),
                             (-117.74, 40.97), (-116.93, 40.64), (-116.10, 40.71), (-115.76, 40.83),
                             (-114.96, 41.11), (-114.04, 40.74)]),
    ("US Hwy 95", "U", "S1200", [(-117.72, 41.99), (-117.74, 40.97), (-118.47, 40.18), (-118.78, 39.47),
                                 (-118.62, 38.52), (-118.11, 38.39), (-117.23, 38.07), (-117.23, 37.71),
                                 (-116.76, 36.91), (-115.98, 36.45), (-115.14, 36.17), (-114.63, 35.00)]),
    ("US Hwy 93", "U", "S1200", [(-114.67, 41.99), (-114.96, 41.11), (-114.89, 39.25), (-114.45, 37.93),
                                 (-114.51, 37.61), (-115.16, 37.36), (-114.98, 36.40)]),
    ("US Hwy 50", "U", "S1200", [(-119.77, 39.16), (-118.78, 39.47), (-117.07, 39.49), (-115.96, 39.51),
                                 (-114.89, 39.25), (-114.05, 39.00)]),
    ("US Hwy 6", "U", "S1200", [(-117.23, 38.07), (-116.30, 38.45), (-115.40, 38.80), (-114.89, 39.25)]),
    ("I- 15", "I", "S1100", [(-115.39, 35.61), (-115.14, 36.17), (-114.60, 36.55), (-114.07, 36.80),
                             (-114.04, 36.85)]),
    ("State Rte 375", "S", "S1200", [(-116.37, 38.19), (-115.58, 37.65), (-115.23, 37.53)]),
]
RAIL = [
    ("UP", "OVERLAND", "M", 2, [(-120.0, 39.62), (-119.75, 39.54), (-119.25, 39.62), (-118.47, 40.19),
                                (-117.74, 40.98), (-116.93, 40.65), (-116.10, 40.72), (-115.76, 40.84),
                                (-114.96, 41.12), (-114.04, 41.05)]),
    ("UP", "LAS VEGAS", "M", 1, [(-115.39, 35.62), (-115.14, 36.18), (-114.60, 36.66), (-114.51, 37.62),
                                 (-114.05, 38.00)]),
    ("NN", "NEVADA NORTHERN", "I", 1, [(-114.89, 39.26), (-114.75, 40.20), (-114.66, 41.10)]),
    ("UP", "MINA", "I", 1, [(-119.05, 39.57), (-118.78, 39.48), (-118.62, 38.53), (-118.11, 38.40)]),
]
LAKES = [("Pyramid Lake", -119.55, 40.02, 12, 4.5, 390), ("Walker Lake", -118.71, 38.70, 10, 3.5, 390),
         ("Lake Mead", -114.55, 36.15, 16, 4, 436), ("Lake Tahoe", -120.03, 39.09, 9, 5, 390),
         ("Lahontan Reservoir", -119.07, 39.46, 5, 1.5, 436), ("Ruby Lake", -115.49, 40.18, 7, 2, 390),
         ("Rye Patch Reservoir", -118.30, 40.50, 6, 1.2, 436)]
MIRTA = [("Nellis AFB", "AF Active", -115.04, 36.24), ("Creech AFB", "AF Active", -115.67, 36.59),
         ("Nevada Test and Training Range", "AF Active", -116.00, 37.30),
         ("Tonopah Test Range", "AF Active", -116.78, 37.79), ("NAS Fallon", "Navy Active", -118.70, 39.42),
         ("Hawthorne Army Depot", "Army Active", -118.65, 38.53),
         ("Nellis Annex", "AF Active", -115.14, 36.24), ("Fallon Range Training Complex B-17", "Navy Active", -118.35, 39.20)]
OWNERS = ["NV ENERGY", "SIERRA PACIFIC POWER CO", "LS POWER", "WELLS RURAL ELECTRIC CO", "NOT AVAILABLE"]


def to_work(lon, lat):
    """Lon/lat arrays to EPSG:5070 metres."""
    return TO_WORK.transform(np.asarray(lon, float), np.asarray(lat, float))


def nevada() -> Polygon:
    """The Nevada outline (simplified) in the working CRS."""
    x, y = to_work(*zip(*NEVADA, strict=True))
    return shapely.segmentize(Polygon(zip(x, y, strict=True)), 5000)


def wobble(geom, amp: float, wavelength: float, phase: float = 0.0):
    """Displace vertices by a smooth field of their coordinates (shared edges move together)."""
    def f(xy):
        x, y = xy[:, 0], xy[:, 1]
        k = 2 * math.pi / wavelength
        dx = amp * (np.sin(k * y + phase) * np.cos(0.7 * k * x + 1.3) + 0.5 * np.sin(2.3 * k * x + 0.4))
        dy = amp * (np.cos(k * x + phase) * np.sin(0.8 * k * y + 0.2) + 0.5 * np.cos(2.1 * k * y + 1.7))
        return np.column_stack([x + dx, y + dy])
    return shapely.transform(geom, f)


def ellipse(lon, lat, a_km, b_km, angle_deg, n=48):
    """An ellipse polygon (semi-axes in km) centred on lon/lat, in the working CRS."""
    cx, cy = to_work(lon, lat)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    x, y = a_km * 1000 * np.cos(t), b_km * 1000 * np.sin(t)
    r = math.radians(angle_deg)
    xs, ys = cx + x * math.cos(r) - y * math.sin(r), cy + x * math.sin(r) + y * math.cos(r)
    return Polygon(zip(xs, ys, strict=True))


def polyline(points, step=4000.0, amp=800.0, phase=0.0):
    """A wiggly line through lon/lat waypoints, in the working CRS."""
    x, y = to_work(*zip(*points, strict=True))
    line = shapely.segmentize(shapely.linestrings(np.column_stack([x, y])), step)
    return wobble(line, amp, 25_000.0, phase)


def make_parcels(rng, nv) -> gpd.GeoDataFrame:
    """Voronoi cells over Nevada, about 85 % federal, by agency zone, with inholdings."""
    minx, miny, maxx, maxy = nv.bounds
    pts = []
    while len(pts) < 380:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if nv.contains(shapely.Point(x, y)):
            pts.append((x, y))
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(pts), extend_to=nv.buffer(50_000),
                                                       ordered=True))
    cells = wobble(shapely.segmentize(cells, 2500), 600.0, 18_000.0)
    cells = shapely.intersection(cells, nv)
    lon, lat = TO_LONLAT.transform(*shapely.get_coordinates(shapely.point_on_surface(cells)).T)
    rows = []
    for i, (cell, lo, la) in enumerate(zip(cells, lon, lat, strict=True)):
        zone = next((z for z in ZONES if _km(lo, la, z[1], z[2]) <= z[3]), None)
        if zone is None and rng.random() < 0.15:
            continue  # private, state or tribal land: not in the federal layer
        rows.append(_parcel_row(rng, i, cell, lo, la, zone))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS)


def _km(lon1, lat1, lon2, lat2) -> float:
    dx = (lon1 - lon2) * 111.32 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat1 - lat2) * 110.57)


def _parcel_row(rng, i, cell, lon, lat, zone) -> dict:
    if zone:
        agency, unit, des, gap = zone[0], zone[4], zone[5], zone[6]
    else:
        agency = "BLM"
        unit = min(BLM_DISTRICTS, key=lambda d: _km(lon, lat, d[1], d[2]))[0]
        des, gap = rng.choice(["PUB", "ACEC", "WSA", "NCA"], p=[0.82, 0.08, 0.06, 0.04]), 3
        gap = 2 if des != "PUB" else 3
        if rng.random() < 0.12:  # private inholdings
            cx, cy = shapely.get_coordinates(shapely.point_on_surface(cell))[0]
            holes = [shapely.box(cx + dx - s, cy + dy - s, cx + dx + s, cy + dy + s)
                     for dx, dy, s in rng.uniform([-6000, -6000, 500], [6000, 6000, 2000], (2, 3))]
            cell = shapely.difference(cell, shapely.union_all(holes))
    acres = cell.area / 4046.8564224
    return {"OBJECTID": 100_000 + i, "FeatClass": "Fee", "Category": "Fee", "Own_Type": "FED",
            "Own_Name": agency, "Mang_Type": "FED", "Mang_Name": agency, "Des_Tp": des,
            "Unit_Nm": unit, "State_Nm": "NV", "GAP_Sts": str(gap), "Pub_Access": "OA" if agency not in ("DOD", "DOE") else "XA",
            "GIS_Acres": round(acres * rng.uniform(0.997, 1.003)),
            "geometry": shapely.multipolygons(shapely.get_parts(cell))}


def make_wilderness() -> gpd.GeoDataFrame:
    rows = []
    for i, (name, agency, lon, lat, a, b) in enumerate(WILDERNESS):
        geom = wobble(shapely.segmentize(ellipse(lon, lat, a, b, 75 + 10 * (i % 4)), 1500), 500, 9000, i)
        rows.append({"Mang_Name": agency, "Des_Tp": "WA", "GAP_Sts": 1, "Unit_Nm": name,
                     "GIS_Acres": round(geom.area / 4046.8564224), "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS).to_crs("EPSG:4269")


def make_deposits(rng) -> pd.DataFrame:
    rows = []
    for name, lon, lat, sigma, n, mix in DISTRICTS:
        texts, weights = zip(*mix, strict=True)
        p = np.asarray(weights, float) / sum(weights)
        for k in range(n):
            dlon = rng.normal(0, sigma) / (111.32 * math.cos(math.radians(lat)))
            dlat = rng.normal(0, sigma) / 110.57
            rows.append({"district": name, "lon": lon + dlon, "lat": lat + dlat,
                         "commod": rng.choice(texts, p=p),
                         "dev_stat": rng.choice(DEV_STATUS[0], p=DEV_STATUS[1]), "k": k})
    scatter = 500 - len(rows) - 2
    for k in range(scatter):  # isolated occurrences across the state
        x, y = rng.uniform(-120.0, -114.1), rng.uniform(35.3, 41.9)
        rows.append({"district": "Scattered", "lon": x, "lat": y,
                     "commod": rng.choice(["Gold", "Silver", "Tungsten", "Barium-Barite", "Mercury", "Copper"]),
                     "dev_stat": rng.choice(DEV_STATUS[0], p=DEV_STATUS[1]), "k": k})
    df = pd.DataFrame(rows)
    out = pd.DataFrame({
        "dep_id": 10_300_000 + np.arange(len(df)) * 7,
        "mrds_id": [f"W{700000 + i:06d}" for i in range(len(df))],
        "site_name": [f"{d} {c.split(',')[0]} {'Mine' if s in ('Producer', 'Past Producer') else 'Prospect'} No. {k + 1}"
                      for d, c, s, k in zip(df.district, df.commod, df.dev_stat, df.k, strict=True)],
        "latitude": df.lat.round(5).map(lambda v: f"{v:.5f}"),
        "longitude": df.lon.round(5).map(lambda v: f"{v:.5f}"),
        "country": "United States", "state": "Nevada", "com_type": "M",
    })
    parts = df.commod.str.split(", ", n=1, expand=True).reindex(columns=[0, 1])
    out["commod1"] = parts[0]
    out["commod2"] = parts[1].fillna("")
    out["commod3"] = ""
    out["dev_stat"] = df.dev_stat
    out["oper_type"] = np.where(df.dev_stat.isin(["Producer", "Past Producer"]), "Underground", "Unknown")
    bad = pd.DataFrame([  # two defects as found in real downloads: a blank and a 0,0 placeholder
        {"dep_id": 10_299_991, "mrds_id": "W699991", "site_name": "Unlocated Tungsten Prospect",
         "latitude": "N/A", "longitude": "", "country": "United States", "state": "Nevada",
         "com_type": "M", "commod1": "Tungsten", "commod2": "", "commod3": "", "dev_stat": "Occurrence",
         "oper_type": "Unknown"},
        {"dep_id": 10_299_992, "mrds_id": "W699992", "site_name": "Nowhere", "latitude": "0",
         "longitude": "0", "country": "United States", "state": "Nevada", "com_type": "M",
         "commod1": "Gold", "commod2": "", "commod3": "", "dev_stat": "Unknown", "oper_type": "Unknown"},
    ])
    return pd.concat([out, bad], ignore_index=True)


def make_substations(rng, nv) -> gpd.GeoDataFrame:
    pts = [(name, *to_work(lon, lat)) for name, lon, lat, _ in TOWNS]
    lon, lat = rng.uniform(-119.6, -114.3, 40), rng.uniform(35.6, 41.8, 40)
    xs, ys = to_work(lon, lat)
    extra = [(None, x, y) for x, y in zip(xs, ys, strict=True) if nv.contains(shapely.Point(x, y))][:20]
    rows = []
    for i, (name, x, y) in enumerate(pts + extra):
        x, y = x + rng.normal(0, 2500), y + rng.normal(0, 2500)
        kv = rng.choice([69, 120, 138, 230, 345], p=[0.25, 0.2, 0.25, 0.2, 0.1])
        label = (name.upper() + " " + rng.choice(["SUBSTATION", "SWITCHING", "TAP"])) if name else f"UNKNOWN{300000 + i}"
        rows.append({"ID": str(400000 + i), "NAME": label, "TYPE": "SUBSTATION", "STATUS": "IN SERVICE",
                     "STATE": "NV", "MAX_VOLT": float(kv), "MIN_VOLT": float(-999999 if i % 11 == 0 else 69),
                     "LINES": int(rng.integers(1, 6)), "geometry": shapely.Point(x, y)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS)


def make_lines(rng, subs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import distance_matrix

    xy = shapely.get_coordinates(subs.geometry.values)
    d = distance_matrix(xy, xy)
    mst = minimum_spanning_tree(d).tocoo()
    edges = {(min(a, b), max(a, b)) for a, b in zip(mst.row, mst.col, strict=True)}
    order = np.argsort(d, axis=1)
    for a in range(len(xy)):
        for b in order[a, 1:4]:
            if len(edges) < 100:
                edges.add((min(a, int(b)), max(a, int(b))))
    rows = []
    for k, (a, b) in enumerate(sorted(edges)):
        length = d[a, b]
        kv = 345 if length > 120_000 else (230 if length > 70_000 else rng.choice([69, 115, 138]))
        kv = -999999 if k % 37 == 5 else kv
        vclass = {69: "UNDER 100", 115: "100-161", 138: "100-161", 230: "220-287", 345: "345"}.get(kv, "NOT AVAILABLE")
        line = shapely.segmentize(shapely.linestrings([xy[a], xy[b]]), 4000)
        line = wobble(line, min(1500.0, length / 40), 30_000.0, float(k))
        rows.append({"OBJECTID": 5000 + k, "ID": str(140000 + k), "TYPE": "AC; OVERHEAD",
                     "STATUS": "NOT AVAILABLE" if k % 23 == 7 else "IN SERVICE",
                     "OWNER": OWNERS[k % len(OWNERS)], "VOLTAGE": float(kv), "VOLT_CLASS": vclass,
                     "SUB_1": subs.NAME.iloc[a], "SUB_2": subs.NAME.iloc[b], "geometry": line})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS).to_crs(4326)


def make_network(routes, kind: str) -> gpd.GeoDataFrame:
    rows = []
    for r, route in enumerate(routes):
        pts = route[-1]
        for s in range(len(pts) - 1):
            geom = polyline(pts[s:s + 2], phase=float(r * 10 + s))
            if kind == "rail":
                owner, subdiv, net, tracks = route[:4]
                rows.append({"OBJECTID": 3000 + len(rows), "FRAARCID": 330000 + len(rows), "RROWNER1": owner,
                             "SUBDIV": subdiv, "NET": net, "TRACKS": tracks, "STATEAB": "NV", "geometry": geom})
            else:
                name, rttyp, mtfcc = route[:3]
                rows.append({"LINEARID": str(1104000000000 + len(rows)), "FULLNAME": name, "RTTYP": rttyp,
                             "MTFCC": mtfcc, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS)


def make_lakes() -> gpd.GeoDataFrame:
    rows = [{"Permanent_Identifier": f"{120050000 + i}", "GNIS_Name": n, "FType": ft,
             "FCode": ft * 100, "geometry": wobble(shapely.segmentize(ellipse(lo, la, a, b, 80 + 7 * i), 800), 300, 6000, i)}
            for i, (n, lo, la, a, b, ft) in enumerate(LAKES)]
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_CRS)
    g["AreaSqKm"] = (g.area / 1e6).round(3)
    return g.to_crs(4326)


def make_disturbance(rng, deposits: pd.DataFrame):
    """USMIN-style mine features and BLM-style mining claims around the (past) producers."""
    dev = deposits[deposits["dev_stat"].isin(["Producer", "Past Producer"])]
    lon = pd.to_numeric(dev["longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(dev["latitude"], errors="coerce").to_numpy()
    x, y = to_work(lon, lat)
    k = rng.integers(1, 5, len(x))
    fx = np.repeat(x, k) + rng.normal(0, 700, k.sum())
    fy = np.repeat(y, k) + rng.normal(0, 700, k.sum())
    types = rng.choice(["Prospect Pit", "Shaft", "Adit", "Open Pit Mine", "Tailings"], k.sum(),
                       p=[0.35, 0.25, 0.2, 0.1, 0.1])
    feats = gpd.GeoDataFrame({
        "gid": 800000 + np.arange(k.sum()), "state": "NV", "ftr_type": types,
        "ftr_name": [f"{t} {i + 1}" for i, t in enumerate(types)], "topo_name": "Synthetic Quad",
        "topo_date": "1985", "topo_scale": "24000"}, geometry=shapely.points(fx, fy), crs=WORK_CRS).to_crs(4326)
    pick = rng.choice(len(x), size=min(60, len(x)), replace=False)
    size = 20 * 4046.8564224
    side = math.sqrt(size)
    boxes = [shapely.box(x[i] + dx, y[i] + dy, x[i] + dx + side, y[i] + dy + side)
             for i, (dx, dy) in zip(pick, rng.normal(0, 500, (len(pick), 2)), strict=True)]
    claims = gpd.GeoDataFrame({
        "CSE_NR": [f"NV10{5000000 + i}" for i in range(len(boxes))],
        "CSE_NAME": [f"Synthetic Lode {i + 1}" for i in range(len(boxes))],
        "CSE_DISP": rng.choice(["Active", "Filed"], len(boxes), p=[0.85, 0.15]),
        "BLM_PROD": rng.choice(["Lode Claim", "Placer Claim", "LODE CLAIM"], len(boxes), p=[0.6, 0.2, 0.2]),
        "RCRD_ACRS": 20.66}, geometry=boxes, crs=WORK_CRS).to_crs(4326)
    return feats, claims


ENCUMBRANCES = {  # layer -> (name, lon, lat, a_km, b_km, attributes)
    "withdrawals": [("Fallon Range Training Complex withdrawal", -118.15, 39.30, 32, 16,
                     {"CASE_NR": "NVN 099891", "PURPOSE": "military training", "EXPIRES": 2046}),
                    ("Yucca Mountain withdrawal", -116.45, 36.85, 14, 9,
                     {"CASE_NR": "NVN 048602", "PURPOSE": "repository studies", "EXPIRES": 2030}),
                    ("Hot Creek mineral segregation", -116.35, 38.45, 12, 7,
                     {"CASE_NR": "NVN 101234", "PURPOSE": "mineral entry segregation", "EXPIRES": 2027})],
    "wilderness_study_areas": [("Kawich WSA", -116.05, 37.95, 14, 8, {"NLCS_ID": "NV-050-0111", "ADMIN_ST": "NV"}),
                               ("Augusta Mountains WSA", -117.62, 40.20, 12, 7,
                                {"NLCS_ID": "NV-020-0120", "ADMIN_ST": "NV"})],
    "critical_habitat": [("Tiehm's buckwheat", -117.85, 37.92, 4, 3,
                          {"sciname": "Eriogonum tiehmii", "status": "Final", "listing_st": "Endangered"}),
                         ("Dixie Valley toad", -118.02, 39.78, 8, 5,
                          {"sciname": "Anaxyrus williamsi", "status": "Final", "listing_st": "Endangered"})],
    "nonattainment": [("Las Vegas, NV", -115.15, 36.20, 45, 35,
                       {"POLLUTANT": "Ozone (2015)", "CLASSIFICATION": "Moderate", "STATE_ABBR": "NV"}),
                      ("Reno, NV", -119.80, 39.55, 25, 20,
                       {"POLLUTANT": "PM-10", "CLASSIFICATION": "Serious", "STATE_ABBR": "NV"})],
}
NAME_FIELD = {"withdrawals": "WD_NAME", "wilderness_study_areas": "NLCS_NAME", "critical_habitat": "comname",
              "nonattainment": "AREA_NAME"}


def make_encumbrances() -> dict[str, gpd.GeoDataFrame]:
    """Withdrawals, WSAs, critical habitat, nonattainment areas, an energy corridor and water-stress basins."""
    out = {}
    for layer, rows in ENCUMBRANCES.items():
        recs = [{NAME_FIELD[layer]: n, **attrs, "geometry": wobble(shapely.segmentize(ellipse(lo, la, a, b, 30 + 20 * i),
                                                                                       1500), 400, 8000, i)}
                for i, (n, lo, la, a, b, attrs) in enumerate(rows)]
        out[layer] = gpd.GeoDataFrame(recs, geometry="geometry", crs=WORK_CRS)
    spine = polyline([(-117.25, 38.10), (-116.90, 37.55), (-116.30, 36.95)], amp=400.0)
    out["energy_corridors"] = gpd.GeoDataFrame(
        {"CORRIDOR_ID": ["18-224"], "WIDTH_FT": [11_500], "DESIGNATION": ["Section 368 energy corridor"]},
        geometry=[spine.buffer(1750)], crs=WORK_CRS)
    x0, y0, x1, y1 = nevada().bounds
    xs, ys = np.linspace(x0, x1, 5), np.linspace(y0, y1, 6)
    cells = [shapely.box(a, b, c, d) for a, c in itertools.pairwise(xs) for b, d in itertools.pairwise(ys)]
    score = [round(1.0 + 3.5 * abs(math.sin(1.7 * i + 0.3)), 2) for i in range(len(cells))]
    out["water_stress"] = gpd.GeoDataFrame(
        {"HUC8": [f"1604{i:04d}" for i in range(len(cells))], "bws_score": score},
        geometry=[wobble(shapely.segmentize(c, 4000), 3000, 60_000) for c in cells], crs=WORK_CRS)
    return out


PLSS_ORIGIN = (-117.45, 38.02)  # south-west corner of the synthetic PLSS block (Mount Diablo Meridian)
SECTION_M = 1609.344  # a mile
QUARTERS = ("NW", "NE", "SW", "SE")


def _section_number(row: int, col: int) -> int:
    """Section number at a row (0 = north) and column (0 = west) of a township: 6..1, 7..12, 18..13, ..."""
    return row * 6 + (6 - col if row % 2 == 0 else col + 1)


def make_plss() -> dict[str, gpd.GeoDataFrame]:
    """Two by two townships cut into sections and quarter-quarter sections, with CadNSDI's field names."""
    x0, y0 = to_work(*PLSS_ORIGIN)
    sections, qqs = [], []
    for t, r in itertools.product(range(2), range(2)):  # township north of the first, range east of it
        plssid = f"NV21{3 + t:03d}0N{42 + r:03d}0E0"
        tx, ty = x0 + r * 6 * SECTION_M, y0 + t * 6 * SECTION_M
        for row, col in itertools.product(range(6), range(6)):
            sx, sy = tx + col * SECTION_M, ty + (5 - row) * SECTION_M
            no = _section_number(row, col)
            sec = shapely.box(sx, sy, sx + SECTION_M, sy + SECTION_M)
            sections.append({"FRSTDIVID": f"{plssid}SN{no:02d}0", "PLSSID": plssid, "FRSTDIVNO": f"{no:02d}",
                             "FRSTDIVTYP": "SN", "FRSTDIVLAB": str(no), "geometry": sec})
            for (qi, q), (ki, k) in itertools.product(enumerate(QUARTERS), enumerate(QUARTERS)):
                qx = sx + (qi % 2) * SECTION_M / 2 + (ki % 2) * SECTION_M / 4
                qy = sy + (1 - qi // 2) * SECTION_M / 2 + (1 - ki // 2) * SECTION_M / 4
                qqs.append({"PLSSID": plssid, "FRSTDIVNO": f"{no:02d}", "QSEC": q, "QQSEC": k + q,
                            "geometry": shapely.box(qx, qy, qx + SECTION_M / 4, qy + SECTION_M / 4)})
    return {"plss_first_division": gpd.GeoDataFrame(sections, geometry="geometry", crs=WORK_CRS),
            "plss_intersected": gpd.GeoDataFrame(qqs, geometry="geometry", crs=WORK_CRS)}


def make_dem(rng):
    """Basin-and-range terrain: NNE ridges over basins rising to the north-east (metres)."""
    res = 0.005
    west, north, ncol, nrow = -120.1, 42.1, 1240, 1460
    lon = west + res * (np.arange(ncol) + 0.5)
    lat = north - res * (np.arange(nrow) + 0.5)
    glon, glat = np.meshgrid(lon, lat)
    x = (glon + 117.0) * 85.0  # km, roughly
    y = (glat - 38.5) * 111.0
    z = 1350.0 + 1.2 * y + 0.4 * x  # basins from ~900 m (south) to ~1900 m (north-east)
    for _ in range(48):
        cx, cy = rng.uniform(-260, 270), rng.uniform(-400, 400)
        length, width = rng.uniform(35, 120), rng.uniform(3.5, 8.0)
        h, ang = rng.uniform(400, 1500), math.radians(rng.uniform(-12, 22))
        u = (x - cx) * math.cos(ang) - (y - cy) * math.sin(ang)
        v = (x - cx) * math.sin(ang) + (y - cy) * math.cos(ang)
        crest = 1 + 0.2 * np.sin(v / 17.0 + cx)
        z += h * crest * np.exp(-0.5 * (u / width) ** 2) * np.exp(-0.5 * (v / length) ** 4)
    z += 8 * np.sin(x / 2.7) * np.cos(y / 3.1)
    return np.round(z).astype("int16"), from_origin(west, north, res, res)


def write_all(out: Path) -> dict:
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE, "OGR_SQLITE_JOURNAL": "OFF"})
    nv = nevada()
    files = {
        "federal_lands.gpkg": lambda p: _gpkg(make_parcels(rng, nv), p, "padus_federal_fee"),
        "wilderness.shp": lambda p: _shp(make_wilderness(), p),
        "mrds_deposits.csv": lambda p: make_deposits(rng).to_csv(p, index=False, lineterminator="\n"),
    }
    for name, writer in files.items():
        _fresh(out / name)
        writer(out / name)
    subs = make_substations(rng, nv)
    _fresh(out / "infrastructure.gpkg")
    _gpkg(subs.to_crs(4326), out / "infrastructure.gpkg", "substations")
    towns = gpd.GeoDataFrame({"GEOID": [f"32{i:05d}" for i in range(len(TOWNS))],
                              "NAME": [t[0] for t in TOWNS], "POP2020": [t[3] for t in TOWNS]},
                             geometry=shapely.points(np.array([(t[1], t[2]) for t in TOWNS])), crs=4326)
    _gpkg(towns, out / "infrastructure.gpkg", "towns")
    _geojson(make_lines(rng, subs), out / "transmission_lines.geojson")
    _shp(make_network(RAIL, "rail").to_crs("EPSG:4269"), out / "rail.shp")
    _geojson(make_network(ROADS, "road").to_crs(4326), out / "roads.geojson")
    _geojson(make_lakes(), out / "water.geojson")
    mirta = pd.DataFrame([{"OBJECTID": 20 + i, "COMPONENT": c, "SITE_NAME": n, "JOINT_BASE": "",
                           "STATE_TERR": "Nevada", "COUNTRY": "United States", "OPER_STAT": "Active",
                           "LATITUDE": f"{la:.5f}", "LONGITUDE": f"{lo:.5f}"} for i, (n, c, lo, la) in enumerate(MIRTA)])
    mirta.to_csv(out / "mirta_points.csv", index=False, lineterminator="\n")
    _fresh(out / "encumbrances.gpkg")
    for layer, frame in make_encumbrances().items():
        _gpkg(frame, out / "encumbrances.gpkg", layer)
    _fresh(out / "plss.gpkg")
    for layer, frame in make_plss().items():
        _gpkg(frame, out / "plss.gpkg", layer)
    z, transform = make_dem(rng)
    feats, claims = make_disturbance(np.random.default_rng(SEED + 1), make_deposits(np.random.default_rng(SEED)))
    _geojson(feats, out / "usmin_mine_features.geojson")
    _geojson(claims, out / "blm_mining_claims.geojson")
    _fresh(out / "dem.tif")
    with rasterio.open(out / "dem.tif", "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="int16", crs="EPSG:4326", transform=transform, nodata=-32768,
                       compress="deflate", predictor=2, tiled=True, blockxsize=256, blockysize=256) as ds:
        ds.write(z, 1)
        ds.update_tags(SOURCE="SYNTHETIC siting demo terrain (not real elevations)", UNITS="metres")
    return _manifest(out)


def _fresh(path: Path) -> None:
    for p in path.parent.glob(path.stem + ".*"):
        if p.suffix.lower() in {".gpkg", ".shp", ".shx", ".dbf", ".prj", ".cpg", ".geojson", ".csv", ".tif"}:
            p.unlink()


def _gpkg(gdf, path, layer):
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", append=path.exists())


def _shp(gdf, path):
    _fresh(path)
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="UTF-8",
                            layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE[:10]})


def _geojson(gdf, path):
    _fresh(path)
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": "6",
                                                                        "RFC7946": "YES"})


def _manifest(out: Path) -> dict:
    import scipy

    files = sorted(p for p in out.iterdir() if p.is_file() and p.suffix not in {".py", ".md", ".yaml", ".json", ".toml"})
    manifest = {
        "note": "SYNTHETIC demo data made by make_sample_data.py; byte-for-byte reproducible with these versions",
        "seed": SEED,
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "shapely": shapely.__version__,
                     "geos": shapely.geos_version_string, "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
                     "gdal": pyogrio.__gdal_version_string__, "rasterio": rasterio.__version__,
                     "pandas": pd.__version__},
        "files": {p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                  for p in files},
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="output folder")
    args = parser.parse_args(argv)
    manifest = write_all(Path(args.out))
    total = sum(f["bytes"] for f in manifest["files"].values())
    print(f"wrote {len(manifest['files'])} files, {total / 1e6:.2f} MB, to {args.out}")


if __name__ == "__main__":
    main()
