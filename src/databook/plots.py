"""Shared figure style and helpers: one look for every figure, reproducible files.

Figure scripts call :func:`figure_style` once, draw with matplotlib, mark figures that
are not made from real recordings with :func:`watermark`, and write with
:func:`save_figure`, which writes atomically and strips run-dependent metadata so a
rebuild gives byte-identical files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from databook._atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_dir", "figure_style", "save_figure", "watermark"]

#: Colours used for the same meaning across chapters (colour-blind safe, Okabe-Ito).
COLORS = {
    "stimulus": "#E69F00",
    "response": "#0072B2",
    "baseline": "#999999",
    "truth": "#D55E00",
    "tagged": "#009E73",
}

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "svg.hashsalt": "databook",
    "path.simplify": False,
}


def figure_style() -> None:
    """Apply the shared style with a non-interactive backend (safe on servers and CI)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(_STYLE)


def figure_dir(default: str | os.PathLike[str]) -> Path:
    """Folder a figure script writes into: ``$DATABOOK_FIGURE_DIR`` if set, else ``default``.

    ``databook figures`` sets the variable to a staging folder and moves the outputs into
    place only after the script succeeded; run alone, a script writes to ``default``.
    """
    return Path(os.environ.get("DATABOOK_FIGURE_DIR") or default)


def watermark(
    fig: Figure,
    text: str,
    *,
    xy: tuple[float, float] = (0.995, 0.005),
    rotation: float = 0,
    fontsize: float = 9,
    alpha: float = 0.6,
) -> None:
    """Write ``text`` (e.g. "SIMULATED DATA") on the figure, so no reader mistakes it.

    By default it sits small and upright in the bottom-right corner of the figure, in the
    margin outside the axes, where it never crosses the data. ``xy`` (figure fraction; the
    anchor is the text's corner nearest that point), ``rotation`` (degrees), ``fontsize``
    (points) and ``alpha`` move it elsewhere, e.g. a banner above the panels.
    """
    ha = "right" if xy[0] > 0.66 else "left" if xy[0] < 0.34 else "center"
    va = "top" if xy[1] > 0.66 else "bottom" if xy[1] < 0.34 else "center"
    fig.text(
        *xy,
        text,
        ha=ha,
        va=va,
        rotation=rotation,
        fontsize=fontsize,
        fontweight="bold",
        color="0.35",
        alpha=alpha,
        zorder=1000,
        transform=fig.transFigure,
    )


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` atomically, without timestamps or version strings.

    The file appears complete or not at all: it is written to a temporary file in the
    same folder and renamed, so an interrupted run never leaves half a PNG.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    metadata = {
        ".png": {"Software": None},
        ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
        ".svg": {"Date": None, "Creator": None},
    }.get(suffix)
    if metadata is None:
        raise ValueError(f"unsupported figure format {suffix!r} for {path}; use png, pdf or svg")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], metadata=metadata)
    return path
