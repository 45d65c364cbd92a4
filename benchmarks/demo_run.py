"""Time the Nevada demo end to end (the README's main job), step by step, run after run in one process.

    python benchmarks/demo_run.py [--repeat 3] [--parcels]

Prints per-step seconds of the first run and the median of the runs after it (a notebook running a scenario
again: rasters read whole are kept for the process, :mod:`siting.geo.raster_keep`), and the whole run
including writing the outputs. ``--parcels`` times the demo's layers with one candidate per connected part
of each parcel and a relaxation curve instead of packed footprints (the test suite's tiny scenario).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measure, table

import siting

DEMO = Path(__file__).resolve().parents[1] / "sample_data" / "nevada_demo.yaml"


def parcels_scenario() -> dict:
    """The demo's layers and rules, one candidate per connected part of each parcel, light analyses."""
    d = yaml.safe_load(DEMO.read_text())
    d.update(name="demo-parcels", base_dir=str(DEMO.parent), candidates={"method": "parcels", "min_area_acres": 640},
             analysis={"sensitivity": {"n": 100, "seed": 0, "top_k": 5}, "near_misses": True,
                       "relaxation": [{"rule": "within_substations", "values": [25_000, 50_000, 100_000]}]})
    return d


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parcels", action="store_true", help="candidates from parcels (the tests' tiny scenario)")
    args = ap.parse_args(argv)
    scenario = parcels_scenario if args.parcels else (lambda: DEMO)
    runs, steps = [], {}
    for _ in range(max(args.repeat, 1)):
        res = {}
        with measure(res):
            result = siting.run(scenario(), progress=False)
            with tempfile.TemporaryDirectory() as tmp:
                result.save(Path(tmp) / "out")
        runs.append(res)
        for t in result.meta["timings"]:
            steps.setdefault(t["step"], []).append(t["seconds"])
    steps["whole run incl. outputs"] = [r["seconds"] for r in runs]
    print(f"# Nevada demo{' (parcels)' if args.parcels else ''}, {len(runs)} runs in one process ({machine()})\n")
    rows = [{"step": k, "first s": v[0], "later runs, median s": statistics.median(v[1:]) if len(v) > 1 else ""}
            for k, v in steps.items()]
    print(table(rows, ["step", "first s", "later runs, median s"]))
    print(f"\nsites: {len(result.sites)} of {len(result.candidates)} candidates; "
          f"peak RSS {max(r['peak_mib'] for r in runs):,.0f} MiB")


if __name__ == "__main__":
    main()
