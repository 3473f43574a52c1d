"""Figure: four alignment pitfalls, each computed on the demo data.

A: dF/F windows cut from a 10 Hz nearest-neighbour grid that starts at the first frame
   (the OpenScope Databook's 2P notebooks) against windows measured from each event.
B: one trial sampled at 1 kHz by nearest-sample lookup and by linear interpolation.
C: spike times stored as float32 at a session time of ~5000 s: the PSTH in 1 ms bins
   combs, because float32 holds times there only to 0.49 ms.
D: spikes counted twice when bins are closed on both ends, by bin width, around the
   optogenetic pulses and the flashes.

On a reader's file (``truth_asset`` None) C and D use that file's units, its
``rf_stimulus`` and ``stimulus`` onsets (and its optogenetic pulses if it has any); A and B
stay on ``ophys_asset``, with all ROIs (A) and the ROI with the largest mean response (B)
instead of the planted responders, and no planted onset.

Run alone: ``python figures_src/fig_align_pitfalls.py`` writes
``figures/fig_align_pitfalls.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, figureparams, nwb, plots, quality, tables

OUTPUTS = ["fig_align_pitfalls.png"]
INPUTS = ["demo-ecephys", "demo-ophys-day1", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 2's parameters of the same names; `databook run 02 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "ophys_asset": "demo-ophys-day1",
    "truth_asset": "demo-ground-truth",  # None for real data
    "stimulus": "flashes_presentations",
    "onset_column": "start_time",
    "rf_stimulus": "gabors_presentations",
    "ophys_stimulus": "grating_presentations",
    "ophys_condition": {"orientation": 90.0},  # degrees
    "dff_window": (-1.0, 3.0),  # s
    "baseline": (-0.5, 0.0),  # s
    "response": (0.0, 2.0),  # s
    "databook_hz": 10.0,  # the OpenScope Databook's `interp_hz`
    "clock_offset_s": 5000.0,  # s
}
P = figureparams.load(PARAMETERS, script=__file__)
ECEPHYS, OPHYS, TRUTH = P.asset, P.ophys_asset, P.truth_asset
OPHYS_STIMULUS, OPHYS_CONDITION = P.ophys_stimulus, P.ophys_condition
DFF_WINDOW, BASELINE, RESPONSE = P.dff_window, P.baseline, P.response
DATABOOK_HZ = P.databook_hz
CLOCK_OFFSET_S = P.clock_offset_s
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


def responders(dff, truth) -> np.ndarray:
    """The ROIs shown: the planted responders (demo), else every ROI."""
    if truth is None:
        return np.ones(dff.values.shape[1], bool)
    cell = nwb.rois(OPHYS).table["cell_id"].reindex(dff.ids).to_numpy()
    return np.isin(cell, truth["ophys"]["responders"]["cell_ids"])


def planted_onset(ax, truth, scale: float, label: str) -> None:
    if truth is not None:
        lo = truth["ophys"]["responders"]["window_after_onset_s"][0]
        ax.axvline(lo * scale, color="0.4", ls="--", lw=1, label=label.format(lo * 1e3))


def panel_databook(ax, truth) -> None:
    dff = nwb.dff(OPHYS)
    values = dff.values[:, responders(dff, truth)]
    onsets = tables.select(nwb.stimulus_table(OPHYS, OPHYS_STIMULUS), OPHYS_CONDITION)
    onsets = onsets["start_time"].to_numpy()
    rate = 100.0
    ours = align.event_windows(dff.t, values, onsets, DFF_WINDOW, rate)
    t_ours = align.window_times(DFF_WINDOW, rate)
    theirs, shift = databook_windows(dff.t, values, onsets, DFF_WINDOW, DATABOOK_HZ)
    t_theirs = DFF_WINDOW[0] + np.arange(theirs.shape[1]) / DATABOOK_HZ
    for label, t, w, color, style in (
        ("per event, linear", t_ours, ours, plots.COLORS["response"], "-"),
        ("OSD, 10 Hz grid", t_theirs, theirs, plots.COLORS["truth"], "-"),
    ):
        base = w[:, (t >= BASELINE[0]) & (t < BASELINE[1])].mean(axis=1, keepdims=True)
        trace = (w - base).mean(axis=(0, 2))
        ax.plot(t, trace, style, color=color, lw=1.2, drawstyle="default",
                label=f"{label}: half-rise at {half_rise(t, trace) * 1e3:.0f} ms")  # fmt: skip
    planted_onset(ax, truth, 1.0, "planted onset {:.0f} ms")
    ax.set_xlim(-0.2, 0.8)
    ax.set_xlabel("time from grating onset (s)")
    ax.set_ylabel("dF/F - baseline")
    ax.set_title(
        f"A  OSD windows start {-shift.mean() * 1e3:.2f} ms early ({onsets.size} trials)",
        loc="left",
    )
    ax.legend(loc="lower right", fontsize=8)


def panel_nearest(ax, truth) -> None:
    dff = nwb.dff(OPHYS)
    onsets = tables.select(nwb.stimulus_table(OPHYS, OPHYS_STIMULUS), OPHYS_CONDITION)
    if truth is not None:
        roi = int(np.flatnonzero(responders(dff, truth))[0])
    else:  # no planted answer: the ROI with the largest mean response
        w = align.event_windows(dff.t, dff.values, onsets["start_time"].to_numpy(), DFF_WINDOW,
                                30.0)  # fmt: skip
        t = align.window_times(DFF_WINDOW, 30.0)
        gain = w[:, (t >= RESPONSE[0]) & (t < RESPONSE[1])].mean((0, 1)) - w[
            :, (t >= BASELINE[0]) & (t < BASELINE[1])
        ].mean((0, 1))
        roi = int(np.nanargmax(gain))
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
    planted_onset(ax, truth, 1e3, "planted onset")
    ax.set_xlabel("time from grating onset (ms)")
    ax.set_ylabel("dF/F")
    ax.set_title(f"B  one trial of ROI {dff.ids[roi]}, sampled at 1 kHz", loc="left")
    ax.legend(loc="upper left", fontsize=8)


def panel_float32(ax) -> None:
    spikes = list(quality.drop_noise(nwb.units(ECEPHYS))["spike_times"])  # as chapter 2
    onsets = nwb.stimulus_table(ECEPHYS, P.rf_stimulus)["start_time"].dropna().to_numpy()
    edges = -0.05 + 0.001 * np.arange(round(0.2 / 0.001) + 1)
    events = onsets + CLOCK_OFFSET_S
    for label, cast, color in (
        ("float64", np.float64, plots.COLORS["response"]),
        ("float32", np.float32, plots.COLORS["truth"]),
    ):
        shifted = [(s + CLOCK_OFFSET_S).astype(cast).astype(np.float64) for s in spikes]
        rate = align.psth(shifted, events, edges).rate.mean(axis=0)
        ax.step(edges[:-1] * 1e3, rate, where="post", color=color, lw=0.9,
                label=f"stored as {label}")  # fmt: skip
    latest = max([CLOCK_OFFSET_S, *(s.max() + CLOCK_OFFSET_S for s in spikes if s.size)])
    quantum = np.spacing(np.float32(latest)) * 1e3  # the coarsest step among the times
    gabors = P.rf_stimulus == "gabors_presentations"
    ax.set_xlabel(f"time from {'Gabor' if gabors else P.rf_stimulus} onset (ms)")
    ax.set_ylabel("mean rate (spikes/s)")
    ax.set_title(
        f"C  clock at {CLOCK_OFFSET_S:.0f} s: float32 step {quantum:.3f} ms, 1 ms bins",
        loc="left",
    )
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper left", fontsize=8, ncols=2)


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
    spikes = list(quality.drop_noise(nwb.units(ECEPHYS))["spike_times"])  # as chapter 2
    table = nwb.stimulus_table(ECEPHYS, P.stimulus)
    onsets = tables.onsets(table, P.onset_column).dropna().to_numpy()
    events = {P.stimulus.replace("_presentations", ""): onsets}
    try:
        pulses = nwb.optogenetic_pulses(ECEPHYS)["start_time"].to_numpy()
        events = {"optogenetic pulses": pulses, **events}
    except nwb.NWBContentError:  # a reader's file without optogenetics: the onsets only
        pass
    x = np.arange(len(BIN_WIDTHS_S))
    for i, ((label, onsets), color) in enumerate(
        zip(
            events.items(),
            (plots.COLORS["tagged"], plots.COLORS["stimulus"])[-len(events) :],
            strict=True,
        )
    ):
        extra = [twice_counted(spikes, onsets, w) for w in BIN_WIDTHS_S]
        per_thousand = [1e3 * e / n if n else 0.0 for n, e in extra]
        bars = ax.bar(
            x + (i - (len(events) - 1) / 2) * 0.38, per_thousand, 0.38, color=color, label=label
        )
        ax.bar_label(bars, [str(e) for _, e in extra], fontsize=8, padding=1)
    ax.set_xticks(x, [f"{w * 1e3:g}" for w in BIN_WIDTHS_S])
    ax.set_xlabel("bin width (ms)")
    ax.set_ylabel("counted twice per 1000 spikes")
    ax.set_title("D  closed bins count edge spikes twice", loc="left")
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1] * 1.25))  # 0 at the bottom even with no bars
    ax.legend(loc="upper left", fontsize=8)


def main() -> None:
    plots.figure_style()
    truth = (
        None if TRUTH is None else json.loads(assets.local_file(assets.resolve(TRUTH)).read_text())
    )
    if OPHYS is not None:
        fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), layout="constrained")
        panel_databook(axes[0, 0], truth)
        panel_nearest(axes[0, 1], truth)
    else:  # a reader's ecephys file alone: A and B need a two-photon session, C and D only
        fig, row = plt.subplots(1, 2, figsize=(7.2, 2.9), layout="constrained")
        axes = np.array([[None, None], row], dtype=object)
    panel_float32(axes[1, 0])
    panel_edges(axes[1, 1])
    if figureparams.simulated(ECEPHYS) and figureparams.simulated(OPHYS):
        plots.watermark(fig, "SIMULATED DATA")
    elif figureparams.simulated(OPHYS):  # a reader's file (C, D) beside the demo 2P session
        plots.watermark(fig, "A, B: SIMULATED DEMO DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
