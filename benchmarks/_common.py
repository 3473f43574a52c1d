"""Shared helpers for the side-by-side benchmarks: timing and optional peers."""

from __future__ import annotations

import importlib
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
