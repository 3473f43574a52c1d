"""Figure: flash responses by area and receptive-field centres, pooled over demo sessions.

Four simulated Neuropixels sessions (demo seeds 0-3) are served by the local
DANDI-compatible archive on 127.0.0.1 and analysed on a 2-worker Dask LocalCluster with
``databook.sessions.across`` (results cached in the data cache, so a re-run is cheap).
Left: fraction of quality-passing units called responsive per area, estimated with
sessions as the observations (bar: beta-binomial mean, 95 % interval) and per session
(dots). Right: the fitted RF centre of every
unit with a significant field, one colour per session, on one visual-field map.

Run alone: ``python figures_src/fig_across_sessions.py`` writes
``figures/fig_across_sessions.png``.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import localarchive, plots, sessions

OUTPUTS = ["fig_across_sessions.png"]
INPUTS: list[str] = []

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
SEEDS = [0, 1, 2, 3]
SESSION_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]


def main() -> None:
    plots.figure_style()
    with localarchive.serve(sessions.demo_files(SEEDS)) as server:
        archive = server.archive
        found = sessions.dandiset_assets(archive.dandiset, archive.version, api_url=server.api_url)
        flashes = sessions.across(sessions.responsive_units, found, progress=False)
        fields = sessions.across(sessions.rf_centres, found, progress=False)
    pooled = sessions.by_area(flashes.table)
    kept = flashes.table[flashes.table["passes_quality"]]
    per_session = kept.groupby(["area", "path"])["responsive"].mean()
    paths = sorted(flashes.table["path"].unique())

    fig, (ax_area, ax_rf) = plt.subplots(
        1, 2, figsize=(7.2, 3.2), width_ratios=[1, 1.25], layout="constrained"
    )
    x = np.arange(len(pooled))
    ax_area.bar(x, pooled["fraction"], color=plots.COLORS["baseline"], width=0.6)
    ax_area.errorbar(
        x,
        pooled["fraction"],
        yerr=[pooled["fraction"] - pooled["ci_low"], pooled["ci_high"] - pooled["fraction"]],
        fmt="none",
        ecolor="k",
        capsize=3,
        lw=1,
    )
    for k, path in enumerate(paths):
        values = [per_session.get((area, path), np.nan) for area in pooled.index]
        ax_area.plot(x + (k - 1.5) * 0.08, values, "o", ms=3, color=SESSION_COLORS[k % 4])
    for xi, row in zip(x, pooled.itertuples(), strict=True):
        ax_area.text(xi, row.ci_high + 0.02, f"{row.n_responsive}/{row.n_units}", ha="center")
    ax_area.set_xticks(x, pooled.index)
    ax_area.set_ylim(0, 1)
    ax_area.set_xlabel("area")
    ax_area.set_ylabel("fraction responsive to flashes")
    ax_area.set_title(f"{len(paths)} sessions, estimated over sessions", loc="left")

    table = fields.table
    for k, path in enumerate(paths):
        rows = table[table["path"] == path]
        ax_rf.plot(
            rows["x_deg"], rows["y_deg"], "o", ms=3.5, alpha=0.8,
            color=SESSION_COLORS[k % 4], label=f"{path.split('/')[0]} (n = {len(rows)})",
        )  # fmt: skip
    ax_rf.set_aspect("equal")
    ax_rf.set_xlabel("azimuth (deg)")
    ax_rf.set_ylabel("elevation (deg)")
    ax_rf.set_title(f"RF centres, {len(table)} units", loc="left")
    ax_rf.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    plots.watermark(fig, "SIMULATED DATA")  # a free corner, not over the data
    plots.save_figure(fig, OUT_DIR / OUTPUTS[0])


if __name__ == "__main__":
    main()
