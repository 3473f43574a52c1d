"""Event-aligned windows of a continuous signal: databook.align.event_windows vs pynapple.

500 ROIs x 90,000 frames (30 Hz, 50 min of dF/F, float32), 2000 events, window -1 to
+2 s. pynapple's path is ``compute_perievent`` on a TsdFrame (nearest samples on a
regular grid); ours interpolates from each event's own time. Events sit on frame times,
so both must return the frame values. Target: >= 3x faster.

Run: .venv/bin/python benchmarks/bench_windows.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, peer

from databook.align import event_windows

RATE, WINDOW = 30.0, (-1.0, 2.0)


def main() -> None:
    rng = np.random.default_rng(0)
    n_frames, n_rois, n_events = 90_000, 500, 2000
    t = np.arange(n_frames) / RATE
    dff = rng.standard_normal((n_frames, n_rois), dtype=np.float32)
    frames = np.sort(rng.choice(np.arange(60, n_frames - 90), n_events, replace=False))
    events = t[frames]
    print(f"{n_rois} ROIs x {n_frames} frames, {n_events} events, window {WINDOW} s")
    ours_s, ours = best_of(lambda: event_windows(t, dff, events, WINDOW, RATE))
    print(f"databook.align.event_windows: {ours_s:.2f} s -> {ours.shape} {ours.dtype}")
    expected = dff[frames[:, None] + np.arange(-30, 60)[None, :]]
    print(f"equals the frame values: {np.allclose(ours, expected, atol=1e-5)}")

    jittered = t + rng.normal(0, 3e-4, t.size)  # real frame clocks jitter
    irregular_s, _ = best_of(lambda: event_windows(jittered, dff, events + 1e-3, WINDOW, RATE))
    print(f"databook.align.event_windows, jittered frame times (all blended): {irregular_s:.2f} s")

    nap = peer("pynapple")
    if nap is None:
        return
    nap.nap_config.suppress_conversion_warnings = True
    frame = nap.TsdFrame(t=t, d=dff)
    refs = nap.Ts(t=events)
    nap_s, theirs = best_of(lambda: nap.compute_perievent(frame, refs, window=WINDOW))
    values = np.asarray(theirs.values)  # (time, events, ROIs)
    print(f"pynapple compute_perievent: {nap_s:.2f} s -> {values.shape}")
    aligned = np.moveaxis(values, 0, 1)[:, : ours.shape[1]]
    same = aligned.shape == ours.shape and np.allclose(aligned, ours, atol=1e-5, equal_nan=True)
    print(f"pynapple values equal ours on the shared samples: {same}")
    print(f"ratio pynapple/databook: {nap_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
