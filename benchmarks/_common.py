"""Shared helpers for the side-by-side benchmarks: timing and optional peers."""

from __future__ import annotations

import contextlib
import importlib
import os
import statistics
import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Fastest wall time (s) of ``repeats`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peer(name: str):
    """Import an optional peer library, or say it is missing and return None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        print(f"peer {name} is not installed: skipped (pip install the lock's bench extra)")
        return None


def median_of(fn: Callable[[], object], repeats: int = 5) -> tuple[float, object]:
    """Median wall time (s) of ``repeats`` runs, and the last result. Call ``fn`` once
    before to keep one-off costs (JIT compilation, first-touch of memory) out."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@contextlib.contextmanager
def databook_threads(n: int | None):
    """Run databook's kernels on ``n`` threads (``DATABOOK_NUM_THREADS``); None: all."""
    saved = os.environ.get("DATABOOK_NUM_THREADS")
    if n is None:
        os.environ.pop("DATABOOK_NUM_THREADS", None)
    else:
        os.environ["DATABOOK_NUM_THREADS"] = str(n)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DATABOOK_NUM_THREADS", None)
        else:
            os.environ["DATABOOK_NUM_THREADS"] = saved
