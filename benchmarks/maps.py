"""Map deliverable size and browser load time for 1,000 / 10,000 / 100,000 sites.

    python benchmarks/maps.py [--sizes 1000 10000 100000]

Builds ``site_map`` for synthetic square sites (1 km, scored), saves it self-contained
(``offline=True``: no network), opens it in headless Chromium and reports the HTML size, the build
and save time, the time until the map is drawn, and the number of site features drawn. Target
(issue 6): 100,000 sites under 25 MB and open in under 15 s. Compared with a straightforward
folium map (``GeoDataFrame.explore``-style GeoJson with a ``style_function`` and a GeoJsonTooltip)
where that is feasible.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import chromium_available, inspect_map
from common import machine, measure, table

from siting.deliver.maps import site_map


def sites(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0e6, -1.4e6, n)
    y = rng.uniform(1.5e6, 2.3e6, n)
    score = rng.random(n)
    frame = gpd.GeoDataFrame({"site_id": [f"S{i:06d}" for i in range(n)], "score": score,
                              "rank": (-score).argsort().argsort() + 1, "agency": "BLM",
                              "power_m": rng.uniform(0, 5e4, n)},
                             geometry=shapely.box(x, y, x + 1000, y + 1000), crs=5070)
    return frame


def naive(frame: gpd.GeoDataFrame, path: Path) -> None:
    m = folium.Map(tiles=None)
    folium.GeoJson(frame.to_crs(4326), style_function=lambda f: {"color": "#1a9850"},
                   tooltip=folium.GeoJsonTooltip(["site_id", "score"])).add_to(m)
    m.save(str(path))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--naive-max", type=int, default=10_000, help="largest size for the naive folium map")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            frame = sites(n)
            for kind in ("siting", "naive"):
                if kind == "naive" and n > args.naive_max:
                    continue
                path = Path(tmp) / f"{kind}_{n}.html"
                r = {"map": kind, "sites": n}
                with measure(r):
                    if kind == "siting":
                        site_map(frame, tiles=None, offline=True).save(str(path))
                    else:
                        naive(frame, path)
                r["build_s"] = r.pop("seconds")
                r["html_mb"] = path.stat().st_size / 1e6
                if chromium_available() and kind == "siting":
                    t = time.perf_counter()
                    res = inspect_map(path, timeout_s=120)
                    r["browser_s"] = res["load_seconds"]
                    r["drawn_polygons"] = res["sites"]
                    r["js_errors"] = len(res["errors"])
                    r["wall_s"] = time.perf_counter() - t
                if kind == "siting" and n >= 100_000:
                    r["target"] = "met" if r["html_mb"] < 25 and r.get("browser_s", 99) < 15 else "MISSED"
                rows.append(r)
    print(f"# Map deliverable benchmark ({machine()})\n")
    print(table(rows, ["map", "sites", "build_s", "peak_mib", "html_mb", "browser_s", "drawn_polygons",
                       "js_errors", "target"]))
    print("\nsiting maps draw the best 2,000 sites as polygons and every site as a clustered point.")


if __name__ == "__main__":
    main()
