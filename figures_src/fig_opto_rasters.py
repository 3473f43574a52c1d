"""Figure: light-aligned rasters and the latency-distribution picture behind SALT.

Top: spikes of a planted tagged unit, an untagged unit and a "late-excited" unit around
each of the 200 light pulses of the demo session, with their PSTHs (1 ms bins). Bottom:
what SALT compares, for the tagged and the untagged unit: the distribution of first-spike
latencies in the 10 ms test window after light onset against the same distributions in
the fifty 10 ms windows of the 0.5 s before it. On a reader's file (no planted answers)
the examples are chosen from the tagging table: the tagged unit with the median SALT I (or
the unit with the largest I when none is tagged), the untagged unit with I nearest 0, and
the remaining (preferably untagged) unit with the largest test-window rate ratio.

Run alone: ``python figures_src/fig_opto_rasters.py`` writes ``figures/fig_opto_rasters.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, figureparams, nwb, opto, plots, quality, stats

OUTPUTS = ["fig_opto_rasters.png", "fig_opto_rasters.pdf", "fig_opto_rasters.json"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 6's parameters of the same names; `databook run 06 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "truth_asset": "demo-ground-truth",  # None for real data
    "dt": 0.0005,  # s
    "window": 0.01,  # s
    "baseline": 0.5,  # s
    "artifact": 0.0005,  # s
    "q": 0.05,  # SALT's false-discovery rate over the units (BH), as chapter 6
    "max_latency": 0.007,  # s
    "min_reliability": 0.1,
    "min_rate_ratio": 1.5,
    "min_locked": 0.5,
}
P = figureparams.load(PARAMETERS, script=__file__)
DT, WINDOW, BASELINE, ARTIFACT = P.dt, P.window, P.baseline, P.artifact


def first_spike_hist(spikes, onsets, start, n_windows):
    """Histogram over pulses of the first-spike bin (0: no spike) in each of ``n_windows``
    windows of WINDOW s starting ``start`` s from each onset: (n_windows, n_bins + 1)."""
    n_bins = round(WINDOW / DT)
    edges = start + DT * np.arange(n_windows * n_bins + 1)
    counts = align.event_counts([spikes], onsets, edges)[0]
    has = counts.reshape(onsets.size, n_windows, n_bins) > 0
    first = np.where(has.any(-1), has.argmax(-1) + 1, 0)
    return np.stack([np.bincount(f, minlength=n_bins + 1) for f in first.T]) / onsets.size


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        units = quality.drop_noise(nwb.units(f))  # as chapter 6: noise first
        pulses = nwb.optogenetic_pulses(f)
    spikes = list(units.spike_times)
    onsets = pulses.start_time.to_numpy()
    duration = float((pulses.stop_time - pulses.start_time).median())
    table = opto.tag_units(
        spikes, onsets, duration, dt=DT, window=WINDOW, baseline=BASELINE, artifact=ARTIFACT,
        q=P.q, max_latency=P.max_latency, min_reliability=P.min_reliability,
        min_rate_ratio=P.min_rate_ratio, min_locked=P.min_locked,
    )  # fmt: skip
    table.index = np.arange(len(spikes))  # positions, as the examples below index spikes
    table["unit_id"] = units.index.to_numpy()  # the file's id of each row (titles)
    examples = (
        planted_examples(table, P.truth_asset, units.index)
        if P.truth_asset
        else table_examples(table)
    )
    draw(spikes, onsets, duration, table, examples)


def table_examples(table):
    """Three distinct example units chosen from the tagging table alone (no planted answers)."""
    salt_i = table.salt_i.to_numpy()
    tagged = np.flatnonzero(table.tagged.to_numpy())
    examples = {}
    if tagged.size:
        examples["tagged"] = int(tagged[np.argsort(salt_i[tagged])[tagged.size // 2]])
    else:
        examples["largest SALT I"] = int(np.nanargmax(salt_i))
    rest = np.setdiff1d(np.flatnonzero(~table.tagged.to_numpy()), list(examples.values()))
    if rest.size:
        examples["untagged"] = int(rest[np.nanargmin(np.abs(salt_i[rest]))])
    others = np.setdiff1d(np.arange(len(table)), list(examples.values()))
    rest = np.intersect1d(others, np.flatnonzero(~table.tagged.to_numpy()))
    rest = rest if rest.size else others  # an untagged unit if there is one left
    if rest.size:
        ratio = np.nan_to_num(table.rate_ratio.to_numpy()[rest], nan=-np.inf)
        examples["excited"] = int(rest[np.argmax(ratio)])
    return examples


def planted_examples(table, truth_asset, ids):
    """The demo's examples: a planted tagged, a null and a late-excited unit (rows of
    ``table``; ``ids`` the unit id of each row: units labelled noise are gone)."""
    truth = json.loads(assets.local_file(assets.resolve(truth_asset)).read_text())
    truth = truth["ecephys"]
    row = {uid: k for k, uid in enumerate(ids)}
    tagged_ids = [row[t["unit"]] for t in truth["tagged_units"] if t["unit"] in row]
    late_ids = [row[t["unit"]] for t in truth["late_excited"] if t["unit"] in row]
    planted = {t["unit"] for t in truth["tagged_units"] + truth["late_excited"]}
    for kind in ("flash_responders", "rf_units"):
        planted |= {t["unit"] for t in truth[kind]}
    null_ids = [k for k, uid in enumerate(ids) if uid not in planted]
    middle = np.argsort(table.salt_i[tagged_ids].to_numpy())[len(tagged_ids) // 2]
    examples = {
        "tagged": tagged_ids[int(middle)],
        "untagged": null_ids[int(np.argmin(np.abs(table.salt_i[null_ids].to_numpy())))],
        "late-excited": late_ids[int(np.argmax(table.rate_ratio[late_ids].to_numpy()))],
    }  # fmt: skip
    return examples


def draw(spikes, onsets, duration, table, examples):
    """The rasters and PSTHs of the examples, and SALT's picture for the first two."""

    fig = plt.figure(figsize=(7.2, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=[1.3, 0.8, 1.1])
    edges = np.arange(-0.02, 0.05 + 1e-9, 0.002)
    for col, (label, u) in enumerate(examples.items()):
        ax = fig.add_subplot(grid[0, col])
        ax_psth = fig.add_subplot(grid[1, col], sharex=ax)
        counts = align.event_counts([spikes[u]], onsets, edges)[0]
        t = spikes[u]
        lo = np.searchsorted(t, onsets + edges[0])
        hi = np.searchsorted(t, onsets + edges[-1])
        rel = np.concatenate([t[a:b] - o for a, b, o in zip(lo, hi, onsets, strict=True)])
        trial = np.repeat(np.arange(onsets.size), hi - lo)
        for a in (ax, ax_psth):
            a.axvspan(0, duration * 1e3, color=plots.COLORS["stimulus"], alpha=0.25, lw=0)
            a.axvspan(0, WINDOW * 1e3, ymax=0.03, color=plots.COLORS["tagged"], lw=0)
        ax.plot(rel * 1e3, trial, "|", color="k", markersize=1.5, mew=0.6)
        row = table.loc[u]
        verdict = "tagged" if row.tagged else "not tagged"
        first = f"{label}, unit {row.unit_id}: {verdict}"
        n_windows = round(BASELINE / WINDOW)  # SALT's p counts n_windows (n_windows - 1) / 2 pairs
        p_text = stats.format_p(row.salt_p, n_windows * (n_windows - 1) // 2 - 1)
        ax.set_title(f"{first}\nSALT {p_text}, I = {row.salt_i:.2f}", loc="left",
                     fontsize=8)  # fmt: skip
        ax.set_ylim(-1, onsets.size)
        ax.tick_params(labelbottom=False)
        rate = counts.mean(0) / np.diff(edges)
        ax_psth.step(edges[:-1] * 1e3, rate, where="post", color=plots.COLORS["response"])
        ax_psth.set_xlabel("time from light onset (ms)")
        if col == 0:
            ax.set_ylabel(f"pulse (n = {onsets.size})")
            ax_psth.set_ylabel("rate (spikes/s)\n2 ms bins")

    n_windows = round(BASELINE / WINDOW)
    centers = (np.arange(round(WINDOW / DT)) + 0.5) * DT * 1e3
    for col, label in enumerate(list(examples)[:2]):
        u = examples[label]
        base = first_spike_hist(spikes[u], onsets, -BASELINE, n_windows)
        test = first_spike_hist(spikes[u], onsets, 0.0, 1)[0]
        ax = fig.add_subplot(grid[2, col])
        for h in base:
            ax.step(centers, h[1:], where="mid", color=plots.COLORS["baseline"], lw=0.5,
                    alpha=0.5)  # fmt: skip
        ax.step(centers, test[1:], where="mid", color=plots.COLORS["response"], lw=1.5,
                label="test window (0-10 ms)")  # fmt: skip
        ax.plot([], [], color=plots.COLORS["baseline"], lw=0.8,
                label=f"{n_windows} baseline windows")  # fmt: skip
        ax.set_xlabel("first-spike latency in window (ms)")
        ax.set_title(f"{label}: {test[0]:.0%} of test windows empty", loc="left", fontsize=8)
        if col == 0:
            ax.set_ylabel("fraction of pulses")
            handles, labels = ax.get_legend_handles_labels()
    ax = fig.add_subplot(grid[2, 2])
    ax.axis("off")
    # The legend of the latency panels goes beside them, clear of any latency peak.
    ax.legend(handles, labels, loc="lower left", fontsize=8)
    ax.text(0, 0.95, "SALT: distance between latency\ndistributions (sqrt of 2 x Jensen-\n"
            "Shannon divergence). Null: all pairs\nof baseline windows. p: fraction of\n"
            "null distances >= the test window's\nmedian distance to the baselines.\n"
            "I: that distance minus the median\nnull distance.", va="top", fontsize=8,
            transform=ax.transAxes)  # fmt: skip
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    (OUT_DIR / "fig_opto_rasters.json").write_text(
        json.dumps({k: int(v) for k, v in examples.items()}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
