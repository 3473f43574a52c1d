"""Figure: event-aligned responses of both modalities to one selected condition, and the
recovery of the planted answer.

Top left: PSTH of the Neuropixels units around white flashes (``color == 1``), planted
flash responders against all other units. Top right: dF/F around 90-degree gratings,
planted responders against the other ROIs. Bottom: each flash responder's latency (the
start of the 100 ms window with most spikes, from 1 ms bins) against its planted latency;
each ROI's response (mean dF/F over the grating minus the 0.5 s before) against its planted
amplitude.

Run alone: ``python figures_src/fig_align_responses.py`` writes
``figures/fig_align_responses.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, nwb, plots, quality, stats, tables

# Compares with the demo's planted answers (latencies, responders, amplitudes) throughout.
DEMO_ONLY = True
OUTPUTS = ["fig_align_responses.png"]
INPUTS = ["demo-ecephys", "demo-ophys-day1", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ECEPHYS, OPHYS, TRUTH = INPUTS
STIMULUS, CONDITION = "flashes_presentations", {"color": 1.0}
OPHYS_STIMULUS, OPHYS_CONDITION = "grating_presentations", {"orientation": 90.0}
SPIKE_WINDOW, PSTH_BIN_S, BIN_S, SCAN_S = (-0.1, 0.3), 0.005, 0.001, 0.1
DFF_WINDOW, DFF_HZ, BASELINE, RESPONSE = (-1.0, 3.0), 30.0, (-0.5, 0.0), (0.0, 2.0)
Q = 0.05  # false-discovery rate over the ROIs (Benjamini-Hochberg), as chapter 2


def mean_sem(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SEM over the first axis."""
    return x.mean(0), x.std(0, ddof=1) / np.sqrt(x.shape[0])


def band(ax, t, x, color, label) -> None:
    mean, sem = mean_sem(x)
    ax.fill_between(t, mean - sem, mean + sem, color=color, alpha=0.3, lw=0)
    ax.plot(t, mean, color=color, lw=1.2, label=f"{label} (n={x.shape[0]})")


def main() -> None:
    plots.figure_style()
    truth = json.loads(assets.local_file(assets.resolve(TRUTH)).read_text())
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), layout="constrained")

    # Spikes: PSTH around the selected flashes.
    units = quality.drop_noise(nwb.units(ECEPHYS))  # as chapter 2: noise first
    spikes = list(units["spike_times"])
    onsets = tables.select(nwb.stimulus_table(ECEPHYS, STIMULUS), CONDITION)["start_time"]
    onsets = onsets.to_numpy()
    planted = [u for u in truth["ecephys"]["flash_responders"] if u["unit"] in units.index]
    responders = units.index.get_indexer([u["unit"] for u in planted])  # rows of `spikes`
    others = np.setdiff1d(np.arange(len(spikes)), responders)
    edges = np.arange(SPIKE_WINDOW[0], SPIKE_WINDOW[1] + PSTH_BIN_S / 2, PSTH_BIN_S)
    result = align.psth(spikes, onsets, edges)
    t_ms = result.centers * 1e3
    ax = axes[0, 0]
    band(ax, t_ms, result.rate[responders], plots.COLORS["response"], "planted responders")
    band(ax, t_ms, result.rate[others], plots.COLORS["baseline"], "other units")
    latencies = np.array([u["latency_s"] for u in planted])
    ax.plot(latencies * 1e3, np.full(latencies.size, -2.0), "|", color=plots.COLORS["truth"],
            ms=6, label="planted latencies")  # fmt: skip
    ax.axvline(0, color=plots.COLORS["stimulus"], lw=1)
    ax.set_xlabel("time from flash onset (ms)")
    ax.set_ylabel("rate (spikes/s)")
    ax.set_title(f"spikes: white flashes, {onsets.size} trials, 5 ms bins", loc="left")
    ax.set_ylim(top=1.5 * result.rate[responders].mean(0).max())
    ax.legend(loc="upper right", fontsize=8)

    # dF/F: windows around the selected gratings, baseline subtracted per trial and ROI.
    dff = nwb.dff(OPHYS)
    cell = nwb.rois(OPHYS).table["cell_id"].reindex(dff.ids).to_numpy()
    gratings = tables.select(nwb.stimulus_table(OPHYS, OPHYS_STIMULUS), OPHYS_CONDITION)
    g_onsets = gratings["start_time"].to_numpy()
    windows = align.event_windows(dff.t, dff.values, g_onsets, DFF_WINDOW, DFF_HZ)
    offsets = align.window_times(DFF_WINDOW, DFF_HZ)
    base = windows[:, (offsets >= BASELINE[0]) & (offsets < BASELINE[1])].mean(axis=1)
    relative = windows - base[:, None, :]  # (trials, samples, ROIs)
    amplitude = truth["ophys"]["responders"]["amplitude_dff"]
    planted_amp = np.array([amplitude.get(str(c), 0.0) for c in cell])
    is_responder = planted_amp > 0
    ax = axes[0, 1]
    trial_mean = relative.mean(axis=0).T  # (ROIs, samples)
    band(ax, offsets, trial_mean[is_responder], plots.COLORS["response"], "planted responders")
    band(ax, offsets, trial_mean[~is_responder], plots.COLORS["baseline"], "other ROIs")
    lo, hi = truth["ophys"]["responders"]["window_after_onset_s"]
    for x in (lo, hi):
        ax.axvline(x, color=plots.COLORS["truth"], ls="--", lw=1)
    ax.axvspan(*BASELINE, color="0.9", lw=0, zorder=0)
    ax.axvline(0, color=plots.COLORS["stimulus"], lw=1)
    ax.text(sum(BASELINE) / 2, 0.5, "baseline", fontsize=8, color="0.35", rotation=90,
            ha="center", va="center", transform=ax.get_xaxis_transform())  # fmt: skip
    ax.set_xlabel("time from grating onset (s)")
    ax.set_ylabel("dF/F - baseline")
    ax.set_title(f"dF/F: 90 deg gratings, {g_onsets.size} trials", loc="left")
    ax.set_ylim(top=1.45 * trial_mean[is_responder].mean(0).max())
    ax.legend(loc="upper right", fontsize=8, ncols=2)

    # Validation: latency of each planted flash responder (as chapter 02 computes it).
    fine = SPIKE_WINDOW[0] + BIN_S * np.arange(round(np.ptp(SPIKE_WINDOW) / BIN_S) + 1)
    counts = align.event_counts([spikes[u] for u in responders], onsets, fine).sum(axis=1)
    width = round(SCAN_S / BIN_S)
    cumulative = np.concatenate([np.zeros((counts.shape[0], 1), int), np.cumsum(counts, 1)], 1)
    sliding = cumulative[:, width:] - cumulative[:, :-width]  # spikes in [t, t + SCAN_S)
    starts = fine[: sliding.shape[1]]
    estimated = starts[np.argmax(np.where(starts >= -BIN_S / 2, sliding, -np.inf), axis=1)]
    error_ms = (estimated - latencies) * 1e3
    ax = axes[1, 0]
    ax.plot([25, 65], [25, 65], color="0.6", lw=1, label="identity")
    ax.plot(latencies * 1e3, estimated * 1e3, "o", ms=4, color=plots.COLORS["response"])
    ax.set_xlabel("planted latency (ms)")
    ax.set_ylabel("estimated latency (ms)")
    ax.set_title(
        f"latency of {responders.size} responders: median |error| "
        f"{np.median(np.abs(error_ms)):.1f} ms",
        loc="left",
    )
    ax.legend(loc="upper left", fontsize=8)

    # Validation: dF/F response of each ROI against its planted amplitude.
    in_response = (offsets >= RESPONSE[0]) & (offsets < RESPONSE[1])
    per_trial = relative[:, in_response].mean(axis=1)  # (trials, ROIs)
    measured = per_trial.mean(axis=0)
    # Chapter 2's test: two-sided Wilcoxon over trials, BH over the ROIs.
    detected = stats.paired_change(per_trial, np.zeros_like(per_trial), q=Q).significant
    coverage = (RESPONSE[1] - lo) / (RESPONSE[1] - RESPONSE[0])
    ax = axes[1, 1]
    xs = np.array([0.0, 1.05])
    ax.plot(xs, xs * coverage, color=plots.COLORS["truth"], ls="--", lw=1,
            label=f"expected: {coverage:.2f} x planted")  # fmt: skip
    ax.plot(planted_amp[detected], measured[detected], "o", ms=4,
            color=plots.COLORS["response"], label=f"detected ({detected.sum()})")  # fmt: skip
    missed = ~detected
    ax.plot(planted_amp[missed], measured[missed], "o", ms=4, mfc="none",
            color=plots.COLORS["baseline"], label=f"not detected ({missed.sum()})")  # fmt: skip
    ax.set_xlabel("planted amplitude (dF/F)")
    ax.set_ylabel("measured response (dF/F)")
    ax.set_title(f"dF/F response of {cell.size} ROIs", loc="left")
    ax.legend(loc="upper left", fontsize=8)
    plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
