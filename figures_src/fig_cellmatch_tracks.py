"""Figure: tracking cells through six planted sessions, checked against the truth.

Six simulated sessions of one tissue, each seen through its own planted affine transform
(rotation up to 11 deg, shifts up to 38 px, zoom 0.95-1.05, shear 0.02) on a 512 x 447
field, each segmenting 90 % of the cells in view plus 30 of its own. ``match_many``
registers them all to the middle session and merges pairwise matches into tracks.
Left: how many sessions each track spans, found (blue) against planted (vermillion
outline). Right: the registration error at every ROI centroid, i.e. the distance between
where the estimated and the planted transforms send it in the reference session (px).

Run alone: ``python figures_src/fig_cellmatch_tracks.py`` writes
``figures/fig_cellmatch_tracks.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import cellmatch, figureparams, overlap, plots
from databook.demo.ophys import planted_sessions

OUTPUTS = ["fig_cellmatch_tracks.png"]
INPUTS: list[str] = []
DEMO_ONLY = True  # planted sessions checked against their planted transforms

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 8's parameters of the same names (a test checks they agree); `databook run 08
# -p drift_seed N` passes its own.
PARAMETERS = {
    "drift": [
        {},
        {"angle_deg": 4.0, "shift_yx": (12.0, -8.0)},
        {"angle_deg": -6.0, "shift_yx": (-20.0, 15.0), "scale_yx": (1.03, 0.98)},
        {"angle_deg": 8.0, "shift_yx": (25.0, 30.0), "scale_yx": (0.96, 1.0), "shear": 0.02},
        {"angle_deg": -3.0, "shift_yx": (-35.0, -10.0), "scale_yx": (1.05, 1.02)},
        {"angle_deg": 11.0, "shift_yx": (5.0, -38.0), "scale_yx": (0.97, 0.95), "shear": -0.02},
    ],
    "drift_seed": 8,
}
P = figureparams.load(PARAMETERS, script=__file__)
DRIFT, SEED = P.drift, P.drift_seed


def main() -> None:
    plots.figure_style()
    planted = planted_sessions(DRIFT, seed=SEED)
    n = len(DRIFT)
    tracks = cellmatch.match_many(planted.masks, planted.images, fov_shape=planted.shape)
    found = np.bincount(tracks.n_sessions_seen, minlength=n + 1)[1:]
    _, per_cell = np.unique(np.concatenate(planted.cell_ids), return_counts=True)
    truth = np.bincount(per_cell, minlength=n + 1)[1:]
    errors = []
    for k in range(n):
        centroids = overlap.footprint_matrix(planted.masks[k], fov_shape=planted.shape)[2]
        estimated = tracks.transforms[k].apply_to_points(centroids)
        errors.append(np.hypot(*(estimated - planted.between(k, tracks.reference, centroids)).T))

    fig, (ax_len, ax_err) = plt.subplots(1, 2, figsize=(6.4, 2.9), layout="constrained")
    length = np.arange(1, n + 1)
    ax_len.bar(length, found, width=0.7, color=plots.COLORS["response"],
               label=f"found ({len(tracks)} tracks)")  # fmt: skip
    ax_len.bar(length, truth, width=0.7, fill=False, edgecolor=plots.COLORS["truth"], lw=1.5,
               label=f"planted ({truth.sum()} cells)")  # fmt: skip
    ax_len.set_xticks(length)
    ax_len.set_xlabel("sessions in which a cell is found")
    ax_len.set_ylabel("tracks (cells)")
    ax_len.set_title(f"track length, {n} sessions", loc="left")
    ax_len.legend(loc="upper center", fontsize=8)
    others = [k for k in range(n) if k != tracks.reference]
    ax_err.boxplot(
        [errors[k] for k in others], positions=range(len(others)), widths=0.5,
        flierprops={"markersize": 2}, medianprops={"color": plots.COLORS["truth"]},
    )  # fmt: skip
    ax_err.set_xticks(range(len(others)), [str(k + 1) for k in others])
    ax_err.set_xlabel(f"session (mapped to reference session {tracks.reference + 1})")
    ax_err.set_ylabel("error at ROI centroids (px)")
    worst = max(errors[k].max() for k in others)
    ax_err.set_title(f"registration error: max {worst:.2f} px", loc="left")
    ax_err.set_ylim(0, max(1.0, 1.1 * worst))
    plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
