"""How many threads databook's threaded and compiled kernels may use."""

from __future__ import annotations

import os


def n_threads() -> int:
    """Thread budget: ``DATABOOK_NUM_THREADS`` if set (a positive integer), else the
    number of CPUs. Set it to 1 to compare with single-threaded tools like for like."""
    value = os.environ.get("DATABOOK_NUM_THREADS")
    if value is None:
        return os.cpu_count() or 1
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"DATABOOK_NUM_THREADS must be a positive integer, got {value!r}")
    return number
