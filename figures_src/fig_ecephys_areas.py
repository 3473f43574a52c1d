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

from databook import align, nwb, plots, unitsummary

OUTPUTS = ["fig_ecephys_areas.png", "fig_ecephys_areas.pdf"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ASSET, TABLE = "demo-ecephys", "flashes_presentations"
SMOOTH_TAU, BIN = 0.01, 0.002  # s
WINDOW = (-0.2, 0.35)  # s
# Okabe-Ito, one colour per area in alphabetical order.
AREA_COLORS = ["#009E73", "#CC79A7", "#56B4E9", "#0072B2", "#E69F00", "#000000"]


def main() -> None:
    plots.figure_style()
    units = nwb.units(ASSET)
    onsets = nwb.stimulus_table(ASSET, TABLE)["start_time"].to_numpy()
    table = unitsummary.response_table(units, onsets)
    areas = unitsummary.by_area(table)
    colors = dict(zip(areas.index, AREA_COLORS, strict=False))

    fig, (ax_f, ax_d, ax_p) = plt.subplots(
        1, 3, figsize=(7.2, 2.8), width_ratios=[0.8, 1, 1.3], layout="constrained"
    )
    x = np.arange(len(areas))
    ax_f.bar(x, areas["fraction"], color=[colors[a] for a in areas.index])
    for k, (_, row) in enumerate(areas.iterrows()):
        ax_f.text(k, row["fraction"] + 0.02, f"{int(row['n_responsive'])}/{int(row['n_units'])}",
                  ha="center", fontsize=7)  # fmt: skip
    ax_f.set_xticks(x, areas.index)
    ax_f.set_ylim(0, 1)
    ax_f.set_ylabel("fraction responsive")
    ax_f.set_title("responsive units per area", loc="left")

    good = table[table["passes_quality"]]
    resp = good[good["responsive"]]
    for area, rows in resp.groupby("area"):
        ax_d.plot(rows["latency"] * 1e3, rows["depth_um"], "o", ms=3.5, color=colors[area])
    ax_d.set_xlabel("onset latency (ms)")
    ax_d.set_ylabel("peak-channel depth (um from tip)")
    ax_d.set_title(f"latency vs depth ({len(resp)} responsive)", loc="left")

    edges = np.arange(WINDOW[0] - 5 * SMOOTH_TAU, WINDOW[1] + BIN / 2, BIN)
    spikes = list(good["n_spikes"].index.map(units["spike_times"]))
    density = align.psth(spikes, onsets, edges, smooth_tau=SMOOTH_TAU)
    shown = density.centers >= WINDOW[0]
    t = density.centers[shown] * 1e3
    for area in areas.index:
        rows = density.rate[(good["area"] == area).to_numpy()][:, shown]
        mean = rows.mean(axis=0)
        sem = rows.std(axis=0, ddof=1) / np.sqrt(len(rows))
        ax_p.fill_between(t, mean - sem, mean + sem, color=colors[area], alpha=0.25, lw=0)
        ax_p.plot(t, mean, color=colors[area], lw=1.2, label=f"{area} (n = {len(rows)})")
    ax_p.axvspan(0, 250, color=plots.COLORS["stimulus"], alpha=0.12, lw=0)
    ax_p.set_xlabel("time from flash onset (ms)")
    ax_p.set_ylabel("mean rate (spikes/s)")
    ax_p.set_title("population PSTH per area", loc="left")
    ax_p.set_ylim(top=ax_p.get_ylim()[1] * 1.3)  # room for the legend above the traces
    ax_p.legend(loc="upper left", fontsize=7, ncol=2)
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
