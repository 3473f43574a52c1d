"""Figure (real data): one per-session function over every session of DANDI:000006, on Dask.

The verified copies of 000006 in the data cache are served, under their real asset ids
and sha256, by a DANDI-compatible archive on 127.0.0.1 (``databook.localarchive``); the
DANDI client lists the dandiset version there and ``sessions.across`` streams each
session on a 2-worker Dask cluster with ``sessions.choice_selectivity``, exactly as it
would from the archive. Left: the fraction of units selective (lick right vs left) in each
session, against the session's number of units. Right: three estimates of the fraction
for each epoch: pooled units (Wilson interval), sessions as observations (t-interval
of session fractions) and a beta-binomial fit (profile-likelihood interval).

Runs only in the real-data build (``make article DATA=dandi``); writes a JSON summary of
every number the chapter quotes.
"""

import json
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from databook import assets, localarchive, plots, sessions, stats

DATA = "dandi"
OUTPUTS = ["fig_alm_across.png", "fig_alm_across.pdf", "fig_alm_across.json"]
INPUTS: list[str] = []
OPTIONAL_INPUTS = ["alm-*"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
EPOCHS = ("sample", "delay", "response")


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    held = [lock[k] for k in sorted(assets.available_keys(lock)) if k.startswith("alm-")]
    if not held:
        raise SystemExit("no DANDI:000006 session in the data cache: run `databook fetch`")
    archive = localarchive.Archive(held[0].dandiset, held[0].version)
    for asset in held:
        archive.add(asset.path, assets.local_file(asset), asset_id=asset.asset_id)
    began = time.perf_counter()
    # A fresh across cache: the figure is rebuilt only when an input or the code changes,
    # and then it measures what streaming every session costs.
    with (
        tempfile.TemporaryDirectory() as across_cache,
        localarchive.DandiServer(archive) as server,
        server.traffic() as traffic,
    ):
        found = sessions.dandiset_assets(archive.dandiset, archive.version, api_url=server.api_url)
        run = sessions.across(
            sessions.choice_selectivity,
            found,
            workers=2,
            progress=False,
            dashboard=False,
            cache=across_cache,
        )
    wall_s = time.perf_counter() - began
    # The archive answered with the pins of assets.lock: same asset ids, same sha256.
    pinned = {a.path: (a.asset_id, a.sha256) for a in held}
    listed = {a.path: (a.asset_id, a.sha256) for a in found}
    if listed != pinned:
        raise RuntimeError("the local archive listed other assets than assets.lock pins")

    table = run.table
    counts = (
        table.groupby(["path", "epoch"])["selective"].agg(["sum", "size"]).unstack("epoch")
    )  # (session, (stat, epoch))
    estimates = {}
    for epoch in EPOCHS:
        k = counts[("sum", epoch)].to_numpy(int)
        n = counts[("size", epoch)].to_numpy(int)
        low, high = stats.wilson(int(k.sum()), int(n.sum()))
        between = stats.between_sessions(k, n)
        model = stats.session_fraction(k, n)
        estimates[epoch] = {
            "pooled": {"mean": float(k.sum() / n.sum()), "low": low, "high": high},
            "sessions": {"mean": between.mean, "low": between.low, "high": between.high},
            "beta_binomial": {"mean": model.mean, "low": model.low, "high": model.high},
            "rho": model.rho,
        }

    fig, (ax_funnel, ax_est) = plt.subplots(
        1, 2, figsize=(7.2, 3.2), width_ratios=[1, 1.2], layout="constrained"
    )
    n_units = counts[("size", "delay")].to_numpy(int)
    delay_fraction = counts[("sum", "delay")].to_numpy(int) / n_units
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, n_units.size)
    ax_funnel.scatter(n_units * np.exp(jitter), delay_fraction, s=12, color="0.3", lw=0)
    ax_funnel.axhline(estimates["delay"]["pooled"]["mean"], color="k", ls="--", lw=1)
    ax_funnel.set_xscale("log")
    plots.plain_log_ticks(ax_funnel.xaxis)
    ax_funnel.set_xlabel("units in the session")
    ax_funnel.set_ylabel("fraction selective in the delay")
    ax_funnel.set_title(f"{len(counts)} sessions; dashed: pooled units", loc="left")

    styles = {
        "pooled": ("s", "#999999"),
        "sessions": ("o", "#0072B2"),
        "beta_binomial": ("D", "#D55E00"),
    }
    labels = {
        "pooled": "pooled units (Wilson)",
        "sessions": "sessions (t)",
        "beta_binomial": "beta-binomial",
    }
    for k, epoch in enumerate(EPOCHS):
        for j, (name, (marker, color)) in enumerate(styles.items()):
            e = estimates[epoch][name]
            ax_est.errorbar(
                k + (j - 1) * 0.2,
                e["mean"],
                yerr=[[e["mean"] - e["low"]], [e["high"] - e["mean"]]],
                fmt=marker,
                color=color,
                capsize=2,
                ms=4,
                label=labels[name] if k == 0 else None,
            )
    ax_est.set_xticks(range(len(EPOCHS)), EPOCHS)
    ax_est.set_ylim(0, 1.05)
    ax_est.set_ylabel("fraction of units selective")
    ax_est.legend(loc="lower right", fontsize=8)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)

    provenance = table.drop_duplicates("path")[list(sessions.PROVENANCE)]
    result = {
        "dandiset": archive.dandiset,
        "version": archive.version,
        "n_sessions_served": len(found),
        "n_sessions": len(counts),
        "n_units": int(n_units.sum()),
        "failures": run.failures[["path", "error_type", "error"]].to_dict("records"),
        "computed": run.computed,
        "cache_hits": run.cache_hits,
        "wall_s": round(wall_s, 2),
        "bytes_streamed": int(traffic.bytes_ranged),
        "bytes_of_files": int(sum(a.size for a in found)),
        "estimates": estimates,
        "per_session": {
            path: {
                e: [int(counts.loc[path, ("sum", e)]), int(counts.loc[path, ("size", e)])]
                for e in EPOCHS
            }
            for path in counts.index
        },
        "provenance": provenance.to_dict("records"),
    }
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
