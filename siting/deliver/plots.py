"""Charts for the analyses (matplotlib, imported only when a chart is drawn).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"threshold": [50_000, 75_000], "sites": [10, 14], "acres": [1e5, 1.4e5],
...                    "is_scenario_value": [True, False]})
>>> ax = relaxation_plot(df, "within_substations")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from siting.core.errors import MissingDependencyError

__all__ = ["packing_plot", "relaxation_plot", "sensitivity_plot"]


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the plot and test extras
        raise MissingDependencyError("charts need matplotlib: pip install 'siting[plot]'") from exc
    return plt


def relaxation_plot(table: pd.DataFrame, rule: str, ax=None):
    """Sites and acres against the threshold of ``rule`` (scenario value marked)."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=150)
    ax.plot(table["threshold"], table["sites"], marker="o", color="#1a9850", label="sites")
    ax.set_xlabel(f"{rule} threshold")
    ax.set_ylabel("sites passing every rule")
    ax2 = ax.twinx()
    ax2.plot(table["threshold"], table["acres"] / 1e3, marker="s", ls="--", color="#555555", label="acres")
    ax2.set_ylabel("eligible acres (thousands)")
    base = table[table["is_scenario_value"]]
    if len(base):
        ax.axvline(base["threshold"].iloc[0], color="#d73027", lw=1, label="scenario value")
    ax.set_title(f"Relaxation of {rule}")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax


def sensitivity_plot(table: pd.DataFrame, top: int = 25, ax=None):
    """Median rank and 5-95 % rank range of the best ``top`` sites under perturbed weights."""
    plt = _plt()
    t = table.sort_values("base_rank").head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.25 * len(t) + 1.5), dpi=150)
    y = range(len(t))
    ax.hlines(list(y), t["rank_p05"], t["rank_p95"], color="#999999", lw=3)
    ax.plot(t["median_rank"], list(y), "o", color="#1a9850", label="median rank")
    ax.plot(t["base_rank"], list(y), "|", color="#d73027", ms=12, label="rank with the chosen weights")
    ax.set_yticks(list(y), [str(i) for i in t.index], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("rank (5-95 % range under perturbed weights)")
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax


def packing_plot(table: pd.DataFrame, ax=None):
    """Sites (and the upper bound, dotted) against spacing, one line per footprint size.

    ``table`` is the output of :func:`siting.packing_curve`.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=150)
    for k, (acres, part) in enumerate(table.sort_values("spacing_m").groupby("footprint_acres")):
        color = f"C{k % 10}"
        ax.plot(part["spacing_m"], part["sites"], marker="o", color=color, label=f"{acres:g} acres")
        ax.plot(part["spacing_m"], part["bound"], ls=":", color=color, lw=1)
    ax.set_xlabel("spacing between sites (m)")
    ax.set_ylabel("sites that fit")
    ax.set_title("Sites against footprint and spacing (dotted: upper bound)")
    ax.legend(title="footprint", fontsize=8)
    ax.figure.tight_layout()
    return ax
