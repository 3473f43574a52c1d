"""Figure: the responsiveness criterion recovers the planted responders of the demo.

Left: each cell's measured response amplitude against the amplitude planted in the demo
(the planted dF/F step times the fraction of the response window it covers); filled
markers are cells called responsive. Right: the p-values of the cells with no planted
response, which should be uniform, against the uniform density.

Run alone: ``python figures_src/fig_ophys_validation.py`` writes
``figures/fig_ophys_validation.png`` (and ``.pdf``).
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import assets, nwb, plots, responses

OUTPUTS = ["fig_ophys_validation.png", "fig_ophys_validation.pdf"]
INPUTS = ["demo-ophys-day1", "demo-ground-truth"]
DEMO_ONLY = True  # compares with the planted answers: `databook run` skips it for other files

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
ASSET, TABLE = INPUTS[0], "grating_presentations"
RESPONSE_WINDOW = (0.0, 2.0)  # s from onset; as in the chapter
BASELINE_WINDOW = (-0.5, 0.0)


def main() -> None:
    plots.figure_style()
    traces = nwb.dff(ASSET)
    onsets = nwb.stimulus_table(ASSET, TABLE)["start_time"].to_numpy()
    result = responses.cell_responses(
        traces.t,
        traces.values,
        onsets,
        response_window=RESPONSE_WINDOW,
        baseline_window=BASELINE_WINDOW,
    )
    truth = json.loads(assets.local_file(assets.resolve(INPUTS[1])).read_text())["ophys"]
    cell_id = nwb.rois(ASSET).table["cell_id"].to_numpy()
    planted_amp = truth["responders"]["amplitude_dff"]
    on_start, on_stop = truth["responders"]["window_after_onset_s"]
    cover = max(0.0, min(on_stop, RESPONSE_WINDOW[1]) - max(on_start, RESPONSE_WINDOW[0]))
    expected = (
        np.array([planted_amp.get(str(c), 0.0) for c in cell_id])
        * cover
        / (RESPONSE_WINDOW[1] - RESPONSE_WINDOW[0])
    )
    planted = expected > 0
    called = result.responsive

    fig, (ax_amp, ax_p) = plt.subplots(1, 2, figsize=(7.2, 3.3), layout="constrained")
    top = 1.05 * max(expected.max(), result.amplitude.max())
    ax_amp.plot([0, top], [0, top], color=plots.COLORS["baseline"], lw=0.8, label="identity")
    groups = [
        (planted & called, "planted, called (hit)", plots.COLORS["response"], "o", True),
        (planted & ~called, "planted, not called (miss)", plots.COLORS["response"], "o", False),
        (~planted & called, "not planted, called (false alarm)", plots.COLORS["truth"], "s", True),
        (~planted & ~called, "not planted, not called", plots.COLORS["baseline"], "s", False),
    ]
    for mask, label, color, marker, filled in groups:
        ax_amp.scatter(
            expected[mask],
            result.amplitude[mask],
            s=16,
            marker=marker,
            facecolors=color if filled else "none",
            edgecolors=color,
            lw=0.8,
            label=f"{label}: {mask.sum()}",
        )
    ax_amp.set_xlabel("planted amplitude in the window (dF/F)")
    ax_amp.set_ylabel("measured amplitude (dF/F)")
    ax_amp.set_title(f"recovery, {cell_id.size} cells", loc="left")
    ax_amp.legend(loc="upper left", fontsize=8)

    null_p = result.p_value[~planted]
    bins = np.linspace(0, 1, 11)
    ax_p.hist(null_p, bins=bins, color=plots.COLORS["baseline"], edgecolor="white")
    ax_p.axhline(
        null_p.size / (bins.size - 1), color=plots.COLORS["truth"], ls="--", label="uniform"
    )
    ax_p.set_xlabel("Wilcoxon p-value (uncorrected)")
    ax_p.set_ylabel("cells")
    ax_p.set_title(f"cells with no planted response (n = {null_p.size})", loc="left")
    ax_p.set_ylim(0, 1.35 * np.histogram(null_p, bins)[0].max())
    ax_p.legend(loc="upper center")
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
