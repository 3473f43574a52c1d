"""Receptive-field significance: databook.rf vs the AllenSDK per-unit chi-square loop.

200 units (100 with Gaussian RFs, 100 without) x 3645 presentations (9 x 9 grid x 45
repeats), 1000 shuffles. The reference re-implements AllenSDK's algorithm as its
ReceptiveFieldMapping runs it: one unit at a time, each of 1000 shuffles resampling
sweeps with replacement and forming the dense sweeps x positions product, p = fraction of
shuffles with a larger statistic. It is timed on a subset and scaled. Target: >= 30x
faster, the same significance calls (p < 0.01).

Run: .venv/bin/python benchmarks/bench_rf.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of

from databook.align import event_counts
from databook.demo.spiking import grid_rf_session
from databook.rf import receptive_fields

GRID = np.linspace(-40, 40, 9)


def allen_style_p(counts_unit, categories, n_shuffles, rng):
    """One unit, AllenSDK's algorithm: bootstrap sweeps, dense dummy product, mean(<)."""
    dummy = np.zeros((categories.size, categories.max() + 1), dtype=bool)
    dummy[np.arange(categories.size), categories] = True
    events = counts_unit.reshape(-1, 1).astype(float)

    def chi(ev):
        observed = (ev.T.reshape(1, -1, 1) * dummy.reshape(1, *dummy.shape)).sum(axis=1)
        expected = dummy.sum(axis=0).reshape(1, -1) * ev.mean(axis=0).reshape(1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
        return terms.sum(axis=1)[0]

    actual = chi(events)
    shuffled = [
        chi(events[rng.choice(categories.size, categories.size)]) for _ in range(n_shuffles)
    ]
    return float(np.mean(actual < np.array(shuffled)))


def main() -> None:
    session = grid_rf_session(seed=0, n_rf=100, n_null=100, repeats=45, gain=1.0)
    spikes, x, y, onsets = session.spikes, session.x, session.y, session.onsets
    print(f"{len(spikes)} units x {onsets.size} presentations, 1000 shuffles")
    ours_s, rf = best_of(lambda: receptive_fields(spikes, x, y, onsets, n_shuffles=1000), 3)
    print(f"databook.rf.receptive_fields (maps, p-values, Gaussian fits): {ours_s:.2f} s")

    counts = event_counts(spikes, onsets, [0.0, 0.25])[:, :, 0]
    _, ix = np.unique(x, return_inverse=True)
    _, iy = np.unique(y, return_inverse=True)
    categories = iy * GRID.size + ix
    subset = list(range(5)) + list(range(100, 105))  # 5 RF units, 5 null units
    rng = np.random.default_rng(1)
    loop_s, p_ref = best_of(
        lambda: [allen_style_p(counts[u], categories, 1000, rng) for u in subset], 1
    )
    per_unit = loop_s / len(subset)
    scaled = per_unit * len(spikes)
    print(
        f"AllenSDK-style loop: {per_unit:.2f} s per unit -> {scaled:.0f} s for {len(spikes)} units"
    )
    print(f"ratio AllenSDK-style/databook: {scaled / ours_s:.0f}x")
    same = [(p_ref[i] < 0.01) == (rf.p_value[u] < 0.01) for i, u in enumerate(subset)]
    print(f"same significance calls on the {len(subset)} compared units: {all(same)}")
    print(
        f"all units: {int((rf.p_value[:100] < 0.01).sum())}/100 RF units and "
        f"{int((rf.p_value[100:] < 0.01).sum())}/100 null units significant at p < 0.01"
    )


if __name__ == "__main__":
    main()
