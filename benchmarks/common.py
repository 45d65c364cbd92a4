"""Helpers for the benchmark scripts: wall time, peak RSS, and a printed table.

Benchmarks are scripts that print tables; they are never timed unit tests.
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
import time
from contextlib import contextmanager

import psutil


def machine() -> str:
    """One line describing this machine."""
    mem = psutil.virtual_memory().total / 2**30
    py = platform.python_version()
    return f"{platform.platform()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {py}"


@contextmanager
def measure(result: dict, interval: float = 0.02, children: bool = False):
    """Record ``seconds`` and ``peak_mib`` (RSS sampled every 20 ms) into ``result``.

    With ``children``, the RSS of the child processes (dask workers) is added; listing them costs
    CPU time, so only runs with children ask for it."""
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def rss() -> int:
        total = proc.memory_info().rss
        for child in proc.children(recursive=True) if children else ():
            with contextlib.suppress(psutil.Error):  # the child ended meanwhile
                total += child.memory_info().rss
        return total

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            stop.wait(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
        stop.set()
        t.join()
        result["peak_mib"] = max(peak[0], proc.memory_info().rss) / 2**20


def table(rows: list[dict], columns: list[str]) -> str:
    """A GitHub-markdown table of ``rows``."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
        return f"{v:,}" if isinstance(v, int) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---:" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
