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

from databook import assets, nwb, plots, responses, tuning

OUTPUTS = ["fig_ophys_responses.png", "fig_ophys_responses.pdf"]
INPUTS = ["demo-ophys-day1", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
ASSET, TABLE = INPUTS[0], "grating_presentations"
TRACE_WINDOW = (-0.9, 2.9)  # s from onset, shown
BASELINE_WINDOW = (-0.5, 0.0)  # s from onset; as in the chapter


def main() -> None:
    plots.figure_style()
    traces = nwb.dff(ASSET)
    table = nwb.stimulus_table(ASSET, TABLE)
    onsets = table["start_time"].to_numpy()
    duration = float(np.median(table["stop_time"] - table["start_time"]))
    result = responses.cell_responses(
        traces.t, traces.values, onsets, baseline_window=BASELINE_WINDOW
    )
    times, windows = tuning.trial_windows(
        traces.t, traces.values, onsets, window=TRACE_WINDOW, baseline_window=BASELINE_WINDOW
    )
    truth = json.loads(assets.local_file(assets.resolve(INPUTS[1])).read_text())["ophys"]
    cell_id = nwb.rois(ASSET).table["cell_id"].to_numpy()
    planted = np.isin(cell_id, truth["responders"]["cell_ids"])
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
        extent=(times[0], times[-1] + 1 / 30, mean.shape[0] - 0.5, -0.5),
        interpolation="nearest",
    )
    for x in (0.0, duration):
        ax_map.axvline(x, color="k", lw=0.8, ls="--" if x else "-")
    ax_map.set_xlabel("time from grating onset (s)")
    ax_map.set_ylabel(f"cell, sorted by response amplitude (n = {mean.shape[0]})")
    ax_map.set_title(f"trial-averaged dF/F ({len(onsets)} trials)", loc="left")
    bar = fig.colorbar(image, ax=ax_map, location="bottom", shrink=0.7, pad=0.02)
    bar.set_label("dF/F minus pre-stimulus baseline")
    flags = np.stack([result.responsive[order], planted[order]], axis=1).astype(float)
    ax_strip.imshow(flags, aspect="auto", cmap="Greys", vmin=0, vmax=1.3, interpolation="nearest")
    ax_strip.set_xticks([0, 1], ["called", "planted"], rotation=90, fontsize=7)
    ax_strip.tick_params(axis="y", labelleft=False, left=False)

    responsive = np.flatnonzero(result.responsive)
    examples = [
        ("largest", responsive[np.argmax(result.amplitude[responsive])]),
        ("smallest responsive", responsive[np.argmin(result.amplitude[responsive])]),
        ("not responsive", np.flatnonzero(~result.responsive)[0]),
    ]
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
        if row == 2:
            ax.set_xlabel("time from grating onset (s)")
        else:
            ax.tick_params(labelbottom=False)
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
