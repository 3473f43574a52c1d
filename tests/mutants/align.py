"""Planted bugs in databook.align that the fast alignment tests must catch."""

MUTATIONS = [
    {
        "name": "align-half-open-bins-made-closed-on-the-right",
        "file": "src/databook/align.py",
        "old": 'below = np.searchsorted(times, bounds, side="left")',
        "new": 'below = np.searchsorted(times, bounds, side="right")',
        "tests": ["tests/test_align.py::test_spike_on_shared_edge_is_counted_once_in_later_bin"],
    },
    {
        "name": "align-fast-path-right-edge-closed",
        "file": "src/databook/align.py",
        "old": "bin_ += (bin_ >= 0) & (t >= flat_bounds[base + bin_ + 1])",
        "new": "bin_ += (bin_ >= 0) & (t > flat_bounds[base + bin_ + 1])",
        "tests": [
            "tests/test_align.py::test_event_counts_equals_histogram_with_spikes_on_edges",
            "tests/test_align.py::test_disjoint_and_overlapping_window_paths_agree",
        ],
    },
    {
        "name": "align-event-windows-one-sample-late",
        "file": "src/databook/align.py",
        "old": "return start + np.arange(n) / rate",
        "new": "return start + np.arange(1, n + 1) / rate",
        "tests": ["tests/test_align.py::test_event_windows_is_one_sample_per_step_from_the_event"],
    },
    {
        "name": "align-nan-leaks-from-the-next-sample",
        "file": "src/databook/align.py",
        "old": "            elif w == 0.0:\n",
        "new": "            elif w == -1.0:\n",
        "tests": [
            "tests/test_align.py::test_resample_does_not_leak_nan_from_the_neighbouring_sample"
        ],
    },
    {
        "name": "align-nan-spike-passes-sortedness-check",
        "file": "src/databook/align.py",
        "old": "and (times.size == 1 or np.all(times[1:] >= times[:-1]))",
        "new": "and (times.size == 1 or not np.any(times[1:] < times[:-1]))",
        "tests": ["tests/test_align.py::test_nan_spike_time_is_rejected_naming_the_unit"],
    },
    {
        "name": "align-float32-clock-not-rebuilt",
        "file": "src/databook/align.py",
        "old": "        if rebuilt is not None:\n            timestamps = rebuilt",
        "new": "        if False:\n            timestamps = rebuilt",
        "tests": ["tests/test_align.py::test_float32_frame_clock_gives_the_frame_value"],
    },
]
