"""Figure: direction tuning of the demo cells and why selectivity needs a response.

(a) Tuning curves (mean +/- SEM over trials) of two responsive cells and of the
non-responsive cell with the largest OSI. (b) OSI against response amplitude. (c, d)
Distributions of the vector OSI and DSI for responsive and non-responsive cells.

Run alone: ``python figures_src/fig_ophys_tuning.py`` writes
``figures/fig_ophys_tuning.png`` (and ``.pdf``).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import nwb, plots, responses, tuning

OUTPUTS = ["fig_ophys_tuning.png", "fig_ophys_tuning.pdf"]
INPUTS = ["demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
ASSET, TABLE, DIRECTION = INPUTS[0], "grating_presentations", "orientation"
RESPONSE_WINDOW = (0.0, 2.0)  # s from onset; as in the chapter
BASELINE_WINDOW = (-0.5, 0.0)


def main() -> None:
    plots.figure_style()
    traces = nwb.dff(ASSET)
    table = nwb.stimulus_table(ASSET, TABLE)
    onsets = table["start_time"].to_numpy()
    windows = dict(response_window=RESPONSE_WINDOW, baseline_window=BASELINE_WINDOW)
    result = responses.cell_responses(traces.t, traces.values, onsets, **windows)
    per_trial = tuning.trial_responses(traces.t, traces.values, onsets, **windows)
    curves = tuning.tuning_curves(per_trial, table[DIRECTION].to_numpy())
    osi = tuning.orientation_selectivity(curves.mean, curves.conditions)
    dsi = tuning.direction_selectivity(curves.mean, curves.conditions)
    cell_id = nwb.rois(ASSET).table["cell_id"].to_numpy()
    resp = result.responsive

    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.4), layout="constrained")
    ax_curve, ax_scatter, ax_osi, ax_dsi = axes.ravel()
    by_amp = np.flatnonzero(resp)[np.argsort(-result.amplitude[resp])]
    quiet = np.flatnonzero(~resp)
    examples = [
        (by_amp[0], "responsive", plots.COLORS["response"], "-"),
        (by_amp[len(by_amp) // 2], "responsive", plots.COLORS["tagged"], "-"),
        (quiet[np.nanargmax(osi[quiet])], "not responsive", plots.COLORS["truth"], "--"),
    ]
    for cell, label, color, style in examples:
        ax_curve.errorbar(
            curves.conditions,
            curves.mean[cell],
            yerr=curves.sem[cell],
            color=color,
            ls=style,
            marker="o",
            ms=3,
            capsize=2,
            label=f"cell {cell_id[cell]} ({label}), OSI {osi[cell]:.2f}",
        )
    ax_curve.axhline(0, color=plots.COLORS["baseline"], lw=0.8)
    ax_curve.set_xticks(curves.conditions)
    ax_curve.set_xlabel("grating direction (degrees)")
    ax_curve.set_ylabel("response (dF/F)")
    ax_curve.set_title("(a) tuning curves, mean +/- SEM over trials", loc="left")
    ax_curve.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(0.0, 0.12, 1.0, 0.3))

    for mask, label, color in ((resp, "responsive", plots.COLORS["response"]),
                               (~resp, "not responsive", plots.COLORS["truth"])):  # fmt: skip
        ax_scatter.scatter(
            result.amplitude[mask], osi[mask], s=12, color=color, label=f"{label} ({mask.sum()})"
        )
    ax_scatter.set_xlabel("response amplitude (dF/F)")
    ax_scatter.set_ylabel("OSI (vector)")
    ax_scatter.set_title("(b) OSI against response size", loc="left")
    ax_scatter.legend(fontsize=7)

    bins = np.linspace(0, 1, 21)
    for ax, index, name in ((ax_osi, osi, "OSI"), (ax_dsi, dsi, "DSI")):
        for mask, label, color in ((resp, "responsive", plots.COLORS["response"]),
                                   (~resp, "not responsive", plots.COLORS["truth"])):  # fmt: skip
            ax.hist(index[mask], bins=bins, color=color, alpha=0.6, label=label)
        ax.set_xlabel(f"{name} (vector)")
        ax.set_ylabel("cells")
        ax.legend(fontsize=7)
    ax_osi.set_title("(c) orientation selectivity", loc="left")
    ax_dsi.set_title("(d) direction selectivity", loc="left")
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
