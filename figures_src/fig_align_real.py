"""Figure (real data): aligning to a task's trial-relative events, DANDI:000006.

The session of DANDI:000006 (Economo & Svoboda, mouse ALM, delayed-response task) with
the most units. A: the whole session on its own clock, population rate with the trial
starts, the go cues put on the session clock (start_time + cue_start_time) and the same
column read as if it were session time. B: population PSTH around the go cue, aligned
correctly and wrongly. C: the trial events (seconds from each trial's start) with the
next trial's start, which stands in for the missing stop_time. D: spike-time steps backward in
the files of every held session (the files store spikes out of order). E, F: raster and
PSTH of the unit most selective in the delay epoch, correct lick-right vs lick-left
trials, aligned to the go cue.

Runs only in the real-data build (``make article DATA=dandi``); writes a JSON summary of
every number chapter 2 quotes. Real data: no watermark.
"""

import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, figureparams, nwb, plots, sessions, tables, taskepochs

DATA = "dandi"
OUTPUTS = ["fig_align_real.png", "fig_align_real.pdf", "fig_align_real.json"]
INPUTS = ["alm-anm372904-20170619"]  # 66 units, the most of any 000006 session
SESSION = INPUTS[0]
OPTIONAL_INPUTS = ["alm-*"]  # every held session: how common the file's quirks are

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "onset": "start_time + cue_start_time",  # the go cue on the session clock (s)
    "wrong_onset": "cue_start_time",  # the trial-relative column read as session time
    "response_s": 1.0,  # s after the go cue: the response epoch
    "bin_s": 0.05,  # PSTH bin
    "window_s": (-3.5, 1.5),  # PSTH window around the go cue
    "rate_bin_s": 10.0,  # bin of the whole-session rate (panel A)
}
P = figureparams.load(PARAMETERS, script=__file__)
COLORS = {"right": "#D55E00", "left": "#0072B2", "wrong": "#CC79A7", "right_align": "k"}


def _raw_spikes(src) -> tuple[np.ndarray, np.ndarray]:
    """The units' spike times exactly as the file stores them (flat, seconds) and the
    unit of each, read past :func:`databook.nwb.units`, which sorts them."""
    flat = src.h5["units/spike_times"][()].astype(np.float64)
    ends = src.h5["units/spike_times_index"][()].astype(np.int64)
    unit = np.repeat(np.arange(ends.size), np.diff(np.concatenate([[0], ends])))
    return flat, unit


def _disorder(flat: np.ndarray, unit: np.ndarray, n_units: int) -> dict:
    """Out-of-order neighbours within each unit: pairs (later spike stored first), per
    unit, and every backward step (seconds)."""
    step = np.diff(flat)
    same = unit[1:] == unit[:-1]
    back = same & (step < 0)
    pairs = np.bincount(unit[1:][back], minlength=n_units)
    # Duplicates: equal times within a unit once sorted (a stable sort keeps them all).
    order = np.lexsort((flat, unit))
    dup = (np.diff(flat[order]) == 0) & (np.diff(unit[order]) == 0)
    return {"pairs": pairs, "steps_s": -step[back], "duplicates": int(dup.sum())}


def _licks(src) -> dict[str, np.ndarray]:
    """Lick times (s, session clock) of each side, from the file's BehavioralEvents."""
    group = src.h5["acquisition/lick_times"]
    return {side: group[f"lick_{side}_times/timestamps"][()] for side in ("right", "left")}


def _first_licks(
    licks: dict[str, np.ndarray], cue: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from each go cue to the first lick after it (NaN if none), and whether
    that lick was on the trial's side: an independent check of the cue times."""
    times = np.concatenate([licks["right"], licks["left"]])
    is_right = np.concatenate(
        [np.ones(licks["right"].size, bool), np.zeros(licks["left"].size, bool)]
    )
    order = np.argsort(times, kind="stable")
    times, is_right = times[order], is_right[order]
    k = np.searchsorted(times, cue, side="left")
    ok = k < times.size
    latency = np.where(ok, times[np.minimum(k, times.size - 1)] - cue, np.nan)
    return latency, ok & (is_right[np.minimum(k, times.size - 1)] == right)


def _survey(key: str) -> dict:
    """The quirks of one session, from its raw datasets and its trials table."""
    with nwb.source(key) as src:
        flat, unit = _raw_spikes(src)
        trials = nwb.stimulus_table(src, "trials")
    n_units = int(unit.max()) + 1 if unit.size else 0
    d = _disorder(flat, unit, n_units)
    wrong = tables.onsets(trials, P.wrong_onset).to_numpy()
    lo, hi = wrong.min() + P.window_s[0], wrong.max() + P.window_s[1]
    return {
        "n_units": n_units,
        "n_spikes": int(flat.size),
        "n_trials": len(trials),
        "unsorted_units": int((d["pairs"] > 0).sum()),
        "out_of_order_pairs": int(d["pairs"].sum()),
        "largest_step_back_s": float(d["steps_s"].max()) if d["steps_s"].size else 0.0,
        "duplicates": d["duplicates"],
        "nan_stop_time": int(trials["stop_time"].isna().sum()),
        "first_trial_start_s": float(trials["start_time"].min()),
        "first_spike_s": float(flat.min()),
        "wrong_onsets_s": [float(wrong.min()), float(wrong.max())],
        "spikes_in_wrong_span": int(((flat >= lo) & (flat < hi)).sum()),
        "trial_relative": sorted(tables.trial_relative(trials)),
    }, d["steps_s"]


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    held = sorted(k for k in assets.available_keys(lock) if k.startswith("alm-"))
    surveys, steps = {}, {}
    for key in held:
        surveys[key], steps[key] = _survey(key)

    with nwb.source(SESSION) as src:
        trials = nwb.stimulus_table(src, "trials")
        flat, unit = _raw_spikes(src)
        n_units = src.h5["units/spike_times_index"].shape[0]
        raw = np.split(flat, np.searchsorted(unit, np.arange(1, n_units)))  # as stored
        licks = _licks(src)
        try:
            align.event_counts(raw, trials["start_time"].to_numpy(), [0.0, 1.0])
            refusal = None
        except ValueError as err:  # the analyses refuse unsorted input given directly
            refusal = str(err)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nwb.SpikeTimesRepairedWarning)
            units, epochs, right = sessions.delayed_response_trials(src, response_s=P.response_s)
    repaired = [str(w.message) for w in caught if w.category is nwb.SpikeTimesRepairedWarning]
    spikes = list(units["spike_times"])
    n_read = int(sum(s.size for s in spikes))
    # Sorting on read loses and adds nothing: the file's spikes, sorted within each unit.
    same_spikes = bool(np.array_equal(np.concatenate(spikes), flat[np.lexsort((flat, unit))]))

    # Go cues on the session clock and the same column read as session time.
    cue_all = tables.onsets(trials, P.onset).to_numpy()
    wrong_all = tables.onsets(trials, P.wrong_onset).to_numpy()
    edges = np.arange(P.window_s[0], P.window_s[1] + P.bin_s / 2, P.bin_s)
    good = align.psth(spikes, cue_all, edges)
    bad = align.psth(spikes, wrong_all, edges)
    good_counts = int(align.event_counts(spikes, cue_all, edges).sum())
    bad_counts = int(align.event_counts(spikes, wrong_all, edges).sum())

    # stop_time is NaN in every trial: a window [start_time, stop_time) counts nothing.
    start = trials["start_time"].to_numpy()
    stop_counts = align.interval_counts(spikes, start, trials["stop_time"].to_numpy())
    try:
        kind = trials["type"].astype(str).eq("lick right").to_numpy()
        taskepochs.epoch_selectivity(spikes, {"trial": (start, trials["stop_time"])}, kind)
        stop_refusal = None
    except taskepochs.TaskEpochError as err:
        stop_refusal = str(err)
    gaps = np.diff(start)  # s, each trial's start to the next's: the trial's real extent
    rel = {c: trials[c].to_numpy() for c in ("pole_in_time", "pole_out_time", "cue_start_time")}
    response_end = rel["cue_start_time"] + P.response_s  # s from the trial's start
    spill = int((response_end[:-1] > gaps).sum())
    cue_spill = int((rel["cue_start_time"][:-1] > gaps).sum())

    # The unit most selective in the delay epoch, correct trials only.
    latency, same_side = _first_licks(licks, epochs["response"][0], right)
    table = taskepochs.epoch_selectivity(spikes, epochs, right)
    delay = table[table["epoch"] == "delay"].sort_values("p_value")
    best = int(delay["unit"].iloc[0])
    cue = epochs["response"][0]
    counts = align.event_counts([spikes[best]], cue, edges)[0]  # (trials, bins)
    raster_edges = np.arange(P.window_s[0], P.window_s[1] + 5e-4, 1e-3)
    fine = align.event_counts([spikes[best]], cue, raster_edges)[0]

    fig = plt.figure(figsize=(7.2, 8.2), layout="constrained")
    axes = fig.subplot_mosaic([["A", "A"], ["B", "C"], ["D", "C"], ["E", "F"]],
                              height_ratios=[0.8, 1, 0.8, 1.3])  # fmt: skip
    ax = axes["A"]
    rate_edges = np.arange(0.0, flat.max() + P.rate_bin_s, P.rate_bin_s)
    pop = np.histogram(np.concatenate(spikes), rate_edges)[0] / P.rate_bin_s / len(spikes)
    ax.stairs(pop, rate_edges, color="0.5", label="mean rate")
    top = pop.max() * 1.05
    ax.vlines(start, top * 1.02, top * 1.10, color="0.65", lw=0.3, label="trial starts")
    ax.vlines(cue_all, top * 1.12, top * 1.20, color=COLORS["right_align"], lw=0.3,
              label="start_time + cue_start_time")  # fmt: skip
    ax.vlines(wrong_all, top * 1.12, top * 1.20, color=COLORS["wrong"], lw=0.6,
              label="cue_start_time as session time")  # fmt: skip
    ax.set_xlim(-20, rate_edges[-1])
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("spikes/s per unit")
    ax.legend(loc="lower center", fontsize=8, ncol=4)
    ax.set_title(f"A  {SESSION}: {len(spikes)} units, {len(trials)} trials", loc="left")

    ax = axes["B"]
    for psth, label, color in (
        (good, "start_time + cue_start_time", COLORS["right_align"]),
        (bad, "cue_start_time", COLORS["wrong"]),
    ):
        ax.step(psth.centers, psth.rate.mean(0), where="mid", color=color, label=label)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("time from go cue (s)")
    ax.set_ylabel("mean rate (spikes/s)")
    ax.legend(loc="center left", fontsize=8)
    ax.set_title(f"B  all {len(trials)} trials, {len(spikes)} units", loc="left")

    ax = axes["C"]
    idx = np.arange(len(trials))
    for name, color in (("pole_in_time", "0.6"), ("pole_out_time", "0.3"),
                        ("cue_start_time", COLORS["right_align"])):  # fmt: skip
        ax.plot(rel[name], idx, ".", ms=1.5, color=color, label=name)
    ax.plot(response_end, idx, ".", ms=1.5, color=COLORS["right"],
            label=f"cue + {P.response_s:g} s")  # fmt: skip
    ax.plot(gaps, idx[:-1], ".", ms=1.5, color=COLORS["left"], label="next start_time")
    ax.set_xlabel("seconds from the trial's start_time")
    ax.set_ylabel("trial")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8, markerscale=4)
    ax.set_title("C  events per trial; stop_time is NaN", loc="left")

    ax = axes["D"]
    every = np.concatenate(list(steps.values()))
    bins = np.logspace(np.log10(max(every.min(), 1e-6)), np.log10(every.max()), 30)
    ax.hist(every, bins=bins, color="0.4")
    ax.set_xscale("log")
    plots.plain_log_ticks(ax.xaxis)
    ax.set_xlabel("backward step between stored neighbours (s)")
    ax.set_ylabel("pairs")
    ax.set_title(f"D  unsorted spike times, {len(held)} sessions", loc="left")

    ax = axes["E"]
    order = np.concatenate([np.flatnonzero(right), np.flatnonzero(~right)])
    row, bin_ = np.nonzero(fine[order])  # 1 ms bins holding a spike
    side = np.where(right[order][row], COLORS["right"], COLORS["left"])
    ax.vlines(raster_edges[bin_], row, row + 0.9, colors=side, lw=0.4)
    sample0, delay0 = epochs["sample"][0] - cue, epochs["delay"][0] - cue
    ax.plot(sample0[order], np.arange(order.size) + 0.45, "|", ms=1.5, color="0.4")
    ax.plot(delay0[order], np.arange(order.size) + 0.45, "|", ms=1.5, color="0.1")
    ax.set_xlim(*P.window_s)
    ax.set_ylim(order.size, 0)
    ax.set_xlabel("time from go cue (s)")
    ax.set_ylabel("correct trial (right, then left)")
    unit_id = int(units.index[best])
    ax.set_title(f"E  unit {unit_id}", loc="left")

    ax = axes["F"]
    for direction, mask in (("right", right), ("left", ~right)):
        r = counts[mask] / P.bin_s
        mean, sem = r.mean(0), r.std(0, ddof=1) / np.sqrt(mask.sum())
        centers = 0.5 * (edges[1:] + edges[:-1])
        ax.fill_between(centers, mean - sem, mean + sem, color=COLORS[direction], alpha=0.25,
                        lw=0, step="mid")  # fmt: skip
        ax.step(centers, mean, where="mid", color=COLORS[direction],
                label=f"lick {direction} ({mask.sum()})")  # fmt: skip
    for x in (np.median(sample0), np.median(delay0), 0.0):
        ax.axvline(x, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("time from go cue (s)")
    ax.set_ylabel("rate (spikes/s)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"F  unit {unit_id}, correct trials", loc="left")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    s = surveys[SESSION]
    across = list(surveys.values())
    result = {
        "dandiset": "000006",
        "version": lock[SESSION].version,
        "session": SESSION,
        "path": lock[SESSION].path,
        "sha256": lock[SESSION].sha256,
        "n_units": len(spikes),
        "n_trials": len(trials),
        "n_right": int(right.sum()),
        "n_left": int((~right).sum()),
        "trial_relative": s["trial_relative"],
        "first_trial_start_s": s["first_trial_start_s"],
        "first_spike_s": s["first_spike_s"],
        "last_spike_s": float(flat.max()),
        "wrong_onsets_s": s["wrong_onsets_s"],
        "cue_s": [float(cue_all.min()), float(cue_all.max())],
        "counts_correct": good_counts,
        "counts_wrong": bad_counts,
        "peak_rate_hz": float(good.rate.mean(0).max()),
        "bin_s": P.bin_s,
        "window_s": list(P.window_s),
        "nan_stop_time": s["nan_stop_time"],
        "counts_to_stop_time": int(stop_counts.sum()),
        "stop_refusal": stop_refusal,
        "trial_gap_s": [float(gaps.min()), float(np.median(gaps)), float(gaps.max())],
        "latest_response_end_s": float(response_end.max()),
        "response_s": P.response_s,
        "response_past_next_start": spill,
        "cue_past_next_start": cue_spill,
        "sample_before_cue_s": [float(-sample0.max()), float(-sample0.min())],
        "delay_before_cue_s": [float(-delay0.max()), float(-delay0.min())],
        "lick_latency_s": [float(q) for q in np.percentile(latency, [5, 50, 95])],
        "lick_trials": int(np.isfinite(latency).sum()),
        "lick_same_side": int(same_side.sum()),
        "n_licks": {side: int(t.size) for side, t in licks.items()},
        "unsorted_units": s["unsorted_units"],
        "out_of_order_pairs": s["out_of_order_pairs"],
        "largest_step_back_s": s["largest_step_back_s"],
        "n_spikes_file": s["n_spikes"],
        "n_spikes_read": n_read,
        "duplicates": s["duplicates"],
        "same_spikes_after_sort": same_spikes,
        "sorted_units_reported": len(units.attrs.get("sorted_units", [])),
        "refusal": refusal,
        "repair_warnings": repaired,
        "example_unit": unit_id,
        "example_delay_p": float(delay["p_value"].iloc[0]),
        "example_delay_rates_hz": {
            "right": float(delay["rate_a_hz"].iloc[0]),
            "left": float(delay["rate_b_hz"].iloc[0]),
        },
        "held": {
            "n_sessions": len(held),
            "n_units": sum(v["n_units"] for v in across),
            "unsorted_units": sum(v["unsorted_units"] for v in across),
            "sessions_with_unsorted": sum(v["unsorted_units"] > 0 for v in across),
            "out_of_order_pairs": sum(v["out_of_order_pairs"] for v in across),
            "largest_step_back_s": max(v["largest_step_back_s"] for v in across),
            "duplicates": sum(v["duplicates"] for v in across),
            "sessions_all_nan_stop": sum(v["nan_stop_time"] == v["n_trials"] for v in across),
            "sessions_cue_relative": sum("cue_start_time" in v["trial_relative"] for v in across),
            "sessions_no_spike_in_wrong_span": sum(v["spikes_in_wrong_span"] == 0 for v in across),
            "earliest_first_trial_s": min(v["first_trial_start_s"] for v in across),
            "latest_wrong_onset_s": max(v["wrong_onsets_s"][1] for v in across),
            "per_session": surveys,
        },
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
