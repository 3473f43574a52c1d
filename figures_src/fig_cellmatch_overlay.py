"""Figure: the two demo imaging days before and after registration, and the matched ROIs.

Top: the day-1 (magenta) and day-2 (green) mean images overlaid as recorded (left) and
after mapping day 1 into day 2's frame with the transform ``cellmatch.register`` found
(right); where the days agree the overlay is grey-white. Bottom: ROI outlines on each
day's own mean image, matched ROIs in blue, day-1 ROIs without a partner (lost) in
vermillion, day-2 ROIs without a partner (new) in bluish green; five example pairs carry
the same number on both days.

Run alone: ``python figures_src/fig_cellmatch_overlay.py`` writes
``figures/fig_cellmatch_overlay.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import cellmatch, figureparams, nwb, overlap, plots

OUTPUTS = ["fig_cellmatch_overlay.png"]
INPUTS = ["demo-ophys-day1", "demo-ophys-day2"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 8's parameters of the same names; `databook run 08 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "day1_asset": "demo-ophys-day1",
    "day2_asset": "demo-ophys-day2",
    "image_name": "average_image",  # None: the summed footprints
    "model": "affine",
    "max_angle": 15.0,
    "max_distance": 8.0,
    "min_iou": 0.3,
}
P = figureparams.load(PARAMETERS, script=__file__)
MATCHED, LOST, NEW = plots.COLORS["response"], plots.COLORS["truth"], plots.COLORS["tagged"]


def scaled(image: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
    """Image scaled to 0..1 between the 1st and 99.5th percentiles of ``like`` (default
    the image itself; pass the unwarped image so zeros outside the field do not count)."""
    lo, hi = np.percentile(image if like is None else like, [1, 99.5])
    return np.clip((image - lo) / (hi - lo), 0, 1)


def two_colour(a: np.ndarray, b: np.ndarray, a_like: np.ndarray | None = None) -> np.ndarray:
    """RGB overlay: ``a`` in magenta, ``b`` in green (grey-white where both are bright)."""
    a, b = scaled(a, a_like), scaled(b)
    return np.stack([a, b, a], axis=-1)


def outline(ax, masks, which, color, threshold=0.3) -> None:
    """Outline of the footprints ``which`` (pixels >= threshold of each mask's peak)."""
    if len(which) == 0:
        return
    sub = masks[which]
    peak = sub.reshape(len(sub), -1).max(axis=1)
    area = (sub >= threshold * peak[:, None, None]).any(axis=0)
    ax.contour(area.astype(float), levels=[0.5], colors=[color], linewidths=1.0)


def projection(source, rois: nwb.ROIs) -> np.ndarray:
    """The session's image named ``image_name``; None: its summed footprints."""
    if P.image_name is None:
        return rois.dense().sum(axis=0)
    return nwb.images(source)[P.image_name]


def main() -> None:
    plots.figure_style()
    day1, day2 = nwb.rois(P.day1_asset), nwb.rois(P.day2_asset)
    image1, image2 = projection(P.day1_asset, day1), projection(P.day2_asset, day2)
    masks1, masks2 = day1.dense(), day2.dense()
    images = (image1, image2) if P.image_name is not None else (None, None)
    result = cellmatch.match(
        masks1, masks2, *images, model=P.model, max_angle=P.max_angle,
        max_distance=P.max_distance, min_iou=P.min_iou,
    )  # fmt: skip
    moved = result.transform.apply_to_image(image1, image2.shape)
    pairs = result.pairs
    lost = np.setdiff1d(np.arange(len(masks1)), pairs[:, 0])
    new = np.setdiff1d(np.arange(len(masks2)), pairs[:, 1])

    fig, axes = plt.subplots(2, 2, figsize=(6.4, 6.9), layout="constrained")
    (ax_before, ax_after), (ax_day1, ax_day2) = axes
    ax_before.imshow(two_colour(image1, image2))
    ax_before.set_title("as recorded: day 1 magenta, day 2 green", loc="left")
    if len(pairs) == 0:
        ax_after.text(0.5, 0.02, "no ROI pair matched", color="yellow", ha="center",
                      transform=ax_after.transAxes)  # fmt: skip
    ax_after.imshow(two_colour(moved, image2, image1))
    ax_after.set_title("registered: day 1 mapped onto day 2", loc="left")
    for ax, image, masks, own, lone, lone_colour, day in (
        (ax_day1, image1, masks1, pairs[:, 0], lost, LOST, "day 1"),
        (ax_day2, image2, masks2, pairs[:, 1], new, NEW, "day 2"),
    ):
        ax.imshow(scaled(image), cmap="gray")
        outline(ax, masks, own, MATCHED)
        outline(ax, masks, lone, lone_colour)
        ax.set_title(
            f"{day}: {len(own)} matched, {len(lone)} {'lost' if day == 'day 1' else 'new'}",
            loc="left",
        )
        centroids = overlap.footprint_matrix(masks)[2]
        examples = np.unique(np.linspace(0, len(pairs) - 1, min(5, len(pairs))).astype(int))
        for number, k in enumerate(examples, start=1):
            y, x = centroids[own[k]]
            ax.annotate(
                str(number), (x, y), xytext=(x + 9, y - 9), color="yellow", fontsize=8,
                fontweight="bold", arrowprops={"arrowstyle": "-", "color": "yellow", "lw": 0.6},
            )  # fmt: skip
    for ax in axes.flat:
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
    handles = [plt.Line2D([], [], color=c, lw=1.5) for c in (MATCHED, LOST, NEW)]
    fig.legend(
        handles, ["matched", "day 1 only (lost)", "day 2 only (new)"], loc="outside lower center",
        ncol=3,
    )  # fmt: skip
    if figureparams.simulated(P.day1_asset):
        plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
