"""Figure (pitfall): a Gaussian fitted without an offset term widens receptive fields.

AllenSDK's ``receptive_field_mapping.rf_stats`` fits ``A exp(-(x-x0)^2/2sx^2 -
(y-y0)^2/2sy^2)`` with no constant term to the mean-count map. Background firing then
raises every position, and the fit can only explain it with a wider Gaussian. Here that
model is fitted with scipy (``fit_without_offset`` below, a comparison only: same start at
the map's maximum and the same bounds as ``databook.rf.fit_gaussian``; only the offset
differs) next to the library's fit with an offset. (a) The map of the representative
unit (the one whose width ratio is the median) with both 1-sigma ellipses; (b) its row
through the centre with both fits; (c) fitted/planted width for all planted RF
units, both fits, against the planted ratio of background to peak evoked rate.
Writes ``fig_rf_offset.json`` with the numbers drawn.

Run alone: ``python figures_src/fig_rf_offset.py`` writes ``figures/fig_rf_offset.png``.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from matplotlib.ticker import NullFormatter
from scipy.optimize import curve_fit

from databook import assets, figureparams, nwb, plots, quality, rf, tables

OUTPUTS = ["fig_rf_offset.png", "fig_rf_offset.pdf", "fig_rf_offset.json"]
INPUTS = ["demo-ecephys", "demo-ground-truth"]
DEMO_ONLY = True  # compares with the planted widths: `databook run` skips it for other files

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

# Chapter 5's parameters of the same names (`databook run 05 -p ...` passes its own).
PARAMETERS = {
    "asset": "demo-ecephys",
    "truth_asset": "demo-ground-truth",
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
ASSET, TRUTH = P.asset, P.truth_asset
STIMULUS, X, Y, ONSET = P.stimulus, P.x_column, P.y_column, P.onset_column
WINDOW_S, N_SHUFFLES, Q, SEED = P.window_s, P.n_shuffles, P.q, P.seed
WITH, WITHOUT = "#0072B2", "#D55E00"


def gaussian(xy, amplitude, x0, y0, sx, sy):
    """2-D Gaussian without offset, as AllenSDK's ``_gaussian_function_2d``."""
    dx, dy = (xy[0] - x0) / sx, (xy[1] - y0) / sy
    return amplitude * np.exp(-(dx**2 + dy**2) / 2)


def fit_without_offset(rf_map, xs, ys):
    """Comparison only: (amplitude, x0, y0, sx, sy) of the no-offset Gaussian, degrees."""
    gx, gy = np.meshgrid(xs, ys)
    step, span = np.diff(xs).min(), np.ptp(xs)
    i = np.argmax(rf_map)
    guess = [rf_map.flat[i], gx.flat[i], gy.flat[i], step, step]
    lower = [0, xs[0] - step, ys[0] - step, 0.2 * step, 0.2 * step]
    upper = [np.inf, xs[-1] + step, ys[-1] + step, span, span]
    params, _ = curve_fit(gaussian, (gx.ravel(), gy.ravel()), rf_map.ravel(), p0=guess,
                          bounds=(lower, upper), maxfev=5000)  # fmt: skip
    return params


def main() -> None:
    plots.figure_style()
    gabors = nwb.stimulus_table(ASSET, STIMULUS)
    units = quality.drop_noise(nwb.units(ASSET))  # as chapter 5: noise first
    truth = json.loads(assets.local_file(assets.resolve(TRUTH)).read_text())["ecephys"]
    fields = rf.receptive_fields(
        list(units.spike_times), gabors[X], gabors[Y], tables.onsets(gabors, ONSET),
        window=WINDOW_S, n_shuffles=N_SHUFFLES, seed=SEED, q=Q,
    )  # fmt: skip
    rf_truth = [d for d in truth["rf_units"] if d["unit"] in set(units.index)]  # not noise
    rf_units = units.index.get_indexer([d["unit"] for d in rf_truth])  # rows of `fields`
    planted = np.array([d["sigma_deg"] for d in rf_truth])
    planted_center = np.array([d["center_deg"] for d in rf_truth])
    with_offset = np.sqrt(fields.sigma[rf_units].prod(axis=1))
    no_offset = np.array([fit_without_offset(fields.maps[u], fields.xs, fields.ys)
                          for u in rf_units])  # fmt: skip
    without = np.sqrt(no_offset[:, 3] * no_offset[:, 4])
    ratio = without / planted
    k = int(np.argsort(ratio)[ratio.size // 2])
    unit = rf_units[k]
    at_bound = int(np.sum(np.isclose(no_offset[:, 3:5], np.ptp(fields.xs)).any(axis=1)))

    fig, named = plt.subplot_mosaic("ab;cc", figsize=(7.2, 6.4), layout="constrained",
                                    height_ratios=[1, 0.85])  # fmt: skip
    fig.get_layout_engine().set(wspace=0.06)
    axes = [named["a"], named["b"], named["c"]]
    ax = axes[0]
    step = np.diff(fields.xs)[0]
    extent = [fields.xs[0] - step / 2, fields.xs[-1] + step / 2]
    extent += [fields.ys[0] - step / 2, fields.ys[-1] + step / 2]
    im = ax.imshow(fields.maps[unit], origin="lower", extent=extent, cmap="viridis")
    fig.colorbar(im, ax=ax, shrink=0.8).set_label("spikes / presentation")
    ax.add_patch(Ellipse(fields.center[unit], *(2 * fields.sigma[unit]), fill=False,
                         color="w", lw=1.5, label="with offset"))  # fmt: skip
    _, x0, y0, sx, sy = no_offset[k]
    ax.add_patch(Ellipse((x0, y0), 2 * sx, 2 * sy, fill=False, color=WITHOUT, lw=1.5, ls="--",
                         label="without offset"))  # fmt: skip
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("elevation y (deg)")
    ax.set_title(f"(a) unit {units.index[unit]}: 1-sigma ellipses", loc="left")
    ax.legend(loc="lower left", fontsize=8, labelcolor="w")

    ax = axes[1]
    row = int(np.argmin(np.abs(fields.ys - fields.center[unit, 1])))
    fit = rf.fit_gaussian(fields.maps[unit], fields.xs, fields.ys)
    fine = np.linspace(fields.xs[0], fields.xs[-1], 200)
    y_row = fields.ys[row]
    yy = np.full_like(fine, y_row)
    shape = np.exp(-((fine - fit.center[0]) ** 2) / (2 * fit.sigma[0] ** 2)
                   - (y_row - fit.center[1]) ** 2 / (2 * fit.sigma[1] ** 2))  # fmt: skip
    ax.plot(fields.xs, fields.maps[unit, row], "o", color="k", ms=4, label="map row")
    ax.plot(fine, fit.offset + fit.amplitude * shape, color=WITH, label="with offset")
    ax.plot(fine, gaussian((fine, yy), *no_offset[k]), color=WITHOUT, ls="--",
            label="without offset")  # fmt: skip
    ax.axhline(fit.offset, color=plots.COLORS["baseline"], ls=":", lw=1, label="fitted offset")
    ax.set_xlabel("azimuth x (deg)")
    ax.set_ylabel("spikes / presentation")
    ax.set_title(f"(b) row at elevation {y_row:g} deg", loc="left")
    ax.legend(loc="upper left", fontsize=8)

    ax = axes[2]
    background = np.array([d["baseline_hz"] / d["peak_hz"] for d in rf_truth])
    ax.axhline(1.0, color="0.5", lw=1, label="fitted = planted")
    ax.plot(background, with_offset / planted, "o", ms=5, color=WITH,
            label=f"with offset: median x{np.median(with_offset / planted):.2f}")  # fmt: skip
    ax.plot(background, ratio, "^", ms=5, color=WITHOUT,
            label=f"without offset: median x{np.median(ratio):.2f}")  # fmt: skip
    ax.set_yscale("log")
    ax.set_yticks([0.5, 1, 2, 4, 8], ["0.5", "1", "2", "4", "8"])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("planted background / peak evoked rate")
    ax.set_ylabel("fitted / planted width")
    ax.set_title(f"(c) widths of {rf_units.size} planted RF units against background",
                 loc="left")  # fmt: skip
    ax.legend(loc="upper left", fontsize=8)
    plots.watermark(fig, "SIMULATED DATA")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    numbers = {
        "example_unit": int(unit),
        "median_ratio_with_offset": float(np.median(with_offset / planted)),
        "median_ratio_without_offset": float(np.median(ratio)),
        "n_without_offset_at_width_bound": at_bound,
        "median_center_error_without_offset_deg": float(
            np.median(
                np.hypot(
                    no_offset[:, 1] - planted_center[:, 0], no_offset[:, 2] - planted_center[:, 1]
                )
            )
        ),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(numbers, indent=1) + "\n")


if __name__ == "__main__":
    main()
