"""Scenario layers that name catalog datasets (``parcels: {fetch: padus_fee, state: NV}``).

:func:`resolve_fetches` turns each such layer into the cached file, fetching only when the user asked
(``siting run --fetch``, ``siting.run(..., fetch=True)`` or ``fetch_missing: true`` in the
scenario): a missing dataset is otherwise an error that says how to get it, never a download behind
the user's back. :func:`manifest_of` gives the cached file's manifest, for the run's provenance.

Examples
--------
>>> from siting.core.scenario import load_scenario
>>> sc = load_scenario({"name": "t", "layers": {"parcels": {"path": "p.gpkg"}}})
>>> resolve_fetches(sc) is sc  # nothing to fetch
True
"""

from __future__ import annotations

import json
from pathlib import Path

from siting.core.errors import ScenarioError
from siting.fetch.api import cache_root, cached, dataset_info, fetch
from siting.fetch.catalog import Extent

__all__ = ["manifest_of", "resolve_fetches"]


def resolve_fetches(sc, *, fetch_missing: bool = False):
    """A copy of ``sc`` whose ``fetch:`` layers read their cached files (fetched when allowed and missing).

    Raises
    ------
    ScenarioError
        When a dataset is not cached and fetching was not asked for.
    """
    allowed = fetch_missing or sc.fetch_missing
    layers, changed = {}, False
    for name, spec in sc.layers.items():
        specs = spec if isinstance(spec, list) else [spec]
        out = []
        for s in specs:
            if s.fetch and not s.path:
                s = _resolved(name, s, allowed)
                changed = True
            out.append(s)
        layers[name] = out if isinstance(spec, list) else out[0]
    return sc.model_copy(update={"layers": layers}) if changed else sc


def _resolved(name: str, spec, allowed: bool):
    entry = dataset_info(spec.fetch)
    extent = Extent.of(state=spec.state, bbox=spec.bbox)
    path = cached(spec.fetch, extent)
    if path is None:
        if not allowed:
            box = ",".join(map(str, spec.bbox)) if isinstance(spec.bbox, list) else spec.bbox
            where = f"--state {spec.state}" if spec.state else f"--bbox {box}"
            raise ScenarioError(f"layer {name!r}: dataset {spec.fetch!r} ({extent.key}) is not in the cache "
                                f"({cache_root()}); get it with `siting data fetch {spec.fetch} {where}`, or run "
                                "with --fetch (or `fetch_missing: true` in the scenario)")
        path = fetch([spec.fetch], state=spec.state, bbox=spec.bbox)[spec.fetch]
    return spec.model_copy(update={"path": str(path), "source": spec.source or entry.get("source")})


def manifest_of(path) -> dict | None:
    """The manifest beside a cached data file (None for a file that was not fetched).

    >>> manifest_of("sample_data/federal_lands.gpkg") is None
    True
    """
    manifest = Path(path).parent / "manifest.json"
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else None
