"""Execution engines: where the per-candidate steps (screening and factors) run.

``local`` runs them in this process. ``dask`` partitions the candidates with dask-geopandas and
runs each partition on a dask.distributed cluster (a :class:`~distributed.LocalCluster` when no
scheduler address is given): the rule and factor layers and rasters are sent to every worker once
(``Client.scatter(broadcast=True)``, shared by both steps), each partition builds its spatial
indexes once (never per row), and the
partial screenings are merged back in the input order. Every rule and factor is a per-candidate
measure, so both engines give the same ledger, factors and scores.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from siting.screen.rules import MinArea
>>> cands = gpd.GeoDataFrame({"candidate_id": ["a", "b"]}, crs=5070,
...                          geometry=[box(0, 0, 100, 100), box(0, 0, 1000, 1000)])
>>> with make_engine("local") as engine:
...     engine.screen(cands, [MinArea(acres=100)]).frame["eligible"].tolist()
[False, True]
>>> isinstance(make_engine("local"), LocalEngine), DaskEngine.name
(True, 'dask')
>>> parts = [screen(cands.iloc[[0]], [MinArea(acres=100)]), screen(cands.iloc[[1]], [MinArea(acres=100)])]
>>> merge_screenings(parts, [MinArea(acres=100)]).funnel["candidates_out"].tolist()
[2, 1]
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.core import settings
from siting.core.errors import MissingDependencyError, ScenarioError
from siting.core.progress import release_memory
from siting.geo import proximity
from siting.geo.reuse import SHARED_KEYS
from siting.io.compact import concat, repeated_text
from siting.score.factors import BaseFactor
from siting.screen.constraints import Screening, screen, warn_screening
from siting.screen.ledger import joined
from siting.screen.rule_base import BaseRule, RuleContext

__all__ = ["ENGINES", "DaskEngine", "LocalEngine", "compute_factors", "heaviest_first", "make_engine",
           "merge_screenings"]

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
#: Partitions per worker: enough to balance uneven partitions, few enough to keep overheads small.
PARTITIONS_PER_WORKER = 2
_CANDIDATES = ["candidates_in", "candidates_removed", "candidates_overridden", "candidates_no_data", "candidates_out"]
_COUNTS = [*_CANDIDATES, "acres_in", "acres_removed", "acres_out"]


def compute_factors(sites: gpd.GeoDataFrame, factors: Sequence[BaseFactor], layers: dict, rasters: dict, *,
                    reuse: proximity.Reuse | None = None) -> pd.DataFrame:
    """Every factor's raw columns for ``sites`` (on its index).

    The factors share the sites' anchors, and the distances a rule of the run already measured
    when ``reuse`` is the run's :class:`~siting.geo.proximity.Reuse`. They run heaviest first (the
    most vertices in the layers they read, :func:`heaviest_first`): the search index of a big layer is
    built while the least is held; the columns come in the factors' own order.

    Examples
    --------
    >>> from shapely import Point
    >>> from siting.score.factors import make_factor
    >>> sites = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(10, 0)], crs=5070)
    >>> roads = gpd.GeoDataFrame(geometry=[Point(0, 3)], crs=5070)
    >>> f = make_factor({"name": "road", "distance_to": "roads"})
    >>> compute_factors(sites, [f], {"roads": roads}, {})["road_m"].round(2).tolist()  # metres on the ground
    [3.06, 10.28]
    """
    if not factors:
        return pd.DataFrame(index=sites.index)
    reuse = reuse if reuse is not None else proximity.Reuse()
    order = heaviest_first(factors, layers)
    columns: dict[int, pd.DataFrame] = {}
    asked: dict = {}  # key -> the layers of the factor that kept an answer under it
    for k, at in enumerate(order):
        f, kept = factors[at], reuse.keys()
        columns[at] = f.compute(sites, layers, rasters, reuse=reuse)
        asked.update(dict.fromkeys(reuse.keys() - kept - SHARED_KEYS, frozenset(f.layers_used())))
        later = {name for g in order[k + 1:] for name in factors[g].layers_used()}
        done = {key for key, used in asked.items() if not used & later}  # about layers no later factor reads
        reuse.forget(done)
        asked = {key: used for key, used in asked.items() if key not in done}
        release_memory()  # the factor's temporaries go back to the system before the next one
    return pd.concat([columns[at] for at in range(len(factors))], axis=1)


def heaviest_first(factors: Sequence[BaseFactor], layers: dict) -> list[int]:
    """Positions of ``factors`` by the vertices of the layers each reads, most first (ties in their order).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from siting.score.factors import make_factor
    >>> layers = {"towns": gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=5070),
    ...           "rail": gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 0), (2, 0)])], crs=5070)}
    >>> heaviest_first([make_factor({"name": "town", "distance_to": "towns"}),
    ...                 make_factor({"name": "rail", "distance_to": "rail"})], layers)
    [1, 0]
    """
    def weight(f: BaseFactor) -> int:
        frames = [layers[name] for name in f.layers_used() if isinstance(layers.get(name), gpd.GeoDataFrame)]
        return sum(int(shapely.get_num_coordinates(frame.geometry.array).sum()) for frame in frames)

    weights = [weight(f) for f in factors]
    return sorted(range(len(factors)), key=lambda i: -weights[i])


class LocalEngine:
    """Run every step in this process."""

    name = "local"

    def screen(self, candidates: gpd.GeoDataFrame, rules: Sequence[BaseRule],
               ctx: RuleContext | None = None) -> Screening:
        """:func:`siting.screen.constraints.screen`."""
        return screen(candidates, rules, ctx)

    def factors(self, sites: gpd.GeoDataFrame, factors: Sequence[BaseFactor], layers: dict, rasters: dict, *,
                reuse: proximity.Reuse | None = None) -> pd.DataFrame:
        """:func:`compute_factors`, sharing the run's ``reuse``."""
        return compute_factors(sites, factors, layers, rasters, reuse=reuse)

    def describe(self) -> dict:
        """What ran the steps (for ``run.json``)."""
        return {"name": self.name}

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DaskEngine(LocalEngine):
    """Run screening and factors partitioned on a dask.distributed cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); without it a LocalCluster of
        ``n_workers`` single-threaded worker processes is started (and closed by :meth:`close`).
    n_workers : int
        Workers of the LocalCluster.
    partitions : int, optional
        Partitions per step (default :data:`PARTITIONS_PER_WORKER` per worker).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int = 2, partitions: int | None = None):
        distributed = _dask_modules()[1]
        self._cluster = None
        if scheduler:
            self.client = distributed.Client(scheduler)
        else:
            self._cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                     dashboard_address=":0")
            self.client = distributed.Client(self._cluster)
        workers = max(len(self.client.scheduler_info().get("workers", {})), 1)
        self.partitions = partitions or PARTITIONS_PER_WORKER * workers
        self.threads = self._limit_threads()
        self._shared: dict[int, tuple[object, object]] = {}
        log.info("dask engine: %d workers at %s, %d partitions per step", workers,
                 self.client.scheduler.address, self.partitions)

    def _limit_threads(self) -> dict[str, int]:
        """Give each worker its share of its host's cores for siting's own threads (no oversubscription).

        A worker runs ``nthreads`` tasks at once and siting's vectorized steps would start
        :data:`siting.core.settings.THREADS` threads in each (all the cores): 2 workers on 2 cores ran
        4 busy threads. Each worker's siting now uses ``cores of its host // (workers on that host x nthreads)``,
        at least 1. Returns the budget per worker address.
        """
        info = self.client.scheduler_info().get("workers", {})
        cores = self.client.run(os.cpu_count)  # per worker: its host's cores
        per_host = collections.Counter(w.get("host") for w in info.values())
        budget = {addr: max(1, (cores.get(addr) or 1) // (per_host[w.get("host")] * max(w.get("nthreads", 1), 1)))
                  for addr, w in info.items()}
        for addr, n in budget.items():
            self.client.run(_set_threads, n, workers=[addr])
        return budget

    def _share(self, obj):
        """A future of ``obj`` on every worker, sent once per object.

        Wrapped in a list: ``scatter`` would send a dict's or list's items one by one (and fails on
        an empty dict, a scenario without rasters)."""
        key = id(obj)
        if key not in self._shared:
            self._shared[key] = (obj, self.client.scatter([obj], broadcast=True, hash=False)[0])
        return self._shared[key][1]

    def _map(self, func, frame: gpd.GeoDataFrame, *args) -> list:
        """``func(partition, *args)`` for each dask-geopandas partition of ``frame``, in order."""
        dgpd = _dask_modules()[0]
        n = max(1, min(self.partitions, len(frame)))
        parts = self.client.compute(dgpd.from_geopandas(frame, npartitions=n, sort=False).to_delayed())
        shared = [self._share(a) for a in args]
        futures = [self.client.submit(func, part, *shared, pure=False) for part in parts]
        return self.client.gather(futures)

    def screen(self, candidates: gpd.GeoDataFrame, rules: Sequence[BaseRule],
               ctx: RuleContext | None = None) -> Screening:
        """Screen each partition, then merge (same result as :func:`siting.screen.constraints.screen`)."""
        if len(candidates) < 2:
            return screen(candidates, rules, ctx)
        ctx = ctx or RuleContext()
        parts = self._map(_screen_part, candidates, list(rules), ctx.layers, ctx.rasters)
        return merge_screenings(parts, rules)

    def factors(self, sites: gpd.GeoDataFrame, factors: Sequence[BaseFactor], layers: dict, rasters: dict, *,
                reuse: proximity.Reuse | None = None) -> pd.DataFrame:
        """Factors per partition, concatenated on ``sites``' index (each worker keeps its own reuse)."""
        if not factors or len(sites) < 2:
            return compute_factors(sites, factors, layers, rasters, reuse=reuse)
        return concat(self._map(compute_factors, sites, list(factors), layers, rasters))

    def describe(self) -> dict:
        """Engine name, scheduler address, workers, partitions and siting's threads per worker."""
        info = self.client.scheduler_info()
        return {"name": self.name, "scheduler": self.client.scheduler.address, "local_cluster": bool(self._cluster),
                "workers": len(info.get("workers", {})), "partitions": self.partitions,
                "siting_threads_per_worker": sorted(set(self.threads.values()))}

    def close(self) -> None:
        """Release the shared data; close the client and the LocalCluster this engine started."""
        self._shared.clear()
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _set_threads(n: int) -> int:
    """On a worker: siting's threads for vectorized steps (:data:`siting.core.settings.THREADS`)."""
    settings.THREADS = n
    return n


def _screen_part(part: gpd.GeoDataFrame, rules, layers: dict, rasters: dict) -> Screening:
    """Screen one partition on a worker (what was decided without data, or nothing left, is reported
    for the merged result)."""
    return screen(part, rules, RuleContext(layers, rasters), whole=False)


def merge_screenings(parts: list[Screening], rules: Sequence[BaseRule]) -> Screening:
    """One screening from the screenings of consecutive partitions of the candidates.

    The frames are concatenated in order, the funnel counts and acres summed, the long ledger put
    back rule by rule (as :func:`siting.screen.constraints.screen` orders it).
    """
    frame = gpd.GeoDataFrame(repeated_text(concat([p.frame for p in parts])), geometry="geometry",
                             crs=parts[0].frame.crs)
    funnel = parts[0].funnel.copy()
    funnel[_COUNTS] = sum(p.funnel[_COUNTS].to_numpy(float) for p in parts)
    funnel[_CANDIDATES] = funnel[_CANDIDATES].astype(np.int64)
    ledger = joined([p.long_ledger for p in parts], list(parts[0].rules["rule"]))
    warn_screening(funnel, rules, list(parts[0].rules["rule"]), len(frame))
    return Screening(frame, funnel, ledger, parts[0].rules, parts[0].applied)


def make_engine(engine: str = "local", scheduler: str | None = None, **options: Any) -> LocalEngine:
    """The engine named ``engine`` (``local`` or ``dask``).

    Raises
    ------
    ScenarioError
        For an unknown engine, or a scheduler given to the local engine.
    MissingDependencyError
        For ``dask`` without dask-geopandas and distributed installed.

    Examples
    --------
    >>> make_engine("local").describe()
    {'name': 'local'}
    >>> make_engine("spark")
    Traceback (most recent call last):
    ...
    siting.core.errors.ScenarioError: engine 'spark' is not available; use one of local, dask
    """
    if engine not in ENGINES:
        raise ScenarioError(f"engine {engine!r} is not available; use one of {', '.join(ENGINES)}")
    if engine == "local":
        if scheduler:
            raise ScenarioError("a scheduler address needs engine='dask'")
        return LocalEngine()
    return DaskEngine(scheduler, **options)


def _dask_modules():
    try:
        import dask_geopandas
        import distributed
    except ImportError as exc:
        raise MissingDependencyError("engine='dask' needs dask-geopandas and distributed: "
                                     "pip install 'siting[dask]'") from exc
    return dask_geopandas, distributed
