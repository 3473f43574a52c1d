"""Figure (real data): human MTL units around image onsets, DANDI:000207 (Zheng et al.).

One session of the Rutishauser lab's cognitive-boundaries dataset (sub-4, ses-4):
microwire units in the right hippocampus and amygdala of a patient who, after watching
video clips, saw single frames and judged each one old or new (the scene-recognition
task, ``recognition_table``). Top: rasters and PSTHs (50 ms bins, band: SEM over
images) of the most significant unit of each area, aligned to image
onset; shaded: the baseline and response windows. Bottom left: fraction of units whose
response-window spike count differs from the same image's baseline count (two-sided
Wilcoxon signed-rank per unit, Benjamini-Hochberg over the session's units), excited and
suppressed, by area. Bottom right: each unit's mean rate change (response minus baseline
window, spikes/s), responsive units filled.

Runs only in the real-data build (``make article DATA=dandi``) from the verified copy
in the data cache; writes a JSON of every number the chapter quotes.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import align, assets, figureparams, nwb, plots, stats

DATA = "dandi"
OUTPUTS = ["fig_mtl_responses.png", "fig_mtl_responses.pdf", "fig_mtl_responses.json"]
INPUTS = ["human-mtl-sub-4-ses-4"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "asset": "human-mtl-sub-4-ses-4",
    "stimulus_name": "recognition_table",  # one row per image shown
    "onset_column": "start_time",  # image onset (s); fixcross_time precedes it
    # Equal lengths, so counts compare directly; the baseline lies inside the fixation
    # cross shown before every image (checked below), the response after the earliest
    # MTL visual latencies.
    "baseline_window": (-0.4, 0.0),  # s from image onset
    "response_window": (0.2, 0.6),  # s from image onset
    "bin_s": 0.05,  # PSTH bin
    "window_s": (-0.5, 1.5),  # PSTH and raster window around onset
}
P = figureparams.load(PARAMETERS, script=__file__)
AREA_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
EXCITED, SUPPRESSED = plots.COLORS["response"], plots.COLORS["truth"]


def window_counts(spikes, onsets, baseline, response):
    """(response, baseline) spike counts, each (n_onsets, n_units), in the two windows
    (seconds from each onset, half-open)."""
    edges = np.unique(np.r_[baseline, response])
    counts = align.event_counts(spikes, onsets, edges)  # (n_units, n_onsets, n_bins)
    base = counts[:, :, np.searchsorted(edges, baseline[0])]
    resp = counts[:, :, np.searchsorted(edges, response[0])]
    return resp.T, base.T


def raster(spike_times, onsets, window):
    """(time from onset, trial index) of every spike within ``window`` s of each onset."""
    lo = np.searchsorted(spike_times, onsets + window[0])
    hi = np.searchsorted(spike_times, onsets + window[1])
    trial = np.repeat(np.arange(onsets.size), hi - lo)
    index = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
    return spike_times[index.astype(int)] - onsets[trial], trial


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    asset = lock[P.asset]
    baseline, response = np.asarray(P.baseline_window), np.asarray(P.response_window)
    if not np.isclose(np.ptp(baseline), np.ptp(response)) or baseline[1] > response[0]:
        raise SystemExit(
            f"baseline_window {P.baseline_window} and response_window {P.response_window} "
            "must have equal lengths (counts are compared) and not overlap"
        )
    with nwb.source(P.asset) as f:
        units = nwb.units(f)
        table = nwb.stimulus_table(f, P.stimulus_name)
    onsets = table[P.onset_column].to_numpy()
    spikes = list(units["spike_times"])
    resp, base = window_counts(spikes, onsets, baseline, response)
    change = stats.paired_change(resp, base)
    area = units["electrode_location"].astype(str).to_numpy()
    areas = sorted(set(area), key=lambda a: (-np.sum(area == a), a))

    by_area = {}
    for name in areas:
        here = area == name
        by_area[name] = {
            "n_units": int(here.sum()),
            "n_responsive": int(change.significant[here].sum()),
            "n_excited": int((change.direction[here] > 0).sum()),
            "n_suppressed": int((change.direction[here] < 0).sum()),
            "fraction": float(change.significant[here].mean()),
        }
    examples = {}  # per area its most significant unit, responsive or not
    for name in areas:
        pool = np.flatnonzero(area == name)
        examples[name] = int(pool[np.argmin(change.p_value[pool])])

    fig = plt.figure(figsize=(7.2, 6.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.3, 1])
    columns = max(len(examples), 1)
    grid = top.subplots(2, columns, sharex=True, squeeze=False, height_ratios=[1.2, 1])
    edges = np.arange(P.window_s[0], P.window_s[1] + P.bin_s / 2, P.bin_s)
    for k, (name, unit) in enumerate(examples.items()):
        ax_r, ax_p = grid[0, k], grid[1, k]
        t, trial = raster(spikes[unit], onsets, P.window_s)
        ax_r.scatter(t, trial, s=0.6, color="k", lw=0, rasterized=True)
        ax_r.set_ylim(-1, onsets.size)
        ax_r.set_ylabel("image")
        ax_r.set_title(
            f"unit {units.index[unit]}, {name.replace('_', ' ')}: q = {change.q_value[unit]:.1g}",
            loc="left",
        )
        psth = align.psth([spikes[unit]], onsets, edges)
        color = AREA_COLORS[areas.index(name) % len(AREA_COLORS)]
        ax_p.fill_between(
            psth.centers, psth.rate[0] - psth.sem[0], psth.rate[0] + psth.sem[0],
            color=color, alpha=0.3, lw=0, step="mid",
        )  # fmt: skip
        ax_p.step(psth.centers, psth.rate[0], where="mid", color=color)
        ax_p.set_xlabel("time from image onset (s)")
        ax_p.set_ylabel("rate (spikes/s)")
        for ax in (ax_r, ax_p):
            ax.axvspan(*baseline, color="0.9", lw=0, zorder=0)
            ax.axvspan(*response, color=plots.COLORS["stimulus"], alpha=0.2, lw=0, zorder=0)
            ax.axvline(0, color="0.4", lw=0.8, ls="--")
    top.suptitle(
        f"DANDI:000207 {asset.path}: {onsets.size} images ({P.stimulus_name})",
        x=0.01, ha="left", fontsize=8,
    )  # fmt: skip

    ax_frac, ax_change = bottom.subplots(1, 2)
    x = np.arange(len(areas))
    excited = np.array([by_area[a]["n_excited"] / by_area[a]["n_units"] for a in areas])
    suppressed = np.array([by_area[a]["n_suppressed"] / by_area[a]["n_units"] for a in areas])
    ax_frac.bar(x, excited, color=EXCITED, label="excited")
    ax_frac.bar(x, suppressed, bottom=excited, color=SUPPRESSED, label="suppressed")
    for i, a in enumerate(areas):
        info = by_area[a]
        label = f"{info['n_responsive']}/{info['n_units']}"
        ax_frac.text(i, excited[i] + suppressed[i] + 0.02, label, ha="center", fontsize=8)
    ax_frac.set_xticks(x, [a.replace("_", " ") for a in areas])
    ax_frac.set_ylim(0, 1)
    ax_frac.set_ylabel("fraction of units responsive")
    ax_frac.legend(fontsize=8, loc="upper right")
    ax_frac.set_title(f"Wilcoxon per unit, BH q < {stats.FDR_Q}", loc="left")

    # Counts per image are small integers (median change mostly 0): show the mean.
    rate_change = (resp - base).mean(axis=0) / np.ptp(response)  # spikes/s
    order = np.argsort(rate_change)
    filled = change.significant[order]
    colors = np.where(change.direction[order] > 0, EXCITED, SUPPRESSED)
    rank = np.arange(order.size)
    ax_change.scatter(rank[~filled], rate_change[order][~filled], s=12, facecolors="none",
                      edgecolors="0.5", label="not responsive")  # fmt: skip
    ax_change.scatter(rank[filled], rate_change[order][filled], s=12, color=colors[filled],
                      label="responsive")  # fmt: skip
    ax_change.axhline(0, color="0.5", lw=0.8)
    ax_change.set_xlabel("units, by rate change")
    ax_change.set_ylabel("response - baseline rate (spikes/s)")
    ax_change.legend(fontsize=8, loc="upper left")
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    fixation = table["fixcross_time"].to_numpy() if "fixcross_time" in table else None
    result = {
        "dandiset": asset.dandiset,
        "version": asset.version,
        "asset_id": asset.asset_id,
        "path": asset.path,
        "sha256": asset.sha256,
        "stimulus_name": P.stimulus_name,
        "onset_column": P.onset_column,
        "n_onsets": int(onsets.size),
        "n_units": len(units),
        "baseline_window": list(P.baseline_window),
        "response_window": list(P.response_window),
        "fdr_q": stats.FDR_Q,
        "n_responsive": int(change.significant.sum()),
        "fraction_responsive": float(change.significant.mean()),
        "n_excited": int((change.direction > 0).sum()),
        "n_suppressed": int((change.direction < 0).sum()),
        "by_area": by_area,
        "rate_change_hz": rate_change.tolist(),
        "units": [int(i) for i in units.index],
        "p_value": change.p_value.tolist(),
        "q_value": change.q_value.tolist(),
        "direction": change.direction.tolist(),
        "examples": {a: int(units.index[u]) for a, u in examples.items()},
        "image_s_median": float(np.median(table["stop_time"] - table["start_time"])),
        "onset_gap_min_s": float(np.diff(np.sort(onsets)).min()),
        "fixation_lead_min_s": (float(np.min(onsets - fixation)) if fixation is not None else None),
        "baseline_in_fixation": (
            float(np.mean(onsets + baseline[0] >= fixation)) if fixation is not None else None
        ),
        "sorted_units": len(units.attrs.get("sorted_units", [])),
        "n_spikes": int(sum(s.size for s in spikes)),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
