"""Event-aligned spike counts: databook.align.event_counts vs pynapple vs a per-unit loop.

500 units x 5000 events x 75 bins of 10 ms (~30 M spikes). pynapple's fastest path for a
count tensor is ``TsGroup.trial_count`` (single-threaded); the AllenSDK-style loop
histograms each (unit, event) with np.histogram, on every unit. Ours is timed on one
thread (like both peers) and on all threads, in rounds interleaved with pynapple (medians,
after a warm-up).
Every bin where pynapple differs is explained: its edges are ``start + bin_size``
accumulated and rounded to 1 ns, ours (and np.histogram's) are ``event + edges`` in
float64. Target: >= 5x faster than pynapple with identical counts elsewhere.

Run: .venv/bin/python benchmarks/bench_psth.py [--units 500] [--loop-units 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import databook_threads, peer

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


def pynapple_edges(start: float, n_bins: int) -> np.ndarray:
    """The bin edges pynapple's ``jitcount`` uses for a window starting at ``start``."""
    edges = [start]
    for _ in range(n_bins):
        edges.append(np.round(edges[-1] + BIN_S, 9))
    return np.array(edges)


def explain(spikes, events, edges, ours, theirs) -> None:
    """Print each bin where pynapple's count differs, with the spike that moved."""
    differ = np.argwhere(theirs != ours)
    print(f"  bins differing from databook: {len(differ)} of {ours.size}")
    for u, e, b in differ:
        window = events[e] + edges
        histogram = np.histogram(spikes[u], bins=window)[0][b]
        nap_window = pynapple_edges(window[0], edges.size - 1)
        lo, hi = min(window[b], nap_window[b]), max(window[b + 1], nap_window[b + 1])
        near = spikes[u][(spikes[u] >= lo - 1e-9) & (spikes[u] <= hi + 1e-9)]
        edge_moved = [
            (i, window[i], nap_window[i])
            for i in (b, b + 1)
            if any((s < window[i]) != (s < nap_window[i]) for s in near)
        ]
        print(
            f"  unit {u}, event {e}, bin {b}: databook {ours[u, e, b]}, np.histogram "
            f"{histogram}, pynapple {theirs[u, e, b]}"
        )
        for i, our_edge, nap_edge in edge_moved:
            spike = near[(near < our_edge) != (near < nap_edge)][0]
            print(
                f"    edge {i}: event + edges[{i}] = {our_edge!r}; pynapple's rounded edge "
                f"{nap_edge!r}; the spike at {spike!r} lies {(spike - our_edge) * 1e9:+.3f} ns "
                f"from ours, {(spike - nap_edge) * 1e9:+.3f} ns from pynapple's"
            )
    if len(differ):
        print(
            "  convention: databook and np.histogram compare spikes with event + edges[i] "
            "in float64; pynapple accumulates start + bin_size and rounds each edge to 1 ns "
            "(np.round(edge, 9)), so spikes within 1 ns of an edge can change bins"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--loop-units", type=int, default=None, help="default: all units")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spikes, events = make_data(args.units, args.events)
    edges = -PRE_S + BIN_S * np.arange(N_BINS + 1)
    n_spikes = sum(s.size for s in spikes)
    print(
        f"{args.units} units x {events.size} events x {N_BINS} bins, "
        f"{n_spikes / 1e6:.1f} M spikes, {os.cpu_count()} CPUs"
    )

    event_counts(spikes[:2], events[:10], edges)  # warm-up
    nap = peer("pynapple")
    if nap is not None:
        nap.nap_config.suppress_conversion_warnings = True
        group = nap.TsGroup({i: nap.Ts(t=s) for i, s in enumerate(spikes)})
        windows = nap.IntervalSet(start=events + edges[0], end=events + edges[-1])
        nap.TsGroup({0: nap.Ts(t=spikes[0])}).trial_count(windows[:5], bin_size=BIN_S)

    # Rounds interleave ours (1 thread, all threads) and pynapple, so that a busy spell
    # on a shared machine slows all of them rather than one. Process CPU time is kept
    # too: for single-threaded runs it is the wall time an idle machine would give.
    times = {"1 thread": [], "all threads": [], "pynapple": []}
    cpu = {"1 thread": [], "pynapple": []}
    theirs = ours = None

    def clocked(label, fn):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times[label].append(time.perf_counter() - start)
        if label in cpu:
            cpu[label].append(time.process_time() - start_cpu)
        return result

    for _ in range(args.rounds):
        for label, threads in (("1 thread", 1), ("all threads", None)):
            ours = None  # free the last result first, as a caller would
            with databook_threads(threads):
                ours = clocked(label, lambda: event_counts(spikes, events, edges))
        if nap is not None:
            result = clocked("pynapple", lambda: group.trial_count(windows, bin_size=BIN_S))
            if theirs is None:
                theirs = np.nan_to_num(np.asarray(result), nan=-1).astype(int)
            del result
    median = {label: statistics.median(values) for label, values in times.items() if values}
    one_s, all_s = median["1 thread"], median["all threads"]
    one_cpu = statistics.median(cpu["1 thread"])
    print(
        f"databook.align.event_counts: {one_s:.2f} s on 1 thread (CPU {one_cpu:.2f} s), "
        f"{all_s:.2f} s on all (medians of {args.rounds} rounds; 1/all per round: "
        + ", ".join(
            f"{a:.2f}/{b:.2f}" for a, b in zip(times["1 thread"], times["all threads"], strict=True)
        )
        + ")"
    )
    if nap is not None:
        nap_s, nap_cpu = median["pynapple"], statistics.median(cpu["pynapple"])
        print(f"pynapple TsGroup.trial_count: {nap_s:.2f} s (CPU {nap_cpu:.2f} s), {theirs.shape}")
        if theirs.shape == ours.shape:
            explain(spikes, events, edges, ours, theirs)
        del theirs
        print(
            f"ratio pynapple/databook: {nap_s / one_s:.1f}x single-thread, "
            f"{nap_s / all_s:.1f}x all threads; CPU time single-thread {nap_cpu / one_cpu:.1f}x"
        )

    n_loop = args.units if args.loop_units is None else min(args.loop_units, args.units)
    start = time.perf_counter()
    loop = allen_style_loop(spikes[:n_loop], events, edges)
    loop_s = time.perf_counter() - start
    scaled = loop_s * args.units / n_loop
    print(
        f"AllenSDK-style per-unit loop on {n_loop} of {args.units} units: {loop_s:.1f} s"
        f"{'' if n_loop == args.units else f' ({scaled:.1f} s scaled)'}; identical counts on "
        f"all of them: {np.array_equal(loop, ours[:n_loop])}"
    )
    print(
        f"ratio loop/databook: {scaled / one_s:.0f}x single-thread, "
        f"{scaled / all_s:.0f}x all threads"
    )


if __name__ == "__main__":
    main()
