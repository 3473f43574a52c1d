"""Figure (real data): cells across five imaging sessions of CellReg's sample data.

The CellReg sample (zivlab/CellReg ``SampleData/``, Sheintuch et al. 2017): soft spatial
footprints of five two-photon sessions of one mouse, pinned in ``assets.lock`` at the
CellReg commit with their sha256. Sessions 2-5 are registered to session 1 (rotations
and shifts, as CellReg's own run) by ``cellmatch.match_many`` and every ROI is tracked.
Top left: for each ROI of sessions 2-5, the centroid distance to the nearest ROI of
session 1 after registration (px), split into ROIs matched to a session-1 ROI and the
rest, with the second-nearest distance (a different cell, by construction) outlined;
dashed: ``max_distance``, dotted: the largest distance CellReg's own run modelled.
Top right: footprint overlap (IoU) of every neighbouring pair
(centroids within ``neighbour_radius``), matched pairs and the others; dashed:
``min_iou``. Bottom left: distance against IoU of the same pairs, the accepted box
shaded. Bottom right: how many sessions each track spans, and the number of distinct
cells next to CellReg's own count on the same files.

Runs only in the real-data build (``make article DATA=dandi``) from the verified copies
in the data cache; writes a JSON of every number the chapter quotes.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial import cKDTree

from databook import assets, cellmatch, figureparams, overlap, plots
from databook.matfiles import read_footprints

DATA = "dandi"
OUTPUTS = ["fig_cellmatch_real.png", "fig_cellmatch_real.pdf", "fig_cellmatch_real.json"]
INPUTS = [
    "cellreg-sample-01",
    "cellreg-sample-02",
    "cellreg-sample-03",
    "cellreg-sample-04",
    "cellreg-sample-05",
]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "cellreg_model": "rigid",  # CellReg's own run used translations and rotations
    "reference": 0,  # session 1, CellReg's reference
    "max_distance": 8.0,  # px: chapter 8's threshold
    "min_iou": 0.3,  # chapter 8's threshold
    "neighbour_radius": 20.0,  # px: pairs shown in the overlap distribution
    # CellReg's own run on these files, as its log records it (zivlab/CellReg at the
    # pinned commit, SampleData/SampleResults/logFile_20210330_124444.txt): FOV 766.1 x
    # 603.95 µm on 326 x 257 px, pairs modelled up to 14 µm apart, 787 cells.
    "cellreg_fov_x": (766.1, 326),  # field width: µm, px
    "cellreg_max_distance_um": 14.0,  # CellReg's "model maximal distance"
    "cellreg_distinct_cells": 787,  # CellReg's "final number of cells"
}
P = figureparams.load(PARAMETERS, script=__file__)
PIXEL_UM = P.cellreg_fov_x[0] / P.cellreg_fov_x[1]  # µm per pixel
MATCHED, OTHER = plots.COLORS["response"], plots.COLORS["baseline"]


def _pairs(footprints, tracks, k: int) -> dict:
    """Session ``k`` against the reference: nearest/second-nearest centroid distances
    (px, after registration) of every session-k ROI, the neighbour pairs with IoU, and
    which pairs matching accepted."""
    ref = P.reference
    (masks_k, shape_k), (masks_r, shape_r) = footprints[k], footprints[ref]
    transform = tracks.transforms[k]
    matched = cellmatch.match(
        masks_k, masks_r, transform=transform, max_distance=P.max_distance,
        min_iou=P.min_iou, fov_shape=[shape_k, shape_r], on_low_quality="ignore",
    )  # fmt: skip
    near = overlap.neighbour_pairs(
        masks_k, masks_r, transform, radius=P.neighbour_radius, fov_shape=(shape_k, shape_r)
    )
    cen_k = transform.apply_to_points(overlap.footprint_matrix(masks_k, fov_shape=shape_k)[2])
    cen_r = overlap.footprint_matrix(masks_r, fov_shape=shape_r)[2]
    distance, _ = cKDTree(cen_r).query(cen_k, k=2)
    has_partner = np.zeros(len(cen_k), dtype=bool)
    has_partner[matched.pairs[:, 0]] = True
    return {
        "nearest": distance[:, 0],
        "second": distance[:, 1],
        "has_partner": has_partner,
        "near": near,
        "accepted": near.label(matched.pairs),
        "pairs": matched.pairs,
    }


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    footprints = [read_footprints(assets.local_file(lock[key])) for key in INPUTS]
    tracks = cellmatch.match_many(
        [m for m, _ in footprints], model=P.cellreg_model, fov_shape=[s for _, s in footprints],
        reference=P.reference, max_distance=P.max_distance, min_iou=P.min_iou,
    )  # fmt: skip
    others = [k for k in range(len(footprints)) if k != P.reference]
    per = {k: _pairs(footprints, tracks, k) for k in others}
    nearest = np.concatenate([per[k]["nearest"] for k in others])
    second = np.concatenate([per[k]["second"] for k in others])
    partner = np.concatenate([per[k]["has_partner"] for k in others])
    iou = np.concatenate([per[k]["near"].iou for k in others])
    distance = np.concatenate([per[k]["near"].distance for k in others])
    accepted = np.concatenate([per[k]["accepted"] for k in others])
    in_box = (distance <= P.max_distance) & (iou >= P.min_iou)
    n_sessions = len(footprints)
    seen = np.bincount(tracks.n_sessions_seen, minlength=n_sessions + 1)[1:]

    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), layout="constrained")
    ax_d, ax_iou, ax_xy, ax_len = axes.ravel()
    bins = np.arange(0, P.neighbour_radius + 0.5, 0.5)
    ax_d.hist(
        [nearest[partner], nearest[~partner]], bins=bins, stacked=True,
        color=[MATCHED, OTHER], label=["nearest, matched", "nearest, no partner"],
    )  # fmt: skip
    ax_d.hist(second, bins=bins, histtype="step", color="k", lw=0.8, label="second nearest")
    ax_d.axvline(P.max_distance, color="k", ls="--", lw=0.8)
    ax_d.axvline(P.cellreg_max_distance_um / PIXEL_UM, color="k", ls=":", lw=0.8)
    ax_d.set_xlabel("centroid distance to session 1 after registration (px)")
    ax_d.set_ylabel("ROIs of sessions 2-5")
    ax_d.legend(fontsize=8)
    secondary = ax_d.secondary_xaxis(
        "top", functions=(lambda px: px * PIXEL_UM, lambda um: um / PIXEL_UM)
    )
    secondary.set_xlabel("µm", fontsize=8)

    ibins = np.linspace(0, 1, 41)
    ax_iou.hist(
        [iou[accepted], iou[~accepted]], bins=ibins, stacked=True, color=[MATCHED, OTHER],
        label=["matched pairs", "other neighbours"],
    )  # fmt: skip
    ax_iou.axvline(P.min_iou, color="k", ls="--", lw=0.8)
    ax_iou.set_yscale("log")
    plots.plain_log_ticks(ax_iou.yaxis)
    ax_iou.set_xlabel("footprint overlap (IoU)")
    ax_iou.set_ylabel(f"pairs within {P.neighbour_radius:g} px")
    ax_iou.legend(fontsize=8)

    ax_xy.add_patch(
        plt.Rectangle((0, P.min_iou), P.max_distance, 1 - P.min_iou, color="0.92", lw=0)
    )
    ax_xy.scatter(distance[~accepted], iou[~accepted], s=2, color=OTHER, lw=0)
    ax_xy.scatter(distance[accepted], iou[accepted], s=2, color=MATCHED, lw=0)
    ax_xy.set_xlabel("centroid distance (px)")
    ax_xy.set_ylabel("IoU")
    ax_xy.set_xlim(0, P.neighbour_radius)
    ax_xy.set_ylim(0, 1)

    ax_len.bar(np.arange(1, n_sessions + 1), seen, color=MATCHED)
    ax_len.set_xlabel("sessions a track spans")
    ax_len.set_ylabel("tracks")
    ax_len.set_title(
        f"{len(tracks)} distinct cells (CellReg: {P.cellreg_distinct_cells})", loc="left"
    )
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    quality = [q for q in tracks.quality if q is not None]
    first = lock[INPUTS[0]]
    result = {
        "source": first.dandiset,
        "commit": first.version,
        "files": {key: {"path": lock[key].path, "sha256": lock[key].sha256} for key in INPUTS},
        "n_sessions": n_sessions,
        "rois": [int(m.shape[0]) for m, _ in footprints],
        "fov_px": [list(shape) for _, shape in footprints],
        "pixel_um": PIXEL_UM,
        "cellreg_max_distance_um": P.cellreg_max_distance_um,
        "cellreg_max_distance_px": P.cellreg_max_distance_um / PIXEL_UM,
        "model": P.cellreg_model,
        "max_distance_px": P.max_distance,
        "min_iou": P.min_iou,
        "neighbour_radius_px": P.neighbour_radius,
        "distinct_cells": len(tracks),
        "cellreg_distinct_cells": P.cellreg_distinct_cells,
        "in_all_sessions": int(seen[-1]),
        "in_one_session": int(seen[0]),
        "track_lengths": seen.tolist(),
        "transforms": {
            str(k + 1): {
                "angle_deg": tracks.transforms[k].angle,
                "dy_px": tracks.transforms[k].dy,
                "dx_px": tracks.transforms[k].dx,
                "matrix": tracks.transforms[k].matrix.tolist(),
                "offset": tracks.transforms[k].offset.tolist(),
            }
            for k in others
        },
        "correlation": [min(q.correlation for q in quality), max(q.correlation for q in quality)],
        "min_inliers": min(q.inlier_fraction for q in quality),
        "flagged": sum(not q.ok for q in quality),
        "pairs": {str(k + 1): per[k]["pairs"].tolist() for k in others},
        "n_rois_compared": int(nearest.size),
        "nearest_median_px": float(np.median(nearest)),
        "nearest_matched_median_px": float(np.median(nearest[partner])),
        "second_median_px": float(np.median(second)),
        "second_within_max_distance": float(np.mean(second <= P.max_distance)),
        "fraction_with_partner": float(partner.mean()),
        "n_neighbour_pairs": int(iou.size),
        "n_matched_pairs": int(accepted.sum()),
        "matched_iou_median": float(np.median(iou[accepted])),
        "matched_distance_max_px": float(distance[accepted].max()),
        "other_iou_max": float(iou[~accepted].max()),
        "in_box_not_matched": int((in_box & ~accepted).sum()),
        "other_iou_near_threshold": int(((iou >= 0.2) & (iou < 0.4) & ~accepted).sum()),
        "matched_iou_near_threshold": int(((iou >= 0.2) & (iou < 0.4) & accepted).sum()),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
