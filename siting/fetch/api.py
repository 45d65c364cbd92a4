"""Fetch catalog datasets into a cache with a manifest; list and describe the catalog.

The cache (``SITING_CACHE``, else the platform's user cache folder from platformdirs, e.g.
``~/.cache/siting/data``) holds one folder per dataset and extent: the data (a GeoPackage, or the
file as published) and ``manifest.json`` with the queries made, the time, the feature count, the
data's SHA-256, the licence and the citation. A repeat fetch reads the manifest, checks the hash and
makes no request; ``refresh=True`` fetches again. Nothing here runs unless asked: scenarios that name
datasets resolve through the cache and fetch only with ``--fetch``.

Examples
--------
>>> table = list_datasets()
>>> {"dataset", "publisher", "protocol", "licence", "citation", "size"} <= set(table.columns)
True
>>> dataset_info("mrds")["protocol"]
'wfs'
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyogrio

from siting import __version__
from siting.core.errors import FetchError, ScenarioError
from siting.fetch.arcgis import fetch_arcgis
from siting.fetch.catalog import Extent, load_catalog
from siting.fetch.client import Client
from siting.fetch.files import download, sha256_of
from siting.fetch.wfs import fetch_wfs

__all__ = ["cache_root", "cached", "dataset_info", "fetch", "list_datasets"]

log = logging.getLogger(__name__)


def cache_root(to=None) -> Path:
    """Where fetched data lives: ``to``, else ``SITING_CACHE``, else the user cache folder.

    >>> cache_root("/data/cache").as_posix()
    '/data/cache'
    """
    if to is not None:
        return Path(to)
    if os.environ.get("SITING_CACHE"):
        return Path(os.environ["SITING_CACHE"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("siting")) / "data"


def list_datasets(catalog=None) -> pd.DataFrame:
    """The catalog as a table: dataset, title, publisher, protocol, licence, citation, typical size."""
    rows = [{"dataset": name, **{k: e.get(k, "") for k in ("title", "publisher", "protocol", "licence",
                                                           "citation", "size")}}
            for name, e in load_catalog(catalog).items()]
    return pd.DataFrame(rows)


def dataset_info(name: str, catalog=None) -> dict:
    """Every field of one catalog entry (endpoint, protocol, fields, where it came from, citation)."""
    return _entry(load_catalog(catalog), name)


def _entry(entries: dict, name: str) -> dict:
    if name not in entries:
        raise ScenarioError(f"no dataset {name!r} in the catalog; `siting data list` shows them: "
                            f"{', '.join(sorted(entries))}")
    return {"dataset": name, **entries[name]}


def cached(name: str, extent: Extent, *, to=None) -> Path | None:
    """The cached data file of ``name`` for ``extent`` when it is there and whole (hash checked), else None.

    >>> import tempfile
    >>> cached("mrds", Extent.of(bbox="-116,38,-115,39"), to=tempfile.mkdtemp()) is None
    True
    """
    folder = cache_root(to) / name / extent.key
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    meta = json.loads(manifest.read_text(encoding="utf-8"))
    data = folder / meta["file"]
    if not data.exists() or sha256_of(data) != meta["sha256"]:
        log.warning("cache of %s (%s) is incomplete or changed; it will be fetched again", name, extent.key)
        return None
    return data


def fetch(datasets, *, state: str | None = None, bbox=None, to=None, refresh: bool = False, catalog=None,
          client: Client | None = None) -> dict[str, Path]:
    """Fetch ``datasets`` for a state or a box into the cache; return each one's local data file.

    Parameters
    ----------
    datasets : str or list of str
        Catalog names (``siting data list``).
    state, bbox : str, optional
        The extent: a state (``"NV"``, ``"Nevada"``) or a box (``"W,S,E,N"`` degrees), one of them.
    to : path, optional
        Cache folder (default :func:`cache_root`).
    refresh : bool
        Fetch again even when the cache holds the data.
    catalog : path, optional
        A user catalog that adds or overrides entries.
    client : Client, optional
        The HTTP client (retries, timeouts, concurrency); it counts its requests.

    Returns
    -------
    dict
        ``{dataset: path}``; the manifest is ``path.parent / "manifest.json"``.

    Examples
    --------
    >>> client = Client()
    >>> fetch("critical_minerals", state="NV", client=client)["critical_minerals"].name, client.requests
    ('mineral_lists.csv', 0)
    """
    names = [datasets] if isinstance(datasets, str) else list(datasets)
    entries, extent = load_catalog(catalog), Extent.of(state=state, bbox=bbox)
    client = client or Client()
    out = {}
    for name in names:
        entry = _entry(entries, name)
        hit = None if refresh else cached(name, extent, to=to)
        out[name] = hit if hit is not None else _fetch_one(entry, extent, cache_root(to) / name / extent.key, client)
    return out


def _fetch_one(entry: dict, extent: Extent, folder: Path, client: Client) -> Path:
    """Fetch one dataset into a temporary folder, then put it in place with its manifest."""
    if entry["protocol"] == "packaged":
        from importlib import resources

        return Path(str(resources.files("siting") / entry["url"].removeprefix("siting/")))
    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    start = len(client.log)
    data = _get(entry, extent, tmp, client)
    manifest = {"dataset": entry["dataset"], "title": entry["title"], "publisher": entry["publisher"],
                "protocol": entry["protocol"], "url": entry["url"], "extent": extent.key,
                "bbox": list(extent.bbox), "queries": client.log[start:],
                "fetched": datetime.now(UTC).isoformat(timespec="seconds"), "features": data[1],
                "file": data[0].name, "sha256": sha256_of(data[0]), "licence": entry["licence"],
                "citation": entry["citation"], "source": entry.get("source"), "siting": __version__}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.replace(folder)
    log.info("fetched %s for %s: %s features, %d requests", entry["dataset"], extent.key, data[1],
             len(manifest["queries"]))
    return folder / data[0].name


def _get(entry: dict, extent: Extent, tmp: Path, client: Client) -> tuple[Path, int | None]:
    """Run the dataset's protocol; the data file and its feature count."""
    protocol, url = entry["protocol"], entry["url"]
    if protocol in ("arcgis", "wfs"):
        frame = (fetch_arcgis(client, url, bbox=extent.bbox, where=entry.get("where", "1=1"))
                 if protocol == "arcgis" else fetch_wfs(client, url, entry["layer"], bbox=extent.bbox))
        path = tmp / "data.gpkg"
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, path, layer=entry["dataset"], driver="GPKG")
        return path, len(frame)
    if protocol == "file":
        if "{state}" in url and extent.fips is None:
            raise ScenarioError(f"{entry['dataset']} is published by state: give --state, not --bbox")
        url = url.replace("{state}", extent.fips or "")
        return download(client, url, tmp / url.rsplit("/", 1)[-1], sha256=entry.get("sha256")), None
    if protocol == "arcgis_image":
        return _export_image(client, url, extent, tmp), None
    raise FetchError(f"{entry['dataset']}: protocol {protocol!r} is not one siting speaks "
                     "(arcgis, wfs, file, arcgis_image, packaged)")


def _export_image(client: Client, url: str, extent: Extent, tmp: Path, res_deg: float = 1 / 1200) -> Path:
    """A GeoTIFF of an ArcGIS image service (3DEP) over the box, at about 90 m, in EPSG:4326."""
    w, s, e, n = extent.bbox
    width, height = (min(8000, max(1, round((hi - lo) / res_deg))) for lo, hi in ((w, e), (s, n)))
    params = {"bbox": f"{w},{s},{e},{n}", "bboxSR": 4326, "imageSR": 4326, "size": f"{width},{height}",
              "format": "tiff", "pixelType": "F32", "interpolation": "RSP_BilinearInterpolation", "f": "image"}
    body = client.get(f"{url}/exportImage", params).content
    if body[:4] not in (b"II*\x00", b"MM\x00*"):
        raise FetchError(f"{url}/exportImage sent no GeoTIFF ({body[:120]!r}); the box may be too large")
    path = tmp / "dem.tif"
    path.write_bytes(body)
    return path
