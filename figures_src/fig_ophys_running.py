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

from databook import align, figureparams, nwb, plots, responses, tables, tuning

OUTPUTS = ["fig_ophys_running.png", "fig_ophys_running.pdf"]
INPUTS = ["demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
# Chapter 3's parameters of the same names; `databook run 03 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ophys-day1",
    "table_name": "grating_presentations",
    "onset_column": "start_time",
    "response_window": (0.0, 2.0),
    "baseline_window": (-0.5, 0.0),
    "trace_window": (-0.9, 2.9),
    "rate": 30.0,
    "fdr": 0.05,
    "min_amplitude": 0.05,
    "running_threshold": None,  # cm/s; None: the median trial speed
}
P = figureparams.load(PARAMETERS, script=__file__)
EVENT = "grating" if P.table_name == PARAMETERS["table_name"] else "stimulus"


def nothing_to_show(why: str) -> None:
    """A figure that says why there is no running split (the file lacks what it needs)."""
    fig, ax = plt.subplots(figsize=(7.2, 1.6), layout="constrained")
    ax.set_axis_off()
    ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True)
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        traces = nwb.dff(f)
        table = nwb.stimulus_table(f, P.table_name)
        try:
            speed = nwb.running_speed(f)
        except nwb.NWBContentError:
            return nothing_to_show(
                f"{Path(str(P.asset)).name} has no running speed series:\n"
                "no split of the responses by running"
            )
    onsets = tables.onsets(table, P.onset_column).dropna().to_numpy()
    windows = dict(
        response_window=P.response_window, baseline_window=P.baseline_window, rate=P.rate
    )
    result = responses.cell_responses(
        traces.t, traces.values, onsets, fdr=P.fdr, min_amplitude=P.min_amplitude, **windows
    )
    per_trial = tuning.trial_responses(traces.t, traces.values, onsets, **windows)
    trial_speed = np.nanmean(
        align.event_windows(speed.t, speed.values, onsets, P.response_window, rate=60.0), axis=1
    )
    threshold = np.nanmedian(trial_speed) if P.running_threshold is None else P.running_threshold
    fast = trial_speed > threshold
    resp = np.flatnonzero(result.responsive)
    if resp.size == 0 or fast.sum() < 2 or (~fast).sum() < 2:
        return nothing_to_show(
            f"{resp.size} responsive cells, {fast.sum()} fast / {(~fast).sum()} slow trials:\n"
            "too few to split the responses by running"
        )
    fast_amp = np.nanmean(per_trial[fast][:, resp], axis=0)
    slow_amp = np.nanmean(per_trial[~fast][:, resp], axis=0)

    fig, (ax_speed, ax_amp, ax_trace) = plt.subplots(1, 3, figsize=(7.2, 2.8), layout="constrained")
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
        traces.t, traces.values[:, [cell]], onsets, window=P.trace_window,
        baseline_window=P.baseline_window, rate=P.rate,
    )  # fmt: skip
    for mask, label, color in ((fast, "fast", plots.COLORS["truth"]),
                               (~fast, "slow", plots.COLORS["response"])):  # fmt: skip
        mean = np.nanmean(cut[mask, :, 0], axis=0)
        sem = np.nanstd(cut[mask, :, 0], axis=0, ddof=1) / np.sqrt(mask.sum())
        ax_trace.fill_between(times, mean - sem, mean + sem, color=color, alpha=0.3, lw=0)
        ax_trace.plot(times, mean, color=color, lw=1, label=f"{label} ({mask.sum()} trials)")
    ax_trace.set_xlabel(f"time from {EVENT} onset (s)")
    ax_trace.set_ylabel("dF/F")
    ax_trace.set_title("(c) largest responder", loc="left")
    ax_trace.legend(fontsize=8, loc="center")
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
