"""Figure: validation on the demo session: planted flash responders, latencies and gains.

Left: units called responsive among the planted flash responders (hits) and among all
other units (false alarms). Middle: onset latency from the step fit against the planted
latency, and the time of the spike-density peak (the latency many pipelines report),
for the planted responders. Right: step-fit gain against the planted gain.

Run alone: ``python figures_src/fig_ecephys_validation.py``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from databook import assets, nwb, plots, quality, unitsummary

OUTPUTS = ["fig_ecephys_validation.png", "fig_ecephys_validation.pdf"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]
DEMO_ONLY = True  # compares with the planted answers: `databook run` skips it for other files

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

ASSET, TABLE = "demo-ecephys", "flashes_presentations"


def main() -> None:
    plots.figure_style()
    units = quality.drop_noise(nwb.units(ASSET))  # as chapter 4: noise first
    onsets = nwb.stimulus_table(ASSET, TABLE)["start_time"].to_numpy()
    table = unitsummary.response_table(units, onsets, criteria=None)
    truth_file = assets.local_file(assets.resolve("demo-ground-truth"))
    planted = json.loads(truth_file.read_text())["ecephys"]["flash_responders"]
    truth = pd.DataFrame(planted).set_index("unit")
    truth = truth[truth.index.isin(units.index)]  # planted units labelled noise are gone
    check = unitsummary.recovery(table, truth)
    ids = truth.index
    lat, gain = truth["latency_s"].to_numpy(), truth["gain_hz"].to_numpy()
    hits, false_alarms = check.hits, check.false_alarms

    fig, (ax_h, ax_l, ax_g) = plt.subplots(
        1, 3, figsize=(7.2, 2.8), width_ratios=[0.7, 1, 1], layout="constrained"
    )
    n_planted, n_other = check.n_planted, check.n_other
    ax_h.bar([0, 1], [hits / n_planted, false_alarms / n_other],
             color=[plots.COLORS["response"], plots.COLORS["baseline"]])  # fmt: skip
    ax_h.text(0, hits / n_planted + 0.02, f"{hits}/{n_planted}", ha="center", fontsize=8)
    ax_h.text(1, false_alarms / n_other + 0.02, f"{false_alarms}/{n_other}", ha="center",
              fontsize=8)  # fmt: skip
    ax_h.set_xticks([0, 1], ["planted\nresponders", "other\nunits"])
    ax_h.set_ylim(0, 1.1)
    ax_h.set_ylabel("fraction called responsive")
    ax_h.set_title("detection", loc="left")

    fit = table.loc[ids]
    lims = np.array([0.0, 0.16]) * 1e3
    ax_l.plot(lims, lims, color="0.6", lw=0.8, ls=":")
    ax_l.plot(lat * 1e3, fit["peak_latency"] * 1e3, "s", ms=3.5, mfc="none",
              color=plots.COLORS["baseline"], label="density peak")  # fmt: skip
    ax_l.plot(lat * 1e3, fit["latency"] * 1e3, "o", ms=3.5, color=plots.COLORS["response"],
              label="step-fit onset")  # fmt: skip
    ax_l.set_xlim(25, 65)
    ax_l.set_ylim(*lims)
    ax_l.set_xlabel("planted latency (ms)")
    ax_l.set_ylabel("estimated latency (ms)")
    ax_l.set_title(f"latency (n = {len(ids)})", loc="left")
    ax_l.legend(loc="upper left", fontsize=8)

    glims = [0, 40]
    ax_g.plot(glims, glims, color="0.6", lw=0.8, ls=":")
    ax_g.plot(gain, fit["gain"], "o", ms=3.5, color=plots.COLORS["response"])
    ax_g.set_xlim(*glims)
    ax_g.set_ylim(*glims)
    ax_g.set_xlabel("planted gain (spikes/s)")
    ax_g.set_ylabel("step-fit gain (spikes/s)")
    ax_g.set_title(f"gain (n = {len(ids)})", loc="left")
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
