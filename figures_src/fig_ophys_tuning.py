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

from databook import figureparams, nwb, plots, responses, tables, tuning

OUTPUTS = ["fig_ophys_tuning.png", "fig_ophys_tuning.pdf"]
INPUTS = ["demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
# Chapter 3's parameters of the same names; `databook run 03 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ophys-day1",
    "truth_asset": "demo-ground-truth",
    "table_name": "grating_presentations",
    "onset_column": "start_time",
    "direction_column": "orientation",
    "response_window": (0.0, 2.0),
    "baseline_window": (-0.5, 0.0),
    "rate": 30.0,
    "fdr": 0.05,
    "min_amplitude": 0.05,
}
P = figureparams.load(PARAMETERS, script=__file__)


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        traces = nwb.dff(f)
        table = nwb.stimulus_table(f, P.table_name)
        if P.truth_asset is not None:  # the demo: each ROI's planted cell
            cell_id = nwb.rois(f).table["cell_id"].to_numpy()
        else:
            n = traces.values.shape[1]
            cell_id = traces.ids if traces.ids is not None else np.arange(n)
    table = table[tables.onsets(table, P.onset_column).notna()]
    onsets = tables.onsets(table, P.onset_column).to_numpy()
    windows = dict(
        response_window=P.response_window, baseline_window=P.baseline_window, rate=P.rate
    )
    result = responses.cell_responses(
        traces.t, traces.values, onsets, fdr=P.fdr, min_amplitude=P.min_amplitude, **windows
    )
    per_trial = tuning.trial_responses(traces.t, traces.values, onsets, **windows)
    curves = tuning.tuning_curves(per_trial, table[P.direction_column].to_numpy(dtype=float))
    osi = tuning.orientation_selectivity(curves.mean, curves.conditions)
    dsi = tuning.direction_selectivity(curves.mean, curves.conditions)
    resp = result.responsive

    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.4), layout="constrained")
    ax_curve, ax_scatter, ax_osi, ax_dsi = axes.ravel()
    by_amp = np.flatnonzero(resp)[np.argsort(-result.amplitude[resp])]
    quiet = np.flatnonzero(~resp)
    examples = []  # as many of the three as the file has
    if by_amp.size:
        examples.append((by_amp[0], "responsive", plots.COLORS["response"], "-"))
    if by_amp.size > 1:
        examples.append((by_amp[len(by_amp) // 2], "responsive", plots.COLORS["tagged"], "-"))
    if np.isfinite(osi[quiet]).any():
        loudest = quiet[np.nanargmax(osi[quiet])]
        examples.append((loudest, "not responsive", plots.COLORS["truth"], "--"))
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
    demo_column = P.direction_column == PARAMETERS["direction_column"]
    ax_curve.set_xlabel(
        "grating direction (degrees)" if demo_column else f"{P.direction_column} (degrees)"
    )
    ax_curve.set_ylabel("response (dF/F)")
    ax_curve.set_title("(a) tuning curves, mean +/- SEM over trials", loc="left")
    ax_curve.legend(fontsize=8, loc="center left", bbox_to_anchor=(0.0, 0.12, 1.0, 0.3))

    for mask, label, color in ((resp, "responsive", plots.COLORS["response"]),
                               (~resp, "not responsive", plots.COLORS["truth"])):  # fmt: skip
        ax_scatter.scatter(
            result.amplitude[mask], osi[mask], s=12, color=color, label=f"{label} ({mask.sum()})"
        )
    ax_scatter.set_xlabel("response amplitude (dF/F)")
    ax_scatter.set_ylabel("OSI (vector)")
    ax_scatter.set_title("(b) OSI against response size", loc="left")
    ax_scatter.legend(fontsize=8)

    bins = np.linspace(0, 1, 21)
    for ax, index, name in ((ax_osi, osi, "OSI"), (ax_dsi, dsi, "DSI")):
        for mask, label, color in ((resp, "responsive", plots.COLORS["response"]),
                                   (~resp, "not responsive", plots.COLORS["truth"])):  # fmt: skip
            ax.hist(index[mask], bins=bins, color=color, alpha=0.6, label=label)
        ax.set_xlabel(f"{name} (vector)")
        ax.set_ylabel("cells")
        ax.legend(fontsize=8)
    ax_osi.set_title("(c) orientation selectivity", loc="left")
    ax_dsi.set_title("(d) direction selectivity", loc="left")
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
