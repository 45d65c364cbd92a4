"""Site packing: as many non-overlapping, spaced facility footprints as the eligible land allows.

Modules: :mod:`~siting.candidates.packing.footprint` (shapes and the upper bound),
:mod:`~siting.candidates.packing.lattice` (rotated lattices over tiled land),
:mod:`~siting.candidates.packing.conflicts` (spacing tests and independent sets),
:mod:`~siting.candidates.packing.greedy`, :mod:`~siting.candidates.packing.exact` (HiGHS) and
:mod:`~siting.candidates.packing.api` (:func:`pack_sites`, :func:`packing_curve`).
"""

from siting.candidates.packing.api import pack_sites, packing_curve
from siting.candidates.packing.footprint import Footprint, packing_bound
from siting.candidates.packing.verify import verify_packing

__all__ = ["Footprint", "pack_sites", "packing_bound", "packing_curve", "verify_packing"]
