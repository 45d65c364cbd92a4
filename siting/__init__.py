"""siting: find, filter, score and map sites for critical-mineral processing on federal land.

The public API in one place; see ``docs/architecture.md`` for the flow. Heavy
modules are imported on first use so that ``siting --help`` stays fast.

Examples
--------
>>> import siting
>>> isinstance(siting.__version__, str)
True
>>> callable(siting.run) and callable(siting.read_layer)
True
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import PackageNotFoundError, version

from siting.core.errors import SitingError, SitingWarning

try:
    __version__ = version("siting")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

logging.getLogger("siting").addHandler(logging.NullHandler())

_LAZY = {
    "run": "siting.core.pipeline",
    "read_layer": "siting.io.layers",
    "load_layer": "siting.io.layers",
    "load_scenario": "siting.core.scenario",
    "Scenario": "siting.core.scenario",
    "SitingResult": "siting.core.result",
    "load_result": "siting.core.saved",
    "candidates_from_parcels": "siting.candidates.parcels",
    "candidates_from_grid": "siting.candidates.grid",
    "pack_sites": "siting.candidates.packing",
    "packing_curve": "siting.candidates.packing",
    "verify_packing": "siting.candidates.packing",
    "distance_to": "siting.score.factors",
    "count_within": "siting.score.factors",
    "raster_stat": "siting.score.factors",
    "site_map": "siting.deliver.maps",
    "parse_commodities": "siting.io.minerals",
    "critical_minerals": "siting.io.minerals",
}

__all__ = ["SitingError", "SitingWarning", "__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'siting' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
