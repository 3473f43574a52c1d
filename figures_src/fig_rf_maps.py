"""Figure: the Gabor grid stimulus and receptive-field maps of example units.

(a) The stimulus: Gabor patches flashed one at a time at the positions of a 9 x 9 grid
(degrees of visual field), each position shown equally often. (b-d) Mean spike count per
presentation at each position for two units with a significant field (best and worst
Gaussian fit among them) and one unit without (the most active non-significant unit),
with the fitted centre (+) and 1-sigma ellipse, and for the demo the planted centre (x)
and width (dashed). (e) A simulated suppressive unit (``databook.demo.spiking``): the
signed fit finds the centre of the suppression. (b-e) share one colour scale and one
colour bar.

Run alone: ``python figures_src/fig_rf_maps.py`` writes ``figures/fig_rf_maps.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from databook import assets, figureparams, nwb, plots, quality, rf, tables
from databook.demo.spiking import grid_rf_session

OUTPUTS = ["fig_rf_maps.png", "fig_rf_maps.pdf"]
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
SUPPRESSED = {"seed": 5, "n_rf": 1, "n_null": 0, "gain": -3.0, "baseline": 4.0, "sigma": 10.0}


def draw_map(ax, fields, unit, title, limits, truth=None):
    """Map of one unit (mean count per presentation) on the shared colour ``limits``
    (spikes / presentation), with its fit and, if known, truth; returns the image."""
    step = np.diff(fields.xs)[0]
    extent = [fields.xs[0] - step / 2, fields.xs[-1] + step / 2]
    extent += [fields.ys[0] - step / 2, fields.ys[-1] + step / 2]
    im = ax.imshow(fields.maps[unit], origin="lower", extent=extent, cmap="viridis",
                   vmin=limits[0], vmax=limits[1])  # fmt: skip
    if np.isfinite(fields.center[unit, 0]):
        cx, cy = fields.center[unit]
        sx, sy = fields.sigma[unit]
        ax.add_patch(Ellipse((cx, cy), 2 * sx, 2 * sy, fill=False, color="w", lw=1.5))
        ax.plot(cx, cy, "+", color="w", ms=9, mew=2, label="fit centre, 1 sigma")
    if truth is not None:
        (tx, ty), ts = truth["center_deg"], truth["sigma_deg"]
        ax.add_patch(Ellipse((tx, ty), 2 * ts, 2 * ts, fill=False, color="#D55E00", ls="--"))
        ax.plot(tx, ty, "x", color="#D55E00", ms=7, mew=2, label="planted")
    ax.set_title(title, loc="left")
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("elevation y (deg)")
    return im


def make_figure(n_shuffles: int = N_SHUFFLES):
    """The six panels, drawn from ``P.asset`` (``n_shuffles`` per unit: fewer for the test)."""
    plots.figure_style()
    with nwb.source(P.asset) as f:
        gabors = nwb.stimulus_table(f, STIMULUS)
        units = quality.drop_noise(nwb.units(f))  # as chapter 5: noise first
    planted = {}  # the planted fields, on the demo only
    if P.truth_asset is not None:
        truth = json.loads(assets.local_file(assets.resolve(P.truth_asset)).read_text())
        planted = {d["unit"]: d for d in truth["ecephys"]["rf_units"]}
    fields = rf.receptive_fields(
        list(units.spike_times), gabors[X], gabors[Y], tables.onsets(gabors, ONSET),
        window=WINDOW_S, n_shuffles=n_shuffles, seed=SEED, q=Q,
    )  # fmt: skip
    located = np.flatnonzero(np.isfinite(fields.center[:, 0]))
    if located.size == 0:  # no fit placed a centre: the two most significant units
        located = np.argsort(fields.p_value, kind="stable")[:2]
    best = located[np.argmax(np.nan_to_num(fields.fit_r2[located], nan=-np.inf))]
    worst = located[np.argmin(np.nan_to_num(fields.fit_r2[located], nan=np.inf))]
    quiet = np.flatnonzero(~fields.significant)  # BH q >= Q
    if quiet.size == 0:  # every unit has a field: the least significant one
        quiet = np.array([int(np.argmax(fields.p_value))])
    n_spikes = np.array([len(s) for s in units.spike_times])
    activity = units["firing_rate"].to_numpy() if "firing_rate" in units else n_spikes
    flat = quiet[np.argmax(activity[quiet])]

    sim = grid_rf_session(**SUPPRESSED)
    sup = rf.receptive_fields(sim.spikes, sim.x, sim.y, sim.onsets, window=(0.0, 0.25),
                              n_shuffles=n_shuffles, seed=SEED, q=Q)  # fmt: skip

    fig, axes = plt.subplots(2, 3, figsize=(7.2, 5.4), layout="constrained")
    ax = axes[0, 0]
    xs, ys = np.meshgrid(fields.xs, fields.ys)
    ax.plot(xs, ys, ".", color="0.6", ms=4)
    # One Gabor patch (illustrative: 20 deg across, 0.08 cycles/deg), at (10, 20) deg.
    gx, gy = np.meshgrid(np.linspace(-10, 10, 101), np.linspace(-10, 10, 101))
    patch = np.cos(2 * np.pi * 0.08 * gx) * np.exp(-(gx**2 + gy**2) / (2 * 4.0**2))
    ax.imshow(patch, extent=[0, 20, 10, 30], cmap="gray", vmin=-1, vmax=1, origin="lower")
    n_pos = int((fields.n_presentations > 0).sum())
    per = np.unique(fields.n_presentations)
    ax.set_title(f"(a) stimulus: {n_pos} positions\nx {per[0]} presentations = "
                 f"{len(gabors)}\nGabor patches, 250 ms each", loc="left")  # fmt: skip
    ax.set_xlim(fields.xs[0] - 8, fields.xs[-1] + 8)
    ax.set_ylim(fields.ys[0] - 8, fields.ys[-1] + 8)
    ax.set_aspect("equal")
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("elevation y (deg)")

    # (b)-(e) on one colour scale, so the maps' rates compare at a glance.
    shown = np.stack([fields.maps[best], fields.maps[worst], fields.maps[flat], sup.maps[0]])
    limits = (float(np.nanmin(shown)), float(np.nanmax(shown)))
    for ax, unit, label in (
        (axes[0, 1], best, "(b)"), (axes[0, 2], worst, "(c)"), (axes[1, 0], flat, "(d)")
    ):  # fmt: skip
        p = fields.p_value[unit]
        r2 = fields.fit_r2[unit]
        fit = f", fit R² {r2:.2f}" if np.isfinite(r2) else ", not fitted"
        uid = units.index[unit]  # rows of `fields` are the kept units
        title = f"{label} unit {uid}\np = {p:.3f}{fit}"
        draw_map(ax, fields, unit, title, limits, planted.get(uid))
    axes[0, 1].legend(loc="lower left", fontsize=8, labelcolor="w")
    title = f"(e) simulated suppressive\np = {sup.p_value[0]:.3f}"
    im = draw_map(axes[1, 1], sup, 0, title, limits)
    # The one bar, for (b)-(e): an inset of (e), exactly as tall as the map (a bar placed
    # by the layout grid stood taller than the square map and ran into the panel title).
    cbar = fig.colorbar(im, cax=axes[1, 1].inset_axes([1.04, 0.0, 0.05, 1.0]))
    cbar.set_label("spikes / presentation, (b)-(e)")
    tx, ty = sim.centers[0]
    axes[1, 1].plot(tx, ty, "x", color="#D55E00", ms=7, mew=2)
    axes[1, 1].text(0.02, 0.02, f"polarity {sup.polarity[0]:+d}", color="w", fontsize=8,
                    transform=axes[1, 1].transAxes)  # fmt: skip

    ax = axes[1, 2]
    row = np.argmin(np.abs(sup.ys - sup.center[0, 1]))
    fit = rf.fit_gaussian(sup.maps[0], sup.xs, sup.ys)
    fine = np.linspace(sup.xs[0], sup.xs[-1], 200)
    curve = fit.offset + fit.amplitude * np.exp(
        -((fine - fit.center[0]) ** 2) / (2 * fit.sigma[0] ** 2)
        - (sup.ys[row] - fit.center[1]) ** 2 / (2 * fit.sigma[1] ** 2)
    )
    ax.plot(sup.xs, sup.maps[0, row], "o", color=plots.COLORS["response"], label="map row")
    ax.plot(fine, curve, color="k", label="signed fit")
    ax.axhline(fit.offset, color=plots.COLORS["baseline"], ls=":", label="fitted offset")
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("spikes / presentation")
    ax.set_title(f"(f) row of (e)\nat elevation {sup.ys[row]:g} deg", loc="left")
    ax.legend(loc="lower right", fontsize=8)
    if figureparams.simulated(P.asset):
        plots.watermark(fig, "SIMULATED DATA")
    return fig


def main() -> None:
    fig = make_figure()
    for name in OUTPUTS:
        plots.save_figure(fig, OUT_DIR / name)


if __name__ == "__main__":
    main()
