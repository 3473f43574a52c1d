"""Figure: each demo session split into its stimulus blocks, on the session's own clock.

Every intervals table of a session is read (``nwb.intervals``, ``nwb.stimulus_table``),
the presentations are stacked and split into blocks where the stimulus changes or pauses
for more than ``MAX_GAP_S`` (``tables.blocks``). Each block is a bar labelled with its
stimulus and its number of presentations; the session's running speed runs underneath.

On a reader's file a table without a ``stimulus_name`` column (``trials``) is named by
its table name, blocks too short to label stay unlabelled, and a session without running
speed says so.

Run alone: ``python figures_src/fig_align_timeline.py`` writes
``figures/fig_align_timeline.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from databook import figureparams, nwb, plots, tables

OUTPUTS = ["fig_align_timeline.png"]
INPUTS = ["demo-ecephys", "demo-ophys-day1"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 2's parameters of the same names; `databook run 02 --nwb FILE -p ...` passes its own.
PARAMETERS = {"asset": "demo-ecephys", "ophys_asset": "demo-ophys-day1", "max_gap": 5.0}
P = figureparams.load(PARAMETERS, script=__file__)
SESSIONS = [P.asset, P.ophys_asset]
MAX_GAP_S = P.max_gap
LABELS = {"demo-ecephys": "Neuropixels session", "demo-ophys-day1": "two-photon session"}
# Okabe-Ito colours, one per stimulus, in order of first appearance.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00"]


def session(asset: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    names = nwb.intervals(asset).index
    stacked = [nwb.stimulus_table(asset, n) for n in names]
    stacked = [t if "stimulus_name" in t else t.assign(stimulus_name=n)
               for t, n in zip(stacked, names, strict=True)]  # fmt: skip
    table = pd.concat(stacked, ignore_index=True)
    table = table.assign(stop_time=table["stop_time"].fillna(table["start_time"]))
    with nwb.source(asset) as src:
        start = src.h5["session_start_time"][()].decode()
    return table, tables.blocks(table, max_gap=MAX_GAP_S), start


def main() -> None:
    plots.figure_style()
    sessions = [a for a in SESSIONS if a is not None]  # ophys_asset None: one session
    fig, axes = plt.subplots(
        2 * len(sessions), 1, figsize=(7.2, 2.3 * len(sessions)),
        height_ratios=[0.55, 1] * len(sessions), layout="constrained",
    )  # fmt: skip
    colors: dict[str, str] = {}
    for k, asset in enumerate(sessions):
        ax_blocks, ax_run = axes[2 * k : 2 * k + 2]
        table, blocks, start = session(asset)
        try:
            run = nwb.running_speed(asset)
        except nwb.NWBContentError:  # a reader's file may have none
            run = None
        t_end = max(run.t[-1] if run is not None else 0.0, blocks["stop_time"].max())
        for block in blocks.itertuples():
            color = colors.setdefault(block.stimulus_name, PALETTE[len(colors) % len(PALETTE)])
            ax_blocks.barh(0, block.duration_s, left=block.start_time, height=0.8, color=color)
            if block.duration_s < 0.08 * t_end:  # too short for its label
                continue
            ax_blocks.text(
                block.start_time + block.duration_s / 2, 0.75,
                f"{block.stimulus_name} (n={block.n_presentations})",
                ha="center", va="bottom", fontsize=8,
            )  # fmt: skip
        ax_blocks.eventplot(
            table["start_time"].to_numpy(), lineoffsets=-0.75, linelengths=0.5,
            linewidths=0.3, colors="k",
        )  # fmt: skip
        ax_blocks.set_ylim(-1.1, 1.9)
        ax_blocks.set_yticks([])
        ax_blocks.spines["left"].set_visible(False)
        ax_blocks.set_title(
            f"{LABELS.get(asset, Path(str(asset)).stem[:24])}: {len(blocks)} stimulus "
            f"block{'s' if len(blocks) != 1 else ''}, {len(table)} presentations (ticks) "
            f"- start {start[:16].replace('T', ' ')}",
            loc="left",
        )
        # Running speed as 1 s means, so 60 Hz noise does not fill the panel.
        if run is not None:
            step = max(1, round(1.0 / np.median(np.diff(run.t))))
            n = run.values.size // step * step
            ax_run.plot(
                run.t[:n].reshape(-1, step).mean(1),
                run.values[:n].reshape(-1, step).mean(1),
                color=plots.COLORS["response"],
                lw=0.7,
            )
            ax_run.set_ylabel(f"running\n({run.unit}, 1 s means)")
        else:
            ax_run.text(0.5, 0.5, "no running speed in this file", ha="center", va="center",
                        transform=ax_run.transAxes, color="0.4")  # fmt: skip
            ax_run.set_yticks([])
            ax_run.set_ylabel("running")
        for ax in (ax_blocks, ax_run):
            ax.set_xlim(0, t_end)
        ax_blocks.sharex(ax_run)
        ax_blocks.tick_params(labelbottom=False)
        ax_run.set_xlabel("time since this session's start (s)")
    fig.align_ylabels(axes)
    if all(figureparams.simulated(a) for a in SESSIONS):
        plots.watermark(fig, "SIMULATED DATA")
    elif figureparams.simulated(P.ophys_asset):  # a reader's file above the demo 2P session
        plots.watermark(fig, "lower session: SIMULATED DEMO DATA")
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
