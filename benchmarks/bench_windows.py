"""Event-aligned windows of a continuous signal: databook.align.event_windows vs pynapple.

500 ROIs x 90,000 frames (30 Hz, 50 min of dF/F, float32), 2000 events, window -1 to
+2 s. pynapple's path is ``compute_perievent`` on a TsdFrame (the sample nearest each
grid point); ours interpolates linearly from each event's own time.

Headline case: events 10 ms off the frame grid (stimulus onsets come from their own
clock, so they rarely fall on a frame), where every output sample is a blend of two
frames. Ours is checked against ``np.interp`` on every ROI, pynapple's against the
nearest frame. Also timed: events on frame times (both must return the frame values)
and a jittered frame clock. Times are medians of several runs after a warm-up (the
numba kernel is compiled or loaded from its cache outside the timing). Ours is timed on
one thread (like pynapple) and on all threads. Target: >= 3x faster than pynapple.

Run: .venv/bin/python benchmarks/bench_windows.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import databook_threads, median_of, peer

from databook.align import event_windows, window_times

RATE, WINDOW, OFF_GRID_S = 30.0, (-1.0, 2.0), 0.010


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_frames, n_rois, n_events = 90_000, 500, 2000
    t = np.arange(n_frames) / RATE
    dff = rng.standard_normal((n_frames, n_rois), dtype=np.float32)
    frames = np.sort(rng.choice(np.arange(60, n_frames - 90), n_events, replace=False))
    off_grid = t[frames] + OFF_GRID_S
    print(
        f"{n_rois} ROIs x {n_frames} frames, {n_events} events, window {WINDOW} s, "
        f"{os.cpu_count()} CPUs"
    )
    event_windows(t, dff, off_grid[:2], WINDOW, RATE)  # warm-up: compile or load kernel

    def ours(events, clock=t):
        return lambda: event_windows(clock, dff, events, WINDOW, RATE)

    with databook_threads(1):
        one_s, _ = median_of(ours(off_grid), args.repeats)
    all_s, result = median_of(ours(off_grid), args.repeats)
    print(
        f"databook.align.event_windows, events {OFF_GRID_S * 1e3:.0f} ms off the frame grid: "
        f"{one_s:.3f} s on 1 thread, {all_s:.3f} s on all -> {result.shape} {result.dtype}"
    )
    queries = off_grid[:, None] + window_times(WINDOW, RATE)[None, :]
    worst = max(
        np.abs(result[..., roi] - np.interp(queries, t, dff[:, roi])).max() for roi in range(n_rois)
    )
    print(f"  equals np.interp on all {n_rois} ROIs: max |difference| {worst:.1e}")

    on_grid = t[frames]
    on_s, on_result = median_of(ours(on_grid), args.repeats)
    expected = dff[frames[:, None] + np.arange(-30, 60)[None, :]]
    print(
        f"databook.align.event_windows, events on frame times: {on_s:.3f} s (all threads); "
        f"equals the frame values: {np.array_equal(on_result, expected)}"
    )
    del on_result, expected
    jittered = t + rng.normal(0, 3e-4, t.size)  # real frame clocks jitter
    jitter_s, _ = median_of(ours(off_grid, jittered), args.repeats)
    print(f"databook.align.event_windows, jittered frame clock: {jitter_s:.3f} s (all threads)")

    nap = peer("pynapple")
    if nap is None:
        return
    nap.nap_config.suppress_conversion_warnings = True
    frame = nap.TsdFrame(t=t, d=dff)
    for label, events, ours_one, ours_all in (
        ("off the grid (headline)", off_grid, one_s, all_s),
        ("on frame times", on_grid, None, on_s),
    ):
        refs = nap.Ts(t=events)
        nap.compute_perievent(frame, refs, window=WINDOW)  # warm-up (numba inside)
        nap_s, theirs = median_of(
            lambda refs=refs: nap.compute_perievent(frame, refs, window=WINDOW),
            max(2, args.repeats // 2),
        )
        values = np.moveaxis(np.asarray(theirs.values), 0, 1)  # (events, time, ROIs)
        grid = np.asarray(theirs.index)
        nearest = np.rint((events[:, None] + grid[None, :]) * RATE).astype(int)
        agrees = np.array_equal(values, dff[nearest])
        print(
            f"pynapple compute_perievent, events {label}: {nap_s:.3f} s -> {values.shape}; "
            f"equals the nearest frame's values: {agrees}"
        )
        line = f"  ratio pynapple/databook {label}: "
        if ours_one is not None:
            line += f"{nap_s / ours_one:.1f}x single-thread, "
        print(line + f"{nap_s / ours_all:.1f}x all threads")
        del theirs, values


if __name__ == "__main__":
    main()
