"""Figure: responses on trials with fast and slow running.

(a) Mean running speed in each trial's response window, and the split. (b) Each
responsive cell's mean response on fast against slow trials. (c) The largest responder's
trial-averaged dF/F on fast and slow trials, mean +/- SEM over trials.

Run alone: ``python figures_src/fig_ophys_running.py`` writes
``figures/fig_ophys_running.png`` (and ``.pdf``).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, nwb, plots, responses, tuning

OUTPUTS = ["fig_ophys_running.png", "fig_ophys_running.pdf"]
INPUTS = ["demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
ASSET, TABLE = INPUTS[0], "grating_presentations"
RESPONSE_WINDOW = (0.0, 2.0)  # s from onset; as in the chapter
BASELINE_WINDOW = (-0.5, 0.0)
RUNNING_THRESHOLD = None  # cm/s; None: the median trial speed
TRACE_WINDOW = (-0.9, 2.9)


def main() -> None:
    plots.figure_style()
    traces = nwb.dff(ASSET)
    onsets = nwb.stimulus_table(ASSET, TABLE)["start_time"].to_numpy()
    speed = nwb.running_speed(ASSET)
    windows = dict(response_window=RESPONSE_WINDOW, baseline_window=BASELINE_WINDOW)
    result = responses.cell_responses(traces.t, traces.values, onsets, **windows)
    per_trial = tuning.trial_responses(traces.t, traces.values, onsets, **windows)
    trial_speed = np.nanmean(
        align.event_windows(speed.t, speed.values, onsets, RESPONSE_WINDOW, rate=60.0), axis=1
    )
    threshold = np.median(trial_speed) if RUNNING_THRESHOLD is None else RUNNING_THRESHOLD
    fast = trial_speed > threshold
    resp = np.flatnonzero(result.responsive)
    fast_amp = np.nanmean(per_trial[fast][:, resp], axis=0)
    slow_amp = np.nanmean(per_trial[~fast][:, resp], axis=0)

    fig, (ax_speed, ax_amp, ax_trace) = plt.subplots(1, 3, figsize=(7.4, 2.8), layout="constrained")
    ax_speed.hist(trial_speed, bins=20, color=plots.COLORS["baseline"], edgecolor="white")
    ax_speed.axvline(threshold, color=plots.COLORS["stimulus"], lw=1.5)
    ax_speed.set_xlabel(f"mean running speed in trial ({speed.unit})")
    ax_speed.set_ylabel("trials")
    ax_speed.set_title(f"(a) {fast.sum()} fast / {(~fast).sum()} slow", loc="left")

    top = 1.05 * max(fast_amp.max(), slow_amp.max())
    ax_amp.plot([0, top], [0, top], color=plots.COLORS["baseline"], lw=0.8)
    ax_amp.scatter(slow_amp, fast_amp, s=12, color=plots.COLORS["response"])
    ax_amp.set_xlabel("response, slow trials (dF/F)")
    ax_amp.set_ylabel("response, fast trials (dF/F)")
    ax_amp.set_title(f"(b) {resp.size} responsive cells", loc="left")

    cell = resp[np.argmax(result.amplitude[resp])]
    times, cut = tuning.trial_windows(
        traces.t, traces.values[:, [cell]], onsets, window=TRACE_WINDOW,
        baseline_window=BASELINE_WINDOW,
    )  # fmt: skip
    for mask, label, color in ((fast, "fast", plots.COLORS["truth"]),
                               (~fast, "slow", plots.COLORS["response"])):  # fmt: skip
        mean = np.nanmean(cut[mask, :, 0], axis=0)
        sem = np.nanstd(cut[mask, :, 0], axis=0, ddof=1) / np.sqrt(mask.sum())
        ax_trace.fill_between(times, mean - sem, mean + sem, color=color, alpha=0.3, lw=0)
        ax_trace.plot(times, mean, color=color, lw=1, label=f"{label} ({mask.sum()} trials)")
    ax_trace.set_xlabel("time from grating onset (s)")
    ax_trace.set_ylabel("dF/F")
    ax_trace.set_title("(c) largest responder", loc="left")
    ax_trace.legend(fontsize=7, loc="center")
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
