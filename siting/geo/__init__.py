"""Geometry on the ground: repair, vectorized spatial blocks, the KD-tree proximity engine, rasters, threads.

The package holds no code of its own; import its modules (``siting.geo.spatial``...).
"""
