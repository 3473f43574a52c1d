"""Figure: which units are called tagged, by which criteria, and the pitfalls, on truth.

(a) Every unit of the demo session by SALT I and by how time-locked its evoked spikes are,
coloured by what was planted; filled markers: SALT q < 0.05 (BH). (b) Planted tagged units
found (of 15) and other units called tagged (of 105) by the full criteria, by SALT alone,
and by the OpenScope Databook's (OSD) ``ks_salt`` (run by ``databook.opto.osd_ks_salt``: a
two-sample KS test of first-spike latencies after onset against after onset - 10 ms, as in
OSD's docs/first-order/optotagging.ipynb at 093cd9f6) read with our threshold correctly and
backwards; OSD itself applies no threshold. (c) Simulated
late-excited units (response 20-40 ms) on 40 Hz trains: the response to one pulse fills
the next pulse's test window. (d) A light artefact on an untagged unit, with and without
the blanking window; the test window is the half-open [0, 10) ms, so the offset artefact
of a 10 ms pulse (10.0-10.3 ms) falls just outside it.

Run alone: ``python figures_src/fig_opto_validation.py`` writes
``figures/fig_opto_validation.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, nwb, opto, plots, quality, stats
from databook.demo.spiking import superposed_poisson

OUTPUTS = ["fig_opto_validation.png", "fig_opto_validation.pdf"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]
DEMO_ONLY = True  # compares with the planted answers: `databook run` skips it for other files

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

Q, MIN_LOCKED, KS_ALPHA = 0.05, 0.5, 0.01  # Q: SALT's BH false-discovery rate, as ch6
WINDOW, BASELINE = 0.01, 0.5  # s: tag_units' test window and baseline
N_PAIRS = round(BASELINE / WINDOW) * (round(BASELINE / WINDOW) - 1) // 2  # SALT's null size
NO_BLANKING = 0.0  # s: no blanking window at all


def calls_against_truth(spikes, onsets, table):
    """Panel (b)'s calls, ``{label: (n_units,) bool}``: tag_units, SALT alone, and OSD's
    ``ks_salt`` p-values (``opto.osd_ks_salt``) read with ``KS_ALPHA`` both ways round."""
    p_ks = opto.osd_ks_salt(spikes, onsets)
    return {
        "tag_units\n(all criteria)": table.tagged.to_numpy(),
        "SALT p alone": table.salt_q.to_numpy() < Q,  # BH over the units
        f"OSD ks_salt\np < {KS_ALPHA}": p_ks < KS_ALPHA,
        f"OSD ks_salt\np > {KS_ALPHA}\n(backwards)": p_ks > KS_ALPHA,
    }


def trains_example():
    """Late-excited units on 60 trains of ten 40 Hz pulses; pulses, spikes, table."""
    pulses = np.concatenate([1.0 + 2.0 * i + 0.025 * np.arange(10) for i in range(60)])
    spikes = superposed_poisson(pulses, 122.0, 20, baseline_hz=5.0, evoked_hz=30.0,
                                latency_s=0.02, duration_s=0.02, seed=3)  # fmt: skip
    table = opto.tag_units(spikes, pulses, 0.005, baseline_onsets="train", q=stats.FDR_Q)
    return pulses, spikes, table


def main() -> None:
    plots.figure_style()
    truth = json.loads(assets.local_file(assets.resolve("demo-ground-truth")).read_text())
    truth = truth["ecephys"]
    units = quality.drop_noise(nwb.units("demo-ecephys"))  # as chapter 6: noise first
    pulses = nwb.optogenetic_pulses("demo-ecephys")
    spikes = list(units.spike_times)
    onsets = pulses.start_time.to_numpy()
    duration = float((pulses.stop_time - pulses.start_time).median())
    table = opto.tag_units(spikes, onsets, duration, q=stats.FDR_Q)
    n = len(spikes)
    is_tag = np.isin(units.index, [t["unit"] for t in truth["tagged_units"]])  # rows: kept
    is_late = np.isin(units.index, [t["unit"] for t in truth["late_excited"]])

    fig, axes = plt.subplots(2, 2, figsize=(7.2, 6.2), layout="constrained")
    ax = axes[0, 0]
    sig = table.salt_q.to_numpy() < Q  # BH over the units
    for mask, label, color in ((~is_tag & ~is_late, "other", plots.COLORS["baseline"]),
                               (is_late, "late-excited (planted)", plots.COLORS["truth"]),
                               (is_tag, "tagged (planted)", plots.COLORS["tagged"])):  # fmt: skip
        for filled in (True, False):
            m = mask & (sig == filled)
            ax.scatter(table.salt_i[m], table.locked[m], s=14, color=color if filled else "none",
                       edgecolors=color)  # fmt: skip
        ax.scatter([], [], s=14, color=color, label=label)
    ax.axhline(MIN_LOCKED, color="k", lw=0.6, ls=":")
    ax.set_xlabel("SALT I (dimensionless)")
    ax.set_ylabel("fraction of evoked spikes locked\n(within 1 ms of modal latency)")
    ax.set_title(f"(a) {n} units; filled: SALT q < {Q}", loc="left")
    ax.legend(loc="lower right", fontsize=8)

    ax = axes[0, 1]
    calls = calls_against_truth(spikes, onsets, table)
    x = np.arange(len(calls))
    hits = [int((c & is_tag).sum()) for c in calls.values()]
    false = [int((c & ~is_tag).sum()) for c in calls.values()]
    ax.bar(x - 0.2, hits, 0.4, color=plots.COLORS["tagged"], label=f"hits (of {is_tag.sum()})")
    ax.bar(x + 0.2, false, 0.4, color=plots.COLORS["truth"],
           label=f"false positives (of {(~is_tag).sum()})")  # fmt: skip
    for xi, h, f in zip(x, hits, false, strict=True):
        ax.text(xi - 0.2, h + 1, str(h), ha="center", fontsize=8)
        ax.text(xi + 0.2, f + 1, str(f), ha="center", fontsize=8)
    ax.set_xticks(x, list(calls), fontsize=8)
    ax.set_ylabel("units called tagged")
    ax.set_title("(b) calls against the planted truth", loc="left")
    ax.legend(loc="upper left", fontsize=8)

    ax = axes[1, 0]
    train_pulses, train_spikes, train_table = trains_example()
    later = train_pulses[np.diff(train_pulses, prepend=-np.inf) < 0.1]
    edges = np.arange(-0.025, 0.05 + 1e-9, 0.001)
    rate = align.event_counts(train_spikes, later, edges).mean(axis=(0, 1)) / np.diff(edges)
    ax.axvspan(0, 10, color=plots.COLORS["tagged"], alpha=0.25, lw=0, label="test window")
    for k in (-25, 0, 25):
        ax.axvline(k, color=plots.COLORS["stimulus"], lw=1)
    ax.step(edges[:-1] * 1e3, rate, where="post", color=plots.COLORS["response"])
    ax.set_xlabel("time from pulses 2-10 of each train (ms)")
    ax.set_ylabel("rate (spikes/s), 1 ms bins")
    n_sig = int((train_table.salt_q < Q).sum())  # BH over the train units
    n_locked = int((train_table.locked >= MIN_LOCKED).sum())
    ax.set_title(f"(c) 40 Hz trains, {len(train_spikes)} late-excited units:\n"
                 f"SALT q < {Q}: {n_sig}; locked: {n_locked}; tagged: "
                 f"{int(train_table.tagged.sum())}", loc="left")  # fmt: skip
    ax.legend(loc="upper left", fontsize=8)

    ax = axes[1, 1]
    u = int(np.flatnonzero(~is_tag & ~is_late)[-1])
    rng = np.random.default_rng(1)
    hit = rng.random(onsets.size) < 0.9
    artefact = np.concatenate([onsets[hit], onsets[hit] + duration]) + rng.uniform(
        0, 3e-4, 2 * hit.sum()
    )
    dirty = np.sort(np.concatenate([spikes[u], artefact]))
    edges = np.arange(-0.005, 0.02 + 1e-9, 0.00025)
    rate = align.event_counts([dirty], onsets, edges)[0].mean(0) / np.diff(edges)
    ax.step(edges[:-1] * 1e3, rate, where="post", color=plots.COLORS["response"])
    ax.axvspan(0, 0.5, color="k", alpha=0.15, lw=0, label="blanked (0.5 ms)")
    ax.axvspan(duration * 1e3, duration * 1e3 + 0.5, color="k", alpha=0.15, lw=0)
    ax.axvspan(0, WINDOW * 1e3, ymax=0.03, color=plots.COLORS["tagged"], lw=0,
               label="test window [0, 10) ms")  # fmt: skip
    rows = [
        opto.tag_units([dirty], onsets, duration, artifact=a, q=stats.FDR_Q).iloc[0]
        for a in (NO_BLANKING, 0.0005)
    ]
    verdict = ["tagged" if r.tagged else "not tagged" for r in rows]
    ax.set_title(f"(d) unit {units.index[u]} + light artefact\nwithout blanking: "
                 f"{stats.format_p(rows[0].salt_p, N_PAIRS - 1)},\n"
                 f"latency {rows[0].latency * 1e3:.2f} ms, {verdict[0]}\n"
                 f"with blanking: p = {rows[1].salt_p:.2f}, {verdict[1]}",
                 loc="left", fontsize=8)  # fmt: skip
    ax.set_xlabel("time from light onset (ms)")
    ax.set_ylabel("rate (spikes/s), 0.25 ms bins")
    ax.legend(loc="upper right", fontsize=8)
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
