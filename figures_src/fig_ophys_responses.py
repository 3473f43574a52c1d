"""Figure: trial-averaged dF/F of every cell around the grating onsets, and example cells.

Left: heat map of the trial-averaged, baseline-subtracted dF/F of all cells (rows,
sorted by response amplitude) against time from onset, with strips marking the cells
called responsive and the planted responders. Right: three example cells, mean +/- SEM
over trials.

Run alone: ``python figures_src/fig_ophys_responses.py`` writes
``figures/fig_ophys_responses.png`` (and ``.pdf``).
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import assets, figureparams, nwb, plots, responses, tables, tuning

OUTPUTS = ["fig_ophys_responses.png", "fig_ophys_responses.pdf"]
INPUTS = ["demo-ophys-day1", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
# Chapter 3's parameters of the same names; `databook run 03 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ophys-day1",
    "truth_asset": "demo-ground-truth",
    "table_name": "grating_presentations",
    "onset_column": "start_time",
    "response_window": (0.0, 2.0),
    "baseline_window": (-0.5, 0.0),
    "trace_window": (-0.9, 2.9),
    "rate": 30.0,
    "fdr": 0.05,
    "min_amplitude": 0.05,
}
P = figureparams.load(PARAMETERS, script=__file__)
# The demo shows gratings; another file's table may hold any stimulus.
EVENT = "grating" if P.table_name == PARAMETERS["table_name"] else "stimulus"


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        traces = nwb.dff(f)
        table = nwb.stimulus_table(f, P.table_name)
        if P.truth_asset is not None:  # the demo: each ROI's planted cell
            cell_id = nwb.rois(f).table["cell_id"].to_numpy()
    table = table[tables.onsets(table, P.onset_column).notna()]
    onsets = tables.onsets(table, P.onset_column).to_numpy()
    duration = float(np.median(table["stop_time"] - onsets))  # s: onset to offset
    result = responses.cell_responses(
        traces.t, traces.values, onsets, response_window=P.response_window,
        baseline_window=P.baseline_window, rate=P.rate, fdr=P.fdr,
        min_amplitude=P.min_amplitude,
    )  # fmt: skip
    times, windows = tuning.trial_windows(
        traces.t, traces.values, onsets, window=P.trace_window,
        baseline_window=P.baseline_window, rate=P.rate,
    )  # fmt: skip
    strips = {"called": result.responsive}
    if P.truth_asset is not None:
        truth_file = assets.local_file(assets.resolve(P.truth_asset))
        truth = json.loads(truth_file.read_text())["ophys"]
        strips["planted"] = np.isin(cell_id, truth["responders"]["cell_ids"])
    else:
        n = traces.values.shape[1]
        cell_id = traces.ids if traces.ids is not None else np.arange(n)
    mean = np.nanmean(windows, axis=0).T  # cells x time
    sem = np.nanstd(windows, axis=0, ddof=1).T / np.sqrt(np.isfinite(windows).sum(axis=0).T)
    order = np.argsort(-result.amplitude, kind="stable")

    fig = plt.figure(figsize=(7.2, 4.4), layout="constrained")
    grid = fig.add_gridspec(3, 3, width_ratios=[1.5, 0.2, 1.2])
    ax_map = fig.add_subplot(grid[:, 0])
    ax_strip = fig.add_subplot(grid[:, 1], sharey=ax_map)
    limit = float(np.nanpercentile(np.abs(mean), 99))
    image = ax_map.imshow(
        mean[order],
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(times[0], times[-1] + 1 / P.rate, mean.shape[0] - 0.5, -0.5),
        interpolation="nearest",
    )
    for x in (0.0, duration):
        ax_map.axvline(x, color="k", lw=0.8, ls="--" if x else "-")
    ax_map.set_xlabel(f"time from {EVENT} onset (s)")
    ax_map.set_ylabel(f"cell, sorted by response amplitude (n = {mean.shape[0]})")
    ax_map.set_title(f"trial-averaged dF/F ({len(onsets)} trials)", loc="left")
    bar = fig.colorbar(image, ax=ax_map, location="bottom", shrink=0.7, pad=0.02)
    bar.set_label("dF/F minus pre-stimulus baseline")
    flags = np.stack([s[order] for s in strips.values()], axis=1).astype(float)
    ax_strip.imshow(flags, aspect="auto", cmap="Greys", vmin=0, vmax=1.3, interpolation="nearest")
    ax_strip.set_xticks(range(len(strips)), list(strips), rotation=90, fontsize=8)
    ax_strip.tick_params(axis="y", labelleft=False, left=False)

    responsive = np.flatnonzero(result.responsive)
    quiet = np.flatnonzero(~result.responsive)
    examples = []  # as many of the three as the file has
    if responsive.size:
        examples.append(("largest", responsive[np.argmax(result.amplitude[responsive])]))
    if responsive.size > 1:
        smallest = responsive[np.argmin(result.amplitude[responsive])]
        examples.append(("smallest responsive", smallest))
    if quiet.size:
        examples.append(("not responsive", quiet[0]))
    for row, (label, cell) in enumerate(examples):
        ax = fig.add_subplot(grid[row, 2])
        ax.axvspan(0, duration, color=plots.COLORS["stimulus"], alpha=0.15, lw=0)
        ax.fill_between(
            times,
            mean[cell] - sem[cell],
            mean[cell] + sem[cell],
            color=plots.COLORS["response"],
            alpha=0.3,
            lw=0,
        )
        ax.plot(times, mean[cell], color=plots.COLORS["response"], lw=1.2)
        ax.axhline(0, color=plots.COLORS["baseline"], lw=0.8)
        ax.set_title(
            f"cell {cell_id[cell]}: {label} (q = {result.q_value[cell]:.1g})",
            loc="left",
            fontsize=8,
        )
        ax.set_ylabel("dF/F")
        if row == len(examples) - 1:
            ax.set_xlabel(f"time from {EVENT} onset (s)")
        else:
            ax.tick_params(labelbottom=False)
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
