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

from databook import align, figureparams, nwb, plots, quality, tables, unitsummary

OUTPUTS = ["fig_ecephys_rasters.png", "fig_ecephys_rasters.pdf"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 4's parameters of the same names; `databook run 04 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "stimulus_name": "flashes_presentations",
    "onset_column": "start_time",
    "response_window": (0.0, 0.25),  # s after onset
    "baseline_window": (-0.5, 0.0),  # s before onset
    "smooth_tau": 0.01,  # s
    "q": 0.05,  # false-discovery rate over the units (BH)
}
P = figureparams.load(PARAMETERS, script=__file__)
WINDOW = (-0.25, max(0.35, P.response_window[1] + 0.1))  # s around onset
RASTER_BIN, PSTH_BIN, SMOOTH_TAU = 0.001, 0.01, P.smooth_tau  # s


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        units = quality.drop_noise(nwb.units(f))  # as chapter 4: noise first
        stimuli = nwb.stimulus_table(f, P.stimulus_name)
    onsets = tables.onsets(stimuli, P.onset_column).dropna().to_numpy()
    table = unitsummary.response_table(
        units,
        onsets,
        response_window=P.response_window,
        baseline_window=P.baseline_window,
        smooth_tau=P.smooth_tau,
        q=P.q,
    )
    # The strongest and the weakest excited unit, then the busiest non-responder (preferably
    # from another area), then suppressed units: three distinct units whatever the file
    # holds (a one-unit session may hold only a suppressed one).
    responders = table[table["direction"] > 0].sort_values("gain")  # excited
    suppressed = table[table["direction"] < 0].sort_values("gain")
    others = table[~table["responsive"]].copy()
    others["_other_area"] = others["area"] != table.loc[responders.index, "area"].mode().get(0)
    others = others.sort_values(["_other_area", "n_spikes"], ascending=False)
    picks = [*responders.index[-1:], *responders.index[:1], *others.index, *suppressed.index]
    examples = list(dict.fromkeys(picks))[:3]
    if not examples:
        raise SystemExit(f"{P.asset}: no units to show")

    spikes = [units.loc[u, "spike_times"] for u in examples]
    raster_edges = np.arange(WINDOW[0], WINDOW[1] + RASTER_BIN / 2, RASTER_BIN)
    counts = align.event_counts(spikes, onsets, raster_edges)  # units x flashes x 1 ms bins
    coarse = align.psth(spikes, onsets, np.arange(WINDOW[0], WINDOW[1] + 1e-9, PSTH_BIN))
    # The density starts 5 time constants early so every plotted bin sees its whole kernel.
    warm = np.arange(WINDOW[0] - 5 * SMOOTH_TAU, WINDOW[1] + RASTER_BIN / 2, RASTER_BIN)
    fine = align.psth(spikes, onsets, warm, smooth_tau=SMOOTH_TAU)
    shown = fine.centers >= WINDOW[0]

    fig, axes = plt.subplots(
        2,
        len(examples),
        figsize=(7.2, 4.4),
        sharex=True,
        height_ratios=[1, 1],
        layout="constrained",
        squeeze=False,
    )
    for k, unit in enumerate(examples):
        ax_r, ax_p = axes[0, k], axes[1, k]
        trial, bin_ = np.nonzero(counts[k])
        ax_r.plot(raster_edges[bin_] * 1e3, trial, "|", color="k", ms=2.5, mew=0.6)
        row = table.loc[unit]
        verdict = {1: "responsive, excited", -1: "responsive, suppressed"}.get(
            int(row["direction"]), "not responsive"
        )
        ax_r.set_title(f"unit {unit}, {row['area']}\n{verdict}", loc="left", fontsize=8)
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
        ax_p.set_xlabel("time from stimulus onset (ms)")
        for ax in (ax_r, ax_p):
            ax.axvspan(
                *np.multiply(P.response_window, 1e3),
                color=plots.COLORS["stimulus"],
                alpha=0.12,
                lw=0,
            )
    axes[0, 0].set_ylabel(f"trial (n = {onsets.size})")
    axes[1, 0].set_ylabel("rate (spikes/s)")
    axes[1, 0].legend(loc="upper left", fontsize=8)
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
