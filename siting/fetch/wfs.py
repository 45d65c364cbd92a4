"""OGC WFS 2.0 layers (USGS MRDS), fetched in pages and checked against ``numberMatched``.

GetFeature with ``startIndex`` / ``count`` and ``outputFormat=application/json`` (GeoJSON), the
extent as ``bbox=S,W,N,E,urn:ogc:def:crs:EPSG::4326`` (WFS 2.0 takes the CRS's own axis order:
latitude first for EPSG:4326). Pages are read until the service's ``numberMatched`` features have
come; a page that comes back empty before that is an error. Direct requests rather than OWSLib:
two parameters of one operation, and the same retrying client as the other protocols.

Examples
--------
>>> wfs_params("mrds", 0, 500, (-120.0, 35.0, -114.0, 42.0))["bbox"]
'35.0,-120.0,42.0,-114.0,urn:ogc:def:crs:EPSG::4326'
"""

from __future__ import annotations

import geopandas as gpd

from siting.core.errors import FetchError
from siting.fetch.arcgis import _frame

__all__ = ["fetch_wfs", "wfs_params"]


def wfs_params(type_name: str, start: int, count: int, bbox=None) -> dict:
    """The GetFeature query of one page."""
    params = {"service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": type_name,
              "startIndex": start, "count": count, "outputFormat": "application/json", "srsName": "EPSG:4326"}
    if bbox is not None:
        w, s, e, n = bbox
        params["bbox"] = f"{s},{w},{n},{e},urn:ogc:def:crs:EPSG::4326"
    return params


def _matched(doc: dict) -> int | None:
    """The service's count of matching features (``numberMatched`` may be ``"unknown"`` in WFS 2.0)."""
    value = doc.get("numberMatched", doc.get("totalFeatures"))
    try:
        return int(str(value))
    except ValueError:
        return None  # no count: read pages until one comes back short


def fetch_wfs(client, url: str, type_name: str, *, bbox=None, page: int = 1000) -> gpd.GeoDataFrame:
    """Every feature of ``type_name`` within ``bbox`` (W, S, E, N degrees).

    >>> from siting.fetch.client import Client
    >>> fetch_wfs(Client(retries=0), "http://127.0.0.1:9/wfs", "mrds")
    Traceback (most recent call last):
    ...
    siting.core.errors.FetchError: http://127.0.0.1:9/wfs: the connection failed ...
    """
    docs, got = [], 0
    doc = client.json(url, wfs_params(type_name, 0, page, bbox))
    matched = _matched(doc)
    while True:
        n = len(doc.get("features", []))
        docs.append(doc)
        got += n
        if (matched is None and n < page) or (matched is not None and got >= matched):
            break
        if n == 0:
            raise FetchError(f"{url}: {type_name} stopped at {got:,} of {matched:,} features; fetch again (--refresh)")
        doc = client.json(url, wfs_params(type_name, got, page, bbox))
    frame = _frame(docs, "geojson")
    if matched is not None and len(frame) != matched:
        raise FetchError(f"{url}: fetched {len(frame):,} {type_name} features but the service matched {matched:,}")
    return frame
