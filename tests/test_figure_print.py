"""Figures read in print: included at the text width, no text below 7 pt (no PDF built).

The PDF itself is measured in ``tests/test_build.py``
(``test_every_figure_prints_at_text_width_with_text_of_at_least_7_pt``); these checks are
the fast, unit-level side: the size check ``save_figure`` applies, every chapter's
``{figure}`` directive, and every figure script's literal widths and font sizes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from databook import plots

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "figures_src").glob("fig_*.py"))


def test_text_width_is_a4_less_the_template_margins():
    template = (ROOT / "templates" / "latex" / "template.tex").read_text(encoding="utf-8")
    margin_cm = float(re.search(r"\\usepackage\[margin=([\d.]+)cm", template)[1])
    assert plots.TEXT_WIDTH_IN == pytest.approx((21.0 - 2 * margin_cm) / 2.54)
    assert plots.TEXT_WIDTH_IN == pytest.approx(6.38, abs=0.005)


def test_printed_size_is_font_size_times_text_width_over_figure_width():
    fig, ax = plt.subplots(figsize=(7.2, 3))
    try:
        ax.set_xlim(0, 1)
        ax.set_xticks([0.5])
        ax.set_xlabel("time (s)", fontsize=9)
        ax.text(0.5, 0.5, "note", fontsize=8)
        ax.text(0.5, 0.5, "", fontsize=2)  # empty: draws nothing
        ax.text(0.5, 0.5, "hidden", fontsize=2, visible=False)
        sizes = dict(plots.printed_text_sizes(fig))
        scale = plots.TEXT_WIDTH_IN / 7.2
        assert sizes["time (s)"] == pytest.approx(9 * scale)
        assert sizes["note"] == pytest.approx(8 * scale)
        assert "hidden" not in sizes
        plots.check_printed_text(fig)  # 8 pt on 7.2 in prints at 7.09 pt: fine
        fig.set_figwidth(8.5)  # the same text on a wider figure shrinks below 7 pt
        with pytest.raises(ValueError, match=r"'note' 6\.00 pt"):
            plots.check_printed_text(fig)
    finally:
        plt.close(fig)


def test_save_figure_refuses_text_that_prints_below_7_pt(tmp_path):
    fig, ax = plt.subplots(figsize=(7.2, 3))
    try:
        ax.set_title("(a) panel", fontsize=5)
        with pytest.raises(ValueError, match=r"'\(a\) panel' 4\.43 pt"):
            plots.save_figure(fig, tmp_path / "fig_x.pdf")
        assert list(tmp_path.iterdir()) == []  # nothing written
        ax.set_title("(a) panel", fontsize=8)
        assert plots.save_figure(fig, tmp_path / "fig_x.pdf").is_file()
    finally:
        plt.close(fig)


def test_log_axis_exponents_count_at_their_size_and_plain_ticks_fix_them():
    """A default log axis labels its decades "10^3" in mathtext: the exponent prints at
    70 % of the tick size (4.96 pt for 8-pt ticks on a 7.2-in figure). Plain labels print
    at full size."""
    fig, ax = plt.subplots(figsize=(7.2, 3))
    try:
        ax.set_yscale("log")
        ax.set_ylim(1e3, 1e8)
        with pytest.raises(ValueError, match=r"10\^\{3\}"):
            plots.check_printed_text(fig)
        plots.plain_log_ticks(ax.yaxis, plots.format_bytes)
        plots.check_printed_text(fig)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if 1e3 <= t.get_position()[1] <= 1e8]
        assert labels == ["1 kB", "10 kB", "100 kB", "1 MB", "10 MB", "100 MB"]
    finally:
        plt.close(fig)


def test_every_figure_directive_is_full_width():
    """mystmd includes a figure without ``:width:`` at 0.7 of the line width in the PDF."""
    seen = 0
    for chapter in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.md")):
        text = chapter.read_text(encoding="utf-8")
        for block in re.findall(r"^:::\{figure\}.*?^:::$", text, re.S | re.M):
            seen += 1
            widths = re.findall(r"^:width: (.*)$", block, re.M)
            assert widths == ["100%"], f"{chapter.name}: {block.splitlines()[0]} {widths}"
    assert seen >= 30


def _literal_sizes(tree: ast.AST) -> tuple[list[float], list[tuple[int, float]]]:
    """Literal figure widths (inches) and font sizes (points) of a figure script."""
    widths, fonts = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword):
            continue
        value = node.value
        if node.arg == "figsize" and isinstance(value, ast.Tuple):
            first = value.elts[0]
            candidates = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            widths += [c.value for c in candidates if isinstance(c, ast.Constant)]
        elif node.arg in {"fontsize", "labelsize", "size"} and isinstance(value, ast.Constant):
            if isinstance(value.value, (int, float)):
                fonts.append((node.lineno, float(value.value)))
    return widths, fonts


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_figure_script_text_prints_at_7_pt_at_least(script):
    """Every literal font size of a script, on its widest figure scaled to the text
    width, prints at 7 pt or more (sizes computed at run time are checked by
    ``save_figure`` whenever the script runs)."""
    widths, fonts = _literal_sizes(ast.parse(script.read_text(encoding="utf-8")))
    assert widths, f"{script.name}: no literal figsize width"
    widest = max(widths)
    assert widest <= 7.3, f"{script.name}: {widest} in wide"
    scale = plots.TEXT_WIDTH_IN / widest
    small = [(line, pt, round(pt * scale, 2)) for line, pt in fonts if pt * scale < 7.0]
    assert small == [], f"{script.name} (line, pt, printed pt): {small}"
