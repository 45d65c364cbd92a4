"""Charts for the analyses (matplotlib, imported only when a chart is drawn).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"threshold": [50_000, 75_000], "sites": [10, 14], "acres": [1e5, 1.4e5],
...                    "is_scenario_value": [True, False]})
>>> ax = relaxation_plot(df, "within_substations", ax=figure_axes((6, 3.5)))
>>> ax.get_title()
'Relaxation of within_substations'
>>> sens = pd.DataFrame({"base_rank": [1, 2], "median_rank": [1.0, 2.5], "rank_p05": [1, 1], "rank_p95": [2, 4]},
...                     index=["a", "b"])
>>> sensitivity_plot(sens, ax=figure_axes((4, 2))).get_xlabel()
'rank (5-95 % range under perturbed weights)'
>>> curve = pd.DataFrame({"footprint_acres": [160, 160], "spacing_m": [0, 800], "sites": [9, 6], "bound": [10, 7]})
>>> packing_plot(curve, ax=figure_axes((4, 2))).get_ylabel()
'sites that fit'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from siting.core.errors import MissingDependencyError
from siting.schema import SCORE_RAMP

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["figure_axes", "figure_of", "packing_plot", "relaxation_plot", "sensitivity_plot"]


def figure_of(ax: Axes) -> Figure:
    """The figure that holds ``ax`` (a chart is never drawn on a subfigure here).

    Examples
    --------
    >>> ax = figure_axes((2, 2))
    >>> figure_of(ax) is ax.figure
    True
    """
    return ax.figure  # type: ignore[return-value]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or new axes on a pyplot figure (shown by Jupyter); the backend is never changed."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the plot and test extras
        raise MissingDependencyError("charts need matplotlib: pip install 'siting[plot]'") from exc
    return plt.subplots(figsize=figsize, dpi=150)[1]


def figure_axes(figsize: tuple[float, float], dpi: int = 150) -> Axes:
    """Axes on a figure outside pyplot (for files: no backend, nothing left open).

    Examples
    --------
    >>> ax = figure_axes((4, 3))
    >>> type(figure_of(ax)).__name__
    'Figure'
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is in the plot and test extras
        raise MissingDependencyError("charts need matplotlib: pip install 'siting[plot]'") from exc
    return Figure(figsize=figsize, dpi=dpi).subplots()


def relaxation_plot(table: pd.DataFrame, rule: str, ax: Axes | None = None) -> Axes:
    """Sites and acres against the threshold of ``rule`` (scenario value marked)."""
    ax = _axes(ax, (6, 3.5))
    ax.plot(table["threshold"], table["sites"], marker="o", color=SCORE_RAMP[-1], label="sites")
    ax.set_xlabel(f"{rule} threshold")
    ax.set_ylabel("sites passing every rule")
    ax2 = ax.twinx()
    ax2.plot(table["threshold"], table["acres"] / 1e3, marker="s", ls="--", color="#555555", label="acres")
    ax2.set_ylabel("eligible acres (thousands)")
    base = table[table["is_scenario_value"]]
    if len(base):
        ax.axvline(base["threshold"].iloc[0], color=SCORE_RAMP[0], lw=1, label="scenario value")
    ax.set_title(f"Relaxation of {rule}")
    ax.legend(loc="upper left", fontsize=8)
    figure_of(ax).tight_layout()
    return ax


def sensitivity_plot(table: pd.DataFrame, top: int = 25, ax: Axes | None = None) -> Axes:
    """Median rank and 5-95 % rank range of the best ``top`` sites under perturbed weights."""
    t = table.sort_values("base_rank").head(top)
    ax = _axes(ax, (6, 0.25 * len(t) + 1.5))
    y = range(len(t))
    ax.hlines(list(y), t["rank_p05"], t["rank_p95"], color="#999999", lw=3)
    ax.plot(t["median_rank"], list(y), "o", color=SCORE_RAMP[-1], label="median rank")
    ax.plot(t["base_rank"], list(y), "|", color=SCORE_RAMP[0], ms=12, label="rank with the chosen weights")
    ax.set_yticks(list(y), [str(i) for i in t.index], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("rank (5-95 % range under perturbed weights)")
    ax.legend(fontsize=7)
    figure_of(ax).tight_layout()
    return ax


def packing_plot(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Sites (and the upper bound, dotted) against spacing, one line per footprint size.

    ``table`` is the output of :func:`siting.packing_curve`.
    """
    ax = _axes(ax, (6, 3.5))
    for k, (acres, part) in enumerate(table.sort_values("spacing_m").groupby("footprint_acres")):
        color = f"C{k % 10}"
        ax.plot(part["spacing_m"], part["sites"], marker="o", color=color, label=f"{acres:g} acres")
        ax.plot(part["spacing_m"], part["bound"], ls=":", color=color, lw=1)
    ax.set_xlabel("spacing between sites (m)")
    ax.set_ylabel("sites that fit")
    ax.set_title("Sites against footprint and spacing (dotted: upper bound)")
    ax.legend(title="footprint", fontsize=8)
    figure_of(ax).tight_layout()
    return ax
