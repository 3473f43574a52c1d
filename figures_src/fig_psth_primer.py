"""Figure: from spike raster to PSTH, on simulated spikes with a known response.

Thirty model neurons fire at 5 spikes/s and at 40 spikes/s from 50 to 150 ms after each
of 60 stimulus onsets. Top: the raster of one neuron, trial by trial. Bottom: the
population PSTH (mean over trials, then neurons) with its SEM, and the planted rate.

Run alone: ``python figures_src/fig_psth_primer.py`` writes ``figures/fig_psth_primer.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, plots
from databook.demo.spiking import EvokedResponse, evoked_poisson

OUTPUTS = ["fig_psth_primer.png"]
INPUTS: list[str] = []

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

RESPONSE = EvokedResponse(baseline_hz=5.0, evoked_hz=40.0, latency_s=0.05, duration_s=0.1)
N_UNITS, N_EVENTS, PERIOD_S = 30, 60, 1.0
BIN_S = 0.01


def main() -> None:
    plots.figure_style()
    onsets = 0.5 + PERIOD_S * np.arange(N_EVENTS)
    spikes = evoked_poisson(RESPONSE, onsets, onsets[-1] + PERIOD_S, N_UNITS, seed=1)
    edges = np.arange(-0.2, 0.4 + BIN_S / 2, BIN_S)
    result = align.psth(spikes, onsets, edges)
    population = result.rate.mean(axis=0)
    population_sem = result.rate.std(axis=0, ddof=1) / np.sqrt(N_UNITS)

    fig, (ax_raster, ax_psth) = plt.subplots(
        2, 1, figsize=(4.5, 4.2), sharex=True, height_ratios=[1.1, 1], layout="constrained"
    )
    unit = spikes[0]
    first = np.searchsorted(unit, onsets + edges[0])
    last = np.searchsorted(unit, onsets + edges[-1])
    rel = np.concatenate([unit[a:b] - t for a, b, t in zip(first, last, onsets, strict=True)])
    trial = np.repeat(np.arange(N_EVENTS), last - first)
    ax_raster.plot(rel * 1e3, trial, "|", color="k", markersize=3)
    ax_raster.set_ylabel("trial")
    ax_raster.set_title("neuron 1: spikes around each stimulus onset", loc="left")

    t_ms = result.centers * 1e3
    ax_psth.fill_between(
        t_ms,
        population - population_sem,
        population + population_sem,
        step="mid",
        color=plots.COLORS["response"],
        alpha=0.3,
        lw=0,
    )
    ax_psth.step(t_ms, population, where="mid", color=plots.COLORS["response"], label="PSTH")
    planted = RESPONSE.rate(result.centers, np.zeros(1))
    ax_psth.step(
        t_ms, planted, where="mid", color=plots.COLORS["truth"], ls="--", label="planted rate"
    )
    ax_psth.set_xlabel("time from stimulus onset (ms)")
    ax_psth.set_ylabel("rate (spikes/s)")
    ax_psth.legend(loc="upper right")
    for ax in (ax_raster, ax_psth):
        ax.axvline(0, color=plots.COLORS["stimulus"], lw=1)
    plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
