"""Figure: choices that change a CSD, on the demo's flash response (planted truth known).

Left: Gaussian smoothing along depth (SD 0, 20, 40, 80 µm) trades noise for a lower,
wider peak. Middle: a probe whose top channel sits just above the source: the standard
estimate has no value at the edge, Vaknin's padding gives one. Right: one channel
missing from the LFP makes the spacing irregular; CSD by interpolating across it, on
the real depths, and on channel index x nominal pitch; and, on a top axis, the OpenScope
Databook's (OSD) own estimate, run as its current_source_density.ipynb runs it
(``databook.csd.osd_kcsd1d``: elephant's ``estimate_csd(..., method="KCSD1D")`` on
coordinates ``range(n) * pq.mm``), drawn on channel index x pitch. That call takes minutes.
On a reader's file (no planted profile) the same three choices are drawn without it; an
edge or a missing channel that is not on that probe is replaced by the channel one step
above the source, or the one between sink and source, as the chapter does.

Run alone: ``python figures_src/fig_csd_pitfalls.py``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from databook import align, assets, csd, figureparams, laminar, nwb, plots, tables
from databook.demo.ecephys import LaminarCsdModel

OUTPUTS = ["fig_csd_pitfalls.png", "fig_csd_pitfalls.pdf"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 7's parameters of the same names; `databook run 07 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "truth_asset": "demo-ground-truth",  # None for real data
    "stimulus_table": "flashes_presentations",
    "onset_column": "start_time",
    "lfp_name": None,
    "profile_s": 0.042,  # s after onset (None: where |CSD| is largest)
    "window_s": (-0.1, 0.25),
    "baseline_s": (-0.1, 0.0),
    "sigma_s_per_m": 0.3,
    "valid_column": "valid_data",
    "extra_bad_channels": [],
    "outlier_z": 5.0,  # dead or noisy channels by baseline noise (None: off)
    "smooth_um": (20.0, 40.0, 80.0),
    "edge_um": 2540.0,  # a probe ending one channel above the planted source
    "dropped_um": [2300.0],  # a channel missing from the LFP, between sink and source
}
P = figureparams.load(PARAMETERS, script=__file__)
WINDOW_S, BASELINE_S, SIGMA_S_PER_M = P.window_s, P.baseline_s, P.sigma_s_per_m
SMOOTH_UM = (0.0, *P.smooth_um)


def main() -> None:
    plots.figure_style()
    channels = nwb.electrodes(P.asset)
    events = nwb.stimulus_table(P.asset, P.stimulus_table)
    onsets = tables.onsets(events, P.onset_column).dropna().to_numpy()
    with nwb.lfp(P.asset, P.lfp_name) as view:
        windows = view.event_windows(onsets, WINDOW_S)
        depths, ids, rate = view.depths_um, view.electrode_ids, view.rate
    times = align.window_times(WINDOW_S, rate)
    lfp_mean = laminar.trial_average(windows, times, BASELINE_S)
    bad = np.zeros(ids.size, dtype=bool)
    if P.valid_column and P.valid_column in channels:
        bad = ~channels.loc[ids, P.valid_column].to_numpy(dtype=bool)
    bad[list(P.extra_bad_channels)] = True
    if P.outlier_z:  # the chapter's check for dead and noisy channels the file leaves unflagged
        found = laminar.outlier_channels(
            windows, times, BASELINE_S, depths, exclude=np.flatnonzero(bad), threshold=P.outlier_z
        )
        bad[found.bad] = True
    density, z = csd.csd(lfp_mean, depths, SIGMA_S_PER_M, bad_channels=np.flatnonzero(bad))
    if P.profile_s is None:  # the sample after onset where |CSD| is largest
        after = np.flatnonzero(times > 0)
        peak = int(after[np.nanargmax(np.nanmax(np.abs(density[:, after]), axis=0))])
    else:
        peak = int(np.argmin(np.abs(times - P.profile_s)))
    sink = laminar.extremum(density[:, peak], z, "min").depth_um
    source = laminar.extremum(density[:, peak], z, "max").depth_um
    model, show_um = None, (2000.0, 2750.0)  # the demo's layer-4 sink and sources, around them
    if P.truth_asset is not None:
        truth = json.loads(assets.local_file(assets.resolve(P.truth_asset)).read_text())
        truth = truth["ecephys"]["csd"]
        model = LaminarCsdModel.from_truth(truth)
    else:
        show_um = (min(sink, source) - 300.0, max(sink, source) + 300.0)
    edge_um, dropped_um = P.edge_um, list(P.dropped_um)
    if not 3 <= np.sum(depths <= edge_um) < depths.size:  # not inside this probe
        above = np.sort(depths[depths > source])
        edge_um = float(above[min(1, above.size - 1)]) if above.size else float(depths.max())
    if not np.isin(depths, dropped_um).any():  # not channels of this probe
        low_um, high_um = sorted((sink, source))
        between = (depths > low_um) & (depths < high_um)
        pool = depths[between] if between.any() else depths
        dropped_um = [float(pool[np.argmin(np.abs(pool - (low_um + high_um) / 2))])]
    fine = np.linspace(*show_um, 400)

    fig, axes = plt.subplots(1, 3, figsize=(7.2, 3.8), sharey=True, layout="constrained")
    colors = ["#000000", "#56B4E9", "#009E73", "#CC79A7"]

    ax = axes[0]
    for sd, color in zip(SMOOTH_UM, colors, strict=True):
        density, z = csd.csd(
            lfp_mean, depths, SIGMA_S_PER_M, bad_channels=np.flatnonzero(bad), smooth_um=sd
        )
        noise = np.nanstd(density[:, times < 0])
        ax.plot(density[:, peak], z, color=color, lw=1,
                label=f"SD {sd:.0f} µm: noise {noise:.0f} A/m³")  # fmt: skip
    ax.set_title("smoothing along depth", loc="left")
    ax.set_ylabel("distance from probe tip (µm)")

    ax = axes[1]
    keep = depths <= edge_um
    for vaknin, color, style, label in ((False, colors[0], "o-", "standard: edge undefined"),
                                         (True, colors[3], "s--", "Vaknin padding")):  # fmt: skip
        density, z = csd.csd(lfp_mean[keep], depths[keep], SIGMA_S_PER_M,
                             bad_channels=np.flatnonzero(bad[keep]), vaknin=vaknin)  # fmt: skip
        ax.plot(density[:, peak], z, style, color=color, ms=3, lw=1, label=label)
    ax.axhline(edge_um, color="0.4", lw=0.8, ls=":")
    ax.text(0.03, edge_um + 15, "top channel of the probe", fontsize=8,
            transform=ax.get_yaxis_transform())  # fmt: skip
    ax.set_title("probe edge", loc="left")

    ax = axes[2]
    dropped = np.isin(depths, dropped_um) | bad
    kept = ~dropped
    pitch = float(np.median(np.diff(np.sort(depths))))
    by_index = depths[kept].min() + pitch * np.arange(kept.sum())
    variants = (
        ("interpolated across", lfp_mean, depths, np.flatnonzero(dropped), colors[1]),
        ("dropped, real depths", lfp_mean[kept], depths[kept], (), colors[0]),
        ("dropped, channel index", lfp_mean[kept], by_index, (), colors[3]),
    )
    for label, lfp, z_um, bad_idx, color in variants:
        density, z = csd.csd(lfp, z_um, SIGMA_S_PER_M, bad_channels=bad_idx)
        ax.plot(density[:, peak], z, "o-", ms=2.5, lw=1, color=color, label=label)
    if model is not None:  # the demo only: the call takes minutes on a long probe
        osd_density, osd_mm = csd.osd_kcsd1d(lfp_mean[kept], rate)  # uA/mm^3, index mm
        osd_z = np.interp(osd_mm, np.arange(kept.sum()), by_index)
        top = ax.twiny()
        top.plot(osd_density[:, peak], osd_z, lw=1, color="0.25")
        top.tick_params(axis="x", direction="in", pad=-12, labelsize=8)  # labels inside the box
        top.text(0.98, 0.86, "OSD axis, µA/mm³", transform=top.transAxes, ha="right", fontsize=8)
        ax.plot([], [], lw=1, color="0.25", label="OSD KCSD1D (top axis)")
    for d in dropped_um:
        ax.axhline(d, color="0.4", lw=0.8, ls=":")
    ax.set_title(f"missing channel at {dropped_um[0]:.0f} µm", loc="left")
    if model is not None:  # the demo's scale
        ax.set_xlim(-9500, 6000)
        ax.set_xticks([-8000, -4000, 0, 4000])
    else:  # few ticks, so wide values do not run into each other
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))

    for ax in axes:
        if model is not None:
            planted = model.csd(fine, times[peak])[0]
            ax.plot(planted, fine, color=plots.COLORS["truth"], ls="--", lw=1.2,
                    label="planted", zorder=0)  # fmt: skip
        ax.axvline(0, color="0.7", lw=0.5)
        plots.shade_sign(ax)  # sink side (< 0) blue, source side red, as in fig_csd_map
        ax.set_ylim(*show_um)
        ax.set_xlabel(f"CSD at {times[peak] * 1e3:.0f} ms (A/m³)")
        ax.legend(loc="lower left", fontsize=8, bbox_to_anchor=(0, 1.07), borderaxespad=0,
                  handlelength=1.5)  # fmt: skip
    whats = "flashes" if "flash" in P.stimulus_table.lower() else "events"
    fig.suptitle(f"trial average of {onsets.size} {whats}; sinks < 0 (blue side)",
                 x=0.01, ha="left", fontsize=8)  # fmt: skip
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
        mark = fig.texts[-1]  # move it into the title row, clear of the data
        mark.update(dict(x=0.99, y=0.995, ha="right", va="top", rotation=0, fontsize=10, alpha=0.6))
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
