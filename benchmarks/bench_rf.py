"""Receptive-field significance: databook.rf vs the AllenSDK per-unit chi-square loop.

200 units (100 with Gaussian RFs, 100 without) x 3645 presentations (9 x 9 grid x 45
repeats), 1000 shuffles. The reference re-implements AllenSDK's algorithm as its
ReceptiveFieldMapping runs it: one unit at a time, each of 1000 shuffles resampling
sweeps with replacement and forming the dense sweeps x positions product, p = fraction of
shuffles with a larger statistic. The literal loop is timed on 10 units and scaled.

Significance calls (p < 0.01) are compared on all 200 units. Running the literal loop on
all of them takes minutes, so the calls come from the same algorithm written with
``np.bincount`` (same random stream, same statistic); that version is first checked to
give exactly the literal loop's p-values on the 10 timed units. ``--literal`` runs the
literal loop on all 200 instead. Target: >= 30x faster, the same significance calls
except where the two nulls (our label permutations, AllenSDK's bootstrap) straddle 0.01.

Run: .venv/bin/python benchmarks/bench_rf.py [--literal]
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
ALPHA = 0.01


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


def allen_style_p_bincount(counts_unit, categories, n_shuffles, rng):
    """:func:`allen_style_p` with the per-position sums done by one ``np.bincount``: the
    same draws from ``rng`` in the same order and the same statistic."""
    n, k = categories.size, categories.max() + 1
    events = counts_unit.astype(float)
    per_position = np.bincount(categories, minlength=k)
    draws = np.stack([rng.choice(n, n) for _ in range(n_shuffles)])  # one call per shuffle
    resampled = np.concatenate([events[None, :], events[draws]])  # row 0: the actual data
    rows = np.repeat(np.arange(n_shuffles + 1), n)
    observed = np.bincount(
        rows * k + np.tile(categories, n_shuffles + 1), resampled.ravel(), (n_shuffles + 1) * k
    ).reshape(n_shuffles + 1, k)
    expected = per_position[None, :] * resampled.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        chi = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0).sum(axis=1)
    return float(np.mean(chi[0] < chi[1:]))


def main(literal: bool) -> None:
    session = grid_rf_session(seed=0, n_rf=100, n_null=100, repeats=45, gain=1.0)
    spikes, x, y, onsets = session.spikes, session.x, session.y, session.onsets
    n_units = len(spikes)
    print(f"{n_units} units x {onsets.size} presentations, 1000 shuffles")
    ours_s, rf = best_of(lambda: receptive_fields(spikes, x, y, onsets, n_shuffles=1000), 3)
    print(f"databook.rf.receptive_fields (maps, p-values, signed Gaussian fits): {ours_s:.2f} s")

    counts = event_counts(spikes, onsets, [0.0, 0.25])[:, :, 0]
    _, ix = np.unique(x, return_inverse=True)
    _, iy = np.unique(y, return_inverse=True)
    categories = iy * GRID.size + ix
    subset = list(range(5)) + list(range(100, 105))  # 5 RF units, 5 null units
    loop_s, p_loop = best_of(
        lambda: [
            allen_style_p(counts[u], categories, 1000, rng)
            for rng in [np.random.default_rng(1)]
            for u in subset
        ],
        1,
    )
    per_unit = loop_s / len(subset)
    scaled = per_unit * n_units
    print(f"AllenSDK-style loop: {per_unit:.2f} s per unit -> {scaled:.0f} s for {n_units} units")
    print(f"ratio AllenSDK-style/databook: {scaled / ours_s:.0f}x")

    if literal:
        rng = np.random.default_rng(1)
        p_ref = np.array([allen_style_p(counts[u], categories, 1000, rng) for u in range(n_units)])
        source = "the literal loop"
    else:
        rng = np.random.default_rng(1)
        p_check = [allen_style_p_bincount(counts[u], categories, 1000, rng) for u in subset]
        same = np.array_equal(p_check, p_loop)
        print(f"bincount version == literal loop on the {len(subset)} timed units: {same}")
        if not same:
            raise SystemExit("the bincount reference differs from the literal loop")
        rng = np.random.default_rng(1)
        p_ref = np.array(
            [allen_style_p_bincount(counts[u], categories, 1000, rng) for u in range(n_units)]
        )
        source = "the AllenSDK algorithm (bincount version)"
    ours, ref = rf.p_value < ALPHA, p_ref < ALPHA
    agree = ours == ref
    print(
        f"significance calls (p < {ALPHA}) vs {source}: {agree.sum()}/{n_units} agree "
        f"(RF units {agree[:100].sum()}/100, null units {agree[100:].sum()}/100)"
    )
    for u in np.flatnonzero(~agree):
        print(f"  unit {u}: databook p = {rf.p_value[u]:.4f}, AllenSDK-style p = {p_ref[u]:.4f}")
    print(
        f"significant: databook {int(ours[:100].sum())}/100 RF and {int(ours[100:].sum())}/100 "
        f"null units; AllenSDK-style {int(ref[:100].sum())}/100 RF and "
        f"{int(ref[100:].sum())}/100 null units"
    )
    fitted = rf.polarity[:100] != 0
    error = np.hypot(*(rf.center[:100] - session.centers).T)[fitted] / 10.0
    print(
        f"fits: {fitted.sum()}/100 RF units located (polarity +1: "
        f"{int((rf.polarity[:100] == 1).sum())}), median centre error {np.median(error):.2f} "
        f"grid steps"
    )


if __name__ == "__main__":
    main(literal="--literal" in sys.argv[1:])
