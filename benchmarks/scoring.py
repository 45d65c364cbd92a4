"""Sensitivity benchmark: 1,000 Dirichlet weight draws over 100,000 sites and 8 factors.

    python benchmarks/scoring.py [--sites 100000] [--factors 8] [--draws 1000]

Target (issue 5): under 30 s and 4 GB. Compared with the straightforward pandas way (one
``DataFrame @ weights`` and ``Series.rank`` per draw), measured on fewer draws and scaled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measure, table

from siting.score.sensitivity import dirichlet_draws, rank_stability


def straightforward(scores: pd.DataFrame, draws: np.ndarray) -> pd.DataFrame:
    ranks = {}
    for i, w in enumerate(draws):
        ranks[i] = (scores @ w).rank(ascending=False, method="first")
    r = pd.DataFrame(ranks)
    return pd.DataFrame({"median_rank": r.median(axis=1), "rank_p05": r.quantile(0.05, axis=1),
                         "rank_p95": r.quantile(0.95, axis=1), "p_top_k": (r <= 10).mean(axis=1)})


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--factors", type=int, default=8)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--baseline-draws", type=int, default=50)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    scores = rng.random((args.sites, args.factors))
    weights = rng.uniform(0.5, 2, args.factors)
    ids = np.array([f"S{i:07d}" for i in range(args.sites)])
    rows = []
    for method in ("weighted_sum", "topsis"):
        r = {"method": method, "sites": args.sites, "factors": args.factors, "draws": args.draws}
        with measure(r):
            rank_stability(scores, weights, ids=ids, method=method, n=args.draws)
        rows.append(r)
    base = {"method": "pandas loop (weighted_sum)", "sites": args.sites, "factors": args.factors,
            "draws": args.baseline_draws}
    with measure(base):
        straightforward(pd.DataFrame(scores), dirichlet_draws(weights, args.baseline_draws, 0.2))
    base["seconds_scaled_to_draws"] = base["seconds"] * args.draws / args.baseline_draws
    rows.append(base)
    for r in rows[:2]:
        r["ratio_vs_pandas"] = base["seconds_scaled_to_draws"] / r["seconds"]
        r["target"] = "met" if r["seconds"] < 30 and r["peak_mib"] < 4096 else "MISSED"
    print(f"# Sensitivity benchmark ({machine()})\n")
    print(table(rows, ["method", "sites", "factors", "draws", "seconds", "peak_mib", "seconds_scaled_to_draws",
                       "ratio_vs_pandas", "target"]))
    print("\nTarget: 1,000 draws x 100,000 sites x 8 factors in under 30 s and 4 GB.")


if __name__ == "__main__":
    main()
