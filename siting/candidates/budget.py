"""A memory budget for generated candidates: refuse, before any work, a grid or packing that cannot fit.

A run's peak memory grows with its candidates (about :data:`siting.core.settings.BYTES_PER_CANDIDATE`
each, measured on the national benchmark); the budget is ``SITING_MEMORY_GB`` (default 70 % of the
machine). The error says the figure and the smallest cell or footprint that fits.

Examples
--------
>>> check_budget(1e9, 1e6, "grid cells") is None  # 1,000 cells: fine
True
>>> check_budget(5e11, 4046.86, "grid cells")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: grid cells of 1 acre on 123,552,... acres of land make about 123,5... candidates, ...
"""

from __future__ import annotations

from siting.core import settings
from siting.core.errors import ScenarioError

__all__ = ["check_budget"]


def check_budget(land_m2: float, unit_m2: float, what: str) -> None:
    """Raise when ``land_m2`` cut into units of ``unit_m2`` makes more candidates than memory allows."""
    n = land_m2 / unit_m2
    need = n * settings.BYTES_PER_CANDIDATE
    if need <= settings.MEMORY_BYTES:
        return
    smallest = land_m2 * settings.BYTES_PER_CANDIDATE / settings.MEMORY_BYTES / settings.M2_PER_ACRE
    size = unit_m2 / settings.M2_PER_ACRE
    raise ScenarioError(
        f"{what} of {size:,.3g} acre{'s' if round(size, 3) != 1 else ''} on {land_m2 / settings.M2_PER_ACRE:,.0f} "
        f"acres of land make about {n:,.0f} candidates, which need about {need / 2**30:,.1f} GiB; this run may use "
        f"{settings.MEMORY_BYTES / 2**30:,.1f} GiB (SITING_MEMORY_GB). Use {what} of at least {smallest:,.3g} "
        "acres, narrow the land rules, or split the study area")
