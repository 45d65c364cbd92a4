"""Vectorized geometry calls split across threads (shapely and GEOS release the GIL).

A 2-core machine runs ``shapely.intersection`` about 1.4 times and ``shapely.distance`` about
twice as fast on two halves at once. :func:`chunked` splits the arrays, runs the function on each
part in a thread pool of :data:`siting.core.settings.THREADS` and joins the results in order, so the
answer is exactly what one call would give.

Examples
--------
>>> import numpy as np, shapely
>>> a = shapely.points(np.arange(5.0), np.zeros(5))
>>> chunked(shapely.distance, a, shapely.points(np.zeros(5), np.zeros(5)), min_items=2).tolist()
[0.0, 1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from siting.core import settings

__all__ = ["chunked", "each", "map_pieces"]


def map_pieces(fn, *arrays, min_items: int | None = None, size: int | None = None, threads: int | None = None,
               **kwargs) -> list[tuple[int, object]]:
    """``fn`` on slices of the (same-length) arrays in threads: ``[(slice start, result), ...]``.

    For functions that return several arrays per slice; results are in slice order.

    Parameters
    ----------
    fn : callable
    *arrays : ndarray
        Sliced together; all of the same length.
    min_items : int, optional
        Below this length (default :data:`siting.core.settings.THREAD_MIN_ITEMS`) ``fn`` runs once, unsliced.
    size : int, optional
        Largest slice. By default one slice per thread; small slices keep a numpy pipeline's
        temporaries in the CPU cache.
    threads : int, optional
        Threads (default :data:`siting.core.settings.THREADS`).

    Examples
    --------
    >>> [start for start, _ in map_pieces(lambda a: a.sum(), np.arange(6), min_items=2, size=2)]
    [0, 2, 4]
    """
    n = len(arrays[0])
    threads = threads or settings.THREADS
    if n < (settings.THREAD_MIN_ITEMS if min_items is None else min_items) or (threads < 2 and size is None):
        return [(0, fn(*arrays, **kwargs))]
    pieces = max(threads, -(-n // size) if size else 0)
    cuts = np.linspace(0, n, pieces + 1).astype(int)

    def piece(i: int):
        return fn(*(a[cuts[i]:cuts[i + 1]] for a in arrays), **kwargs)

    if threads < 2:
        results = [piece(i) for i in range(pieces)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(piece, range(pieces)))
    return list(zip(cuts[:-1].tolist(), results, strict=True))


def chunked(fn, *arrays, min_items: int | None = None, **kwargs) -> np.ndarray:
    """``fn(*arrays, **kwargs)`` computed on equal slices of the (same-length) arrays in threads.

    Parameters
    ----------
    fn : callable
        An element-wise function (a shapely ufunc) returning one value per element.
    *arrays : ndarray
        Arguments sliced together; all of the same length.
    min_items : int, optional
        Below this length (default :data:`siting.core.settings.THREAD_MIN_ITEMS`) ``fn`` runs once.
    **kwargs
        Passed to every call (scalars: ``grid_size``, ``distance``...).

    Returns
    -------
    ndarray
    """
    parts = map_pieces(fn, *arrays, min_items=min_items, **kwargs)
    return np.asarray(parts[0][1]) if len(parts) == 1 else np.concatenate([r for _, r in parts])


def each(fn, items, *, threads: int | None = None) -> list:
    """``[fn(item) for item in items]`` on :data:`siting.core.settings.THREADS` threads, in order.

    For loops over independent batches whose work is mostly in C (GEOS, numpy, PROJ, the KD-tree),
    each writing only its own rows of shared output arrays. An exception in any batch is raised here.

    Parameters
    ----------
    fn : callable
    items : iterable
    threads : int, optional
        Threads (default :data:`siting.core.settings.THREADS`); 1 runs the loop in this thread.

    Examples
    --------
    >>> out = np.zeros(6)
    >>> def batch(start):
    ...     out[start:start + 2] = start
    >>> _ = each(batch, range(0, 6, 2), threads=2)
    >>> out.tolist()
    [0.0, 0.0, 2.0, 2.0, 4.0, 4.0]
    """
    items = list(items)
    threads = min(threads or settings.THREADS, len(items))
    if threads < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))
