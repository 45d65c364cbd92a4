"""QGIS styles stored in a GeoPackage's ``layer_styles`` table, so layers open styled in QGIS.

QGIS reads the default style of a GeoPackage layer from the ``layer_styles`` table (columns
``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``, ``useAsDefault``).
Sites get a graduated red-yellow-green renderer on ``score``, candidates a categorised renderer on
``eligible``, parcels one on ``agency``; other layers a simple symbol for their geometry type.

Examples
--------
>>> qml = graduated_qml("score", "fill")
>>> qml.startswith("<!DOCTYPE qgis") and 'attr="score"' in qml
True
>>> "singleSymbol" in simple_qml("fill"), "categorizedSymbol" in categorized_qml("agency", "fill", {"BLM": "1,2,3"})
(True, True)
>>> list(styles_table({"sites": "MultiPolygon"})["f_table_name"])
['sites']
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

import pandas as pd

from siting.schema import AGENCY_COLOURS, rgb

__all__ = ["categorized_qml", "graduated_qml", "simple_qml", "styles_table"]

_SCORE_CLASSES = [(0.0, 0.2, "215,48,39"), (0.2, 0.4, "252,141,89"), (0.4, 0.6, "254,224,139"),
                  (0.6, 0.8, "145,207,96"), (0.8, 1.0001, "26,152,80")]
_AGENCY = {k: rgb(v) for k, v in AGENCY_COLOURS.items()}
_SYMBOL_CLASS = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}


def _symbol(name: str, kind: str, rgb: str, opacity: float = 0.7) -> str:
    props = {"fill": {"color": f"{rgb},{int(255 * opacity)}", "outline_color": "60,60,60,255",
                      "outline_width": "0.26", "style": "solid"},
             "line": {"line_color": f"{rgb},255", "line_width": "0.6"},
             "marker": {"color": f"{rgb},255", "size": "2.4", "name": "circle",
                        "outline_color": "35,35,35,255"}}[kind]
    options = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items())
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1">'
            f'<layer class="{_SYMBOL_CLASS[kind]}" pass="0" enabled="1" locked="0">'
            f'<Option type="Map">{options}</Option></layer></symbol>')


def _wrap(renderer: str) -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>')


def graduated_qml(attr: str, kind: str) -> str:
    """A 5-class red-to-green graduated renderer on ``attr`` (0-1)."""
    ranges = "".join(f'<range lower="{lo}" upper="{hi}" symbol="{i}" label="{lo:.1f} - {min(hi, 1):.1f}" '
                     'render="true"/>' for i, (lo, hi, _) in enumerate(_SCORE_CLASSES))
    symbols = "".join(_symbol(str(i), kind, rgb) for i, (_, _, rgb) in enumerate(_SCORE_CLASSES))
    return _wrap(f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(attr)} graduatedMethod="GraduatedColor" '
                 f'symbollevels="0" enableorderby="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
                 '</renderer-v2>')


def categorized_qml(attr: str, kind: str, categories: dict[str, str]) -> str:
    """A categorised renderer: ``categories`` maps a value to an ``"r,g,b"`` colour."""
    cats = "".join(f'<category value={quoteattr(v)} symbol="{i}" label={quoteattr(v)} render="true"/>'
                   for i, v in enumerate(categories))
    symbols = "".join(_symbol(str(i), kind, rgb) for i, rgb in enumerate(categories.values()))
    return _wrap(f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
                 f'enableorderby="0"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>')


def simple_qml(kind: str, rgb: str = "85,85,85") -> str:
    """A single-symbol renderer."""
    return _wrap(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0"><symbols>'
                 f'{_symbol("0", kind, rgb, 0.4)}</symbols></renderer-v2>')


def _sld(layer: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0" '
            'xmlns="http://www.opengis.net/sld"><NamedLayer><Name>' + layer + '</Name></NamedLayer>'
            '</StyledLayerDescriptor>')


def _kind(geom_type: str) -> str:
    return "fill" if "Polygon" in geom_type else "line" if "Line" in geom_type else "marker"


def styles_table(layers: dict[str, str], geometry_column: str = "geom") -> pd.DataFrame:
    """Rows of the ``layer_styles`` table for ``{layer name: geometry type}``."""
    rows = []
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, geom_type in layers.items():
        kind = _kind(geom_type)
        if name == "sites":
            qml = graduated_qml("score", kind)
        elif name == "candidates":
            qml = categorized_qml("eligible", kind, {"1": "26,152,80", "0": "215,48,39"})
        elif "parcels" in name:
            qml = categorized_qml("agency", kind, _AGENCY)
        else:
            qml = simple_qml(kind, "214,39,40" if "exclu" in name else "85,85,85")
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": geometry_column, "styleName": f"siting {name}", "styleQML": qml,
                     "styleSLD": _sld(name), "useAsDefault": True, "description": "written by siting",
                     "owner": "", "ui": None, "update_time": now})
    return pd.DataFrame(rows)
