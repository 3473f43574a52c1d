"""Planted bugs in databook.laminar and the lazy LFP window reader that fast tests catch."""

MUTATIONS = [
    {
        "name": "laminar-extremum-vertex-mirrored",
        "file": "src/databook/laminar.py",
        "old": "dz = -b / (2 * a)",
        "new": "dz = b / (2 * a)",
        "tests": [
            "tests/test_laminar.py::test_extremum_finds_the_vertex_between_irregular_channels"
        ],
    },
    {
        "name": "laminar-area-boundary-at-next-channel",
        "file": "src/databook/laminar.py",
        "old": "low = np.concatenate([[z[0]], (z[change - 1] + z[change]) / 2])",
        "new": "low = np.concatenate([[z[0]], z[change]])",
        "tests": ["tests/test_laminar.py::test_area_spans_put_boundaries_halfway_between_areas"],
    },
    {
        "name": "laminar-trial-average-no-baseline",
        "file": "src/databook/laminar.py",
        "old": "mean = mean - mean[:, inside].mean(axis=1, keepdims=True)",
        "new": "mean = mean - 0.0",
        "tests": [
            "tests/test_laminar.py::test_trial_average_is_channels_first_ignores_nan_and_removes_baseline"
        ],
    },
    {
        "name": "lfp-event-windows-read-whole-series",
        "file": "src/databook/nwb.py",
        "old": "starts, stops = np.clip(starts, 0, len(self)), np.clip(stops, 0, len(self))",
        "new": "starts, stops = 0 * starts, 0 * stops + len(self)",
        "tests": [
            "tests/test_laminar.py::test_event_windows_read_only_the_windows_and_match_a_full_read"
        ],
    },
    {
        "name": "lfp-event-windows-no-leading-margin",
        "file": "src/databook/nwb.py",
        "old": "starts = np.array([self.index(t + window[0]) for t in order]) - 1",
        "new": "starts = np.array([self.index(t + window[0]) for t in order]) + 0",
        "tests": [
            "tests/test_laminar.py::test_event_windows_on_timestamps_are_nan_off_the_recording"
        ],
    },
    {
        "name": "lfp-event-windows-no-trailing-margin",
        "file": "src/databook/nwb.py",
        "old": "stops = np.array([self.index(t + window[1]) for t in order]) + 1",
        "new": "stops = np.array([self.index(t + window[1]) for t in order]) + 0",
        "tests": [
            "tests/test_laminar.py::test_event_windows_on_timestamps_are_nan_off_the_recording"
        ],
    },
]
