"""Figure: four alignment pitfalls, each computed on the demo data.

A: dF/F windows cut from a 10 Hz nearest-neighbour grid that starts at the first frame
   (the OpenScope Databook's 2P notebooks) against windows measured from each event.
B: one trial sampled at 1 kHz by nearest-sample lookup and by linear interpolation.
C: spike times stored as float32 at a session time of ~5000 s: the PSTH in 1 ms bins
   combs, because float32 holds times there only to 0.49 ms.
D: spikes counted twice when bins are closed on both ends, by bin width, around the
   optogenetic pulses and the flashes.

Run alone: ``python figures_src/fig_align_pitfalls.py`` writes
``figures/fig_align_pitfalls.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, nwb, plots, tables

OUTPUTS = ["fig_align_pitfalls.png"]
INPUTS = ["demo-ecephys", "demo-ophys-day1", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ECEPHYS, OPHYS, TRUTH = INPUTS
OPHYS_STIMULUS, OPHYS_CONDITION = "grating_presentations", {"orientation": 90.0}
DFF_WINDOW, BASELINE, RESPONSE = (-1.0, 3.0), (-0.5, 0.0), (0.0, 2.0)
DATABOOK_HZ = 10.0  # the OpenScope Databook's `interp_hz`
CLOCK_OFFSET_S = 5000.0
BIN_WIDTHS_S = (0.001, 0.0005, 0.0001)


def databook_windows(t, values, onsets, window, hz):
    """What the OpenScope Databook's 2P notebooks do: nearest-neighbour samples on a grid
    ``t[0] + k / hz``, windows cut at index ``int((onset + window[0] - t[0]) * hz)``.
    Returns the windows and the true start time of each, minus the intended start."""
    grid = np.arange(t[0], t[-1], 1 / hz)
    right = np.clip(np.searchsorted(t, grid), 1, t.size - 1)
    nearest = np.where(grid - t[right - 1] <= t[right] - grid, right - 1, right)
    on_grid = values[nearest]
    start = ((onsets + window[0] - t[0]) * hz).astype(int)
    n = int((window[1] - window[0]) * hz)
    windows = on_grid[start[:, None] + np.arange(n)[None, :]]
    return windows, grid[start] - (onsets + window[0])


def half_rise(times: np.ndarray, trace: np.ndarray) -> float:
    """First time >= 0 at which ``trace`` crosses half its mean over the second half of
    the response window (linear between samples), as chapter 02 computes it."""
    plateau = trace[(times >= np.mean(RESPONSE)) & (times < RESPONSE[1])].mean()
    above = np.flatnonzero((times >= 0) & (trace >= plateau / 2))[0]
    t0, t1, y0, y1 = times[above - 1], times[above], trace[above - 1], trace[above]
    return float(t0 + (plateau / 2 - y0) * (t1 - t0) / (y1 - y0))


def panel_databook(ax, truth) -> None:
    dff = nwb.dff(OPHYS)
    cell = nwb.rois(OPHYS).table["cell_id"].reindex(dff.ids).to_numpy()
    responders = np.isin(cell, truth["ophys"]["responders"]["cell_ids"])
    values = dff.values[:, responders]
    onsets = tables.select(nwb.stimulus_table(OPHYS, OPHYS_STIMULUS), OPHYS_CONDITION)
    onsets = onsets["start_time"].to_numpy()
    rate = 100.0
    ours = align.event_windows(dff.t, values, onsets, DFF_WINDOW, rate)
    t_ours = align.window_times(DFF_WINDOW, rate)
    theirs, shift = databook_windows(dff.t, values, onsets, DFF_WINDOW, DATABOOK_HZ)
    t_theirs = DFF_WINDOW[0] + np.arange(theirs.shape[1]) / DATABOOK_HZ
    for label, t, w, color, style in (
        ("per event, linear", t_ours, ours, plots.COLORS["response"], "-"),
        ("Databook, 10 Hz grid", t_theirs, theirs, plots.COLORS["truth"], "-"),
    ):
        base = w[:, (t >= BASELINE[0]) & (t < BASELINE[1])].mean(axis=1, keepdims=True)
        trace = (w - base).mean(axis=(0, 2))
        ax.plot(t, trace, style, color=color, lw=1.2, drawstyle="default",
                label=f"{label}: half-rise at {half_rise(t, trace) * 1e3:.0f} ms")  # fmt: skip
    lo = truth["ophys"]["responders"]["window_after_onset_s"][0]
    ax.axvline(lo, color="0.4", ls="--", lw=1, label=f"planted onset {lo * 1e3:.0f} ms")
    ax.set_xlim(-0.2, 0.8)
    ax.set_xlabel("time from grating onset (s)")
    ax.set_ylabel("dF/F - baseline")
    ax.set_title(
        f"A  Databook windows start {-shift.mean() * 1e3:.2f} ms early ({onsets.size} trials)",
        loc="left",
    )
    ax.legend(loc="center right", fontsize=6.5)


def panel_nearest(ax, truth) -> None:
    dff = nwb.dff(OPHYS)
    cell = nwb.rois(OPHYS).table["cell_id"].reindex(dff.ids).to_numpy()
    roi = int(np.flatnonzero(np.isin(cell, truth["ophys"]["responders"]["cell_ids"]))[0])
    onsets = tables.select(nwb.stimulus_table(OPHYS, OPHYS_STIMULUS), OPHYS_CONDITION)
    onset = float(onsets["start_time"].iloc[0])
    window, rate = (-0.1, 0.4), 1000.0
    offsets = align.window_times(window, rate)
    linear = align.event_windows(dff.t, dff.values[:, roi], [onset], window, rate)[0]
    index = np.clip(np.searchsorted(dff.t, onset + offsets), 1, dff.t.size - 1)
    left_closer = onset + offsets - dff.t[index - 1] <= dff.t[index] - (onset + offsets)
    nearest = dff.values[np.where(left_closer, index - 1, index), roi]
    frames = (dff.t >= onset + window[0]) & (dff.t <= onset + window[1])
    ax.plot((dff.t[frames] - onset) * 1e3, dff.values[frames, roi], "o", color="k", ms=3.5,
            label="frames (30 Hz)", zorder=3)  # fmt: skip
    ax.plot(offsets * 1e3, nearest, color=plots.COLORS["truth"], lw=1, label="nearest sample")
    ax.plot(offsets * 1e3, linear, color=plots.COLORS["response"], lw=1, label="linear")
    lo = truth["ophys"]["responders"]["window_after_onset_s"][0]
    ax.axvline(lo * 1e3, color="0.4", ls="--", lw=1, label="planted onset")
    ax.set_xlabel("time from grating onset (ms)")
    ax.set_ylabel("dF/F")
    ax.set_title(f"B  one trial of ROI {dff.ids[roi]}, sampled at 1 kHz", loc="left")
    ax.legend(loc="upper left", fontsize=6.5)


def panel_float32(ax) -> None:
    spikes = list(nwb.units(ECEPHYS)["spike_times"])
    onsets = nwb.stimulus_table(ECEPHYS, "gabors_presentations")["start_time"].to_numpy()
    edges = -0.05 + 0.001 * np.arange(round(0.2 / 0.001) + 1)
    events = onsets + CLOCK_OFFSET_S
    for label, cast, color in (
        ("float64", np.float64, plots.COLORS["response"]),
        ("float32", np.float32, plots.COLORS["truth"]),
    ):
        shifted = [(s + CLOCK_OFFSET_S).astype(cast).astype(np.float64) for s in spikes]
        rate = align.psth(shifted, events, edges).rate.mean(axis=0)
        ax.step(edges[:-1] * 1e3, rate, where="post", color=color, lw=0.9,
                label=f"spike times stored as {label}")  # fmt: skip
    quantum = np.spacing(np.float32(CLOCK_OFFSET_S)) * 1e3
    ax.set_xlabel("time from Gabor onset (ms)")
    ax.set_ylabel("mean rate (spikes/s)")
    ax.set_title(
        f"C  clock at {CLOCK_OFFSET_S:.0f} s: float32 step {quantum:.3f} ms, 1 ms bins",
        loc="left",
    )
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper left", fontsize=6.5, ncols=2)


def twice_counted(spikes, events, width) -> tuple[int, int]:
    """(spikes counted with half-open bins, extra counts with closed bins) in [-50, 100) ms,
    with the edges computed as chapter 02 computes them."""
    edges = -0.05 + width * np.arange(round(0.15 / width) + 1)
    half_open = int(align.event_counts(spikes, events, edges).sum())
    pooled = np.sort(np.concatenate(spikes))
    bounds = events[:, None] + edges[None, :]
    closed = np.searchsorted(pooled, bounds[:, 1:], side="right") - np.searchsorted(
        pooled, bounds[:, :-1], side="left"
    )
    return half_open, int(closed.sum()) - half_open


def panel_edges(ax) -> None:
    spikes = list(nwb.units(ECEPHYS)["spike_times"])
    events = {
        "optogenetic pulses": nwb.optogenetic_pulses(ECEPHYS)["start_time"].to_numpy(),
        "flashes": nwb.stimulus_table(ECEPHYS, "flashes_presentations")["start_time"].to_numpy(),
    }
    x = np.arange(len(BIN_WIDTHS_S))
    for i, ((label, onsets), color) in enumerate(
        zip(events.items(), (plots.COLORS["tagged"], plots.COLORS["stimulus"]), strict=True)
    ):
        extra = [twice_counted(spikes, onsets, w) for w in BIN_WIDTHS_S]
        per_thousand = [1e3 * e / n for n, e in extra]
        bars = ax.bar(x + (i - 0.5) * 0.38, per_thousand, 0.38, color=color, label=label)
        ax.bar_label(bars, [str(e) for _, e in extra], fontsize=6.5, padding=1)
    ax.set_xticks(x, [f"{w * 1e3:g}" for w in BIN_WIDTHS_S])
    ax.set_xlabel("bin width (ms)")
    ax.set_ylabel("counted twice per 1000 spikes")
    ax.set_title("D  closed bins count edge spikes twice", loc="left")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.25)
    ax.legend(loc="upper left", fontsize=6.5)


def main() -> None:
    plots.figure_style()
    truth = json.loads(assets.local_file(assets.resolve(TRUTH)).read_text())
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), layout="constrained")
    panel_databook(axes[0, 0], truth)
    panel_nearest(axes[0, 1], truth)
    panel_float32(axes[1, 0])
    panel_edges(axes[1, 1])
    plots.watermark(fig, "SIMULATED DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
