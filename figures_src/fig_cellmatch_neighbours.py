"""Figure: why the matching thresholds sit where they do, and what registration buys.

Every pair of ROIs (one per demo day) whose centroids lie within 20 px of each other
once day 1 is mapped into day 2's frame. Top: footprint overlap (IoU) and centroid
distance of the pairs ``cellmatch.match`` accepted (blue) and of the other neighbours
(grey), with the thresholds (dashed). Bottom: distance against IoU for the same pairs
after registration (left) and without it (right; day 1 taken as is), the pairs of the
same planted cell in blue; the shaded box is what matching accepts.

Run alone: ``python figures_src/fig_cellmatch_neighbours.py`` writes
``figures/fig_cellmatch_neighbours.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import assets, cellmatch, nwb, overlap, plots

OUTPUTS = ["fig_cellmatch_neighbours.png"]
INPUTS = ["demo-ophys-day1", "demo-ophys-day2", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

IMAGE = "average_image"
RADIUS_PX = 20.0  # neighbours: centroids this close after the transform
MAX_DISTANCE_PX, MIN_IOU = 8.0, 0.3  # cellmatch.match defaults
MATCHED, OTHER = plots.COLORS["response"], plots.COLORS["baseline"]


def main() -> None:
    import json

    plots.figure_style()
    day1, day2 = nwb.rois(INPUTS[0]), nwb.rois(INPUTS[1])
    image1, image2 = nwb.images(INPUTS[0])[IMAGE], nwb.images(INPUTS[1])[IMAGE]
    truth = json.loads(assets.local_file(assets.resolve(INPUTS[2])).read_text())["ophys"]
    true_pairs = np.array(truth["matches_day1_day2"])
    result = cellmatch.match(
        day1.dense(), day2.dense(), image1, image2,
        max_distance=MAX_DISTANCE_PX, min_iou=MIN_IOU,
    )  # fmt: skip
    kw = {"radius": RADIUS_PX, "fov_shape": day1.fov_shape}
    registered = overlap.neighbour_pairs(day1.masks, day2.masks, result.transform, **kw)
    as_recorded = overlap.neighbour_pairs(day1.masks, day2.masks, None, **kw)
    matched = registered.label(result.pairs)

    fig, axes = plt.subplots(2, 2, figsize=(6.4, 5.6), layout="constrained")
    (ax_iou, ax_dist), (ax_reg, ax_raw) = axes
    n_m, n_o = matched.sum(), (~matched).sum()
    bins = np.linspace(0, 1, 21)
    ax_iou.hist(registered.iou[~matched], bins, color=OTHER, label=f"other neighbours (n={n_o})")
    ax_iou.hist(registered.iou[matched], bins, color=MATCHED, alpha=0.8, label=f"matched (n={n_m})")
    ax_iou.axvline(MIN_IOU, color="k", ls="--", lw=1)
    ax_iou.set_xlabel("footprint overlap (IoU)")
    ax_iou.set_ylabel("ROI pairs")
    ax_iou.set_title("after registration: overlap", loc="left")
    ax_iou.legend(loc="upper right", fontsize=7)
    bins = np.linspace(0, RADIUS_PX, 21)
    ax_dist.hist(registered.distance[~matched], bins, color=OTHER)
    ax_dist.hist(registered.distance[matched], bins, color=MATCHED, alpha=0.8)
    ax_dist.axvline(MAX_DISTANCE_PX, color="k", ls="--", lw=1)
    ax_dist.set_xlabel("centroid distance (px)")
    ax_dist.set_ylabel("ROI pairs")
    ax_dist.set_title("after registration: distance", loc="left")
    for ax, pairs, title in (
        (ax_reg, registered, "registered"),
        (ax_raw, as_recorded, "not registered"),
    ):
        same = pairs.label(true_pairs)
        accepted = (pairs.distance <= MAX_DISTANCE_PX) & (pairs.iou >= MIN_IOU)
        ax.fill_between([0, MAX_DISTANCE_PX], MIN_IOU, 1.0, color=MATCHED, alpha=0.08, lw=0)
        ax.scatter(pairs.distance[~same], pairs.iou[~same], s=7, color=OTHER,
                   label="different cells")  # fmt: skip
        ax.scatter(pairs.distance[same], pairs.iou[same], s=7, color=MATCHED,
                   label="same planted cell")  # fmt: skip
        ax.set_xlim(0, RADIUS_PX)
        ax.set_ylim(-0.03, 1.0)
        ax.set_xlabel("centroid distance (px)")
        ax.set_ylabel("IoU")
        ax.set_title(
            f"{title}: {(same & accepted).sum()}/{len(true_pairs)} same-cell pairs pass",
            loc="left",
        )  # fmt: skip
    ax_reg.legend(loc="upper right", fontsize=7)
    plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
