"""The one place that knows folium's, branca's and folium-offline's internals.

Everything here leans on names those libraries do not promise to keep:

* branca's ``MacroElement`` keeps its Jinja template in ``_template`` (whose module exposes the
  ``header``, ``html`` and ``script`` macros) and its children in ``_children``; its ``render``
  wraps each rendered part in ``Element(part)``, which compiles it as a template a second time.
  :class:`RenderOnce` renders the macros once and adds the text as it is (faster, and ``{{ }}`` in
  the data is never evaluated).
* folium-offline keeps its copies of folium's CDN assets in ``offlinefolium.elements._res``
  (URL -> text); :func:`inline_assets` swaps each ``<script src>`` / ``<link href>`` for its copy.

``tests/deliver/test_folium_adapter.py`` fails when any of these names or behaviours change.

Examples
--------
>>> import folium
>>> m = folium.Map(tiles=None)
>>> _ = GeoJson({"type": "FeatureCollection", "features": []}).add_to(m)
>>> "L.geoJson" in m.get_root().render()
True
>>> issubclass(MarkerCluster, RenderOnce) and issubclass(OfflineFigure, branca.element.Figure)
True
>>> inline_assets('<p>no scripts</p>')
'<p>no scripts</p>'
"""

from __future__ import annotations

import re

import branca
import folium
from folium import plugins

from siting.core.errors import MissingDependencyError

__all__ = ["GeoJson", "MarkerCluster", "OfflineFigure", "RenderOnce", "compact_escapes", "inline_assets"]


class _Literal(branca.element.Element):
    """Text already rendered, added to the page as it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class RenderOnce(branca.element.MacroElement):
    """A MacroElement whose rendered header, html and script join the page as text.

    branca's ``MacroElement.render`` wraps each rendered part in ``Element(part)``, which compiles it
    as a Jinja template a second time: seconds for the megabytes of a national layer, and any
    ``{{ }}`` in the data would be evaluated. Mixed in after a folium class (``class X(folium.GeoJson,
    RenderOnce)``), it takes the place of ``MacroElement.render`` in that class's ``super()`` chain.
    """

    def render(self, **kwargs) -> None:  # type: ignore[override]  # branca's MacroElement returns None too
        figure = self.get_root()
        macros = self._template.module.__dict__
        policies = self._template.environment.policies
        saved = policies["json.dumps_kwargs"]
        policies["json.dumps_kwargs"] = {**saved, "separators": (",", ":")}  # compact JSON, for this render only
        try:
            for part in ("header", "html", "script"):
                if macros.get(part) is not None:
                    text = macros[part](self, kwargs)
                    text = compact_escapes(text) if part == "script" else text
                    getattr(figure, part).add_child(_Literal(text), name=self.get_name())
        finally:
            policies["json.dumps_kwargs"] = saved
        for element in self._children.values():
            element.render(**kwargs)


_JSON_ESCAPES = re.compile(r"\\\\|\\u003c/?|\\u003e|\\u0026|\\u0027")
_PLAIN = {"\\\\": "\\\\", "\\u003c": "<", "\\u003c/": "<\\/", "\\u003e": ">", "\\u0026": "&", "\\u0027": "'"}


def compact_escapes(script: str) -> str:
    r"""Undo Jinja ``tojson``'s ``\u003c``-style escapes in a rendered script (popups shrink by half).

    Jinja escapes ``<``, ``>``, ``&`` and ``'`` in JSON as six-character sequences so a value can never
    close the ``<script>`` element. Here ``</`` is written ``<\/`` instead, which does the same in one
    byte. The scan takes escaped backslashes as pairs, so a literal ``\u003c`` in the data stays as it is.

    Examples
    --------
    >>> print(compact_escapes(r'{"a": "\u003cb\u003e x \u003c/b\u003e", "b": "\\u003c"}'))
    {"a": "<b> x <\/b>", "b": "\\u003c"}
    """
    return _JSON_ESCAPES.sub(lambda mt: _PLAIN[mt.group(0)], script)


class GeoJson(folium.GeoJson, RenderOnce):
    """``folium.GeoJson`` rendered once (:class:`RenderOnce`)."""


class MarkerCluster(plugins.FastMarkerCluster, RenderOnce):
    """``folium.plugins.FastMarkerCluster`` rendered once (:class:`RenderOnce`)."""


class OfflineFigure(branca.element.Figure):
    """A Figure whose HTML inlines every script and stylesheet (no network when opened)."""

    def render(self, **kwargs) -> str:
        return inline_assets(super().render(**kwargs))


def inline_assets(html: str) -> str:
    """Replace CDN ``<script src>`` and ``<link href>`` tags with the assets' content.

    The assets come from the ``folium-offline`` package (maintained for folium's releases).

    Raises
    ------
    MissingDependencyError
        When folium-offline is not installed, or an asset is not in it.
    """
    try:
        from offlinefolium.elements import _res
    except ImportError as exc:
        raise MissingDependencyError("offline maps need the folium-offline package: "
                                     "pip install 'siting[offline]'") from exc

    def script(mt):
        url = mt.group(1)
        if url not in _res:
            raise MissingDependencyError(f"folium-offline has no copy of {url}; update folium-offline")
        return "<script>" + _res[url].replace("</script", "<\\/script") + "</script>"

    def style(mt):
        url = mt.group(1)
        if url not in _res:
            raise MissingDependencyError(f"folium-offline has no copy of {url}; update folium-offline")
        return "<style>" + _res[url] + "</style>"

    html = re.sub(r'<script src="(https?://[^"]+)"></script>', script, html)
    return re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>', style, html)
