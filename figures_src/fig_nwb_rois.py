"""Figure: the first thing to look at in a two-photon file: ROI footprints over the mean image.

Reads the segmentation (``databook.nwb.rois``: sparse masks and the field-of-view shape)
and the summary images (``databook.nwb.images``), and outlines each ROI at half its peak
weight on the mean image and on the maximum projection.

Run alone: ``python figures_src/fig_nwb_rois.py`` writes ``figures/fig_nwb_rois.png`` (and
a PDF) and ``fig_nwb_rois.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import figureparams, nwb, plots

OUTPUTS = ["fig_nwb_rois.png", "fig_nwb_rois.pdf", "fig_nwb_rois.json"]
INPUTS = ["demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
MODE = os.environ.get("DATABOOK_DATA", "demo")
# Chapter 1's parameter of the same name: `databook run 01 -p ophys_asset FILE` (or None).
PARAMETERS = {"ophys_asset": "demo-ophys-day1"}  # no real two-photon asset is pinned yet
P = figureparams.load(PARAMETERS, script=__file__)
ASSET = P.ophys_asset
MEAN_IMAGES = ("average_image", "mean_image", "meanImg")  # names files give the mean image
MAX_IMAGES = ("max_projection", "max_image", "maxImg")
OUTLINE_LEVEL = 0.5  # outline at this fraction of each ROI's peak weight


def pick(images: dict[str, np.ndarray], names: tuple[str, ...]) -> tuple[str, np.ndarray]:
    for name in names:
        for key, image in images.items():
            if key.rsplit("/", 1)[-1] == name:
                return key, image
    raise KeyError(f"none of {names} among the file's images: {sorted(images)}")


def no_rois() -> None:
    """``ophys_asset`` None (the reader gave no two-photon file): a figure that says so."""
    fig, ax = plt.subplots(figsize=(7.2, 1.2), layout="constrained")
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No two-photon file given (ophys_asset is None): no ROIs to draw.",
            ha="center", va="center", fontsize=11, transform=ax.transAxes)  # fmt: skip
    for out in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / out)
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps({"asset": None, "n_rois": 0}) + "\n")


def main() -> None:
    plots.figure_style()
    if ASSET is None:
        no_rois()
        return
    with nwb.source(ASSET) as src:
        found = nwb.rois(src)
        images = nwb.images(src)
    masks = found.dense()  # (n_rois, *fov) as stored (NWB: [x, y])
    peaks = masks.reshape(len(masks), -1).max(axis=1)
    mean_name, mean = pick(images, MEAN_IMAGES)
    max_name, maximum = pick(images, MAX_IMAGES)
    if mean.shape != found.fov_shape:
        raise ValueError(f"mean image {mean.shape} and masks {found.fov_shape} differ in shape")

    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.9), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.93))  # a band on top for the watermark
    outline = plots.COLORS["stimulus"]
    panels = [("(a) mean image", mean), ("(b) maximum projection", maximum)]
    for ax, (title, image) in zip(axes, panels, strict=True):
        lo, hi = np.percentile(image, [1, 99.5])
        # stored as [x, y]: transpose so that x runs left to right and y top to bottom
        ax.imshow(image.T, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        for mask, peak in zip(masks, peaks, strict=True):
            ax.contour(mask.T, levels=[OUTLINE_LEVEL * peak], colors=[outline], linewidths=0.6)
        ax.set_title(title, loc="left")
        ax.set_xlabel("x (pixels)")
    axes[0].set_ylabel("y (pixels)")
    axes[1].plot([], [], color=outline, label=f"ROI outlines (n = {len(masks)})")
    axes[1].legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize=8)
    if figureparams.simulated(ASSET):
        plots.watermark(fig, "SIMULATED DATA", xy=(0.5, 0.97), rotation=0, fontsize=14, alpha=0.3)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    area = (masks > OUTLINE_LEVEL * peaks[:, None, None]).sum(axis=(1, 2))
    summary = {
        "asset": ASSET,
        "n_rois": len(masks),
        "fov_shape": list(found.fov_shape),
        "mask_column": found.mask_column,
        "images": {"mean": mean_name, "max": max_name},
        "median_roi_area_px": float(np.median(area)),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
