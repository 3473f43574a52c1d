"""Planted bugs in databook.rf that the fast tests must catch (tests/mutations.py)."""

T = "tests/test_rf.py::"
FILE = "src/databook/rf.py"

MUTATIONS = [
    {
        "name": "rf-shuffle-p-value-off-by-one",
        "file": FILE,
        "old": "return observed, permutation_p(exceed, n_shuffles)  # (k + 1) / (n + 1), never 0",
        "new": "return observed, exceed / n_shuffles",
        "tests": [T + "test_shuffle_p_value_matches_a_per_unit_loop"],
    },
    {
        "name": "rf-shuffle-ties-not-counted",
        "file": FILE,
        "old": "exceed += (shuffled >= observed[None, :] - 1e-6).sum(axis=0)",
        "new": "exceed += (shuffled > observed[None, :] + 1e-6).sum(axis=0)",
        "tests": [T + "test_shuffle_p_value_matches_a_per_unit_loop"],
    },
    {
        "name": "rf-polarity-sign-flipped",
        "file": FILE,
        "old": "polarity[unit] = np.sign(fit.amplitude)",
        "new": "polarity[unit] = -np.sign(fit.amplitude)",
        "tests": [T + "test_suppressive_field_gets_its_centre_and_negative_polarity"],
    },
    {
        "name": "rf-positive-fit-only",
        "file": FILE,
        "old": "for sign, pick in ((1.0, np.argmax), (-1.0, np.argmin)):",
        "new": "for sign, pick in ((1.0, np.argmax),):",
        "tests": [T + "test_suppressive_field_gets_its_centre_and_negative_polarity"],
    },
    {
        "name": "rf-poor-fits-kept",
        "file": FILE,
        "old": "if np.hypot(*fit.center_se) <= max_center_se * step and fit.amplitude != 0:",
        "new": "if fit.amplitude != 0:",
        "tests": [T + "test_maps_without_one_field_get_no_centre"],
    },
    {
        "name": "rf-grid-tolerance-ignored",
        "file": FILE,
        "old": "new = np.r_[True, np.diff(distinct) > tol]",
        "new": "new = np.r_[True, np.diff(distinct) > 0]",
        "tests": [T + "test_positions_off_the_grid_by_float_noise_are_snapped"],
    },
    {
        "name": "rf-blank-presentations-kept",
        "file": FILE,
        "old": "x, y, onsets = x[~blank], y[~blank], onsets[~blank]",
        "new": "x, y = np.nan_to_num(x), np.nan_to_num(y)",
        "tests": [T + "test_blank_presentations_are_excluded_and_counted"],
    },
    {
        "name": "rf-width-scaled",
        "file": FILE,
        "old": "sigma=np.abs(params[4:6]),",
        "new": "sigma=np.abs(params[4:6]) * 1.2,",
        "tests": [T + "test_fit_is_signed_and_skips_cells_never_presented"],
    },
    {
        "name": "rf-no-bh-over-units",
        "file": FILE,
        "old": "    q_value = fdr(p)\n",
        "new": "    q_value = p\n",
        "tests": [T + "test_planted_receptive_fields_are_found_centred_and_sized"],
    },
]
