"""Figure layout as a reader sees it: no text drawn over another panel or colour bar."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "figures_src" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text_collisions(fig) -> list[str]:
    """Every title or axis label that overlaps another axes or text, or leaves the figure.

    Boxes are the renderer's window extents in display pixels after a draw; a title may
    touch its own axes' top edge but not another axes (a colour bar is an axes).
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = []
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title):
            if title.get_text() and title.get_visible():
                texts.append((ax, f"title {title.get_text()!r}", title))
        for label in (ax.xaxis.label, ax.yaxis.label):
            if label.get_text() and label.get_visible():
                texts.append((ax, f"label {label.get_text()!r}", label))
    problems = []
    for i, (owner, name, text) in enumerate(texts):
        box = text.get_window_extent(renderer)
        inside = fig.bbox
        if not (
            inside.x0 <= box.x0
            and box.x1 <= inside.x1
            and inside.y0 <= box.y0 <= box.y1 <= inside.y1
        ):
            problems.append(f"{name} runs off the figure")
        for ax in fig.axes:
            if ax is not owner and box.overlaps(ax.get_window_extent(renderer)):
                problems.append(f"{name} overlaps axes {ax.get_label() or ax}")
        for _, other_name, other in texts[i + 1 :]:
            if box.overlaps(other.get_window_extent(renderer)):
                problems.append(f"{name} overlaps {other_name}")
    return problems


def test_helper_sees_a_title_over_a_colour_bar():
    # A wide image leaves its axes shorter than the colour bar beside it, whose top then
    # rises to the title's height (as in fig_rf_maps before the fix).
    fig, ax = plt.subplots(figsize=(3, 3), layout="constrained")
    im = ax.imshow([[0, 1, 0, 1]])
    fig.colorbar(im, ax=ax)
    ax.set_title("a very long title that runs far over the colour bar", loc="left")
    assert any("overlaps axes" in p for p in text_collisions(fig))
    ax.set_title("short", loc="left")
    assert text_collisions(fig) == []
    plt.close(fig)


def test_rf_maps_titles_clear_the_colour_bars():
    module = _script("fig_rf_maps")
    # 200 shuffles: p-values down to 0.005 (below alpha 0.01) in a few seconds.
    fig = module.make_figure(n_shuffles=200)
    try:
        assert text_collisions(fig) == []
    finally:
        plt.close(fig)
