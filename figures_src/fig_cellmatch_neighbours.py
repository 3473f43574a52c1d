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

from databook import assets, cellmatch, figureparams, nwb, overlap, plots

OUTPUTS = ["fig_cellmatch_neighbours.png"]
INPUTS = ["demo-ophys-day1", "demo-ophys-day2", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 8's parameters of the same names; `databook run 08 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "day1_asset": "demo-ophys-day1",
    "day2_asset": "demo-ophys-day2",
    "truth_asset": "demo-ground-truth",  # None for real data: pairs coloured by matching
    "image_name": "average_image",  # None: the summed footprints
    "model": "affine",
    "max_angle": 15.0,
    "max_distance": 8.0,  # px
    "min_iou": 0.3,
    "neighbour_radius": 20.0,  # px: neighbours are centroids this close after the transform
}
P = figureparams.load(PARAMETERS, script=__file__)
RADIUS_PX, MAX_DISTANCE_PX, MIN_IOU = P.neighbour_radius, P.max_distance, P.min_iou
MATCHED, OTHER = plots.COLORS["response"], plots.COLORS["baseline"]


def main() -> None:
    import json

    plots.figure_style()
    day1, day2 = nwb.rois(P.day1_asset), nwb.rois(P.day2_asset)
    images = (None, None)  # None: registered on the summed footprints
    if P.image_name is not None:
        images = (nwb.images(P.day1_asset)[P.image_name], nwb.images(P.day2_asset)[P.image_name])
    result = cellmatch.match(
        day1.dense(), day2.dense(), *images, model=P.model, max_angle=P.max_angle,
        max_distance=MAX_DISTANCE_PX, min_iou=MIN_IOU,
    )  # fmt: skip
    if P.truth_asset is not None:  # the demo: pairs of the same planted cell
        truth_file = assets.local_file(assets.resolve(P.truth_asset))
        true_pairs = np.array(json.loads(truth_file.read_text())["ophys"]["matches_day1_day2"])
        labels = ("same planted cell", "different cells", "same-cell pairs pass")
    else:  # another file: no truth; the pairs matching accepted after registration
        true_pairs = result.pairs.reshape(-1, 2)
        labels = ("matched after registration", "not matched", "matched pairs pass")
    same_label, other_label, verdict = labels
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
    ax_iou.legend(loc="upper right", fontsize=8)
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
                   label=other_label)  # fmt: skip
        ax.scatter(pairs.distance[same], pairs.iou[same], s=7, color=MATCHED,
                   label=same_label)  # fmt: skip
        ax.set_xlim(0, RADIUS_PX)
        ax.set_ylim(-0.03, 1.0)
        ax.set_xlabel("centroid distance (px)")
        ax.set_ylabel("IoU")
        ax.set_title(
            f"{title}:\n{(same & accepted).sum()}/{len(true_pairs)} {verdict}",
            loc="left",
        )  # fmt: skip
    ax_reg.legend(loc="upper right", fontsize=8)
    if figureparams.simulated(P.day1_asset):
        plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
