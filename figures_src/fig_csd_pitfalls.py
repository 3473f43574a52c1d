"""Figure: choices that change a CSD, on the demo's flash response (planted truth known).

Left: Gaussian smoothing along depth (SD 0, 20, 40, 80 um) trades noise for a lower,
wider peak. Middle: a probe whose top channel sits just above the source: the standard
estimate has no value at the edge, Vaknin's padding gives one. Right: one channel
missing from the LFP makes the spacing irregular; CSD by interpolating across it, on
the real depths, and on channel index x nominal pitch (what the OpenScope Databook does).

Run alone: ``python figures_src/fig_csd_pitfalls.py``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, csd, laminar, nwb, plots
from databook.demo.ecephys import CsdModel

OUTPUTS = ["fig_csd_pitfalls.png", "fig_csd_pitfalls.pdf"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ASSET = "demo-ecephys"
STIMULUS_TABLE = "flashes_presentations"
WINDOW_S = (-0.1, 0.25)
BASELINE_S = (-0.1, 0.0)
SIGMA_S_PER_M = 0.3
SMOOTH_UM = (0.0, 20.0, 40.0, 80.0)
EDGE_UM = 2540.0  # a probe ending one channel above the planted source
DROPPED_UM = [2300.0]  # a channel missing from the LFP, between sink and source
SHOW_UM = (2000.0, 2750.0)


def main() -> None:
    plots.figure_style()
    path = assets.local_file(assets.resolve(ASSET))
    truth = json.loads(assets.local_file(assets.resolve("demo-ground-truth")).read_text())
    truth = truth["ecephys"]["csd"]
    channels = nwb.electrodes(path)
    onsets = nwb.stimulus_table(path, STIMULUS_TABLE)["start_time"].to_numpy()
    with nwb.lfp(path) as view:
        windows = view.event_windows(onsets, WINDOW_S)
        depths, ids, rate = view.depths_um, view.electrode_ids, view.rate
    times = align.window_times(WINDOW_S, rate)
    lfp_mean = laminar.trial_average(windows, times, BASELINE_S)
    bad = ~channels.loc[ids, "valid_data"].to_numpy(dtype=bool)
    peak = int(np.argmin(np.abs(times - truth["peak_after_onset_s"])))
    model = CsdModel(
        sink_depth_um=truth["sink_depth_um"],
        source_depth_um=truth["source_depth_um"],
        width_um=truth["width_um"],
        amplitude_a_per_m3=truth["amplitude_a_per_m3"],
    )
    fine = np.linspace(*SHOW_UM, 400)

    fig, axes = plt.subplots(1, 3, figsize=(7.2, 3.8), sharey=True, layout="constrained")
    colors = ["#000000", "#56B4E9", "#009E73", "#CC79A7"]

    ax = axes[0]
    for sd, color in zip(SMOOTH_UM, colors, strict=True):
        density, z = csd.csd(
            lfp_mean, depths, SIGMA_S_PER_M, bad_channels=np.flatnonzero(bad), smooth_um=sd
        )
        noise = np.nanstd(density[:, times < 0])
        ax.plot(density[:, peak], z, color=color, lw=1,
                label=f"SD {sd:.0f} µm (noise SD {noise:.0f} A/m³)")  # fmt: skip
    ax.set_title("smoothing along depth", loc="left")
    ax.set_ylabel("distance from probe tip (µm)")

    ax = axes[1]
    keep = depths <= EDGE_UM
    for vaknin, color, style, label in ((False, colors[0], "o-", "standard: edge undefined"),
                                         (True, colors[3], "s--", "Vaknin padding")):  # fmt: skip
        density, z = csd.csd(lfp_mean[keep], depths[keep], SIGMA_S_PER_M,
                             bad_channels=np.flatnonzero(bad[keep]), vaknin=vaknin)  # fmt: skip
        ax.plot(density[:, peak], z, style, color=color, ms=3, lw=1, label=label)
    ax.axhline(EDGE_UM, color="0.4", lw=0.8, ls=":")
    ax.text(-1900, EDGE_UM + 15, "top channel of the probe", fontsize=7)
    ax.set_title("probe edge", loc="left")

    ax = axes[2]
    dropped = np.isin(depths, DROPPED_UM) | bad
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
    for d in DROPPED_UM:
        ax.axhline(d, color="0.4", lw=0.8, ls=":")
    ax.set_title(f"missing channel at {DROPPED_UM[0]:.0f} µm", loc="left")
    ax.set_xlim(-9500, 6000)
    ax.set_xticks([-8000, -4000, 0, 4000])

    for ax in axes:
        ax.plot(model.profile(fine), fine, color=plots.COLORS["truth"], ls="--", lw=1.2,
                label="planted", zorder=0)  # fmt: skip
        ax.axvline(0, color="0.7", lw=0.5)
        ax.set_ylim(*SHOW_UM)
        ax.set_xlabel(f"CSD at {times[peak] * 1e3:.0f} ms (A/m³)")
        ax.legend(loc="lower left", fontsize=6, bbox_to_anchor=(0, 1.07), borderaxespad=0)
    fig.suptitle(f"trial average of {onsets.size} flashes; sinks < 0", x=0.01, ha="left",
                 fontsize=8)  # fmt: skip
    plots.watermark(fig, "SIMULATED DATA")
    mark = fig.texts[-1]  # move it into the title row, clear of the data
    mark.update(dict(x=0.99, y=0.995, ha="right", va="top", rotation=0, fontsize=10, alpha=0.6))
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
