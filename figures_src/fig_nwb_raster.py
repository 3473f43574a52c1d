"""Figure: the first thing to look at in a Neuropixels file: every unit's spikes over a minute,
with the stimulus blocks and the running speed.

Reads the units table (spike times, quality, peak-channel depth and area), the stimulus
presentation tables and the running speed with ``databook.nwb``; units are sorted by the
depth of their peak channel along the probe and coloured by its brain area (the same
colour on the area's name at right), noise units drawn in grey.

On a reader's file (``databook run 01 --nwb FILE``) it shows the chapter's ``stimulus``
table as well as any ``*_presentations`` tables; units without a known depth keep the
file's order, and a file without running speed gets no running panel (the axis says so).

Run alone: ``python figures_src/fig_nwb_raster.py`` writes ``figures/fig_nwb_raster.png``
(and a PDF) and ``fig_nwb_raster.json`` (counts shown in the caption).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from databook import figureparams, nwb, plots

OUTPUTS = ["fig_nwb_raster.png", "fig_nwb_raster.pdf", "fig_nwb_raster.json"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
# Chapter 1's parameters of the same names; `databook run 01 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "stimulus": "flashes_presentations",
    "raster_start_s": 90.0,  # the minute shown, seconds
    "raster_length_s": 60.0,
}
P = figureparams.load(PARAMETERS, script=__file__)
ASSET = P.asset
RASTER_START_S, RASTER_LENGTH_S = P.raster_start_s, P.raster_length_s
STIMULUS_COLORS = [plots.COLORS["stimulus"], plots.COLORS["response"], plots.COLORS["tagged"]]
# One colour per brain area of the raster (Okabe-Ito, colour-blind safe), cycled.
AREA_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#E69F00"]


def main() -> None:
    plots.figure_style()
    t0, t1 = RASTER_START_S, RASTER_START_S + RASTER_LENGTH_S
    with nwb.source(ASSET) as src:
        units = nwb.units(src)
        try:
            running = nwb.running_speed(src)
        except nwb.NWBContentError:  # a reader's file may have none
            running = None
        listing = nwb.intervals(src)
        blocks = {
            name: nwb.stimulus_table(src, name)
            for name in listing.index
            if name.endswith("_presentations") or name == P.stimulus
        }
    depth = units["electrode_depth_um"] if "electrode_depth_um" in units else None
    by_depth = depth is not None and bool(np.isfinite(depth.to_numpy(float)).any())
    order = np.argsort(depth.to_numpy(float) if by_depth else np.arange(len(units)), kind="stable")
    units = units.iloc[order]
    spikes = units["spike_times"].to_numpy()
    counts = np.array([len(s) for s in spikes])
    times = np.concatenate(spikes)
    rank = np.repeat(np.arange(len(units)), counts)
    shown = (times >= t0) & (times < t1)
    noise = (
        (units["quality"].to_numpy() == "noise")
        if "quality" in units
        else np.zeros(len(units), bool)
    )

    fig, (ax_stim, ax_raster, ax_run) = plt.subplots(
        3, 1, figsize=(7.2, 5.6), sharex=True, height_ratios=[0.35, 4, 1], layout="constrained"
    )
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.95))  # a band on top for the watermark
    in_window = {}
    for k, (name, table) in enumerate(blocks.items()):
        on = (table["stop_time"] > t0) & (table["start_time"] < t1)
        in_window[name] = int(on.sum())
        color = STIMULUS_COLORS[k % len(STIMULUS_COLORS)]
        for start, stop in zip(table["start_time"][on], table["stop_time"][on], strict=True):
            ax_stim.axvspan(max(start, t0), min(stop, t1), color=color, lw=0)
        if on.any():
            ax_stim.plot([], [], color=color, lw=6, label=name.replace("_presentations", ""))
    ax_stim.set_yticks([])
    ax_stim.spines["left"].set_visible(False)
    ax_stim.set_ylabel("stimulus", rotation=0, ha="right", va="center")
    ax_stim.legend(loc="upper left", bbox_to_anchor=(1.0, 1.6), fontsize=8, handlelength=1)

    # Units coloured by brain area (noise units grey), so the areas' bands stand out.
    has_areas = by_depth and "electrode_location" in units
    areas = units["electrode_location"].to_numpy().astype(str) if has_areas else None
    names = list(dict.fromkeys(areas)) if has_areas else []
    area_color = {a: AREA_COLORS[k % len(AREA_COLORS)] for k, a in enumerate(names)}
    unit_area = areas[rank] if has_areas else np.full(rank.size, "")
    groups = [(shown & ~noise[rank] & (unit_area == a), area_color[a]) for a in names]
    groups = groups or [(shown & ~noise[rank], "k")]
    groups.append((shown & noise[rank], "0.6"))
    row_pt = 4.0 * 72 / len(units)  # the raster is ~4 in tall: one row's height in points
    for sel, color in groups:
        ax_raster.plot(times[sel], rank[sel], "|", ms=0.8 * row_pt, mew=0.35, color=color,
                       rasterized=True)  # fmt: skip
    ax_raster.set_ylim(-0.5, len(units) - 0.5)
    if len(units) <= 10:  # a few units (real files often): whole-unit ticks, no 0.5 steps
        ax_raster.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not shown.any():  # e.g. a reader's file whose recording starts later
        span = f"{times.min():.0f} to {times.max():.0f} s" if times.size else "none"
        ax_raster.text(0.5, 0.5, f"no spikes in [{t0:g}, {t1:g}) s (spikes: {span});\n"
                       "choose the window with -p raster_start_s", ha="center", va="center",
                       transform=ax_raster.transAxes, fontsize=9, color="0.3")  # fmt: skip
    sort_label = "by depth of peak channel" if by_depth else "in file order (no depths)"
    ax_raster.set_ylabel(f"unit, {sort_label} (n = {len(units)})")
    if has_areas:
        edges = np.flatnonzero(areas[1:] != areas[:-1]) + 1
        starts, stops = np.r_[0, edges], np.r_[edges, len(areas)]
        for a, b in zip(starts, stops, strict=True):
            if a:
                ax_raster.axhline(a - 0.5, color="0.3", lw=0.6, ls="--", zorder=3)
            ax_raster.text(1.005, (a + b - 1) / 2 / len(areas) + 0.5 / len(areas),
                           str(areas[a]), transform=ax_raster.transAxes, fontsize=8,
                           va="center", color=area_color[areas[a]])  # fmt: skip

    if running is not None:
        on = (running.t >= t0) & (running.t < t1)
        ax_run.plot(running.t[on], running.values[on], color=plots.COLORS["response"], lw=0.8)
        ax_run.set_ylabel(f"running\n({running.unit})")
    else:
        ax_run.set_yticks([])
        ax_run.text(0.5, 0.5, "this file has no running speed", transform=ax_run.transAxes,
                    ha="center", va="center", fontsize=8, color="0.4")  # fmt: skip
    ax_run.set_xlabel("time in session (s)")
    ax_run.set_xlim(t0, t1)
    if figureparams.simulated(ASSET):
        plots.watermark(fig, "SIMULATED DATA", xy=(0.5, 0.975), rotation=0, fontsize=14, alpha=0.3)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    summary = {
        "asset": ASSET,
        "window_s": [t0, t1],
        "n_units": len(units),
        "n_noise_units": int(noise.sum()),
        "n_spikes_shown": int(shown.sum()),
        "presentations_in_window": in_window,
        "running_unit": running.unit if running is not None else None,
        "depth_column": units.attrs.get("electrode_join"),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
