"""Deliverables: the output folder, folium maps, static maps, the report, charts and QGIS styles.

The package holds no code of its own; import its modules (``siting.deliver.maps``...).
"""
