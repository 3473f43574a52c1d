"""Figure: rasters, PSTHs and spike densities of example units around full-field flashes.

Three units of the demo Neuropixels session: the strongest and the weakest flash
responder by step gain (both VISp), and a unit from another area. Top: each spike
relative to each flash (from ``align.event_counts`` in 1 ms bins, not a loop over
trials). Bottom: PSTH in 10 ms bins (mean +/- SEM over flashes) and the causal
exponential spike density (1 ms bins, time constant 10 ms) that the responsiveness
criterion uses.

Run alone: ``python figures_src/fig_ecephys_rasters.py``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, nwb, plots, unitsummary

OUTPUTS = ["fig_ecephys_rasters.png", "fig_ecephys_rasters.pdf"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ASSET, TABLE = "demo-ecephys", "flashes_presentations"
WINDOW = (-0.25, 0.35)  # s around onset
RASTER_BIN, PSTH_BIN, SMOOTH_TAU = 0.001, 0.01, 0.01  # s


def main() -> None:
    plots.figure_style()
    units = nwb.units(ASSET)
    onsets = nwb.stimulus_table(ASSET, TABLE)["start_time"].to_numpy()
    table = unitsummary.response_table(units, onsets)
    responders = table[table["responsive"]].sort_values("gain")
    other = table[~table["responsive"] & (table["area"] != "VISp")]
    examples = [responders.index[-1], responders.index[0], other.index[0]]

    spikes = [units.loc[u, "spike_times"] for u in examples]
    raster_edges = np.arange(WINDOW[0], WINDOW[1] + RASTER_BIN / 2, RASTER_BIN)
    counts = align.event_counts(spikes, onsets, raster_edges)  # units x flashes x 1 ms bins
    coarse = align.psth(spikes, onsets, np.arange(WINDOW[0], WINDOW[1] + 1e-9, PSTH_BIN))
    # The density starts 5 time constants early so every plotted bin sees its whole kernel.
    warm = np.arange(WINDOW[0] - 5 * SMOOTH_TAU, WINDOW[1] + RASTER_BIN / 2, RASTER_BIN)
    fine = align.psth(spikes, onsets, warm, smooth_tau=SMOOTH_TAU)
    shown = fine.centers >= WINDOW[0]

    fig, axes = plt.subplots(
        2, 3, figsize=(7.2, 4.4), sharex=True, height_ratios=[1, 1], layout="constrained"
    )
    for k, unit in enumerate(examples):
        ax_r, ax_p = axes[0, k], axes[1, k]
        trial, bin_ = np.nonzero(counts[k])
        ax_r.plot(raster_edges[bin_] * 1e3, trial, "|", color="k", ms=2.5, mew=0.6)
        row = table.loc[unit]
        verdict = "responsive" if row["responsive"] else "not responsive"
        ax_r.set_title(f"unit {unit} ({row['area']}): {verdict}", loc="left")
        ax_r.set_ylim(-1, onsets.size)
        t = coarse.centers * 1e3
        ax_p.fill_between(
            t,
            coarse.rate[k] - coarse.sem[k],
            coarse.rate[k] + coarse.sem[k],
            step="mid",
            color=plots.COLORS["baseline"],
            alpha=0.4,
            lw=0,
        )
        ax_p.step(t, coarse.rate[k], where="mid", color="0.3", lw=0.8, label="PSTH, 10 ms bins")
        ax_p.plot(
            fine.centers[shown] * 1e3,
            fine.rate[k, shown],
            color=plots.COLORS["response"],
            lw=1.2,
            label=f"causal density, tau = {SMOOTH_TAU * 1e3:g} ms",
        )
        ax_p.set_xlabel("time from flash onset (ms)")
        for ax in (ax_r, ax_p):
            ax.axvspan(0, 250, color=plots.COLORS["stimulus"], alpha=0.12, lw=0)
    axes[0, 0].set_ylabel(f"flash (n = {onsets.size})")
    axes[1, 0].set_ylabel("rate (spikes/s)")
    axes[1, 0].legend(loc="upper left", fontsize=7)
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
