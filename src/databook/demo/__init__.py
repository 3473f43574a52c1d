"""The embedded demo dandiset: seeded, reproducible stand-ins for real recordings.

``generate(outdir, seed=0)`` writes the demo NWB files and ``ground_truth.json``.
Submodules are imported on use; ``import databook.demo`` itself is cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["generate"]


def generate(outdir: str | os.PathLike[str], seed: int = 0) -> dict[str, Path]:
    """Write the demo dandiset into ``outdir``; return ``{asset key: path}``."""
    from databook.demo.generate import generate as _generate

    return _generate(outdir, seed)
