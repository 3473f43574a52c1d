"""Shared figure style and helpers: one look for every figure, reproducible files.

Figure scripts call :func:`figure_style` once, draw with matplotlib, mark figures that
are not made from real recordings with :func:`watermark`, and write with
:func:`save_figure`, which writes atomically and strips run-dependent metadata so a
rebuild gives byte-identical files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from databook import figureparams
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
    # PDF figures go into the article as vector graphics: TrueType glyphs (not Type 3),
    # so the PDF's fonts are embedded outlines and their text can be searched.
    "pdf.fonttype": 42,
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


#: Where the default watermark may go, in order of preference (figure fraction).
_CORNERS = ((0.995, 0.005), (0.995, 0.995), (0.005, 0.005), (0.005, 0.995))


def _occupied(fig: Figure, renderer: Any, skip: Any) -> list[Any]:
    """Display-space boxes of everything drawn on ``fig`` (panels with their labels)."""
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    boxes += [t.get_window_extent(renderer) for t in fig.texts if t is not skip and t.get_text()]
    boxes += [leg.get_window_extent(renderer) for leg in fig.legends]
    return [b for b in boxes if b is not None]


def _add_bottom_strip(fig: Figure, height_in: float) -> None:
    """Grow ``fig`` by a blank strip of ``height_in`` inches at the bottom, keeping the
    drawn layout (the layout engine is switched off so it is not recomputed)."""
    fig.set_layout_engine("none")
    old = fig.get_figheight()
    new = old + height_in
    scale, shift = old / new, height_in / new
    for ax in fig.axes:
        box = ax.get_position()
        ax.set_position([box.x0, box.y0 * scale + shift, box.width, box.height * scale])
    for text in fig.texts:
        x, y = text.get_position()
        text.set_position((x, y * scale + shift))
    fig.set_figheight(new)


def watermark(
    fig: Figure,
    text: str,
    *,
    xy: tuple[float, float] | None = None,
    rotation: float = 0,
    fontsize: float = 9,
    alpha: float = 0.6,
) -> None:
    """Write ``text`` (e.g. "SIMULATED DATA") on the figure, so no reader mistakes it.

    By default (``xy=None``) it goes small and upright into the first corner of the
    figure where it touches no panel, tick label, axis label, title or legend; when every
    corner is taken, the figure grows by a blank strip at the bottom that holds it. So it
    never crosses the data. Call it after the figure is complete. ``xy`` (figure
    fraction; the anchor is the text's corner nearest that point), ``rotation``
    (degrees), ``fontsize`` (points) and ``alpha`` place it explicitly instead.
    """

    def put(at: tuple[float, float]) -> Any:
        ha = "right" if at[0] > 0.66 else "left" if at[0] < 0.34 else "center"
        va = "top" if at[1] > 0.66 else "bottom" if at[1] < 0.34 else "center"
        return fig.text(
            *at,
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

    if xy is not None:
        put(xy)
        return
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for corner in _CORNERS:
        mark = put(corner)
        box = mark.get_window_extent(renderer)
        if not any(box.overlaps(other) for other in _occupied(fig, renderer, mark)):
            return
        mark.remove()
    _add_bottom_strip(fig, height_in=2.2 * fontsize / 72)
    put((0.995, 0.005))


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` atomically, without timestamps or version strings.

    The file appears complete or not at all: it is written to a temporary file in the
    same folder and renamed, so an interrupted run never leaves half a PNG. A figure drawn
    with parameters from ``databook run`` (:mod:`databook.figureparams`) records them in
    the file's metadata (PNG ``Comment``, PDF ``Subject``), so it says which file it shows.
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
    given = os.environ.get(figureparams.VARIABLE, "").strip()
    if given:  # drawn by `databook run` from a reader's file: say which file and values
        field = {".png": "Comment", ".pdf": "Subject", ".svg": "Description"}[suffix]
        metadata[field] = f"databook parameters: {given}"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], metadata=metadata)
    return path
