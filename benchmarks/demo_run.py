"""Time the Nevada demo end to end (the README's main job), step by step.

    python benchmarks/demo_run.py [--repeat 3]

Prints per-step seconds (median of the repeats) and the whole run including writing the outputs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measure, table

import siting

DEMO = Path(__file__).resolve().parents[1] / "sample_data" / "nevada_demo.yaml"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    runs, steps = [], {}
    for _ in range(args.repeat):
        res = {}
        with measure(res):
            result = siting.run(DEMO, progress=False)
            with tempfile.TemporaryDirectory() as tmp:
                result.save(Path(tmp) / "out")
        runs.append(res)
        for t in result.meta["timings"]:
            steps.setdefault(t["step"], []).append(t["seconds"])
    print(f"# Nevada demo run ({machine()})\n")
    rows = [{"step": k, "median s": statistics.median(v), "runs": len(v)} for k, v in steps.items()]
    rows.append({"step": "whole run incl. outputs", "median s": statistics.median(r["seconds"] for r in runs),
                 "runs": len(runs)})
    print(table(rows, ["step", "median s", "runs"]))
    print(f"\nsites: {len(result.sites)} of {len(result.candidates)} candidates; "
          f"peak RSS {max(r['peak_mib'] for r in runs):,.0f} MiB")


if __name__ == "__main__":
    main()
