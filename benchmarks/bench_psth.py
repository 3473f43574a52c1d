"""Event-aligned spike counts: databook.align.event_counts vs pynapple vs a per-unit loop.

500 units x 5000 events x 75 bins of 10 ms (~30 M spikes). pynapple's fastest path for a
count tensor is ``TsGroup.trial_count``; the AllenSDK-style loop histograms each
(unit, event) and is timed on a subset of units and scaled. Target: >= 5x faster than
pynapple with identical counts.

Run: .venv/bin/python benchmarks/bench_psth.py [--units 500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, peer

from databook.align import event_counts

BIN_S, N_BINS, PRE_S = 0.01, 75, 0.25


def make_data(n_units: int, n_events: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    events = 1.0 + np.cumsum(rng.uniform(0.9, 1.1, n_events))
    t_stop = events[-1] + 2.0
    rates = rng.uniform(6.0, 18.0, n_units)
    spikes = [np.sort(rng.uniform(0, t_stop, rng.poisson(r * t_stop))) for r in rates]
    return spikes, events


def allen_style_loop(spikes, events, edges):
    out = np.zeros((len(spikes), events.size, edges.size - 1), dtype=np.int64)
    for u, times in enumerate(spikes):
        for e, t in enumerate(events):
            lo, hi = np.searchsorted(times, [t + edges[0], t + edges[-1]])
            out[u, e] = np.histogram(times[lo:hi], bins=t + edges)[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    spikes, events = make_data(args.units, args.events)
    edges = -PRE_S + BIN_S * np.arange(N_BINS + 1)
    n_spikes = sum(s.size for s in spikes)
    print(
        f"{args.units} units x {events.size} events x {N_BINS} bins, {n_spikes / 1e6:.1f} M spikes"
    )

    ours_s, ours = best_of(lambda: event_counts(spikes, events, edges))
    print(f"databook.align.event_counts: {ours_s:.2f} s")

    nap = peer("pynapple")
    if nap is not None:
        nap.nap_config.suppress_conversion_warnings = True
        group = nap.TsGroup({i: nap.Ts(t=s) for i, s in enumerate(spikes)})
        windows = nap.IntervalSet(start=events + edges[0], end=events + edges[-1])
        nap_s, theirs = best_of(lambda: group.trial_count(windows, bin_size=BIN_S))
        theirs = np.nan_to_num(np.asarray(theirs), nan=-1).astype(int)
        differ = np.argwhere(theirs != ours) if theirs.shape == ours.shape else None
        if differ is None:
            print(f"pynapple TsGroup.trial_count: {nap_s:.2f} s, shape {theirs.shape} differs")
        else:
            # Arbitrate each differing bin with np.histogram on that single window.
            histogram_agrees = all(
                np.histogram(spikes[u], bins=events[e] + edges)[0][b] == ours[u, e, b]
                for u, e, b in differ
            )
            print(
                f"pynapple TsGroup.trial_count: {nap_s:.2f} s; bins differing from databook: "
                f"{len(differ)} of {ours.size}; np.histogram sides with databook in all: "
                f"{histogram_agrees}"
            )
        print(f"ratio pynapple/databook: {nap_s / ours_s:.1f}x")

    subset = max(1, args.units // 50)
    loop_s, loop = best_of(lambda: allen_style_loop(spikes[:subset], events, edges), repeats=1)
    scaled = loop_s * args.units / subset
    print(
        f"AllenSDK-style per-unit loop: {loop_s:.2f} s for {subset} units -> "
        f"{scaled:.1f} s scaled, identical counts: {np.array_equal(loop, ours[:subset])}"
    )
    print(f"ratio loop/databook: {scaled / ours_s:.0f}x")


if __name__ == "__main__":
    main()
