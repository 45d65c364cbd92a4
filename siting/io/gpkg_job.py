"""A GeoPackage written while the other deliverables are: its big layers in a helper process.

GDAL's GeoPackage writer (``pyogrio.write_arrow``) holds Python's lock for the whole of a layer, so no
thread can write another file meanwhile; at national size siting.gpkg is 40 % of the save (1.4 M sites:
22 s, half of it GDAL's). :class:`GpkgJob` converts each big spatial layer to Arrow in this process (as the
in-process writer does, batch by batch), puts it in an Arrow IPC file beside the GeoPackage, and starts a
helper Python process (:mod:`siting.io._gpkg_helper`) that hands those files to GDAL; the caller writes the
other files meanwhile and calls :meth:`GpkgJob.finish`, which waits for the helper, adds the plain tables,
the QGIS styles and the provenance record, and checks every layer's count. Layers smaller than
:data:`HELPER_ROWS` features in all are written in this process (a helper costs about a second to start).

The helper's memory is GDAL's and the batch it writes (the IPC files are mapped, not read into memory);
the IPC files are removed when the job ends, whatever happens. An error in the helper is an
:class:`~siting.core.errors.OutputError` with GDAL's message.

Examples
--------
>>> import tempfile, pathlib
>>> import geopandas as gpd
>>> from shapely import box
>>> sites = gpd.GeoDataFrame({"site_id": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)], crs=5070)
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> job = GpkgJob(d / "s.gpkg", {"sites": sites}, helper=True)   # started: the helper writes "sites"
>>> job.finish().name, len(gpd.read_file(d / "s.gpkg", layer="sites"))
('s.gpkg', 2)
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from siting.core.errors import OutputError
from siting.deliver.styles import styles_table
from siting.io import writers
from siting.io.batches import gdal_stream

__all__ = ["HELPER_ROWS", "GpkgJob", "helper_python"]

log = logging.getLogger(__name__)

#: Features of the spatial layers (all together) from which they are written by a helper process
#: (``SITING_GPKG_HELPER=0`` in the environment: never).
HELPER_ROWS = 200_000


def helper_python() -> str | None:
    """The Python interpreter a helper runs on: this process's, unless it is not a plain Python (a GIS
    application embedding Python gives its own program as ``sys.executable``) or ``SITING_GPKG_HELPER=0``.

    Examples
    --------
    >>> helper_python() in (sys.executable, None)
    True
    """
    if os.environ.get("SITING_GPKG_HELPER", "1").lower() in {"0", "false", "no", "off"}:
        return None
    name = Path(sys.executable or "").name.lower()
    return sys.executable if name.startswith("python") else None


class GpkgJob:
    """Write a fresh GeoPackage of ``layers`` (spatial or plain tables); started on creation, completed by
    :meth:`finish`. ``helper`` forces the helper process on (True) or off (False); by default it writes the
    spatial layers when they hold :data:`HELPER_ROWS` features or more.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import box
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(0, 0, 1, 1)], crs=5070)
    >>> GpkgJob(d / "a.gpkg", {"a": frame, "t": pd.DataFrame({"x": [1, 2]})}).finish().name   # in this process
    'a.gpkg'
    """

    def __init__(self, path, layers: dict[str, pd.DataFrame], *, styles: bool = True, metadata: dict | None = None,
                 helper: bool | None = None) -> None:
        self.path, self.layers, self.styles, self.metadata = Path(path), layers, styles, metadata
        if self.path.exists():
            self.path.unlink()
        spatial = {k: v for k, v in layers.items() if isinstance(v, gpd.GeoDataFrame)}
        self._spatial = list(spatial)
        use = helper if helper is not None else (sum(map(len, spatial.values())) >= HELPER_ROWS
                                                 and helper_python() is not None)
        self._files: list[Path] = []
        self._process: subprocess.Popen | None = None
        self._log = self.path.with_name(f".{self.path.stem}-helper.log")
        if use and spatial:
            self._start_helper(spatial)
        else:
            for name, frame in spatial.items():
                writers._write_layer(self.path, name, frame)

    def _start_helper(self, spatial: dict[str, gpd.GeoDataFrame]) -> None:
        import pyarrow as pa

        jobs = []
        try:
            for i, (name, frame) in enumerate(spatial.items()):
                data = writers.to_output_frame(frame, text_codes=True)
                stream, geometry_type = gdal_stream(data)
                arrow = self.path.with_name(f".{self.path.stem}-{i}.arrow")
                self._files.append(arrow)
                with pa.OSFile(str(arrow), "wb") as sink, pa.ipc.new_file(sink, stream.schema) as out:
                    for batch in stream:
                        out.write_batch(batch)
                jobs.append({"name": name, "arrow": str(arrow), "geometry_name": data.geometry.name,
                             "geometry_type": geometry_type, "crs": writers.gdal_crs(data.crs)})
            spec = self.path.with_name(f".{self.path.stem}-job.json")
            self._files.append(spec)
            spec.write_text(json.dumps({"path": str(self.path), "layers": jobs}), encoding="utf-8")
            here = str(Path(__file__).resolve().parents[2])  # the folder siting is imported from, for the helper
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}
            self._files.append(self._log)  # its messages go to a file: a full pipe would stall it
            with self._log.open("wb") as log_file:
                self._process = subprocess.Popen([helper_python() or sys.executable, "-m", "siting.io._gpkg_helper",
                                                  str(spec)], stdout=subprocess.DEVNULL, stderr=log_file, env=env)
        except BaseException:
            self._clean()
            raise
        log.info("%s: %d layer(s) written by helper process %d", self.path.name, len(jobs), self._process.pid)

    def finish(self) -> Path:
        """Wait for the helper, then add the plain tables, the styles and the provenance record, and check
        every layer's feature count against its frame. Returns the GeoPackage's path."""
        try:
            self._wait()
        finally:
            self._clean()
        for name, frame in self.layers.items():
            if not isinstance(frame, gpd.GeoDataFrame):
                pyogrio.write_dataframe(writers._plain_table(frame), self.path, layer=name, driver="GPKG",
                                        use_arrow=True)
        if self.styles and self._spatial:
            kinds = {name: writers.layer_kind(self.path, name) for name in self._spatial}
            pyogrio.write_dataframe(styles_table(kinds), self.path, layer="layer_styles", driver="GPKG",
                                    layer_options={"FID": "id"}, use_arrow=True)
        if self.metadata:
            writers._gpkg_metadata(self.path, json.dumps(self.metadata, default=str))
        for name, frame in self.layers.items():
            n = pyogrio.read_info(self.path, layer=name)["features"]
            if n != len(frame):
                raise OutputError(f"{self.path} layer {name}: wrote {len(frame)} rows but re-read {n}")
        return self.path

    def _wait(self) -> None:
        if self._process is None:
            return
        try:
            self._process.wait()
        except BaseException:  # interrupted: the helper goes too
            self._process.kill()
            self._process.wait()
            raise
        if self._process.returncode:
            tail = self._log.read_text("utf-8", "replace").strip().splitlines()[-3:]
            raise OutputError(f"{self.path}: the helper process writing its layers failed (exit "
                              f"{self._process.returncode}): {' '.join(tail) or 'no message'}")

    def close(self) -> None:
        """Stop the helper if it still runs and remove the job's files (done by :meth:`finish` too)."""
        self._clean()

    def _clean(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for f in self._files:
            f.unlink(missing_ok=True)
        self._files = []
