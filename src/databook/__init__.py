"""databook: a reproducible systems-neuroscience article that is also software.

The public face is a set of modules, one job each, in the order data flows:

- ``assets``: ``assets.lock``, pinning through the DANDI API, verified download, streaming
- ``localarchive``: a DANDI-compatible archive on 127.0.0.1 over local files (demos, tests)
- ``demo``: the embedded demo dandiset (a seeded writer of NWB files and their truth)
- ``nwb``: readers that turn anyone's NWB file into plain arrays and tables; ``matfiles``:
  CellReg-style MATLAB footprints
- ``align``: clocks and events (event-aligned counts and windows, PSTHs, resampling)
- ``tables``: stimulus tables (select presentations by metadata, group them into blocks)
- ``responses``, ``rf``, ``opto``, ``csd``, ``cellmatch``: one analysis each, on arrays,
  with ``tuning`` (OSI/DSI), ``laminar`` (depth profiles), ``latency`` (onset fits),
  ``quality`` (unit filters), ``unitsummary`` (per-unit tables) and ``overlap`` (ROI
  neighbours) beside them
- ``plots``: shared figure style; ``figures``: the figure runner; ``article``: the build;
  ``run`` and ``chapterinputs``: one chapter on any NWB file (``databook run``/``inspect``)
- ``sessions``: a per-session analysis mapped over many sessions of a dandiset, on Dask
- ``provenance``: what changed between two builds' figure records (``databook diff``)
- ``paths``: where a project's files live; ``errors``: the base of every reported error

``import databook`` only defines names: each module is imported the first time it is
used (``databook.align.event_counts(...)`` works after a bare ``import databook``), so
the import stays fast and pulls in no numpy, pynwb or matplotlib.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_MODULES = (
    "align",
    "article",
    "assets",
    "cellmatch",
    "chapterinputs",
    "csd",
    "demo",
    "errors",
    "figures",
    "laminar",
    "latency",
    "localarchive",
    "matfiles",
    "nwb",
    "opto",
    "overlap",
    "paths",
    "plots",
    "provenance",
    "quality",
    "responses",
    "rf",
    "run",
    "sessions",
    "tables",
    "tuning",
    "unitsummary",
)

__all__ = ["__version__", *_MODULES]


def __getattr__(name: str):
    if name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'databook' has no attribute {name!r}; modules: {_MODULES}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULES))
