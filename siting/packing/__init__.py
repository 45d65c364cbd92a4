"""Site packing: as many non-overlapping, spaced facility footprints as the eligible land allows.

Modules: :mod:`~siting.packing.footprint` (shapes and the upper bound), :mod:`~siting.packing.lattice`
(rotated lattices over tiled land), :mod:`~siting.packing.conflicts` (spacing tests and independent
sets), :mod:`~siting.packing.greedy`, :mod:`~siting.packing.exact` (HiGHS) and
:mod:`~siting.packing.api` (:func:`pack_sites`, :func:`packing_curve`).
"""

from siting.packing.api import pack_sites, packing_curve
from siting.packing.footprint import Footprint, packing_bound
from siting.packing.verify import verify_packing

__all__ = ["Footprint", "pack_sites", "packing_bound", "packing_curve", "verify_packing"]
