"""Map deliverable size and browser load time: synthetic sites, and the national result's map.html.

    python benchmarks/maps.py [--sizes 1000 10000 100000] [--national 1] [--results FILE.md]

Part 1 builds ``site_map`` for synthetic square sites (1 km, scored) with the defaults (self-contained,
packaged basemap), opens it in headless Chromium with the network blocked and reports the HTML size,
the build and save time, the time until the map is drawn, and the number of site features drawn.
Compared with a straightforward folium map (``GeoDataFrame.explore``-style GeoJson with a
``style_function`` and a GeoJsonTooltip) where that is feasible.

Part 2 (issue 18) runs the synthetic country of ``benchmarks/national.py`` at ``--national`` scale
(1x: about 1.5 M sites), writes the result's map exactly as ``siting run`` does (``result.map()``:
sites, parcels, eligible land, every rule's exclusions, near misses, every input layer) and measures
its size, the time to build it and the time until it is interactive in Chromium. Target: at most
15 MB and interactive in under 5 s.
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


def national_map(scale: float) -> dict:
    """Run the synthetic country at ``scale``, write its map.html as ``siting run`` does, open it."""
    import national

    import siting

    row: dict = {"scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        national.write_country(folder, scale)
        result = siting.run(national.scenario(folder), progress=False)
        row["sites"] = len(result.sites)
        path = folder / "map.html"
        with measure(row):
            result.map().save(str(path))
        row["build_s"] = row.pop("seconds")
        row["html_mb"] = path.stat().st_size / 1e6
        if chromium_available():
            res = inspect_map(path, timeout_s=120)
            row.update(interactive_s=res["load_seconds"], polygons=res["sites"], points=res["clustered"],
                       js_errors=len(res["errors"]))
        row["target"] = "met" if row["html_mb"] <= 15 and row.get("interactive_s", 99) < 5 else "MISSED"
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--naive-max", type=int, default=10_000, help="largest size for the naive folium map")
    ap.add_argument("--national", type=float, default=1.0, help="scale of the national map (0 skips it)")
    ap.add_argument("--results", default=None, help="Also write the tables to this markdown file.")
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
                        site_map(frame).save(str(path))
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
                rows.append(r)
    text = [f"# Map deliverable benchmark ({machine()})\n",
            table(rows, ["map", "sites", "build_s", "peak_mib", "html_mb", "browser_s", "drawn_polygons",
                         "js_errors"]),
            "\nsiting maps draw the best 2,000 sites as polygons, the best 25,000 as clustered points and, beyond "
            "that, every site in summary cells."]
    if args.national:
        text += ["\n### The national result's map.html (result.map(), as siting run writes it)\n",
                 table([national_map(args.national)], ["scale", "sites", "build_s", "peak_mib", "html_mb",
                                                        "interactive_s", "polygons", "points", "js_errors", "target"])]
    print("\n".join(text))
    if args.results:
        Path(args.results).write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
