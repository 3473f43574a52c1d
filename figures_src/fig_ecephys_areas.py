"""Figure: flash-responsive units by area and depth, and the population PSTH of each area.

Left: fraction of quality-passing units called responsive per area (areas from the
electrodes table via each unit's peak channel), n units on each bar. Middle: onset
latency (step fit) of each responsive unit against the depth of its peak channel
(distance from the probe tip, so up is shallower). Right: population PSTH per area:
causal spike density (tau 10 ms) averaged over the area's quality-passing units, band =
SEM over units.

Run alone: ``python figures_src/fig_ecephys_areas.py``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, figureparams, nwb, plots, quality, tables, unitsummary

OUTPUTS = ["fig_ecephys_areas.png", "fig_ecephys_areas.pdf"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 4's parameters of the same names; `databook run 04 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "stimulus_name": "flashes_presentations",
    "onset_column": "start_time",
    "response_window": (0.0, 0.25),  # s after onset
    "baseline_window": (-0.5, 0.0),  # s before onset
    "smooth_tau": 0.01,  # s
    "q": 0.05,  # false-discovery rate over the units (BH)
    "quality_criteria": {  # Siegle et al. 2021: metric: (keep if op, value)
        "isi_violations": ("<", 0.5),
        "amplitude_cutoff": ("<", 0.1),
        "presence_ratio": (">", 0.9),
    },
}
P = figureparams.load(PARAMETERS, script=__file__)
SMOOTH_TAU, BIN = P.smooth_tau, 0.002  # s
WINDOW = (-0.2, max(0.35, P.response_window[1] + 0.1))  # s
# Okabe-Ito, one colour per area in alphabetical order.
AREA_COLORS = ["#009E73", "#CC79A7", "#56B4E9", "#0072B2", "#E69F00", "#000000"]


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        units = quality.drop_noise(nwb.units(f))  # as chapter 4: noise first
        stimuli = nwb.stimulus_table(f, P.stimulus_name)
    onsets = tables.onsets(stimuli, P.onset_column).dropna().to_numpy()
    criteria = {
        m: quality.Threshold(op, v) for m, (op, v) in P.quality_criteria.items() if m in units
    }
    table = unitsummary.response_table(
        units,
        onsets,
        response_window=P.response_window,
        baseline_window=P.baseline_window,
        smooth_tau=P.smooth_tau,
        q=P.q,
        criteria=criteria,
    )
    areas = unitsummary.by_area(table)
    # Okabe-Ito cycles when a file has more areas than colours.
    colors = {a: AREA_COLORS[k % len(AREA_COLORS)] for k, a in enumerate(areas.index)}

    fig, (ax_f, ax_d, ax_p) = plt.subplots(
        1, 3, figsize=(7.2, 2.8), width_ratios=[0.8, 1, 1.3], layout="constrained"
    )
    x = np.arange(len(areas))
    ax_f.bar(x, areas["fraction"], color=[colors[a] for a in areas.index])
    for k, (_, row) in enumerate(areas.iterrows()):
        ax_f.text(k, row["fraction"] + 0.02, f"{int(row['n_responsive'])}/{int(row['n_units'])}",
                  ha="center", fontsize=8)  # fmt: skip
    long_names = max(map(len, areas.index), default=0) > 5
    ax_f.set_xticks(x, areas.index, rotation=30 if long_names else 0,
                    ha="right" if long_names else "center")  # fmt: skip
    ax_f.set_ylim(0, 1)
    ax_f.set_ylabel("fraction responsive")
    ax_f.set_title("responsive units\nper area", loc="left")

    good = table[table["passes_quality"]]
    resp = good[good["direction"] > 0]  # excited: the units with a step latency
    for area, rows in resp.groupby("area"):
        ax_d.plot(rows["latency"] * 1e3, rows["depth_um"], "o", ms=3.5, color=colors[area])
    ax_d.set_xlabel("onset latency (ms)")
    ax_d.set_ylabel("peak-channel depth (µm from tip)")
    ax_d.set_title(f"latency vs depth\n({len(resp)} responsive)", loc="left")

    edges = np.arange(WINDOW[0] - 5 * SMOOTH_TAU, WINDOW[1] + BIN / 2, BIN)
    spikes = list(good["n_spikes"].index.map(units["spike_times"]))
    density = align.psth(spikes, onsets, edges, smooth_tau=SMOOTH_TAU)
    shown = density.centers >= WINDOW[0]
    t = density.centers[shown] * 1e3
    for area in areas.index:
        rows = density.rate[(good["area"] == area).to_numpy()][:, shown]
        if len(rows) == 0:
            continue
        mean = rows.mean(axis=0)
        sem = rows.std(axis=0, ddof=1) / np.sqrt(len(rows)) if len(rows) > 1 else 0 * mean
        ax_p.fill_between(t, mean - sem, mean + sem, color=colors[area], alpha=0.25, lw=0)
        ax_p.plot(t, mean, color=colors[area], lw=1.2, label=f"{area} (n = {len(rows)})")
    ax_p.axvspan(*np.multiply(P.response_window, 1e3), color=plots.COLORS["stimulus"],
                 alpha=0.12, lw=0)  # fmt: skip
    ax_p.set_xlabel("time from stimulus onset (ms)")
    ax_p.set_ylabel("mean rate (spikes/s)")
    ax_p.set_title("population PSTH per area", loc="left")
    ax_p.set_ylim(top=ax_p.get_ylim()[1] * 1.3)  # room for the legend above the traces
    ax_p.legend(loc="upper left", fontsize=8, ncol=1 if long_names else 2)
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
