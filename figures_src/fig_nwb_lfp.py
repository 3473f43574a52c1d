"""Figure: one second of LFP across the depth of the probe, around a flash.

Reads the LFP lazily with ``databook.nwb.lfp`` (only the rows of the window are read, in
volts, with each channel's depth along the probe) and the electrodes table for the brain
area of each depth; marks the stimulus presentations that start in the window.

Run alone: ``python figures_src/fig_nwb_lfp.py`` writes ``figures/fig_nwb_lfp.png`` (and a
PDF) and ``fig_nwb_lfp.json``.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import figureparams, nwb, plots

OUTPUTS = ["fig_nwb_lfp.png", "fig_nwb_lfp.pdf", "fig_nwb_lfp.json"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
# Chapter 1's parameters of the same names; `databook run 01 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "stimulus": "flashes_presentations",  # onsets marked
    "lfp_start_s": 109.8,  # the second shown, seconds
    "lfp_length_s": 1.0,
}
P = figureparams.load(PARAMETERS, script=__file__)
ASSET = P.asset
LFP_START_S, LFP_LENGTH_S = P.lfp_start_s, P.lfp_length_s
STIMULUS = P.stimulus
TRACE_EVERY = 4  # left panel: every 4th channel as a trace


def no_lfp(why: str) -> None:
    """A reader's file without LFP (e.g. sorted units only): a figure that says so, and
    why (where the reader looked), instead of a failure."""
    fig, ax = plt.subplots(figsize=(7.2, 1.6), layout="constrained")
    ax.set_axis_off()
    name = Path(str(ASSET)).name
    ax.text(0.5, 0.62, f"No LFP in {name}: nothing to draw.", ha="center", va="center",
            fontsize=11, transform=ax.transAxes)  # fmt: skip
    ax.text(0.5, 0.25, textwrap.fill(why, 110), ha="center", va="center", fontsize=8,
            color="0.35", transform=ax.transAxes)  # fmt: skip
    for out in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / out)
    summary = {"asset": ASSET, "has_lfp": False, "why": why}
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


def main() -> None:
    plots.figure_style()
    t0, t1 = LFP_START_S, LFP_START_S + LFP_LENGTH_S
    try:
        nwb.lfp(ASSET).close()
    except nwb.NWBContentError as err:
        no_lfp(str(err))
        return
    with nwb.source(ASSET) as src:
        with nwb.lfp(src) as view:
            times, volts = view.window(t0, t1)
            depths, rate = view.depths_um, view.rate
        chans = nwb.electrodes(src)
        onsets = nwb.stimulus_table(src, STIMULUS)["start_time"].to_numpy()
    onsets = onsets[(onsets >= t0) & (onsets < t1)]
    order = np.argsort(depths)
    depths, uv = depths[order], volts[:, order] * 1e6  # microvolts, shallow channels last

    fig, (ax_tr, ax_im) = plt.subplots(
        1, 2, figsize=(7.2, 4.4), sharey=True, layout="constrained", width_ratios=[1, 1.15]
    )
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.94))  # a band on top for the watermark
    spacing = float(np.median(np.diff(depths)))
    every = slice(0, None, TRACE_EVERY)
    scale = TRACE_EVERY * spacing / (4 * np.std(uv))  # micrometres of offset per microvolt
    for d, trace in zip(depths[every], uv[:, every].T, strict=True):
        ax_tr.plot(times, d + trace * scale, color="k", lw=0.5)
    bar_uv = float(np.round(4 * np.std(uv), -1))
    x_bar = t0 + 0.02 * LFP_LENGTH_S
    y_bar = depths[-1] + spacing * 4
    ax_tr.plot([x_bar, x_bar], [y_bar, y_bar + bar_uv * scale],
               color=plots.COLORS["response"], lw=2, clip_on=False)  # fmt: skip
    ax_tr.text(x_bar + 0.01 * LFP_LENGTH_S, y_bar, f"{bar_uv:.0f} µV",
               color=plots.COLORS["response"], fontsize=8, va="bottom")  # fmt: skip
    ax_tr.set_ylabel("depth along the probe, from its tip (µm)")
    ax_tr.set_title(f"(a) every {TRACE_EVERY}th channel", loc="left")

    limit = float(np.percentile(np.abs(uv), 99))  # symmetric: zero is white
    image = ax_im.imshow(
        uv.T, aspect="auto", origin="lower", cmap=plots.SIGNED_CMAP, vmin=-limit, vmax=limit,
        extent=(times[0], times[-1] + 1 / rate, depths[0] - spacing / 2, depths[-1] + spacing / 2),
        interpolation="nearest",
    )  # fmt: skip
    fig.colorbar(image, ax=ax_im, label="LFP (µV); negative blue", shrink=0.8)
    ax_im.set_title(f"(b) all {len(depths)} channels", loc="left")
    if "location" in chans:
        where = chans.sort_values("depth_um")
        area = where["location"].to_numpy()
        change = np.flatnonzero(area[1:] != area[:-1]) + 1
        bounds = np.r_[0, change, len(area)]
        for a, b in itertools.pairwise(bounds):
            lo, hi = where["depth_um"].iloc[a], where["depth_um"].iloc[b - 1]
            ax_im.text(1.02, (lo + hi) / 2, str(area[a]), fontsize=8, va="center",
                       transform=ax_im.get_yaxis_transform())  # fmt: skip
            if a:
                for ax in (ax_tr, ax_im):
                    ax.axhline(lo - spacing / 4, color="0.5", lw=0.6, ls="--")
    for ax in (ax_tr, ax_im):
        for onset in onsets:
            ax.axvline(onset, color=plots.COLORS["stimulus"], lw=1.2)
        ax.set_xlabel("time in session (s)")
        ax.set_xlim(t0, t1)
    ax_tr.set_ylim(depths[0] - spacing, depths[-1] + spacing * 12)
    if figureparams.simulated(ASSET):
        plots.watermark(fig, "SIMULATED DATA", xy=(0.5, 0.975), rotation=0, fontsize=14, alpha=0.3)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    summary = {
        "asset": ASSET,
        "has_lfp": True,
        "window_s": [t0, t1],
        "n_channels": len(depths),
        "n_samples": len(times),
        "rate_hz": rate,
        "channel_spacing_um": spacing,
        "depth_range_um": [float(depths[0]), float(depths[-1])],
        "onsets_in_window_s": [float(t) for t in onsets],
        "scale_bar_uv": bar_uv,
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
