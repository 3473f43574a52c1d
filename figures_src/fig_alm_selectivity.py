"""Figure (real data): choice selectivity of ALM units, DANDI:000006 (Economo & Svoboda).

Mice told by a pole's position to lick right or left after a delay and a go cue.
Top: two units of the session with the most units, aligned to the go cue, correct
lick-right vs lick-left trials (PSTH in 50 ms bins, band: SEM over trials): the most
significant right-preferring and left-preferring unit of the delay epoch. Bottom left:
fraction of units selective in each epoch (two-sided Mann-Whitney per unit, BH over the
session's units), one dot per session, with a beta-binomial fit's mean and 95 % interval.
Bottom right: the delay-epoch selectivity index of every unit of every session.

Runs only in the real-data build (``make article DATA=dandi``) over every session of
000006 whose verified copy is in the data cache; writes a JSON summary of every number
the chapter quotes.
"""

import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, figureparams, nwb, plots, sessions, stats, taskepochs

DATA = "dandi"
OUTPUTS = ["fig_alm_selectivity.png", "fig_alm_selectivity.pdf", "fig_alm_selectivity.json"]
INPUTS: list[str] = []
OPTIONAL_INPUTS = ["alm-*"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "response_s": 1.0,  # s after the go cue: the response epoch
    "min_trials": 10,  # correct trials of each direction a session needs
    "bin_s": 0.05,  # PSTH bin
    "window_s": (-3.5, 1.5),  # PSTH window around the go cue
}
P = figureparams.load(PARAMETERS, script=__file__)
EPOCHS = ("sample", "delay", "response")
COLORS = {"right": "#D55E00", "left": "#0072B2"}


def _session(key: str) -> dict:
    """Units, correct trials and epoch selectivity of one session."""
    with warnings.catch_warnings():
        # Every 000006 file stores unsorted spike times; nwb.units sorts them and says so.
        warnings.simplefilter("ignore", nwb.SpikeTimesRepairedWarning)
        with nwb.source(key) as f:
            units, epochs, right = sessions.delayed_response_trials(f, response_s=P.response_s)
    spikes = list(units["spike_times"])
    return {
        "key": key,
        "spikes": spikes,
        "units": units,
        "epochs": epochs,
        "right": right,
        "table": taskepochs.epoch_selectivity(spikes, epochs, right),
    }


def _epoch(table, epoch: str):
    return table[table["epoch"] == epoch]


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    keys = sorted(k for k in assets.available_keys(lock) if k.startswith("alm-"))
    if not keys:
        raise SystemExit("no DANDI:000006 session in the data cache: run `databook fetch`")
    sessions, left_out = [], {}
    for key in keys:
        s = _session(key)
        n_right, n_left = int(s["right"].sum()), int((~s["right"]).sum())
        if min(n_right, n_left) < P.min_trials:
            left_out[key] = f"{n_right} correct lick-right and {n_left} lick-left trials"
            continue
        sessions.append(s)

    per_session = {
        epoch: np.array(
            [[_epoch(s["table"], epoch)["selective"].sum(), len(s["units"])] for s in sessions]
        )
        for epoch in EPOCHS
    }
    # Most sessions hold 1-4 units: a beta-binomial weighs each session by its units and
    # models how much sessions differ; the plain mean of session fractions is kept for
    # comparison.
    summary = {epoch: stats.session_fraction(*per_session[epoch].T) for epoch in EPOCHS}
    unweighted = {epoch: stats.between_sessions(*per_session[epoch].T) for epoch in EPOCHS}
    example = max(sessions, key=lambda s: len(s["units"]))

    fig = plt.figure(figsize=(7.2, 5.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    ax_units = top.subplots(1, 2, sharey=False)
    ax_frac, ax_index = bottom.subplots(1, 2, width_ratios=[1, 1.2])

    delay = _epoch(example["table"], "delay")
    chosen = {}
    for prefers, side in (("a", "right"), ("b", "left")):
        pool = delay[delay["selective"] & (delay["prefers"] == prefers)]
        if len(pool):
            chosen[side] = int(pool.sort_values("p_value")["unit"].iloc[0])
    edges = np.arange(P.window_s[0], P.window_s[1] + P.bin_s / 2, P.bin_s)
    cue = example["epochs"]["response"][0]
    sample_start = np.median(example["epochs"]["sample"][0] - cue)
    delay_start = np.median(example["epochs"]["delay"][0] - cue)
    for ax, (side, unit) in zip(ax_units, chosen.items(), strict=False):
        for direction, mask in (("right", example["right"]), ("left", ~example["right"])):
            psth = align.psth([example["spikes"][unit]], cue[mask], edges)
            t = psth.centers
            ax.fill_between(
                t,
                psth.rate[0] - psth.sem[0],
                psth.rate[0] + psth.sem[0],
                color=COLORS[direction],
                alpha=0.25,
                lw=0,
                step="mid",
            )
            ax.step(
                t,
                psth.rate[0],
                where="mid",
                color=COLORS[direction],
                label=f"lick {direction} ({mask.sum()})",
            )
        for x in (sample_start, delay_start, 0.0):
            ax.axvline(x, color="0.5", lw=0.8, ls="--")
        unit_id = example["units"].index[unit]
        ax.set_title(f"unit {unit_id}: prefers {side} in the delay", loc="left")
        ax.set_xlabel("time from go cue (s)")
        ax.legend(loc="upper left", fontsize=8)
    for ax in ax_units[len(chosen) :]:
        ax.set_axis_off()
    ax_units[0].set_ylabel("rate (spikes/s)")
    top.suptitle(
        f"{example['key']} ({len(example['units'])} units); dashed: sample, delay, cue",
        x=0.01,
        ha="left",
        fontsize=8,
    )

    rng = np.random.default_rng(0)
    for k, epoch in enumerate(EPOCHS):
        s = summary[epoch]
        fractions = unweighted[epoch].fractions
        x = k + rng.uniform(-0.15, 0.15, fractions.size)
        sizes = 4 + 0.6 * per_session[epoch][:, 1][per_session[epoch][:, 1] > 0]
        ax_frac.scatter(x, fractions, s=sizes, color="0.6", lw=0)
        ax_frac.errorbar(
            k + 0.3,
            s.mean,
            yerr=[[s.mean - s.low], [s.high - s.mean]],
            fmt="o",
            color="k",
            capsize=3,
            ms=4,
        )
    ax_frac.set_xticks(range(len(EPOCHS)), EPOCHS)
    ax_frac.set_ylim(-0.03, 1.03)
    ax_frac.set_ylabel("fraction of units selective")
    ax_frac.set_title(f"{len(sessions)} sessions (dot size: units); beta-binomial", loc="left")

    every = [_epoch(s["table"], "delay") for s in sessions]
    index = np.concatenate([d["index"].to_numpy() for d in every])
    selective = np.concatenate([d["selective"].to_numpy() for d in every])
    bins = np.linspace(-1, 1, 41)
    ax_index.hist(
        [index[selective], index[~selective & np.isfinite(index)]],
        bins=bins,
        stacked=True,
        color=["k", "0.75"],
        label=[f"selective (q < {stats.FDR_Q})", "not selective"],
    )
    ax_index.set_xlabel("delay selectivity (R - L) / (R + L)")
    ax_index.set_ylabel("units")
    ax_index.legend(loc="upper left", fontsize=8)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    mice = sorted({k.split("-")[1] for k in (s["key"] for s in sessions)})
    units_total = int(sum(len(s["units"]) for s in sessions))
    result = {
        "dandiset": "000006",
        "version": lock[keys[0]].version,
        "sessions": [s["key"] for s in sessions],
        "n_sessions": len(sessions),
        "n_mice": len(mice),
        "n_units": units_total,
        "n_correct_trials": int(sum(s["right"].size for s in sessions)),
        "left_out": left_out,
        "per_session": {
            s["key"]: {e: per_session[e][i].tolist() for e in EPOCHS}
            for i, s in enumerate(sessions)
        },
        "response_s": P.response_s,
        "fdr_q": stats.FDR_Q,
        "epochs": {
            epoch: {
                "mean": summary[epoch].mean,
                "low": summary[epoch].low,
                "high": summary[epoch].high,
                "rho": summary[epoch].rho,
                "unweighted_mean": unweighted[epoch].mean,
                "example_fraction": float(_epoch(example["table"], epoch)["selective"].mean()),
                "selective_units": int(per_session[epoch][:, 0].sum()),
                "pooled_fraction": float(per_session[epoch][:, 0].sum() / units_total),
            }
            for epoch in EPOCHS
        },
        "delay_prefers_right": int(
            sum(((d["prefers"] == "a") & d["selective"]).sum() for d in every)
        ),
        "delay_prefers_left": int(
            sum(((d["prefers"] == "b") & d["selective"]).sum() for d in every)
        ),
        "example": {
            "key": example["key"],
            "n_units": len(example["units"]),
            "n_right": int(example["right"].sum()),
            "n_left": int((~example["right"]).sum()),
            "units_shown": {side: int(example["units"].index[u]) for side, u in chosen.items()},
            "sorted_units": len(example["units"].attrs.get("sorted_units", [])),
        },
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
