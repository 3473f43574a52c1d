"""Planted bugs in databook.tables that tests/test_tables.py must catch."""

F = "src/databook/tables.py"
T = "tests/test_tables.py::"

MUTATIONS = [
    {
        "name": "tables-float-exact-equality",
        "file": F,
        "old": "<= FLOAT_RTOL * np.abs(wanted)[None, :]",
        "new": "<= 0.0 * np.abs(wanted)[None, :]",
        "tests": [T + "test_float32_contrast_equals_the_literal_a_user_types"],
    },
    {
        "name": "tables-between-left-end-open",
        "file": F,
        "old": 'lower = values >= self.low if self.closed in ("both", "left")',
        "new": 'lower = values > self.low if self.closed in ("both", "left")',
        "tests": [T + "test_between_includes_the_ends_it_says"],
    },
    {
        "name": "tables-list-keeps-first-value-only",
        "file": F,
        "old": "return _equal_mask(values, accepted, kind)",
        "new": "return _equal_mask(values, accepted[:1], kind)",
        "tests": [T + "test_select_matches_a_row_by_row_oracle"],
    },
    {
        "name": "tables-no-typo-error",
        "file": F,
        "old": "if len(table) and not hit.any():",
        "new": "if False:",
        "tests": [T + "test_a_value_no_row_has_lists_the_values_present"],
    },
    {
        "name": "tables-gap-from-previous-stop-not-latest",
        "file": F,
        "old": "latest_stop = np.maximum.accumulate(stop[order])",
        "new": "latest_stop = stop[order]",
        "tests": [T + "test_blocks_by_several_columns_and_overlap"],
    },
    {
        "name": "tables-missing-not-equal-missing",
        "file": F,
        "old": "| (current.isna() & previous.isna())",
        "new": "| np.zeros(len(current), dtype=bool)",
        "tests": [T + "test_blocks_by_several_columns_and_overlap"],
    },
    {
        "name": "tables-labels-in-sorted-not-input-order",
        "file": F,
        "old": "labels[order] = np.cumsum(new) - 1",
        "new": "labels[:] = np.cumsum(new) - 1",
        "tests": [T + "test_block_labels_follow_the_input_index"],
    },
    {
        "name": "tables-last-row-off-by-one",
        "file": F,
        "old": "last = np.append(first[1:] - 1, label.size - 1) if label.size else first",
        "new": "last = np.append(first[1:], label.size - 1) if label.size else first",
        "tests": [T + "test_blocks_split_on_name_changes_and_on_pauses"],
    },
    {
        "name": "tables-onset-expression-ignores-minus",
        "file": F,
        "old": "            total += sign * values.astype(np.float64)",
        "new": "            total += values.astype(np.float64)",
        "tests": ["tests/test_onsets.py::test_minus_parentheses_and_constants_keep_their_signs"],
    },
    {
        "name": "tables-trial-relative-without-the-span-test",
        "file": F,
        "old": "        if late <= 0.05 * finite.size and span >= 10 * top:",
        "new": "        if late <= 0.05 * finite.size:",
        "tests": [
            "tests/test_onsets.py::test_session_times_in_long_trials_are_not_called_trial_relative"
        ],
    },
]
