"""A small server on 127.0.0.1 that speaks the ArcGIS REST and WFS 2.0 protocols, and serves files.

These machines reach no agency, so the fetch tests talk to this server instead. Its layers are built
from real files (../shared/realdata): features keep their attributes and geometries; polygons are
sent as esriJSON rings (shells clockwise, holes counter-clockwise) or GeoJSON, as the service's
metadata says. It counts requests, and ``faults`` makes the next matching requests fail: ``"503"``,
``"429"`` (with ``Retry-After: 1``; a 503 says 0), or ``"truncate"`` (a body shorter than its Content-Length).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.polygon import orient


@dataclass
class Layer:
    """One feature layer: its features (EPSG:4326), page size, and what the service supports."""

    frame: gpd.GeoDataFrame
    max_records: int = 1000
    paging: bool = True
    geojson: bool = False
    counts: bool = True  # WFS: say numberMatched (WFS 2.0 may answer "unknown")


@dataclass
class Server:
    layers: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    faults: list = field(default_factory=list)  # [(path substring, kind)], used first come first served
    requests: list = field(default_factory=list)

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def esri_rings(geom) -> dict:
    """esriJSON of a geometry (polygons: shells clockwise, holes counter-clockwise)."""
    if geom.geom_type == "Point":
        return {"x": geom.x, "y": geom.y}
    if "Line" in geom.geom_type:
        return {"paths": [list(p.coords) for p in shapely.get_parts(geom)]}
    rings = []
    for poly in shapely.get_parts(geom):
        poly = orient(poly, sign=-1.0)  # exterior clockwise
        rings += [list(poly.exterior.coords)] + [list(r.coords) for r in poly.interiors]
    return {"rings": rings}


class _Handler(BaseHTTPRequestHandler):
    server_state: Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        state = self.server_state
        state.requests.append((url.path, q))
        fault = next((f for f in state.faults if f[0] in url.path), None)
        if fault is not None:
            state.faults.remove(fault)
            if fault[1] in ("503", "429"):
                wait = "1" if fault[1] == "429" else "0"  # a rate limit says how long to wait
                return self._send(int(fault[1]), b'{"error": "busy"}', {"Retry-After": wait})
        if url.path.startswith("/files/"):
            return self._file(url.path.removeprefix("/files/"), fault)
        if url.path.endswith("/exportImage"):  # an image service: the GeoTIFF it was given
            return self._file("exportImage", fault)
        if url.path == "/wfs":
            return self._json(self._wfs(q), fault)
        parts = url.path.strip("/").split("/")  # arcgis/<layer>/FeatureServer/0[/query]
        layer = state.layers.get(parts[1]) if len(parts) > 1 else None
        if layer is None:
            return self._send(404, b"not found")
        return self._json(self._query(layer, q) if parts[-1] == "query" else self._meta(layer), fault)

    def _send(self, status: int, body: bytes, headers=None, length=None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, doc: dict, fault) -> None:
        body = json.dumps(doc).encode()
        if fault is not None and fault[1] == "truncate":  # promise the whole body, send half, hang up
            self._send(200, body[: len(body) // 2], {"Content-Type": "application/json"}, length=len(body))
            self.close_connection = True
            return
        self._send(200, body, {"Content-Type": "application/json"})

    def _file(self, name: str, fault) -> None:
        data = self.server_state.files[name]
        start = int(self.headers.get("Range", "bytes=0-").removeprefix("bytes=").split("-")[0] or 0)
        status, headers = (206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}) if start else (200, {})
        body = data[start:]
        if fault is not None and fault[1] == "truncate":
            self._send(status, body[: len(body) // 2], headers, length=len(body))
            self.close_connection = True
            return
        self._send(status, body, headers)

    @staticmethod
    def _meta(layer: Layer) -> dict:
        names = [c for c in layer.frame.columns if c not in ("geometry", "OBJECTID")]
        fields = [{"name": "OBJECTID", "type": "esriFieldTypeOID"}] + [
            {"name": c, "type": "esriFieldTypeString"} for c in names]
        return {"maxRecordCount": layer.max_records, "objectIdField": "OBJECTID", "fields": fields,
                "supportedQueryFormats": "JSON, geoJSON" if layer.geojson else "JSON",
                "advancedQueryCapabilities": {"supportsPagination": layer.paging}}

    @staticmethod
    def _query(layer: Layer, q: dict) -> dict:
        frame = layer.frame
        if "geometry" in q:
            frame = frame[frame.intersects(shapely.box(*map(float, q["geometry"].split(","))))]
        if "objectIds" in q:
            frame = frame[frame["OBJECTID"].isin([int(i) for i in q["objectIds"].split(",")])]
        if q.get("returnCountOnly") == "true":
            return {"count": len(frame)}
        if q.get("returnIdsOnly") == "true":
            return {"objectIdFieldName": "OBJECTID", "objectIds": frame["OBJECTID"].tolist()}
        frame = frame.sort_values("OBJECTID")
        start = int(q.get("resultOffset", 0)) if layer.paging else 0
        n = min(int(q.get("resultRecordCount", layer.max_records)), layer.max_records)
        page, more = frame.iloc[start:start + n], start + n < len(frame)
        records = page.drop(columns="geometry").to_dict(orient="records")
        if q.get("f") == "geojson":
            feats = [{"type": "Feature", "properties": r, "geometry": json.loads(shapely.to_geojson(g))}
                     for r, g in zip(records, page.geometry, strict=True)]
            return {"type": "FeatureCollection", "features": feats, "exceededTransferLimit": more}
        return {"features": [{"attributes": r, "geometry": esri_rings(g)} for r, g in
                             zip(records, page.geometry, strict=True)], "exceededTransferLimit": more}

    def _wfs(self, q: dict) -> dict:
        frame = self.server_state.layers[q["typeNames"]].frame
        if "bbox" in q:
            s, w, n, e = map(float, q["bbox"].split(",")[:4])  # EPSG:4326 axis order: latitude first
            frame = frame[frame.intersects(shapely.box(w, s, e, n))]
        start, count = int(q.get("startIndex", 0)), int(q.get("count", 1000))
        page = frame.iloc[start:start + count]
        feats = [{"type": "Feature", "properties": r, "geometry": json.loads(shapely.to_geojson(g))}
                 for r, g in zip(page.drop(columns="geometry").to_dict(orient="records"), page.geometry, strict=True)]
        layer = self.server_state.layers[q["typeNames"]]
        return {"type": "FeatureCollection", "numberMatched": len(frame) if layer.counts else "unknown",
                "numberReturned": len(page), "features": feats}


def numbered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with an OBJECTID column 1..n (as a feature service has) and text attributes."""
    out = frame.reset_index(drop=True).copy()
    for c in out.columns.drop("geometry"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out.insert(0, "OBJECTID", np.arange(1, len(out) + 1))
    return out
