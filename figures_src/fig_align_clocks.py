"""Figure: spikes, running speed, pupil area and dF/F on one clock around a stimulus block.

The demo has two sessions, each with its own clock: a Neuropixels session (spikes and
running speed) and a two-photon session (dF/F, running speed and pupil area), recorded on
different days. Each column puts one session's signals on a common grid of
``RESAMPLE_HZ`` around the onset of one stimulus block: spikes are binned (counts in
bins centred on the grid times), continuous signals are linearly interpolated at the grid
times (``align.resample``). The raw samples are drawn thin underneath.

On a reader's file (``databook run 02 --nwb FILE -p stimulus trials ...``) the left column
shows that file around the first onset (``onset_column``) of its ``stimulus`` table, without
a running panel if the file has no running speed; the right column stays on
``ophys_asset`` (the demo's unless given) and is then marked as simulated on its own.

Run alone: ``python figures_src/fig_align_clocks.py`` writes ``figures/fig_align_clocks.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from databook import align, figureparams, nwb, plots, quality, tables

OUTPUTS = ["fig_align_clocks.png"]
INPUTS = ["demo-ecephys", "demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 2's parameters of the same names; `databook run 02 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "ophys_asset": "demo-ophys-day1",
    "stimulus": "flashes_presentations",
    "onset_column": "start_time",
    "resample_hz": 30.0,
    "context": (-3.0, 9.0),  # s around the first onset
}
P = figureparams.load(PARAMETERS, script=__file__)
ECEPHYS, OPHYS = P.asset, P.ophys_asset
OPHYS_BLOCK = "drifting_gratings"
RESAMPLE_HZ = P.resample_hz
CONTEXT_S = P.context


def session_blocks(asset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every presentation of every intervals table of a session, and its blocks."""
    names = nwb.intervals(asset).index
    table = pd.concat([nwb.stimulus_table(asset, n) for n in names], ignore_index=True)
    return table, tables.blocks(table, max_gap=5.0)


def grid_around(blocks: pd.DataFrame, name: str) -> np.ndarray:
    """Grid times around the first onset of the block of stimulus ``name``."""
    return grid_from(float(tables.select(blocks, stimulus_name=name)["start_time"].iloc[0]))


def grid_from(start: float) -> np.ndarray:
    """Grid times around ``start`` (s), from 0 s on."""
    grid = align.window_times((start + CONTEXT_S[0], start + CONTEXT_S[1]), RESAMPLE_HZ)
    return grid[grid >= 0]


def binned_rate(spike_times, grid: np.ndarray) -> np.ndarray:
    """Spikes/s of each unit in bins [t - dt/2, t + dt/2) centred on the grid times."""
    dt = 1.0 / RESAMPLE_HZ
    edges = np.append(grid, grid[-1] + dt) - grid[0]
    return align.event_counts(spike_times, [grid[0] - dt / 2], edges)[:, 0, :] / dt


def shade(ax, presentations: pd.DataFrame, lo: float, hi: float) -> None:
    shown = presentations[(presentations.stop_time > lo) & (presentations.start_time < hi)]
    for start, stop in zip(shown.start_time, shown.stop_time, strict=True):
        ax.axvspan(start, stop, color=plots.COLORS["stimulus"], alpha=0.25, lw=0)


def presented(presentations: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """True at grid times inside a presentation [start, stop)."""
    start = presentations["start_time"].to_numpy()
    stop = presentations["stop_time"].to_numpy()
    last = np.searchsorted(start, grid, side="right") - 1
    return (last >= 0) & (grid < stop[np.clip(last, 0, None)])


def heatmap(fig, ax, image, grid, label, limits, cmap) -> None:
    dt = 1.0 / RESAMPLE_HZ
    shown = ax.imshow(
        image, aspect="auto", cmap=cmap, interpolation="nearest", vmin=limits[0],
        vmax=limits[1], extent=(grid[0] - dt / 2, grid[-1] + dt / 2, image.shape[0], 0),
    )  # fmt: skip
    fig.colorbar(shown, ax=ax, label=label, fraction=0.05, pad=0.01)


def raw_and_grid(ax, signal, grid: np.ndarray, color: str) -> None:
    inside = (signal.t >= grid[0]) & (signal.t <= grid[-1])
    ax.plot(signal.t[inside], signal.values[inside], color="0.7", lw=0.6, label="raw samples")
    on_grid = align.resample(signal.t, signal.values, grid)
    ax.plot(grid, on_grid, color=color, lw=1.1, label=f"on the {RESAMPLE_HZ:g} Hz grid")


def ophys_column(fig, col) -> None:
    """The two-photon session's column: dF/F, running speed and pupil area."""
    table, blocks = session_blocks(OPHYS)
    grid = grid_around(blocks, OPHYS_BLOCK)
    presentations = tables.select(table, stimulus_name=OPHYS_BLOCK)
    dff = nwb.dff(OPHYS)
    on_grid = align.resample(dff.t, dff.values, grid).T  # (n_rois, n_grid)
    during = presented(presentations, grid)
    contrast = np.nanmean(on_grid[:, during], axis=1) - np.nanmean(on_grid[:, ~during], axis=1)
    ranked = np.argsort(-contrast, kind="stable")
    heatmap(fig, col[0], on_grid[ranked], grid, "dF/F", (-0.3, 1.0), "viridis")
    ax = col[0]
    ax.set_ylabel("ROI (by response)")
    ax.set_title(f"two-photon session ({ranked.size} ROIs), other mouse", loc="left")
    col[1].plot(grid, on_grid.mean(axis=0), color=plots.COLORS["response"], lw=1.0)
    col[1].set_ylabel("mean dF/F")
    raw_and_grid(col[2], nwb.running_speed(OPHYS), grid, plots.COLORS["response"])
    col[2].set_ylabel("running\n(cm/s)")
    pupil = nwb.pupil(OPHYS)
    raw_and_grid(col[3], pupil, grid, plots.COLORS["response"])
    col[3].set_ylabel(f"pupil area\n({pupil.unit})")
    for ax in col[1:]:
        shade(ax, presentations, grid[0], grid[-1])
    col[3].set_xlabel("time in the two-photon session (s)")


def main() -> None:
    plots.figure_style()
    columns = 2 if OPHYS is not None else 1  # one column: a reader's ecephys file alone
    fig, axes = plt.subplots(
        4, columns, figsize=(7.2 if columns == 2 else 4.0, 6.4), sharex="col", squeeze=False,
        height_ratios=[1.5, 1, 1, 1], layout="constrained",
    )  # fmt: skip

    # Neuropixels session: spikes and running speed.
    presentations = nwb.stimulus_table(ECEPHYS, P.stimulus).sort_values("start_time")
    grid = grid_from(float(tables.onsets(presentations, P.onset_column).min()))
    spikes = list(quality.drop_noise(nwb.units(ECEPHYS))["spike_times"])  # as chapter 2
    rates = binned_rate(spikes, grid)  # (n_units, n_grid), spikes/s
    during = presented(presentations, grid)
    if during.any() and not during.all():
        ranked = np.argsort(-(rates[:, during].mean(1) - rates[:, ~during].mean(1)), kind="stable")
    else:  # presentations fill the grid (e.g. long trials): the busiest units on top
        ranked = np.argsort(-rates.mean(1), kind="stable")
    ax = axes[0, 0]
    for row, unit in enumerate(ranked):
        shown = spikes[unit][(spikes[unit] >= grid[0]) & (spikes[unit] <= grid[-1])]
        ax.plot(shown, np.full(shown.size, row), "|", color="k", ms=1.6, mew=0.5)
    ax.set_ylim(len(spikes), -1)
    ax.set_ylabel("unit (by response)")
    name = "Neuropixels session" if figureparams.simulated(ECEPHYS) else Path(ECEPHYS).stem
    ax.set_title(f"{name[:24]} ({len(spikes)} units)", loc="left")
    axes[1, 0].step(grid, rates.mean(axis=0), where="mid", color=plots.COLORS["response"], lw=1.0)
    axes[1, 0].set_ylabel("mean rate\n(spikes/s)")
    try:
        raw_and_grid(axes[2, 0], nwb.running_speed(ECEPHYS), grid, plots.COLORS["response"])
    except nwb.NWBContentError:  # a reader's file may have none
        axes[2, 0].text(0.5, 0.5, "no running speed\nin this file", ha="center", va="center",
                        transform=axes[2, 0].transAxes, color="0.4")  # fmt: skip
        axes[2, 0].set_yticks([])
    axes[2, 0].set_ylabel("running\n(cm/s)")
    axes[3, 0].text(
        0.5, 0.5, "no pupil tracking\nin this file", ha="center", va="center",
        transform=axes[3, 0].transAxes, color="0.4",
    )  # fmt: skip
    if axes[2, 0].get_legend_handles_labels()[0]:
        axes[3, 0].legend(*axes[2, 0].get_legend_handles_labels(), loc="lower center",
                          fontsize=8)  # fmt: skip
    axes[3, 0].set_yticks([])
    axes[3, 0].set_ylabel("pupil")
    for ax in axes[:, 0]:
        shade(ax, presentations, grid[0], grid[-1])
    axes[3, 0].set_xlabel(
        f"time in the {'Neuropixels ' if figureparams.simulated(ECEPHYS) else ''}session (s)"
    )

    if OPHYS is not None:
        ophys_column(fig, axes[:, 1])
    else:  # one narrow column: fewer time ticks, so late session times do not collide
        axes[3, 0].xaxis.set_major_locator(MaxNLocator(4))
    fig.align_ylabels(axes[:, 0])
    if OPHYS is not None:
        fig.align_ylabels(axes[:, 1])
    if figureparams.simulated(ECEPHYS) and figureparams.simulated(OPHYS):
        plots.watermark(fig, "SIMULATED DATA")
    elif figureparams.simulated(OPHYS):  # a reader's file beside the demo two-photon session
        plots.watermark(fig, "right column: SIMULATED DEMO DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
