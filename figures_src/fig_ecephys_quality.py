"""Figure: Allen quality metrics of the demo units and what the Siegle et al. (2021) filter keeps.

Top: distribution of each metric the filter uses over all units, with its threshold
(dashed) and the number of units it removes (a panel whose threshold removes none says
so). Bottom: units kept as the threshold is moved, the published value marked: how
sensitive the unit count is to the choice. Both rows of a metric share one x range,
which holds the data and the threshold.

Run alone: ``python figures_src/fig_ecephys_quality.py``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import figureparams, nwb, plots, quality

OUTPUTS = ["fig_ecephys_quality.png", "fig_ecephys_quality.pdf"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 4's parameters of the same names; `databook run 04 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "quality_criteria": {  # Siegle et al. 2021: metric: (keep if op, value)
        "isi_violations": ("<", 0.5),
        "amplitude_cutoff": ("<", 0.1),
        "presence_ratio": (">", 0.9),
    },
}
P = figureparams.load(PARAMETERS, script=__file__)
LABELS = {
    "isi_violations": "ISI violations (ratio)",
    "amplitude_cutoff": "amplitude cutoff (fraction)",
    "presence_ratio": "presence ratio (fraction)",
}


def main() -> None:
    plots.figure_style()
    units = quality.drop_noise(nwb.units(P.asset))  # as chapter 4: noise first
    criteria = {
        m: quality.Threshold(op, v) for m, (op, v) in P.quality_criteria.items() if m in units
    }
    absent = sorted(set(P.quality_criteria) - set(criteria))
    fig, axes = plt.subplots(
        2, max(len(criteria), 1), figsize=(7.2, 4.2), layout="constrained", squeeze=False
    )
    if not criteria:
        for ax in axes.ravel():
            ax.set_axis_off()
        axes[0, 0].text(0.5, 0.5, f"the units table has none of {', '.join(absent)}:\n"
                        "no quality filter applied", ha="center", va="center")  # fmt: skip
    counts = quality.filter_table(units, criteria) if criteria else None
    for k, (metric, threshold) in enumerate(criteria.items()):
        values = units[metric].to_numpy(float)
        # One x range per metric, for both rows: the data and the threshold, padded 5 %.
        lo = min(np.nanmin(values), threshold.value)
        hi = max(np.nanmax(values), threshold.value)
        pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
        span = (lo - pad, hi + pad)
        ax = axes[0, k]
        ax.hist(values, bins=20, color=plots.COLORS["response"], alpha=0.8)
        ax.axvline(threshold.value, color=plots.COLORS["truth"], ls="--", lw=1.2)
        removed = int(counts.loc[metric, "fail"])
        # Say it when the dashed line cuts off nothing in these data.
        none = "\n(no unit beyond the threshold)" if removed == 0 else ""
        ax.set_title(f"keep {threshold}: removes {removed}{none}", loc="left")
        ax.set_xlabel(LABELS.get(metric, metric))
        ax.set_xlim(*span)
        # Units kept as the threshold moves over the range of the data and the default.
        grid = np.linspace(*span, 200)
        kept = [
            quality.passes(units, {metric: quality.Threshold(threshold.op, g)}).sum() for g in grid
        ]
        ax = axes[1, k]
        ax.plot(grid, kept, color="k", lw=1.2)
        ax.axvline(threshold.value, color=plots.COLORS["truth"], ls="--", lw=1.2)
        ax.set_xlabel(f"threshold: {LABELS.get(metric, metric).split(' (')[0]}")
        ax.set_ylim(0, len(units) * 1.05)
        ax.set_xlim(*span)
    axes[0, 0].set_ylabel("units")
    axes[1, 0].set_ylabel(f"units kept (of {len(units)})")
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
