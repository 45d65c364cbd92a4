"""The helper process of :class:`siting.io.gpkg_job.GpkgJob`: hands Arrow IPC files to GDAL's GeoPackage
writer, one layer each, in the order of a job file (JSON: the GeoPackage's path and, per layer, its name,
IPC file, geometry column, geometry type and CRS).

    python -m siting.io._gpkg_helper JOB.json

It imports only pyarrow and pyogrio, maps each IPC file instead of reading it, and exits non-zero with
GDAL's message on stderr if a layer cannot be written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(job_file: str) -> None:
    """Write every layer of the job file (see the module docstring)."""
    import pyarrow as pa
    import pyogrio

    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    for layer in job["layers"]:
        with pa.memory_map(layer["arrow"]) as source:
            reader = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            pyogrio.write_arrow(pa.RecordBatchReader.from_batches(reader.schema, batches), job["path"],
                                layer=layer["name"], driver="GPKG", geometry_name=layer["geometry_name"],
                                geometry_type=layer["geometry_type"], crs=layer["crs"])


if __name__ == "__main__":
    main(sys.argv[1])
