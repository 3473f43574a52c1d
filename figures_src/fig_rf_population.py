"""Figure: receptive-field centres of the population, and their validation.

(a) Fitted centres and 1-sigma ellipses of every unit with a significant, located field,
on the visual field, coloured by the depth of the unit's peak channel. (b, c) Planted
against recovered centres (x and y) and widths of the planted RF units, with the identity
line. (d) False alarms: distribution of shuffle-test p-values of the units without a
planted field (the demo's null, flash, optotagged and late units, and 500 simulated null
units from ``databook.demo.spiking``) against the uniform distribution of a calibrated
test. Writes ``fig_rf_population.json`` with the numbers drawn. On a reader's file (no
planted answers) the figure has two panels: (a), and (b) the p-values of all its units
against those of the simulated null units.

Run alone: ``python figures_src/fig_rf_population.py`` writes
``figures/fig_rf_population.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Ellipse

from databook import assets, figureparams, nwb, plots, quality, rf, tables
from databook.demo.spiking import grid_rf_session

OUTPUTS = ["fig_rf_population.png", "fig_rf_population.pdf", "fig_rf_population.json"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 5's parameters of the same names; `databook run 05 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "truth_asset": "demo-ground-truth",  # None for real data
    "stimulus": "gabors_presentations",
    "x_column": "x_position",
    "y_column": "y_position",
    "onset_column": "start_time",
    "window_s": (0.0, 0.25),
    "q": 0.05,  # false-discovery rate over the session's units (BH), as chapter 5
    "n_shuffles": 1000,
    "seed": 0,
}
P = figureparams.load(PARAMETERS, script=__file__)
STIMULUS, X, Y, ONSET = P.stimulus, P.x_column, P.y_column, P.onset_column
WINDOW_S, N_SHUFFLES, Q, SEED = P.window_s, P.n_shuffles, P.q, P.seed
NULL_SIM = {"seed": 1, "n_rf": 0, "n_null": 500, "baseline": 1.5}


def draw_centres(fig, ax, fields, located, depth, areas, n_units):
    """(a): centres and 1-sigma ellipses of the located fields, coloured by depth."""
    half = np.diff(fields.xs)[0] / 2
    ax.add_patch(plt.Rectangle((fields.xs[0] - half, fields.ys[0] - half),
                               np.ptp(fields.xs) + 2 * half, np.ptp(fields.ys) + 2 * half,
                               fill=False, color="0.6", ls=":"))  # fmt: skip
    # Coloured by depth where every located unit has one (the units name their channels).
    by_depth = located.size > 0 and bool(np.all(np.isfinite(depth[located])))
    if by_depth:
        norm = plt.Normalize(depth[located].min(), depth[located].max())
        cmap = plt.get_cmap("viridis")
    for unit in located:
        (cx, cy), (sx, sy) = fields.center[unit], fields.sigma[unit]
        color = cmap(norm(depth[unit])) if by_depth else "#0072B2"
        ax.add_patch(Ellipse((cx, cy), 2 * sx, 2 * sy, fill=False, color=color, lw=0.8, alpha=0.6))
    if by_depth:
        sc = ax.scatter(*fields.center[located].T, c=depth[located], cmap=cmap, norm=norm, s=18,
                        edgecolor="k", lw=0.4, zorder=3)  # fmt: skip
        fig.colorbar(sc, ax=ax, shrink=0.8).set_label(
            f"peak-channel depth from tip (µm), {', '.join(areas)}"
        )
    else:
        ax.scatter(*fields.center[located].reshape(-1, 2).T, color="#0072B2", s=18,
                   edgecolor="k", lw=0.4, zorder=3)  # fmt: skip
    ax.set_aspect("equal")
    ax.set_xlim(fields.xs[0] - 12, fields.xs[-1] + 12)
    ax.set_ylim(fields.ys[0] - 12, fields.ys[-1] + 12)
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("elevation y (deg)")
    ax.set_title(f"(a) {located.size} of {n_units} units:\ncentres, 1 sigma", loc="left")


def draw_null(ax, p_values, label, null, legend=None):
    """Cumulative p-values of ``p_values`` and of the simulated null units, log-log;
    ``legend``: keyword arguments of its legend."""
    u = np.linspace(0, 1, 101)
    ax.plot(u, u, color="0.5", lw=1, label="uniform (calibrated)")
    for p, name, color in ((p_values, label, "#0072B2"),
                           (null.p_value, f"simulated null (n = {null.p_value.size})",
                            "#009E73")):  # fmt: skip
        ax.step(np.sort(p), np.arange(1, p.size + 1) / p.size, where="post", color=color,
                label=f"{name}: {np.mean(p < Q):.1%} < {Q:g}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    plots.plain_log_ticks(ax.xaxis)  # 0.001 ... 1, not 10^n (small exponents)
    plots.plain_log_ticks(ax.yaxis)
    ax.set_xlim(5e-4, 1)
    ax.set_ylim(1e-3, 1.05)
    ax.axvline(Q, color=plots.COLORS["truth"], ls="--", lw=1)
    ax.set_xlabel("shuffle-test p-value")
    ax.set_ylabel("fraction of units with p at most")
    ax.legend(**(legend or dict(loc="lower right", fontsize=8, frameon=True, framealpha=1,
                                edgecolor="none")))  # fmt: skip


def real_data(fields, located, depth, areas, n_units, null) -> None:
    """A reader's file: no planted answers, so (a) and the p-values of all its units."""
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 4.0), layout="constrained")
    draw_centres(fig, axes[0], fields, located, depth, areas, n_units)
    draw_null(axes[1], fields.p_value, f"all units (n = {n_units})", null)
    axes[1].set_title("(b) shuffle-test p-values", loc="left")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    numbers = {
        "n_units": n_units,
        "n_located": int(located.size),
        "fraction_significant": float(np.mean(fields.significant)),  # BH q < Q
        "false_alarm_simulated": float(np.mean(null.p_value < Q)),  # uncorrected p
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(numbers, indent=1) + "\n")


def main() -> None:
    plots.figure_style()
    with nwb.source(P.asset) as f:
        gabors = nwb.stimulus_table(f, STIMULUS)
        units = quality.drop_noise(nwb.units(f))  # as chapter 5: noise first
    fields = rf.receptive_fields(
        list(units.spike_times), gabors[X], gabors[Y], tables.onsets(gabors, ONSET),
        window=WINDOW_S, n_shuffles=N_SHUFFLES, seed=SEED, q=Q,
    )  # fmt: skip
    located = np.flatnonzero(np.isfinite(fields.center[:, 0]))
    depth = units.get("electrode_depth_um", pd.Series(np.nan, units.index)).to_numpy(float)
    where = units.get("electrode_location", pd.Series(None, units.index, dtype=object))
    areas = sorted({str(a) for a in where.to_numpy()[located] if a is not None})
    sim = grid_rf_session(**NULL_SIM)
    null = rf.receptive_fields(sim.spikes, sim.x, sim.y, sim.onsets, window=(0.0, 0.25),
                               n_shuffles=N_SHUFFLES, seed=SEED, q=Q)  # fmt: skip
    if P.truth_asset is None:
        return real_data(fields, located, depth, areas, len(units), null)
    truth = json.loads(assets.local_file(assets.resolve(P.truth_asset)).read_text())["ecephys"]

    rf_truth = [d for d in truth["rf_units"] if d["unit"] in set(units.index)]  # not noise
    rf_units = units.index.get_indexer([d["unit"] for d in rf_truth])  # rows of `fields`
    planted_center = np.array([d["center_deg"] for d in rf_truth])
    planted_sigma = np.array([d["sigma_deg"] for d in rf_truth])
    center = fields.center[rf_units]
    sigma = np.sqrt(fields.sigma[rf_units].prod(axis=1))  # geometric mean of sx, sy
    error = np.hypot(*(center - planted_center).T)
    without = np.setdiff1d(np.arange(len(units)), rf_units)

    fig, axes = plt.subplots(2, 2, figsize=(7.2, 6.6), layout="constrained")
    draw_centres(fig, axes[0, 0], fields, located, depth, areas, len(units))

    ax = axes[0, 1]
    lim = [fields.xs[0] - 5, fields.xs[-1] + 5]
    ax.plot(lim, lim, color="0.5", lw=1, label="identity")
    ax.plot(planted_center[:, 0], center[:, 0], "o", ms=4, color="#0072B2", label="azimuth x")
    ax.plot(planted_center[:, 1], center[:, 1], "s", ms=4, color="#E69F00", label="elevation y")
    ax.set_xlabel("planted centre (deg)")
    ax.set_ylabel("recovered centre (deg)")
    ax.set_title(f"(b) centres, n = {rf_units.size}:\nmedian error "
                 f"{np.nanmedian(error):.2f} deg", loc="left")  # fmt: skip
    ax.legend(loc="upper left")
    ax.set_aspect("equal")

    ax = axes[1, 0]
    lim = [planted_sigma.min() - 2, planted_sigma.max() + 2]
    ax.plot(lim, lim, color="0.5", lw=1, label="identity")
    ax.plot(planted_sigma, sigma, "o", ms=4, color="#0072B2", label="fit with offset")
    ax.set_xlabel("planted width sigma (deg)")
    ax.set_ylabel("recovered width, sqrt(sx sy) (deg)")
    width_error = np.nanmedian(np.abs(sigma - planted_sigma))
    ax.set_title(f"(c) widths, n = {rf_units.size}:\nmedian |error| {width_error:.2f} deg",
                 loc="left")  # fmt: skip
    ax.legend(loc="upper left")
    ax.set_aspect("equal")

    draw_null(axes[1, 1], fields.p_value[without], f"demo, no planted field (n = {without.size})",
              null, legend=dict(loc="upper left", fontsize=8))  # fmt: skip
    axes[1, 1].set_title("(d) false alarms: units without a field", loc="left")
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    numbers = {
        "n_units": len(units),
        "n_located": int(located.size),
        "median_center_error_deg": float(np.nanmedian(error)),
        "median_width_error_deg": float(width_error),
        "false_alarm_demo": float(np.mean(fields.p_value[without] < Q)),  # uncorrected p
        "false_alarm_simulated": float(np.mean(null.p_value < Q)),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(numbers, indent=1) + "\n")


if __name__ == "__main__":
    main()
