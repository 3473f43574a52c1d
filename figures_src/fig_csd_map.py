"""Figure: flash-evoked LFP and current source density across depth, with validation.

The LFP is read lazily: only the windows around the flashes, never the whole series.
Left: trial-averaged LFP (uV) on depth x time. Middle: its CSD (A/m^3, sinks negative)
on the electrodes' real depths. Right: the CSD profile at the planted peak time against
the planted profile (on a reader's file, with no planted profile: the profile at
``profile_s`` and its sink and source). Area boundaries come from the electrodes table.
The script also records its peak memory and the recovered sink and source in
``fig_csd_map.json``.

Run alone: ``python figures_src/fig_csd_map.py``.
"""

import json
import resource
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, csd, figureparams, laminar, nwb, plots, tables
from databook.demo.ecephys import LaminarCsdModel

OUTPUTS = ["fig_csd_map.png", "fig_csd_map.pdf", "fig_csd_map.json"]
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
    "show_um": (1700.0, 2900.0),  # depths shown in the maps
}
P = figureparams.load(PARAMETERS, script=__file__)
WINDOW_S, BASELINE_S, SIGMA_S_PER_M = P.window_s, P.baseline_s, P.sigma_s_per_m


def main() -> None:
    plots.figure_style()
    truth = None
    if P.truth_asset is not None:
        truth = json.loads(assets.local_file(assets.resolve(P.truth_asset)).read_text())
        truth = truth["ecephys"]["csd"]
    path = P.asset
    channels = nwb.electrodes(path)
    events = nwb.stimulus_table(path, P.stimulus_table)
    onsets = tables.onsets(events, P.onset_column).dropna().to_numpy()
    what, whats = (
        ("flash", "flashes") if "flash" in P.stimulus_table.lower() else ("event", "events")
    )
    # Compile the interpolation kernel on a toy input so its memory is not counted below.
    align.event_windows(np.arange(4.0), np.zeros((4, 1)), [1.0], (0.0, 1.0), 2.0)

    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    with nwb.lfp(path, P.lfp_name) as view:
        windows = view.event_windows(onsets, WINDOW_S)
        depths, ids, shape, rate = view.depths_um, view.electrode_ids, view.shape, view.rate
    read_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    times = align.window_times(WINDOW_S, rate)
    lfp_mean = laminar.trial_average(windows, times, BASELINE_S)
    valid = np.ones(ids.size, dtype=bool)
    if P.valid_column and P.valid_column in channels:
        valid = channels.loc[ids, P.valid_column].to_numpy(dtype=bool)
    bad = sorted(set(np.flatnonzero(~valid).tolist()) | set(P.extra_bad_channels))
    if P.outlier_z:  # the chapter's check for dead and noisy channels the file leaves unflagged
        found = laminar.outlier_channels(
            windows, times, BASELINE_S, depths, exclude=bad, threshold=P.outlier_z
        )
        bad = sorted(set(bad) | set(found.bad))
    result = csd.csd(lfp_mean, depths, SIGMA_S_PER_M, bad_channels=bad)
    density, z = result

    if P.profile_s is None:  # the sample after onset where |CSD| is largest
        after = np.flatnonzero(times > 0)
        peak = int(after[np.nanargmax(np.nanmax(np.abs(density[:, after]), axis=0))])
    else:
        peak = int(np.argmin(np.abs(times - P.profile_s)))
    sink = laminar.extremum(density[:, peak], z, "min")
    source = laminar.extremum(density[:, peak], z, "max")
    model = None
    if truth is not None:
        model = LaminarCsdModel.from_truth(truth)
    placed = channels[np.isfinite(channels["depth_um"])]
    where = placed["location"] if "location" in placed else np.full(len(placed), "")
    spans = laminar.area_spans(placed["depth_um"], where)
    # The depths shown: the chapter's, unless they hold too few of this probe's channels.
    show_um = P.show_um
    if show_um is None or np.sum((z >= show_um[0]) & (z <= show_um[1])) < 3:
        show_um = (float(z.min()), float(z.max()))

    fig, axes = plt.subplots(
        1, 3, figsize=(7.2, 3.6), width_ratios=[1, 1, 0.7], layout="constrained"
    )
    t_ms = times * 1e3
    order = np.argsort(depths)
    extent = dict(shading="nearest", rasterized=True)
    lfp_uv = lfp_mean[order] * 1e6
    # One sign convention for LFP and CSD (plots.SIGNED_CMAP): negative blue, positive
    # red, symmetric limits; so a CSD sink (negative) is blue and a source red.
    lim = plots.signed_limit(lfp_uv)
    m0 = axes[0].pcolormesh(t_ms, z, lfp_uv, cmap=plots.SIGNED_CMAP, vmin=-lim, vmax=lim, **extent)
    fig.colorbar(m0, ax=axes[0], location="bottom", label="LFP (µV); negative blue", shrink=0.9)
    lim = plots.signed_limit(density)
    m1 = axes[1].pcolormesh(t_ms, z, density, cmap=plots.SIGNED_CMAP, vmin=-lim, vmax=lim, **extent)
    fig.colorbar(m1, ax=axes[1], location="bottom", label="CSD (A/m³); sink < 0 blue", shrink=0.9)
    for ax, title in zip(axes[:2], ["trial-averaged LFP", "CSD, real depths"], strict=True):
        ax.set_ylim(*show_um)
        ax.set_xlabel(f"time from {what} onset (ms)")
        ax.set_title(title, loc="left")
        ax.axvline(0, color=plots.COLORS["stimulus"], lw=1)
        for _, span in spans.iterrows():
            if show_um[0] < span.high_um < show_um[1]:
                ax.axhline(span.high_um, color="k", lw=0.6, ls=":")
            low, high = max(span.low_um, show_um[0]), min(span.high_um, show_um[1])
            if high - low > 60:  # label the visible part of each area
                ax.text(t_ms[0] + 5, (low + high) / 2, span.area, fontsize=8, va="center")
        for depth in result.interpolated:
            ax.annotate("interpolated", (t_ms[-1], depth), xytext=(t_ms[-1] - 5, depth - 60),
                        fontsize=8, ha="right", arrowprops={"arrowstyle": "->"})  # fmt: skip
    axes[0].set_ylabel("distance from probe tip (µm)\n(brain surface up)")

    ax = axes[2]
    fine = np.linspace(*show_um, 400)
    if model is not None:
        ax.plot(
            model.csd(fine, times[peak])[0],
            fine,
            color=plots.COLORS["truth"],
            ls="--",
            label="planted",
        )
    ax.plot(density[:, peak], z, "o-", ms=2.5, color="k", label="estimated")
    ax.plot([sink.value, source.value], [sink.depth_um, source.depth_um], "k+", ms=8,
            label="peaks (parabola)")  # fmt: skip
    ax.axvline(0, color="0.6", lw=0.6)
    plots.shade_sign(ax)  # sink side blue, source side red, as in the map
    ax.set_ylim(*show_um)
    ax.set_xlabel(f"CSD at {times[peak] * 1e3:.0f} ms (A/m³)")
    ax.set_title("validation" if model is not None else "profile", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8)
    fig.suptitle(f"{onsets.size} {whats}, {shape[1]} LFP channels", x=0.01, ha="left", fontsize=8)
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
        mark = fig.texts[-1]  # move it into the title row, clear of the data
        mark.update(dict(x=0.99, y=0.995, ha="right", va="top", rotation=0, fontsize=10, alpha=0.6))
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    record = {
        "n_flashes": int(onsets.size),
        "n_channels": int(shape[1]),
        "lfp_full_mb_float64": shape[0] * shape[1] * 8 / 1e6,
        "windows_mb": windows.nbytes / 1e6,
        "window_read_peak_traced_mb": round(read_peak_mb, 2),
        "rss_before_read_mb": round(rss_before_mb, 1),
        "script_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "interpolated_depths_um": result.interpolated,
        "sink_depth_um": round(sink.depth_um, 1),
        "sink_a_per_m3": round(sink.value, 1),
        "source_depth_um": round(source.depth_um, 1),
        "source_a_per_m3": round(source.value, 1),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
