"""Shared figure style and helpers: one look for every figure, reproducible files.

Figure scripts call :func:`figure_style` once, draw with matplotlib, mark figures that
are not made from real recordings with :func:`watermark`, and write with
:func:`save_figure`, which writes atomically and strips run-dependent metadata so a
rebuild gives byte-identical files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from databook import figureparams
from databook._atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MIN_PRINTED_PT",
    "SCRIPT_SHRINK",
    "SIGNED_CMAP",
    "TEXT_WIDTH_IN",
    "check_printed_text",
    "figure_dir",
    "figure_style",
    "format_bytes",
    "plain_log_ticks",
    "printed_text_sizes",
    "save_figure",
    "shade_sign",
    "signed_limit",
    "watermark",
]

#: Width of the PDF's text block, inches: A4 (21 cm) less two 2.4 cm margins
#: (``templates/latex/template.tex``). Every figure is included at this width
#: (``:width: 100%`` on each ``{figure}`` directive), so it prints scaled by
#: ``TEXT_WIDTH_IN / figure width``.
TEXT_WIDTH_IN = (21.0 - 2 * 2.4) / 2.54

#: Smallest size any text of a figure may print at in the PDF, points.
MIN_PRINTED_PT = 7.0

#: Size of a mathtext super- or subscript relative to its text (matplotlib's
#: ``_mathtext.SHRINK_FACTOR``): the exponent of a "10^3" tick prints at 70 %.
SCRIPT_SHRINK = 0.7
_MATH_SCRIPT = re.compile(r"(?<!\\)\$[^$]*[\^_][^$]*\$")

#: Colours used for the same meaning across chapters (colour-blind safe, Okabe-Ito).
COLORS = {
    "stimulus": "#E69F00",
    "response": "#0072B2",
    "baseline": "#999999",
    "truth": "#D55E00",
    "tagged": "#009E73",
}

#: The one diverging map for signed LFP and CSD values, with symmetric limits
#: (:func:`signed_limit`): negative blue, positive red. A CSD sink (negative here) is
#: blue, a source red; a negative LFP deflection is blue.
SIGNED_CMAP = "RdBu_r"


def signed_limit(values: Any) -> float:
    """Largest finite absolute value of ``values`` (same unit): the colour limits
    ``(-limit, +limit)`` that put zero at the map's white centre. 1.0 if none is finite
    or all are zero."""
    import numpy as np

    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    limit = float(finite.max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def shade_sign(ax: Any) -> None:
    """Tint the negative side of a profile's x axis (LFP or CSD value) light blue and
    the positive side light red, the colours of :data:`SIGNED_CMAP`, behind the data.
    Call it after the x limits are final."""
    from matplotlib import colormaps

    cmap = colormaps[SIGNED_CMAP]
    low, high = ax.get_xlim()
    for a, b, colour in ((low, 0.0, cmap(0.2)), (0.0, high, cmap(0.8))):
        if b > a:
            ax.axvspan(a, b, color=colour, alpha=0.18, lw=0, zorder=-1)
    ax.set_xlim(low, high)


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


def printed_text_sizes(
    fig: Figure, text_width_in: float = TEXT_WIDTH_IN
) -> list[tuple[str, float]]:
    """Every piece of text ``fig`` draws, with the size it prints at in the PDF.

    The figure is drawn once and each text that is actually rendered (visible, not empty,
    inside its axes' view: tick labels, axis labels, titles, legends, colour-bar labels,
    annotations, the watermark) is recorded with its font size in points times
    ``text_width_in / figure width in inches``, the scale at which the article includes
    the figure; a text with a mathtext super- or subscript (``$10^{3}$``, the default
    log-axis ticks) counts at the script's size, :data:`SCRIPT_SHRINK` of that. Returns
    ``(text, printed size in pt)`` pairs in drawing order.
    """
    from matplotlib.text import Text

    scale = text_width_in / fig.get_figwidth()
    drawn: list[tuple[str, float]] = []
    original = Text.draw

    def spy(self: Text, renderer: Any) -> Any:
        text = self.get_text()
        if self.get_visible() and text.strip():
            shrink = SCRIPT_SHRINK if _MATH_SCRIPT.search(text) else 1.0
            drawn.append((text, float(self.get_fontsize()) * scale * shrink))
        return original(self, renderer)

    Text.draw = spy  # type: ignore[method-assign]
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original  # type: ignore[method-assign]
    return drawn


def format_bytes(value: float) -> str:
    """A byte count as a short label: ``1 kB``, ``10 MB``, ``2.5 GB`` (SI, 1 kB = 1000 B)."""
    for factor, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(value) >= factor:
            return f"{value / factor:g} {unit}"
    return f"{value:g} B"


def _plain_number(value: float) -> str:
    """0.001, 0.1, 1, 100, 10 000 (digits grouped by a space); 1e-05 below 0.0001."""
    if value >= 1:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:g}"


def plain_log_ticks(axis: Any, fmt: Any = None) -> None:
    """Label the decades of a log ``axis`` (``ax.xaxis`` or ``ax.yaxis``) as plain
    numbers (``0.01``, ``1``, ``100``) or ``fmt(value)`` (e.g. :func:`format_bytes`),
    not as mathtext powers ``10^n`` whose exponents print at 70 % of the tick size."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    label = fmt or _plain_number
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: label(value)))
    axis.set_minor_formatter(NullFormatter())


def check_printed_text(fig: Figure, min_pt: float = MIN_PRINTED_PT) -> None:
    """Raise ``ValueError`` naming every text of ``fig`` that would print below ``min_pt``
    points at the article's text width (see :func:`printed_text_sizes`)."""
    small = [(text, size) for text, size in printed_text_sizes(fig) if size < min_pt - 1e-9]
    if small:
        width = fig.get_figwidth()
        listed = "; ".join(f"{text[:40]!r} {size:.2f} pt" for text, size in small[:12])
        raise ValueError(
            f"{len(small)} text(s) print below {min_pt:g} pt when this {width:g}-in wide "
            f"figure is scaled to the {TEXT_WIDTH_IN:.2f}-in text width: {listed}"
        )


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` atomically, without timestamps or version strings.

    The file appears complete or not at all: it is written to a temporary file in the
    same folder and renamed, so an interrupted run never leaves half a PNG. A figure drawn
    with parameters from ``databook run`` (:mod:`databook.figureparams`) records them in
    the file's metadata (PNG ``Comment``, PDF ``Subject``), so it says which file it shows.
    A figure with text that would print below :data:`MIN_PRINTED_PT` in the article is
    refused (``ValueError``, from :func:`check_printed_text`) before anything is written.
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
    check_printed_text(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], metadata=metadata)
    return path
