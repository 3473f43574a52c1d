"""Planted bugs in databook.tuning, each caught by fast tests."""

T = "tests/test_tuning.py::"
MUTATIONS = [
    {
        "name": "tuning-osi-first-harmonic",
        "file": "src/databook/tuning.py",
        "old": "return np.abs(_vector(mean, directions_deg, 2))",
        "new": "return np.abs(_vector(mean, directions_deg, 1))",
        "tests": [T + "test_planted_von_mises_orientation_tuning_is_recovered"],
    },
    {
        "name": "tuning-no-rectification",
        "file": "src/databook/tuning.py",
        "old": "return np.clip(mean, 0.0, None), directions",
        "new": "return mean, directions",
        "tests": [T + "test_negative_responses_are_rectified_and_flat_curves_give_nan"],
    },
    {
        "name": "tuning-preferred-orientation-not-halved",
        "file": "src/databook/tuning.py",
        "old": "np.angle(_vector(mean, directions_deg, 2))) / 2.0, 180.0)",
        "new": "np.angle(_vector(mean, directions_deg, 2))), 180.0)",
        "tests": [T + "test_planted_von_mises_orientation_tuning_is_recovered"],
    },
    {
        "name": "tuning-peak-orth-one-side",
        "file": "src/databook/tuning.py",
        "old": "other = 0.5 * (response_at(90.0) + response_at(-90.0))",
        "new": "other = response_at(90.0)",
        "tests": [T + "test_peak_osi_averages_both_orthogonal_directions"],
    },
    {
        "name": "tuning-peak-dsi-uses-orthogonal",
        "file": "src/databook/tuning.py",
        "old": "return _peak_index(mean, directions_deg, 180.0)",
        "new": "return _peak_index(mean, directions_deg, 90.0)",
        "tests": [T + "test_planted_von_mises_direction_tuning_is_recovered"],
    },
    {
        "name": "tuning-sem-population-sd",
        "file": "src/databook/tuning.py",
        "old": "var = np.maximum(square - mean**2, 0.0) * n / (n - 1)",
        "new": "var = np.maximum(square - mean**2, 0.0)",
        "tests": [T + "test_tuning_curves_match_a_groupby_over_trials"],
    },
    {
        "name": "tuning-nan-trials-counted",
        "file": "src/databook/tuning.py",
        "old": "n = finite.T.astype(np.float64) @ hot  # cells x conditions",
        "new": "n = np.ones_like(finite).T.astype(np.float64) @ hot  # cells x conditions",
        "tests": [T + "test_tuning_curves_match_a_groupby_over_trials"],
    },
    {
        "name": "tuning-baseline-not-subtracted",
        "file": "src/databook/tuning.py",
        "old": "return times[keep], cut[:, keep] - base[:, None, :]",
        "new": "return times[keep], cut[:, keep]",
        "tests": [T + "test_trial_responses_average_to_the_cell_responses_amplitude"],
    },
    {
        "name": "tuning-shuffle-not-shuffled",
        "file": "src/databook/tuning.py",
        "old": "hot = _one_hot(labels[order], curves.conditions)",
        "new": "hot = _one_hot(labels[np.sort(order, axis=1)], curves.conditions)",
        "tests": [T + "test_selectivity_of_simulated_dff_cells_is_recovered_end_to_end"],
    },
    {
        "name": "tuning-shuffle-p-without-plus-one",
        "file": "src/databook/tuning.py",
        "old": "p = (1.0 + exceed) / (1.0 + n_shuf)",
        "new": "p = exceed / n_shuf",
        "tests": [T + "test_selectivity_of_simulated_dff_cells_is_recovered_end_to_end"],
    },
]
