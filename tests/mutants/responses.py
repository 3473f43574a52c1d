"""Planted bugs in databook.responses that the fast tests must catch (tests/mutations.py)."""

T = "tests/test_responses.py::"
FILE = "src/databook/responses.py"

MUTATIONS = [
    {
        # Named in issue 12: it used to leave the whole suite green.
        "name": "responses-peak-latency-half-bin",
        "file": FILE,
        "old": "latency = edges[:-1][in_resp][resp.argmax(axis=1)] + bin_size / 2",
        "new": "latency = edges[:-1][in_resp][resp.argmax(axis=1)]",
        "tests": [T + "test_peak_latency_is_the_centre_of_the_peak_bin"],
    },
    {
        "name": "responses-baseline-window-includes-response",
        "file": FILE,
        "old": "in_base = (centers > base_start) & (centers < base_stop)",
        "new": "in_base = (centers > base_start) & (centers < resp_stop)",
        "tests": [T + "test_density_is_the_causal_kernel_of_align_psth"],
    },
    {
        "name": "responses-count-test-dropped",
        "file": FILE,
        "old": "passes = in_family & active & (q_value < q)",
        "new": "passes = in_family & active",
        "tests": [T + "test_a_lone_spike_is_not_a_response"],
    },
    {
        "name": "responses-count-test-share-of-baseline-time",
        "file": FILE,
        "old": "share = width / (width + (base_stop - base_start))",
        "new": "share = width / (base_stop - base_start)",
        "tests": [T + "test_count_test_is_the_exact_conditional_poisson_test"],
    },
    {
        "name": "responses-mean-rate-floor-dropped",
        "file": FILE,
        "old": "active = mean_rate > min_rate  # the rate floor of Siegle et al., both directions",
        "new": "active = np.ones(mean_rate.shape, bool)",
        "tests": [T + "test_mean_rate_floor_of_siegle_et_al"],
    },
    {
        "name": "responses-kernel-time-constant-inverted",
        "file": FILE,
        "old": "decay = np.exp(-bin_size / smooth_tau)",
        "new": "decay = np.exp(-bin_size * smooth_tau)",
        "tests": [T + "test_density_is_the_causal_kernel_of_align_psth"],
    },
    {
        "name": "responses-dff-float-residue-kept",
        "file": FILE,
        "old": "    difference[residue] = 0.0\n",
        "new": "",
        "tests": [T + "test_constant_and_one_dimensional_dff"],
    },
    {
        "name": "responses-summed-counts-inclusive-upper-edge",
        "file": FILE,
        "old": 'position = np.searchsorted(flat, times, side="right") - 1',
        "new": 'position = np.searchsorted(flat, times, side="left") - 1',
        "tests": [T + "test_summed_counts_equal_event_counts_summed_over_events"],
    },
    # The statistics policy (issue 26): two-sided, BH over the units passed.
    {
        "name": "responses-count-test-one-sided",
        "file": FILE,
        "old": "p = np.minimum(p_up, p_down)",
        "new": "p = np.minimum(1.0, p_up / 2)",
        "tests": [
            T + "test_suppressed_units_are_found_and_reported_apart",
            T + "test_count_test_is_the_exact_conditional_poisson_test",
        ],
    },
    {
        "name": "responses-no-bh-over-units",
        "file": FILE,
        "old": "q_value[in_family] = fdr(p[in_family])",
        "new": "q_value[in_family] = p[in_family]",
        "tests": [T + "test_suppressed_units_are_found_and_reported_apart"],
    },
    {
        "name": "stats-paired-change-one-sided",
        "file": "src/databook/stats.py",
        "old": 'difference[:, testable], alternative="two-sided", axis=0, nan_policy="omit"',
        "new": 'difference[:, testable], alternative="greater", axis=0, nan_policy="omit"',
        "tests": [
            "tests/test_chapter_03.py::test_responsiveness_is_two_sided_wilcoxon_with_bh_over_cells",
            "tests/test_chapter_02.py::test_responsive_units_and_rois_match_the_truth",
        ],
    },
    {
        "name": "chapter-02-bonferroni-back",
        "file": "chapters/02-alignment.md",
        "old": "responsive_units = np.flatnonzero(unit_change.significant)",
        "new": "responsive_units = np.flatnonzero(unit_change.p_value * len(spikes) < q)",
        "tests": [
            "tests/test_chapter_02.py::test_responsive_units_and_rois_match_the_truth",
            "tests/test_stats_policy.py::test_no_t_test_or_bonferroni_over_units_in_chapters_or_their_figures",
        ],
    },
]
