"""Source adapters: one module per published dataset, all registered here.

``siting.read_layer(path)`` detects the dataset from its field names (and
geometry family) and converts it to a canonical layer; ``source="name"``
overrides the detection. :func:`available` lists the names.

Examples
--------
>>> from siting.io import sources
>>> sources.detect(["dep_id", "code_list", "site_name"]).name
'mrds_wfs'
>>> sources.detect(["SITE_NAME", "COMPONENT"], "point").name
'mirta_points'
>>> sources.detect(["SITE_NAME", "COMPONENT"], "polygon").name
'mirta'
"""

from siting.io.sources import blm, hifld, land, mirta, mrds, padus, reference, transport, usgs  # noqa: F401
from siting.io.sources.base import CANONICAL, Context, Source, available, detect, get, register
from siting.io.sources.mirta import name_installations

__all__ = ["CANONICAL", "Context", "Source", "available", "detect", "get", "name_installations",
           "register"]
