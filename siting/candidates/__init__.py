"""Candidates: parcel parts, grid cells and packed footprints (``packing/``).

The package holds no code of its own; import its modules (``siting.candidates.parcels``...).
"""
