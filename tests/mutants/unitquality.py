"""Planted bugs in databook.quality, databook.latency and databook.unitsummary (chapter 4)."""

Q, L, U = "tests/test_quality.py::", "tests/test_latency.py::", "tests/test_unitsummary.py::"
MUTATIONS = [
    {
        "name": "quality-nan-passes",
        "file": "src/databook/quality.py",
        "old": "columns.append(_OPS[threshold.op](values, threshold.value) & ~np.isnan(values))",
        "new": "columns.append(_OPS[threshold.op](np.nan_to_num(values), threshold.value))",
        "tests": [Q + "test_passes_uses_strict_thresholds_and_nan_fails"],
    },
    {
        "name": "quality-siegle-presence-inclusive",
        "file": "src/databook/quality.py",
        "old": '"presence_ratio": Threshold(">", 0.9),',
        "new": '"presence_ratio": Threshold(">=", 0.9),',
        "tests": [Q + "test_siegle_thresholds_are_the_published_ones"],
    },
    {
        "name": "quality-only-this-counts-any-failure",
        "file": "src/databook/quality.py",
        "old": "only = fail & (fail.sum(axis=1, keepdims=True) == 1)",
        "new": "only = fail",
        "tests": [Q + "test_filter_table_counts_each_filter_alone_and_in_sequence"],
    },
    {
        "name": "quality-sequence-ignores-earlier-filters",
        "file": "src/databook/quality.py",
        "old": "kept_after = np.cumprod(ok, axis=1).astype(bool)",
        "new": "kept_after = ok",
        "tests": [Q + "test_filter_table_counts_each_filter_alone_and_in_sequence"],
    },
    {
        "name": "latency-step-end-off-by-one",
        "file": "src/databook/latency.py",
        "old": 'out["duration"][sl] = (j[b] - i[b]) * bin_size',
        "new": 'out["duration"][sl] = (j[b] - i[b] + 1) * bin_size',
        "tests": [L + "test_step_equals_direct_count_of_its_interval"],
    },
    {
        "name": "latency-suppression-allowed",
        "file": "src/databook/latency.py",
        "old": "ll = np.where(excitatory, ll, -np.inf)",
        "new": "ll = ll",
        "tests": [L + "test_a_suppressed_unit_gets_no_excitatory_step_where_it_is_silent"],
    },
    {
        "name": "latency-reports-bin-end",
        "file": "src/databook/latency.py",
        "old": 'out["latency"][sl] = edges[i[b]]',
        "new": 'out["latency"][sl] = edges[i[b] + 1]',
        "tests": [L + "test_step_equals_direct_count_of_its_interval"],
    },
    {
        "name": "latency-baseline-from-whole-window",
        "file": "src/databook/latency.py",
        "old": 'out["base"][sl] = n_out[rows[found], b] / t_out[b]',
        "new": 'out["base"][sl] = total[found, 0] / t_all',
        "tests": [L + "test_planted_step_is_recovered"],
    },
    {
        "name": "unitsummary-latency-for-non-responders",
        "file": "src/databook/unitsummary.py",
        "old": '"latency": np.where(excited, step.latency, np.nan),',
        "new": '"latency": step.latency,',
        "tests": [U + "test_table_joins_response_latency_area_and_quality"],
    },
    {
        "name": "unitsummary-unsorted-not-sorted",
        "file": "src/databook/unitsummary.py",
        "old": "        spikes[k] = np.sort(spikes[k])\n",
        "new": "        pass\n",
        "tests": [U + "test_unsorted_spikes_are_sorted_and_named"],
    },
    {
        "name": "unitsummary-by-area-ignores-quality",
        "file": "src/databook/unitsummary.py",
        "old": 'rows = table[table["passes_quality"]] if quality_only else table',
        "new": "rows = table",
        "tests": [U + "test_by_area_counts_quality_passing_units"],
    },
    {
        # The policy: the BH family is the quality-passing units the chapter reports.
        "name": "unitsummary-bh-family-all-units",
        "file": "src/databook/unitsummary.py",
        "old": "family=quality.to_numpy(bool),",
        "new": "family=None,",
        "tests": [U + "test_table_joins_response_latency_area_and_quality"],
    },
]
