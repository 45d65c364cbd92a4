"""Data in and out: readers, canonical layers, the federal source adapters, CRS, writers, ``siting info``.

The package holds no code of its own; import its modules (``siting.io.layers``...).
"""
